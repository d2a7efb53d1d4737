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

# The three processes run in sessions of their own, so Ctrl-C reaches this script only and
# each process is told to stop exactly once: a worker that gets a second signal while it
# hands its unfinished messages back to the broker starts over. A process still running
# 15 s after SIGTERM is killed (with acks_late its task is delivered again next time).
pids=()
alive() { for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
cleanup() {
  trap - EXIT INT TERM
  echo "Stopping the web server, the worker and the scheduler…"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 75); do alive || break; sleep 0.2; done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
setsid $BIN/celery -A shopadmin worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 & pids+=($!)
setsid $BIN/celery -A shopadmin beat --loglevel=INFO >var/log/beat.log 2>&1 & pids+=($!)
echo "Worker and scheduler log to var/log/. Starting the web server on $SITE_URL (Ctrl-C to stop)."
setsid $BIN/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}" & pids+=($!)
wait -n "${pids[@]}"
