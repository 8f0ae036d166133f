"""Download and verify one artifact (relman.release.artifact_check) against the Artifactory
emulator and a local registry: verified, tampered, unrecorded, cancelled."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from relman.errors import Cancelled
from relman.model import CancelToken
from relman.registry import download
from relman.registry.artifactory import ArtifactoryRegistry
from relman.registry.local import LocalRegistry
from relman.release.artifact_check import DECLARED, RECORD, REGISTRY, download_and_verify
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN

DATA = b"the release that was tested\n" * 4096


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def reg(artifactory: ArtifactoryEmulator):
    registry = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, attempts=1)
    yield registry
    registry.close()


def leftovers() -> list[Path]:
    root = download.cache_root()
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_verified_bytes_land_in_the_cache(artifactory: ArtifactoryEmulator, reg) -> None:
    artifactory.deploy("libs-dev", "app/1/app.tgz", DATA)
    seen: list[tuple[int, int]] = []
    check = download_and_verify(
        reg,
        "libs-dev",
        "app/1/app.tgz",
        record_sha256=sha256(DATA).upper(),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert check.ok, check.summary
    assert check.sha256 == sha256(DATA) and check.size == len(DATA)
    assert check.cached == download.cache_path(sha256(DATA))
    assert check.cached.read_bytes() == DATA
    assert [(c.source, c.ok) for c in check.comparisons] == [
        (REGISTRY, True),
        (DECLARED, True),
        (RECORD, True),
    ]
    assert "verified" in check.summary and "build record" in check.summary
    assert seen and seen[-1] == (2 * len(DATA), 2 * len(DATA))
    assert leftovers() == [check.cached]


def test_bytes_unlike_what_was_deployed_fail(artifactory: ArtifactoryEmulator, reg) -> None:
    artifactory.deploy(
        "libs-dev", "app/1/app.tgz", DATA, original_checksums={"sha256": sha256(b"original")}
    )
    check = download_and_verify(reg, "libs-dev", "app/1/app.tgz", record_sha256=sha256(b"original"))
    assert not check.ok
    assert [(c.source, c.ok) for c in check.comparisons] == [
        (REGISTRY, True),
        (DECLARED, False),
        (RECORD, False),
    ]
    assert check.summary.startswith("libs-dev/app/1/app.tgz: FAILED: the bytes have SHA-256")
    assert "the SHA-256 the deployer declared" in check.summary
    assert "DIFFERENT" in check.comparisons[1].text
    assert "not recorded" not in " ".join(c.text for c in check.comparisons)


def test_nothing_to_compare_with_is_not_verified(artifactory: ArtifactoryEmulator, reg) -> None:
    artifactory.deploy("libs-dev", "old.jar", DATA, sha256=False, original_checksums={})
    check = download_and_verify(reg, "libs-dev", "old.jar")
    assert not check.ok and check.error is None
    assert [(c.source, c.ok) for c in check.comparisons] == [(REGISTRY, None), (RECORD, None)]
    assert "not verified: neither the registry nor a build record" in check.summary
    assert check.comparisons[0].text.endswith("not recorded")


def test_a_cancel_leaves_nothing_behind(artifactory: ArtifactoryEmulator, reg) -> None:
    artifactory.deploy("libs-dev", "big.bin", DATA * 64)
    token = CancelToken()

    def progress(done: int, _total: int) -> None:
        if done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        download_and_verify(reg, "libs-dev", "big.bin", progress=progress, cancel=token)
    assert leftovers() == []


def test_a_local_registry_is_checked_too(tmp_path: Path) -> None:
    local = LocalRegistry(tmp_path / "reg", create=True)
    local.create_repository("libs-dev")
    local.deploy("libs-dev", "a.bin", DATA)
    check = download_and_verify(local, "libs-dev", "a.bin", record_sha256=sha256(b"other"))
    assert not check.ok
    assert [(c.source, c.ok) for c in check.comparisons] == [(REGISTRY, True), (RECORD, False)]
