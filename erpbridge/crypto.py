"""Encryption of secrets at rest (client secrets, tokens, private keys).

Keys come from ERPBRIDGE_ENCRYPTION_KEY: one or more Fernet keys, comma-separated, newest
first. New values are encrypted with the first key; any listed key decrypts. To rotate, put a
new key in front, run `manage.py reencrypt_secrets`, then drop the old key.

Nothing here logs or repeats a plaintext or a key; error messages say what failed, not what
the value was.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ERPBRIDGE_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest key. Each call gives a different token for the same text."""
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key in ERPBRIDGE_ENCRYPTION_KEY "
            "(was the key changed without rotation?)."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token with the newest key (it may have been made with an older one)."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        raise DecryptionError(
            "A stored secret cannot be rotated: no key in ERPBRIDGE_ENCRYPTION_KEY decrypts it."
        ) from None


def mask(secret: str, visible: int = 4) -> str:
    """A secret as it may be shown back to a person: only its last few characters."""
    if not secret:
        return ""
    if len(secret) <= visible * 2:
        return "\u2022" * 8
    return "\u2022" * 8 + secret[-visible:]


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting == "ERPBRIDGE_ENCRYPTION_KEYS":
        _fernet.cache_clear()
