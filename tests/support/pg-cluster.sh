#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for the test suites.
#   tests/support/pg-cluster.sh start DIR [PORT]  -> prints `export LEXICA_TEST_PG_URL=...` lines
#   tests/support/pg-cluster.sh stop DIR
# The superuser `postgres` has password `lexica-test-superuser` over TCP (scram); tests create their
# own databases and roles. initdb and postgres refuse to run as root, so both run as `postgres`.
# TLS is on, with a throwaway CA (exported as LEXICA_TEST_PG_CA) and a server certificate for
# 127.0.0.1/localhost; the role `tls_only` may connect only over TLS (hostssl), so tests can check
# sslmode handling end to end.
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
      tls="$dir/tls"
      as_pg mkdir -p "$tls"
      as_pg sh -c "cd '$tls' &&
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=Lexica test CA' -keyout ca.key -out ca.pem 2>/dev/null &&
        openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr 2>/dev/null &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > san.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile san.ext -out server.pem 2>/dev/null &&
        chmod 600 server.key"
      # TLS-only role: refused without encryption, scram with it. Prepended so it wins.
      as_pg sh -c "{ printf 'hostnossl all tls_only 127.0.0.1/32 reject\nhostssl all tls_only 127.0.0.1/32 scram-sha-256\n'; cat '$dir/data/pg_hba.conf'; } > '$dir/hba.tmp' && mv '$dir/hba.tmp' '$dir/data/pg_hba.conf'"
    fi
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c max_connections=300 -c ssl=on -c ssl_cert_file=$dir/tls/server.pem -c ssl_key_file=$dir/tls/server.key" start >/dev/null
    as_pg psql -h "$dir/sock" -p "$port" -U postgres -qAtc "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tls_only') THEN CREATE ROLE tls_only LOGIN PASSWORD 'lexica-tls-only'; END IF; END\$\$" postgres
    echo "export LEXICA_TEST_PG_URL=postgres://postgres:lexica-test-superuser@127.0.0.1:$port/postgres"
    echo "export LEXICA_TEST_PG_DIR=$dir"
    echo "export LEXICA_TEST_PG_CA=$dir/tls/ca.pem"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
