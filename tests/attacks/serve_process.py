"""`rewardbot serve` as a real child process, for attacks a process must survive.

The fake Slack and the Plum sandbox run in the test process on loopback; the bot is
`python -m bot.cli serve` (exactly what the `rewardbot serve` console script runs) with its own
SQLite database under the test's temporary directory, configured only through its environment.
Tests send it signed (or forged) requests with a SlackDriver, kill it with SIGKILL, restart it on
the same database and read what it did back from the fake Slack, the sandbox and the ledger.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bot.simulators.fakeslack import FakeSlack, SlackDriver
from bot.simulators.plum_sandbox import SandboxServer
from storage.states import IntakeState
from tests.e2e.harness import (
    ADMIN,
    APPROVER,
    BOT_TOKEN,
    SIGNING_SECRET,
    message_text,
    observed,
    wait_settled,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
# The bot's source for the child process (default: this checkout). Pointing it at an older
# checkout shows an attack failing on the code from before a fix.
SOURCE = Path(os.environ.get("REWARDBOT_ATTACK_SOURCE") or REPO)
START_TIMEOUT = 60.0
# `settle`: how long nothing may show before a test takes it that nothing more will happen. A
# child cannot say its delivery worker is idle; to count on nothing more from it, wait longer
# than the worker's poll (2 s), so that a sweep has had its turn.
QUIET_SECONDS = 0.5
SWEEP_QUIET_SECONDS = 2.5
T = TypeVar("T")
# Variables a child must not inherit from the shell that runs the tests.
_INHERITED_PREFIXES = ("SLACK_", "PLUM_", "REWARD_", "AUDIT_", "ENCRYPTION_", "STOREFRONT_")
_INHERITED_NAMES = ("DATABASE_URL", "PORT", "PUBLIC_URL")


PORT_ATTEMPTS = 5


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default context, made once (loading the CAs costs about 70 ms of CPU, and the
    probes below make a client per request, some tests hundreds)."""
    return httpx.create_ssl_context()


