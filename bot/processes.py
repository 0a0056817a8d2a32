"""Which process did a piece of work: `host:pid`, and whether that process is gone.

Work a process claims (a reward being sent, a Slack request being handled) carries its
`worker_id`. When several processes share PostgreSQL, a starting process must not take over
another live process's work, so such work is taken over only once it has been left alone for a
while; but work claimed by a process of this same host that no longer runs (this process's
previous life after a crash, or a killed sibling) is known to be abandoned at once.
"""

from __future__ import annotations

import os
import socket
import time

STARTED = time.time()  # when this process started (close enough: when this module loaded)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def is_gone(claimed_by: str | None, *, claimed_at: float | None = None) -> bool:
    """True when `claimed_by` names a process of this host that is not running any more, or
    this very process before it (re)started (same pid reused, claimed before `STARTED`)."""
    host, _, pid_text = (claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return claimed_at is not None and claimed_at < STARTED
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
