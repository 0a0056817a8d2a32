"""The playground's clock over HTTP: a jump moves the bot, its jobs, the sandbox and Slack's
message times together, runs the jobs that fell due on the way, survives a restart, and never
goes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.cli import main
from bot.rewards.wording import format_datetime
from bot.simulators.playground.clock import CLOCK_FILE
from bot.simulators.playground.server import Playground
from storage import clock
from tests.e2e.harness import ADMIN, BOB, MARIA, message_text

MOMENT = "%Y-%m-%d %H:%M"  # as `jobs list` shows a run, before its time zone


def call(playground: Playground, path: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{playground.url}{path.lstrip('/')}", json=body, timeout=60)


def give(playground: Playground, text: str, email: str, points: int) -> None:
    sent = call(playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": text})
    assert sent.status_code == 200, sent.text
    assert playground.sandbox is not None
    state = playground.sandbox.state
    playground.fake.wait_for(lambda: state.points_of(email) == points, timeout=10)


def jump(playground: Playground, where: str) -> list[str]:
    answer = call(playground, "/ui/clock", **{"as": ADMIN, "jump": where})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["result"])


def test_next_monday_runs_the_weekly_summary_with_its_chart(playground: Playground) -> None:
    give(playground, "/reward @maria 30 shipped the release", "maria@acme.test", 30)
    lines = jump(playground, "monday")

    now = clock.now()
    tz = playground.clock.tz
    assert now.astimezone(tz).weekday() == 0 and now.astimezone(tz).hour == 9
    assert timedelta(days=1) < clock.offset() <= timedelta(days=7, hours=9)
    summary = [line for line in lines if line.startswith("weekly-summary")]
    assert summary and "30 points in 1 rewards" in summary[0] and "with the chart" in summary[0]
    assert "posted in #kudos" in summary[0] and "C0KUDOS" not in summary[0]  # as the page names it
    kudos = playground.fake.messages("C0KUDOS")
    charts = [f for m in kudos for f in m.get("files") or [] if f["name"].endswith(".png")]
    assert len(charts) == 1
    posted = max(float(m["ts"]) for m in kudos)  # Slack's message times moved too
    assert abs(posted - now.timestamp()) < 60

    give(playground, "/reward @chen 20 after the jump", "chen@acme.test", 20)
    assert playground.sandbox is not None
    sent_at = [t["sent_at"] for t in playground.sandbox.state.snapshot()["transactions"]]
    assert abs(datetime.fromisoformat(sent_at[-1]) - clock.now()) < timedelta(minutes=1)


def test_a_month_before_points_expire_sends_the_first_reminder(playground: Playground) -> None:
    refused = call(playground, "/ui/clock", **{"as": ADMIN, "jump": "expiry"})
    assert refused.status_code == 409
    assert "send a reward first" in refused.json()["error"]

    give(playground, "/reward @maria 30 shipped the release", "maria@acme.test", 30)
    lines = jump(playground, "expiry")
    reminded = [line for line in lines if line.startswith("expiry-reminders")]
    assert reminded and "1 reminder(s) sent" in reminded[-1]  # other jobs may run after it
    reminder = playground.fake.wait_for(
        lambda: [m for m in playground.fake.dms_to(MARIA) if "expire" in message_text(m)],
        timeout=10,
    )
    assert "(in 30 days)" in message_text(reminder[-1])


def test_a_day_runs_the_daily_jobs_once_and_the_jump_is_shown(playground: Playground) -> None:
    lines = jump(playground, "day")
    ran = [line.split(" (")[0] for line in lines[1:]]
    assert {"balance-alert", "in-doubt-report", "expiry-reminders"} <= set(ran)
    assert len(ran) == len(set(ran))  # missed runs coalesce into one each
    pane = httpx.get(
        f"{playground.url}ui/pane", params={"as": ADMIN, "view": "jobs"}, timeout=10
    ).json()["main"]
    assert "1 day ahead of the real clock" in pane
    assert lines[0] in pane.replace("&#x27;", "'")
    assert call(playground, "/ui/clock", **{"as": ADMIN, "jump": "yesterday"}).status_code == 409


def test_the_clock_survives_a_restart_and_is_released_on_stop(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Playground(state_dir=state, port=0).start()
    try:
        jump(first, "week")
        ahead = clock.offset()
        assert timedelta(days=7) - timedelta(minutes=1) < ahead <= timedelta(days=7)
    finally:
        first.stop()
    assert clock.offset() == timedelta(0)
    assert (state / CLOCK_FILE).is_file()
    second = Playground(state_dir=state, port=0).start()
    try:
        assert clock.offset() == ahead
        pane = httpx.get(
            f"{second.url}ui/pane", params={"as": ADMIN, "view": "jobs"}, timeout=10
        ).json()["main"]
        assert "7 days ahead of the real clock" in pane
    finally:
        second.stop()
    assert clock.offset() == timedelta(0)


def test_the_process_clock_is_the_system_clock_until_moved_and_never_goes_back() -> None:
    try:
        assert clock.offset() == timedelta(0)
        assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
        clock.set_offset(timedelta(days=2))
        assert abs(clock.now() - datetime.now(UTC) - timedelta(days=2)) < timedelta(seconds=1)
        with pytest.raises(ValueError, match="forward"):
            clock.set_offset(timedelta(days=1))
        with pytest.raises(ValueError, match="forward"):
            clock.set_offset(timedelta(days=-1))
    finally:
        clock.reset()
    assert clock.offset() == timedelta(0)


def test_jobs_list_of_a_state_dir_follows_its_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a week's jump, `jobs list --state-dir` reads the jobs at the playground's time:
    no job's next run comes before its last."""
    state = tmp_path / "state"
    running = Playground(state_dir=state, port=0).start()
    try:
        jump(running, "week")
    finally:
        running.stop()
    try:
        assert main(["jobs", "list", "--state-dir", str(state)]) == 0
        out = capsys.readouterr().out
    finally:
        clock.reset()
    moments: dict[str, list[datetime]] = {}
    name = ""
    for line in out.splitlines():
        if line and not line.startswith(" "):
            name = line.split()[0]
        for label in ("last run", "next run"):
            if line.strip().startswith(label) and "never" not in line:
                stamp = line.strip().removeprefix(label).strip().split(" · ")[0]
                moments.setdefault(name, []).append(datetime.strptime(stamp[:16], MOMENT))
    ran = {job: when for job, when in moments.items() if len(when) == 2}
    assert ran, out  # the week's jump ran the jobs
    for job, (last, following) in ran.items():
        assert following > last, f"{job}: next run {following} before the last {last}"


