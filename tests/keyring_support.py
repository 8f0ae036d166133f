"""Marks for tests that need the real Secret Service of scripts/test.sh's private session."""

from __future__ import annotations

import os

import pytest

ISOLATED = os.environ.get("RELMAN_KEYRING_ISOLATED") == "1"

needs_keyring = [
    pytest.mark.keyring,
    pytest.mark.skipif(
        not ISOLATED,
        reason="needs scripts/test.sh's private D-Bus session with gnome-keyring "
        "(apt-get install gnome-keyring dbus-x11)",
    ),
]
