"""Encryption at rest for bearer secrets (reward links, voucher codes and pins, Plum tokens).

`ENCRYPTION_KEY` is a Fernet key: 32 random bytes, url-safe base64 (44 characters). Make one with
    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
Several keys separated by commas rotate: the first encrypts, all of them decrypt.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.errors import DecryptionError, KeyConfigError

MAKE_FERNET_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def parse_fernet_keys(value: str, *, name: str = "ENCRYPTION_KEY") -> tuple[str, ...]:
    keys = tuple(part.strip() for part in value.split(",") if part.strip())
    if not keys:
        raise KeyConfigError(f"{name} is empty; make a key with: {MAKE_FERNET_KEY}")
    for key in keys:
        try:
            Fernet(key.encode())
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
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt_text(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
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
