"""The project's own system checks (run by `manage.py check`, `check --deploy`, migrate, runserver).

- shopadmin.E001: FIELD_ENCRYPTION_KEYS is empty (with DEBUG off) or holds a value that is
  not a Fernet key. Channel credentials cannot be stored or read without it, so the web
  process (shopadmin/wsgi.py, asgi.py) and `manage.py` refuse to start rather than fail at
  the first channel call.
- shopadmin.W001 (deploy): the channel sandbox is served (SANDBOX_ENABLED) with DEBUG off.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

ENCRYPTION_HINT = (
    "Set FIELD_ENCRYPTION_KEYS to one or more Fernet keys, newest first, e.g. from "
    "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
)


@checks.register("shopadmin")
def check_encryption_keys(app_configs=None, **kwargs):
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []) or [])
    if not keys:
        level = checks.Warning if settings.DEBUG else checks.Error
        return [
            level(
                "FIELD_ENCRYPTION_KEYS is empty: channel credentials cannot be stored or read.",
                hint=ENCRYPTION_HINT,
                id="shopadmin.E001",
            )
        ]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # Never echo the key material itself.
            return [
                checks.Error(
                    f"FIELD_ENCRYPTION_KEYS: value number {position} is not a Fernet key.",
                    hint=ENCRYPTION_HINT,
                    id="shopadmin.E001",
                )
            ]
    return []


@checks.register("shopadmin", deploy=True)
def check_sandbox(app_configs=None, **kwargs):
    if getattr(settings, "SANDBOX_ENABLED", False) and not settings.DEBUG:
        return [
            checks.Warning(
                "SANDBOX_ENABLED is on with DEBUG off: the channel simulators are served at /sandbox/.",
                hint="The sandbox is for tests and the demo; set SANDBOX_ENABLED=false in production.",
                id="shopadmin.W001",
            )
        ]
    return []


def refuse_to_start_on_errors() -> None:
    """Run this project's checks at process start (WSGI/ASGI); raise on any Error."""
    errors = [message for message in checks.run_checks(tags=["shopadmin"]) if message.level >= checks.ERROR]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{m.id}: {m.msg} {m.hint or ''}".strip() for m in errors))
