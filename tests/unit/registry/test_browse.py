"""Browsing a folder at a time and describing one file (relman.registry.browse), and testing a
profile before it is saved (relman.registry.connection), against the Artifactory emulator and a
real local registry."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from relman.errors import InputError, UsageError
from relman.model import Environment, Profile
from relman.registry.artifactory import ArtifactoryRegistry
from relman.registry.base import NotFound
from relman.registry.browse import Entry, _child_name, describe, list_folder
from relman.registry.connection import STEP_TITLES, check_profile
from relman.registry.local import LocalRegistry
from tests.emulators.artifactory import ArtifactoryEmulator, Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN, ARTIFACTORY_USERS


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def reg(artifactory: ArtifactoryEmulator):
    artifactory.deploy("libs-dev", "app/1.0/app.tgz", b"app one", {"build.name": "app"})
    artifactory.deploy("libs-dev", "app/1.0/app.tgz.sig", b"sig")
    artifactory.deploy("libs-dev", "app/2.0/deep/er/x.bin", b"deep")
    artifactory.deploy("libs-dev", "README", b"top")
    registry = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, attempts=0)
    yield registry
    registry.close()


def test_a_folder_lists_its_own_children_in_one_request(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.reset_log()
    root = list_folder(reg, "libs-dev")
    assert [(e.name, e.folder) for e in root] == [("app", True), ("README", False)]
    assert root[1].size == 3 and root[1].sha256 == sha256(b"top")
    assert root[1].modified is not None and root[0].size is None
    assert len(artifactory.requests) == 1
    folder = list_folder(reg, "libs-dev", "app/1.0/")
    assert [e.path for e in folder] == ["app/1.0/app.tgz", "app/1.0/app.tgz.sig"]
    assert folder[0] == Entry(
        "libs-dev", "app/1.0/app.tgz", False, 7, sha256(b"app one"), folder[0].modified
    )
    assert [e.name for e in list_folder(reg, "libs-dev", "app")] == ["1.0", "2.0"]
    assert len(artifactory.requests) == 3


def test_without_the_list_api_the_folder_children_stand_in(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.inject(Fault(path=r"^/api/storage/libs-dev/app$", status=400, times=1))
    entries = list_folder(reg, "libs-dev", "app")
    assert [(e.name, e.folder, e.size) for e in entries] == [
        ("1.0", True, None),
        ("2.0", True, None),
    ]
    artifactory.anonymous_read = True
    with ArtifactoryRegistry(artifactory.url, attempts=0) as anonymous:
        assert [e.name for e in list_folder(anonymous, "libs-dev")] == ["app", "README"]


def test_bad_folders_are_one_line_errors(reg: ArtifactoryRegistry) -> None:
    with pytest.raises(NotFound, match="libs-dev/nope: no such item"):
        list_folder(reg, "libs-dev", "nope")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        list_folder(reg, "libs-dev", "README")
    with pytest.raises(UsageError):
        list_folder(reg, "libs-dev", "../etc")
    with pytest.raises(UsageError):
        list_folder(reg, "bad key!", "")


def test_a_listing_naming_a_path_elsewhere_is_refused() -> None:
    assert _child_name({"uri": "/app.tgz"}, "libs-dev") == "app.tgz"
    assert _child_name({"uri": "/a/b.tgz"}, "libs-dev") is None  # deeper: not a child
    for row in ({"uri": "/.."}, {"uri": "/%2E%2E"}, {"uri": "app"}, {}, "x"):
        with pytest.raises(InputError, match="libs-dev: "):
            _child_name(row, "libs-dev")


def test_describe_tells_what_the_deployer_declared(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.deploy(
        "libs-qa",
        "swapped.bin",
        b"new bytes",
        {"build.name": ["app"], "build.number": ["7"]},
        original_checksums={"sha256": sha256(b"old bytes"), "sha1": "0" * 40},
    )
    info = describe(reg, "libs-qa", "swapped.bin")
    assert info.location.sha256 == sha256(b"new bytes")
    assert info.location.size == 9 and info.location.created is not None
    assert info.declared["sha256"] == sha256(b"old bytes")
    assert dict(info.location.properties) == {"build.name": ("app",), "build.number": ("7",)}
    assert info.created_by == "ci-deployer" and info.modified is not None
    plain = describe(reg, "libs-dev", "README")
    assert plain.declared["sha256"] == plain.location.sha256
    assert dict(plain.location.properties) == {}
    with pytest.raises(UsageError, match="is a folder"):
        describe(reg, "libs-dev", "app")
    with pytest.raises(NotFound):
        describe(reg, "libs-dev", "missing.bin")


def test_a_local_registry_is_browsed_on_disk(tmp_path: Path) -> None:
    local = LocalRegistry(tmp_path / "reg", create=True)
    local.create_repository("libs-dev")
    local.deploy("libs-dev", "app/1.0/app.tgz", b"app one")
    local.deploy("libs-dev", "top.txt", b"top")
    (tmp_path / "reg" / "repos" / "libs-dev" / "link").symlink_to(tmp_path)
    root = list_folder(local, "libs-dev")
    assert [(e.name, e.folder) for e in root] == [("app", True), ("top.txt", False)]
    assert root[1].sha256 == sha256(b"top") and root[1].size == 3
    assert [e.path for e in list_folder(local, "libs-dev", "app/1.0")] == ["app/1.0/app.tgz"]
    assert describe(local, "libs-dev", "top.txt").location.sha256 == sha256(b"top")
    with pytest.raises(NotFound):
        list_folder(local, "libs-dev", "link")
    with pytest.raises(NotFound):
        list_folder(local, "libs-qa")


# -- testing a profile ---------------------------------------------------------------------------


def profile(url: str, **extra) -> Profile:
    envs = (
        Environment("dev", "repository", repo="libs-dev"),
        Environment("prod", "label", label="relman.environment"),
    )
    return Profile("acme", "artifactory", url, environments=envs, records_repo="libs-dev", **extra)


def steps(checks) -> list[tuple[str, bool]]:
    return [(c.step, c.ok) for c in checks]


def test_a_good_profile_passes_every_step(artifactory: ArtifactoryEmulator) -> None:
    checks = check_profile(profile(artifactory.url), ARTIFACTORY_TOKEN)
    assert steps(checks) == [
        ("server", True),
        ("version", True),
        ("token", True),
        ("repositories", True),
        ("records", True),
        ("environments", True),
        ("permissions", True),
    ]
    assert set(STEP_TITLES) >= {c.step for c in checks}
    assert "dev → prod" in checks[5].detail


def test_a_read_only_token_is_named(artifactory: ArtifactoryEmulator) -> None:
    reader = ARTIFACTORY_USERS["reader"]
    checks = check_profile(profile(artifactory.url), reader)
    assert checks[-1].step == "permissions" and not checks[-1].ok
    assert "read-only" in checks[-1].detail and "HTTP 403" in checks[-1].detail
    auditor = check_profile(profile(artifactory.url, read_only=True), reader)
    assert auditor[-1].ok and "auditor" in auditor[-1].detail
    assert all(reader not in c.detail for c in checks + auditor)


def test_missing_repositories_are_named(artifactory: ArtifactoryEmulator) -> None:
    envs = (Environment("qa", "repository", repo="libs-nope"),)
    bad = Profile("acme", "artifactory", artifactory.url, environments=envs, records_repo="recs")
    checks = check_profile(bad, ARTIFACTORY_TOKEN)
    assert steps(checks)[4:6] == [("records", False), ("environments", False)]
    assert "'recs'" in checks[4].detail and "qa (libs-nope)" in checks[5].detail


def test_a_wrong_token_stops_after_the_token_step(artifactory: ArtifactoryEmulator) -> None:
    checks = check_profile(profile(artifactory.url), "not-the-token")
    assert steps(checks) == [
        ("server", True),
        ("version", False),
        ("token", False),
        ("repositories", False),
    ]
    assert "HTTP 401" in checks[2].detail
    assert all("not-the-token" not in c.detail for c in checks)


def test_a_local_profile_checks_its_folder(tmp_path: Path) -> None:
    local = LocalRegistry(tmp_path / "reg", create=True)
    local.create_repository("libs-dev")
    good = Profile("here", "local", str(tmp_path / "reg"), environments=profile("x").environments)
    assert steps(check_profile(good, None)) == [("folder", True), ("environments", True)]
    missing = Profile("here", "local", str(tmp_path / "none"))
    checks = check_profile(missing, None)
    assert steps(checks) == [("folder", False)] and "no relman local registry" in checks[0].detail
