"""`POST /webhooks/plum`: the delivery updates Xoxoday posts for gift cards and donations (the
URL and `x-api-key` set in its dashboard), handled by `bot.rewards.order_updates`.

- Served only when PLUM_WEBHOOK_API_KEY is set; otherwise the route does not exist (404).
- `x-api-key` missing or wrong: 401, nothing kept. Compared in constant time.
- Bodies over 64 KiB: 413; not JSON, or not an update (no event id, no order named): 400.
- The update is kept and applied in one transaction, then answered 200 at once; people are
  told afterwards on a small executor of its own. The same event id again: 200, nothing done.
  An order this bot did not place: kept (`matched=False`), 200. A ledger that can't take it:
  503 (Xoxoday tries again). Never a 500.
"""

from __future__ import annotations

import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.json_body import BodyProblem, read_json
from bot.rewards.order_updates import BadUpdate, OrderUpdates, Received

log = logging.getLogger(__name__)

PATH = "/webhooks/plum"
MAX_BODY_BYTES = 64 * 1024
API_KEY_HEADER = "x-api-key"


@dataclass
class PlumWebhookWeb:
    service: OrderUpdates
    api_key: str
    # Telling people after the answer: one thread, so a burst of updates can't crowd out the
    # threads that answer Slack.
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="plum-hook")
    )

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("the webhook needs an api key")

    def routes(self) -> list[Route]:
        return [Route(PATH, self._post, methods=["POST"])]

    def stop(self) -> None:
        self.executor.shutdown(wait=True)

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get(API_KEY_HEADER)
        if given is None:
            return False
        return hmac.compare_digest(given.encode(), self.api_key.encode())

    async def _post(self, request: Request) -> Response:
        if not self._authorised(request):
            log.warning("plum webhook: a call without the right x-api-key was refused")
            return _answer("unauthorised", 401)
        try:
            parsed = await read_json(request, limit=MAX_BODY_BYTES)
        except BodyProblem as problem:
            if problem.status == 413:
                return _answer("too large", 413)
            return _answer("the body must be JSON", 400)
        try:
            received: Received = await run_in_threadpool(self.service.receive, parsed)
        except BadUpdate as bad:
            return _answer(str(bad), 400)
        except Exception as err:
            log.error("plum webhook could not be kept (%s)", type(err).__name__)
            return _answer("try again later", 503)
        try:
            self.executor.submit(self.service.after, received)
        except RuntimeError:  # shutting down: the poll catches up
            log.warning("plum webhook %s: kept, but nobody told (stopping)", received.event_id)
        return JSONResponse(
            {"ok": True, "duplicate": received.duplicate, "matched": received.matched}
        )


def _answer(error: str, status: int) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error}, status_code=status)
