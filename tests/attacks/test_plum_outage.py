"""Xoxoday unreachable, rate-limiting or refusing the bot's credentials, attacked through the
real `rewardbot serve`: such rewards wait and are sent once Xoxoday takes them (exactly once),
the giver hears once that it is delayed and again when it is sent, the admins hear when it
lasts; an outcome that is truly unknown stays in doubt and is never re-sent by itself."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulators.plum_sandbox import SandboxServer
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, BOB, CHEN, MARIA, message_text


class Xoxoday:
    """The sandbox on one port, so it can go away and come back at the same address. While it
    is away the port stays bound (not listening: connections are refused, as by a server that
    is down), so that no other process picks it meanwhile."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = 0  # the first `up` picks one
        self.state = tmp_path / "sandbox.json"
        self.server: SandboxServer | None = None
        self.held: socket.socket | None = None  # the port, while the sandbox is away
        self.seen: list[dict[str, Any]] = []  # requests of earlier runs

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/chef"

    def up(self) -> SandboxServer:
        # Both sockets have SO_REUSEADDR and the held one does not listen: the sandbox binds
        # beside it, and only then is it let go.
        self.server = SandboxServer(state_path=self.state, port=self.port, rate_limits=False)
        self.server.start()
        self.port = self.server.port
        self.release()
        return self.server

    def down(self) -> None:
        if self.server is not None:
            self.seen += self.server.requests
            self.server.stop()
            self.server = None
            self.held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.held.bind(("127.0.0.1", self.port))

    def release(self) -> None:
        if self.held is not None:
            self.held.close()
            self.held = None

    def sends(self) -> list[dict[str, Any]]:
        now = self.server.requests if self.server is not None else []
        return [r for r in [*self.seen, *now] if r["operation"] == "sendBalance"]

    def citations(self) -> list[str]:
        """The citations of the points Xoxoday sent (requests it took, not the refused)."""
        return [
            r["citation"]
            for send in self.sends()
            if send["status"] == 200
            for r in (send["variables"].get("recipients") or [])
        ]


@pytest.fixture
def xoxoday(tmp_path: Path) -> Iterator[Xoxoday]:
    plum = Xoxoday(tmp_path)
    plum.up()
    yield plum
    plum.down()
    plum.release()


@pytest.fixture
def sandbox(xoxoday: Xoxoday) -> SandboxServer:  # what make_serve points the bot at
    assert xoxoday.server is not None
    return xoxoday.server


def status_of(serve: ServeProcess, citation: str) -> str:
    rows = serve.sql("SELECT status FROM rewards WHERE citation = ?", citation)
    return str(rows[0][0]) if rows else ""


def dm_with(serve: ServeProcess, user: str, *words: str) -> list[str]:
    return [t for t in serve.dm_texts(user) if all(w in t for w in words)]


def test_rewards_given_while_xoxoday_is_down_wait_and_go_once_when_it_is_back(
    make_serve, xoxoday: Xoxoday
) -> None:
    serve: ServeProcess = make_serve(REWARD_PLUM_OUTAGE_ALERT_MINUTES="0.05")  # 3 s
    serve.driver.command(f"<@{MARIA}> 5 warm-up before the outage", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "warm-up before the outage") == "sent")
    xoxoday.down()
    texts = [f"outage reward {n}" for n in range(8)]
    for n, text in enumerate(texts):
        giver = (BOB, CHEN)[n % 2]
        serve.driver.command(f"<@{MARIA}> 3 {text}", user_id=giver)
    # Each giver is told once that it's delayed (one DM per reward), nothing failed.
    serve.wait(lambda: len(dm_with(serve, BOB, "delayed")) == 4, timeout=30)
    serve.wait(lambda: len(dm_with(serve, CHEN, "delayed")) == 4, timeout=30)
    assert "failed" not in serve.statuses()
    assert all(status_of(serve, t) == "queued" for t in texts)
    # The admins hear that Xoxoday can't be reached, once.
    serve.wait(lambda: dm_with(serve, ADMIN, "Xoxoday hasn't taken"), timeout=30)

    xoxoday.up()
    serve.wait_until(lambda: all(status_of(serve, t) == "sent" for t in texts), timeout=90)
    assert sorted(c for c in xoxoday.citations() if c.startswith("outage")) == sorted(texts)
    serve.wait(lambda: dm_with(serve, ADMIN, "Xoxoday answers again"), timeout=30)
    assert len(dm_with(serve, ADMIN, "Xoxoday hasn't taken")) == 1
    # ...and each giver again when it is sent; nobody was told twice that it was delayed.
    serve.wait(lambda: len(dm_with(serve, BOB, "outage reward")) >= 8, timeout=30)
    assert len(dm_with(serve, BOB, "delayed")) == 4
    assert serve.sql("SELECT COUNT(*) FROM rewards WHERE status = 'sent'")[0][0] == 9


