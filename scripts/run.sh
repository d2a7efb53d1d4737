#!/usr/bin/env bash
# The embedded demo: SQLite and a file-based Celery broker, no server needed.
# Web on http://$HOST:$PORT, one worker, the beat scheduler; Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-true}
export CHANNEL_CONNECT_SANDBOX=${CHANNEL_CONNECT_SANDBOX:-true}
export DEMO_ENABLED=true  # the demo app: seed_demo and the sandbox's flow of orders
export SITE_URL=${SITE_URL:-http://${HOST:-127.0.0.1}:${PORT:-8000}}
BIN=.venv/bin
mkdir -p var/log
# Channel credentials are encrypted at rest; the demo keeps its own key in var/ so the
# accounts it connects stay readable from one `make run` to the next.
if [ -z "${FIELD_ENCRYPTION_KEYS:-}" ]; then
  [ -s var/field-encryption.key ] || $BIN/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' >var/field-encryption.key
  FIELD_ENCRYPTION_KEYS=$(cat var/field-encryption.key)
  export FIELD_ENCRYPTION_KEYS
fi
$BIN/python manage.py migrate --database owner -v0
$BIN/python manage.py seed_demo --base-url "$SITE_URL"

pids=()
cleanup() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
$BIN/celery -A shopadmin worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 & pids+=($!)
$BIN/celery -A shopadmin beat --loglevel=INFO >var/log/beat.log 2>&1 & pids+=($!)
echo "Worker and scheduler log to var/log/. Starting the web server on $SITE_URL (Ctrl-C to stop)."
$BIN/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}" & pids+=($!)
wait -n "${pids[@]}"
