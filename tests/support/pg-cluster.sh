#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for the test suites.
#   tests/support/pg-cluster.sh start DIR [PORT]  -> prints `export LEXICA_TEST_PG_URL=...` lines
#   tests/support/pg-cluster.sh stop DIR
# The superuser `postgres` has password `lexica-test-superuser` over TCP (scram); tests create their
# own databases and roles. initdb and postgres refuse to run as root, so both run as `postgres`.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?cluster directory}; port=${3:-54329}
bin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
case "$cmd" in
  start)
    if [ "$(id -u)" = 0 ]; then mkdir -p "$dir"; chown postgres:postgres "$dir"; else sudo mkdir -p "$dir"; sudo chown postgres:postgres "$dir"; fi
    as_pg chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg sh -c "printf %s lexica-test-superuser > '$dir/pwfile'"
      as_pg "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" -N \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
      as_pg mkdir -p "$dir/sock"
    fi
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c max_connections=300" start >/dev/null
    echo "export LEXICA_TEST_PG_URL=postgres://postgres:lexica-test-superuser@127.0.0.1:$port/postgres"
    echo "export LEXICA_TEST_PG_DIR=$dir"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
