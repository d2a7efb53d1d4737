"""Production settings pass Django's deployment checks, and the project's own checks refuse bad ones."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from shopadmin.checks import check_encryption_keys, check_sandbox, refuse_to_start_on_errors

ROOT = Path(__file__).resolve().parents[2]
KEY = "q6Qy0Z1dXbPQ3a7Tn7y0d4mB8yJ2e2wW0m0Zc3kY9vQ="


def production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DEBUG", "DATABASE", "SECURE_", "ALLOWED_HOSTS", "SANDBOX_", "FIELD_ENCRYPTION_KEYS")
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shopadmin.settings",
        SECRET_KEY="a-production-like-secret-key-with-enough-entropy-0f9a8b7c6d5e4f3a2b1c",
        ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="postgres://shopadmin_app@127.0.0.1:5432/shopadmin",
        FIELD_ENCRYPTION_KEYS=KEY,
    )
    env.update(extra)
    return env


def check_deploy(env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    # The defaults alone (HSTS with preload, secure cookies, SSL redirect) pass.
    result = check_deploy(production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_refuses_missing_encryption_keys_and_warns_about_the_sandbox():
    env = production_env(SANDBOX_ENABLED="true")
    del env["FIELD_ENCRYPTION_KEYS"]
    result = check_deploy(env)
    assert result.returncode != 0
    assert "shopadmin.E001" in result.stderr
    assert "shopadmin.W001" in result.stderr


def test_encryption_key_check(settings):
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEYS = []
    [error] = check_encryption_keys()
    assert error.level == checks.ERROR and error.id == "shopadmin.E001"
    settings.FIELD_ENCRYPTION_KEYS = [KEY, "not-a-key"]
    [error] = check_encryption_keys()
    assert "number 2" in error.msg and "not-a-key" not in error.msg
    with pytest.raises(ImproperlyConfigured, match=r"shopadmin\.E001"):
        refuse_to_start_on_errors()
    settings.FIELD_ENCRYPTION_KEYS = [KEY]
    assert check_encryption_keys() == []
    refuse_to_start_on_errors()
    # Development without keys is only warned.
    settings.DEBUG = True
    settings.FIELD_ENCRYPTION_KEYS = []
    [warning] = check_encryption_keys()
    assert warning.level == checks.WARNING


def test_sandbox_check(settings):
    settings.SANDBOX_ENABLED, settings.DEBUG = True, False
    [warning] = check_sandbox()
    assert warning.id == "shopadmin.W001"
    settings.DEBUG = True
    assert check_sandbox() == []
    settings.SANDBOX_ENABLED, settings.DEBUG = False, False
    assert check_sandbox() == []


def test_the_wsgi_process_refuses_to_start_without_keys():
    env = production_env()
    del env["FIELD_ENCRYPTION_KEYS"]
    result = subprocess.run(
        [sys.executable, "-c", "import shopadmin.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr
