"""Faults in the middle of a promotion: detected on the next run, then resumed or undone;
never a silent half-promotion. The fault is a registry whose N-th write fails as a dropped
connection would (:class:`Faulty`)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from relman.errors import UsageError
from relman.model import RepoPath
from relman.release import records
from relman.release.execution import Executor, Steps, apply, read_back
from relman.release.lineage import build_lineage
from relman.release.promotion import PromotionInterrupted, Request
from relman.verify.files import default_context
from tests.unit.release.promotion_support import PROD, Faulty, Setup, snapshot


@pytest.fixture
def setup(relman_home: Path) -> Setup:
    return Setup.create(relman_home)


def qa_items(setup: Setup) -> set[str]:
    return {loc.path for loc in setup.registry.items("libs-qa")}


FILES = {"app.tgz": b"app", "lib.jar": b"lib"}
ALL_QA = {"acme/1/app.tgz", "acme/1/app.tgz.sig", "acme/1/lib.jar", "acme/1/lib.jar.sig"}


def interrupt(setup: Setup, request: Request, fail_at: int) -> str:
    faulty = Faulty(setup.registry, fail_at=fail_at)
    engine = setup.engine(registry=faulty)
    with pytest.raises(PromotionInterrupted) as caught:
        engine.execute(engine.plan(request))
    return str(caught.value)


def test_interrupted_then_resumed(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES)
    message = interrupt(setup, Request("acme", "1", "qa"), fail_at=3)
    assert message.startswith(
        "promotion of acme/1 to qa stopped after 2 of 5 writes ([Errno 104] Connection reset by "
        "peer); the audit log holds its intent (entry 1): finish it with 'relman promote "
        "--profile acme --resume' or revert it with '--undo'"
    )
    assert qa_items(setup) == {"acme/1/app.tgz", "acme/1/app.tgz.sig"}
    assert setup.registry.promotion_records("acme", "1") == []

    # The next run sees it: lineage flags the half promotion, and nothing else may be promoted.
    lineage = build_lineage(setup.registry, setup.profile, default_context(), build="acme")
    assert [f.kind for f in lineage.findings] == ["unverified-promotion"]
    engine = setup.engine()
    [pending] = engine.interrupted()
    assert (pending.seq, pending.event, pending.body["to"]) == (1, "promotion-intent", "qa")
    setup.world.build("other", 1, {"x.bin": b"x"})
    result = engine.preflight(engine.plan(Request("other", "1", "qa")))
    assert [c.name for c in result.failed] == ["interrupted"]
    assert result.failed[0].detail.startswith(
        "a promotion was interrupted: acme/1 to qa (audit entry 1, "
    )

    outcome = engine.resume(pending)
    assert [w.target for w in outcome.writes] == [
        "libs-qa/acme/1/lib.jar",
        "libs-qa/acme/1/lib.jar.sig",
        "build acme/1",
        "records/acme/1/qa.dsse.json",
    ]
    assert outcome.readback.ok and outcome.intent == 1
    assert qa_items(setup) == ALL_QA
    record = records.read(outcome.record, default_context().keys, source="record")
    assert record.ok and [c["name"] for c in record.checks][-1] == "read-back"
    predicate = json.loads(base64.b64decode(json.loads(outcome.record)["payload"]))["predicate"]
    assert predicate["resumed"] is True
    last = setup.log.entries()[-1]
    assert (last.event, last.body["intent"], last.body["result"], last.body["resumed"]) == (
        "promotion-outcome",
        1,
        "done",
        True,
    )
    assert engine.interrupted() == [] and setup.log.verify().ok
    lineage = build_lineage(setup.registry, setup.profile, default_context(), build="acme")
    assert lineage.ok, lineage.findings


def test_interrupted_then_undone(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES)
    before = snapshot(setup.root)
    interrupt(setup, Request("acme", "1", "qa"), fail_at=4)
    assert len(qa_items(setup)) == 3
    engine = setup.engine()
    [pending] = engine.interrupted()
    undone = engine.undo(pending)
    assert sorted(w.target for w in undone.writes) == [
        "libs-qa/acme/1/app.tgz",
        "libs-qa/acme/1/app.tgz.sig",
        "libs-qa/acme/1/lib.jar",
    ]
    assert {w.action for w in undone.writes} == {"delete"} and undone.notes == ()
    assert snapshot(setup.root) == before
    assert setup.log.entries()[-1].body == {
        "intent": 1,
        "result": "undone",
        "writes": [w for w in undone.to_json()["writes"]],
        "notes": [],
    }
    assert engine.interrupted() == [] and setup.log.verify().ok
    # Now it can be promoted again, cleanly.
    outcome = engine.execute(engine.plan(Request("acme", "1", "qa")))
    assert outcome.readback.ok and qa_items(setup) == ALL_QA


def test_a_label_promotion_interrupted_and_undone(setup: Setup) -> None:
    build = setup.world.build("acme", 1, FILES)
    setup.world.copy(build, "dev", "qa")
    setup.world.record(build, "qa", "dev")
    setup.registry.set_properties("libs-qa", "acme/1/lib.jar", {PROD: ["canary"]})
    before = snapshot(setup.root)
    engine = setup.engine()
    engine.approve(engine.plan(Request("acme", "1", "prod")), setup.approver("ben"))
    before = snapshot(setup.root)
    interrupt(setup, Request("acme", "1", "prod"), fail_at=2)
    assert setup.registry.properties("libs-qa", "acme/1/app.tgz")[PROD] == ("prod",)
    assert setup.registry.properties("libs-qa", "acme/1/lib.jar")[PROD] == ("canary",)
    [pending] = engine.interrupted()
    undone = engine.undo(pending)
    assert [(w.action, w.target) for w in undone.writes] == [
        ("delete-properties", "libs-qa/acme/1/app.tgz")
    ]
    assert snapshot(setup.root) == before
    interrupt(setup, Request("acme", "1", "prod"), fail_at=3)
    assert setup.registry.properties("libs-qa", "acme/1/lib.jar")[PROD] == ("canary", "prod")
    [pending] = engine.interrupted()
    undone = engine.undo(pending)
    assert [(w.action, w.detail) for w in undone.writes] == [
        ("set-properties", f"{PROD}=canary"),
        ("delete-properties", PROD),
    ]
    assert snapshot(setup.root) == before


def test_a_fault_storing_the_record(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES)
    message = interrupt(setup, Request("acme", "1", "qa"), fail_at=6)
    assert "stopped storing the record ([Errno 104]" in message
    assert qa_items(setup) == ALL_QA
    engine = setup.engine()
    outcome = engine.resume(engine.interrupted()[0])
    assert [w.action for w in outcome.writes] == ["put-record"]
    assert len(setup.registry.promotion_records("acme", "1")) == 1


def test_a_crash_after_the_record_was_stored(setup: Setup) -> None:
    """The record is in the registry but the outcome never reached the log: undo is refused
    (a recorded promotion is rolled back, not erased), resume logs the outcome without a
    second record."""
    setup.world.build("acme", 1, FILES)
    log = setup.log

    class Crashing(Faulty):
        def put_promotion_record(self, *args, **kwargs):
            write = self.inner.put_promotion_record(*args, **kwargs)
            if not kwargs.get("dry_run"):
                raise SystemExit("killed")  # the process dies before the outcome is logged
            return write

    engine = setup.engine(registry=Crashing(setup.registry))
    with pytest.raises(SystemExit):
        engine.execute(engine.plan(Request("acme", "1", "qa")))
    engine = setup.engine()
    [pending] = engine.interrupted()
    before = snapshot(setup.root)
    with pytest.raises(UsageError, match=r"\(audit entry 1\) finished: its record is in the"):
        engine.undo(pending)
    assert snapshot(setup.root) == before
    [(_, stored)] = setup.registry.promotion_records("acme", "1")
    outcome = engine.resume(pending)
    assert outcome.writes == () and outcome.record == stored
    assert setup.registry.promotion_records("acme", "1") == [("qa", stored)]
    assert log.entries()[-1].body["record_sha256"] == outcome.record_sha256


def test_resume_fails_again_and_undo_fails_midway(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES)
    interrupt(setup, Request("acme", "1", "qa"), fail_at=2)
    engine = setup.engine(registry=Faulty(setup.registry, fail_at=2))
    [pending] = engine.interrupted()
    with pytest.raises(PromotionInterrupted, match="stopped after 2 of 5 writes"):
        engine.resume(pending)
    assert len(qa_items(setup)) == 2
    engine = setup.engine(registry=Faulty(setup.registry, fail_at=2))
    with pytest.raises(PromotionInterrupted, match=r"undo of audit entry 1 stopped after 1 writes"):
        engine.undo(pending)
    assert len(qa_items(setup)) == 1
    undone = setup.engine().undo(pending)
    assert len(undone.writes) == 1 and qa_items(setup) == set()


def test_resume_and_undo_are_guarded(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES)
    interrupt(setup, Request("acme", "1", "qa"), fail_at=2)
    [pending] = setup.engine().interrupted()
    ben = setup.engine(setup.approver("ben"))
    with pytest.raises(UsageError, match="was begun with key rm-anna; resume it with that key"):
        ben.resume(pending)
    engine = setup.engine()
    outcome = engine.resume(pending)
    done = setup.log.entries()[-1]
    for entry in (pending, done):
        with pytest.raises(UsageError, match=f"audit entry {entry.seq} is not an interrupted"):
            engine.undo(entry)
    assert outcome.readback.ok
    from dataclasses import replace

    broken = replace(pending, body={"plan": {"name": "acme"}})
    with pytest.raises(UsageError, match="audit entry 1 is not a promotion intent relman can"):
        Steps.from_intent(broken)
    bad_op = replace(
        pending, body={**pending.body, "plan": {**pending.body["plan"], "operations": [{}]}}
    )
    with pytest.raises(UsageError, match="an operation in the audit log cannot be read"):
        Steps.from_intent(bad_op)


def test_undo_where_the_backend_cannot_delete(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES)
    interrupt(setup, Request("acme", "1", "qa"), fail_at=2)
    engine = setup.engine(registry=Faulty(setup.registry, deletes=False))
    [pending] = engine.interrupted()
    before = snapshot(setup.root)
    with pytest.raises(UsageError, match="cannot delete, so the copies of audit entry 1 cannot"):
        engine.undo(pending)
    assert snapshot(setup.root) == before
    op = Steps.from_intent(pending).operations[0]
    deleting = type(op)("delete", op.item, op.write)
    with pytest.raises(UsageError, match="cannot delete libs-qa/acme/1/app.tgz"):
        apply(Faulty(setup.registry, deletes=False), deleting)


def test_undo_leaves_other_bytes_alone(setup: Setup) -> None:
    """A copy whose target now holds other bytes was not made by this promotion."""
    setup.world.build("acme", 1, FILES)
    interrupt(setup, Request("acme", "1", "qa"), fail_at=1)
    setup.registry.deploy("libs-qa", "acme/1/app.tgz", b"someone else's")
    engine = setup.engine()
    undone = engine.undo(engine.interrupted()[0])
    assert undone.writes == ()
    assert setup.registry.location("libs-qa", "acme/1/app.tgz").size == len(b"someone else's")


def test_read_back_names_writes_that_did_not_take_effect(setup: Setup) -> None:
    build = setup.world.build("acme", 1, FILES)
    setup.world.copy(build, "dev", "qa")
    setup.world.record(build, "qa", "dev")
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "prod"))
    steps = Steps.of(plan)
    check = read_back(setup.registry, setup.profile, steps)
    assert not check.ok
    assert "app.tgz: libs-qa/acme/1/app.tgz does not carry relman.environment=prod" in check.detail
    assert "libs-qa/acme/1/app.tgz: property relman.environment was not written" in check.detail
    from dataclasses import replace

    ops = steps.operations
    odd = replace(
        steps,
        artifacts=(
            (*steps.artifacts[0][:2], None),
            (*steps.artifacts[1][:2], RepoPath("libs-qa", "gone")),
        ),
        operations=(
            replace(ops[0], action="delete"),
            replace(ops[0], action="copy", sha256="0" * 64),
            replace(ops[0], action="delete-properties", previous={PROD: ("x",)}),
            replace(ops[0], item=RepoPath("libs-qa", "missing")),
        ),
    )
    setup.registry.set_properties("libs-qa", "acme/1/app.tgz", {PROD: "x"})
    detail = read_back(setup.registry, setup.profile, odd).detail
    assert detail.split("; ") == [
        "app.tgz: has no place in prod",
        "lib.jar: libs-qa/gone: no such item in " + str(setup.root),
        "libs-qa/acme/1/app.tgz is still there",
        f"libs-qa/acme/1/app.tgz has sha256 {build.artifacts[0].sha256}",
        "libs-qa/acme/1/app.tgz: property relman.environment was not written",
        "libs-qa/missing: libs-qa/missing: no such item in " + str(setup.root),
    ]


def test_a_read_back_that_fails_leaves_the_intent_pending(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES)

    class Rotting(Faulty):
        """Copies, then the copy's bytes change on the server."""

        def copy(self, src, dst, **kwargs):
            write = self.inner.copy(src, dst, **kwargs)
            if not kwargs.get("dry_run") and dst.path == "acme/1/lib.jar":
                (self.inner.root / "repos" / dst.repo / dst.path).write_bytes(b"rot")
            return write

    engine = setup.engine(registry=Rotting(setup.registry))
    with pytest.raises(PromotionInterrupted, match="stopped at the read-back"):
        engine.execute(engine.plan(Request("acme", "1", "qa")))
    assert setup.registry.promotion_records("acme", "1") == []
    assert len(setup.engine().interrupted()) == 1


