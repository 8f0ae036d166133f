"""Every preflight check failing on its own on the Artifactory emulator (real HTTP on
127.0.0.1), as ``test_promotion.py`` does on the local registry: the check fails with its
reason, execute is refused, and not one write request reaches the server."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from relman.paths import atomic_write
from relman.registry.artifactory import ArtifactoryRegistry
from relman.release.promotion import PromotionRefused, Request
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN
from tests.unit.release.lineage_support import World
from tests.unit.release.promotion_support import Setup

WRITES = {"PUT", "POST", "DELETE", "PATCH"}


@pytest.fixture
def setup(relman_home: Path, artifactory: ArtifactoryEmulator) -> Iterator[Setup]:
    setup = Setup.create(relman_home)
    remote = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    setup.world = World(remote, ci=setup.world.ci, promoter=setup.world.promoter)
    yield setup
    remote.close()


def refused(
    setup: Setup, emu: ArtifactoryEmulator, request: Request, *failing: str, contains: str = ""
) -> str:
    engine = setup.engine()
    logged = setup.log.entries()
    plan = engine.plan(request)
    result = engine.preflight(plan)
    assert [c.name for c in result.failed] == list(failing), result.failed
    emu.reset_log()
    statuses = {key: info.get("statuses") for key, info in emu.builds.items()}
    with pytest.raises(PromotionRefused) as caught:
        engine.execute(plan)
    assert "nothing was written" in str(caught.value)
    writes = [
        r
        for r in emu.requests
        if r.method in WRITES
        and not r.path.startswith("/api/search/")  # AQL is a POST that reads
        and "dry=1" not in r.query.split("&")  # a copy's dry run writes nothing
        and not r.path.startswith("/api/build/promote/")  # checked below: statuses unchanged
    ]
    assert writes == [], writes
    assert {key: info.get("statuses") for key, info in emu.builds.items()} == statuses
    assert setup.log.entries() == logged
    detail = "; ".join(c.detail for c in result.failed)
    assert contains in detail, detail
    return detail


def promoted_to_qa(setup: Setup) -> None:
    engine = setup.engine()
    engine.execute(engine.plan(Request("acme", "1", "qa")))


def test_tampered_bytes_on_the_server(setup: Setup, artifactory: ArtifactoryEmulator) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    stored = artifactory.file("libs-dev", "acme/1/app.tgz")
    assert stored is not None
    stored.content = b"evl"  # same size, the recorded checksums unchanged: a disk edit
    detail = refused(setup, artifactory, Request("acme", "1", "qa"), "bytes", "signatures")
    assert "sha256" in detail


def test_untrusted_signature(setup: Setup, artifactory: ArtifactoryEmulator) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    mallory = ed25519.Ed25519PrivateKey.generate()
    artifactory.deploy("libs-dev", "acme/1/app.tgz.sig", base64.b64encode(mallory.sign(b"app")))
    refused(setup, artifactory, Request("acme", "1", "qa"), "signatures", contains="app.tgz")


def test_missing_signature(setup: Setup, artifactory: ArtifactoryEmulator) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    refused(
        setup,
        artifactory,
        Request("acme", "1", "qa"),
        "signatures",
        contains="no signature by a trusted key beside libs-dev/acme/1/app.tgz",
    )


def test_skipped_stage(setup: Setup, artifactory: ArtifactoryEmulator) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    refused(
        setup,
        artifactory,
        Request("acme", "1", "prod"),
        "environment-order",
        "bytes",
        "signatures",
        "approvals",
        contains="acme/1 is not in qa: a build reaches prod only from qa",
    )


def test_rebuilt(setup: Setup, artifactory: ArtifactoryEmulator) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.world.build("acme", 2, {"app.tgz": b"app, built again"}, hours=1)
    detail = refused(setup, artifactory, Request("acme", "1", "qa"), "build-once")
    assert detail.startswith("rebuilt: app.tgz: commit ")


def test_overwritten(setup: Setup, artifactory: ArtifactoryEmulator) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    props = artifactory.properties("libs-dev", "acme/1/app.tgz")
    artifactory.deploy("libs-dev", "acme/1/app.tgz", b"new", properties=props)
    refused(
        setup,
        artifactory,
        Request("acme", "1", "qa"),
        "bytes",
        "signatures",
        "build-once",
        contains="overwritten: app.tgz: ",
    )


def test_different_bytes_already_at_the_target(
    setup: Setup, artifactory: ArtifactoryEmulator
) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    artifactory.deploy("libs-qa", "acme/1/app.tgz", b"other", properties={"build.name": ["other"]})
    detail = refused(setup, artifactory, Request("acme", "1", "qa"), "target")
    assert f"already holds other bytes (sha256 {hashlib.sha256(b'other').hexdigest()})" in detail


@pytest.mark.parametrize(
    ("approver", "policy", "why"),
    [
        ("ben", b"[profiles.acme.environments.prod]\napprovals = 2\n", "1 of 2 required"),
        (None, b"", "is the promoter's own key (no self-approval)"),
    ],
)
def test_approvals_too_few_or_by_the_promoter(
    setup: Setup,
    artifactory: ArtifactoryEmulator,
    relman_home: Path,
    approver: str | None,
    policy: bytes,
    why: str,
) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    promoted_to_qa(setup)
    if policy:
        atomic_write(relman_home / "config" / "policy.toml", policy)
    engine = setup.engine()
    who: Callable[[], object] = (
        (lambda: setup.approver(approver)) if approver else (lambda: setup.anna)
    )
    engine.approve(engine.plan(Request("acme", "1", "prod")), who())  # type: ignore[arg-type]
    refused(setup, artifactory, Request("acme", "1", "prod"), "approvals", contains=why)
