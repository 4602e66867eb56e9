#!/usr/bin/env bash
# Start (or stop) the throwaway PostgreSQL server the dbt `ci` target runs against: 127.0.0.1 only,
# data under .local/postgres, trust auth for the local test user. Installs the Debian package if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PGPORT="${PGPORT:-54329}"
PGDATA_DIR="$(pwd)/.local/postgres"
LOG="$(pwd)/.local/postgres.log"

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "postgres: server not installed; installing Debian package postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  BIN="$(find_bin)"
fi

# initdb/postgres refuse to run as root: run them as the postgres system user.
as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if as_pg "$BIN/pg_isready" -h 127.0.0.1 -p "$PGPORT" -q 2>/dev/null; then
      echo "postgres: already running on 127.0.0.1:$PGPORT"; exit 0
    fi
    mkdir -p "$(pwd)/.local"
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
      mkdir -p "$PGDATA_DIR"
      [ "$(id -u)" = "0" ] && chown postgres:postgres "$PGDATA_DIR" "$(pwd)/.local"
      as_pg "$BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    touch "$LOG"; [ "$(id -u)" = "0" ] && chown postgres:postgres "$LOG"
    as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOG" -w -t 60 \
      -o "-h 127.0.0.1 -p $PGPORT -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='analytics'" | grep -q 1 \
      || as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres analytics
    echo "postgres: running on 127.0.0.1:$PGPORT (database analytics, user postgres)"
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast stop >/dev/null 2>&1 || true
    echo "postgres: stopped"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