def test_executor_refuses_a_failed_preflight(setup: Setup) -> None:
    setup.world.build("acme", 1, FILES, sign=False)
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "qa"))
    result = engine.preflight(plan)
    from relman.release.promotion import PromotionRefused

    with pytest.raises(
        PromotionRefused, match=r"refused: signatures failed \(nothing was written\)"
    ):
        Executor(setup.registry, setup.profile, setup.log, setup.anna).run(plan, result)
    assert setup.log.entries() == []


def test_a_label_promotion_resumed_and_a_label_rollback_undone(setup: Setup) -> None:
    build = setup.world.build("acme", 1, FILES)
    setup.world.copy(build, "dev", "qa")
    setup.world.record(build, "qa", "dev")
    engine = setup.engine()
    engine.approve(engine.plan(Request("acme", "1", "prod")), setup.approver("ben"))
    interrupt(setup, Request("acme", "1", "prod"), fail_at=2)
    written = []
    outcome = engine.resume(engine.interrupted()[0], on_write=written.append)
    assert [(w.action, w.target) for w in written] == [
        ("set-properties", "libs-qa/acme/1/lib.jar"),
        ("build-status", "build acme/1"),
    ]
    assert outcome.readback.ok

    other = setup.world.build("acme", 2, {"app.tgz": b"two"}, commit="c" * 40, hours=1)
    setup.world.copy(other, "dev", "qa")
    setup.world.record(other, "qa", "dev")
    setup.world.label(other, "libs-qa", "prod")
    setup.world.record(other, "prod", "qa")
    rollback = Request("acme", "1", "prod", rollback=True)
    engine.approve(engine.plan(rollback), setup.approver("ben"))
    before = snapshot(setup.root)
    interrupt(setup, rollback, fail_at=2)
    assert PROD not in setup.registry.properties("libs-qa", "acme/2/app.tgz")
    reverted = []
    undone = engine.undo(engine.interrupted()[0], on_write=reverted.append)
    assert [(w.action, w.target, w.detail) for w in reverted] == [
        ("set-properties", "libs-qa/acme/2/app.tgz", f"{PROD}=prod")
    ]
    assert list(undone.writes) == reverted
    assert snapshot(setup.root) == before


def test_keyless_engines_cannot_resume_or_undo(setup: Setup) -> None:
    from relman.release.promotion import Engine

    setup.world.build("acme", 1, FILES)
    interrupt(setup, Request("acme", "1", "qa"), fail_at=2)
    keyless = Engine(setup.registry, setup.profile, log=setup.log, context=default_context())
    [pending] = keyless.interrupted()
    for act in (keyless.resume, keyless.undo):
        with pytest.raises(UsageError, match=r"no signing key given: promotions are signed"):
            act(pending)


def test_read_back_of_other_bytes(setup: Setup) -> None:
    from dataclasses import replace

    build = setup.world.build("acme", 1, FILES)
    setup.world.copy(build, "dev", "qa")
    steps = Steps.of(setup.engine().plan(Request("acme", "1", "qa")))
    target = RepoPath("libs-qa", "acme/1/app.tgz")
    check = read_back(
        setup.registry, setup.profile, replace(steps, artifacts=(("app.tgz", "0" * 64, target),))
    )
    assert check.detail == (
        f"app.tgz: libs-qa/acme/1/app.tgz has sha256 {build.artifacts[0].sha256}, not {'0' * 64}"
        "; build acme/1 has no status qa"
    )
