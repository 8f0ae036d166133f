#!/usr/bin/env bash
# The whole default test run: lint, then the suite against the real Secret Service in a
# private D-Bus session (never the tester's own keyring), then the CLI and non-GUI suite again
# with Qt made unimportable. Benchmarks are separate: `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1

bash scripts/lint.sh

# Isolate everything a test could touch: relman's own files and HOME.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export RELMAN_HOME="$scratch/relman-home"
export HOME="$scratch/home"
mkdir -p "$HOME"

passes='
echo "== pytest"
python -m pytest "$@"
echo "== pytest without Qt (PySide6 made unimportable): the CLI and the non-GUI suite"
PYTHONPATH="$PWD/tests/noqt${PYTHONPATH:+:$PYTHONPATH}" RELMAN_BLOCK_QT=1 \
    python -m pytest -p no:pytest-qt -q tests/unit tests/cli
'

if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    echo "== the real Secret Service: gnome-keyring in a private D-Bus session, HOME=$HOME"
    dbus-run-session -- bash -c '
        set -euo pipefail
        eval "$(printf test | gnome-keyring-daemon --unlock --components=secrets)"
        export RELMAN_KEYRING_ISOLATED=1
        '"$passes" pytest "$@"
else
    echo "!! dbus-run-session or gnome-keyring-daemon is missing: the keyring tests will be"
    echo "!! SKIPPED (install gnome-keyring dbus-x11 libsecret-tools to run them)"
    bash -c "set -euo pipefail; $passes" pytest "$@"
fi