def test_a_rate_limit_is_waited_out_as_xoxoday_asks(serve: ServeProcess, xoxoday: Xoxoday) -> None:
    assert xoxoday.server is not None
    xoxoday.server.faults.set("sendBalance", error="rate_limit:6", count=2)  # penaltySeconds 6
    serve.driver.command(f"<@{MARIA}> 4 patience under a rate limit", user_id=BOB)
    serve.wait(lambda: dm_with(serve, BOB, "delayed"), timeout=30)
    started = time.monotonic()
    serve.wait_until(lambda: status_of(serve, "patience under a rate limit") == "sent", 120)
    assert time.monotonic() - started >= 6  # the second try waited as long as Xoxoday asked
    assert xoxoday.citations().count("patience under a rate limit") == 1
    attempts = serve.sql("SELECT attempts FROM rewards WHERE citation LIKE 'patience%'")
    assert attempts == [(2,)]


def test_credentials_refused_are_the_admins_problem_not_the_giver(
    serve: ServeProcess, xoxoday: Xoxoday
) -> None:
    assert xoxoday.server is not None
    xoxoday.server.faults.set("sendBalance", error="PIPE10017", count=1)  # IP not allow-listed
    serve.driver.command(f"<@{MARIA}> 4 thanks for the network work", user_id=BOB)
    alert = serve.wait(lambda: dm_with(serve, ADMIN, "Xoxoday hasn't taken"), timeout=30)
    assert "allow-list" in alert[0] and "set-up" in alert[0]
    told = serve.wait(lambda: dm_with(serve, BOB, "delayed"), timeout=30)
    assert "allow-list" not in told[0]  # the member hears it's delayed, not what to fix
    serve.wait_until(lambda: status_of(serve, "thanks for the network work") == "sent", 90)
    assert xoxoday.citations().count("thanks for the network work") == 1


def test_a_name_that_does_not_resolve_is_not_a_failure(make_serve, fake, xoxoday: Xoxoday) -> None:
    serve: ServeProcess = make_serve(PLUM_BASE_URL="http://plum.invalid/chef")
    serve.driver.command(f"<@{MARIA}> 4 sent despite DNS", user_id=BOB)
    serve.wait(lambda: dm_with(serve, BOB, "delayed"), timeout=60)
    assert status_of(serve, "sent despite DNS") == "queued"
    serve.stop()
    serve.settings["PLUM_BASE_URL"] = xoxoday.base_url  # an admin fixes the setting
    serve.start()
    serve.wait_until(lambda: status_of(serve, "sent despite DNS") == "sent", 60)
    assert xoxoday.citations().count("sent despite DNS") == 1


def test_after_the_retry_window_the_reward_fails_and_the_giver_is_told(
    make_serve, xoxoday: Xoxoday
) -> None:
    serve: ServeProcess = make_serve(REWARD_DELIVERY_RETRY_HOURS="0.003")  # about 11 s
    xoxoday.down()
    serve.driver.command(f"<@{MARIA}> 4 never reached xoxoday", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "never reached xoxoday") == "failed", 90)
    failed = serve.wait(lambda: dm_with(serve, BOB, "wasn't sent"), timeout=30)
    assert "could not be reached for" in failed[0]
    xoxoday.up()
    assert xoxoday.citations() == []


def test_an_unknown_outcome_stays_in_doubt_across_a_restart(
    serve: ServeProcess, xoxoday: Xoxoday
) -> None:
    assert xoxoday.server is not None
    xoxoday.server.faults.set("sendBalance", drop_after_apply=True, count=1)
    serve.driver.command(f"<@{MARIA}> 4 answer lost in transit", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "answer lost in transit") == "in_doubt", 60)
    serve.wait(lambda: dm_with(serve, ADMIN, "in doubt"), timeout=30)
    serve.restart()
    serve.driver.command(f"<@{MARIA}> 4 after the restart", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "after the restart") == "sent", 60)
    assert status_of(serve, "answer lost in transit") == "in_doubt"
    assert xoxoday.citations().count("answer lost in transit") == 1  # never re-sent


