#!/usr/bin/env bash
# Install what the Lexica desktop app needs on Debian/Ubuntu, build it, and launch it.
#
#   src-tauri/scripts/run-app.sh [--no-install] [--build-only] [-- APP_ARGS...]
#
#   --no-install   skip the apt-get step (the Debian packages are already there)
#   --build-only   build, print the binary's path, do not launch (CI, e2e)
#
# The build method, used by this script, CI and the e2e tests alike (mixing methods recompiles tauri):
#   (cd ui && npm ci && npm run build)                                   # -> ui/dist
#   cargo build --locked -p lexica-app --features custom-protocol        # -> $CARGO_TARGET_DIR/debug/lexica-app
# `custom-protocol` embeds ui/dist in the binary; a build without it loads the Vite dev server (`npm run tauri dev`).
#
# Environment: LEXICA_HOME picks the install's folder (default: the OS app-data folder); CARGO_TARGET_DIR is honoured
# (default ~/.cache/lexica/target, as for the tests); RUST_LOG filters the log on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The same warm build folder as tests/run-all.sh and .ci/run.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lexica/target}"
BINARY="$CARGO_TARGET_DIR/debug/lexica-app"

NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19

install=1
launch=1
app_args=()
while (($#)); do
  case "$1" in
    --no-install) install=0 ;;
    --build-only) launch=0 ;;
    --) shift; app_args=("$@"); break ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run-app.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\033[1mrun-app:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mrun-app:\033[0m %s\n' "$*" >&2; exit 1; }

# 1. Debian packages: the one list shared with the test runner (only the missing ones; sudo when not root).
if ((install)); then
  command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian/Ubuntu; install the packages listed in tests/support/debian-packages.sh by hand, then use --no-install"
  say "checking Debian packages (tests/support/debian-packages.sh app)"
  bash "$ROOT/tests/support/debian-packages.sh" app
fi

# 2. Toolchains: Rust (rustup) and Node.js >= 20.19 (Vite 8). Debian's own rustc and nodejs are too old.
if ! command -v cargo >/dev/null; then
  if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  elif ((install)); then
    say "installing Rust with rustup (https://rustup.rs)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    die "cargo not found: install Rust with rustup (https://rustup.rs), then run this again"
  fi
fi
command -v node >/dev/null || die "Node.js not found: install Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}+ (e.g. from https://nodejs.org or your distribution's nodesource repository), then run this again"
IFS=. read -r node_major node_minor _ < <(node --version | tr -d v)
if ((node_major < NODE_MIN_MAJOR || (node_major == NODE_MIN_MAJOR && node_minor < NODE_MIN_MINOR))); then
  die "Node.js $(node --version) is too old: Vite 8 needs ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer"
fi

# 3. Build: the UI into ui/dist, then the app with ui/dist embedded.
say "building the UI (npm ci && npm run build in ui/)"
(cd "$ROOT/ui" && npm ci --no-audit --no-fund && npm run build)
say "building the app (cargo build -p lexica-app --features custom-protocol; a first build takes several minutes)"
(cd "$ROOT" && cargo build --locked -p lexica-app --features custom-protocol)
[[ -x "$BINARY" ]] || die "the build finished but $BINARY is missing"

if ((!launch)); then
  say "built $BINARY"
  echo "$BINARY"
  exit 0
fi

# 4. Launch.
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  die "no display (DISPLAY and WAYLAND_DISPLAY are unset): run this from a desktop session, or headless with
  Xvfb :99 -screen 0 1280x800x24 & DISPLAY=:99 $0 --no-install"
fi
say "launching $BINARY"
exec "$BINARY" "${app_args[@]}"
