"""Settings for the test suite: PostgreSQL through the app role (row-level security on).

`make test` provisions the roles (scripts/postgres-roles.sql). SHOPADMIN_TEST_DB names the
test database, so parallel checkouts on one server do not collide.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DATABASE_URL", "postgres://shopadmin_app@127.0.0.1:5432/shopadmin")
os.environ.setdefault("DATABASE_OWNER_URL", "postgres://shopadmin_owner@127.0.0.1:5432/shopadmin")
os.environ.setdefault("DATABASE_APP_ROLE", "shopadmin_app")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SANDBOX_ENABLED", "true")
os.environ.setdefault("DEMO_ENABLED", "true")  # the demo app and its tests (demo/)
os.environ.setdefault("SANDBOX_CONTROL_TOKEN", "test-sandbox-control-token")
os.environ.setdefault("CHANNEL_CONNECT_SANDBOX", "true")
os.environ.setdefault("SERVE_MEDIA", "true")  # a live server serves the seeded pictures channels fetch
os.environ.setdefault("ALLOWED_HOSTS", "*")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "q6Qy0Z1dXbPQ3a7Tn7y0d4mB8yJ2e2wW0m0Zc3kY9vQ=")

from shopadmin.settings import *  # noqa: F403
from shopadmin.settings import DATABASES

# With pytest-xdist each test process has its own database, broker keys and media folder; a
# Celery worker a test starts inherits PYTEST_XDIST_WORKER and so finds the same ones.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_DB_NAME = os.environ.get("SHOPADMIN_TEST_DB", "test_shopadmin") + (f"_{_XDIST_WORKER}" if _XDIST_WORKER else "")
# The app role through a psycopg pool of one connection, to prove pooled reuse is safe.
DATABASES["pooled"] = {
    **DATABASES["default"],
    "ATOMIC_REQUESTS": False,
    "CONN_MAX_AGE": 0,
    "CONN_HEALTH_CHECKS": False,
    "OPTIONS": {"pool": {"min_size": 1, "max_size": 1}},
}
for _db in DATABASES.values():
    _db["TEST"] = {"NAME": TEST_DB_NAME}
    # The same backend, with a flush that empties only the tables a transactional test filled.
    _db["ENGINE"] = "shopadmin.testing.postgresql"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = os.environ.get("SHOPADMIN_TEST_MEDIA", "/tmp/shopadmin-test-media")  # noqa: S108
MEDIA_ROOT += f"-{_XDIST_WORKER}" if _XDIST_WORKER else ""
# A Celery worker a test starts is handed the test's own folder, as it is.
MEDIA_ROOT = os.environ.get("SHOPADMIN_TEST_MEDIA_ROOT", MEDIA_ROOT)
CELERY_TASK_ALWAYS_EAGER = False
# Test runs side by side share one Redis: each run's queues live under its own key prefix.
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": f"{TEST_DB_NAME}:"}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
