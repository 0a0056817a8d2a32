"""Points in the bot (REWARD_POINT_SYSTEM=storefront), end to end over signed HTTP: a reward is
credited in the ledger (Xoxoday's sendBalance is never called), the recipient's DM and App Home
carry Redeem, `/reward balance` reads the ledger, Xoxoday's store reads and debits the balance
through the four endpoints (shapes, auth, idempotency, refunds, 50 debits at once), a cancel takes
back only what is unspent, and a database of one point system refuses to start in the other."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.settings import ConfigError, load_settings
from bot.startup import start_bot
from storage import members as member_repo
from storage import storefront_secrets as secrets_repo
from storage.models import AuditEvent, PointLot
from storage.states import SecretKind
from tests.e2e.harness import (
    ADMIN,
    BOB,
    MARIA,
    BotHarness,
    actions_in,
    answer_cancel,
    message_text,
)

API_KEY = "test-storefront-api-key"


@pytest.fixture
def bot(make_bot) -> BotHarness:
    return make_bot(REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY=API_KEY)


def give(bot: BotHarness, text: str, user: str = ADMIN) -> None:
    assert bot.driver.command(text, user_id=user).status_code == 200


def token_for(bot: BotHarness, user_id: str, *, hours: float = 1) -> str:
    """An auth token as the bot mints one when it prepares a store visit."""
    with bot.runtime.store.session() as session:
        member = member_repo.get_member_by_slack_id(
            session, slack_user_id=user_id
        ) or member_repo.upsert_member(session, team_id="T0ACME", slack_user_id=user_id)
        assert member.id is not None
        return secrets_repo.mint(
            session,
            member_id=member.id,
            kind=SecretKind.AUTH_TOKEN,
            lifetime=timedelta(hours=hours),
        ).raw


def call(bot: BotHarness, endpoint: str, body: Any, **kw: Any) -> httpx.Response:
    return httpx.post(f"{bot.url}/storefront/{endpoint}", json=body, timeout=10, **kw)


def rewarded(bot: BotHarness, points: int = 100) -> str:
    give(bot, f"<@{MARIA}> {points} shipped the release #ownership")
    bot.wait(lambda: any("Redeem" in t for t in bot.dm_texts(MARIA)) or None)
    return token_for(bot, MARIA)


def test_a_reward_is_credited_in_the_ledger_and_redeem_is_offered(bot: BotHarness) -> None:
    rewarded(bot)
    told = bot.wait(lambda: [t for t in bot.replies_to(ADMIN) if "Sending *100 points*" in t])
    assert told[0].endswith("I'll DM you once they have them.")  # nothing waits for Xoxoday
    assert "Xoxoday" not in told[0]
    assert not [r for r in bot.sandbox.requests if "sendBalance" in str(r)]  # no sendBalance
    dm = next(m for m in bot.fake.dms_to(MARIA) if "sent you" in message_text(m))
    assert "Press *Redeem*" in message_text(dm)
    assert "points_redeem" in actions_in(dm)
    with bot.runtime.store.read_session() as session:
        lots = session.exec(select(PointLot)).all()
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert [(lot.cents, lot.remaining) for lot in lots] == [(10000, 10000)]
    assert "points.credited" in actions
    bot.driver.command("balance", user_id=MARIA)
    reply = bot.wait(lambda: bot.replies_to(MARIA) or None)[-1]
    assert "You have *100 points* to spend" in reply
    bot.driver.app_home_opened(user_id=MARIA)
    home = bot.wait(lambda: bot.fake.home(MARIA))
    assert "points_redeem" in actions_in(home)


def test_the_four_endpoints_answer_in_both_shapes(bot: BotHarness) -> None:
    token = rewarded(bot)
    auth = {"unique_id": MARIA, "auth_token": token}
    answer = call(bot, "balance", auth).json()
    assert answer["status"] == "1"
    assert answer["points_info"] == {
        "points_received": "100",
        "points_redeemed": "0",
        "points_available": "100",
    }
    assert answer["data"] == {"unique_id": MARIA, "points": "100"}
    profile = call(bot, "profile", {"api_key": API_KEY, "employee_id": MARIA}).json()
    assert profile["status"] == 1
    assert profile["employee_data"]["employee_id"] == MARIA
    assert "@" in profile["employee_data"]["company_email_id"]
    assert profile["user_data"]["points"] == "100"
    order = {
        **auth,
        "total_points_redeemed": "34.85",
        "total_points_added": None,
        "order_id": "XO-1",
        "comments": "",
        "order_date": 1764590000,
        "orderData": [
            {
                "quantity": 1,
                "orderAmount": 34.85,
                "product": {"productId": "7", "name": "Coffee", "category": "giftcard"},
            }
        ],
    }
    first = call(bot, "redeem", order)
    assert first.status_code == 200
    assert first.json() == {
        "status": "1",
        "message": "Successfully updated",
        "data": {"order_id": "XO-1", "points": "65.15"},
    }
    assert call(bot, "redeem", order).json() == first.json()  # a repeat debits once
    other = call(bot, "redeem", {**order, "total_points_redeemed": "35"}).json()
    assert other["status"] == "0" and "different amount" in other["message"]
    short = call(bot, "redeem", {**order, "order_id": "XO-2", "total_points_redeemed": 66}).json()
    assert short == {
        "status": "0",
        "message": "Not enough points: 65.15 available, the order needs 66.",
    }
    refund = {**auth, "transactionid": "XO-1", "redemption_amount": "10", "comments": "partly"}
    back = call(bot, "refund", refund).json()
    assert back["status"] == "1" and back["data"]["points"] == "75.15"
    assert call(bot, "refund", refund).json() == back  # the same refund, once
    too_much = call(bot, "refund", {**refund, "order_id": "XO-1", "redemption_amount": "25"})
    assert too_much.json()["status"] == "0" and "more than order XO-1" in too_much.json()["message"]
    balance = call(bot, "balance", auth).json()
    assert balance["points_info"] == {
        "points_received": "100",
        "points_redeemed": "24.85",
        "points_available": "75.15",
    }
    bot.driver.command("balance", user_id=MARIA)
    reply = bot.wait(lambda: [t for t in bot.replies_to(MARIA) if "75.15" in t] or None)
    assert "You have *75.15 points* to spend" in reply[-1]


def test_unauthenticated_and_bad_calls_change_nothing(bot: BotHarness) -> None:
    token = rewarded(bot)
    bob_token = token_for(bot, BOB)
    order = {"total_points_redeemed": "5", "order_id": "XO-9"}
    cases = [
        (call(bot, "balance", {"unique_id": MARIA, "auth_token": "nope"}), 401),
        (call(bot, "balance", {"unique_id": MARIA}), 401),
        (call(bot, "redeem", {"unique_id": MARIA, "auth_token": bob_token, **order}), 401),
        (call(bot, "redeem", {"unique_id": BOB, "auth_token": token, **order}), 401),
        (call(bot, "profile", {"api_key": "wrong", "employee_id": MARIA}), 401),
        (call(bot, "profile", {"employee_id": MARIA}), 401),
        (call(bot, "redeem", {"unique_id": MARIA, "auth_token": token, "order_id": "X"}), 400),
        (
            call(
                bot,
                "redeem",
                {"unique_id": MARIA, "auth_token": token, **order, "total_points_redeemed": -5},
            ),
            400,
        ),
        (
            call(
                bot,
                "redeem",
                {
                    "unique_id": MARIA,
                    "auth_token": token,
                    **order,
                    "total_points_redeemed": "1.001",
                },
            ),
            400,
        ),
        (call(bot, "redeem", [1, 2]), 400),
        (
            httpx.post(
                f"{bot.url}/storefront/redeem",
                content=b"{not json",
                headers={"content-type": "application/json"},
            ),
            400,
        ),
        (
            httpx.post(
                f"{bot.url}/storefront/redeem",
                content=b"{" + b" " * 70_000 + b"}",
                headers={"content-type": "application/json"},
            ),
            413,
        ),
        (call(bot, "nothing-here", {}), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.json()["status"] == "0" and response.json()["message"]
    with bot.runtime.store.session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=MARIA)
        assert member is not None and member.id is not None
        secrets_repo.revoke(session, member_id=member.id, actor=ADMIN)
    assert call(bot, "balance", {"unique_id": MARIA, "auth_token": token}).status_code == 401
    fresh = token_for(bot, MARIA)
    assert call(bot, "balance", {"unique_id": MARIA, "auth_token": fresh}).json()["data"] == {
        "unique_id": MARIA,
        "points": "100",
    }


def test_an_address_outside_the_allow_list_is_refused(make_bot) -> None:
    bot = make_bot(
        REWARD_POINT_SYSTEM="storefront",
        STOREFRONT_API_KEY=API_KEY,
        STOREFRONT_ALLOWED_IPS="xoxoday-production",
    )
    answer = call(bot, "profile", {"api_key": API_KEY, "employee_id": MARIA})
    assert answer.status_code == 403 and answer.json()["status"] == "0"


def test_fifty_debits_at_once_over_http_never_overdraw(bot: BotHarness) -> None:
    token = rewarded(bot)
    start = threading.Barrier(50)
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        body = {
            "unique_id": MARIA,
            "auth_token": token,
            "total_points_redeemed": "7",
            "order_id": f"XO-{n}",
        }
        start.wait()
        got = call(bot, "redeem", body).json()
        with lock:
            answers.append(got)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(a["status"] == "1" for a in answers) == 14
    assert all(a["status"] == "0" for a in answers if a["status"] != "1")
    left = call(bot, "balance", {"unique_id": MARIA, "auth_token": token}).json()
    assert left["data"]["points"] == "2"


def test_a_cancel_takes_back_only_the_unspent_points(bot: BotHarness) -> None:
    token = rewarded(bot)
    spend = {"unique_id": MARIA, "auth_token": token, "total_points_redeemed": 40, "order_id": "A1"}
    assert call(bot, "redeem", spend).json()["status"] == "1"
    with bot.runtime.store.read_session() as session:
        lot = session.exec(select(PointLot)).one()
        assert lot.reward_id is not None
        from storage import rewards as reward_repo

        short = reward_repo.details_by_id(session, lot.reward_id).short_id
    before = len(bot.fake.ephemerals(ADMIN, source="response_url"))
    bot.driver.command(f"cancel {short} sent by mistake", user_id=ADMIN)
    question = bot.wait(lambda: bot.fake.ephemerals(ADMIN, source="response_url")[before:])[0]
    assert "take back what is left" in message_text(question)
    summary = answer_cancel(bot.fake, bot.driver, ADMIN)
    assert "took back the 60 points left unspent" in summary
    assert "keeps 40 points: already spent in Xoxoday's store" in summary
    after = call(bot, "balance", {"unique_id": MARIA, "auth_token": token}).json()
    assert after["points_info"]["points_available"] == "0"


def test_a_database_keeps_its_point_system(bot: BotHarness, tmp_path) -> None:
    rewarded(bot)
    settings = load_settings(**{**bot.settings.model_dump(), "REWARD_POINT_SYSTEM": "plum"})
    with pytest.raises(ConfigError) as err:
        start_bot(settings)
    line = str(err.value)
    assert line.startswith("REWARD_POINT_SYSTEM: this database holds 1 reward(s)")
    assert "in the bot (storefront)" in line and "REWARD_POINT_SYSTEM=storefront" in line


def store_link(bot: BotHarness, message: dict[str, Any], user: str = MARIA) -> str:
    """Click Redeem in `message`; the modal's "Open the store" link."""
    bot.driver.block_action(user_id=user, action_id="points_redeem", message=message, value="{}")

    def ready() -> str | None:
        for entry in reversed(bot.fake.views):
            for block in entry["view"].get("blocks", []):
                for element in block.get("elements", []):
                    if element.get("action_id") == "store_open":
                        return element["url"]
        return None

    return bot.wait(ready)


