#!/usr/bin/env bash
# Lexica's whole test suite, from a fresh Debian/Ubuntu machine: installs what is needed, starts a
# throwaway PostgreSQL 15 cluster and a headless Secret Service keychain, then runs formatting,
# lints, type checks, the Rust suites (unit, integration, real Postgres, real keychain) and the UI
# checks, then the end-to-end tests through the real app (tests/e2e/run.sh). `.ci/run` calls exactly
# this. Set CARGO_TARGET_DIR to reuse a warm build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lexica/target}
export CARGO_TERM_COLOR=never
started=$(date +%s)
step() { printf '\n==> %s  (+%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

step "Debian packages"
tests/support/debian-packages.sh test

step "UI dependencies (npm ci)"
(cd ui && npm ci --no-audit --no-fund --loglevel=error)

step "UI type check, lint, format, build"
(cd ui && npm run --silent check && npm run --silent lint && npm run --silent format:check && npm run --silent build)

step "UI tests (headless Chromium, IPC mocked)"
ui_log=$(mktemp /tmp/lexica-ui-test-log.XXXXXX)
(cd ui && npm run --silent test:ui) 2>&1 | tee "$ui_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "UI tests failed" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Windows cross-check, started in the background (cargo check --target x86_64-pc-windows-gnu)"
# Most lawyers work on Windows; the core and the CLI must at least compile there (the Credential
# Manager store of keyring-core is only built for that target). The MinGW linker comes from
# debian-packages.sh; the target's standard library from rustup. It runs beside the Rust tests at
# the lowest priority, in a target directory of its own (a shared one would be locked by `cargo
# test` for the whole run), so it takes the CPU the tests leave idle instead of adding its ~6
# minutes (cold) to the suite. Its verdict is collected before the summary.
win_log=$(mktemp /tmp/lexica-windows-check-log.XXXXXX)
(
  rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
  CARGO_TARGET_DIR=$CARGO_TARGET_DIR-windows nice -n 19 \
    cargo check --locked --target x86_64-pc-windows-gnu -p lexica-core -p lexica-cli
) >"$win_log" 2>&1 &
win_pid=$!

step "Throwaway PostgreSQL 15 cluster"
pg_dir=$(mktemp -d /tmp/lexica-test-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { tests/support/pg-cluster.sh stop "$pg_dir" || true; rm -rf "$pg_dir"; }
trap cleanup EXIT
eval "$(tests/support/pg-cluster.sh start "$pg_dir" "$pg_port")"
echo "PostgreSQL on 127.0.0.1:$pg_port"

step "Rust tests (inside a private D-Bus session with an unlocked gnome-keyring)"
log=$(mktemp /tmp/lexica-test-log.XXXXXX)
keyring_home=$(mktemp -d /tmp/lexica-test-keyring.XXXXXX)
mkdir -p "$keyring_home/data" "$keyring_home/run"
chmod 700 "$keyring_home" "$keyring_home/run"
# A failing suite must not stop the script here: the bindings check and the e2e tests still run,
# and the summary is printed; the exit status carries the failure.
set +e
XDG_DATA_HOME=$keyring_home/data XDG_RUNTIME_DIR=$keyring_home/run \
  keyctl session - dbus-run-session -- tests/support/in-keyring-session.sh \
  cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

step "Generated TypeScript bindings are up to date"
if [ -n "$(git status --porcelain -- ui/src/lib/bindings)" ]; then
  git status --short -- ui/src/lib/bindings
  echo "ui/src/lib/bindings differs from what the Rust types generate: run 'cargo test' and commit the result" >&2
  status=1
fi

step "End-to-end tests (the real app through tauri-driver + WebKitWebDriver under Xvfb)"
command -v tauri-driver >/dev/null || [ -x "$HOME/.cargo/bin/tauri-driver" ] || cargo install tauri-driver --locked --version '^2'
e2e_log=$(mktemp /tmp/lexica-e2e-log.XXXXXX)
# Reuses the cluster above (LEXICA_TEST_PG_URL) with databases of its own; builds the app with custom-protocol.
set +e
tests/e2e/run.sh 2>&1 | tee "$e2e_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "end-to-end tests failed (screenshots and logs in tests/e2e/artifacts/)" >&2; status=1; }
set -e

step "Windows cross-check (its result)"
if wait "$win_pid"; then
  tail -n 1 "$win_log"
else
  tail -n 40 "$win_log"
  echo "the Windows cross-check failed: cargo check --target x86_64-pc-windows-gnu -p lexica-core -p lexica-cli" >&2
  status=1
fi

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')
ui_passed=$(awk '/^# pass /{print $3}' "$ui_log" | tail -1)
ui_failed=$(awk '/^# fail /{print $3}' "$ui_log" | tail -1)
e2e_passed=$(sed -n 's/^e2e: \([0-9]*\) passed.*/\1/p' "$e2e_log" | tail -1)
e2e_failed=$(sed -n 's/^e2e: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$e2e_log" | tail -1)
echo "rust: $passed passed, $failed failed; ui: ${ui_passed:-0} passed, ${ui_failed:-0} failed; e2e: ${e2e_passed:-0} passed, ${e2e_failed:-0} failed"
passed=$((passed + ${ui_passed:-0} + ${e2e_passed:-0})); failed=$((failed + ${ui_failed:-0} + ${e2e_failed:-0}))
step "done"
echo "tests: $passed passed, $failed failed"
exit "$status"
