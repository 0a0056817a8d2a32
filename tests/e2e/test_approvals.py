"""Rewards over the threshold, end to end: the request DM'd to the right people, Approve / Reject
clicked over signed HTTP, the first decision winning, and everyone told."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.simulators.fakeslack import FakeSlack
from bot.slack.ids import ActionId, BlockId
from storage import audit
from storage import rewards as reward_repo
from storage.audit import AuditAction
from storage.models import Approval, Member, Reward
from storage.states import RewardStatus
from tests.e2e.harness import (
    ADMIN,
    APPROVER,
    BOB,
    CHEN,
    MARIA,
    BotHarness,
    actions_in,
    message_text,
)

CITATION = "rebuilt the billing pipeline over a weekend"


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def requests_to(bot: BotHarness, user_id: str) -> list[dict[str, Any]]:
    """The approval requests in `user_id`'s DM (decided ones included)."""
    return [m for m in bot.fake.dms_to(user_id) if "approv" in message_text(m).lower()]


def wait_request(bot: BotHarness, user_id: str) -> dict[str, Any]:
    return bot.wait(
        lambda: [m for m in requests_to(bot, user_id) if ActionId.APPROVE in actions_in(m)]
    )[0]


def give_big(bot: BotHarness, *, giver: str = BOB, to: str = MARIA, amount: int = 600) -> str:
    """A reward over the threshold; returns its short id once it waits for approval."""
    before = set(short_ids(bot))
    bot.driver.command(f"<@{to}> {amount} {CITATION}", user_id=giver)
    new = bot.wait(lambda: [s for s in short_ids(bot) if s not in before])
    return new[0]


def short_ids(bot: BotHarness) -> list[str]:
    with bot.runtime.store.read_session() as session:
        return [r.short_id for r in session.exec(select(Reward)).all()]


def status_of(bot: BotHarness, short: str) -> str:
    with bot.runtime.store.read_session() as session:
        found = reward_repo.get_reward_by_short_id(session, short_id=short)
        assert found is not None
        return found.status


def approvals(bot: BotHarness) -> list[Approval]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(Approval)).all())


def click(
    bot: BotHarness,
    user_id: str,
    action: ActionId,
    short: str,
    message: dict[str, Any] | None = None,
) -> None:
    response = bot.driver.block_action(
        user_id=user_id, action_id=action, value=short, message=message
    )
    assert response.status_code == 200


def told(bot: BotHarness, user_id: str, needle: str, count: int = 1) -> list[str]:
    """Waits until `user_id` saw `needle` (ephemeral or DM) at least `count` times."""

    def seen() -> list[str]:
        found = [t for t in [*bot.replies_to(user_id), *bot.dm_texts(user_id)] if needle in t]
        return found if len(found) >= count else []

    return bot.wait(seen)


def decided(bot: BotHarness, message: dict[str, Any]) -> dict[str, Any]:
    """Waits until `message` was edited to have no buttons; returns it."""
    return bot.wait(lambda: latest(bot, message) if not actions_in(latest(bot, message)) else None)


def latest(bot: BotHarness, message: dict[str, Any]) -> dict[str, Any]:
    return bot.fake.workspace.message(message["channel"], message["ts"])


# ── asking ───────────────────────────────────────────────────────────────────────────────


def test_request_goes_to_the_approvers_with_the_details(bot: BotHarness) -> None:
    bot.driver.command(f"<@{CHEN}> 100 first one", user_id=BOB)
    bot.wait(lambda: bot.dm_texts(CHEN))
    short = give_big(bot)

    request = wait_request(bot, APPROVER)
    text = message_text(request)
    assert f"<@{BOB}>" in text and f"<@{MARIA}>" in text
    assert "600 points" in text and CITATION in text
    # the giver's month so far, in their time zone: 100 before this one
    assert "100 points in 1 reward before this one; 700 of 1,000 with it" in text
    assert actions_in(request) == [ActionId.APPROVE, ActionId.REJECT]

    # the giver is told who was asked; nothing is sent yet
    reply = told(bot, BOB, "needs approval")
    assert f"<@{APPROVER}>" in reply[-1]
    assert status_of(bot, short) == RewardStatus.PENDING_APPROVAL
    assert len(bot.sends()) == 1  # only the first, small reward
    assert requests_to(bot, ADMIN) == []  # approvers are set, so admins aren't asked


def test_without_approvers_the_admins_are_asked(make_bot) -> None:
    bot = make_bot(REWARD_APPROVERS="", REWARD_ADMINS=f"{ADMIN},{CHEN}")
    give_big(bot)
    assert wait_request(bot, ADMIN) and wait_request(bot, CHEN)
    reply = told(bot, BOB, "needs approval")
    assert f"<@{ADMIN}>" in reply[-1] and f"<@{CHEN}>" in reply[-1]