def test_the_app_home_is_updated_at_the_playgrounds_time(playground: Playground) -> None:
    """After a week's jump, App Home's "Updated" line shows the playground's day, not the
    machine's."""
    jump(playground, "week")
    tz = playground.fake.workspace.user(BOB).get("tz")
    shown = format_datetime(clock.now(), tz).split(" at ")[0]  # the day, a week ahead
    httpx.get(playground.url, params={"as": BOB, "view": "home"}, timeout=10)  # opens Home

    def updated() -> list[str]:
        text = message_text(playground.fake.home(BOB) or {})
        return [line for line in text.splitlines() if line.startswith("Updated ")]

    assert shown in playground.fake.wait_for(updated, timeout=15)[0]


def test_a_people_file_imported_and_a_day_jumped_shows_the_birthday(
    playground: Playground, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The next day whose 09:00 in Maria's zone is still to come: within the day's jump.
    here = clock.now().astimezone(ZoneInfo("Europe/Madrid"))
    birthday = here if here.hour < 9 else here + timedelta(days=1)
    people = tmp_path / "people.csv"
    people.write_text(f"person,birthday\nmaria@acme.test,{birthday:%m-%d}\n")
    state = str(playground.state_dir)
    assert main(["people", "import", "--state-dir", state, str(people)]) == 0
    assert "imported 1 people" in capsys.readouterr().out

    lines = jump(playground, "day")
    (celebrated,) = [line for line in lines if line.startswith("celebrations")]
    assert "1 celebration(s) sent (1 birthday)" in celebrated
    said = playground.fake.wait_for(
        lambda: [m for m in playground.fake.dms_to(MARIA) if "Happy birthday" in message_text(m)],
        timeout=10,
    )
    assert "The company sent you 50 points" in message_text(said[0])
    playground.fake.wait_for(
        lambda: [
            m
            for m in playground.fake.messages("C0KUDOS")
            if f"🎉 Happy birthday, <@{MARIA}>!" in message_text(m)
        ],
        timeout=10,
    )
