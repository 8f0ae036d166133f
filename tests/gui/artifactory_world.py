"""An Artifactory profile with a small release history on the emulator, for the GUI tests of
the Builds, Lineage, Environments and Registry pages and of "Download and verify".

``acme/1`` went dev -> qa (a copy, with its signatures) -> prod (a label on the qa copy), each
with a signed promotion record; ``acme/2`` is a rebuild of the same commit, in dev only;
``tool/4`` has a copy in qa whose bytes were replaced (the build record's SHA-256 no longer
matches it there).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from relman import settings
from relman.model import BuildRecord, Profile, RepoPath
from relman.registry.artifactory import ArtifactoryRegistry
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN
from tests.unit.release.lineage_support import ENVIRONMENTS, REPO, World


@dataclass
class Served:
    emulator: ArtifactoryEmulator
    profile: Profile
    builds: dict[str, BuildRecord]


def _copy(world: World, build: BuildRecord, source: str, target: str) -> None:
    for artifact in build.artifacts:
        assert artifact.path is not None
        for suffix in ("", ".sig"):
            world.registry.copy(
                RepoPath(REPO[source], artifact.path + suffix),
                RepoPath(REPO[target], artifact.path + suffix),
            )


def make_served(emu: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch) -> Served:
    """Seed ``emu`` (see the module doc) and save a profile for it (token: RELMAN_TOKEN)."""
    registry = ArtifactoryRegistry(emu.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    world = World(registry)
    try:
        acme = world.build("acme", 1, {"app.tgz": b"app 1", "lib.jar": b"lib 1"})
        _copy(world, acme, "dev", "qa")
        world.record(acme, "qa", "dev")
        world.label(acme, "libs-qa", "prod")
        world.record(acme, "prod", "qa")
        rebuilt = world.build("acme", 2, {"app.tgz": b"app 2"}, hours=1)
        tool = world.build("tool", 4, {"tool.bin": b"tool"}, hours=2)
        registry.deploy(
            "libs-qa",
            "tool/4/tool.bin",
            b"other bytes",
            {"build.name": "tool", "build.number": "4"},
        )
    finally:
        registry.close()
    monkeypatch.setenv(settings.TOKEN_VARIABLE, ARTIFACTORY_TOKEN)
    profile = Profile(
        "acme-rt", "artifactory", emu.url, environments=ENVIRONMENTS, records_repo="libs-dev"
    )
    settings.add_profile(profile)
    return Served(emu, profile, {"acme/1": acme, "acme/2": rebuilt, "tool/4": tool})
