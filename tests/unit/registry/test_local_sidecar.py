"""LocalRegistry.sidecar (one sidecar without resolving its path) and item_files/item_at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relman.errors import UsageError
from relman.registry.local import LocalRegistry


@pytest.fixture
def reg(tmp_path: Path) -> LocalRegistry:
    registry = LocalRegistry(tmp_path / "registry", create=True)
    registry.create_repository("libs-dev")
    registry.deploy("libs-dev", "acme/1/app.tgz", b"app", {"build.name": "acme"})
    registry.deploy("libs-dev", "acme/1/app.tgz.sig", b"signature\n")
    return registry


def test_sidecar_reads_what_sidecars_reads(reg: LocalRegistry) -> None:
    assert reg.sidecar("libs-dev", "acme/1/app.tgz", ".sig") == b"signature\n"
    assert reg.sidecars("libs-dev", "acme/1/app.tgz") == {".sig": b"signature\n"}
    assert reg.sidecar("libs-dev", "acme/1/app.tgz", ".asc") is None
    assert reg.sidecar("libs-dev", "acme/2/app.tgz", ".sig") is None
    (reg.root / "repos/libs-dev/acme/1/app.tgz.minisig").write_bytes(b"")
    assert reg.sidecar("libs-dev", "acme/1/app.tgz", ".minisig") == b""


def test_sidecar_refuses_what_sidecars_refuses(reg: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        reg.sidecar("libs-dev", "acme/1/app.tgz", ".exe")
    with pytest.raises(UsageError):
        reg.sidecar("libs-dev", "../acme/1/app.tgz", ".sig")
    with pytest.raises(UsageError):
        reg.sidecar("no such/repo", "acme/1/app.tgz", ".sig")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "app.tgz").write_bytes(b"x")
    (outside / "app.tgz.sig").write_bytes(b"secret")
    # A folder on the way that is a link out of the repository, and a sidecar that is one.
    (reg.root / "repos/libs-dev/out").symlink_to(outside)
    with pytest.raises(UsageError, match="outside its repository"):
        reg.sidecar("libs-dev", "out/app.tgz", ".sig")
    (reg.root / "repos/libs-dev/acme/1/app.tgz.asc").symlink_to(outside / "app.tgz.sig")
    with pytest.raises(UsageError, match="outside its repository"):
        reg.sidecar("libs-dev", "acme/1/app.tgz", ".asc")
    # A folder in place of the sidecar is no sidecar.
    (reg.root / "repos/libs-dev/acme/1/app.tgz.sha256").mkdir()
    assert reg.sidecar("libs-dev", "acme/1/app.tgz", ".sha256") is None


def test_a_link_inside_the_repository_is_followed(reg: LocalRegistry) -> None:
    (reg.root / "repos/libs-dev/latest").symlink_to(reg.root / "repos/libs-dev/acme/1")
    assert reg.sidecar("libs-dev", "latest/app.tgz", ".sig") == b"signature\n"
    (reg.root / "repos/libs-dev/acme/1/app.tgz.asc").symlink_to("app.tgz.sig")
    assert reg.sidecar("libs-dev", "acme/1/app.tgz", ".asc") == b"signature\n"


def test_item_files_and_item_at_give_what_items_gives(reg: LocalRegistry) -> None:
    listed = list(reg.item_files("libs-dev"))
    assert [path for path, _ in listed] == ["acme/1/app.tgz", "acme/1/app.tgz.sig"]
    assert [reg.item_at("libs-dev", p, f) for p, f in listed] == list(reg.items("libs-dev"))


def test_listed_sidecar_reads_what_the_walk_listed(reg: LocalRegistry, tmp_path: Path) -> None:
    files = dict(reg.item_files("libs-dev"))
    full = files["acme/1/app.tgz.sig"]
    assert reg.listed_sidecar("libs-dev", "acme/1/app.tgz.sig") == b"signature\n"
    # A link inside the repository is read through the full check; one out of it is refused.
    (reg.root / "repos/libs-dev/acme/1/app.tgz.asc").symlink_to("app.tgz.sig")
    outside = tmp_path / "secret"
    outside.write_bytes(b"secret")
    (reg.root / "repos/libs-dev/acme/1/app.tgz.minisig").symlink_to(outside)
    files = dict(reg.item_files("libs-dev"))
    asc = files["acme/1/app.tgz.asc"]
    assert reg.listed_sidecar("libs-dev", "acme/1/app.tgz.asc") == b"signature\n"
    with pytest.raises(UsageError, match="outside its repository"):
        reg.listed_sidecar("libs-dev", "acme/1/app.tgz.minisig")
    # Gone since the walk, or a folder now, or a link to a folder now.
    os.unlink(full)
    assert reg.listed_sidecar("libs-dev", "acme/1/app.tgz.sig") is None
    os.mkdir(full)
    assert reg.listed_sidecar("libs-dev", "acme/1/app.tgz.sig") is None
    os.unlink(asc)
    os.symlink(full, asc)
    assert reg.listed_sidecar("libs-dev", "acme/1/app.tgz.asc") is None


def test_listed_sidecar_checks_its_path(reg: LocalRegistry) -> None:
    with pytest.raises(UsageError):
        reg.listed_sidecar("libs-dev", "../../.relman/registry.json")
    with pytest.raises(UsageError):
        reg.listed_sidecar("../libs-dev", "acme/1/app.tgz.sig")


def test_a_big_sidecar_is_read_whole(reg: LocalRegistry) -> None:
    data = bytes(range(256)) * 1000
    (reg.root / "repos/libs-dev/acme/1/app.tgz.asc").write_bytes(data)
    assert reg.sidecar("libs-dev", "acme/1/app.tgz", ".asc") == data
    assert reg.listed_sidecar("libs-dev", "acme/1/app.tgz.asc") == data
    assert reg.sidecars("libs-dev", "acme/1/app.tgz")[".asc"] == data
