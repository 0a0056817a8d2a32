"""Where AUDIT_KEY and ENCRYPTION_KEY come from.

- From the environment (Settings) when set: always in production.
- With SQLite, when unset: a random key is generated on first start and kept in a file beside
  the database (`<database>.keys`, mode 0600), with a warning that production should set them.
  Losing that file means the audit chain can no longer be verified and stored secrets can no
  longer be read, so back it up with the database (but not in the same place).
- With PostgreSQL they are required: several processes must share them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from storage.crypto import parse_fernet_keys
from storage.errors import KeyConfigError
from storage.urls import beside_database, is_postgres_url

log = logging.getLogger(__name__)

AUDIT_KEY_MIN_LENGTH = 16
MAKE_AUDIT_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
PRODUCTION_WARNING = "set AUDIT_KEY and ENCRYPTION_KEY in production"


@dataclass(frozen=True, slots=True)
class Keys:
    audit_key: bytes
    encryption_keys: tuple[str, ...]
    source: str  # "environment", the key file's path, or "memory"

    def __repr__(self) -> str:
        return f"Keys(source={self.source!r})"


def key_file_for(database_url: str) -> Path | None:
    """`<database>.keys` beside a SQLite database file; None for memory or PostgreSQL."""
    return beside_database(database_url, ".keys", keep_extension=True)


def check_audit_key(value: str) -> bytes:
    if len(value) < AUDIT_KEY_MIN_LENGTH:
        raise KeyConfigError(
            f"AUDIT_KEY must be at least {AUDIT_KEY_MIN_LENGTH} characters; make one with: "
            f"{MAKE_AUDIT_KEY}"
        )
    return value.encode("utf-8")


def resolve_keys(
    *,
    database_url: str,
    audit_key: str | None,
    encryption_key: str | None,
    create: bool = True,
) -> Keys:
    """The keys to use for `database_url` (see the module doc).

    `create=False` never writes a key file (e.g. `rewardbot audit verify`): a missing key is an
    error instead, because a fresh key would make every existing event look forged.
    """
    audit_key = audit_key or None
    encryption_key = encryption_key or None
    if audit_key and encryption_key:
        return Keys(
            audit_key=check_audit_key(audit_key),
            encryption_keys=parse_fernet_keys(encryption_key),
            source="environment",
        )
    if is_postgres_url(database_url):
        raise _required_with_postgres("AUDIT_KEY" if not audit_key else "ENCRYPTION_KEY")
    path = key_file_for(database_url)
    if path is None:
        if not create:
            raise KeyConfigError("AUDIT_KEY and ENCRYPTION_KEY must be set for this database")
        log.warning("in-memory database without keys: using throwaway keys; %s", PRODUCTION_WARNING)
        stored = _new_keys()
        source = "memory"
    else:
        stored = _load_or_create(path, create=create)
        source = str(path)
        unset = [
            n for n, v in (("AUDIT_KEY", audit_key), ("ENCRYPTION_KEY", encryption_key)) if not v
        ]
        log.warning(
            "%s not set: using the generated key file %s; %s",
            " and ".join(unset),
            path,
            PRODUCTION_WARNING,
        )
    return Keys(
        audit_key=check_audit_key(audit_key or stored["AUDIT_KEY"]),
        encryption_keys=parse_fernet_keys(encryption_key or stored["ENCRYPTION_KEY"]),
        source=source,
    )


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """Where `resolve_keys` would take the keys from (`check_keys`): `unset`, the variables
    not set, come from `key_file` (None: both are set, or the database is in memory), which
    `resolve_keys` makes at the first start when it does not `exist` yet."""

    unset: tuple[str, ...]
    key_file: Path | None
    exists: bool


def check_keys(*, database_url: str, audit_key: str | None, encryption_key: str | None) -> KeyPlan:
    """The keys `resolve_keys` would use, checked without creating or logging anything: a
    `KeyConfigError` (naming the key, never its value) when one given or kept can't be used."""
    audit_key = audit_key or None
    encryption_key = encryption_key or None
    if audit_key:
        check_audit_key(audit_key)
    if encryption_key:
        parse_fernet_keys(encryption_key)
    unset = tuple(
        name
        for name, value in (("AUDIT_KEY", audit_key), ("ENCRYPTION_KEY", encryption_key))
        if not value
    )
    if not unset:
        return KeyPlan(unset=(), key_file=None, exists=False)
    if is_postgres_url(database_url):
        raise _required_with_postgres(unset[0])
    path = key_file_for(database_url)
    if path is None or not path.exists():
        return KeyPlan(unset=unset, key_file=path, exists=False)
    path = path.absolute()  # named in full in what is said about it
    stored = _read(path)
    try:
        if "AUDIT_KEY" in unset:
            check_audit_key(stored["AUDIT_KEY"])
        if "ENCRYPTION_KEY" in unset:
            parse_fernet_keys(stored["ENCRYPTION_KEY"])
    except KeyConfigError:
        raise KeyConfigError(f"the key file {path} holds a key that can't be used") from None
    return KeyPlan(unset=unset, key_file=path, exists=True)


def _required_with_postgres(missing: str) -> KeyConfigError:
    how = MAKE_AUDIT_KEY if missing == "AUDIT_KEY" else _fernet_hint()
    return KeyConfigError(
        f"{missing} is required with PostgreSQL (all processes must share it); make one with: {how}"
    )


def _fernet_hint() -> str:
    from storage.crypto import MAKE_FERNET_KEY

    return MAKE_FERNET_KEY


def _new_keys() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "AUDIT_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEY": Fernet.generate_key().decode("ascii"),
    }


def _load_or_create(path: Path, *, create: bool) -> dict[str, str]:
    if not path.exists():
        if not create:
            raise KeyConfigError(
                f"AUDIT_KEY is not set and there is no key file at {path}: set AUDIT_KEY "
                "(and ENCRYPTION_KEY) to the keys this database was written with"
            )
        _write_new(path, _new_keys())
    stored = _read(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("key file %s is readable by others: run chmod 600 %s", path, path)
    return stored


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise KeyConfigError(f"cannot read the key file {path}: {type(err).__name__}") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("AUDIT_KEY", "ENCRYPTION_KEY")
    ):
        raise KeyConfigError(f"the key file {path} lacks AUDIT_KEY or ENCRYPTION_KEY")
    return data


def _write_new(path: Path, keys: dict[str, str]) -> None:
    """Create the key file atomically with mode 0600; if another process won, keep theirs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # the file appeared meanwhile: theirs wins
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def audit_key_for_verification(*, database_url: str, audit_key: str | None) -> bytes:
    """The AUDIT_KEY to check the chain with; never generates one (see `resolve_keys`)."""
    if audit_key:
        return check_audit_key(audit_key)
    if is_postgres_url(database_url):
        raise KeyConfigError("AUDIT_KEY is required with PostgreSQL to verify the audit trail")
    path = key_file_for(database_url)
    if path is None:
        raise KeyConfigError("AUDIT_KEY must be set to verify an in-memory database")
    return check_audit_key(_load_or_create(path, create=False)["AUDIT_KEY"])
