from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from relman import paths
from relman.errors import InputError


def test_relman_home_puts_everything_under_one_folder(tmp_path: Path) -> None:
    p = paths.resolve({"RELMAN_HOME": str(tmp_path)})
    assert (p.config, p.data, p.cache, p.logs) == (
        tmp_path / "config",
        tmp_path / "data",
        tmp_path / "cache",
        tmp_path / "logs",
    )
    assert p.log_file == tmp_path / "logs" / "relman.log"
    assert p.audit_log.parent == p.local_registry.parent == p.data
    assert not (tmp_path / "config").exists()  # nothing is created by resolving


def test_platformdirs_without_relman_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    p = paths.resolve({})
    assert p.config == tmp_path / "xdg-config" / "relman"
    assert p.data == tmp_path / "xdg-data" / "relman"


def test_environment_is_read_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELMAN_HOME", str(tmp_path))
    assert paths.resolve().config == tmp_path / "config"


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "settings.toml"
    paths.atomic_write(target, b"one")
    paths.atomic_write(target, b"two", private=True)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(target.parent)) == ["settings.toml"]


def test_atomic_write_leaves_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "profiles.toml"
    paths.atomic_write(target, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        paths.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["profiles.toml"]


def test_ensure_dir_reports_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot create folder"):
        paths.ensure_dir(tmp_path / "file" / "sub")
    made = paths.ensure_dir(tmp_path / "private", private=True)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


def test_index_round_trip_and_errors(tmp_path: Path) -> None:
    index = tmp_path / "trust.toml"
    assert paths.read_index(index, "the trust store index") == {}
    paths.write_index(index, {"b": {"kind": "ed25519"}, "a": {"kind": "rsa"}})
    assert list(paths.read_index(index, "x")) == ["a", "b"]
    index.write_text("keys = 3\n")
    with pytest.raises(InputError, match="'keys' is not a table"):
        paths.read_index(index, "the trust store index")
    index.write_text("[keys\n")
    with pytest.raises(InputError, match="cannot be read as the trust store index"):
        paths.read_index(index, "the trust store index")
