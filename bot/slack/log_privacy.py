"""Keep what the bot sends Slack out of its logs.

slack_sdk logs every Web API request and response in full at DEBUG (`rewardbot -v`): bodies
that can carry a gift card's code (the Reveal window), a reward link or a store link. This
filter cuts those lines down to the method and the status, so a log at DEBUG holds no secret.
"""

from __future__ import annotations

import logging
import re

_API_REQUEST = re.compile(r"^Sending a request - url: (\S+/api/[\w.]+)", re.S)
_RESPONSE = re.compile(r"^Received the following response - status: (\d+)", re.S)
_ANY_BODY = re.compile(r"^(Sending a request|Received the following response)", re.S)
LOGGERS = (
    "slack_sdk.web.base_client",
    "slack_sdk.webhook.client",
    "slack_sdk.webhook.internal_utils",
)


class DropBodies(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if not _ANY_BODY.match(text):
            return True
        api = _API_REQUEST.match(text)
        status = _RESPONSE.match(text)
        if api:
            shown = f"Sending a request to {api.group(1).rsplit('/', 1)[-1]} (body not logged)"
        elif status:
            shown = f"Received a response, status {status.group(1)} (body not logged)"
        else:
            shown = "Sending a request to a response_url (body not logged)"
        record.msg, record.args = shown, None
        return True


def install() -> None:
    """Once per process; safe to call again."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropBodies) for f in logger.filters):
            logger.addFilter(DropBodies())
