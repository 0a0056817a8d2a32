"""The whole bot on loopback: the real ASGI app under uvicorn, the fake Slack, the Plum sandbox.

Requests reach the bot signed exactly as Slack signs them (SlackDriver); what the bot says is
read back from the fake Slack; what Plum received is read from the sandbox; what the ledger holds
is read from the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from bot.settings import load_settings
from bot.simulators.embedded import EmbeddedSandbox
from bot.simulators.fakeslack import FakeSlack, SlackDriver
from bot.simulators.fakeslack.server import ServerThread
from bot.simulators.plum_sandbox import SandboxServer
from bot.startup import start_bot
from storage.states import IntakeState
from tests.storage.support import migrated_sqlite

SIGNING_SECRET = "e2e-signing-secret"
BOT_TOKEN = "xoxb-fake"
ADMIN = "UADMIN01"
APPROVER = "UAPPR001"
MARIA = "UMARIA01"
BOB = "UBOB0001"
CHEN = "UCHEN001"
NOMAIL = "UNOMAIL1"
GONE = "UGONE001"
HELPERBOT = "UBOT0001"

T = TypeVar("T")
# How long nothing the bot does may show before a test takes it that nothing more will.
QUIET_SECONDS = 0.3


def wait_until(
    probe: Callable[[], T], *, timeout: float = 10.0, every: float = 0.02, what: str = ""
) -> T:
    """Poll `probe` until it returns something truthy and return that; an AssertionError
    saying `what` was awaited when it has not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:g} s: {what or probe}")
        time.sleep(every)


def wait_settled(
    busy: Callable[[], str],
    seen: Callable[[], Hashable],
    *,
    quiet: float = QUIET_SECONDS,
    timeout: float = 30.0,
    every: float = 0.05,
    what: str = "the bot",
) -> None:
    """Wait until `busy()` says nothing is in hand ("") and `seen()` (a fingerprint of all
    that can be observed) has stayed the same for `quiet` seconds meanwhile. For assertions
    that something did not happen: once this returns, it is not about to. An AssertionError
    saying what was still busy, or still changing, when it has not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Hashable = None
    since: float | None = None
    while True:
        now = time.monotonic()
        doing = busy()
        if doing:
            since = None
        else:
            current = seen()
            if since is None or current != last:
                last, since = current, now
            elif now - since >= quiet:
                return
        if now > deadline:
            still = f"still busy: {doing}" if doing else f"its effects kept changing: {last}"
            raise AssertionError(f"{what} did not settle within {timeout:g} s ({still})")
        time.sleep(every)


class BotHarness:
    def __init__(
        self,
        *,
        tmp_path: Path,
        fake: FakeSlack,
        sandbox: SandboxServer,
        worker: bool = True,
        plum_timeout: float | None = 3.0,
        **overrides: Any,
    ) -> None:
        self.fake = fake
        self.sandbox = sandbox
        ledger = tmp_path / "bot.db"
        if "DATABASE_URL" not in overrides and tmp_path.is_dir() and not ledger.exists():
            # The ledger migrated once per test process, copied: a first start on an empty
            # SQLite file would upgrade it the same way, a second or more per test on a busy
            # machine (that first start is shown by every `rewardbot serve` in tests/attacks).
            # A directory not there yet is left for the bot to make, as before.
            migrated_sqlite(ledger)
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "PLUM_BASE_URL": sandbox.base_url,
            "PLUM_CLIENT_ID": "sandbox",
            "PLUM_CLIENT_SECRET": "sandbox",
            "PLUM_SENDER_EMAIL": "people-ops@acme.test",
            "DATABASE_URL": f"sqlite:///{ledger}",
            "REWARD_ADMINS": ADMIN,
            "REWARD_APPROVERS": APPROVER,
            # Rewards in doubt go to the admins at once (their tests); the bot settling them
            # from Xoxoday's records first is tested where a test sets a bound.
            "REWARD_IN_DOUBT_ADMIN_MINUTES": "0",
            # `/reward` and the form are sent at once (their tests); the Undo window is tested
            # where a test turns it on (tests/e2e/test_undo.py).
            "REWARD_UNDO_COMMANDS": "false",
            **overrides,
        }
        self.settings = load_settings(**settings)
        # PLUM_BASE_URL=sandbox: the embedded sandbox, as `rewardbot serve` starts it.
        self.embedded = EmbeddedSandbox.start(self.settings) if self.settings.uses_sandbox else None
        self.bot = start_bot(
            self.settings,
            addon=self.embedded.addon() if self.embedded is not None else None,
            worker=worker,
            anchor=False,  # tests of the anchor run it themselves
            plum_timeout=plum_timeout,
        )
        self.runtime = self.bot.runtime
        self.app = self.bot.bolt
        assert self.bot.web is not None
        self.server = ServerThread(self.bot.web, name="bot").start()
        self.url = f"http://127.0.0.1:{self.server.port}"
        if self.embedded is not None:
            self.embedded.connect(self.url)
        self.driver = SlackDriver(
            bot_url=f"{self.url}/slack/events", signing_secret=SIGNING_SECRET, fake=fake
        )

    @property
    def embedded_sandbox(self) -> SandboxServer | None:
        """The embedded sandbox's server (PLUM_BASE_URL=sandbox), else None."""
        return self.embedded.server if self.embedded is not None else None

    def stop(self) -> None:
        self.driver.close()
        self.server.stop()
        self.bot.stop()

    def wait(self, probe: Callable[[], T], timeout: float = 10.0) -> T:
        return self.fake.wait_for(probe, timeout=timeout)

    def busy(self) -> str:
        """What the bot still has in hand ("": nothing): a Slack request being answered,
        requests whose work is not finished (the intake journal's pending entries, which the
        work after an ack holds until it is done), the delivery worker, App Home refreshes."""
        runtime = self.runtime
        doing = []
        if runtime.foreground.in_flight:
            doing.append(f"{runtime.foreground.in_flight} Slack request(s) being answered")
        pending = runtime.journal.count(IntakeState.PENDING)
        if pending:
            doing.append(f"{pending} request(s) not finished")
        if not runtime.worker.idle():
            doing.append("the delivery worker")
        if not runtime.orders.idle():
            doing.append("the order worker")
        if not runtime.home_refresher.wait_idle(0):
            doing.append("App Home refreshes")
        if not runtime.notifier.group_updates.idle():
            doing.append("announcement updates")
        return ", ".join(doing)

    def seen(self) -> tuple[int, ...]:
        """A fingerprint of everything the bot did that the fake Slack and the sandbox saw."""
        return observed(self.fake, self.sandbox)

    def settle(self, *, quiet: float = QUIET_SECONDS, timeout: float = 30.0) -> None:
        """Wait until the bot has nothing in hand (`busy`) and nothing new shows on the fake
        Slack or the sandbox for `quiet` seconds: what has not happened by then won't."""
        wait_settled(self.busy, self.seen, quiet=quiet, timeout=timeout)

    # what people see
    def dm_texts(self, user_id: str) -> list[str]:
        return [message_text(m) for m in self.fake.dms_to(user_id)]

    def channel_texts(self, channel: str) -> list[str]:
        return [message_text(m) for m in self.fake.messages(channel)]

    def replies_to(self, user_id: str) -> list[str]:
        """Ephemeral messages the user saw (acks and response_url follow-ups)."""
        return [message_text(m) for m in self.fake.ephemerals(user_id)]

    # what Plum received
    def sends(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests if r["operation"] == "sendBalance"]

    def sent_recipients(self) -> list[dict[str, Any]]:
        """Every recipient of every sendBalance call (a call may carry several rewards)."""
        out = []
        for request in self.sends():
            variables = request["variables"]
            data = variables.get("recipients_data") or {}
            out += variables.get("recipients") or data.get("recipients") or []
        return out


