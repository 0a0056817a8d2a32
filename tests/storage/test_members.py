"""Members: upsert from Slack profiles, roles and managers (both audited)."""

from __future__ import annotations

import pytest

from storage import audit, members
from storage.errors import MemberNotFound, NotPermitted
from storage.states import Role
from tests.storage.conftest import People


def test_upsert_inserts_then_refreshes_the_profile_but_keeps_the_role(store) -> None:  # type: ignore[no-untyped-def]
    with store.session() as s:
        first = members.upsert_member(
            s,
            team_id="T1",
            slack_user_id="U1",
            email="a@example.com",
            display_name="Ann",
            real_name="Ann Lee",
            tz="Asia/Kolkata",
        )
        members.set_role(s, member=first, role=Role.ADMIN, actor="system")
    with store.session() as s:
        again = members.upsert_member(
            s,
            team_id="T1",
            slack_user_id="U1",
            email="ann@example.com",
            display_name="Annie",
            active=False,
        )
    assert again.id == first.id
    assert (again.email, again.display_name, again.real_name, again.tz) == (
        "ann@example.com",
        "Annie",
        "",
        None,
    )
    assert again.active is False
    assert again.role == Role.ADMIN
    assert again.updated_at >= first.updated_at
    assert again.name == "Annie"


def test_the_same_user_in_another_team_is_another_member(store) -> None:  # type: ignore[no-untyped-def]
    with store.session() as s:
        a = members.upsert_member(s, team_id="T1", slack_user_id="U1")
        b = members.upsert_member(s, team_id="T2", slack_user_id="U1", is_bot=True)
    assert a.id != b.id and b.is_bot
    with store.read_session() as s:
        assert members.get_member_by_slack_id(s, slack_user_id="U1", team_id="T2").id == b.id  # type: ignore[union-attr]
        assert members.get_member_by_slack_id(s, slack_user_id="U1").id == a.id  # type: ignore[union-attr]
        assert members.get_member_by_slack_id(s, slack_user_id="UNOPE") is None
        assert members.get_member(s, member_id=a.id).slack_user_id == "U1"  # type: ignore[arg-type,union-attr]


def test_role_changes_are_audited_once(store, people: People) -> None:
    with store.session() as s:
        changed = members.set_role(
            s, member=people.approver, role="approver", actor="UADMIN", reason="team lead"
        )
        members.set_role(s, member=people.approver, role="approver", actor="UADMIN")
    assert changed.role == "approver"
    with store.read_session() as s:
        events = audit.events_for(s, subject_type="member", subject_id="UAPPROVER")
        approvers = members.members_with_role(s, roles=[Role.APPROVER, Role.ADMIN])
    assert [(e.action, e.actor, e.before, e.after, e.reason) for e in events] == [
        ("member.role_changed", "UADMIN", {"role": "member"}, {"role": "approver"}, "team lead")
    ]
    assert [m.slack_user_id for m in approvers] == ["UAPPROVER"]
    with pytest.raises(ValueError), store.session() as s:
        members.set_role(s, member=people.alice, role="boss", actor="UADMIN")


def test_managers_are_recorded_audited_and_listed(store, people: People) -> None:
    with store.session() as s:
        members.set_manager(s, member=people.alice, manager=people.approver, actor="UADMIN")
        members.set_manager(s, member=people.bob, manager=people.approver.id, actor="UADMIN")
        members.set_manager(s, member=people.bob, manager=people.admin, actor="UADMIN")
        members.set_manager(s, member=people.bob, manager=people.admin, actor="UADMIN")  # no-op
    with store.read_session() as s:
        reports = members.list_reports(s, manager=people.approver)
        pairs = members.list_managers(s)
        events = audit.events_for(s, subject_type="member", subject_id="UBOB")
    assert [m.slack_user_id for m in reports] == ["UALICE"]
    assert [(m.slack_user_id, boss.slack_user_id) for m, boss in pairs] == [
        ("UALICE", "UAPPROVER"),
        ("UBOB", "UADMIN"),
    ]
    assert [(e.before, e.after) for e in events] == [
        ({"manager": None}, {"manager": "UAPPROVER"}),
        ({"manager": "UAPPROVER"}, {"manager": "UADMIN"}),
    ]
    with store.session() as s:
        cleared = members.set_manager(s, member=people.alice, manager=None, actor="UADMIN")
    assert cleared.manager_id is None


def test_no_member_manages_themselves_even_indirectly(store, people: People) -> None:
    with pytest.raises(NotPermitted, match="own manager"), store.session() as s:
        members.set_manager(s, member=people.alice, manager=people.alice, actor="UADMIN")
    with store.session() as s:
        members.set_manager(s, member=people.alice, manager=people.bob, actor="UADMIN")
        members.set_manager(s, member=people.bob, manager=people.approver, actor="UADMIN")
    with pytest.raises(NotPermitted, match="circle"), store.session() as s:
        members.set_manager(s, member=people.approver, manager=people.alice, actor="UADMIN")


def test_unknown_members(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MemberNotFound), store.session() as s:
        members.set_role(s, member=424242, role="admin", actor="UADMIN")
