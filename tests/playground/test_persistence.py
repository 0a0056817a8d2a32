"""The playground's Slack side outlives a restart: a visitor who stops and starts it on the same
state directory finds the channel announcement, the DMs and their App Home where they were,
read through the endpoints the page uses, and can carry on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.simulators.playground.server import SLACK_DATABASE, Playground, PlaygroundError
from tests.e2e.harness import BOB, CHEN, MARIA, message_text

ANNOUNCED = "rewarded <@UCHEN001>"
BALANCE = "You have <b>30 points</b> to redeem"


def send(playground: Playground, who: str, view: str, text: str) -> None:
    answer = httpx.post(
        f"{playground.url}ui/send", json={"as": who, "view": view, "text": text}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def pane(playground: Playground, who: str, view: str) -> str:
    answer = httpx.get(f"{playground.url}ui/pane", params={"as": who, "view": view}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["main"])


def stamps(html: str) -> list[str]:
    """The ts of each message shown that everyone in the conversation sees (not ephemeral)."""
    return re.findall(r'data-ts="([0-9.]+)" data-ephemeral=""', html)


def wait_for(playground: Playground, probe: Any) -> Any:
    return playground.fake.wait_for(probe, timeout=10)


def test_channels_dms_and_homes_are_there_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Playground(state_dir=state, port=0).start()
    try:
        send(first, BOB, "C0GENERAL", "/reward @chen 30 great demo")
        wait_for(
            first,
            lambda: [m for m in first.fake.messages("C0GENERAL") if ANNOUNCED in message_text(m)],
        )
        wait_for(first, lambda: first.fake.dms_to(CHEN) and first.fake.dms_to(BOB))
        httpx.get(first.url, params={"as": CHEN, "view": "home"}, timeout=10)  # app_home_opened
        wait_for(first, lambda: "30 points" in str(first.fake.home(CHEN)))
        send(first, CHEN, "dm", "/reward balance")
        wait_for(
            first,
            lambda: [e for e in first.fake.ephemerals(CHEN) if "*30 points*" in message_text(e)],
        )
        channel_before = pane(first, BOB, "C0GENERAL")
        dm_before = pane(first, CHEN, "dm")
        assert BALANCE in dm_before  # an ephemeral: only Chen sees it
    finally:
        first.stop()
    assert (state / SLACK_DATABASE).is_file()

    second = Playground(state_dir=state, port=0).start()
    try:
        channel = pane(second, BOB, "C0GENERAL")
        assert "rewarded" in channel and "@Chen Wei" in channel and "great demo" in channel
        assert stamps(channel) == stamps(channel_before)
        dm = httpx.get(second.url, params={"as": CHEN, "view": "dm"}, timeout=10).text
        assert "sent you <b>30 points</b>" in dm and "great demo" in dm
        assert BALANCE not in dm  # Slack doesn't keep ephemeral messages either
        assert [t for t in stamps(dm_before) if t in stamps(dm)] == stamps(dm)
        assert "Sent!" in pane(second, BOB, "dm")  # the giver's confirmation
        home = pane(second, CHEN, "home")
        assert BALANCE in home

        send(second, MARIA, "C0GENERAL", "/reward @bob 20 thanks for the restart")
        wait_for(
            second,
            lambda: [
                m
                for m in second.fake.messages("C0GENERAL")
                if "thanks for the restart" in message_text(m)
            ],
        )
        wait_for(second, lambda: len(second.fake.dms_to(BOB)) == 2)
        channel = pane(second, BOB, "C0GENERAL")
        assert "great demo" in channel and "thanks for the restart" in channel
        now = stamps(channel)
        assert now[: len(stamps(channel_before))] == stamps(channel_before)
        assert now == sorted(now, key=float) and len(set(now)) == len(now)
        bob_dm = pane(second, BOB, "dm")
        assert "Sent!" in bob_dm and "sent you <b>20 points</b>" in bob_dm
    finally:
        second.stop()


def test_an_unreadable_slack_state_is_said_in_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / SLACK_DATABASE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(PlaygroundError) as caught:
        Playground(state_dir=state, port=0)
    said = str(caught.value)
    assert str(state / SLACK_DATABASE) in said and "\n" not in said