def observed(fake: FakeSlack, sandbox: SandboxServer) -> tuple[int, ...]:
    """A fingerprint of what the fake Slack and the sandbox have seen: calls answered and held,
    changes to the workspace (messages, response_url posts, views), requests to Xoxoday and
    how many of them are unanswered."""
    requests = sandbox.requests
    unanswered = sum(1 for r in requests if r.get("status") is None)
    return (len(fake.calls), fake.held(), fake.workspace.version, len(requests), unanswered)


def actions_in(message: dict[str, Any]) -> list[str]:
    """The action ids of the buttons (and other elements) in a message's actions blocks."""
    return [
        element.get("action_id")
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
    ]


def message_text(message: dict[str, Any]) -> str:
    """The fallback text plus every text in the blocks, as a person would read it."""
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        parts.extend(_texts(block))
    return "\n".join(p for p in parts if p)


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = []
        if isinstance(node.get("text"), str):
            out.append(node["text"])
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                out.extend(_texts(value))
        return out
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def answer_cancel(
    fake: FakeSlack, driver: SlackDriver, user_id: str, *, keep: bool = False, timeout: float = 10.0
) -> str:
    """`/reward cancel` asks first: press "Cancel reward" (or "Keep it") on the newest
    question `user_id` was shown, and return the answer that replaces it."""
    confirm, keep_it = "reward_cancel_confirm", "reward_cancel_keep"

    def question() -> dict[str, Any] | None:
        asked = [e for e in fake.ephemerals(user_id) if confirm in actions_in(e)]
        return asked[-1] if asked else None

    asked = wait_until(question, timeout=timeout, what=f"a cancel question for {user_id}")
    action = keep_it if keep else confirm
    value = next(
        element.get("value")
        for block in asked["blocks"]
        if block.get("type") == "actions"
        for element in block.get("elements") or []
        if element.get("action_id") == action
    )
    response = driver.block_action(user_id=user_id, action_id=action, value=value, message=asked)
    assert response.status_code == 200

    def answered() -> str | None:
        now = [e for e in fake.ephemerals(user_id) if e["ts"] == asked["ts"]]
        return message_text(now[0]) if now and confirm not in actions_in(now[0]) else None

    return wait_until(answered, timeout=timeout, what=f"the answer to {user_id}'s cancel")