def test_an_approvers_own_reward_goes_to_the_others(bot: BotHarness) -> None:
    short = give_big(bot, giver=APPROVER)
    request = wait_request(bot, ADMIN)  # the only approver is the giver: admins decide
    assert requests_to(bot, APPROVER) == []

    click(bot, APPROVER, ActionId.APPROVE, short)
    assert told(bot, APPROVER, "your own reward")
    assert status_of(bot, short) == RewardStatus.PENDING_APPROVAL

    click(bot, ADMIN, ActionId.APPROVE, short, request)
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "600 points" in t])
    assert len(bot.sends()) == 1


def test_manager_is_asked_instead_of_the_approvers(bot: BotHarness) -> None:
    bot.driver.command(f"manager <@{BOB}> <@{CHEN}>", user_id=ADMIN)
    told(bot, ADMIN, "is now")
    short = give_big(bot)

    request = wait_request(bot, CHEN)
    assert "manager" in message_text(request)
    assert requests_to(bot, APPROVER) == []
    reply = told(bot, BOB, "needs approval")
    assert f"your manager, <@{CHEN}>" in reply[-1]

    click(bot, CHEN, ActionId.APPROVE, short, request)
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "600 points" in t])
    assert status_of(bot, short) == RewardStatus.SENT
    assert [a.decision for a in approvals(bot)] == ["approved"]


def test_a_manager_decides_only_for_their_reports(bot: BotHarness) -> None:
    bot.driver.command(f"manager <@{BOB}> <@{CHEN}>", user_id=ADMIN)
    told(bot, ADMIN, "is now")
    short = give_big(bot, giver=MARIA, to=BOB)  # Maria has no manager: approvers decide
    wait_request(bot, APPROVER)

    click(bot, CHEN, ActionId.APPROVE, short)
    assert told(bot, CHEN, "isn't one of them")
    click(bot, CHEN, ActionId.REJECT, short)
    assert told(bot, CHEN, "isn't one of them", count=2)
    assert bot.fake.modal_stack(CHEN) == []
    assert status_of(bot, short) == RewardStatus.PENDING_APPROVAL
    assert approvals(bot) == [] and len(bot.sends()) == 0


def test_only_approvers_admins_and_managers_decide(bot: BotHarness) -> None:
    short = give_big(bot)
    wait_request(bot, APPROVER)
    for action in (ActionId.APPROVE, ActionId.REJECT):
        click(bot, CHEN, action, short)
    assert told(bot, CHEN, "Only <@UBOB0001>'s manager, the approvers and admins", count=2)
    # the giver can't decide either
    click(bot, BOB, ActionId.APPROVE, short)
    assert told(bot, BOB, "your own reward")
    assert status_of(bot, short) == RewardStatus.PENDING_APPROVAL
    assert approvals(bot) == [] and bot.sends() == []


def test_unknown_reward_id(bot: BotHarness) -> None:
    click(bot, APPROVER, ActionId.APPROVE, "ZZZZZZ")
    click(bot, APPROVER, ActionId.REJECT, "")
    assert told(bot, APPROVER, "I can't find a reward", count=2)


# ── approving ────────────────────────────────────────────────────────────────────────────


def test_approval_sends_once_and_everyone_sees_it(make_bot) -> None:
    bot = make_bot(REWARD_APPROVERS=f"{APPROVER},{CHEN}")
    short = give_big(bot)
    mine, theirs = wait_request(bot, APPROVER), wait_request(bot, CHEN)

    click(bot, APPROVER, ActionId.APPROVE, short, mine)
    dm = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "600 points" in t])
    assert CITATION in dm[0]
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "approved your reward" in t])

    # both copies now say who decided, and have no buttons
    for copy in (mine, theirs):
        updated = bot.wait(
            lambda c=copy: latest(bot, c) if not actions_in(latest(bot, c)) else None
        )
        assert "Approved" in message_text(updated) and f"<@{APPROVER}>" in message_text(updated)

    # a double click and a late click from the other approver change nothing
    click(bot, APPROVER, ActionId.APPROVE, short, mine)
    assert told(bot, APPROVER, "You already approved reward")
    click(bot, CHEN, ActionId.REJECT, short, theirs)
    assert told(bot, CHEN, f"Already approved by <@{APPROVER}> on ")
    assert bot.fake.modal_stack(CHEN) == []

    bot.wait(lambda: status_of(bot, short) == RewardStatus.SENT)
    assert len(bot.sends()) == 1 and len(approvals(bot)) == 1
    with bot.runtime.store.read_session() as session:
        events = audit.events_for(session, subject_type="reward", subject_id=short)
    assert [e.action for e in events].count(AuditAction.APPROVAL_DECIDED) == 1


