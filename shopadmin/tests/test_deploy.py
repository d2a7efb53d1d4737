"""Production settings pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DEBUG", "DATABASE", "SECURE_", "ALLOWED_HOSTS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shopadmin.settings",
        SECRET_KEY="a-production-like-secret-key-with-enough-entropy-0f9a8b7c6d5e4f3a2b1c",
        ALLOWED_HOSTS="shop.example.com",
        SECURE_HSTS_PRELOAD="true",
        DATABASE_URL="postgres://shopadmin_app@127.0.0.1:5432/shopadmin",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
