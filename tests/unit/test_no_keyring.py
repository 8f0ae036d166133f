"""With no OS keyring at all, secrets fail loudly; nothing falls back to a file."""

from __future__ import annotations

import pytest

from relman import keystore, secrets


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    import keyring.backends.fail

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_status_says_missing() -> None:
    state = secrets.status()
    assert state.state == "missing" and not state.usable
    assert "no OS keyring is available" in state.detail


def test_every_secret_operation_fails_without_a_fallback(relman_home) -> None:
    for call in (
        lambda: secrets.get_secret("x"),
        lambda: secrets.set_secret("x", "value"),
        lambda: secrets.delete_secret("x"),
        lambda: keystore.generate("rm-anna"),
    ):
        with pytest.raises(secrets.KeyringUnavailable, match="no OS keyring is available"):
            call()
    assert keystore.list_keys() == []
    assert not any(p.is_file() for p in relman_home.rglob("*"))


def test_cli_says_which_and_exits_1(relman_cli) -> None:
    run = relman_cli("keys", "generate", "rm-anna")
    assert run.code == 1
    assert run.err.startswith("relman: no OS keyring is available")
    run = relman_cli("keys", "list")
    assert run.code == 0 and run.out.startswith("keyring: none, no OS keyring is available")
