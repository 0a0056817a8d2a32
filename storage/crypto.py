"""Encryption at rest for bearer secrets (reward links, voucher codes and pins, Plum tokens).

`ENCRYPTION_KEY` is a Fernet key: 32 random bytes, url-safe base64 (44 characters). Make one with
    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
Several keys separated by commas rotate: the first encrypts, all of them decrypt.

`cryptography` (its Rust library is about 6 MB of a process) is imported when the first secret
is encrypted or decrypted, not at start: keys are checked at start all the same, those in the
form Fernet.generate_key() makes without it, any other by Fernet itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from storage.errors import DecryptionError, KeyConfigError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

MAKE_FERNET_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


# What Fernet.generate_key() makes: 32 bytes in url-safe base64 with its padding, 44 characters;
# the last before the padding holds the last 4 bits and 2 zero bits.
_GENERATED_KEY = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]=")


def check_fernet_key(key: str) -> None:
    """Raise what Fernet(key) raises for a key it refuses: a key in the generated form is a
    Fernet key (no need to import cryptography to know); any other is given to Fernet."""
    if _GENERATED_KEY.fullmatch(key):
        return
    from cryptography.fernet import Fernet

    Fernet(key.encode())


def parse_fernet_keys(value: str, *, name: str = "ENCRYPTION_KEY") -> tuple[str, ...]:
    keys = tuple(part.strip() for part in value.split(",") if part.strip())
    if not keys:
        raise KeyConfigError(f"{name} is empty; make a key with: {MAKE_FERNET_KEY}")
    for key in keys:
        try:
            check_fernet_key(key)
        except (ValueError, TypeError):
            raise KeyConfigError(
                f"{name} must be a Fernet key (32 url-safe base64-encoded bytes, 44 characters);"
                f" make one with: {MAKE_FERNET_KEY}"
            ) from None
    return keys


class Crypto:
    """Encrypts and decrypts text and JSON with the configured Fernet key(s)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise KeyConfigError(f"ENCRYPTION_KEY is empty; make a key with: {MAKE_FERNET_KEY}")
        for key in keys:
            check_fernet_key(key)
        self._keys = tuple(keys)
        self._multi: MultiFernet | None = None  # made when first needed (see the module doc)

    @property
    def _fernet(self) -> MultiFernet:
        multi = self._multi
        if multi is None:
            from cryptography.fernet import Fernet, MultiFernet

            # Two threads may both get here first: each makes the same thing, either is kept.
            multi = self._multi = MultiFernet([Fernet(k.encode()) for k in self._keys])
        return multi

    def encrypt_text(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        fernet = self._fernet
        from cryptography.fernet import InvalidToken

        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise DecryptionError(
                "a stored secret cannot be decrypted: ENCRYPTION_KEY is not the key it was "
                "stored with (keep the old key after the new one, comma-separated, to rotate)"
            ) from None

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt_text(json.dumps(value, separators=(",", ":"), sort_keys=True))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt_text(token))

    def __repr__(self) -> str:
        return "Crypto(<keys hidden>)"
