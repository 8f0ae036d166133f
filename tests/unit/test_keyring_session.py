"""The test run's keyring is the real Secret Service, private to this run (TESTING.md).

Later tests keep signing keys and tokens in it; this proves the isolation they rely on.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import pytest

ISOLATED = os.environ.get("RELMAN_KEYRING_ISOLATED") == "1"
pytestmark = [
    pytest.mark.keyring,
    pytest.mark.skipif(
        not ISOLATED,
        reason="needs scripts/test.sh's private D-Bus session with gnome-keyring "
        "(apt-get install gnome-keyring dbus-x11)",
    ),
]


def test_backend_is_the_real_secret_service_in_a_throwaway_home() -> None:
    import keyring
    from keyring.backends import SecretService

    assert isinstance(keyring.get_keyring(), SecretService.Keyring)
    # scripts/test.sh points HOME at a throwaway folder, so nothing reaches a real keyring.
    home = Path(os.environ["HOME"]).resolve()
    assert home.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert "DBUS_SESSION_BUS_ADDRESS" in os.environ


def test_a_4kb_secret_round_trips_and_deletes() -> None:
    import keyring
    from keyring.errors import PasswordDeleteError

    value = secrets.token_urlsafe(3072)[:4096]
    keyring.set_password("relman-test", "round-trip", value)
    try:
        assert keyring.get_password("relman-test", "round-trip") == value
    finally:
        keyring.delete_password("relman-test", "round-trip")
    assert keyring.get_password("relman-test", "round-trip") is None
    with pytest.raises(PasswordDeleteError):
        keyring.delete_password("relman-test", "round-trip")