def free_port() -> int:
    """A loopback port nothing is bound to now (another process may take it before it is used:
    see `ServeProcess.start`)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _PortTaken(Exception):
    """The child could not bind its port: another process had taken it."""


def _listening_inodes(port: int) -> set[str] | None:
    """The inodes of the TCP sockets listening on `port` (None: no /proc to read)."""
    inodes: set[str] = set()
    found = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found = True
        for line in lines:
            fields = line.split()
            # local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 the inode.
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes if found else None


def listens(pid: int, port: int) -> bool:
    """Whether process `pid` listens on loopback `port`. Without /proc: whether anything does."""
    inodes = _listening_inodes(port)
    if inodes is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False
    if not inodes:
        return False
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    owned = set()
    for fd in fds:
        try:
            owned.add(os.readlink(fd))
        except OSError:
            continue
    return any(f"socket:[{inode}]" in owned for inode in inodes)


class ServeProcess:
    """One bot process at a time on one database; `restart()` starts the next one."""

    def __init__(
        self,
        *,
        tmp_path: Path,
        fake: FakeSlack,
        sandbox: SandboxServer,
        database_url: str | None = None,
        scheduler: bool = False,
        verbose: bool = False,
        **settings: str,
    ) -> None:
        self.tmp_path = tmp_path
        self.fake = fake
        self.sandbox = sandbox
        self.db_path = tmp_path / "bot.db"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.scheduler = scheduler
        self.verbose = verbose  # `rewardbot -v serve`: the log at DEBUG
        self.settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "PLUM_BASE_URL": sandbox.base_url,
            "PLUM_CLIENT_ID": "sandbox",
            "PLUM_CLIENT_SECRET": "sandbox",
            "PLUM_SENDER_EMAIL": "people-ops@acme.test",
            "DATABASE_URL": self.database_url,
            "REWARD_ADMINS": ADMIN,
            "REWARD_APPROVERS": APPROVER,
            # Rewards in doubt go to the admins at once (their tests); the bot settling them
            # from Xoxoday's records first is tested where a test sets a bound.
            "REWARD_IN_DOUBT_ADMIN_MINUTES": "0",
            # `/reward` and the form are sent at once (the attacks count what Xoxoday got).
            "REWARD_UNDO_COMMANDS": "false",
            **settings,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.runs = 0
        self._driver: SlackDriver | None = None

    # ── lifecycle ─────────────────────────────────────────────────────────────────────────

    @property
    def log_path(self) -> Path:
        return self.tmp_path / f"serve-{self.runs}.log"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_INHERITED_PREFIXES) and k not in _INHERITED_NAMES
        }
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
        env.update(self.settings)
        return env

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "bot.cli", *(["-v"] if self.verbose else [])]
        cmd += ["serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port)]
        if not self.scheduler:
            cmd.append("--no-scheduler")
        return cmd

    def start(self, *, wait: bool = True) -> ServeProcess:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("the bot is already running")
        self.runs += 1
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        # The port is free when chosen, but the child binds it a second later: another process
        # (a test running beside this one) may take it meanwhile. Then the child cannot bind
        # and it is started again on another port, writing the same log afresh.
        for _attempt in range(PORT_ATTEMPTS):
            self.port = free_port()
            with self.log_path.open("wb") as out:
                self.proc = subprocess.Popen(
                    self.command(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env(),
                    cwd=self.tmp_path,  # no .env from the repository or the caller
                )
            if not wait:
                return self
            try:
                self.wait_listening()
                return self
            except _PortTaken:
                continue
        raise RuntimeError(f"rewardbot serve found no free port in {PORT_ATTEMPTS} tries")

    def wait_listening(self, timeout: float = START_TIMEOUT) -> None:
        """Until the child itself listens on its port (not another process that took the port
        meanwhile: the socket's owner is read from /proc where there is one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                if "address already in use" in self.log().lower():
                    raise _PortTaken(self.port)
                raise RuntimeError(f"rewardbot serve exited early:\n{self.log()}")
            if listens(self.proc.pid, self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"rewardbot serve did not listen within {timeout:.0f}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs in the bot."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait (uvicorn shuts down, the runtime stops)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        return self.proc.returncode

    def restart(self) -> ServeProcess:
        self.kill()
        return self.start()

    def run_once(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Another `rewardbot` command with the same settings (e.g. `audit verify`)."""
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            env=self.env(),
            cwd=self.tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def log(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def logs(self) -> str:
        """Everything every run of the bot wrote."""
        parts = []
        for n in range(1, self.runs + 1):
            path = self.tmp_path / f"serve-{n}.log"
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    # ── talking to it ─────────────────────────────────────────────────────────────────────

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    @property
    def driver(self) -> SlackDriver:
        if self._driver is None:
            self._driver = SlackDriver(
                bot_url=self.events_url, signing_secret=SIGNING_SECRET, fake=self.fake
            )
        return self._driver

    def post(self, body: bytes, headers: Mapping[str, str | bytes], **kw: Any) -> httpx.Response:
        with httpx.Client(timeout=10.0, verify=_tls()) as client:
            return client.post(self.events_url, content=body, headers=headers, **kw)

    def healthz(self) -> httpx.Response:
        return self.get("/healthz")

    def get(self, path: str, **headers: str) -> httpx.Response:
        """GET one of the bot's own routes (/healthz, /livez, /readyz, /metrics)."""
        with httpx.Client(timeout=10.0, verify=_tls()) as client:
            return client.get(f"{self.url}{path}", headers=headers)

    def wait(self, probe: Callable[[], T], timeout: float = 15.0) -> T:
        return self.fake.wait_for(probe, timeout=timeout)

    def wait_until(self, probe: Callable[[], T], timeout: float = 30.0, every: float = 0.1) -> T:
        """Poll `probe` (for things the fake Slack does not see, like the ledger); a failure
        shows the bot's log."""
        try:
            return wait_until(probe, timeout=timeout, every=every)
        except AssertionError as err:
            raise AssertionError(f"{err}; bot log:\n{self.log()}") from None

    def busy(self) -> str:
        """What the bot still has in hand as far as its SQLite databases show ("": nothing):
        requests whose work is not finished (the intake journal's pending entries, which the
        work after an ack holds until it is done) and rewards queued or being sent."""
        doing = []
        pending = self.sql_intake(
            "SELECT COUNT(*) FROM intake WHERE state = ?", IntakeState.PENDING.value
        )[0][0]
        if pending:
            doing.append(f"{pending} request(s) not finished")
        statuses = self.statuses()
        sending = statuses.get("queued", 0) + statuses.get("sending", 0)
        if sending:
            doing.append(f"{sending} reward(s) queued or being sent")
        return ", ".join(doing)

    def settle(self, *, quiet: float = QUIET_SECONDS, timeout: float = 30.0) -> None:
        """Wait until the running bot has nothing in hand (`busy`) and nothing new shows on the
        fake Slack or the sandbox for `quiet` seconds: what has not happened by then won't."""
        try:
            wait_settled(
                self.busy,
                lambda: observed(self.fake, self.sandbox),
                quiet=quiet,
                timeout=timeout,
                what="rewardbot serve",
            )
        except AssertionError as err:
            raise AssertionError(f"{err}; bot log:\n{self.log()}") from None
        if self.proc is None or self.proc.poll() is not None:
            raise AssertionError(f"rewardbot serve is not running; bot log:\n{self.log()}")

    # ── what it did ───────────────────────────────────────────────────────────────────────

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the bot's SQLite ledger (read-only, never blocking the bot). A read-only reader
        of a WAL database can't open it in the moment its -shm file is not there (the bot
        between connections, or just starting): that is tried again for a couple of seconds."""
        for attempt in range(30):
            try:
                uri = f"file:{self.db_path}?mode=ro"
                with closing(sqlite3.connect(uri, uri=True, timeout=10)) as c:
                    return c.execute(query, params).fetchall()
            except sqlite3.OperationalError as err:
                if "unable to open" not in str(err) or attempt == 29:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")  # pragma: no cover

    def sql_intake(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the bot's intake journal (its own SQLite file beside the ledger)."""
        path = self.db_path.with_name(self.db_path.stem + ".intake.db")
        if not path.exists():
            return [(0,)]  # (an older bot without a journal)
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as c:
            return c.execute(query, params).fetchall()

    def statuses(self) -> dict[str, int]:
        if not self.db_path.exists():
            return {}
        return dict(self.sql("SELECT status, COUNT(*) FROM rewards GROUP BY status"))

    def sends(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests if r["operation"] == "sendBalance"]

    def dm_texts(self, user_id: str) -> list[str]:
        return [message_text(m) for m in self.fake.dms_to(user_id)]

    def replies_to(self, user_id: str) -> list[str]:
        return [message_text(m) for m in self.fake.ephemerals(user_id)]

    def channel_texts(self, channel: str) -> list[str]:
        return [message_text(m) for m in self.fake.messages(channel)]

    def response_texts(self) -> Iterator[str]:
        for response in self.fake.responses():
            yield message_text(response.get("body") or {})


__all__ = ["ADMIN", "APPROVER", "ServeProcess", "free_port"]
