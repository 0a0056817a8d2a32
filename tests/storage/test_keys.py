"""AUDIT_KEY / ENCRYPTION_KEY resolution and encryption at rest."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.settings import load_settings
from storage.crypto import Crypto, check_fernet_key, parse_fernet_keys
from storage.db import store_from_settings
from storage.errors import DecryptionError, KeyConfigError
from storage.keys import audit_key_for_verification, key_file_for, resolve_keys
from tests.command_line import rewardbot

PG = "postgresql+psycopg://u@db/rewards"
GOOD_AUDIT = "a-long-enough-audit-key-1234567890"


def test_sqlite_without_keys_generates_a_private_key_file_and_warns(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'rewardbot.db'}"
    with caplog.at_level(logging.WARNING, logger="storage.keys"):
        first = resolve_keys(database_url=url, audit_key=None, encryption_key=None)
    path = tmp_path / "rewardbot.db.keys"
    assert key_file_for(url) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "set AUDIT_KEY and ENCRYPTION_KEY in production" in caplog.text
    stored = json.loads(path.read_text())
    assert stored["AUDIT_KEY"] not in caplog.text and stored["ENCRYPTION_KEY"] not in caplog.text
    assert first.source == str(path)

    second = resolve_keys(database_url=url, audit_key=None, encryption_key=None)
    assert second.audit_key == first.audit_key
    assert second.encryption_keys == first.encryption_keys
    assert stored["AUDIT_KEY"] not in repr(second)


def test_environment_keys_win_and_write_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rewardbot.db'}"
    key = Fernet.generate_key().decode()
    keys = resolve_keys(database_url=url, audit_key=GOOD_AUDIT, encryption_key=key)
    assert keys.audit_key == GOOD_AUDIT.encode()
    assert keys.encryption_keys == (key,)
    assert keys.source == "environment"
    assert not (tmp_path / "rewardbot.db.keys").exists()


def test_one_key_from_the_environment_the_other_from_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rewardbot.db'}"
    keys = resolve_keys(database_url=url, audit_key=GOOD_AUDIT, encryption_key=None)
    stored = json.loads((tmp_path / "rewardbot.db.keys").read_text())
    assert keys.audit_key == GOOD_AUDIT.encode()
    assert keys.encryption_keys == (stored["ENCRYPTION_KEY"],)


@pytest.mark.parametrize(
    ("audit_key", "encryption_key", "named"),
    [(None, None, "AUDIT_KEY"), (GOOD_AUDIT, None, "ENCRYPTION_KEY"), (None, "x", "AUDIT_KEY")],
)
def test_postgresql_requires_both_keys(audit_key, encryption_key, named) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyConfigError, match=f"^{named} is required with PostgreSQL"):
        resolve_keys(database_url=PG, audit_key=audit_key, encryption_key=encryption_key)


def test_bad_keys_are_refused_with_how_to_make_one() -> None:
    with pytest.raises(KeyConfigError, match=r"ENCRYPTION_KEY must be a Fernet key.*generate_key"):
        resolve_keys(database_url=PG, audit_key=GOOD_AUDIT, encryption_key="not-a-key")
    with pytest.raises(KeyConfigError, match="AUDIT_KEY must be at least 16 characters"):
        resolve_keys(
            database_url=PG, audit_key="short", encryption_key=Fernet.generate_key().decode()
        )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["storefront", "revoke", "--everyone"], "ENCRYPTION_KEY must be a Fernet key"),
        (["audit", "verify"], "the database is behind: run `rewardbot migrate`"),
    ],
)
def test_the_command_line_says_what_to_fix_in_one_line(tmp_path: Path, args, said) -> None:  # type: ignore[no-untyped-def]
    """A key or database problem (storage's SetupError) ends the command with one line, as a
    bad setting does, never a traceback."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rewardbot.db'}",
        "AUDIT_KEY": GOOD_AUDIT,
        "ENCRYPTION_KEY": "not-a-key",
    }
    if args[0] == "audit":  # it only reads a ledger that is there: one from an older release
        from storage.migrations import upgrade

        upgrade(env["DATABASE_URL"], revision="0003")
    proc = rewardbot(args, env, tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"rewardbot: configuration error: {said}")


