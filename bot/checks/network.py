"""Why a connection failed, in a few words, for the checks' lines (Slack's, Xoxoday's)."""

from __future__ import annotations

import socket
import ssl


def network_cause(err: BaseException) -> str:
    """Why a connection failed, in a few words (DNS, refused, TLS), from the exception chain."""
    chain: list[BaseException] = []
    item: BaseException | None = err
    while item is not None and item not in chain:
        chain.append(item)
        reason = getattr(item, "reason", None)  # urllib's URLError keeps the cause here
        item = item.__cause__ or item.__context__
        if item is None and isinstance(reason, BaseException):
            item = reason
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        w in text for w in ("name or service not known", "name resolution", "nodename nor")
    ):
        return "its name does not resolve"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return "connection refused"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text or "certificate" in text:
        return "the TLS handshake failed"
    if "unreachable" in text or "no route to host" in text:
        return "no route to it"
    if any(isinstance(e, TimeoutError) for e in chain) or "timed out" in text:
        return "no answer in time"
    transport = next((e for e in chain if type(e).__module__.startswith("httpx")), err)
    return type(transport).__name__
