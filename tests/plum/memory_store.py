"""An in-memory TokenStore for tests, recording what was saved."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.plum.tokens import TokenSet


class MemoryStore:
    def __init__(self, tokens: TokenSet | None = None) -> None:
        self.tokens = tokens
        self.saved: list[TokenSet] = []
        self.fail_saves = 0  # the next N saves raise OSError
        self._lock = threading.RLock()

    def load(self) -> TokenSet | None:
        return self.tokens

    def save(self, tokens: TokenSet) -> None:
        if self.fail_saves:
            self.fail_saves -= 1
            raise OSError("disk full")
        self.tokens = tokens
        self.saved.append(tokens)

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._lock:
            yield
