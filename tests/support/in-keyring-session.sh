#!/usr/bin/env bash
# Runs inside `dbus-run-session`: starts gnome-keyring's Secret Service with an unlocked login
# collection, waits until it owns its bus name, then runs the given command. Tests that need the
# real keychain find it here; `secret-tool` reads what they stored (an independent client).
set -euo pipefail
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf %s lexica-test-keyring | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
       string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    export LEXICA_TEST_KEYRING=1
    exec "$@"
  fi
  sleep 0.1
done
echo "gnome-keyring did not come up on the session bus" >&2
exit 1
