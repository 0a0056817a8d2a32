"""FileTokenStore: durable, private, and one refresher at a time across processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from bot.plum import FileTokenStore, TokenSet

TOKENS = TokenSet(
    access_token="ACCESS-SECRET",
    access_expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    refresh_token="REFRESH-SECRET",
    refresh_expires_at=datetime(2030, 2, 1, tzinfo=UTC),
    flow="company",
)


def test_round_trip_and_private_permissions(tmp_path):
    store = FileTokenStore(path=tmp_path / "t.json")
    assert store.load() is None
    store.save(TOKENS)
    assert store.load() == TOKENS
    mode = stat.S_IMODE(os.stat(tmp_path / "t.json").st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == ["t.json"]


def test_repr_shows_no_secret(tmp_path):
    store = FileTokenStore(path=tmp_path / "t.json")
    store.save(TOKENS)
    assert "SECRET" not in repr(store) and "SECRET" not in repr(store.load())


def test_corrupt_file_says_what_to_do(tmp_path):
    (tmp_path / "t.json").write_text("{not json")
    with pytest.raises(ValueError, match="delete it"):
        FileTokenStore(path=tmp_path / "t.json").load()


def test_overwrite_is_atomic_replace(tmp_path):
    path = tmp_path / "t.json"
    store = FileTokenStore(path=path)
    store.save(TOKENS)
    inode = os.stat(path).st_ino
    store.save(TokenSet(access_token="NEW", access_expires_at=None))
    assert store.load().access_token == "NEW"
    assert os.stat(path).st_ino != inode  # a new file renamed over the old one


def test_refresh_lock_excludes_another_process(tmp_path):
    store = FileTokenStore(path=tmp_path / "t.json")
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    print('free')\n"
        "except BlockingIOError:\n"
        "    print('held')\n"
    )
    lock_file = str(tmp_path / "t.json.lock")

    def other_process() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe, lock_file], capture_output=True, text=True, check=True
        ).stdout.strip()

    with store.refresh_lock():
        assert other_process() == "held"
    assert other_process() == "free"


def test_refresh_lock_excludes_other_threads(tmp_path):
    store = FileTokenStore(path=tmp_path / "t.json")
    inside = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(20):
            with store.refresh_lock():
                with lock:
                    inside += 1
                    most = max(most, inside)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert most == 1