def test_verification_never_creates_a_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rewardbot.db'}"
    with pytest.raises(KeyConfigError, match="no key file"):
        audit_key_for_verification(database_url=url, audit_key=None)
    with pytest.raises(KeyConfigError, match="no key file"):
        resolve_keys(database_url=url, audit_key=None, encryption_key=None, create=False)
    assert not (tmp_path / "rewardbot.db.keys").exists()
    made = resolve_keys(database_url=url, audit_key=None, encryption_key=None)
    assert audit_key_for_verification(database_url=url, audit_key=None) == made.audit_key
    with pytest.raises(KeyConfigError, match="PostgreSQL"):
        audit_key_for_verification(database_url=PG, audit_key=None)


def test_in_memory_sqlite_gets_throwaway_keys() -> None:
    keys = resolve_keys(database_url="sqlite://", audit_key=None, encryption_key=None)
    assert keys.source == "memory" and len(keys.audit_key) >= 16


def test_a_key_file_others_can_read_is_reported(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'rewardbot.db'}"
    resolve_keys(database_url=url, audit_key=None, encryption_key=None)
    (tmp_path / "rewardbot.db.keys").chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="storage.keys"):
        resolve_keys(database_url=url, audit_key=None, encryption_key=None)
    assert "chmod 600" in caplog.text


def test_store_from_settings(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    key = Fernet.generate_key().decode()
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", AUDIT_KEY=GOOD_AUDIT, ENCRYPTION_KEY=key
    )
    store = store_from_settings(settings)
    try:
        assert store.keys.source == "environment"
        assert not store.is_postgres
        assert GOOD_AUDIT not in repr(store)
    finally:
        store.dispose()


def test_encryption_round_trip_and_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    secret = "https://xoxo.link/abc-secret"
    token = Crypto([old]).encrypt_text(secret)
    assert secret not in token
    rotated = Crypto(parse_fernet_keys(f"{new}, {old}"))
    assert rotated.decrypt_text(token) == secret
    assert Crypto([new]).decrypt_json(rotated.encrypt_json({"a": [1]})) == {"a": [1]}
    with pytest.raises(DecryptionError) as caught:
        Crypto([new]).decrypt_text(token)
    assert secret not in str(caught.value) and old not in str(caught.value)
    assert old not in repr(rotated)


def _fernet_refuses(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return True
    return False


def test_keys_are_judged_as_fernet_judges_them() -> None:
    key = Fernet.generate_key().decode()
    for _ in range(200):  # every key Fernet makes is taken as it is
        check_fernet_key(Fernet.generate_key().decode())
    odd = [
        "",
        "not-a-key",
        key[:-1],  # no padding
        key + "=",
        key[:-2] + "B=",  # the last 4 bits' character with bits that are not there
        key.replace("-", "+").replace("_", "/"),  # the standard alphabet
        f" {key}",
        key[:20] + "\n" + key[20:],
        "é" * 44,
        Fernet.generate_key().decode()[:40] + "AAA=",
    ]
    for candidate in odd:
        refused = _fernet_refuses(candidate)
        try:
            check_fernet_key(candidate)
        except (ValueError, TypeError):
            assert refused, candidate
        else:
            assert not refused, candidate


def test_cryptography_is_imported_when_a_secret_is_first_encrypted(tmp_path: Path) -> None:
    """A bot at rest holds no cryptography (6 MB): its keys are checked at start without it,
    and it comes in with the first secret encrypted or decrypted."""
    code = (
        "import sys\n"
        "from storage.db import open_store\n"
        "store = open_store(database_url=sys.argv[1], audit_key=sys.argv[2],"
        " encryption_key=sys.argv[3])\n"
        "before = 'cryptography' in sys.modules\n"
        "token = store.crypto.encrypt_text('a voucher code')\n"
        "print(before, 'cryptography' in sys.modules, store.crypto.decrypt_text(token))\n"
    )
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    done = subprocess.run(
        [sys.executable, "-c", code, url, GOOD_AUDIT, key],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "a", "voucher", "code"]
