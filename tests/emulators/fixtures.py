"""Pytest fixtures for the registry emulators (loaded by ``tests/conftest.py``).

``artifactory`` is a started plain-HTTP emulator with the repositories ``libs-dev``,
``libs-qa``, ``libs-staging`` and ``libs-prod``, the token :data:`ARTIFACTORY_TOKEN` (user
``admin``), a deploying user ``deployer`` and a read-only user ``reader``.
``artifactory_tls`` is the same over HTTPS and yields ``(emulator, ca_bundle_path)``. Both
fail the test at teardown if the emulator itself raised while serving it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.emulators.artifactory import ArtifactoryEmulator

ARTIFACTORY_TOKEN = "emulator-admin-token-0123456789"
ARTIFACTORY_USERS = {"deployer": "deployer-token-0123456789", "reader": "reader-token-0123456789"}
ARTIFACTORY_REPOS = ("libs-dev", "libs-qa", "libs-staging", "libs-prod")


def _emulator(tls: trustme.CA | None = None) -> ArtifactoryEmulator:
    emu = ArtifactoryEmulator(
        token=ARTIFACTORY_TOKEN, users=ARTIFACTORY_USERS, tls=tls, readonly_users={"reader"}
    )
    for key in ARTIFACTORY_REPOS:
        emu.add_repo(key)
    return emu


def _check(emu: ArtifactoryEmulator) -> None:
    if emu.errors:
        pytest.fail("the Artifactory emulator failed while serving:\n" + "\n".join(emu.errors))


@pytest.fixture
def artifactory() -> Iterator[ArtifactoryEmulator]:
    with _emulator() as emu:
        yield emu
    _check(emu)


@pytest.fixture
def artifactory_tls(tmp_path: Path) -> Iterator[tuple[ArtifactoryEmulator, Path]]:
    ca = trustme.CA()
    bundle = tmp_path / "artifactory-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with _emulator(tls=ca) as emu:
        yield emu, bundle
    _check(emu)
