"""Listeners are ordinary Bolt listeners: called with Bolt's arguments (a plain `Mock(Ack)`, a
`BoltContext`) and the services they name, without an app, a server or Slack."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock

import pytest
from slack_bolt import Ack, BoltContext, Respond

from bot.settings import load_settings
from bot.slack.journal import after_ack
from bot.slack.listeners import reward_command
from bot.slack.request_entry import ENTRY, RequestEntry

ADMIN, MARIA = "UADMIN01", "UMARIA01"


def command(text: str, user: str = MARIA) -> dict[str, Any]:
    return {"command": "/reward", "text": text, "user_id": user, "trigger_id": "1.2.abc"}


@pytest.fixture
def runtime() -> Any:
    """Only what an ack function may read: the settings (nothing of the ledger or Slack)."""
    return SimpleNamespace(settings=load_settings(REWARD_ADMINS=ADMIN, PLUM_BASE_URL="sandbox"))


def test_help_is_answered_in_the_ack(runtime: Any) -> None:
    ack, context = Mock(spec=Ack), BoltContext()
    reward_command.acknowledge(ack=ack, command=command("help"), context=context, runtime=runtime)
    ack.assert_called_once()
    assert "/reward @person" in ack.call_args.kwargs["text"]
    assert context.get(reward_command.ANSWERED) is True  # nothing follows the ack


def test_help_shows_a_member_what_a_member_can_do_and_an_admin_the_admin_part(
    runtime: Any,
) -> None:
    said = {}
    for user in (MARIA, ADMIN):
        ack = Mock(spec=Ack)
        reward_command.acknowledge(
            ack=ack, command=command("help", user), context=BoltContext(), runtime=runtime
        )
        said[user] = ack.call_args.kwargs["text"]
    assert "`/reward balance`" in said[MARIA] and "`/reward balance`" in said[ADMIN]
    assert "*Admins*" not in said[MARIA] and "`/reward cancel" not in said[MARIA]
    assert "`/reward gift" not in said[MARIA]  # only admins and gift senders send gift cards
    assert "REWARD_" not in said[MARIA]
    assert "*Admins*" in said[ADMIN] and "`/reward cancel reward-id reason`" in said[ADMIN]


def test_a_member_is_refused_an_admin_subcommand_before_its_arguments(runtime: Any) -> None:
    ack, context = Mock(spec=Ack), BoltContext()
    typed = command("cancel not-even-an-id")
    reward_command.acknowledge(ack=ack, command=typed, context=context, runtime=runtime)
    assert ack.call_args.kwargs["text"].startswith("Only admins can cancel rewards.")


def test_giving_acks_with_nothing_shown_and_the_work_follows(runtime: Any) -> None:
    ack, context = Mock(spec=Ack), BoltContext()
    typed = command(f"<@{ADMIN}> 10 for the demo")
    reward_command.acknowledge(ack=ack, command=typed, context=context, runtime=runtime)
    ack.assert_called_once_with()
    assert reward_command.ANSWERED not in context


class Journal:
    """What `after_ack` asks of the intake journal: finish an entry (and wait to know)."""

    def __init__(self, *, can_end: bool = True) -> None:
        self.finished: list[tuple[int, str]] = []
        self.can_end = can_end

    def finish(self, entry_id: int, *, outcome: str = "done", wait: float | None = None) -> bool:
        self.finished.append((entry_id, outcome))
        return self.can_end


def test_the_work_after_the_ack_finishes_its_journal_entry() -> None:
    done: list[str] = []

    @after_ack
    def work(body: dict[str, Any]) -> None:
        done.append(body["text"])

    journal, context = Journal(), BoltContext()
    context[ENTRY] = RequestEntry(7, journal)  # type: ignore[arg-type]
    work(body={"text": "hi"}, context=context)  # as Bolt calls a lazy listener
    assert done == ["hi"] and journal.finished == [(7, "done")]


def test_a_repeat_delivery_does_no_work() -> None:
    @after_ack
    def work(body: dict[str, Any]) -> None:
        pytest.fail("the first delivery does the work")

    journal, context = Journal(), BoltContext()
    context[ENTRY] = RequestEntry(7, journal, act=False)  # type: ignore[arg-type]
    work(body={}, context=context)
    assert journal.finished == []


@pytest.mark.parametrize("can_end", [True, False], ids=["ended", "kept"])
def test_a_failure_after_the_ack_ends_the_entry_and_tells_the_person(can_end: bool) -> None:
    @after_ack
    def work(body: dict[str, Any]) -> None:
        raise RuntimeError("Xoxoday said no")

    journal, context = Journal(can_end=can_end), BoltContext()
    context[ENTRY] = RequestEntry(7, journal)  # type: ignore[arg-type]
    context["response_url"] = "https://hooks.slack.test/1"
    respond = Mock(spec=Respond)
    context["respond"] = respond
    work(body={}, context=context)
    assert journal.finished == [(7, "error")]
    [told] = respond.call_args_list
    text = told.kwargs["text"]
    assert "Something went wrong on my side (ref `" in text
    # kept: the entry could not be ended, so it is finished later: don't send it again
    assert ("don't send it again" in text) is (not can_end)
