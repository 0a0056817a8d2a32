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
from collections.abc import Callable, Iterator
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
from tests.attacks.conftest import Query, on_database
from tests.attacks.serve_process import ServeProcess
from tests.attacks.test_crash_recovery import PEOPLE as CRASH_PEOPLE
from tests.e2e.harness import ADMIN, BOB, MARIA

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
    """The bot on SQLite; MARIA has 100 points, BOB 50."""
    s = make_shop()
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
