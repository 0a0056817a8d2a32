"""The playground's embedded sandbox posts Xoxoday's delivery webhook to the bot it serves
(under /bot), with the sandbox's key."""

from __future__ import annotations

import httpx

from bot.simulators.embedded import WEBHOOK_API_KEY as SANDBOX_WEBHOOK_API_KEY
from bot.simulators.playground.server import Playground


def test_the_sandbox_posts_deliveries_to_the_playgrounds_bot(playground: Playground) -> None:
    sandbox = playground.sandbox
    assert sandbox is not None
    target = sandbox.webhooks.target
    assert target is not None and target.url == playground.url + "bot/webhooks/plum"
    body = {"id": "evt_1", "data": {"poNumber": "PO-ELSEWHERE", "deliveryStatus": "delivered"}}
    answer = httpx.post(
        target.url, json=body, headers={"x-api-key": SANDBOX_WEBHOOK_API_KEY}, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["matched"] is False
