"""Rollback: an environment returned to an earlier build, planned, checked, signed and
audited like a promotion; and refused, with nothing written, where it cannot be."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from relman.model import Capabilities
from relman.release import records
from relman.release.lineage import build_lineage
from relman.release.promotion import PromotionRefused, Request
from relman.verify.files import default_context
from tests.unit.release.lineage_support import commit_of
from tests.unit.release.promotion_support import PROD, Faulty, Setup, snapshot


@pytest.fixture
def setup(relman_home: Path) -> Setup:
    return Setup.create(relman_home)


def two_builds(setup: Setup, *, prod: bool = False) -> None:
    """acme/1 and acme/2 (another commit, an hour later), both promoted to qa (and prod)."""
    engine = setup.engine()
    for number in (1, 2):
        setup.world.build(
            "acme",
            number,
            {"app.tgz": b"app %d" % number},
            commit=commit_of(f"c{number}"),
            hours=number,
        )
        engine.execute(engine.plan(Request("acme", str(number), "qa")))
        if prod:
            plan = engine.plan(Request("acme", str(number), "prod"))
            engine.approve(plan, setup.approver("ben"))
            engine.execute(plan)


def qa_items(setup: Setup) -> set[str]:
    return {loc.path for loc in setup.registry.items("libs-qa")}


def test_rollback_of_a_repository_environment(setup: Setup) -> None:
    two_builds(setup)
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "qa", rollback=True))
    assert plan.replaces == ("acme/2",) and plan.source is None
    assert plan.summary().startswith("roll back acme/1 (") and plan.summary().endswith(" to qa")
    assert [(w.action, w.target) for w in plan.writes] == [
        ("delete", "libs-qa/acme/2/app.tgz"),
        ("delete", "libs-qa/acme/2/app.tgz.sig"),
        ("build-status", "build acme/1"),
        ("put-record", "records/acme/1/qa.dsse.json"),
    ]
    result = engine.preflight(plan)
    assert result.ok, result.failed
    assert result.checks[2].detail == "qa held acme/1 before; it returns to it from acme/2"
    outcome = engine.execute(plan)
    assert qa_items(setup) == {"acme/1/app.tgz", "acme/1/app.tgz.sig"}
    record = records.read(outcome.record, default_context().keys, source="rollback")
    assert record.ok and (record.build_number, record.source, record.target) == ("1", None, "qa")
    predicate = json.loads(base64.b64decode(json.loads(outcome.record)["payload"]))["predicate"]
    assert predicate["rollback"] == {"replaces": ["acme/2"]}
    intent = setup.log.entries()[-2]
    assert (intent.event, intent.body["rollback"]) == ("promotion-intent", True)
    lineage = build_lineage(setup.registry, setup.profile, default_context(), build="acme")
    envs = {b.label: b.environments for b in lineage.builds}
    assert envs == {"acme/1": ("dev", "qa"), "acme/2": ("dev",)}
    assert lineage.ok, lineage.findings


def test_rollback_of_a_label_environment_needs_its_approvals(setup: Setup) -> None:
    two_builds(setup, prod=True)
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "prod", rollback=True))
    assert [(w.action, w.target, w.detail) for w in plan.writes[:1]] == [
        ("delete-properties", "libs-qa/acme/2/app.tgz", PROD)
    ]
    result = engine.preflight(plan)
    assert [c.name for c in result.failed] == ["approvals"]
    engine.approve(plan, setup.approver("chen"))
    engine.execute(plan)
    assert PROD not in setup.registry.properties("libs-qa", "acme/2/app.tgz")
    assert setup.registry.properties("libs-qa", "acme/1/app.tgz")[PROD] == ("prod",)


def test_rollback_puts_back_a_build_that_left(setup: Setup) -> None:
    """acme/1 was in prod (a valid record says so) but lost its label; acme/2 carries it
    with another value: the label is put back on acme/1 and only prod leaves acme/2."""
    two_builds(setup, prod=True)
    setup.registry.delete_properties("libs-qa", "acme/1/app.tgz", [PROD])
    setup.registry.set_properties("libs-qa", "acme/2/app.tgz", {PROD: ["canary", "prod"]})
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "prod", rollback=True))
    assert [(w.action, w.target, w.detail) for w in plan.writes] == [
        ("set-properties", "libs-qa/acme/2/app.tgz", f"{PROD}=canary"),
        ("set-properties", "libs-qa/acme/1/app.tgz", f"{PROD}=prod"),
        ("build-status", "build acme/1", "status prod"),
        ("put-record", "records/acme/1/prod.dsse.json", "the signed promotion record"),
    ]
    engine.approve(plan, setup.approver("chen"))
    engine.execute(plan)
    assert setup.registry.properties("libs-qa", "acme/2/app.tgz")[PROD] == ("canary",)
    assert setup.registry.properties("libs-qa", "acme/1/app.tgz")[PROD] == ("prod",)


def test_rollback_copies_back_a_build_removed_from_a_repository(setup: Setup) -> None:
    two_builds(setup)
    for suffix in ("", ".sig"):
        setup.registry.delete("libs-qa", f"acme/1/app.tgz{suffix}")
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "qa", rollback=True))
    assert [w.action for w in plan.writes] == [
        "delete",
        "delete",
        "copy",
        "copy",
        "build-status",
        "put-record",
    ]
    engine.execute(plan)
    assert qa_items(setup) == {"acme/1/app.tgz", "acme/1/app.tgz.sig"}


def test_an_interrupted_rollback_is_undone(setup: Setup) -> None:
    two_builds(setup)
    before = snapshot(setup.root)
    engine = setup.engine(registry=Faulty(setup.registry, fail_at=2))
    from relman.release.promotion import PromotionInterrupted

    with pytest.raises(PromotionInterrupted):
        engine.execute(engine.plan(Request("acme", "1", "qa", rollback=True)))
    assert "acme/2/app.tgz" not in qa_items(setup)
    engine = setup.engine()
    undone = engine.undo(engine.interrupted()[0])
    assert [(w.action, w.target) for w in undone.writes] == [("copy", "libs-qa/acme/2/app.tgz")]
    assert snapshot(setup.root).keys() == before.keys()
    assert setup.registry.location("libs-qa", "acme/2/app.tgz").sha256 == (
        setup.registry.location("libs-dev", "acme/2/app.tgz").sha256
    )


def test_undo_of_a_removal_with_nothing_to_restore_from(setup: Setup) -> None:
    two_builds(setup)
    engine = setup.engine(registry=Faulty(setup.registry, fail_at=2))
    from relman.release.promotion import PromotionInterrupted

    with pytest.raises(PromotionInterrupted):
        engine.execute(engine.plan(Request("acme", "1", "qa", rollback=True)))
    setup.registry.delete("libs-dev", "acme/2/app.tgz")
    engine = setup.engine()
    undone = engine.undo(engine.interrupted()[0])
    assert undone.writes == ()
    assert undone.notes == (
        "libs-qa/acme/2/app.tgz was removed and no copy is left to restore it from",
    )


def refused(setup: Setup, request: Request, *failing: str, registry=None) -> str:
    engine = setup.engine(registry=registry)
    before = snapshot(setup.root)
    plan = engine.plan(request)
    result = engine.preflight(plan)
    assert [c.name for c in result.failed] == list(failing), result.failed
    with pytest.raises(PromotionRefused):
        engine.execute(plan)
    assert snapshot(setup.root) == before
    return "; ".join(c.detail for c in result.failed)


def test_rollback_to_a_build_the_environment_never_held(setup: Setup) -> None:
    engine = setup.engine()
    setup.world.build("acme", 1, {"app.tgz": b"1"}, commit=commit_of("c1"))
    setup.world.build("acme", 2, {"app.tgz": b"2"}, commit=commit_of("c2"), hours=1)
    engine.execute(engine.plan(Request("acme", "2", "qa")))
    detail = refused(setup, Request("acme", "1", "qa", rollback=True), "environment-order")
    assert detail.startswith(
        "acme/1 was never in qa: a rollback returns qa to a build it held before (promote acme/1 "
        "instead)"
    )


def test_rollback_with_nothing_newer(setup: Setup) -> None:
    two_builds(setup)
    detail = refused(setup, Request("acme", "2", "qa", rollback=True), "environment-order")
    assert detail == "no build of acme newer than acme/2 is in qa: nothing to roll back"


def test_rollback_of_the_first_environment(setup: Setup) -> None:
    two_builds(setup)
    detail = refused(setup, Request("acme", "1", "dev", rollback=True), "environment-order")
    assert detail.startswith("dev is the first environment: a rollback returns")


def test_rollback_where_the_backend_cannot_delete(setup: Setup) -> None:
    two_builds(setup)
    detail = refused(
        setup,
        Request("acme", "1", "qa", rollback=True),
        "writes",
        registry=Faulty(setup.registry, deletes=False),
    )
    assert detail == (
        "relman local registry cannot delete, so libs-qa/acme/2/app.tgz cannot leave qa"
    )


def test_rollback_of_a_label_where_the_backend_cannot_set_properties(setup: Setup) -> None:
    two_builds(setup, prod=True)
    detail = refused(
        setup,
        Request("acme", "1", "prod", rollback=True),
        "writes",
        "approvals",
        registry=Faulty(setup.registry, capabilities=Capabilities(name="bare")),
    )
    assert detail.startswith("bare cannot set properties on libs-qa/acme/2/app.tgz")


def test_rollback_where_the_newer_build_has_no_other_copy(setup: Setup) -> None:
    engine = setup.engine()
    setup.world.build("acme", 1, {"app.tgz": b"1"}, commit=commit_of("c1"))
    engine.execute(engine.plan(Request("acme", "1", "qa")))
    build = setup.world.build("acme", 2, {"app.tgz": b"2"}, commit=commit_of("c2"), hours=1)
    setup.world.copy(build, "dev", "qa", move=True)
    setup.world.record(build, "qa", "dev")
    detail = refused(setup, Request("acme", "1", "qa", rollback=True), "writes")
    assert detail.startswith(
        "libs-qa/acme/2/app.tgz is the only copy of those bytes in the registry; removing it "
        "from qa would lose it"
    )
