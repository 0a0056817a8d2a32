"""Attacks on points in the bot (REWARD_POINT_SYSTEM=storefront) through the real
`rewardbot serve` process: what Xoxoday's store calls (balance, profile, redeem, refund), the
single-use Redeem link, and SIGKILL in the middle of a burst of debits and of rewards being
credited.

Money is real here, so every attack ends by reading the ledger back: no point debited twice, no
refund beyond what an order redeemed, no balance below zero, nobody spending another person's
points, no lost credit, and no secret (auth token, Redeem link, ssoToken) in the bot's log.

Auth tokens are minted in the bot's database as the bot mints them when someone presses Redeem
(`storage.storefront_secrets.mint`): Xoxoday's store would present them.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, update
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select

from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.plum_sandbox import SandboxServer
from storage import storefront_secrets as secrets_repo
from storage.models import Member, StoreFrontSecret
from storage.states import SecretKind
from storage.types import utcnow
from tests.attacks.conftest import DATABASES, Query, on_database
from tests.attacks.serve_process import ServeProcess
from tests.attacks.test_crash_recovery import PEOPLE as CRASH_PEOPLE
from tests.attacks.test_crash_recovery import burst as reward_burst
from tests.attacks.test_crash_recovery import commands as reward_commands
from tests.e2e.harness import ADMIN, BOB, MARIA, answer_cancel, message_text

API_KEY = "attack-storefront-api-key-0123456789"
STOREFRONT = {
    "REWARD_POINT_SYSTEM": "storefront",
    "STOREFRONT_API_KEY": API_KEY,
    "REWARD_ALLOWANCE": "0",
    "REWARD_APPROVAL_THRESHOLD": "1000000",
}
PUBLIC_URL = "https://rewards.example.com"
SHOPPERS = [f"USHOP{n:03d}" for n in range(1, 7)]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    ws = Workspace.demo()
    for uid in [*SHOPPERS, *CRASH_PEOPLE]:
        ws.add_user(
            id=uid, name=uid.lower(), real_name=f"Shop {uid[-3:]}", email=f"{uid}@acme.test"
        )
    with FakeSlack(workspace=ws) as fake:
        yield fake


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(state_path=tmp_path / "sandbox.json", rate_limits=False)
    server.start()
    yield server
    server.stop()


class VerboseServe(ServeProcess):
    """`rewardbot -v serve`: everything at DEBUG, the libraries' request logs included."""

    def command(self) -> list[str]:
        cmd = super().command()
        at = cmd.index("bot.cli") + 1
        return [*cmd[:at], "-v", *cmd[at:]]


