"""The same promotion engine on the Artifactory emulator (real HTTP on 127.0.0.1): a clean
promotion with an approval, a refused one that writes nothing, a fault then resume and undo,
and a rollback. The engine sees only the Registry protocol and the backend's Capabilities."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relman.registry.artifactory import ArtifactoryRegistry
from relman.release import records
from relman.release.lineage import build_lineage
from relman.release.promotion import PromotionInterrupted, PromotionRefused, Request
from relman.verify.files import default_context
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN
from tests.unit.release.lineage_support import World, commit_of
from tests.unit.release.promotion_support import PROD, Faulty, Setup


@pytest.fixture
def setup(relman_home: Path, artifactory: ArtifactoryEmulator) -> Iterator[Setup]:
    setup = Setup.create(relman_home)
    remote = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    setup.world = World(remote, ci=setup.world.ci, promoter=setup.world.promoter)
    yield setup
    remote.close()


def state(registry: Any) -> dict[str, Any]:
    """What the server holds, read through the protocol: items with digests and properties,
    records and approvals of the builds."""
    out: dict[str, Any] = {}
    for repo in ("libs-dev", "libs-qa"):
        for loc in registry.items(repo):
            out[f"{repo}/{loc.path}"] = (loc.sha256, dict(loc.properties))
    for name in registry.build_names():
        for number in registry.build_numbers(name):
            out[f"records {name}/{number}"] = registry.promotion_records(name, number)
            out[f"approvals {name}/{number}"] = registry.approvals(name, number)
    return out


def qa(setup: Setup) -> set[str]:
    return {loc.path for loc in setup.registry.items("libs-qa")}


def test_a_clean_promotion_with_an_approval(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app", "lib.jar": b"lib"})
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "qa"))
    assert plan.registry.startswith("Artifactory (artifactory profile acme)")
    assert [w.action for w in plan.writes] == ["copy"] * 4 + ["build-status", "put-record"]
    outcome = engine.execute(plan)
    assert outcome.readback.ok and len(qa(setup)) == 4
    plan = engine.plan(Request("acme", "1", "prod"))
    assert [c.name for c in engine.preflight(plan).failed] == ["approvals"]
    engine.approve(plan, setup.approver("ben"))
    outcome = engine.execute(plan)
    assert setup.registry.properties("libs-qa", "acme/1/app.tgz")[PROD] == ("prod",)
    record = records.read(outcome.record, default_context().keys, source="prod")
    assert record.ok and dict(record.subjects) == {a.name: a.sha256 for a in build.artifacts}
    assert [t for t, _ in setup.registry.promotion_records("acme", "1")] == ["qa", "prod"]
    assert setup.log.verify().ok and setup.log.pending() == []
    lineage = build_lineage(setup.registry, setup.profile, default_context(), build="acme")
    assert lineage.ok, lineage.findings


def test_a_refused_promotion_writes_nothing(setup: Setup, artifactory: ArtifactoryEmulator) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    engine = setup.engine()
    before = state(setup.registry)
    plan = engine.plan(Request("acme", "1", "qa"))
    assert [c.name for c in engine.preflight(plan).failed] == ["signatures"]
    with pytest.raises(PromotionRefused):
        engine.execute(plan)
    assert state(setup.registry) == before


def test_a_fault_then_resume_and_undo(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app", "lib.jar": b"lib"})
    before = state(setup.registry)
    for fail_at in (3, 2):
        faulty = setup.engine(registry=Faulty(setup.registry, fail_at=fail_at))
        with pytest.raises(PromotionInterrupted):
            faulty.execute(faulty.plan(Request("acme", "1", "qa")))
        engine = setup.engine()
        [pending] = engine.interrupted()
        if fail_at == 3:
            assert len(qa(setup)) == 2
            undone = engine.undo(pending)
            assert [w.action for w in undone.writes] == ["delete", "delete"]
            assert state(setup.registry) == before
        else:
            outcome = engine.resume(pending)
            assert [w.action for w in outcome.writes] == [
                *["copy"] * 3,
                "build-status",
                "put-record",
            ]
    assert len(qa(setup)) == 4 and setup.log.pending() == []


def test_rollback(setup: Setup) -> None:
    engine = setup.engine()
    for number in (1, 2):
        setup.world.build(
            "acme",
            number,
            {"app.tgz": b"%d" % number},
            commit=commit_of(f"c{number}"),
            hours=number,
        )
        engine.execute(engine.plan(Request("acme", str(number), "qa")))
    plan = engine.plan(Request("acme", "1", "qa", rollback=True))
    assert [w.action for w in plan.writes] == ["delete", "delete", "build-status", "put-record"]
    engine.execute(plan)
    assert qa(setup) == {"acme/1/app.tgz", "acme/1/app.tgz.sig"}
