#!/usr/bin/env bash
# The whole suite, on PostgreSQL (as the app role, row-level security on) and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=shopadmin.test_settings
# Runs side by side on one machine (two checkouts, a run while another is going) each get
# their own test database, broker keys and media folder.
export SHOPADMIN_TEST_DB="${SHOPADMIN_TEST_DB:-test_shopadmin_$$}"
export SHOPADMIN_TEST_MEDIA="${SHOPADMIN_TEST_MEDIA:-/tmp/shopadmin-test-media-$$}"
mkdir -p test-artifacts
# Two processes or more (one per core): each has its own database, broker keys and media.
exec .venv/bin/pytest -p no:cacheprovider -q -n "${TEST_PROCESSES:-auto}" "$@"
