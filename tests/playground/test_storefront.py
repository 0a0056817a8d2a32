"""`rewardbot playground --storefront`: the bot keeps the points (REWARD_POINT_SYSTEM=storefront)
with an api key of its own, its sandbox's store calls the bot's endpoints where the playground
mounts the bot's app, and a state directory keeps the point system it was made in: started the
other way, the playground says so in one line. (The browser walk through Redeem, the store and
a refund is in test_browser_storefront.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.cli import build_parser, main
from bot.simulators.embedded import STOREFRONT_API_KEY as SANDBOX_STOREFRONT_API_KEY
from bot.simulators.playground.server import Playground, PlaygroundError
from tests.e2e.harness import BOB, MARIA, message_text


def reward_maria(running: Playground, points: int = 30) -> None:
    sent = httpx.post(
        f"{running.url}ui/send",
        json={"as": BOB, "view": "C0GENERAL", "text": f"/reward @maria {points} great demo"},
        timeout=10,
    )
    assert sent.status_code == 200, sent.text
    running.fake.wait_for(
        lambda: [m for m in running.fake.messages("C0GENERAL") if "rewarded" in message_text(m)],
        timeout=10,
    )


def made(where: Path, *, storefront: bool) -> Path:
    """A state directory holding one reward, made with or without --storefront."""
    running = Playground(state_dir=where, port=0, storefront=storefront).start()
    try:
        reward_maria(running)
    finally:
        running.stop()
    return where


def test_the_flag() -> None:
    parser = build_parser()
    assert parser.parse_args(["playground", "--storefront"]).storefront is True
    assert parser.parse_args(["playground"]).storefront is False


def test_points_live_in_the_bot_and_the_store_calls_the_mounted_endpoints(
    tmp_path: Path,
) -> None:
    running = Playground(state_dir=tmp_path / "data", port=0, storefront=True).start()
    try:
        settings = running.settings
        assert settings.storefront and settings.STOREFRONT_API_KEY is not None
        key = settings.STOREFRONT_API_KEY.get_secret_value()
        assert key and key != SANDBOX_STOREFRONT_API_KEY  # made up for this run
        assert running.sandbox is not None
        connection = running.sandbox.context.storefront.connection
        assert connection is not None
        assert connection.base_url == f"{running.url}bot/storefront"
        assert connection.api_key == key
        assert "Points live in the bot (StoreFront)" in running.about()

        reward_maria(running, 40)
        dm = running.fake.wait_for(
            lambda: [m for m in running.fake.dms_to(MARIA) if "sent you" in message_text(m)],
            timeout=10,
        )[0]
        assert "points_redeem" in str(dm["blocks"])
        assert not [r for r in running.sandbox.requests if "sendBalance" in str(r)]
        profile = httpx.post(
            connection.base_url + "/profile",
            json={"api_key": key, "employee_id": MARIA},
            timeout=10,
        ).json()
        assert profile["status"] == 1 and profile["user_data"]["points"] == "40"
    finally:
        running.stop()


def test_an_order_in_the_store_redraws_the_sandbox_pane(tmp_path: Path) -> None:
    running = Playground(state_dir=tmp_path / "data", port=0, storefront=True).start()
    try:
        reward_maria(running, 150)
        assert running.runtime.redeem is not None
        url = running.runtime.redeem.store_link(MARIA)
        assert isinstance(url, str)
        view = running.sandbox_view()
        assert view is not None and view.storefront and view.orders == []
        before = running.version()
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            short = browser.post(f"{url}/buy", data={"offer": "10004-10"})  # 830 points
            assert "Not enough points" in short.text
            bought = browser.post(f"{url}/buy", data={"offer": "10015-100"})
            assert "Successfully updated" in bought.text
        assert running.version() != before  # open pages redraw
        view = running.sandbox_view()
        assert view is not None
        assert [(o.name, o.points, o.refunded, o.status) for o in view.orders] == [
            ("Maria Garcia", "100", "0", "placed"),  # newest first
            ("Maria Garcia", "830", "0", "refused"),
        ]
        assert view.as_json()["orders"][0]["item"].startswith("Google Play")
    finally:
        running.stop()


def test_plain_playground_says_nothing_of_storefront(tmp_path: Path) -> None:
    running = Playground(state_dir=tmp_path / "data", port=0)
    try:
        assert not running.settings.storefront
        assert running.sandbox is not None
        assert running.sandbox.context.storefront.connection is None
        assert "StoreFront" not in running.about()
    finally:
        running.stop()


def test_a_state_dir_made_without_the_flag_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = made(tmp_path / "plain", storefront=False)
    with pytest.raises(SystemExit) as stopped:
        main(["playground", "--storefront", "--port", "0", "--state-dir", str(where)])
    line = str(stopped.value)
    assert line == (
        f"rewardbot playground: the state directory {where} holds 1 reward(s) made without "
        "--storefront (points at Xoxoday); run it without --storefront, or pick another "
        "--state-dir"
    )
    assert "Playground:" not in capsys.readouterr().out  # it never started
    again = Playground(state_dir=where, port=0)  # the way it was made still starts
    again.stop()


def test_a_state_dir_made_with_the_flag_refuses_to_start_without_it(tmp_path: Path) -> None:
    where = made(tmp_path / "storefront", storefront=True)
    with pytest.raises(PlaygroundError) as refused:
        Playground(state_dir=where, port=0)
    assert str(refused.value) == (
        f"the state directory {where} holds 1 reward(s) made with --storefront (points in "
        "the bot); run it with --storefront, or pick another --state-dir"
    )
    Playground(state_dir=where, port=0, storefront=True).stop()


def test_an_empty_state_dir_takes_either(tmp_path: Path) -> None:
    where = tmp_path / "empty"
    Playground(state_dir=where, port=0).stop()
    Playground(state_dir=where, port=0, storefront=True).stop()
    Playground(state_dir=where, port=0).stop()
