#!/usr/bin/env bash
# End-to-end tests through the REAL app: tauri-driver + WebKitWebDriver drive the built lexica-app binary
# under Xvfb, against real PostgreSQL sources. No mocks.
#
#   tests/e2e/run.sh [--no-build]
#
# What it does, all torn down on exit:
#   1. builds the UI, the app (`--features custom-protocol`, the one build method) and the `lexica` CLI
#      (incremental: seconds when warm; --no-build skips it and uses what is in $CARGO_TARGET_DIR/debug);
#   2. starts Xvfb on a free display and a throwaway PostgreSQL 15 cluster (tests/support/pg-cluster.sh),
#      or reuses the cluster of LEXICA_TEST_PG_URL (superuser URL) when set, with databases named per run;
#   3. loads two PostgreSQL sources from ../shared/corpus/opinions.jsonl.gz with `lexica ingest`, plus a
#      slow one (its `opinions` is a view calling pg_sleep) and registers them, with one source pointing
#      at a port nothing listens on, in a fresh LEXICA_HOME; passwords go to a private gnome-keyring (Secret
#      Service) on a private D-Bus session, which the app inherits (fallback: the kernel keyring of a private
#      `keyctl session`, LEXICA_KEYCHAIN=keyutils); a second, fresh install for the settings window's tests;
#   4. starts one tauri-driver per install (free ports) and runs tests/e2e/*.test.mjs with `node --test` (TAP).
# Screenshots and logs go to tests/e2e/artifacts/ (gitignored). Prints `e2e: N passed, N failed` last.
#
# Needs: tauri-driver (`cargo install tauri-driver --locked --version '^2'`), /usr/bin/WebKitWebDriver
# (webkit2gtk-driver), Xvfb, gnome-keyring + dbus-run-session + secret-tool (or keyctl), PostgreSQL 15, python3,
# Node.js >= 20.19.
set -euo pipefail

# Passwords live in a keychain of our own: re-run inside a private D-Bus session whose gnome-keyring serves the
# Secret Service (unlocked; the app's default store, which `secret-tool` can read from outside), or, without
# gnome-keyring, inside a private kernel-keyring session (LEXICA_KEYCHAIN=keyutils). E2E_KEYCHAIN=keyutils forces
# the latter.
if [[ -z "${LEXICA_E2E_IN_KEYRING:-}" ]]; then
  support="$(cd "$(dirname "${BASH_SOURCE[0]}")/../support" && pwd)"
  if [[ ${E2E_KEYCHAIN:-} != keyutils ]] && command -v dbus-run-session >/dev/null &&
    command -v gnome-keyring-daemon >/dev/null && command -v secret-tool >/dev/null; then
    keyring_home=$(mktemp -d /tmp/lexica-e2e-keyring.XXXXXX)
    mkdir -p "$keyring_home/data" "$keyring_home/run"
    chmod 700 "$keyring_home" "$keyring_home/run"
    status=0
    XDG_DATA_HOME=$keyring_home/data XDG_RUNTIME_DIR=$keyring_home/run LEXICA_E2E_KEYRING_HOME=$keyring_home \
      LEXICA_E2E_IN_KEYRING=secret-service dbus-run-session -- "$support/in-keyring-session.sh" "$0" "$@" ||
      status=$?
    rm -rf "$keyring_home"
    exit "$status"
  fi
  LEXICA_E2E_IN_KEYRING=keyutils exec keyctl session - "$0" "$@"
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lexica/target}
export CARGO_TERM_COLOR=never
export PATH="$PATH:$HOME/.cargo/bin"
corpus=${LEXICA_CORPUS:-$root/../shared/corpus/opinions.jsonl.gz}
artifacts=$here/artifacts
app=$CARGO_TARGET_DIR/debug/lexica-app
cli=$CARGO_TARGET_DIR/debug/lexica

say() { printf 'e2e: %s\n' "$*" >&2; }
die() { printf 'e2e: %s\n' "$*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    *) die "unknown option '$arg' (usage: tests/e2e/run.sh [--no-build])" ;;
  esac
done

command -v tauri-driver >/dev/null || die "tauri-driver not found: cargo install tauri-driver --locked --version '^2'"
[[ -x /usr/bin/WebKitWebDriver ]] || die "/usr/bin/WebKitWebDriver not found: apt-get install webkit2gtk-driver"
command -v Xvfb >/dev/null || die "Xvfb not found: apt-get install xvfb"
command -v xdotool >/dev/null || die "xdotool not found: apt-get install xdotool (the e2e tests press the menu shortcut through the X server)"
[[ -r $corpus ]] || die "corpus not found at $corpus (set LEXICA_CORPUS)"

if ((build)); then
  say "building the UI, the app (custom-protocol) and the CLI"
  (cd ui && npm run --silent build >/dev/null)
  cargo build --locked -p lexica-app --features custom-protocol
  cargo build --locked -p lexica-cli
fi
[[ -x $app ]] || die "$app is missing: build it (see src-tauri/scripts/run-app.sh)"
[[ -x $cli ]] || die "$cli is missing: cargo build -p lexica-cli"

rm -rf "$artifacts"
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/lexica-e2e.XXXXXX)
xvfb_pid='' driver_pid='' pg_dir='' pg_admin='' role='' reader='' dbs=()

