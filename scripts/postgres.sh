#!/usr/bin/env bash
# This checkout's throwaway PostgreSQL server for the dbt `ci` target and the PostgreSQL-backed tests.
#
#   scripts/postgres.sh start   # start (or find running) this checkout's server; prints its port
#   scripts/postgres.sh env     # PGHOST=/PGPORT=/PGDATA= lines of the running server (exit 1 when none)
#   scripts/postgres.sh stop    # stop it and delete its data (the data is throwaway)
#
# One server per checkout, never shared: its port is a free loopback port chosen at start and recorded with its
# data directory in .local/postgres.env, so two checkouts on one machine each get their own server and database.
# Only 127.0.0.1, trust auth for the local user `postgres`, no Unix socket (a deep checkout path would exceed the
# 107-byte socket path limit). Where the data lives:
# - as a normal user the server runs as that user, data under .local/postgres in the checkout;
# - as root (CI, containers) initdb/postgres refuse to run as root, so the server runs as the `postgres` system user,
#   which may not be able to enter the checkout (a private mktemp folder, a 0700 home): its data directory is a
#   fresh private folder under /tmp owned by `postgres` (the path is recorded in .local/postgres.env).
# Installs Debian's postgresql package when the server binaries are missing (root only).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR="$(pwd)/.local"
STATE="$STATE_DIR/postgres.env"
LOG="$STATE_DIR/postgres.log"
HOST=127.0.0.1
IS_ROOT=0; [ "$(id -u)" = "0" ] && IS_ROOT=1

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

ensure_installed() {
  BIN="$(find_bin || true)"
  if [ -n "$BIN" ] && [ -x "$BIN/initdb" ]; then return; fi
  if [ "$IS_ROOT" != 1 ]; then
    echo "postgres: the PostgreSQL server is not installed and this user cannot install it: run 'apt-get install postgresql' as root" >&2
    exit 1
  fi
  echo "postgres: server not installed; installing Debian package postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  BIN="$(find_bin)"
}

as_server_user() {
  # from / : the server user may not be allowed into the checkout (every path given is absolute)
  if [ "$IS_ROOT" = 1 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

read_state() {
  PGPORT=""; PGDATA=""
  # shellcheck disable=SC1090
  [ -f "$STATE" ] && . "$STATE"
  return 0
}

running() {  # this checkout's recorded server answers on its port with its data directory
  read_state
  [ -n "$PGPORT" ] && [ -n "$PGDATA" ] && [ -f "$PGDATA/postmaster.pid" ] || return 1
  as_server_user "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 || return 1
  "$BIN/pg_isready" -h "$HOST" -p "$PGPORT" -q 2>/dev/null
}

new_data_dir() {
  if [ "$IS_ROOT" = 1 ]; then
    PGDATA="$(mktemp -d "${TMPDIR:-/tmp}/fintech-pg.XXXXXX")"
    chown postgres:postgres "$PGDATA"
  else
    PGDATA="$STATE_DIR/postgres"
    rm -rf "$PGDATA"; mkdir -p "$PGDATA"
  fi
  chmod 700 "$PGDATA"
  as_server_user "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
}

remove_data_dir() {
  if [ -n "${PGDATA:-}" ] && [ -d "$PGDATA" ]; then rm -rf "$PGDATA"; fi
}

start() {
  if running; then
    echo "postgres: running on $HOST:$PGPORT (database analytics, user postgres; export DBT_PG_PORT=$PGPORT)"
    return
  fi
  read_state
  if [ -n "$PGDATA" ] && [ -d "$PGDATA" ]; then  # a stale record (crash, reboot): start from scratch
    as_server_user "$BIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
    remove_data_dir
  fi
  mkdir -p "$STATE_DIR"
  new_data_dir
  : > "$LOG"
  local server_log="$PGDATA/server.log" attempt
  for attempt in 1 2 3; do  # a port chosen free can be taken before the server binds it: choose again
    PGPORT="$(free_port)"
    if as_server_user "$BIN/pg_ctl" -D "$PGDATA" -l "$server_log" -w -t 60 \
        -o "-h $HOST -p $PGPORT -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
      break
    fi
    cat "$server_log" >> "$LOG" 2>/dev/null || true
    if [ "$attempt" = 3 ]; then
      echo "postgres: the server did not start (log: $LOG)" >&2
      remove_data_dir; exit 1
    fi
  done
  printf 'PGHOST=%s\nPGPORT=%s\nPGDATA=%s\n' "$HOST" "$PGPORT" "$PGDATA" > "$STATE"
  "$BIN/psql" -h "$HOST" -p "$PGPORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='analytics'" | grep -q 1 \
    || "$BIN/createdb" -h "$HOST" -p "$PGPORT" -U postgres analytics
  echo "postgres: running on $HOST:$PGPORT (database analytics, user postgres; export DBT_PG_PORT=$PGPORT)"
}

stop() {
  read_state
  if [ -n "$PGDATA" ] && [ -d "$PGDATA" ]; then
    as_server_user "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
    remove_data_dir
  fi
  rm -f "$STATE"
  echo "postgres: stopped"
}

ensure_installed
case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) if running; then cat "$STATE"; else exit 1; fi ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
