"""People: Slack profiles cached, members written to the ledger only when something changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.settings import load_settings
from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.slack.people import People, UnknownSlackUser
from storage import members as member_repo
from storage import open_store
from storage.migrations import upgrade
from storage.states import Role


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(workspace=Workspace.demo()) as fake:
        yield fake


def test_members_are_upserted_only_when_the_profile_changes(
    fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    store = open_store(database_url=url)
    settings = load_settings(REWARD_ADMINS="UADMIN01", _env_file=None)
    slack = WebClient(token="xoxb-fake", base_url=fake.api_url)
    people = People(slack=slack, settings=settings, ttl_seconds=0)
    upserts: list[str] = []
    real = member_repo.upsert_member

    def counting(session, **kwargs):  # type: ignore[no-untyped-def]
        upserts.append(kwargs["slack_user_id"])
        return real(session, **kwargs)

    monkeypatch.setattr(member_repo, "upsert_member", counting)

    for _ in range(3):
        with store.session() as session:
            maria = people.member(session, people.profile("UMARIA01"), team_id="T0001")
            admin = people.member(session, people.profile("UADMIN01"), team_id="T0001")
    assert upserts == ["UMARIA01", "UADMIN01"]
    assert maria.email == "maria@acme.test" and admin.role == Role.ADMIN.value

    fake.workspace.add_user(id="UMARIA01", name="maria", email="maria.new@acme.test")
    with store.session() as session:
        maria = people.member(session, people.profile("UMARIA01"), team_id="T0001")
    assert upserts[-1] == "UMARIA01" and maria.email == "maria.new@acme.test"

    with pytest.raises(UnknownSlackUser):
        people.profile("UNOBODY99")
    store.dispose()


def test_a_groups_members_are_cached_and_slacks_refusals_are_told_apart(fake: FakeSlack) -> None:
    from bot.rewards.directory import DirectoryUnavailable, GroupsNotAllowed, UnknownGroup
    from bot.slack.people import SlackGroups

    now = [0.0]
    slack = WebClient(token="xoxb-fake", base_url=fake.api_url)
    groups = SlackGroups(slack=slack, clock=lambda: now[0])
    design = ("UMARIA01", "UCHEN001", "UBOB0001", "UNOMAIL1", "UGONE001", "UBOT0001")
    assert groups.members("S0DESIGN") == design
    fake.workspace.add_usergroup(id="S0DESIGN", handle="design-team", users=["UMARIA01"])
    assert groups.members("S0DESIGN") == design  # cached for five minutes
    now[0] += 301
    assert groups.members("S0DESIGN") == ("UMARIA01",)
    with pytest.raises(UnknownGroup):
        groups.members("S0FORGED")
    fake.fail_next("usergroups.users.list", "missing_scope")
    with pytest.raises(GroupsNotAllowed):
        groups.members("S0OTHER")
    fake.fail_next("usergroups.users.list", "fatal_error")
    with pytest.raises(DirectoryUnavailable):
        groups.members("S0OTHER")
