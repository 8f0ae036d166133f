"""Lineage's cache of verified signatures (``<cache>/lineage/``) and its local-registry scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from relman import paths
from relman.registry.local import LocalRegistry
from relman.release import lineage as lineage_module
from relman.release.lineage import Lineage, build_lineage
from relman.verify.signatures.base import Context
from tests.unit.release.lineage_support import ENVIRONMENTS, World, cosign, public


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World.create(tmp_path / "registry")


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sidecars lineage actually verified (not taken from a cache)."""
    seen: list[str] = []
    real = lineage_module._Builder._verify

    def counting(self: object, loc: object, suffix: str, source: str, data: bytes) -> object:
        seen.append(source)
        return real(self, loc, suffix, source, data)  # type: ignore[arg-type]

    monkeypatch.setattr(lineage_module._Builder, "_verify", counting)
    return seen


def run(world: World, context: Context | None = None, *, cache: bool = True) -> Lineage:
    return build_lineage(
        world.registry, ENVIRONMENTS, context or world.context, verification_cache=cache
    )


def signatures(result: Lineage) -> list[tuple[str, str, str, str | None]]:
    return [
        (s.sidecar, s.status, s.detail, s.signer)
        for b in result.builds
        for a in b.artifacts
        for s in a.signatures
    ]


def cache_files() -> list[Path]:
    return sorted((paths.resolve().cache / "lineage").glob("signatures-*.json"))


def test_a_second_run_takes_verified_signatures_from_the_cache(
    world: World, verifications: list[str]
) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app", "lib.so": b"lib"})
    world.promote_all(build)
    first = run(world)
    # The copy in libs-qa has the same sidecar and bytes: checked once.
    assert sorted(verifications) == ["libs-dev/acme/1/app.tgz.sig", "libs-dev/acme/1/lib.so.sig"]
    assert len(cache_files()) == 1
    verifications.clear()
    second = run(world)
    assert verifications == []
    assert signatures(second) == signatures(first) and first.ok and second.ok
    assert {s[1] for s in signatures(second)} == {"verified"}


def test_the_cache_is_not_used_for_other_keys_bytes_or_when_off(
    world: World, verifications: list[str]
) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    run(world)
    verifications.clear()
    run(world, cache=False)
    assert verifications == ["libs-dev/acme/1/app.tgz.sig"]
    # Another trust store: its own cache file, and the signature fails.
    verifications.clear()
    stranger = Context(keys=(public(ec.generate_private_key(ec.SECP256R1()), "x"),))
    assert not run(world, stranger).ok and verifications == ["libs-dev/acme/1/app.tgz.sig"]
    assert len(cache_files()) == 1  # failures are not kept
    # Other sidecar bytes on disk (metadata unchanged): verified again, and they fail.
    sig = world.registry.root / "repos/libs-dev/acme/1/app.tgz.sig"
    sig.unlink()
    sig.write_bytes(cosign(world.ci, b"other bytes"))
    verifications.clear()
    result = run(world)
    assert verifications == ["libs-dev/acme/1/app.tgz.sig"]
    assert [f.kind for f in result.findings] == ["bad-signature"]


def test_an_unreadable_cache_is_ignored_and_replaced(
    world: World, verifications: list[str]
) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    run(world)
    (cache,) = cache_files()
    for junk in (b"not json", b"[]", b'{"entries": {"x": 1}}', b'{"results": [1], "entries": {}}'):
        cache.write_bytes(junk)
        verifications.clear()
        assert run(world).ok and verifications == ["libs-dev/acme/1/app.tgz.sig"]
    verifications.clear()
    assert run(world).ok and verifications == []
    # An entry of the wrong shape under the right key is not trusted.
    data = json.loads(cache.read_text())
    data["entries"] = {k: 7 for k in data["entries"]}
    cache.write_text(json.dumps(data))
    verifications.clear()
    assert run(world).ok and verifications == ["libs-dev/acme/1/app.tgz.sig"]


def test_an_unwritable_cache_is_only_logged(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})

    def refuse(path: Path, data: bytes, *, private: bool = False) -> None:
        raise PermissionError(13, "read-only", str(path))

    monkeypatch.setattr(paths, "atomic_write", refuse)
    assert run(world).ok
    assert "could not keep verified signatures" in caplog.text


class Wrapped:
    """The registry seen through the Registry protocol only (lineage's generic scan)."""

    def __init__(self, registry: LocalRegistry) -> None:
        self._registry = registry

    def __getattr__(self, name: str) -> object:
        if name in ("item_files", "item_at", "sidecar"):
            raise AttributeError(name)
        return getattr(self._registry, name)


def test_the_local_scan_finds_what_the_generic_scan_finds(world: World) -> None:
    """Sidecars set apart (their metadata unread), a sidecar of a sidecar set apart is an item
    (as the generic scan has it), a sidecar without its item is an item."""
    build = world.build("acme", 1, {"app.tgz": b"app", "lib.so": b"lib"})
    world.promote_all(build)
    world.registry.deploy("libs-dev", "acme/1/app.tgz.sig.sig", b"x")
    world.registry.deploy("libs-dev", "acme/1/gone.tgz.sig", b"x")
    world.registry.deploy("libs-dev", "acme/1/lib.so.sha256", b"x")
    local = run(world)
    generic = build_lineage(Wrapped(world.registry), ENVIRONMENTS, world.context)  # type: ignore[arg-type]
    assert local.to_json() == generic.to_json()
    assert local.findings == generic.findings and local.untraceable == generic.untraceable
    assert {str(u) for u in local.untraceable} == {
        "libs-dev/acme/1/app.tgz.sig.sig",
        "libs-dev/acme/1/gone.tgz.sig",
    }
