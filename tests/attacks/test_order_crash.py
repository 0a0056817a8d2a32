"""SIGKILL while a gift order is being placed, then a restart: Xoxoday made the order once, the
ledger says so, and the sender hears that it was done. The bot is the real `rewardbot serve`
process; the sandbox applies the order and never answers, and the bot is killed in
that moment (the worst one: the order exists at Xoxoday, the ledger has only `requested`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.simulators.plum_sandbox import SandboxServer
from bot.slack.ids import ActionId, BlockId
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, message_text


def donate(serve: ServeProcess, fake: Any) -> None:
    before = len(fake.views)
    assert serve.driver.command("donate", user_id=ADMIN).status_code == 200
    serve.wait(lambda: [v for v in fake.views[before:] if "gift_modal" in str(v)])
    view = fake.modal_stack(ADMIN)[-1]
    charity = serve.driver.block_suggestion(
        user_id=ADMIN, action_id=str(ActionId.GIFT_PRODUCT_SELECT), value="", view=view
    )[0]
    before = len(fake.views)
    serve.driver.block_action(
        user_id=ADMIN,
        action_id=str(ActionId.GIFT_PRODUCT_SELECT),
        value={"selected_option": charity},
        view=view,
    )
    serve.wait(lambda: fake.views[before:])
    view = fake.modal_stack(ADMIN)[-1]
    values = {
        str(BlockId.GIFT_PRODUCT): {
            str(ActionId.GIFT_PRODUCT_SELECT): {
                "type": "external_select",
                "selected_option": charity,
            }
        },
        str(BlockId.GIFT_AMOUNT): {
            str(ActionId.GIFT_AMOUNT_INPUT): {"type": "plain_text_input", "value": "20"}
        },
    }
    assert serve.driver.view_submission(user_id=ADMIN, view=view, values=values).status_code == 200


def test_a_kill_mid_order_orders_once(
    make_serve: Callable[..., ServeProcess], sandbox: SandboxServer, fake: Any
) -> None:
    serve = make_serve(REWARD_APPROVAL_THRESHOLD="100000")  # 20 USD is 1,660 INR
    sandbox.faults.set("placeOrder", apply_first=True, hang=True, count=1)
    donate(serve, fake)
    serve.wait_until(lambda: len(sandbox.state.orders()) == 1, timeout=30)
    serve.wait_until(lambda: serve.sql("SELECT status FROM orders") == [("requested",)])
    serve.kill()
    sandbox.faults.clear()
    serve.restart()
    serve.wait_until(lambda: serve.sql("SELECT status FROM orders") == [("placed",)], timeout=60)
    [order] = sandbox.state.orders()
    assert serve.sql("SELECT po_number, plum_order_id FROM orders") == [
        (order.po_number, str(order.order_id))
    ]
    done = serve.wait(lambda: [t for t in serve.dm_texts(ADMIN) if "Done:" in t], timeout=30)
    assert "in the team's name" in done[0]
    assert len(sandbox.state.orders()) == 1
    assert not [m for m in fake.messages() if "Code:" in message_text(m)]