def test_twenty_approvers_clicking_at_once_send_once(fake: FakeSlack, make_bot) -> None:
    team = [f"UAPPX{n:03d}" for n in range(20)]
    for n, uid in enumerate(team):
        fake.workspace.add_user(id=uid, name=f"appr{n}", email=f"appr{n}@acme.test")
    bot = make_bot(REWARD_APPROVERS=",".join(team))
    short = give_big(bot)
    copies = {uid: wait_request(bot, uid) for uid in team}

    start = threading.Barrier(len(team))
    errors: list[BaseException] = []

    def press(uid: str) -> None:
        try:
            start.wait()
            click(bot, uid, ActionId.APPROVE, short, copies[uid])
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=press, args=(uid,)) for uid in team]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []

    bot.wait(lambda: status_of(bot, short) == RewardStatus.SENT, timeout=20)
    rows = approvals(bot)
    assert len(rows) == 1
    assert len(bot.sends()) == 1
    assert bot.sandbox.state.points_of("maria@acme.test") == 600
    with bot.runtime.store.read_session() as session:
        winner = session.get(Member, rows[0].approver_id)
    assert winner is not None and winner.slack_user_id in team
    winner_id = winner.slack_user_id
    for uid in team:
        if uid != winner_id:
            assert told(bot, uid, f"Already approved by <@{winner_id}>")
    for uid in team:  # every copy shows the decision, without buttons
        decided(bot, copies[uid])
    # the DM follows the ledger's `sent` (notifications wait for the burst of clicks to pass)
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "600 points" in t])
    bot.settle()
    assert len([t for t in bot.dm_texts(MARIA) if "600 points" in t]) == 1


# ── rejecting ────────────────────────────────────────────────────────────────────────────


def reject_modal(bot: BotHarness, user_id: str) -> dict[str, Any]:
    return bot.wait(lambda: (bot.fake.modal_stack(user_id) or [None])[-1])


def submit_reason(bot: BotHarness, user_id: str, view: dict[str, Any], reason: str) -> Any:
    values = {
        BlockId.REJECT_REASON: {
            ActionId.REJECT_REASON_INPUT: {"type": "plain_text_input", "value": reason}
        }
    }
    return bot.driver.view_submission(user_id=user_id, view=view, values=values)


def test_reject_asks_for_a_reason_and_tells_the_giver(bot: BotHarness) -> None:
    short = give_big(bot)
    request = wait_request(bot, APPROVER)
    click(bot, APPROVER, ActionId.REJECT, short, request)
    view = reject_modal(bot, APPROVER)
    assert "Why not?" in str(view["blocks"])

    for bad, complaint in (("   ", "Please say why"), ("x" * 501, "keep it to 500")):
        response = submit_reason(bot, APPROVER, view, bad)
        body = response.json()
        assert body["response_action"] == "errors"
        assert complaint in body["errors"][BlockId.REJECT_REASON]
        assert status_of(bot, short) == RewardStatus.PENDING_APPROVAL

    response = submit_reason(bot, APPROVER, view, "Over budget <this quarter> & next")
    assert response.status_code == 200
    assert bot.fake.modal_stack(APPROVER) == []
    assert status_of(bot, short) == RewardStatus.REJECTED
    giver = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "didn't approve" in t])
    assert "Over budget &lt;this quarter&gt; &amp; next" in giver[0]
    updated = bot.wait(
        lambda: latest(bot, request) if not actions_in(latest(bot, request)) else None
    )
    assert "Rejected" in message_text(updated) and "Over budget" in message_text(updated)
    [row] = approvals(bot)
    assert row.decision == "rejected" and "Over budget" in (row.reason or "")

    # too late: a second submission and an admin's approval change nothing
    again = submit_reason(bot, APPROVER, view, "again")
    assert "You already rejected reward" in str(again.json())
    click(bot, ADMIN, ActionId.APPROVE, short)
    assert told(bot, ADMIN, f"Already rejected by <@{APPROVER}> on ")
    assert bot.sends() == [] and bot.dm_texts(MARIA) == []
    assert len(approvals(bot)) == 1


def test_reject_modal_lost_to_an_approval(bot: BotHarness) -> None:
    short = give_big(bot)
    request = wait_request(bot, APPROVER)
    click(bot, APPROVER, ActionId.REJECT, short, request)
    view = reject_modal(bot, APPROVER)
    click(bot, ADMIN, ActionId.APPROVE, short)  # decided while the modal is open
    bot.wait(lambda: status_of(bot, short) == RewardStatus.SENT)
    response = submit_reason(bot, APPROVER, view, "too much")
    assert response.json()["response_action"] == "update"
    assert f"Already approved by <@{ADMIN}>" in str(response.json()["view"])
    assert status_of(bot, short) == RewardStatus.SENT and len(bot.sends()) == 1