def test_a_mention_of_someone_slack_does_not_know_is_sent_not_stuck(
    serve: ServeProcess, xoxoday: Xoxoday
) -> None:
    serve.driver.command(f"<@{MARIA}> 3 thanks <@U0FAKE99> and you", user_id=BOB)
    serve.wait_until(lambda: serve.statuses().get("sent") == 1, 30)
    (citation,) = xoxoday.citations()
    assert citation == "thanks @U0FAKE99 and you"
    assert serve.wait(lambda: dm_with(serve, MARIA, "thanks"))
    assert "Traceback" not in serve.logs()
    assert all("in doubt" not in message_text(m) for m in serve.fake.dms_to(ADMIN))


def test_a_lost_answer_xoxodays_report_shows_ends_sent_with_no_admin_click(
    make_serve, xoxoday: Xoxoday
) -> None:
    """The bot settles it from the payment report (checks from 10 s, admins asked at 30 s)."""
    serve: ServeProcess = make_serve(REWARD_IN_DOUBT_ADMIN_MINUTES="0.5")
    assert xoxoday.server is not None
    xoxoday.server.faults.set("sendBalance", drop_after_apply=True, count=1)
    serve.driver.command(f"<@{MARIA}> 4 paid but the answer was lost", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "paid but the answer was lost") == "in_doubt", 60)
    checking = serve.wait(lambda: dm_with(serve, BOB, "being checked"), timeout=30)
    assert "connection to Xoxoday broke" in checking[0]  # which kind of failure it was
    serve.wait_until(lambda: status_of(serve, "paid but the answer was lost") == "sent", 60)
    settled = serve.sql(
        "SELECT settled_by FROM rewards WHERE citation = ?", "paid but the answer was lost"
    )
    assert settled == [("xoxoday:payment-report",)]
    serve.wait(lambda: dm_with(serve, MARIA, "paid but the answer was lost"), timeout=30)
    assert xoxoday.citations().count("paid but the answer was lost") == 1  # never re-sent
    time.sleep(1)
    assert not dm_with(serve, ADMIN, "in doubt")  # nobody was asked to click


def test_an_outage_answer_proven_unapplied_is_sent_again_once_with_no_admin_click(
    make_serve, xoxoday: Xoxoday
) -> None:
    """A 503 proves nothing: in doubt. Once the report shows a later send and nothing of this
    one, it is sent again, once."""
    serve: ServeProcess = make_serve(REWARD_IN_DOUBT_ADMIN_MINUTES="0.5")
    assert xoxoday.server is not None
    xoxoday.server.faults.set("sendBalance", error="503", count=1)
    serve.driver.command(f"<@{MARIA}> 4 refused by a 503", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "refused by a 503") == "in_doubt", 60)
    checking = serve.wait(lambda: dm_with(serve, BOB, "being checked"), timeout=30)
    assert "server error (HTTP 503)" in checking[0] and "lost" not in checking[0]
    serve.driver.command(f"<@{MARIA}> 2 sent after the outage", user_id=CHEN)
    serve.wait_until(lambda: status_of(serve, "sent after the outage") == "sent", 60)
    serve.wait_until(lambda: status_of(serve, "refused by a 503") == "sent", 60)
    assert xoxoday.citations().count("refused by a 503") == 1  # paid once
    serve.wait(lambda: dm_with(serve, MARIA, "refused by a 503"), timeout=30)
    assert not dm_with(serve, ADMIN, "in doubt")


def test_what_the_report_cannot_prove_goes_to_the_admins_after_the_bound(
    make_serve, xoxoday: Xoxoday
) -> None:
    """The report can't be read: nothing is settled by itself, the admins are asked once the
    bound has passed, and the reward is never sent again."""
    serve: ServeProcess = make_serve(REWARD_IN_DOUBT_ADMIN_MINUTES="0.25")  # 15 s
    assert xoxoday.server is not None
    xoxoday.server.faults.set("paymentHistory", error="500")
    xoxoday.server.faults.set("sendBalance", drop_after_apply=True, count=1)
    serve.driver.command(f"<@{MARIA}> 4 nobody can tell", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "nobody can tell") == "in_doubt", 60)
    serve.wait(lambda: dm_with(serve, BOB, "being checked"), timeout=30)
    assert not dm_with(serve, ADMIN, "in doubt")  # not yet
    alert = serve.wait(lambda: dm_with(serve, ADMIN, "in doubt"), timeout=60)
    assert "connection to Xoxoday broke" in alert[0]  # which kind of failure it was
    assert status_of(serve, "nobody can tell") == "in_doubt"
    assert len(dm_with(serve, BOB, "being checked")) == 1  # the giver was told once
    assert xoxoday.citations().count("nobody can tell") == 1
