#!/usr/bin/env bash
# Builds a synthetic opinion source of N opinions and benchmarks Lexica on it (issue 11).
#
#   tests/bench/scale.sh N [--sqlite] [--seed S] [--repeat R] [--reingest] [--no-build] [--gzip]
#
# 1. builds the release binaries (`lexica`, `lexica-synth`) in $CARGO_TARGET_DIR (--no-build: use them as built);
# 2. generates N opinions (seed S, default 1) into $LEXICA_BENCH_CACHE (default ~/.cache/lexica/bench),
#    resuming a partial file (--gzip: a .jsonl.gz, about a third of the size: 1M opinions are 20 GB plain);
# 3. ingests them into the PostgreSQL database bench_b_s<S>_n<N> on $LEXICA_BENCH_PG_URL (default: the dev
#    cluster) or, with --sqlite, into an SQLite bundle in the cache; `lexica ingest` is idempotent, so an
#    interrupted run resumes; a finished ingest is remembered and skipped (--reingest forces it);
# 4. sets up a throwaway LEXICA_HOME with that one source: PostgreSQL through a SELECT-only role
#    (bench_b_reader) whose password goes into the source's keychain entry, the kernel keyring
#    (LEXICA_KEYCHAIN=keyutils, in a session keyring this script opens), so no password is on disk, in the
#    URL or in the environment of the benchmark;
# 5. runs `lexica bench` on (a) the common-term queries with the naive `ts_rank_cd` baseline beside it,
#    (b) the corpus's 195 queries, and (c) every 16th of them (13) with the baseline, and writes
#    tests/bench/results/scale-N-<backend>.{json,md} (machine, versions, date, command). The baseline runs on a
#    sample only because it ranks every match: at 200k, 5 of those 13 reach the 30 s statement timeout, so
#    running it on all 195 would take hours.
#
# Needs: the shared corpus (../shared/corpus, or $LEXICA_CORPUS_DIR), psql, keyctl, jq, python3.
set -euo pipefail

SCRIPT=$(realpath "$0")

