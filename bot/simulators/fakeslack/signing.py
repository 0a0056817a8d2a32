"""Sign a request body the way Slack signs what it sends to an app (signing secret, v0)."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign_request(
    *, signing_secret: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers for `body`.

    Signature = "v0=" + hex HMAC-SHA256(secret, b"v0:<timestamp>:" + body). `timestamp`
    defaults to now (an old one makes a stale request for replay tests).
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    base = b"v0:" + str(ts).encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}
