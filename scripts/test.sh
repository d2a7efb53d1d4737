#!/usr/bin/env bash
# The whole suite, on PostgreSQL (as the app role, row-level security on) and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=shopadmin.test_settings
mkdir -p test-artifacts
exec .venv/bin/pytest -p no:cacheprovider -q "$@"