# Everything runs inside main(), which bash parses whole before running: editing this file while a
# long run is under way cannot change what that run executes.
main() {
# The source password lives in a session keyring that ends with this script.
if [[ -z "${LEXICA_BENCH_IN_KEYRING:-}" ]]; then
  export LEXICA_BENCH_IN_KEYRING=1
  exec keyctl session - bash "$SCRIPT" "$@"
fi

usage() { echo "usage: $0 N [--sqlite] [--seed S] [--repeat R] [--reingest] [--no-build] [--gzip]" >&2; exit 2; }
[[ $# -ge 1 && "$1" =~ ^[0-9]+$ ]] || usage
N=$1; shift
BACKEND=postgres; SEED=1; REPEAT=5; REINGEST=0; BUILD=1; EXT=jsonl
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sqlite) BACKEND=sqlite ;;
    --seed) SEED=${2:?}; shift ;;
    --repeat) REPEAT=${2:?}; shift ;;
    --reingest) REINGEST=1 ;;
    --no-build) BUILD=0 ;;
    --gzip) EXT=jsonl.gz ;;
    *) usage ;;
  esac
  shift
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${LEXICA_CORPUS_DIR:-$(cd "$ROOT/../shared/corpus" && pwd)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lexica/target}
CACHE=${LEXICA_BENCH_CACHE:-$HOME/.cache/lexica/bench}
PG_URL=${LEXICA_BENCH_PG_URL:-postgres://postgres:lexica-test-superuser@127.0.0.1:54400/postgres}
RESULTS=$ROOT/tests/bench/results
mkdir -p "$CACHE" "$RESULTS"
log() { printf '[scale %s] %s\n' "$(date +%T)" "$*" >&2; }

if [[ $BUILD == 1 ]]; then
  log "building release binaries"
  (cd "$ROOT" && cargo build --release -p lexica-cli -p lexica-bench)
fi
LEXICA=$CARGO_TARGET_DIR/release/lexica
SYNTH=$CARGO_TARGET_DIR/release/lexica-synth

DATA=$CACHE/synth-s$SEED-n$N.$EXT
# Disk is checked before anything large is written: a run that fills the disk stops PostgreSQL
# mid-load and leaves nothing usable (a 1M-opinion load did, on a machine with 80 GB free).
# Sizes measured on 2026-12-06 with seed 1: a record is 19,651 bytes of JSON Lines on average,
# 51 % of that gzipped; the loaded PostgreSQL source takes 5.9 times its JSON Lines (23 GB for
# the 3.9 GB of 200,000 opinions: the text once per opinion and once per paragraph, each with its
# vector, plus the postings and the indexes).
RECORD_BYTES=19651
GZIP_PERCENT=51
PG_BYTES_PER_JSON_BYTE=6
# need_disk PATH BYTES WHAT: stops with a clear error when PATH's file system has less free.
need_disk() {
  local avail; avail=$(df -B1 --output=avail "$1" | tail -1)
  if (( avail < $2 )); then
    echo "error: $3 needs about $(( $2 / 1000000000 + 1 )) GB free on $(df --output=target "$1" | tail -1)," \
      "which has $(( avail / 1000000000 )) GB; free some space or choose a smaller N" >&2
    exit 1
  fi
}
want=$(( N * RECORD_BYTES ))
[[ $EXT == jsonl.gz ]] && want=$(( want * GZIP_PERCENT / 100 ))
have=$(stat -c %s "$DATA" 2>/dev/null || echo 0)
(( want > have )) && need_disk "$CACHE" $(( want - have )) "generating $N opinions"
log "generating $N opinions into $DATA (resumes a partial file)"
"$SYNTH" --opinions "$N" --seed "$SEED" --out "$DATA" --corpus "$CORPUS"
DATA_BYTES=$(stat -c %s "$DATA")

# The PostgreSQL URL's parts (python3: robust URL parsing; the password never goes on a command line).
pg_part() { python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print({"host": p.hostname or "127.0.0.1", "port": p.port or 5432, "user": u.unquote(p.username or "postgres"), "password": u.unquote(p.password or ""), "query": p.query}[sys.argv[2]])' "$PG_URL" "$1"; }

HOME_DIR=$CACHE/home-$BACKEND-s$SEED-n$N
rm -rf "$HOME_DIR"; mkdir -p "$HOME_DIR"
export LEXICA_KEYCHAIN=keyutils
lx() { "$LEXICA" --home "$HOME_DIR" "$@"; }
INGEST_JSON=$CACHE/ingest-$BACKEND-s$SEED-n$N.json
MARK=$CACHE/ingested-$BACKEND-s$SEED-n$N

if [[ $BACKEND == postgres ]]; then
  PGHOST=$(pg_part host); PGPORT=$(pg_part port); PGUSER=$(pg_part user); PGPASSWORD=$(pg_part password)
  export PGHOST PGPORT PGUSER PGPASSWORD
  DB=bench_b_s${SEED}_n${N}
  psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
  if [[ -z $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'") ]]; then
    log "creating database $DB"
    psql_admin -c "CREATE DATABASE $DB"
    rm -f "$MARK"  # a new database: whatever the cache remembers was loaded elsewhere
  fi
  TARGET="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
  PG_VERSION=$(psql_admin -tAc "SHOW server_version")
else
  TARGET=$CACHE/synth-s$SEED-n$N.sqlite
  [[ -f $TARGET ]] || rm -f "$MARK"
  PG_VERSION=""
fi

if [[ $REINGEST == 1 || ! -f $MARK || $(cat "$MARK") != "$DATA_BYTES" ]]; then
  if [[ $BACKEND == postgres ]]; then
    # The server's data directory, when it is on this machine (a remote server's disk is its DBA's).
    PG_DATA=$(psql_admin -tAc "SHOW data_directory")
    PLAIN_BYTES=$DATA_BYTES
    [[ $EXT == jsonl.gz ]] && PLAIN_BYTES=$(( DATA_BYTES * 100 / GZIP_PERCENT ))
    HELD=$(psql_admin -tAc "SELECT pg_database_size('$DB')")
    if [[ -d $PG_DATA ]]; then
      need=$(( PLAIN_BYTES * PG_BYTES_PER_JSON_BYTE - HELD ))
      (( need > 0 )) && need_disk "$PG_DATA" "$need" "loading $N opinions into PostgreSQL"
    else
      log "PostgreSQL's data directory is not on this machine: its free space is not checked"
    fi
  fi
  log "ingesting into $BACKEND (idempotent: re-running resumes)"
  # PGPASSWORD (set above for PostgreSQL) is how `lexica ingest` takes the loader's password.
  "$LEXICA" --json ingest "$DATA" --into "$TARGET" > "$INGEST_JSON"
  jq -r '"ingest: \(.records) records, \(.inserted) inserted, \(.unchanged) unchanged, \(.rejected) rejected, \(.elapsed_secs | floor) s, \(.mb_per_sec) MB/s"' "$INGEST_JSON" >&2
  echo "$DATA_BYTES" > "$MARK"
else
  log "already ingested (delete $MARK or pass --reingest to load again)"
fi

SOURCE=bench
if [[ $BACKEND == postgres ]]; then
  # A SELECT-only role for Lexica (what the doctor recommends), with a fresh random password each run.
  READER=bench_b_reader
  READER_PW=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  # The password reaches psql on stdin, never on a command line.
  { printf '\\set pw %s\n' "$READER_PW"; cat <<'SQL'; } | psql_admin -v role="$READER" -v db="$DB"
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'pw') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'role') \gexec
SQL
  psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -v role="$READER" <<'SQL'
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'role') \gexec
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', :'role') \gexec
SQL
  QUERY=$(pg_part query)
  URL="postgres://$READER@$PGHOST:$PGPORT/$DB${QUERY:+?$QUERY}"
  unset PGPASSWORD  # from here on Lexica reads the password from the keychain only
  lx sources add "$SOURCE" --display-name "Synthetic $N (PostgreSQL)" --url "$URL" >/dev/null
  printf %s "$READER_PW" | lx sources set-password "$SOURCE" --stdin >/dev/null
else
  lx sources add "$SOURCE" --display-name "Synthetic $N (SQLite)" --url "sqlite:$TARGET" >/dev/null
fi
lx grants grant "$(id -un)" "$SOURCE" >/dev/null
log "source doctor:"
lx sources test "$SOURCE" >&2 || true

COMMON=$CACHE/common-queries.txt
printf '%s\n' court state 'jurisdiction & state' hearsay > "$COMMON"
SAMPLE=$CACHE/corpus-every-16th.jsonl
awk 'NR % 16 == 1' "$CORPUS/legal_boolean_queries.jsonl" > "$SAMPLE"
RUN_DIR=$(mktemp -d)
# set name, queries file, timed runs, extra bench arguments
run_set() {
  log "lexica bench: $1 ($2), $3 timed run(s) each${4:+, $4}"
  # shellcheck disable=SC2086  # $4 is a word list on purpose
  lx --json bench "$2" --source "$SOURCE" --repeat "$3" $4 > "$RUN_DIR/$1.json"
}
run_set common "$COMMON" "$REPEAT" "--baseline ts-rank-cd"
run_set corpus "$CORPUS/legal_boolean_queries.jsonl" "$REPEAT" ""
run_set sample "$SAMPLE" 1 "--baseline ts-rank-cd"

OUT=$RESULTS/scale-$N-$BACKEND
COMMIT=$(git -C "$ROOT" rev-parse HEAD)
DIRTY=$([[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no) ]] && echo true || echo false)
jq -n \
  --arg n "$N" --arg seed "$SEED" --arg backend "$BACKEND" --arg repeat "$REPEAT" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$COMMIT" --argjson dirty "$DIRTY" \
  --arg nproc "$(nproc)" --arg mem "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
  --arg cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
  --arg pg "$PG_VERSION" --arg rustc "$(rustc --version)" --arg data_bytes "$DATA_BYTES" \
  --arg command "tests/bench/scale.sh $N$([[ $BACKEND == sqlite ]] && echo ' --sqlite') --seed $SEED --repeat $REPEAT$([[ $EXT == jsonl.gz ]] && echo ' --gzip')" \
  --slurpfile ingest "$INGEST_JSON" --slurpfile common "$RUN_DIR/common.json" --slurpfile corpus "$RUN_DIR/corpus.json" --slurpfile sample "$RUN_DIR/sample.json" \
  '{command: $command, date: $date,
    machine: {nproc: ($nproc | tonumber), memory: $mem, cpu: $cpu},
    versions: {lexica_commit: $commit, working_tree_modified: $dirty, postgresql: (if $pg == "" then null else $pg end), rustc: $rustc},
    corpus: {opinions: ($n | tonumber), seed: ($seed | tonumber), backend: $backend, jsonl_bytes: ($data_bytes | tonumber)},
    ingest: $ingest[0], repeat: ($repeat | tonumber), common: $common[0], corpus_queries: $corpus[0],
    corpus_sample: $sample[0]}' > "$OUT.json"
python3 "$ROOT/tests/bench/render.py" "$OUT.json" > "$OUT.md"
rm -rf "$RUN_DIR"
log "wrote $OUT.json and $OUT.md"
cat "$OUT.md"
}

main "$@"; exit  # on the line bash has read: an edit of this file during a run is never executed after main