cleanup() {
  local rc=$?
  set +e
  for pid in $driver_pid; do
    # SIGTERM only: a killed tauri-driver leaves WebKitWebDriver holding its port.
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  [[ -n $xvfb_pid ]] && { kill -TERM "$xvfb_pid" 2>/dev/null; wait "$xvfb_pid" 2>/dev/null; }
  if [[ -n $pg_dir ]]; then
    tests/support/pg-cluster.sh stop "$pg_dir"
    rm -rf "$pg_dir"
  elif [[ -n $pg_admin && ${#dbs[@]} -gt 0 ]]; then
    for db in "${dbs[@]}"; do psql "$pg_admin" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; done
    psql "$pg_admin" -qAtc "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
    [[ -n $reader ]] && psql "$pg_admin" -qAtc "DROP ROLE IF EXISTS $reader" >/dev/null 2>&1
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- display ------------------------------------------------------------------------------------------
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$artifacts/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 100); do [[ -s $work/display ]] && break; sleep 0.05; done
[[ -s $work/display ]] || die "Xvfb did not start (see $artifacts/xvfb.log)"
export DISPLAY=":$(tr -d '[:space:]' <"$work/display")"
say "Xvfb on $DISPLAY"

# --- PostgreSQL ---------------------------------------------------------------------------------------
if [[ -n ${LEXICA_TEST_PG_URL:-} ]]; then
  pg_admin=$LEXICA_TEST_PG_URL
  say "reusing the PostgreSQL cluster of LEXICA_TEST_PG_URL"
else
  pg_dir=$(mktemp -d /tmp/lexica-e2e-pg.XXXXXX)
  eval "$(tests/support/pg-cluster.sh start "$pg_dir" "$(free_port)")"
  pg_admin=$LEXICA_TEST_PG_URL
fi
pg_hostport=$(python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(f"{p.hostname}:{p.port or 5432}")' "$pg_admin")
suffix="$$"
role=lexica_e2e_$suffix
password="e2e-$suffix-$RANDOM$RANDOM"
db_alpha=e2e_alpha_$suffix db_beta=e2e_beta_$suffix db_slow=e2e_slow_$suffix
psql "$pg_admin" -qAtc "CREATE ROLE $role LOGIN PASSWORD '$password'" >/dev/null
for db in "$db_alpha" "$db_beta" "$db_slow"; do
  psql "$pg_admin" -qAtc "CREATE DATABASE $db OWNER $role" >/dev/null
  dbs+=("$db")
done

say "splitting the corpus and loading the PostgreSQL sources"
python3 - "$corpus" "$work" <<'EOF'
import gzip, sys
corpus, out = sys.argv[1], sys.argv[2]
# alpha: lines 0-299, beta: 300-599 (distinct opinions, both with hearsay and due-process hits), slow: 3.
files = {name: open(f"{out}/{name}.jsonl", "w") for name in ("alpha", "beta", "slow")}
with gzip.open(corpus, "rt") as f:
    for i, line in enumerate(f):
        if i < 300:
            files["alpha"].write(line)
        elif i < 600:
            files["beta"].write(line)
        elif i < 603:
            files["slow"].write(line)
        else:
            break
for f in files.values():
    f.close()
EOF
url() { echo "postgres://$role@$pg_hostport/$1"; }
for pair in "alpha:$db_alpha" "beta:$db_beta" "slow:$db_slow"; do
  PGPASSWORD=$password "$cli" ingest --quiet "$work/${pair%%:*}.jsonl" --into "$(url "${pair#*:}")" >"$artifacts/ingest-${pair%%:*}.log"
done
# The slow source: every row of `opinions` waits 10 s (as in lexica-core's tests/search.rs).
psql "postgres://$role:$password@$pg_hostport/$db_slow" -qAt >/dev/null <<'EOF'
ALTER TABLE opinions RENAME TO opinions_base;
CREATE FUNCTION slow() RETURNS boolean LANGUAGE sql VOLATILE AS 'SELECT pg_sleep(10) IS NOT NULL';
CREATE VIEW opinions AS SELECT * FROM opinions_base WHERE slow();
EOF

# The role the settings window's test pastes: it may only read the beta database (as the doctor advises).
reader=lexica_e2e_reader_$suffix
psql "$pg_admin" -qAtc "CREATE ROLE $reader LOGIN PASSWORD '$password'" >/dev/null
psql "postgres://$role:$password@$pg_hostport/$db_beta" -qAt >/dev/null <<EOF
GRANT USAGE ON SCHEMA public TO $reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO $reader;
EOF

# --- the install --------------------------------------------------------------------------------------
export LEXICA_HOME=$work/home
if [[ $LEXICA_E2E_IN_KEYRING == keyutils ]]; then
  export LEXICA_KEYCHAIN=keyutils
  say "passwords in the kernel keyring (keyutils) of a private keyctl session"
else
  unset LEXICA_KEYCHAIN
  say "passwords in a private gnome-keyring (Secret Service) on a private D-Bus session"
fi
mkdir -p "$LEXICA_HOME"
user=$(id -un)
down_port=$(free_port) # nothing listens there
add() { # NAME DISPLAY URL [options]
  local name=$1 display=$2 url=$3
  shift 3
  "$cli" sources add "$name" --display-name "$display" --url "$url" "$@" >/dev/null
  printf '%s\n' "$password" | "$cli" sources set-password "$name" --stdin >/dev/null
  "$cli" grants grant "$user" "$name" >/dev/null
}
add e2e_alpha "E2E Alpha (PostgreSQL)" "$(url "$db_alpha")"
add e2e_beta "E2E Beta (PostgreSQL)" "$(url "$db_beta")"
add e2e_slow "E2E Slow (PostgreSQL)" "$(url "$db_slow")" --query-timeout-ms 20000
add e2e_down "E2E Down (stopped)" "postgres://$role@127.0.0.1:$down_port/nowhere"
"$cli" sources list >"$artifacts/sources.txt"

# The settings window's tests (admin.test.mjs) get an install of their own, fresh (its OS user is its administrator,
# only the demo source), so what they add, grant and demote leaves the other tests' install alone. They paste a URL
# to one of the databases above, with the password in it.
admin_home=$work/admin-home
mkdir -p "$admin_home"

# --- tauri-driver -------------------------------------------------------------------------------------
# One per install: the app takes its install from LEXICA_HOME, which tauri-driver passes on to it.
start_driver() { # NAME HOME: sets driver_url
  local name=$1 home=$2 port native pid
  port=$(free_port)
  native=$(free_port)
  LEXICA_HOME=$home tauri-driver --port "$port" --native-port "$native" >"$artifacts/$name.log" 2>&1 &
  pid=$!
  driver_pid="$driver_pid $pid"
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "tauri-driver exited (see $artifacts/$name.log)"
    sleep 0.1
  done
  driver_url=http://127.0.0.1:$port
  say "$name on 127.0.0.1:$port (WebKitWebDriver on $native) for $home"
}
start_driver tauri-driver "$LEXICA_HOME"
main_driver=$driver_url
start_driver tauri-driver-admin "$admin_home"
admin_driver=$driver_url

# --- tests ----------------------------------------------------------------------------------------------
export E2E_DRIVER_URL=$main_driver E2E_APP=$app E2E_ARTIFACTS=$artifacts
export E2E_PG_ADMIN_URL=$pg_admin E2E_SLOW_DB=$db_slow
# admin.test.mjs: its driver and install, the URL it pastes (password inside), the CLI to look from outside.
export E2E_ADMIN_DRIVER_URL=$admin_driver E2E_ADMIN_HOME=$admin_home E2E_CLI=$cli
export E2E_PASTE_URL="postgres://$reader:$password@$pg_hostport/$db_beta"
export E2E_KEYCHAIN_STORE=$LEXICA_E2E_IN_KEYRING
set +e
node --test --test-reporter=tap --test-concurrency=1 ${E2E_ONLY:+"--test-name-pattern=$E2E_ONLY"} "$here"/*.test.mjs 2>&1 | tee "$artifacts/tap.log"
status=${PIPESTATUS[0]}
set -e
cp "$LEXICA_HOME"/logs/* "$artifacts/" 2>/dev/null || true
mkdir -p "$artifacts/admin-install"
cp "$admin_home"/logs/* "$artifacts/admin-install/" 2>/dev/null || true
passed=$(awk '/^# pass /{print $3}' "$artifacts/tap.log" | tail -1)
failed=$(awk '/^# fail /{print $3}' "$artifacts/tap.log" | tail -1)
# Leak scan: the sources' password was typed into the CLI and used by the app; it must appear nowhere
# in the install folder (app database, the app's and the CLI's logs) or in what the run printed. The settings
# window's install too: there it was pasted inside a URL and stored through the window.
if grep -rqaF -- "$password" "$LEXICA_HOME" "$admin_home" "$artifacts"; then
  echo "not ok - leak scan: the source password appears in $(grep -rlaF -- "$password" "$LEXICA_HOME" "$admin_home" "$artifacts" | tr '\n' ' ')"
  failed=$(( ${failed:-0} + 1 )); status=1
else
  # (E2E_ONLY may have run the tests of one install only.)
  compgen -G "$LEXICA_HOME/logs/lexica-app.log.*" >/dev/null || compgen -G "$admin_home/logs/lexica-app.log.*" >/dev/null ||
    { echo "not ok - the app wrote no log file"; failed=$(( ${failed:-0} + 1 )); status=1; }
  echo "ok - leak scan: the source password appears nowhere in the install folders or the logs"
  passed=$(( ${passed:-0} + 1 ))
fi
echo "e2e: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
