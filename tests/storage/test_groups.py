"""Group reward previews and allowances in the ledger (SQLite and PostgreSQL): one preview per
request however many deliveries make it at once; Send and Cancel pressed together decide once,
audited once; an allowance set and removed, audited, read with the groups' in one query."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from storage import allowances, group_previews
from storage.db import Store
from storage.models import AuditEvent, GroupPreview


def make(store: Store, key: str = "command:1") -> GroupPreview:
    with store.session() as s:
        return group_previews.create_preview(
            s,
            request_key=key,
            giver="UBOB0001",
            team_id="T0001",
            groups="@design-team",
            recipients=["UMARIA01", "UCHEN001"],
            left_out=[("UBOB0001", "self")],
            amount=10,
            citation="for the launch",
            values=(),
            channel_id="C1",
        )


def count(store: Store, action: str) -> int:
    with store.read_session() as s:
        return int(s.exec(select(func.count()).where(AuditEvent.action == action)).one())


def test_ten_deliveries_of_one_command_make_one_preview(store: Store) -> None:
    start = threading.Barrier(10)
    ids: list[int | None] = []

    def one() -> None:
        start.wait()
        ids.append(make(store).id)

    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and None not in ids
    assert count(store, "group_reward.previewed") == 1


def test_send_and_cancel_pressed_together_decide_once(store: Store) -> None:
    preview = make(store)
    assert preview.id is not None
    start = threading.Barrier(12)
    won: list[str] = []

    def press(to: str) -> None:
        start.wait()
        with store.session() as s:
            if group_previews.decide(s, preview_id=preview.id or 0, to=to, actor="UBOB0001"):
                won.append(to)

    targets = [group_previews.CONFIRMED, group_previews.CANCELLED] * 6
    threads = [threading.Thread(target=press, args=(to,)) for to in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    with store.read_session() as s:
        row = group_previews.get_preview(s, preview_id=preview.id)
    assert row is not None and row.status == won[0] and row.decided_at is not None
    decided = count(store, "group_reward.confirmed") + count(store, "group_reward.cancelled")
    assert decided == 1


def test_allowances_set_changed_removed_audited(store: Store) -> None:
    with store.session() as s:
        allowances.set_allowance(
            s, kind="group", slack_id="S0DESIGN", points=2000, actor="UADMIN01", label="@design"
        )
        allowances.set_allowance(s, kind="person", slack_id="UMARIA01", points=500, actor="UA")
        allowances.set_allowance(s, kind="person", slack_id="UCHEN001", points=90, actor="UA")
        _, before = allowances.set_allowance(
            s, kind="person", slack_id="UMARIA01", points=500, actor="UA"
        )
        assert before == 500  # unchanged: not audited again
    with store.read_session() as s:
        mine = allowances.allowances_for(s, slack_user_id="UMARIA01")
    assert sorted((r.kind, r.slack_id, r.points) for r in mine) == [
        ("group", "S0DESIGN", 2000),
        ("person", "UMARIA01", 500),
    ]
    with store.session() as s:
        assert allowances.remove_allowance(s, kind="person", slack_id="UMARIA01", actor="UA") == 500
        assert (
            allowances.remove_allowance(s, kind="person", slack_id="UMARIA01", actor="UA") is None
        )
    assert count(store, "allowance.set") == 3
    assert count(store, "allowance.removed") == 1
    with store.read_session() as s:
        listed = allowances.list_allowances(s)
    assert [(r.kind, r.slack_id) for r in listed] == [("group", "S0DESIGN"), ("person", "UCHEN001")]
