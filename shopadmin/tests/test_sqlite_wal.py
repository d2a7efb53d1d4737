"""The embedded demo (`make run`) runs on SQLite: a web request and the worker write at the same
time, so the database is in WAL mode (readers never wait for the writer), a writer waits for the
lock instead of failing at once ("database is locked"), and transactions take the write lock when
they begin (IMMEDIATE), so two of them never deadlock upgrading a read lock."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.db import connection

with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy_timeout = cursor.fetchone()[0]
options = settings.DATABASES["default"]["OPTIONS"]
print(json.dumps({
    "vendor": connection.vendor,
    "journal_mode": journal_mode,
    "busy_timeout": busy_timeout,
    "transaction_mode": options.get("transaction_mode"),
}))
"""


def test_the_sqlite_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "SHOPADMIN_TEST", "DJANGO_SETTINGS"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="shopadmin.settings",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "vendor": "sqlite",
        "journal_mode": "wal",
        "busy_timeout": 20000,  # milliseconds: the `timeout` of 20 s
        "transaction_mode": "IMMEDIATE",
    }
