#!/usr/bin/env bash
# The whole default test run: lint, then the suite against the real Secret Service in a
# private D-Bus session (never the tester's own keyring), then the CLI and non-GUI suite again
# with Qt made unimportable, in a fresh private session of its own. Benchmarks are separate:
# `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1

bash scripts/lint.sh

# Isolate everything a test could touch: relman's own files and HOME.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

have_keyring=0
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    have_keyring=1
else
    echo "!! dbus-run-session or gnome-keyring-daemon is missing: the keyring tests will be"
    echo "!! SKIPPED (install gnome-keyring dbus-x11 libsecret-tools to run them)"
fi

# run_pass NAME COMMAND...: one pytest pass with its own HOME, RELMAN_HOME and, where the
# machine has them, its own D-Bus session and gnome-keyring (so no pass sees another's keyring).
run_pass() {
    local name=$1
    shift
    export HOME="$scratch/$name/home" RELMAN_HOME="$scratch/$name/relman-home"
    mkdir -p "$HOME"
    if [ "$have_keyring" = 1 ]; then
        echo "== $name (real Secret Service: gnome-keyring in a private D-Bus session)"
        dbus-run-session -- bash -c '
            set -euo pipefail
            eval "$(printf test | gnome-keyring-daemon --unlock --components=secrets)"
            export RELMAN_KEYRING_ISOLATED=1
            exec "$@"' run-pass "$@"
    else
        echo "== $name"
        "$@"
    fi
}

run_pass pytest python -m pytest "$@"
run_pass pytest-without-qt env \
    PYTHONPATH="$PWD/tests/noqt${PYTHONPATH:+:$PYTHONPATH}" RELMAN_BLOCK_QT=1 \
    python -m pytest -p no:pytest-qt -q tests/unit tests/cli