def test_redeem_opens_the_store_which_spends_and_refunds_from_the_ledger(
    bot: BotHarness,
) -> None:
    bot.sandbox.connect_storefront(f"{bot.url}/storefront", API_KEY)
    rewarded(bot, 500 - 1)  # under the approval threshold
    dm = next(m for m in bot.fake.dms_to(MARIA) if "sent you" in message_text(m))
    url = store_link(bot, dm)
    assert "/chef/v1/oauth/redirect/stores/" in url
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        page = browser.get(url)
        assert "Maria" in page.text and "499" in page.text  # profile and balance asked
        bought = browser.post(f"{url}/buy", data={"offer": "10001-348.5"})
        assert "Successfully updated" in bought.text
        bot.driver.command("balance", user_id=MARIA)
        reply = bot.wait(lambda: [t for t in bot.replies_to(MARIA) if "150.5" in t] or None)
        assert "You have *150.5 points* to spend" in reply[-1]
        order_id = bought.url.path.rsplit("/", 1)[-1]
        refunded = browser.post(f"{url}/orders/{order_id}/refund", data={"amount": "348.5"})
        assert "Successfully updated" in refunded.text
    bot.driver.command("balance", user_id=MARIA)
    reply = bot.wait(lambda: [t for t in bot.replies_to(MARIA) if "499 points" in t] or None)
    assert "to spend" in reply[-1]


