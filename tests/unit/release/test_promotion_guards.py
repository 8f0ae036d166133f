"""Guards around the engine: an auditor's read-only profile writes nothing, whoever calls
(CLI, GUI or a script), and an approval the audit log would refuse is never stored."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from relman.errors import UsageError
from relman.release.audit import AuditError
from relman.release.promotion import Engine, PromotionInterrupted, Request
from tests.unit.release.promotion_support import Faulty, Setup, promoter, snapshot


@pytest.fixture
def setup(relman_home: Path) -> Setup:
    return Setup.create(relman_home)


def read_only(setup: Setup, registry: object = None) -> Engine:
    profile = dataclasses.replace(setup.profile, read_only=True)
    return Engine(
        registry if registry is not None else setup.registry,
        profile,
        promoter=setup.anna,
        log=setup.log,
    )


def test_a_read_only_profile_plans_and_checks_but_writes_nothing(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    before = snapshot(setup.root)
    engine = read_only(setup)
    plan = engine.plan(Request("acme", "1", "qa"))
    assert engine.preflight(plan).ok  # an auditor sees the plan and every check
    for attempt, what in (
        (lambda: engine.execute(plan), "no promotion or rollback"),
        (lambda: engine.approve(plan, setup.approver("ben")), "no approval"),
    ):
        with pytest.raises(UsageError, match=f"read-only \\(an auditor's profile\\): {what}"):
            attempt()
    assert snapshot(setup.root) == before and setup.log.entries() == []


def test_a_read_only_profile_neither_resumes_nor_undoes(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app", "lib.jar": b"lib"})
    faulty = setup.engine(registry=Faulty(setup.registry, fail_at=2))
    with pytest.raises(PromotionInterrupted):
        faulty.execute(faulty.plan(Request("acme", "1", "qa")))
    engine = read_only(setup)
    [pending] = engine.interrupted()
    before = snapshot(setup.root)
    with pytest.raises(UsageError, match="no resume of a promotion"):
        engine.resume(pending)
    with pytest.raises(UsageError, match="no undo of a promotion"):
        engine.undo(pending)
    assert snapshot(setup.root) == before and setup.engine().interrupted() == [pending]


def test_an_approval_the_log_would_refuse_is_not_stored(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.world.copy(build, "dev", "qa")
    setup.world.record(build, "qa", "dev")
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "prod"))
    stranger = promoter("stranger", ed25519.Ed25519PrivateKey.generate())  # not known anywhere
    before = snapshot(setup.root)
    with pytest.raises(UsageError, match="neither a relman signing key nor in the trust store"):
        engine.approve(plan, stranger)
    assert snapshot(setup.root) == before and setup.registry.approvals("acme", "1") == []
    # A log cut mid-line refuses appends: the approval is not stored either.
    engine.approve(plan, setup.approver("ben"))
    with setup.log.path.open("ab") as handle:
        handle.write(b'{"half a line')
    with pytest.raises(AuditError, match="incomplete"):
        engine.approve(plan, setup.approver("chen"))
    assert len(setup.registry.approvals("acme", "1")) == 1
