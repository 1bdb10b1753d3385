#!/usr/bin/env bash
# Issue #13's four confirmed defects, reproduced from outside as the audit did, against a built
# `lexica` binary (a release build for the issue's "done when"):
#   tests/support/audit-repro.sh path/to/lexica
# Needs root (it adds an OS account, `lexica_audit`, to act as a non-admin on a shared install),
# psql and a PostgreSQL test cluster in LEXICA_TEST_PG_URL (tests/support/pg-cluster.sh), and runs
# inside `keyctl session` (source passwords go to the kernel keyring: LEXICA_KEYCHAIN=keyutils).
# Prints one PASS/FAIL line per check and exits non-zero if any check failed.
set -uo pipefail
lx=$(realpath "${1:?path to the lexica binary}")
: "${LEXICA_TEST_PG_URL:?start tests/support/pg-cluster.sh and export its lines}"
root=$(cd "$(dirname "$0")/../.." && pwd)
export LEXICA_KEYCHAIN=keyutils
unset LEXICA_HOME RUST_LOG
work=$(mktemp -d /tmp/lexica-audit.XXXXXX)
# A copy the non-admin account can run: a binary under root's home (a build's target/) is not reachable by it,
# and check 1 would then "pass" on `Permission denied` instead of on Lexica's refusal.
install -m 755 "$lx" "$work/lexica"
lx=$work/lexica
home=$work/home
failed=0
check() { if eval "$2"; then echo "PASS  $1"; else echo "FAIL  $1"; failed=1; fi; }

# 1. Identity is the OS login: a non-admin OS account cannot make itself an admin with --as.
id lexica_audit >/dev/null 2>&1 || useradd -M -s /bin/sh lexica_audit
"$lx" --home "$home" users add lexica_audit >/dev/null
chmod -R a+rwX "$work"
out=$(runuser -u lexica_audit -- "$lx" --home "$home" --as "$(id -un)" users set-admin lexica_audit 2>&1)
code=$?
admin=$("$lx" --json --home "$home" users list | python3 -c 'import json,sys; print([u["is_admin"] for u in json.load(sys.stdin) if u["username"]=="lexica_audit"][0])')
check "1 identity: '--as root users set-admin' by a non-admin OS login is refused (exit $code: ${out%%$'\n'*})" \
  '[ "$code" -ne 0 ] && [ "$admin" = False ]'

# 2. A live search is not rewritten by another process: `sources list` during a search.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $port)); s.listen(50)
open('$work/hole-ready', 'w').close()
held = []
end = time.time() + 60
s.settimeout(1)
while time.time() < end:
    try: held.append(s.accept())
    except OSError: pass
" &
hole=$!
for _ in $(seq 50); do [ -e "$work/hole-ready" ] && break; sleep 0.1; done
me=$(id -un)
"$lx" --home "$home" sources add hole --display-name Hole --url "postgres://reader@127.0.0.1:$port/x?sslmode=disable" >/dev/null
"$lx" --home "$home" grants grant "$me" hole >/dev/null
"$lx" --home "$home" search "duty /s care" --source hole --deadline 6 >/dev/null 2>&1 &
search=$!
for _ in $(seq 60); do
  status=$("$lx" --json --home "$home" history | python3 -c 'import json,sys; h=json.load(sys.stdin); print(h[0]["executions"][0]["status"] if h else "none")')
  [ "$status" = running ] && break
  sleep 0.2
done
"$lx" --home "$home" sources list >/dev/null
during=$("$lx" --json --home "$home" history | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["executions"][0]["status"])')
wait "$search"
final=$("$lx" --json --home "$home" history | python3 -c 'import json,sys; e=json.load(sys.stdin)[0]["executions"][0]; print(e["status"], e["error_message"] or "")')
kill "$hole" 2>/dev/null
check "2 live search: running during 'sources list' ($during), ends '$final'" \
  '[ "$during" = running ] && [[ "$final" == timed_out* ]] && [[ "$final" != *interrupted* ]]'

# 3. No password through URL parameters, and none in the log.
out=$("$lx" --home "$home" sources add leak --display-name Leak --url 'postgres://u@db.example/ny?PASSWORD=Sekr3t-audit' 2>&1)
code=$?
check "3a '?PASSWORD=' refused without echo (exit $code: $out)" '[ "$code" -ne 0 ] && [[ "$out" != *Sekr3t-audit* ]]'
out=$("$lx" --home "$home" sources add over --display-name Over --url 'postgres://u@db.example/ny?host=evil.example' 2>&1)
code=$?
check "3b '?host=' override refused (exit $code)" '[ "$code" -ne 0 ]'
"$lx" --home "$home" ingest "$root/src-tauri/lexica-ingest/demo/opinions.jsonl" --into "postgres://u@127.0.0.1:1/x?sslpassword=Sekr3t-ingest" >/dev/null 2>&1
leaked=$(grep -rl 'Sekr3t' "$home" 2>/dev/null | head -1)
check "3c no secret in any file of the install (logs, app database)${leaked:+: found in $leaked}" '[ -z "$leaked" ]'

# 4. The 60 × 60 proximity query: no megabyte statement, no 1.9 MB error.
db=audit_$$
psql "$LEXICA_TEST_PG_URL" -qAtXc "CREATE DATABASE $db" >/dev/null
pg_db=$(printf %s "$LEXICA_TEST_PG_URL" | sed -E "s#/[^/?]*(\?.*)?\$#/$db#")
zcat "$root/../shared/corpus/opinions.jsonl.gz" 2>/dev/null | head -n 40 > "$work/sample.jsonl"
"$lx" --home "$home" ingest "$work/sample.jsonl" --into "$pg_db?sslmode=disable" >/dev/null 2>&1
source_url=$(printf %s "$LEXICA_TEST_PG_URL" | sed -E "s#://([^:@/]+):[^@]*@#://\1@#; s#/[^/?]*(\?.*)?\$#/$db?sslmode=disable#")
"$lx" --home "$home" sources add pg --display-name PG --url "$source_url" >/dev/null
printf %s lexica-test-superuser | "$lx" --home "$home" sources set-password pg --stdin >/dev/null
"$lx" --home "$home" grants grant "$me" pg >/dev/null
query="($(for i in $(seq 60); do printf 'contract '; done)) /255 ($(for i in $(seq 60); do printf 'breach '; done))"
"$lx" --json --home "$home" search "$query" --source pg > "$work/q4.json" 2>&1
result=$("$lx" --json --home "$home" history | python3 -c 'import json,sys; e=json.load(sys.stdin)[0]["executions"][0]; m=e["error_message"] or ""; print(e["status"], len(m))')
check "4 (contract x60) /255 (breach x60): '$result' (status, stored error length)" \
  '[[ "$result" == completed* ]] || { n=${result#* }; [ "$n" -le 2000 ]; }'
psql "$LEXICA_TEST_PG_URL" -qAtXc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1

rm -rf "$work"
exit "$failed"
