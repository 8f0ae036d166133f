"""The audit log checked against the promotion records in the registry: each record anchors
its intent entry, so a log cut back (an old head put back with it) or rewritten below an
anchored entry is found, which the log's own verification cannot see."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from relman import settings
from relman.errors import Cancelled
from relman.model import CancelToken
from relman.registry.artifactory import ArtifactoryRegistry
from relman.release.anchors import check_anchors
from relman.release.audit import AuditLog
from relman.release.promotion import Engine, Request
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN
from tests.unit.release.lineage_support import World
from tests.unit.release.promotion_support import Setup


@pytest.fixture
def setup(relman_home: Path) -> Setup:
    return Setup.create(relman_home)


def promote(setup: Setup, number: str, target: str, log: AuditLog | None = None) -> None:
    engine = Engine(setup.registry, setup.profile, promoter=setup.anna, log=log or setup.log)
    plan = engine.plan(Request("acme", number, target))
    if target == "prod":
        engine.approve(plan, setup.approver("ben"))
    engine.execute(plan)


def save(log: AuditLog, where: Path) -> None:
    where.mkdir()
    shutil.copy2(log.path, where / "log")
    shutil.copy2(log.head_path, where / "head")


def restore(log: AuditLog, where: Path) -> None:
    shutil.copy2(where / "log", log.path)
    shutil.copy2(where / "head", log.head_path)


def test_an_intact_log_matches_every_record_it_anchors(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    promote(setup, "1", "qa")
    promote(setup, "1", "prod")
    report = check_anchors(setup.log, setup.registry)
    assert (report.checked, report.elsewhere, report.unanchored) == (2, 0, 0)
    assert report.ok and report.to_json()["problems"] == []
    [(_, data)] = setup.registry.promotion_records("acme", "1")[:1]
    statement = json.loads(base64.b64decode(json.loads(data)["payload"]))
    anchor = statement["predicate"]["audit"]
    assert anchor == setup.log.anchor(setup.log.entries()[0])


def test_a_log_cut_back_with_its_old_head_is_found(setup: Setup, tmp_path: Path) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    promote(setup, "1", "qa")
    save(setup.log, tmp_path / "after-qa")
    promote(setup, "1", "prod")
    restore(setup.log, tmp_path / "after-qa")  # the prod promotion never happened, says the log
    assert setup.log.verify().ok  # what the log alone cannot tell
    report = check_anchors(setup.log, setup.registry)
    [problem] = report.issues
    assert problem.kind == "anchor" and problem.line is None
    seq = len(setup.log.entries()) + 2  # the approval, then the prod intent
    assert str(problem) == (
        f"the record of acme/1 -> prod in the registry names audit entry {seq}, which this "
        "log no longer holds (cut back?)"
    )


def test_a_log_cut_back_and_written_on_is_found_rewritten(setup: Setup, tmp_path: Path) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    promote(setup, "1", "qa")
    save(setup.log, tmp_path / "after-qa")
    promote(setup, "1", "prod")
    restore(setup.log, tmp_path / "after-qa")
    for n in range(4):  # new entries take the seqs the prod promotion had
        setup.log.append("note", {"n": n}, key_name="rm-anna", private_key=setup.world.promoter)
    assert setup.log.verify().ok
    [problem] = check_anchors(setup.log, setup.registry).issues
    assert problem.line is not None
    assert "is not the line the record of acme/1 -> prod in the registry names" in str(problem)


def test_records_of_other_logs_and_without_anchors_are_counted_not_checked(
    setup: Setup, tmp_path: Path
) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    other = AuditLog(tmp_path / "elsewhere.jsonl")
    promote(setup, "1", "qa", log=other)  # another machine's log
    setup.world.label(build, "libs-qa", "prod")
    setup.world.record(build, "prod", "qa")  # a record written without relman's engine
    setup.registry.put_promotion_record("acme", "1", "staging", b"not a record")
    report = check_anchors(setup.log, setup.registry)
    assert (report.checked, report.elsewhere, report.unanchored) == (0, 1, 2)
    assert report.ok


def test_audit_verify_with_a_profile(setup: Setup, relman_cli, tmp_path: Path) -> None:
    settings.add_profile(setup.profile)
    log = AuditLog()
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    promote(setup, "1", "qa", log=log)
    save(log, tmp_path / "after-qa")
    promote(setup, "1", "prod", log=log)
    run = relman_cli("audit", "verify", "--profile", "acme")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == (
        "promotion records of profile acme: 2 anchored in this log, 0 in other logs, "
        "0 without an anchor"
    )
    restore(log, tmp_path / "after-qa")
    assert relman_cli("audit", "verify").code == 0  # the log alone looks intact
    run = relman_cli("audit", "verify", "--profile", "acme")
    assert run.code == 1
    assert "audit log BROKEN: 1 problem" in run.out and "(cut back?)" in run.out
    run = relman_cli("audit", "verify", "--profile", "acme", "--json")
    doc = json.loads(run.out)
    assert run.code == 1 and doc["ok"] is False
    assert doc["anchors"]["checked"] == 2 and len(doc["anchors"]["problems"]) == 1


def test_checking_stops_when_cancelled(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        check_anchors(setup.log, setup.registry, cancel=token)


def test_audit_verify_against_an_artifactory_profile(
    relman_home: Path,
    artifactory: ArtifactoryEmulator,
    relman_cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = Setup.create(relman_home)
    remote = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    setup.world = World(remote, ci=setup.world.ci, promoter=setup.world.promoter)
    profile = dataclasses.replace(setup.profile, records_repo="libs-dev")
    settings.add_profile(profile)
    monkeypatch.setenv("RELMAN_TOKEN", ARTIFACTORY_TOKEN)
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    promote(setup, "1", "qa", log=AuditLog())
    remote.close()
    run = relman_cli("audit", "verify", "--profile", "acme")
    assert run.code == 0, run.err
    assert "1 anchored in this log" in run.out.splitlines()[0]
