"""A TokenStore in a JSON file, for a bot without a database store.

Writes are atomic (temporary file in the same directory, fsync, rename, fsync of the
directory) and the file is readable by its owner only (0600). `refresh_lock()` takes an
exclusive `fcntl` lock on a sibling `.lock` file, so only one process refreshes at a time;
a thread lock makes it exclusive between threads of one process too.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.plum.tokens import TokenSet

_FLOWS = ("client_credentials", "user", "company")


class FileTokenStore:
    def __init__(self, *, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.RLock()

    def __repr__(self) -> str:
        return f"FileTokenStore(path={str(self.path)!r})"

    def load(self) -> TokenSet | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return _decode(json.loads(text))
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(
                f"{self.path} is not a valid Plum token file ({type(err).__name__}); "
                "delete it to start again from the PLUM_* settings"
            ) from None

    def save(self, tokens: TokenSet) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(_encode(tokens), indent=2).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.path.parent)

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._thread_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def _encode(tokens: TokenSet) -> dict[str, Any]:
    return {
        "flow": tokens.flow,
        "access_token": tokens.access_token,
        "access_expires_at": _iso(tokens.access_expires_at),
        "refresh_token": tokens.refresh_token,
        "refresh_expires_at": _iso(tokens.refresh_expires_at),
    }


def _decode(obj: dict[str, Any]) -> TokenSet:
    flow = obj.get("flow", "client_credentials")
    if flow not in _FLOWS:
        raise ValueError(f"unknown flow {flow!r}")
    return TokenSet(
        access_token=str(obj["access_token"]),
        access_expires_at=_dt(obj.get("access_expires_at")),
        refresh_token=obj.get("refresh_token") or None,
        refresh_expires_at=_dt(obj.get("refresh_expires_at")),
        flow=flow,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _fsync_dir(path: Path) -> None:
    with suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