@dataclass
class Shop:
    """The bot as Xoxoday's store sees it, and its ledger read back."""

    serve: ServeProcess
    sql: Query
    _engine: Engine | None = field(default=None, init=False)

    # ── setting up ─────────────────────────────────────────────────────────────────────────

    def give(self, recipients: list[str], points: int) -> None:
        """Rewards from the admin, credited in the ledger before this returns."""
        before = self.sql("SELECT COUNT(*) FROM point_lots")[0][0]
        for n, uid in enumerate(recipients):
            response = self.serve.driver.command(
                f"<@{uid}> {points} attack setup {n}", user_id=ADMIN
            )
            assert response.status_code == 200
        want = before + len(recipients)
        self.serve.wait_until(
            lambda: self.sql("SELECT COUNT(*) FROM point_lots")[0][0] >= want, timeout=60
        )

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            url = self.serve.database_url
            args = {"timeout": 30} if url.startswith("sqlite") else {}
            self._engine = create_engine(url, poolclass=NullPool, connect_args=args)
        return self._engine

    def token(
        self, user_id: str, *, hours: float = 1, kind: SecretKind = SecretKind.AUTH_TOKEN
    ) -> str:
        """A secret minted for this person as the bot mints one."""
        with Session(self.engine) as session:
            member_id = session.exec(select(Member.id).where(Member.slack_user_id == user_id)).one()
            assert member_id is not None
            raw = secrets_repo.mint(
                session, member_id=member_id, kind=kind, lifetime=timedelta(hours=hours)
            ).raw
            session.commit()
        return raw

    def revoke(self, user_id: str) -> None:
        """What `storage.storefront_secrets.revoke` does (bar its audit event): every secret
        of the person ends."""
        with Session(self.engine) as session:
            member_id = session.exec(select(Member.id).where(Member.slack_user_id == user_id)).one()
            session.exec(
                update(StoreFrontSecret)
                .where(col(StoreFrontSecret.member_id) == member_id)
                .values(revoked_at=utcnow())
            )
            session.commit()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # ── calling ────────────────────────────────────────────────────────────────────────────

    def call(self, endpoint: str, body: Any, *, timeout: float = 15.0) -> httpx.Response:
        return self.raw(endpoint, json.dumps(body).encode(), timeout=timeout)

    def raw(
        self,
        endpoint: str,
        content: bytes,
        content_type: str = "application/json",
        *,
        timeout: float = 15.0,
    ) -> httpx.Response:
        return httpx.post(
            f"{self.serve.url}/storefront/{endpoint}",
            content=content,
            headers={"content-type": content_type},
            timeout=timeout,
        )

    # ── reading the ledger ─────────────────────────────────────────────────────────────────

    def orders(self) -> dict[str, tuple[str, int, int]]:
        """order id → (slack user id, cents, refunded)."""
        rows = self.sql(
            "SELECT o.order_id, m.slack_user_id, o.cents, o.refunded FROM point_orders o "
            "JOIN members m ON m.id = o.member_id"
        )
        return {order: (uid, int(c), int(r)) for order, uid, c, r in rows}

    def refund_keys(self) -> dict[str, int]:
        return {k: int(c) for k, c in self.sql("SELECT refund_key, cents FROM point_refunds")}

    def ledger_fingerprint(self) -> tuple[Any, ...]:
        return (
            tuple(sorted(self.orders().items())),
            tuple(sorted(self.refund_keys().items())),
            tuple(
                self.sql("SELECT id, remaining, expired, taken_back FROM point_lots ORDER BY id")
            ),
        )

    def books(self, user_id: str) -> dict[str, int]:
        """What the ledger holds for one person, in cents."""
        ((credited, left, expired, taken),) = self.sql(
            "SELECT COALESCE(SUM(CASE WHEN l.source = 'reward' THEN l.cents ELSE 0 END), 0), "
            "COALESCE(SUM(l.remaining), 0), COALESCE(SUM(l.expired), 0), "
            "COALESCE(SUM(l.taken_back), 0) FROM point_lots l "
            f"JOIN members m ON m.id = l.member_id WHERE m.slack_user_id = '{user_id}'"
        )
        ((spent,),) = self.sql(
            "SELECT COALESCE(SUM(o.cents - o.refunded), 0) FROM point_orders o "
            f"JOIN members m ON m.id = o.member_id WHERE m.slack_user_id = '{user_id}'"
        )
        return {
            "credited": int(credited),
            "spent": int(spent),
            "expired": int(expired),
            "taken_back": int(taken),
            "available": int(left),
        }

    def assert_books_balance(self, user_id: str, token: str) -> int:
        """credits − net debits − expired − taken back == available, in the ledger and in the
        answer Xoxoday's store gets; returns the available cents."""
        b = self.books(user_id)
        assert b["credited"] - b["spent"] - b["expired"] - b["taken_back"] == b["available"], b
        assert b["available"] >= 0 and b["spent"] >= 0, b
        negative = self.sql(
            "SELECT COUNT(*) FROM point_lots WHERE remaining < 0 OR remaining > cents"
        )[0][0]
        assert negative == 0
        answer = self.call("balance", {"unique_id": user_id, "auth_token": token}).json()
        assert answer["status"] == "1", answer
        assert cents_of(answer["data"]["points"]) == b["available"], (answer, b)
        return b["available"]


def cents_of(points: str) -> int:
    whole, _, part = points.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


def calm_log(serve: ServeProcess, *secrets: str) -> None:
    log = serve.logs()
    assert "Traceback" not in log, log[-4000:]
    for secret in secrets:
        assert secret not in log, "a secret is in the bot's log"


