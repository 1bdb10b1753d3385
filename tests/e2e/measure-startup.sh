#!/usr/bin/env bash
# Measures the RELEASE app (not a test): start-up time to a usable window and idle memory.
#
#   tests/e2e/measure-startup.sh [--no-build] [RUNS]     (RUNS launches, default 3; the first in a fresh LEXICA_HOME)
#
# For each launch: tauri-driver starts the app through WebKitWebDriver under Xvfb; "usable" is the time from the
# new-session request (the driver execs the binary) until the search box (#query) and the source list are in the
# DOM. Then 10 s idle, and VmRSS from /proc/PID/status of the app and each WebKit child process (web process,
# network process), summed (shared library pages count once per process), plus the PSS total (smaps_rollup).
# The driver's own processes (tauri-driver, WebKitWebDriver) are not counted.
# Figures include the WebDriver round trips (tens of ms). The OS page cache is not dropped: only the first launch
# after a build is a truly cold one for the disk.
#
# Build: (cd ui && npm run build) && cargo build --locked --release -p lexica-app --features custom-protocol
# (10+ minutes cold on 2 cores) -> $CARGO_TARGET_DIR/release/lexica-app.
set -euo pipefail

if [[ -z "${LEXICA_E2E_IN_KEYRING:-}" ]]; then
  LEXICA_E2E_IN_KEYRING=1 exec keyctl session - "$0" "$@" 2>/dev/null
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lexica/target}
export CARGO_TERM_COLOR=never
export PATH="$PATH:$HOME/.cargo/bin"
app=$CARGO_TARGET_DIR/release/lexica-app

build=1 runs=3
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    [0-9]*) runs=$arg ;;
    *) echo "usage: $0 [--no-build] [RUNS]" >&2; exit 2 ;;
  esac
done
if ((build)); then
  (cd ui && npm run --silent build >/dev/null)
  cargo build --locked --release -p lexica-app --features custom-protocol
fi
[[ -x $app ]] || { echo "$app is missing (run without --no-build)" >&2; exit 1; }
command -v tauri-driver >/dev/null || { echo "tauri-driver not found: cargo install tauri-driver --locked --version '^2'" >&2; exit 1; }

work=$(mktemp -d /tmp/lexica-measure.XXXXXX)
xvfb_pid='' driver_pid=''
cleanup() {
  set +e
  if [[ -n $driver_pid ]]; then
    kill -TERM "$driver_pid" 2>/dev/null # SIGTERM only (see run.sh)
    for _ in $(seq 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  [[ -n $xvfb_pid ]] && { kill -TERM "$xvfb_pid" 2>/dev/null; wait "$xvfb_pid" 2>/dev/null; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>/dev/null &
xvfb_pid=$!
for _ in $(seq 100); do [[ -s $work/display ]] && break; sleep 0.05; done
export DISPLAY=":$(tr -d '[:space:]' <"$work/display")"
export LEXICA_HOME=$work/home LEXICA_KEYCHAIN=keyutils

port=$(free_port)
tauri-driver --port "$port" --native-port "$(free_port)" >"$work/driver.log" 2>&1 &
driver_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break; sleep 0.1; done

echo "binary: $app ($(du -h "$app" | cut -f1))"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
E2E_DRIVER_URL=http://127.0.0.1:$port E2E_APP=$app E2E_RUNS=$runs E2E_DRIVER_PID=$driver_pid \
  node --input-type=module - <<'EOF'
import { readFileSync, readdirSync } from 'node:fs';
import { launch } from './tests/e2e/webdriver.mjs';

const { E2E_DRIVER_URL: base, E2E_APP: app, E2E_RUNS: runs, E2E_DRIVER_PID: driverPid } = process.env;

/** Every descendant of `pid` as { pid, name, rssKiB }. */
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(entry);
    } catch {}
  }
  const out = [];
  const walk = (p) => {
    for (const child of children.get(String(p)) ?? []) {
      try {
        const status = readFileSync(`/proc/${child}/status`, 'utf8');
        const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
        const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        let pss = 0;
        try {
          pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${child}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
        } catch {}
        out.push({ pid: child, name, rssKiB: rss, pssKiB: pss });
      } catch {}
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const mib = (kib) => (kib / 1024).toFixed(1);
for (let run = 1; run <= Number(runs); run++) {
  const t0 = performance.now();
  const s = await launch(base, app);
  const tSession = performance.now() - t0;
  await s.waitFor(async () => (await s.findAll('#query')).length > 0, 'the search box', 30_000);
  const tBox = performance.now() - t0;
  await s.waitFor(async () => (await s.findAll('fieldset.picker li.row')).length > 0, 'the source list', 30_000);
  const tSources = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10_000));
  // The app and WebKit's helpers; not the driver chain (tauri-driver -> WebKitWebDriver).
  const procs = descendants(driverPid).filter((p) => p.name !== 'WebKitWebDriver');
  const total = procs.reduce((sum, p) => sum + p.rssKiB, 0);
  const totalPss = procs.reduce((sum, p) => sum + p.pssKiB, 0);
  console.log(
    `run ${run}${run === 1 ? ' (fresh LEXICA_HOME)' : ''}: session ${tSession.toFixed(0)} ms, search box ${tBox.toFixed(0)} ms, ` +
      `sources listed ${tSources.toFixed(0)} ms; idle RSS after 10 s: ${mib(total)} MiB = ` +
      procs.map((p) => `${p.name} ${mib(p.rssKiB)}`).join(' + ') +
      ` (PSS, shared pages split: ${mib(totalPss)} MiB)`,
  );
  await s.quit();
  await new Promise((r) => setTimeout(r, 500));
}
EOF
