"""Promotion primitives of the Artifactory backend against the emulator: properties (with the
escaping of ``, \\ | =``), copy and move with dry run, build promotion, deploy, delete; and
never a blind retry: an uncertain write is read back and settled."""

from __future__ import annotations

import hashlib

import pytest

from relman.errors import InputError, UsageError
from relman.model import RepoPath
from relman.registry.artifactory import ArtifactoryRegistry
from relman.registry.artifactory_writes import encode_properties, escape
from relman.registry.base import Conflict, NotFound
from relman.registry.http import PermissionDenied
from tests.emulators.artifactory import ArtifactoryEmulator, Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN, ARTIFACTORY_USERS

SRC = RepoPath("libs-dev", "app/1/app.jar")
DST = RepoPath("libs-qa", "app/1/app.jar")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def reg(artifactory: ArtifactoryEmulator) -> ArtifactoryRegistry:
    artifactory.deploy("libs-dev", SRC.path, b"app bytes", properties={"build.name": "app"})
    registry = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, attempts=1)
    yield registry
    registry.close()


def writes(emu: ArtifactoryEmulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emu.requests if r.method not in ("GET", "HEAD")
            and r.path != "/api/search/aql"]  # fmt: skip


# -- properties --------------------------------------------------------------------------------


def test_escaping_follows_the_reference() -> None:
    assert escape("a,b\\c|d=e;f") == "a\\,b\\\\c\\|d\\=e;f"
    encoded = encode_properties({"os": ["win", "linux"], "qa": ["1=1"]})
    assert encoded == "os=win%2Clinux;qa=1%5C%3D1"


@pytest.mark.parametrize(
    "values",
    [
        ["a,b", "c"],
        ["x=y"],
        ["back\\slash"],
        ["pipe|here"],
        ["semi;colon"],
        ["spaces and ünïcödé", "+plus"],
        ["%41 not decoded twice"],
    ],
)
def test_set_properties_round_trips_awkward_values(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, values: list[str]
) -> None:
    write = reg.set_properties(SRC.repo, SRC.path, {"relman.environment": values})
    assert write.action == "set-properties" and not write.dry_run
    assert sorted(artifactory.properties(SRC.repo, SRC.path)["relman.environment"]) == sorted(
        values
    )
    assert artifactory.properties(SRC.repo, SRC.path)["build.name"] == ["app"]  # kept


def test_set_and_delete_properties_with_dry_run(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    dry = reg.set_properties(SRC.repo, SRC.path, {"qa": "passed"}, dry_run=True)
    assert str(dry) == "would set-properties libs-dev/app/1/app.jar: qa=passed"
    assert "qa" not in artifactory.properties(SRC.repo, SRC.path)
    reg.set_properties(SRC.repo, SRC.path, {"qa": "passed", "env": ["qa", "prod"]})
    assert dict(reg.properties(SRC.repo, SRC.path))["env"] == ("qa", "prod")
    assert reg.delete_properties(SRC.repo, SRC.path, ["qa"], dry_run=True).dry_run
    assert "qa" in artifactory.properties(SRC.repo, SRC.path)
    reg.delete_properties(SRC.repo, SRC.path, ["qa", "env"])
    assert artifactory.properties(SRC.repo, SRC.path) == {"build.name": ["app"]}
    with pytest.raises(NotFound, match="no such item"):
        reg.set_properties(SRC.repo, "app/1/none.jar", {"qa": "x"})
    with pytest.raises(UsageError, match="no property given"):
        reg.set_properties(SRC.repo, SRC.path, {})
    with pytest.raises(UsageError, match="not a property name Artifactory accepts"):
        reg.set_properties(SRC.repo, SRC.path, {"a*b": "x"})
    with pytest.raises(UsageError, match="is not a property name"):
        reg.delete_properties(SRC.repo, SRC.path, ["a,b"])


def test_a_reader_gets_403_with_what_to_do(artifactory: ArtifactoryEmulator) -> None:
    artifactory.deploy("libs-dev", "x.bin", b"x")
    with (
        ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_USERS["reader"]) as reader,
        pytest.raises(PermissionDenied, match="HTTP 403.*administrator"),
    ):
        reader.set_properties("libs-dev", "x.bin", {"qa": "x"})