@pytest.fixture
def make_shop(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> Iterator[Callable[..., Shop]]:
    def make(backend: str = "sqlite", **settings: str) -> Shop:
        context = on_database(request, make_serve, backend, **{**STOREFRONT, **settings})
        serve, sql = context.__enter__()
        shop = Shop(serve, sql)

        def done() -> None:
            shop.close()
            context.__exit__(None, None, None)

        request.addfinalizer(done)
        serve.start()
        return shop

    yield make


@pytest.fixture
def shop(make_shop: Callable[..., Shop]) -> Shop:
    """The bot on SQLite (with a public address: Redeem buttons carry links); MARIA has 100
    points, BOB 50."""
    s = make_shop(PUBLIC_URL=PUBLIC_URL)
    s.give([MARIA], 100)
    s.give([BOB], 50)
    return s


# ── amounts, ids and types ─────────────────────────────────────────────────────────────────

# Amounts the README and docs/storefront-openapi.yml allow: more than 0, at most 1e9, at most
# two decimals, a JSON number or a string of digits. (An exponent, a sign or spaces around are
# read too: tests/storefront/test_openapi.py.) Anything else is a 400.
BAD_AMOUNTS: list[Any] = [
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "-5",
    "0",
    "0.00",
    "0.001",
    "1.001",
    "5,00",
    "1_0",
    "1_000",
    "٣",  # an Arabic-Indic three
    "１",  # a fullwidth one
    "５０",
    "0x10",
    ".",
    "",
    "  ",
    "9" * 40,
    "1" * 5000,
    "1000000000.01",
    "1e10",
    "4.999999999999999999999999999999",
    "0.009999999999999999999999999999999",
    "999999999.99999999999999999999999",
    "1e-999999999999999999",
    "5.0000000000000000000000000000000000001",
    True,
    False,
    None,
    [],
    {},
    [5],
    {"a": 1},
    -5,
    0,
    0.0,
    -0.0,
    0.001,
    1e-7,
    1.005,
    1_000_000_000.5,
    10**10,
    1e30,
]
GOOD_AMOUNTS: list[tuple[Any, int]] = [
    ("129", 12900),
    ("348.5", 34850),
    ("0.05", 5),
    (".5", 50),
    ("007", 700),
    ("34.85", 3485),
    (34.85, 3485),
    (7, 700),
    (0.01, 1),
    (2.5, 250),
]
# Raw JSON that Python's parser turns into floats no amount can be.
RAW_AMOUNTS = ["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1" * 4400, "1.5e-400"]


def test_an_amount_not_in_the_documented_form_is_a_400_and_debits_or_refunds_nothing(
    shop: Shop,
) -> None:
    shop.give([MARIA], 1000)
    token = shop.token(MARIA)
    auth = {"unique_id": MARIA, "auth_token": token}
    assert (
        shop.call("redeem", {**auth, "order_id": "PAID", "total_points_redeemed": 50}).json()[
            "status"
        ]
        == "1"
    )
    before = shop.ledger_fingerprint()
    wrong = []
    for n, amount in enumerate(BAD_AMOUNTS):
        debit = shop.call(
            "redeem", {**auth, "order_id": f"BAD-{n}", "total_points_redeemed": amount}
        )
        refund = shop.call(
            "refund",
            {**auth, "order_id": "PAID", "transactionid": f"RB-{n}", "redemption_amount": amount},
        )
        for what, response in (("redeem", debit), ("refund", refund)):
            body = response.json()
            if response.status_code != 400 or body.get("status") != "0":
                wrong.append((what, amount, response.status_code, body))
    for n, text in enumerate(RAW_AMOUNTS):
        body = (
            json.dumps({**auth, "order_id": f"RAW-{n}"})[:-1]
            + f', "total_points_redeemed": {text}}}'
        )
        response = shop.raw("redeem", body.encode())
        if response.status_code != 400 or response.json().get("status") != "0":
            wrong.append(("raw", text, response.status_code, response.json()))
    assert wrong == [], "\n".join(map(repr, wrong))
    assert shop.ledger_fingerprint() == before
    for n, (amount, cents) in enumerate(GOOD_AMOUNTS):
        answer = shop.call(
            "redeem", {**auth, "order_id": f"GOOD-{n}", "total_points_redeemed": amount}
        ).json()
        assert answer["status"] == "1", (amount, answer)
        assert shop.orders()[f"GOOD-{n}"] == (MARIA, cents, 0), amount
    shop.assert_books_balance(MARIA, token)
    calm_log(shop.serve, token)


# ── the Redeem link ────────────────────────────────────────────────────────────────────────


def redeem_link(serve: ServeProcess, user_id: str) -> str:
    """The single-use link on the Redeem button of the person's reward DM (PUBLIC_URL)."""
    dm = serve.wait(
        lambda: [m for m in serve.fake.dms_to(user_id) if "sent you" in message_text(m)] or None
    )[0]
    url = next(
        e["url"]
        for b in dm["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "points_redeem"
    )
    assert isinstance(url, str) and url.startswith(f"{PUBLIC_URL}/storefront/go/")
    return url


def local(serve: ServeProcess, url: str) -> str:
    return serve.url + url.removeprefix(PUBLIC_URL)


def test_one_redeem_link_opened_twenty_times_at_once_redirects_once(shop: Shop) -> None:
    serve = shop.serve
    link = local(serve, redeem_link(serve, MARIA))
    start = threading.Barrier(20)

    def open_it(_: int) -> httpx.Response:
        start.wait()
        return httpx.get(link, timeout=30)

    with ThreadPoolExecutor(max_workers=20) as pool:
        opened = list(pool.map(open_it, range(20)))
    assert Counter(r.status_code for r in opened) == {303: 1, 410: 19}
    (winner,) = [r for r in opened if r.status_code == 303]
    assert "/chef/v1/oauth/redirect/stores/" in winner.headers["location"]
    assert winner.headers["cache-control"] == "no-store"
    # One store visit: one auth token minted, one ssoToken asked for.
    assert shop.sql("SELECT COUNT(*) FROM storefront_secrets WHERE kind = 'auth_token'") == [(1,)]
    assert len([r for r in serve.sandbox.requests if r["operation"] == "storeSso"]) == 1
    assert httpx.get(link, timeout=10).status_code == 410  # and never again


def test_forged_reused_and_huge_redeem_links_open_nothing(shop: Shop) -> None:
    serve = shop.serve
    real = redeem_link(serve, MARIA).rsplit("/", 1)[1]
    forged = [
        "forged",
        real + "x",
        real[:-1],
        real.upper(),
        "a" * 199,
        "a" * 201,
        "a" * 8000,
        "%00",
        "%F0%9F%92%A9",
        "%ff%fe",
        "%0d%0aSet-Cookie:%20x=1",
        "..%2f..%2fhealthz",
        real + "%00",
    ]
    for value in forged:
        response = httpx.get(f"{serve.url}/storefront/go/{value}", timeout=10)
        assert response.status_code in (404, 410), (value, response.status_code)
        assert "location" not in response.headers
        assert "Set-Cookie" not in response.headers
    assert shop.sql("SELECT COUNT(*) FROM storefront_secrets WHERE kind = 'auth_token'") == [(0,)]
    assert shop.sql("SELECT COUNT(*) FROM storefront_secrets WHERE used_at IS NOT NULL") == [(0,)]
    # Still good after all that, once.
    assert httpx.get(f"{serve.url}/storefront/go/{real}", timeout=10).status_code == 303
    assert httpx.get(f"{serve.url}/storefront/go/{real}", timeout=10).status_code == 410
    # BOB's link opens BOB's store, whoever holds it; MARIA's points are not his.
    bob = httpx.get(local(serve, redeem_link(serve, BOB)), timeout=10)
    assert bob.status_code == 303
    sso = [r for r in serve.sandbox.requests if r["operation"] == "storeSso"]
    assert [r["variables"]["tpd"]["unique_id"] for r in sso] == [MARIA, BOB]
    calm_log(serve, real)


def test_no_secret_reaches_the_log_even_at_debug(
    tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer
) -> None:
    """`rewardbot -v serve` logs every Slack call the SDK makes: the Redeem link on the DM's
    button and the store's address (with the ssoToken) in the modal must not be in it."""
    serve = VerboseServe(tmp_path=tmp_path, fake=fake, sandbox=sandbox, **STOREFRONT)
    serve.settings["PUBLIC_URL"] = PUBLIC_URL
    try:
        serve.start()
        shop = Shop(serve, serve.sql)
        shop.give([MARIA], 100)
        url = redeem_link(serve, MARIA)
        opened = httpx.get(local(serve, url), timeout=10)
        assert opened.status_code == 303
        store = opened.headers["location"]
        # A click on the used link's button: a modal with a fresh store address.
        dm = next(m for m in fake.dms_to(MARIA) if "sent you" in message_text(m))
        views = len(fake.views)
        serve.driver.block_action(user_id=MARIA, action_id="points_redeem", message=dm)

        def fresh() -> str | None:
            for entry in fake.views[views:]:
                for block in entry["view"].get("blocks", []):
                    for element in block.get("elements", []):
                        if element.get("action_id") == "store_open":
                            return str(element["url"])
            return None

        modal = serve.wait(fresh)
        token = shop.token(MARIA)
        assert shop.call("balance", {"unique_id": MARIA, "auth_token": token}).json()["status"]
        serve.stop()
        log = serve.logs()
        assert "DEBUG" in log  # it did log at DEBUG
        link = url.rsplit("/", 1)[1]
        sso_tokens = [store.rsplit("/", 1)[1], modal.rsplit("/", 1)[1]]
        leaked = [s for s in [link, *sso_tokens, token] if s in log]
        lines = [line[:160] for line in log.splitlines() if any(s in line for s in leaked)]
        assert leaked == [], "\n".join(lines)
    finally:
        serve.kill()
        shop.close()


# ── SIGKILL in the middle of a burst of debits and refunds ─────────────────────────────────

DEBITS = 240  # calls: three debits for each partial refund
DEBITS_IN_FLIGHT = 16
KILL_AFTER_DONE = 60  # calls answered status "1"
LOST = (httpx.TransportError,)  # the process died with the call in flight: outcome unknown


@dataclass(frozen=True)
class Call:
    index: int
    endpoint: str
    body: dict[str, Any]

    @property
    def order_id(self) -> str:
        return str(self.body["order_id"])

    @property
    def cents(self) -> int:
        amount = self.body.get("total_points_redeemed") or self.body["redemption_amount"]
        return cents_of(str(amount))

    @property
    def refund_key(self) -> str:
        return f"{self.order_id}\x1f{self.body['transactionid']}\x1f{self.cents}"


@dataclass
class Outcome:
    answered: dict[int, httpx.Response] = field(default_factory=dict)
    lost: set[int] = field(default_factory=set)  # in flight at the kill
    unsent: set[int] = field(default_factory=set)  # never sent: the bot was down

    def done(self, call: Call) -> bool:
        response = self.answered.get(call.index)
        return response is not None and response.json().get("status") == "1"


def debit_plan(tokens: dict[str, str]) -> list[Call]:
    """Debits, and a partial refund for every three of them; among them repeats (Xoxoday
    retrying), an order id again with another amount, debits and refunds too large."""
    calls = []
    for i in range(DEBITS):
        uid = SHOPPERS[i % len(SHOPPERS)]
        auth = {"unique_id": uid, "auth_token": tokens[uid]}
        if i % 8 == 7:  # a refund again, as it was
            calls.append(Call(i, "refund", calls[i - 4].body))
        elif i % 4 == 3:  # a partial refund of one of the person's two orders from before
            order = f"PRE-{uid}-{(i // 4) % 2}"
            amount = 50 if i % 16 == 11 else 2.5  # more than the order: refused
            body = {
                **auth,
                "order_id": order,
                "transactionid": f"RF-{i}",
                "redemption_amount": amount,
            }
            calls.append(Call(i, "refund", body))
        elif i % 8 == 6:  # a debit again: the same, then (every other time) another amount
            again = dict(calls[i - 4 - 2 * (i % 16 == 14)].body)
            if i % 16 == 14:
                again["total_points_redeemed"] = "1"
            calls.append(Call(i, "redeem", again))
        else:
            amount = "500" if i % 10 == 5 else f"{3 + i % 5}.{(i * 37) % 100:02d}"
            body = {**auth, "order_id": f"K-{i}", "total_points_redeemed": amount}
            calls.append(Call(i, "redeem", body))
    return calls


def debit_burst(shop: Shop, calls: list[Call]) -> Outcome:
    """Every call, DEBITS_IN_FLIGHT at a time; SIGKILL once KILL_AFTER_DONE were answered "1"."""
    out = Outcome()
    lock = threading.Lock()
    killed = threading.Event()
    done = 0

    def send(call: Call) -> None:
        nonlocal done
        if killed.is_set():
            with lock:
                out.unsent.add(call.index)
            return
        try:
            response = shop.call(call.endpoint, call.body, timeout=30)
        except LOST:
            with lock:
                out.lost.add(call.index)
            return
        with lock:
            out.answered[call.index] = response
            if response.json().get("status") == "1":
                done += 1
            if done >= KILL_AFTER_DONE and not killed.is_set():
                killed.set()
                shop.serve.kill()

    with ThreadPoolExecutor(max_workers=DEBITS_IN_FLIGHT) as pool:
        list(pool.map(send, calls))
    assert killed.is_set(), "the burst ended before the bot could be killed"
    return out


def check_ledger(shop: Shop, calls: list[Call], out: Outcome) -> list[Call]:
    """Every call answered "1" is in the ledger once, as asked; nothing else is, but what
    was in flight at the kill. Returns the calls in flight that the ledger kept."""
    orders, refunds = shop.orders(), shop.refund_keys()
    by_key: dict[str, list[Call]] = {}
    for call in calls:
        by_key.setdefault(call.order_id if call.endpoint == "redeem" else call.refund_key, [])
        by_key[call.order_id if call.endpoint == "redeem" else call.refund_key].append(call)
    kept_in_flight = []
    for key, same in by_key.items():
        debit = same[0].endpoint == "redeem"
        kept = orders.get(key) if debit else refunds.get(key)

        def recorded(c: Call, *, debit: bool = debit, kept: Any = kept) -> bool:
            return bool(kept == ((c.body["unique_id"], c.cents, 0) if debit else c.cents))

        done = [c for c in same if out.done(c)]
        assert all(recorded(c) for c in done), (key, kept, done)
        if kept is not None:  # a refusal changed nothing: someone was answered "1", or lost
            made = [c for c in done + [c for c in same if c.index in out.lost] if recorded(c)]
            assert made, (key, kept)
            if not done:
                kept_in_flight.append(made[0])
    return kept_in_flight


def send_all(shop: Shop, calls: list[Call], out: Outcome) -> None:
    """Send these calls to the running bot at once and note the answers."""

    def send(call: Call) -> None:
        response = shop.call(call.endpoint, call.body, timeout=30)
        out.answered[call.index] = response
        out.lost.discard(call.index)
        out.unsent.discard(call.index)

    with ThreadPoolExecutor(max_workers=DEBITS_IN_FLIGHT) as pool:
        list(pool.map(send, calls))


@pytest.mark.parametrize("backend", DATABASES)
def test_sigkill_mid_burst_of_debits_and_refunds_keeps_every_answer_and_nothing_twice(
    make_shop: Callable[..., Shop], backend: str
) -> None:
    shop = make_shop(backend)
    shop.give(SHOPPERS, 100)
    tokens = {uid: shop.token(uid, hours=2) for uid in SHOPPERS}
    for uid in SHOPPERS:  # two orders each, for the refunds of the burst to give back
        for j in range(2):
            body = {"unique_id": uid, "auth_token": tokens[uid], "total_points_redeemed": 10}
            assert shop.call("redeem", {**body, "order_id": f"PRE-{uid}-{j}"}).json()["status"]
    calls = debit_plan(tokens)
    out = debit_burst(shop, calls)
    answered, in_flight, unsent = len(out.answered), len(out.lost), len(out.unsent)
    refused = [c for c in calls if c.index in out.answered and not out.done(c)]

    shop.serve.start()  # the same database
    kept_in_flight = check_ledger(shop, calls, out)

    # Xoxoday repeats what it got an answer for: the same answer, and nothing changes.
    before = shop.ledger_fingerprint()
    for call in calls:
        if out.done(call):
            again = shop.call(call.endpoint, call.body)
            assert again.json() == out.answered[call.index].json(), call
    assert shop.ledger_fingerprint() == before
    # …and what it never heard back about: what the ledger kept answers "1", once.
    for call in kept_in_flight:
        assert shop.call(call.endpoint, call.body).json()["status"] == "1", call
    assert shop.ledger_fingerprint() == before
    # Then the rest of the burst, and what was in flight, to the restarted bot.
    send_all(shop, [c for c in calls if c.index in out.lost or c.index in out.unsent], out)
    assert out.lost == set() and out.unsent == set()
    assert check_ledger(shop, calls, out) == []
    assert all(r.status_code == 200 for r in out.answered.values())  # refusals included

    # The books of everyone add up, in the ledger and in the answers.
    for uid in SHOPPERS:
        shop.assert_books_balance(uid, tokens[uid])
    per_order = shop.sql(
        "SELECT o.order_id, o.cents, o.refunded, COALESCE(SUM(r.cents), 0) FROM point_orders o "
        "LEFT JOIN point_refunds r ON r.order_pk = o.id GROUP BY o.order_id, o.cents, o.refunded"
    )
    for order_id, cents, refunded, refunds_sum in per_order:
        assert 0 <= refunded <= cents and refunded == refunds_sum, order_id
    print(
        f"\n[{backend}] debit burst: {len(calls)} calls; before the kill {answered} answered "
        f"({answered - len(refused)} status 1, {len(refused)} refused), {in_flight} in flight "
        f"({len(kept_in_flight)} of them kept by the ledger), {unsent} not sent; in the end "
        f"{sum(out.done(c) for c in calls)} status 1, {len(shop.orders())} orders and "
        f"{len(shop.refund_keys())} refunds in the ledger"
    )
    calm_log(shop.serve, *tokens.values())


# ── SIGKILL in the middle of a burst of rewards being credited ─────────────────────────────


@pytest.mark.parametrize("backend", DATABASES)
def test_sigkill_mid_burst_of_rewards_credits_each_acknowledged_one_exactly_once(
    request: pytest.FixtureRequest,
    make_serve: Callable[..., ServeProcess],
    fake: FakeSlack,
    sandbox: SandboxServer,
    backend: str,
) -> None:
    """The crash-recovery burst (200 `/reward` commands, SIGKILL after 100 acks) with points in
    the bot: delivery claims and credits in one transaction, so nothing is ever in doubt."""
    with on_database(request, make_serve, backend, **STOREFRONT) as (serve, sql):
        serve.start()
        todo = reward_commands(fake)
        acked = reward_burst(serve, fake, todo)
        journal = serve.sql_intake if backend == "sqlite" else sql
        # Dead: a reward is queued or credited, never claimed and not credited.
        at_kill = dict(sql("SELECT status, COUNT(*) FROM rewards GROUP BY status"))
        assert "sending" not in at_kill and "in_doubt" not in at_kill, at_kill
        unfinished = journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'")[0][0]
        # The next start resumes those and credits them: SIGKILL it again halfway through.
        # Slack takes its time over who people are meanwhile (every answer 1.5 s late), so the
        # resume is still under way when the credits have moved on (a quick machine finished it
        # before the kill); the next start gets its answers at once.
        fake.slow_next("users.info", seconds=1.5, count=100_000)
        serve.start()
        credited_before = sql("SELECT COUNT(*) FROM point_lots")[0][0]
        serve.wait_until(
            lambda: sql("SELECT COUNT(*) FROM point_lots")[0][0] >= credited_before + 30,
            timeout=60,
            every=0.01,
        )
        serve.kill()
        fake.clear_faults()
        at_second = dict(sql("SELECT status, COUNT(*) FROM rewards GROUP BY status"))
        assert "sending" not in at_second and "in_doubt" not in at_second, at_second
        still = journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'")[0][0]
        assert still > 0, "the resume was done before the second kill"
        serve.start()

        def settled() -> bool:
            busy = sql("SELECT COUNT(*) FROM rewards WHERE status IN ('queued', 'sending')")[0][0]
            pending = journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'")[0][0]
            return busy == 0 and pending == 0

        serve.wait_until(settled, timeout=120, every=0.5)
        rows = sql("SELECT id, idempotency_key, status FROM rewards")
        keys = Counter(key for _, key, _ in rows)
        assert all(n == 1 for n in keys.values()), "a command was given twice"
        by_trigger = {key.removeprefix("command:"): (rid, st) for rid, key, st in rows}
        lost = [c.index for c in todo if c.index in acked and c.trigger not in by_trigger]
        assert lost == [], f"acknowledged but never given: {lost}"
        assert Counter(st for _, _, st in rows) == {"sent": len(rows)}  # none in doubt
        assert serve.sends() == []  # Xoxoday's sendBalance is never asked

        # One lot per reward (each has one recipient), its points, to its recipient.
        lots = sql(
            "SELECT l.reward_id, m.slack_user_id, l.cents, l.remaining FROM point_lots l "
            "JOIN members m ON m.id = l.member_id"
        )
        assert Counter(rid for rid, _, _, _ in lots) == {rid: 1 for rid, _, _ in rows}
        given = {c.trigger: c for c in todo}
        owner = {rid: given[t].recipient for t, (rid, _) in by_trigger.items()}
        assert all(
            uid == owner[rid] and cents == remaining == 500 for rid, uid, cents, remaining in lots
        )
        credited = sql("SELECT subject_id FROM audit_events WHERE action = 'points.credited'")
        assert len(credited) == len(rows) == len(set(credited))
        # Every giver whose command was acknowledged heard how it ended.
        for c in todo:
            if c.index in acked:
                said = [message_text(r["body"]) for r in fake.responses(c.response_key)]
                assert said or serve.dm_texts(c.giver), f"the giver of {c.index} was never told"
        print(
            f"\n[{backend}] reward burst: {len(todo)} commands, {len(acked)} acknowledged before "
            f"the kill ({at_kill.get('sent', 0)} credited and {at_kill.get('queued', 0)} queued "
            f"then, {unfinished} requests unfinished); killed again resuming them "
            f"({at_second.get('sent', 0)} credited, {at_second.get('queued', 0)} queued, "
            f"{still} unfinished); {len(rows)} rewards in the end "
            f"({len(rows) - len(acked)} recorded but not acknowledged), {len(lots)} lots, "
            "none in doubt"
        )
        assert "Traceback" not in serve.logs()


# ── a cancel, then a refund ────────────────────────────────────────────────────────────────


def cancel_reward_of(shop: Shop, user_id: str) -> str:
    """The admin cancels the (one) reward of `user_id`; the answer they get."""
    ((short,),) = shop.sql(
        "SELECT r.short_id FROM rewards r JOIN point_lots l ON l.reward_id = r.id "
        f"JOIN members m ON m.id = l.member_id WHERE m.slack_user_id = '{user_id}'"
    )
    serve = shop.serve
    assert (
        serve.driver.command(f"cancel {short} given by mistake", user_id=ADMIN).status_code == 200
    )
    return answer_cancel(serve.fake, serve.driver, ADMIN, timeout=30)


def test_a_refund_after_a_cancel_does_not_give_back_points_of_the_cancelled_reward(
    shop: Shop,
) -> None:
    """MARIA spends 60 of a 100-point reward; the reward is cancelled (the 40 left are taken
    back, the 60 spent stay spent); then the order is refunded. Those 60 were the cancelled
    reward's: they go back to the company, not to MARIA's balance."""
    token = shop.token(MARIA)
    auth = {"unique_id": MARIA, "auth_token": token}
    assert (
        shop.call("redeem", {**auth, "order_id": "C-1", "total_points_redeemed": 60}).json()[
            "status"
        ]
        == "1"
    )
    summary = cancel_reward_of(shop, MARIA)
    assert "took back the 40 points left unspent" in summary
    balance = shop.call("balance", auth).json()["points_info"]
    assert balance["points_available"] == "0"
    refund = shop.call("refund", {**auth, "order_id": "C-1", "redemption_amount": 60}).json()
    assert refund["status"] == "1"  # Xoxoday's refund is taken…
    assert refund["data"]["points"] == "0"  # …and the points stay with the company
    assert shop.call("balance", auth).json()["points_info"]["points_available"] == "0"
    shop.assert_books_balance(MARIA, token)
    assert (
        shop.call("redeem", {**auth, "order_id": "C-2", "total_points_redeemed": 1}).json()[
            "status"
        ]
        == "0"
    )


# ── who may spend, and what a request may hold ─────────────────────────────────────────────


def test_only_the_persons_own_live_token_spends_their_points(shop: Shop) -> None:
    maria, bob = shop.token(MARIA), shop.token(BOB)
    expired = shop.token(MARIA, hours=-1)
    link = shop.token(MARIA, kind=SecretKind.REDEEM_LINK)  # a Redeem link is no auth token
    order = {"order_id": "WHO-1", "total_points_redeemed": 5}
    assert (
        shop.call("redeem", {"unique_id": MARIA, "auth_token": maria, **order}).json()["status"]
        == "1"
    )
    before = shop.ledger_fingerprint()
    tokens: list[Any] = [
        bob,
        expired,
        link,
        "forged",
        maria + "x",
        maria.upper(),
        f" {maria} ",
        maria + "\x00",
        "\ud800",
        "x" * 201,
        "x" * 60_000,
        "",
        None,
        5,
        True,
        [maria],
        {"$ne": ""},
    ]
    people: list[Any] = [
        MARIA,
        BOB,
        MARIA.lower(),
        "*",
        "%",
        "UMARIA01' OR '1'='1",
        0,
        True,
        [MARIA],
        {"id": MARIA},
    ]
    wrong = []
    for token in tokens:
        for uid in people:
            if (token, uid) in ((maria, MARIA), (bob, BOB)):
                continue
            auth = {"unique_id": uid, "auth_token": token}
            for endpoint, body in (
                ("balance", auth),
                ("redeem", {**auth, "order_id": "WHO-2", "total_points_redeemed": 1}),
                ("refund", {**auth, "order_id": "WHO-1", "redemption_amount": 1}),
            ):
                response = shop.call(endpoint, body)
                if response.status_code not in (400, 401) or response.json()["status"] != "0":
                    wrong.append((endpoint, repr(token)[:20], uid, response.status_code))
    for key in [
        "wrong",
        API_KEY + "x",
        API_KEY[:-1],
        f" {API_KEY}",
        "\ud800",
        "",
        None,
        1,
        [API_KEY],
    ]:
        response = shop.call("profile", {"api_key": key, "employee_id": MARIA})
        if response.status_code != 401 or response.json()["status"] != "0":
            wrong.append(("profile", repr(key)[:20], MARIA, response.status_code))
    # BOB's own token, on MARIA's order: not his order.
    bob_auth = {"unique_id": BOB, "auth_token": bob}
    theirs = shop.call("refund", {**bob_auth, "order_id": "WHO-1", "redemption_amount": 1}).json()
    assert theirs["status"] == "0" and "no order WHO-1" in theirs["message"]
    same_id = shop.call("redeem", {**bob_auth, **order}).json()
    assert same_id["status"] == "0"
    assert wrong == [], wrong
    assert shop.ledger_fingerprint() == before
    # Revoked: every secret of MARIA ends for spending; Xoxoday may still refund the order a
    # revoked token paid for (points only come back), and nothing else.
    shop.revoke(MARIA)
    for endpoint, body in (
        ("balance", {"unique_id": MARIA, "auth_token": maria}),
        ("redeem", {"unique_id": MARIA, "auth_token": maria, **order, "order_id": "WHO-3"}),
        ("refund", {"unique_id": MARIA, "auth_token": bob, **order, "redemption_amount": 1}),
    ):
        assert shop.call(endpoint, body).status_code == 401
    assert shop.ledger_fingerprint() == before
    refund = {"unique_id": MARIA, "auth_token": maria, **order, "redemption_amount": 1}
    assert shop.call("refund", refund).json()["status"] == "1"
    calm_log(shop.serve, maria, bob, link)


def test_a_refund_may_come_after_its_token_expired_but_only_for_the_order_it_paid(
    shop: Shop,
) -> None:
    short = shop.token(MARIA, hours=2 / 3600)  # two seconds
    other = shop.token(MARIA)
    auth = {"unique_id": MARIA, "auth_token": short}
    for order in ("LATE-1", "LATE-2"):
        body = {**auth, "order_id": order, "total_points_redeemed": 10}
        assert shop.call("redeem", body).json()["status"] == "1"
    body = {"unique_id": MARIA, "auth_token": other, "order_id": "LATE-3"}
    assert shop.call("redeem", {**body, "total_points_redeemed": 10}).json()["status"] == "1"
    shop.serve.wait_until(lambda: shop.call("balance", auth).status_code == 401, timeout=10)
    refund = {**auth, "redemption_amount": 10}
    assert shop.call("refund", {**refund, "order_id": "LATE-1"}).json()["status"] == "1"
    assert (
        shop.call("redeem", {**auth, "order_id": "LATE-4", "total_points_redeemed": 1}).status_code
        == 401
    )
    assert shop.call("refund", {**refund, "order_id": "LATE-3"}).status_code == 401
    assert shop.orders()["LATE-3"] == (MARIA, 1000, 0)
    assert shop.assert_books_balance(MARIA, other) == 8000


@pytest.mark.parametrize("backend", DATABASES)
def test_ids_comments_and_order_details_of_any_shape_never_break_the_ledger(
    make_shop: Callable[..., Shop], backend: str
) -> None:
    shop = make_shop(backend)
    shop.give([MARIA], 100)
    token = shop.token(MARIA)
    auth = {"unique_id": MARIA, "auth_token": token}
    bad_ids: list[Any] = [
        "",
        " ",
        "a b",
        "x" * 101,
        "ünïcødé",
        "\u202eevil",
        "tab\there",
        "nl\nhere",
        "nul\x00",
        "\ud800",
        True,
        1.5,
        [],
        {"id": 1},
        None,
    ]
    before = shop.ledger_fingerprint()
    for n, order_id in enumerate(bad_ids):
        body = {**auth, "order_id": order_id, "total_points_redeemed": 1 + n}
        response = shop.call("redeem", body)
        assert response.status_code == 400 and response.json()["status"] == "0", order_id
        refund = {**auth, "order_id": order_id, "redemption_amount": 1}
        assert shop.call("refund", refund).status_code == 400, order_id
    assert shop.ledger_fingerprint() == before
    weird = "\x00\x07\u202e\ud800<!channel> `x` *b* \U0001f4a9" * 20
    details = {
        "comments": weird + "x" * 20_000,
        "order_date": [weird],
        "orderData": [
            {
                "product": {"name": weird, "productId": {"a": [1, None]}, "category": None},
                "quantity": 1e308,
                "orderAmount": "NaN",
            },
            {"product": weird},
            "not an item",
            None,
            *[{"product": {"name": f"p{i}"}} for i in range(30)],
        ],
    }
    body = {**auth, "order_id": 12345, "total_points_redeemed": "5", **details}
    ok = shop.call("redeem", body)
    assert ok.status_code == 200 and ok.json()["status"] == "1", ok.text
    assert shop.call("redeem", {**body, "order_id": "12345"}).json() == ok.json()  # the same id
    refund = {**auth, "order_id": 12345, "redemption_amount": "5", "comments": weird * 10}
    assert shop.call("refund", refund).json()["status"] == "1"
    ((comments,),) = shop.sql("SELECT comments FROM point_refunds")
    assert len(comments) <= 500 and "\x00" not in comments and "\u202e" not in comments
    huge = {**body, "order_id": "HUGE", "comments": "x" * 70_000}
    assert shop.call("redeem", huge).status_code == 413
    shop.assert_books_balance(MARIA, token)
    verified = shop.serve.run_once("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    calm_log(shop.serve, token)