def test_with_a_public_address_the_button_opens_a_single_use_link(make_bot) -> None:
    bot = make_bot(
        REWARD_POINT_SYSTEM="storefront",
        STOREFRONT_API_KEY=API_KEY,
        PUBLIC_URL="https://rewards.example.com",
    )
    bot.sandbox.connect_storefront(f"{bot.url}/storefront", API_KEY)
    rewarded(bot)
    dm = next(m for m in bot.fake.dms_to(MARIA) if "sent you" in message_text(m))
    button = next(
        e
        for b in dm["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "points_redeem"
    )
    assert button["url"].startswith("https://rewards.example.com/storefront/go/")
    local = bot.url + button["url"].removeprefix("https://rewards.example.com")
    first = httpx.get(local, timeout=10)
    assert (
        first.status_code == 303 and "/chef/v1/oauth/redirect/stores/" in first.headers["location"]
    )
    again = httpx.get(local, timeout=10)
    assert again.status_code == 410 and "press Redeem again" in again.text
    assert httpx.get(bot.url + "/storefront/go/forged", timeout=10).status_code == 410
    views = len(bot.fake.views)
    bot.driver.block_action(user_id=MARIA, action_id="points_redeem", message=dm)
    fresh = bot.wait(lambda: [v for v in bot.fake.views[views:] if "store_open" in str(v)] or None)
    assert fresh  # the used link's click is answered with a fresh one
