"""Encryption at rest for channel credentials: Fernet tokens under MultiFernet.

`settings.FIELD_ENCRYPTION_KEYS` lists Fernet keys newest first. Encryption always uses
the newest; decryption tries each, so a key can be added in front, `rotate_secrets` run,
and the old key removed afterwards without downtime.
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models

MASK = "••••"


@lru_cache(maxsize=1)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: set it to one or more Fernet keys (newest first), "
            "e.g. from `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        # Never echo the key material itself.
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key.") from exc


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def _reset(**kwargs):
    if kwargs.get("setting") == "FIELD_ENCRYPTION_KEYS":
        _fernet_for.cache_clear()


setting_changed.connect(_reset)


def encrypt_text(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS; "
            "was a key removed before `manage.py rotate_secrets` ran?"
        ) from exc


def mask(value) -> str:
    """Enough to recognise which secret is stored, never enough to use it."""
    text = "" if value is None else str(value)
    if len(text) >= 12:
        return f"{MASK}{text[-4:]}"
    return MASK if text else ""


class SecretDict(dict):
    """A dict of secrets whose repr is masked, so a stray log line or traceback shows no secret."""

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: {mask(v)!r}" for k, v in self.items()) + "}"

    __str__ = __repr__

    def masked(self) -> dict[str, str]:
        return {key: mask(value) for key, value in self.items()}


class EncryptedJSONField(models.TextField):
    """A JSON object stored as a Fernet token. Not queryable (by design), only round-tripped."""

    description = "JSON object encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return SecretDict()
        return SecretDict(json.loads(decrypt_text(value)))

    def to_python(self, value):
        if isinstance(value, SecretDict):
            return value
        if isinstance(value, dict):
            return SecretDict(value)
        if value in (None, ""):
            return SecretDict()
        if isinstance(value, str):
            try:
                return SecretDict(json.loads(value))
            except ValueError:
                return SecretDict(json.loads(decrypt_text(value)))
        return value

    def get_prep_value(self, value):
        if value is None:
            value = {}
        return encrypt_text(json.dumps(dict(value), sort_keys=True, separators=(",", ":")))

    def value_to_string(self, obj):
        # Serialisation (dumpdata) keeps the ciphertext, never the plain secrets.
        return self.get_prep_value(self.value_from_object(obj))
