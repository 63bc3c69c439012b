"""Secrets at rest (a tenant's payment gateway key secret and webhook secret): Fernet tokens
(AES-128-CBC + HMAC-SHA256, from `cryptography`) under the keys of PAYMENT_SECRET_KEYS.

Key rotation: the setting lists several keys, newest first. The newest encrypts; every listed key
decrypts (MultiFernet tries each), so adding a new key in front keeps every stored secret readable,
and `rotate` re-encrypts a stored token under the newest key (PUT /payment-gateways/razorpay does
it for the tenant's secrets on every save). A key can be dropped from the list once nothing stored
is encrypted under it any more. Outside prod a fixed, public development key stands in (the
setting's default); ENV=prod refuses it and an empty list (app.core.config).

Plaintexts never leave this module except to the caller that asked: nothing here logs.
"""

import base64
import binascii
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# Public on purpose (like the sandbox Razorpay secrets): development and tests only, refused in prod.
DEV_PAYMENT_SECRET_KEY = "DFI6alJUSEn7PfVussTHc4SvKfj81i4oQ-rSOuik3sA="


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts (a key dropped too early, or a
    tampered value). Never carries the token or any plaintext."""


def key_problem(key: str) -> str | None:
    """Why `key` is not a usable Fernet key, or None (the message never repeats the key)."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        return "is not url-safe base64"
    if len(raw) != 32:
        return f"decodes to {len(raw)} bytes, not 32"
    return None


class SecretBox:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("a secret box needs at least one key")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        """A token under the newest key (a new random IV each time: equal secrets look different)."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, UnicodeDecodeError) as exc:
            raise SecretUnreadable("a stored secret cannot be decrypted with PAYMENT_SECRET_KEYS") from exc

    def rotate(self, token: str) -> str:
        """The same plaintext re-encrypted under the newest key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("a stored secret cannot be decrypted with PAYMENT_SECRET_KEYS") from None


@lru_cache(maxsize=8)
def secret_box(keys: tuple[str, ...]) -> SecretBox:
    """The box for these keys (settings.payment_secret_keys as a tuple), built once."""
    return SecretBox(keys)