# ── cancelled or expired before anyone decided ───────────────────────────────────────────


def test_cancelled_and_expired_requests_answer_clearly(bot: BotHarness) -> None:
    cancelled = give_big(bot)
    first = wait_request(bot, APPROVER)
    expired = give_big(bot, giver=CHEN, amount=500)
    bot.wait(lambda: len([m for m in requests_to(bot, APPROVER) if actions_in(m)]) == 2)
    second = next(m for m in requests_to(bot, APPROVER) if expired in message_text(m))
    with bot.runtime.store.session() as session:
        found = reward_repo.get_reward_by_short_id(session, short_id=cancelled)
        assert found is not None
        reward_repo.cancel_reward(session, reward_id=found.id, actor=ADMIN, reason="duplicate")
    with bot.runtime.store.session() as session:
        gone = reward_repo.expire_pending(session, older_than=timedelta(0))
    assert [r.short_id for r in gone] == [expired]

    click(bot, APPROVER, ActionId.APPROVE, cancelled, first)
    assert told(bot, APPROVER, f"was cancelled by <@{ADMIN}>")
    click(bot, APPROVER, ActionId.REJECT, expired, second)
    assert told(bot, APPROVER, "expired on")
    assert bot.fake.modal_stack(APPROVER) == []
    # the stale requests lose their buttons
    for message, word in ((first, "Cancelled"), (second, "Expired")):
        updated = bot.wait(
            lambda m=message: latest(bot, m) if not actions_in(latest(bot, m)) else None
        )
        assert word in message_text(updated)
    assert approvals(bot) == [] and bot.sends() == []


# ── /reward approvals ────────────────────────────────────────────────────────────────────


def test_approvals_list_shows_only_what_you_may_decide(bot: BotHarness) -> None:
    bot.driver.command(f"manager <@{BOB}> <@{CHEN}>", user_id=ADMIN)
    told(bot, ADMIN, "is now")
    from_bob = give_big(bot)  # Chen decides (manager)
    from_maria = give_big(bot, giver=MARIA, to=BOB, amount=700)  # approvers decide
    wait_request(bot, CHEN)
    wait_request(bot, APPROVER)

    def listing(user_id: str) -> dict[str, Any]:
        before = len(bot.fake.ephemerals(user_id))
        bot.driver.command("approvals", user_id=user_id)
        return bot.wait(
            lambda: [
                m
                for m in bot.fake.ephemerals(user_id)[before:]
                if "approv" in message_text(m).lower()
            ]
        )[-1]

    chens = listing(CHEN)
    assert from_bob in message_text(chens) and from_maria not in message_text(chens)
    admins = listing(ADMIN)
    assert from_bob in message_text(admins) and from_maria in message_text(admins)
    assert actions_in(admins).count(ActionId.APPROVE) == 2
    marias = listing(MARIA)  # Maria is no approver and manages nobody
    assert "Nothing waits for you" in message_text(marias)
    assert from_bob not in message_text(marias)

    # approving from the list: the list comes back without it
    response = bot.driver.block_action(
        user_id=ADMIN,
        action_id=ActionId.APPROVE,
        value=from_maria,
        message=admins,
        channel_id=admins["channel"],
    )
    assert response.status_code == 200
    refreshed = bot.wait(
        lambda: [m for m in bot.fake.ephemerals(ADMIN) if "You approved reward" in message_text(m)]
    )
    assert actions_in(refreshed[-1]).count(ActionId.APPROVE) == 1  # only Bob's is left
    bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "700 points" in t])
    assert status_of(bot, from_bob) == RewardStatus.PENDING_APPROVAL


def test_deciding_from_the_app_home(bot: BotHarness) -> None:
    short = give_big(bot)
    wait_request(bot, APPROVER)
    bot.driver.app_home_opened(user_id=APPROVER)
    home = bot.wait(
        lambda: (h := bot.fake.home(APPROVER)) and ActionId.APPROVE in actions_in(h) and h
    )
    response = bot.driver.block_action(
        user_id=APPROVER, action_id=ActionId.APPROVE, value=short, view=home
    )
    assert response.status_code == 200
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "600 points" in t])
    # the home follows: the request is gone from it
    bot.wait(lambda: ActionId.APPROVE not in actions_in(bot.fake.home(APPROVER) or {}))
    # a stale click from the home view (no response_url) is answered in the DM
    bot.driver.block_action(user_id=APPROVER, action_id=ActionId.APPROVE, value=short, view=home)
    assert told(bot, APPROVER, "You already approved reward")
    assert len(bot.sends()) == 1