def test_an_uncertain_write_that_happened_is_settled_as_done(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.inject(
        Fault(method="PUT", path="^/api/storage/", kind="html", status=502, commit=True)
    )
    write = reg.set_properties(SRC.repo, SRC.path, {"qa": "passed"})
    assert write.action == "set-properties"
    assert artifactory.properties(SRC.repo, SRC.path)["qa"] == ["passed"]
    assert writes(artifactory).count(("PUT", "/api/storage/libs-dev/app/1/app.jar")) == 1


def test_an_uncertain_write_that_did_not_happen_is_not_retried(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.inject(Fault(method="PUT", path="^/api/storage/", status=503))
    with pytest.raises(InputError, match="did not happen .*HTTP 503.*safe to try again"):
        reg.set_properties(SRC.repo, SRC.path, {"qa": "passed"})
    assert "qa" not in artifactory.properties(SRC.repo, SRC.path)
    assert writes(artifactory) == [("PUT", "/api/storage/libs-dev/app/1/app.jar")]


def test_settling_decides_from_what_is_read_back() -> None:
    from relman.registry.artifactory_writes import settle
    from relman.registry.base import Write
    from relman.registry.http import ConnectionFailed, ServerError

    write = Write("copy", "libs-qa/a.jar")
    reset = ConnectionFailed("reset", kind="reset")
    assert settle(write, reset, lambda: True) is write
    with pytest.raises(InputError, match="did not happen .*safe to try again"):
        settle(write, ServerError("HTTP 503", status=503), lambda: False)

    def unreadable() -> bool:
        raise ServerError("HTTP 503 again", status=503)

    with pytest.raises(InputError, match="cannot be read back .*check it on the server"):
        settle(write, reset, unreadable)
    refused = PermissionDenied("HTTP 403", status=403)
    with pytest.raises(PermissionDenied):  # a clear refusal is not read back
        settle(write, refused, lambda: True)


# -- copy, move, delete, deploy ----------------------------------------------------------------


def test_copy_with_dry_run_then_for_real(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    dry = reg.copy(SRC, DST, dry_run=True)
    assert str(dry).startswith("would copy libs-qa/app/1/app.jar: from libs-dev/app/1/app.jar")
    assert artifactory.file(DST.repo, DST.path) is None
    assert ("POST", "/api/copy/libs-dev/app/1/app.jar") in writes(artifactory)
    done = []
    write = reg.copy(SRC, DST, progress=lambda d, t: done.append((d, t)))
    assert not write.dry_run and done == [(1, 1)]
    copied = artifactory.file(DST.repo, DST.path)
    assert copied.sha256 == sha256(b"app bytes") and copied.properties == {"build.name": ["app"]}
    again = reg.copy(SRC, DST)
    assert "already there with the same sha256" in again.detail


def test_copy_onto_other_bytes_is_a_conflict(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.deploy(DST.repo, DST.path, b"other bytes")
    with pytest.raises(Conflict, match="already holds different bytes"):
        reg.copy(SRC, DST)
    with pytest.raises(UsageError, match="onto itself"):
        reg.copy(SRC, SRC)


def test_move_leaves_nothing_behind(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    reg.move(SRC, DST, dry_run=True)
    assert artifactory.file(SRC.repo, SRC.path) is not None
    reg.move(SRC, DST)
    assert artifactory.file(SRC.repo, SRC.path) is None
    assert artifactory.file(DST.repo, DST.path) is not None


def test_copy_refused_by_the_server_is_one_line(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.features(copy_move=False)
    with pytest.raises(InputError, match="copy libs-dev/app/1/app.jar to libs-qa"):
        reg.copy(SRC, DST)
    artifactory.features(copy_move=True)
    with pytest.raises(NotFound):
        reg.copy(RepoPath("libs-dev", "none.jar"), DST)


def test_an_uncertain_copy_is_read_back(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.inject(Fault(method="POST", path="^/api/copy/", status=504, commit=True))
    assert reg.copy(SRC, DST).action == "copy"
    assert artifactory.file(DST.repo, DST.path) is not None
    staging = RepoPath("libs-staging", DST.path)
    artifactory.inject(Fault(method="POST", path="^/api/copy/", status=503))
    with pytest.raises(InputError, match="did not happen"):
        reg.copy(SRC, staging)
    assert artifactory.file(staging.repo, staging.path) is None
    artifactory.inject(Fault(method="POST", path="^/api/copy/", kind="reset"))
    assert reg.copy(SRC, staging).action == "copy"  # the answer broke after the copy was made
    assert artifactory.file(staging.repo, staging.path) is not None
    assert artifactory.count("POST", "^/api/copy/") == 3


def test_delete(artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry) -> None:
    assert reg.delete(SRC.repo, SRC.path, dry_run=True).dry_run
    assert artifactory.file(SRC.repo, SRC.path) is not None
    write = reg.delete(SRC.repo, SRC.path)
    assert write.detail == f"sha256 {sha256(b'app bytes')}"
    assert artifactory.file(SRC.repo, SRC.path) is None
    with pytest.raises(NotFound):
        reg.delete(SRC.repo, SRC.path)


def test_deploy_with_properties_and_checksums(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path
) -> None:
    props = {"build.name": "acme", "odd": ["a,b", "c=d|e\\f"]}
    reg.deploy("libs-dev", "new/one.bin", b"one", props)
    stored = artifactory.file("libs-dev", "new/one.bin")
    assert stored.data == b"one" and stored.original_checksums["sha256"] == sha256(b"one")
    assert sorted(stored.properties["odd"]) == ["a,b", "c=d|e\\f"]
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * 300_000)
    seen = []
    reg.deploy("libs-dev", "new/big.bin", source, progress=lambda d, t: seen.append(d))
    assert artifactory.file("libs-dev", "new/big.bin").sha256 == sha256(source.read_bytes())
    assert seen and seen[-1] == 300_000
    assert "already there" in str(reg.deploy("libs-dev", "new/one.bin", b"one"))
    with pytest.raises(Conflict, match="never rewrites an artifact"):
        reg.deploy("libs-dev", "new/one.bin", b"two")
    with pytest.raises(UsageError, match="climbs out"):
        reg.deploy("libs-dev", "new/../../etc/passwd", b"x")


# -- build promotion ---------------------------------------------------------------------------


def _publish(artifactory: ArtifactoryEmulator) -> None:
    artifactory.add_build(
        {
            "name": "app",
            "number": "1",
            "started": "2025-03-02T10:10:00.000+0300",
            "modules": [
                {
                    "id": "app",
                    "artifacts": [
                        {
                            "name": "app.jar",
                            "sha1": hashlib.sha1(b"app bytes").hexdigest(),
                            "sha256": sha256(b"app bytes"),
                        }
                    ],
                }
            ],
        }
    )


def test_build_promotion_dry_run_then_real(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    _publish(artifactory)
    dry = reg.promote_build("app", "1", status="QA", target_repo="libs-qa", dry_run=True)
    assert dry.write.dry_run and artifactory.file(DST.repo, DST.path) is None
    assert not artifactory.builds[("app", "1")].get("statuses")
    done = reg.promote_build(
        "app", "1", status="QA", target_repo="libs-qa", comment="smoke green", ci_user="bot"
    )
    assert str(done.write) == "promote-build build app/1: status QA to libs-qa (copy)"
    status = artifactory.builds[("app", "1")]["statuses"][-1]
    assert (status["status"], status["repository"], status["ciUser"]) == ("QA", "libs-qa", "bot")
    assert artifactory.file(DST.repo, DST.path) is not None
    record = reg.build_record("app", "1")
    assert record.statuses[-1].status == "QA"


def test_build_promotion_failures_are_one_line(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    with pytest.raises(NotFound, match="no build app/1"):
        reg.promote_build("app", "1", status="QA")
    _publish(artifactory)
    artifactory.file(SRC.repo, SRC.path).properties.clear()
    artifactory.store.delete(artifactory.file(SRC.repo, SRC.path))
    with pytest.raises(InputError, match="Unable to find artifacts of build 'app' #1"):
        reg.promote_build("app", "1", status="QA", target_repo="libs-qa")
    with pytest.raises(InputError, match="Cannot find target repository"):
        reg.promote_build("app", "1", status="QA", target_repo="nope")


def test_an_uncertain_promotion_is_read_back(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    _publish(artifactory)
    artifactory.inject(Fault(method="POST", path="^/api/build/promote/", status=502, commit=True))
    result = reg.promote_build("app", "1", status="QA")
    assert result.write.action == "promote-build"
    assert [s["status"] for s in artifactory.builds[("app", "1")]["statuses"]] == ["QA"]
    artifactory.inject(Fault(method="POST", path="^/api/build/promote/", status=502))
    with pytest.raises(InputError, match="did not happen"):
        reg.promote_build("app", "1", status="PROD")
    assert [s["status"] for s in artifactory.builds[("app", "1")]["statuses"]] == ["QA"]
