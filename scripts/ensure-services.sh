#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1, starting (or, as root, installing)
# them when they do not, and provision the two PostgreSQL roles. Says clearly what is
# missing when it cannot fix it.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=127.0.0.1 PGPORT=${PGPORT:-5432}
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=""
apt_install() {
  if ! command -v apt-get >/dev/null; then echo "ensure-services: please install $* (no apt-get here)" >&2; exit 1; fi
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
if ! command -v pg_isready >/dev/null; then
  echo "ensure-services: installing PostgreSQL"
  apt_install postgresql postgresql-client
fi
if ! pg_up; then
  echo "ensure-services: starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -n | tail -1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "ensure-services: PostgreSQL does not answer on $PGHOST:$PGPORT" >&2; exit 1; }

# A superuser session: TCP as postgres where trust allows it, else the local socket as the
# postgres OS user (Debian's peer authentication).
as_superuser() {
  if psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "select 1" >/dev/null 2>&1; then
    psql -q -h "$PGHOST" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 "$@"
  else
    $SUDO -u postgres psql -q -p "$PGPORT" -v ON_ERROR_STOP=1 "$@"
  fi
}
as_superuser -f scripts/postgres-roles.sql >/dev/null

# The test roles connect over TCP without a password; allow that on loopback if the
# server asks for one (a fresh Debian install does).
if ! psql -h "$PGHOST" -p "$PGPORT" -U shopadmin_app -d shopadmin -tAc "select 1" >/dev/null 2>&1; then
  hba=$(as_superuser -tAc "show hba_file")
  echo "ensure-services: allowing the shopadmin roles on loopback in $hba"
  tmp=$(mktemp)
  { echo "host all shopadmin_owner,shopadmin_app 127.0.0.1/32 trust"; cat "$hba"; } > "$tmp"
  $SUDO cp "$tmp" "$hba"; rm -f "$tmp"
  as_superuser -c "select pg_reload_conf()" >/dev/null
fi

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! command -v redis-server >/dev/null; then
  echo "ensure-services: installing Redis"
  apt_install redis-server
fi
if ! redis_up; then
  echo "ensure-services: starting Redis"
  mkdir -p /tmp/shopadmin-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/shopadmin-redis >/dev/null
  for _ in $(seq 20); do redis_up && break; sleep 0.5; done
fi
redis_up || { echo "ensure-services: Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
echo "ensure-services: PostgreSQL and Redis are up"
