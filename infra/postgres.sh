#!/usr/bin/env bash
# A private PostgreSQL 15 cluster without systemd.
#   infra/postgres.sh start DIR PORT [--fast]   create (first time) and start; --fast turns fsync off (tests only)
#   infra/postgres.sh stop DIR
#   infra/postgres.sh status DIR
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
cmd=${1:?start|stop|status}; dir=${2:?data directory}
dir="$(mkdir -p "$dir" && cd "$dir" && pwd)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    port=${3:?port}; fast=${4:-}
    if [ ! -f "$dir/PG_VERSION" ]; then
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      chmod 700 "$dir"
      as_pg "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    fi
    opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300"
    [ "$fast" = --fast ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      echo "postgres: already running in $dir"
    else
      as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null
      echo "postgres: running on 127.0.0.1:$port (data $dir)"
    fi
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || as_pg "$bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
    ;;
  status)
    as_pg "$bin/pg_ctl" -D "$dir" status
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
