"""Build statuses written by a promotion, on the local registry and on the Artifactory emulator
(real HTTP on 127.0.0.1): listed in the dry run, written once before the record, read back,
made once by a resume, never removed by an undo (which adds ``<env>-undone``), and added again
by a rollback; none where the promotion is refused or the backend keeps no statuses."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relman.errors import InputError, UsageError
from relman.model import BuildStatus
from relman.registry.artifactory import ArtifactoryRegistry
from relman.registry.base import BuildStatuses, NotFound, Write
from relman.registry.local import LocalRegistry
from relman.release.lineage import build_lineage
from relman.release.plan import Operation
from relman.release.promotion import PromotionInterrupted, PromotionRefused, Request
from relman.verify.files import default_context
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.artifactory_http import Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN
from tests.unit.release.lineage_support import World, commit_of
from tests.unit.release.promotion_support import Faulty, Setup, snapshot

FILES = {"app.tgz": b"app", "lib.jar": b"lib"}
QA = Request("acme", "1", "qa")
UNDONE_NOTE = (
    "build acme/1 keeps its status qa: a build's statuses are an append-only history, so "
    "status qa-undone records the undo"
)


@dataclass
class Case:
    """A promotion setup on one backend; ``emu`` is the Artifactory emulator behind it, if any."""

    setup: Setup
    emu: ArtifactoryEmulator | None

    @property
    def registry(self) -> Any:
        return self.setup.registry

    def statuses(self, number: str = "1") -> list[tuple[str, str]]:
        """``(status, comment)`` of build acme/NUMBER, read back through the backend."""
        record = self.registry.build_record("acme", number)
        return [(s.status, s.comment or "") for s in record.statuses]

    def state(self) -> Any:
        """Everything a refused promotion must leave as it was."""
        if self.emu is None:
            return snapshot(self.setup.root)
        return {key: dict(info) for key, info in self.emu.builds.items()}, sorted(
            (loc.repo, loc.path)
            for repo in ("libs-dev", "libs-qa")
            for loc in self.registry.items(repo)
        )


@pytest.fixture(params=["local", "artifactory"])
def case(request: pytest.FixtureRequest, relman_home: Path) -> Iterator[Case]:
    setup = Setup.create(relman_home)
    if request.param == "local":
        yield Case(setup, None)
        return
    emu: ArtifactoryEmulator = request.getfixturevalue("artifactory")
    remote = ArtifactoryRegistry(emu.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    setup.world = World(remote, ci=setup.world.ci, promoter=setup.world.promoter)
    yield Case(setup, emu)
    remote.close()


def comment(plan_digest: str, entry: int, what: str = "promotion dev -> qa") -> str:
    return f"relman {what}, plan {plan_digest[:12]}, audit entry {entry}"


def interrupt(case: Case, request: Request, fail_at: int) -> str:
    engine = case.setup.engine(registry=Faulty(case.registry, fail_at=fail_at))
    with pytest.raises(PromotionInterrupted) as caught:
        engine.execute(engine.plan(request))
    return str(caught.value)


def test_the_dry_run_lists_the_status_and_writes_nothing(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES)
    before = case.state()
    engine = case.setup.engine()
    plan = engine.plan(QA)
    status, record = plan.writes[-2:]
    assert status == Write("build-status", "build acme/1", "status qa", dry_run=True)
    assert str(status) == "would build-status build acme/1: status qa"
    assert record.action == "put-record"
    assert plan.to_json()["writes"][-2] == {
        "action": "build-status",
        "target": "build acme/1",
        "detail": "status qa",
    }
    op = plan.operations[-1]
    doc = op.to_json()
    assert (doc["action"], doc["item"], doc["status"]) == (
        "build-status",
        {"repo": "acme", "path": "1"},
        "qa",
    )
    assert doc["comment"] == f"relman promotion dev -> qa, plan {plan.digest[:12]}"
    assert Operation.from_json(doc).to_json() == doc
    assert "status" not in plan.operations[0].to_json()
    result = engine.preflight(plan)
    assert result.ok, result.failed
    writes = next(c.detail for c in result.checks if c.name == "writes")
    assert writes.endswith("can make: 4 copy, 1 build-status, 1 put-record")
    assert case.statuses() == []
    assert case.state() == before


def test_a_clean_promotion_leaves_the_status_in_the_build_record(case: Case) -> None:
    build = case.setup.world.build("acme", 1, FILES)
    engine = case.setup.engine()
    plan = engine.plan(QA)
    started = datetime.now(UTC) - timedelta(seconds=1)
    outcome = engine.execute(plan)
    assert outcome.writes[-2] == Write("build-status", "build acme/1", "status qa")
    assert outcome.to_json()["writes"][-2] == {
        "action": "build-status",
        "target": "build acme/1",
        "detail": "status qa",
    }
    assert outcome.readback.ok
    [row] = case.registry.build_record("acme", "1").statuses
    assert (row.status, row.comment) == ("qa", comment(plan.digest, 1))
    assert row.timestamp is not None and started <= row.timestamp <= datetime.now(UTC)
    assert row.repository is None
    intent = case.setup.log.entries()[0]
    assert intent.body["plan"]["operations"][-1]["comment"] == (
        f"relman promotion dev -> qa, plan {plan.digest[:12]}"
    )
    if case.emu is None:
        assert row.user == "rm-anna"
    else:
        [stored] = case.emu.builds[("acme", "1")]["statuses"]
        assert stored["ciUser"] == "rm-anna" and "repository" not in stored
        assert stored["user"] == case.emu.token_owner(ARTIFACTORY_TOKEN)

    prod = engine.plan(Request("acme", "1", "prod"))
    engine.approve(prod, case.setup.approver("ben"))
    engine.execute(prod)
    assert case.statuses() == [
        ("qa", comment(plan.digest, 1)),
        ("prod", comment(prod.digest, 4, "promotion qa -> prod")),
    ]
    record = case.registry.build_record("acme", "1")
    assert (record.identity, record.artifacts) == (build.identity, build.artifacts)
    lineage = build_lineage(case.registry, case.setup.profile, default_context(), build="acme")
    assert lineage.ok, lineage.findings
    assert lineage.builds[0].environments == ("dev", "qa", "prod")


def test_a_refused_promotion_writes_no_status(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES, sign=False)
    before = case.state()
    engine = case.setup.engine()
    plan = engine.plan(QA)
    assert [c.name for c in engine.preflight(plan).failed] == ["signatures"]
    with pytest.raises(PromotionRefused, match="nothing was written"):
        engine.execute(plan)
    assert case.statuses() == []
    assert case.state() == before
    assert case.setup.log.entries() == []


def test_a_failed_status_write_is_made_once_by_resume(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES)
    message = interrupt(case, QA, fail_at=5)
    assert "stopped after 4 of 5 writes ([Errno 104] Connection reset by peer)" in message
    assert case.statuses() == []
    engine = case.setup.engine()
    [pending] = engine.interrupted()
    outcome = engine.resume(pending)
    assert [w.action for w in outcome.writes] == ["build-status", "put-record"]
    assert outcome.readback.ok
    digest = engine.plan(QA).digest
    assert case.statuses() == [("qa", comment(digest, 1))]
    assert engine.interrupted() == []


def test_a_status_already_written_is_not_written_again(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES)
    message = interrupt(case, QA, fail_at=6)
    assert "stopped storing the record" in message
    assert [s for s, _ in case.statuses()] == ["qa"]
    engine = case.setup.engine()
    outcome = engine.resume(engine.interrupted()[0])
    assert [w.action for w in outcome.writes] == ["put-record"]
    assert [s for s, _ in case.statuses()] == ["qa"]


def test_undo_adds_the_undone_status(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES)
    interrupt(case, QA, fail_at=6)
    engine = case.setup.engine()
    digest = engine.plan(QA).digest
    [pending] = engine.interrupted()
    undone = engine.undo(pending)
    assert [(w.action, w.target, w.detail) for w in undone.writes[:1]] == [
        ("build-status", "build acme/1", "status qa-undone")
    ]
    assert [w.action for w in undone.writes[1:]] == ["delete"] * 4
    assert undone.notes == (UNDONE_NOTE,)
    assert case.statuses() == [
        ("qa", comment(digest, 1)),
        ("qa-undone", "undo of " + comment(digest, 1)),
    ]
    assert case.setup.log.entries()[-1].body["notes"] == [UNDONE_NOTE]

    # The same plan promoted again: a status of its own, told apart by its audit entry.
    outcome = engine.execute(engine.plan(QA))
    assert outcome.readback.ok
    assert case.statuses()[-1] == ("qa", comment(digest, 3))


def test_an_undo_stopped_midway_adds_the_undone_status_once(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES)
    interrupt(case, QA, fail_at=6)
    [pending] = case.setup.engine().interrupted()
    faulty = case.setup.engine(registry=Faulty(case.registry, fail_at=2))
    with pytest.raises(PromotionInterrupted, match="undo of audit entry 1 stopped after 1 writes"):
        faulty.undo(pending)
    again = case.setup.engine().undo(pending)
    assert [w.action for w in again.writes] == ["delete"] * 4 and again.notes == ()
    assert [s for s, _ in case.statuses()] == ["qa", "qa-undone"]


def test_rollback_adds_the_environment_again(case: Case) -> None:
    engine = case.setup.engine()
    for number in (1, 2):
        case.setup.world.build(
            "acme",
            number,
            {"app.tgz": b"%d" % number},
            commit=commit_of(f"c{number}"),
            hours=number,
        )
        engine.execute(engine.plan(Request("acme", str(number), "qa")))
    first = case.statuses("1")
    plan = engine.plan(Request("acme", "1", "qa", rollback=True))
    assert [(w.action, w.target, w.detail) for w in plan.writes[-2:-1]] == [
        ("build-status", "build acme/1", "status qa")
    ]
    engine.execute(plan)
    assert case.statuses("1") == [*first, ("qa", comment(plan.digest, 5, "rollback to acme/1"))]
    assert [s for s, _ in case.statuses("2")] == ["qa"]


# -- backends -------------------------------------------------------------------------------


class NoStatuses(Faulty):
    """A backend that keeps no build statuses."""

    set_build_status = None


def test_no_status_where_the_backend_keeps_none(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES)
    bare = NoStatuses(case.registry)
    assert not isinstance(bare, BuildStatuses)
    engine = case.setup.engine(registry=bare)
    plan = engine.plan(QA)
    assert [w.action for w in plan.writes] == ["copy"] * 4 + ["put-record"]
    assert engine.execute(plan).readback.ok
    assert case.statuses() == []


def test_a_backend_that_refuses_the_status_in_its_dry_run(case: Case) -> None:
    case.setup.world.build("acme", 1, FILES)

    class Refusing(Faulty):
        def set_build_status(self, name: str, number: str, status: str, **kwargs: Any) -> Write:
            raise UsageError(f"build {name}/{number}: statuses are switched off here")

    engine = case.setup.engine(registry=Refusing(case.registry))
    result = engine.preflight(engine.plan(QA))
    assert [(c.name, c.detail) for c in result.failed] == [
        ("writes", "build acme/1: statuses are switched off here")
    ]


def test_the_local_registry_appends_statuses(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "registry", create=True)
    assert isinstance(registry, BuildStatuses)
    registry.create_repository("libs-dev")
    world = World(registry)
    built = world.build("acme", 1, FILES)
    path = registry.root / ".relman" / "builds" / "acme" / "1.json"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    dry = registry.set_build_status("acme", "1", "qa", comment="c", user="u", dry_run=True)
    assert dry == Write("build-status", "build acme/1", "status qa", dry_run=True)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    registry.set_build_status("acme", "1", "qa", repository="libs-qa")
    registry.set_build_status("acme", "1", "prod", comment="signed off", user="rm-anna")
    record = registry.build_record("acme", "1")
    assert [(s.status, s.repository, s.user, s.comment) for s in record.statuses] == [
        ("qa", "libs-qa", None, None),
        ("prod", None, "rm-anna", "signed off"),
    ]
    row: BuildStatus = record.statuses[1]
    assert row.timestamp_raw.endswith("+0000") and row.timestamp is not None
    assert record.artifacts == built.artifacts and record.identity == built.identity
    with pytest.raises(NotFound, match="no build acme/2"):
        registry.set_build_status("acme", "2", "qa")
    with pytest.raises(UsageError, match="build status '' is empty"):
        registry.set_build_status("acme", "1", "")


def test_artifactory_statuses_are_status_only_promotions(
    artifactory: ArtifactoryEmulator, relman_home: Path
) -> None:
    remote = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    try:
        assert isinstance(remote, BuildStatuses)
        world = World(remote)
        world.build("acme", 1, FILES)
        world.build("acme", 2, {"app.tgz": b"two"}, commit=commit_of("two"), hours=1)
        dry = remote.set_build_status("acme", "1", "qa", dry_run=True)
        assert dry.dry_run and "statuses" not in artifactory.builds[("acme", "1")]
        # Build-info read ahead before the write is not served after it.
        assert remote.build_numbers("acme") == ["2", "1"]
        remote.build_record("acme", "2")
        artifactory.reset_log()
        remote.set_build_status("acme", "1", "qa", comment="smoke green", user="rm-anna")
        assert artifactory.count("POST") == artifactory.count("POST", "^/api/build/promote/") == 1
        [row] = remote.build_record("acme", "1").statuses
        assert (row.status, row.comment) == ("qa", "smoke green")
        [stored] = artifactory.builds[("acme", "1")]["statuses"]
        assert stored["ciUser"] == "rm-anna" and "repository" not in stored
        with pytest.raises(UsageError, match="a status-only promotion names none"):
            remote.set_build_status("acme", "1", "qa", repository="libs-qa")
        artifactory.features(build_promotion=False)
        with pytest.raises(InputError, match="only in Artifactory Pro"):
            remote.set_build_status("acme", "1", "prod", dry_run=True)
    finally:
        remote.close()


def test_http_faults_on_the_status_write(
    artifactory: ArtifactoryEmulator, relman_home: Path
) -> None:
    """The promotion request fails after the server made it (read back: done, once), then
    before (the promotion stops; resume makes it once)."""
    setup = Setup.create(relman_home)
    remote = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    setup.world = World(remote, ci=setup.world.ci, promoter=setup.world.promoter)
    case = Case(setup, artifactory)
    try:
        for number in (1, 2):
            setup.world.build(
                "acme",
                number,
                FILES if number == 1 else {"o.bin": b"o"},
                commit=commit_of(str(number)),
            )
        engine = setup.engine()
        for number, commit in ((1, True), (2, False)):
            fault = Fault(method="POST", path="^/api/build/promote/", status=502, commit=commit)

            def after_checks(check: Any, fault: Fault = fault) -> None:
                if check.name == "approvals":  # planned and checked: the next POST is the write
                    artifactory.inject(fault)

            request = Request("acme", str(number), "qa")
            artifactory.reset_log()
            if commit:
                outcome = engine.execute(engine.plan(request), on_check=after_checks)
                assert outcome.readback.ok
            else:
                with pytest.raises(PromotionInterrupted, match="after 2 of 3 writes"):
                    engine.execute(engine.plan(request), on_check=after_checks)
                assert case.statuses("2") == []
                engine.resume(engine.interrupted()[0])
            assert [s for s, _ in case.statuses(str(number))] == ["qa"]
            assert [r.status for r in artifactory.requests if r.fault] == [502]
    finally:
        remote.close()
