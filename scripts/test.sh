#!/usr/bin/env bash
# The whole default test run: lint, the suite against the real Secret Service in a private
# D-Bus session (never the tester's own keyring), then the non-GUI suite with Qt made
# unimportable. Benchmarks are separate: `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1

bash scripts/lint.sh

# Isolate everything a test could touch: relman's own files and HOME.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export RELMAN_HOME="$scratch/relman-home"

if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    echo "== pytest (real Secret Service: gnome-keyring in a private D-Bus session)"
    HOME="$scratch/home" dbus-run-session -- bash -c '
        mkdir -p "$HOME"
        eval "$(printf test | gnome-keyring-daemon --unlock --components=secrets)"
        export RELMAN_KEYRING_ISOLATED=1
        python -m pytest "$@"' pytest "$@"
else
    echo "== pytest (no dbus-run-session/gnome-keyring-daemon here: keyring tests will be SKIPPED;"
    echo "   install gnome-keyring dbus-x11 to run them)"
    python -m pytest "$@"
fi

echo "== pytest without Qt (PySide6 made unimportable): the CLI and the non-GUI suite"
PYTHONPATH="$PWD/tests/noqt${PYTHONPATH:+:$PYTHONPATH}" RELMAN_BLOCK_QT=1 \
    python -m pytest -p no:pytestqt -q tests/unit tests/cli
