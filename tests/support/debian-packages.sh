#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Lexica needs to build, run and test. Idempotent and quiet:
# it only calls apt when something is missing. Usage: tests/support/debian-packages.sh [app|test]
set -euo pipefail
want=${1:-test}
build=(pkg-config build-essential curl libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev nodejs npm)
test_only=(postgresql-15 postgresql-client-15 xvfb webkit2gtk-driver gnome-keyring libsecret-tools dbus dbus-bin dbus-x11 keyutils imagemagick xdotool chromium gcc-mingw-w64-x86-64)
pkgs=("${build[@]}")
[ "$want" = test ] && pkgs+=("${test_only[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # node/npm may come from elsewhere (nvm, nodesource): accept any working binary.
  case "$p" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
# postgresql-15 ships with Debian 12; keep it at the installed minor version (see machine-facts).
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
