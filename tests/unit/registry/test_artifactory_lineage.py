"""Lineage over Artifactory equals lineage over the local registry for the same data, and
costs requests by pages and build runs, never by artifacts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from relman.model import BuildRecord, RepoPath
from relman.registry.artifactory import ArtifactoryRegistry
from relman.release.lineage import build_lineage
from relman.verify.signatures.base import Context
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN
from tests.unit.release.lineage_support import ENVIRONMENTS, REPO, World, cosign

COMMIT = "3f1c2a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"


def copy(world: World, build: BuildRecord, source: str, target: str, *, signed: bool) -> None:
    for artifact in build.artifacts:
        assert artifact.path is not None
        for suffix in ("", ".sig") if signed else ("",):
            world.registry.copy(
                RepoPath(REPO[source], artifact.path + suffix),
                RepoPath(REPO[target], artifact.path + suffix),
            )


def scenario(world: World, stranger) -> None:
    """Clean promotions, and one of each problem lineage finds."""
    clean = world.build("acme", 1, {"app.tgz": b"app 1", "lib.jar": b"lib 1"})
    copy(world, clean, "dev", "qa", signed=True)
    world.record(clean, "qa", "dev")
    world.label(clean, "libs-qa", "prod")
    world.record(clean, "prod", "qa")
    unrecorded = world.build("acme", 2, {"app.tgz": b"app 2"}, hours=1)  # rebuilt: same commit
    copy(world, unrecorded, "dev", "qa", signed=True)
    world.build("web", 7, {"web.tgz": b"web"}, sign=False, commit=None)  # unsigned, no identity
    skipped = world.build("api", 3, {"api.tgz": b"api"}, hours=2)
    world.label(skipped, "libs-dev", "prod")  # prod without qa
    bad = world.build("tool", 4, {"tool.bin": b"tool"}, sign=False)
    world.registry.deploy("libs-dev", "tool/4/tool.bin.sig", cosign(stranger, b"x"))
    world.registry.deploy(
        "libs-qa",
        "acme/1/app.tgz.extra",
        b"stray",
        {"build.name": "ghost", "build.number": "1"},
    )
    world.registry.deploy("libs-qa", "stray/readme.txt", b"nobody's")
    world.registry.deploy(
        "libs-qa",
        "tool/4/tool.bin",
        b"other bytes",
        {"build.name": "tool", "build.number": "4"},
    )
    del bad


@pytest.fixture
def worlds(tmp_path: Path, artifactory: ArtifactoryEmulator) -> tuple[World, World]:
    local = World.create(tmp_path / "local")
    artifactory.add_repo("scratch")
    remote = ArtifactoryRegistry(
        artifactory.url, token=ARTIFACTORY_TOKEN, page_size=5, records_repo="libs-dev"
    )
    served = World(remote, ci=local.ci, promoter=local.promoter)
    yield local, served
    remote.close()


def test_lineage_is_the_same_on_both_backends(worlds: tuple[World, World]) -> None:
    local, remote = worlds
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1())
    for world in (local, remote):
        scenario(world, stranger)
    context = local.context
    mine = build_lineage(local.registry, ENVIRONMENTS, context, verification_cache=False)
    theirs = build_lineage(remote.registry, ENVIRONMENTS, context, verification_cache=False)
    assert json.dumps(theirs.to_json(), indent=1) == json.dumps(mine.to_json(), indent=1)
    kinds = {f.kind for f in mine.findings}
    assert kinds == {
        "rebuilt",
        "overwritten",
        "untraceable",
        "unsigned",
        "bad-signature",
        "skipped-stage",
        "unverified-promotion",
    }
    one = build_lineage(remote.registry, ENVIRONMENTS, context, build="acme", number="1")
    assert (
        one.to_json()
        == build_lineage(local.registry, ENVIRONMENTS, context, build="acme", number="1").to_json()
    )
    assert one.builds[0].promotions[0].ok


def _seed_runs(emu: ArtifactoryEmulator, runs: int, artifacts: int) -> None:
    for number in range(1, runs + 1):
        files = {}
        for index in range(artifacts):
            data = f"run {number} artifact {index}".encode()
            path = f"app/{number}/part-{index}.bin"
            emu.deploy(
                "libs-dev",
                path,
                data,
                properties={
                    "build.name": "app",
                    "build.number": str(number),
                    "vcs.revision": COMMIT,
                },
            )
            files[path] = data
        emu.add_build(
            {
                "name": "app",
                "number": str(number),
                "started": f"2025-01-{1 + number // 1440:02d}T{number // 60 % 24:02d}:{number % 60:02d}:00.000Z",
                "vcs": [{"revision": COMMIT}],
                "modules": [
                    {
                        "id": "app",
                        "artifacts": [
                            {
                                "name": p.rsplit("/", 1)[1],
                                "path": p,
                                "sha256": hashlib.sha256(d).hexdigest(),
                            }
                            for p, d in files.items()
                        ],
                    }
                ],
            }
        )


@pytest.mark.parametrize("artifacts", [2, 8])
def test_requests_grow_with_runs_and_pages_not_artifacts(
    artifactory: ArtifactoryEmulator, artifacts: int
) -> None:
    runs = 60
    _seed_runs(artifactory, runs, artifacts)
    artifactory.reset_log()
    with ArtifactoryRegistry(
        artifactory.url, token=ARTIFACTORY_TOKEN, page_size=100, records_repo="libs-dev"
    ) as reg:
        result = build_lineage(reg, ENVIRONMENTS, Context(keys=()), build="app")
    assert len(result.builds) == runs
    assert all(len(b.artifacts) == artifacts and b.environments == ("dev",) for b in result.builds)
    pages = -(-(runs * artifacts) // 100)
    empty_repos = 3  # libs-qa, libs-staging, libs-prod: one query each
    # two queries a page of items (the items, then their properties), one for the promotion
    # records of every build
    assert artifactory.count("POST", "^/api/search/aql") == 2 * pages + empty_repos + 1
    assert artifactory.count("GET", r"^/api/build/app/\d+$") == runs  # one build-info a run
    total = len(artifactory.requests)
    assert total == 2 + runs + 2 * pages + empty_repos + 1  # + the runs and repositories lists
    assert total <= 3 * runs
