"""relman.settings: profiles, environments and where their tokens come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from relman import secrets, settings
from relman.errors import UsageError
from relman.model import DEFAULT_LABEL_PROPERTY, Environment, Profile
from relman.secrets import KeyringUnavailable
from tests.keyring_support import needs_keyring


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import keyring
    import keyring.backends.fail

    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_environments_parse_and_print() -> None:
    assert settings.parse_environment("dev=repo:libs-dev") == Environment(
        "dev", "repository", repo="libs-dev"
    )
    qa = settings.parse_environment("qa=label")
    assert qa == Environment("qa", "label", label=DEFAULT_LABEL_PROPERTY)
    prod = settings.parse_environment("prod=label:acme.stage")
    assert [str(e) for e in (settings.parse_environment("dev=repo:libs-dev"), qa, prod)] == [
        "dev=repo:libs-dev",
        "qa=label",
        "prod=label:acme.stage",
    ]
    profile = settings.make_profile("p", "local", "reg", environments=[qa, "prod=label:acme.stage"])
    assert profile.environment("prod") == prod and profile.environment("dev") is None
    assert Path(profile.url).is_absolute()


def test_local_profile_has_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    local = Profile("l", "local", "/tmp/x")
    monkeypatch.setenv("RELMAN_TOKEN", "from-env")
    assert settings.token_for(local) is None
    with pytest.raises(UsageError, match="a local profile takes no token"):
        settings.add_profile(local, token="x")


def test_default_profile_is_the_data_dir_registry(relman_home: Path) -> None:
    profile = settings.default_profile()
    assert profile == Profile("local", "local", str(relman_home / "data" / "registry"))


def test_without_a_keyring(no_keyring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    server = settings.make_profile("rt", "artifactory", "https://rt.example.com")
    monkeypatch.delenv("RELMAN_TOKEN", raising=False)
    assert settings.token_for(server) is None  # nothing anywhere: the server will say 401
    assert settings.token_for(server, {"RELMAN_TOKEN": "ci-token"}) == "ci-token"
    # Adding with a token fails before anything is written; without one it works.
    with pytest.raises(KeyringUnavailable, match="no OS keyring is available"):
        settings.add_profile(server, token="secret-token")
    assert settings.load_profiles() == {}
    settings.add_profile(server)
    assert settings.remove_profile("rt") is False
    assert settings.load_profiles() == {}


def test_get_profile_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no profile named 'x' \(profiles: none\)"):
        settings.get_profile("x")
    settings.add_profile(settings.make_profile("a", "local", str(tmp_path / "a")))
    with pytest.raises(UsageError, match=r"\(profiles: a\)"):
        settings.get_profile("x")
    assert settings.get_profile("a").kind == "local"


def keyring_test(test):  # type: ignore[no-untyped-def]
    for mark in needs_keyring:
        test = mark(test)
    return test


@keyring_test
def test_failed_save_takes_the_token_back(monkeypatch: pytest.MonkeyPatch) -> None:
    server = settings.make_profile("nx", "nexus", "https://nx.example.com")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings, "save_profiles", disk_full)
    with pytest.raises(OSError, match="No space left"):
        settings.add_profile(server, token="tok-123")
    assert secrets.get_secret("token:nx") is None


@keyring_test
def test_remove_without_a_stored_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELMAN_TOKEN", raising=False)
    settings.add_profile(settings.make_profile("nx2", "nexus", "https://nx.example.com"))
    assert settings.token_for(settings.get_profile("nx2")) is None
    assert settings.remove_profile("nx2") is False


def test_failed_save_without_a_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings, "save_profiles", disk_full)
    with pytest.raises(OSError, match="No space left"):
        settings.add_profile(settings.make_profile("l", "local", str(tmp_path / "l")))
