"""Reading a JSON request body for the routes that are not Slack's (the StoreFront endpoints,
Xoxoday's webhook): at most `limit` bytes, however the sender declares its length, and JSON or
nothing (a body nested too deep for the parser is not JSON either)."""

from __future__ import annotations

import json

from starlette.requests import Request


class BodyProblem(Exception):
    """413: the body is larger than allowed; 400: it is not JSON."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def read_json(request: Request, *, limit: int) -> object:
    """The parsed body (None when empty); BodyProblem when it is too large or not JSON."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyProblem(413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyProblem(413)
    try:
        return json.loads(bytes(body) or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BodyProblem(400) from None
