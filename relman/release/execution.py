"""Executing a checked plan: intent, writes, read-back, signed record, outcome.

The order is what makes an interruption visible and recoverable:

1. the promoter's key is unlocked from the OS keyring (a locked keyring stops here, before
   anything is written);
2. a ``promotion-intent`` entry goes to the audit log with the whole plan (its operations,
   each with what an undo needs) and the checks it passed;
3. the writes are made one by one, the build status last (its comment names the intent's
   audit entry, so the status of this run is told from that of any other);
4. the registry is read back: every artifact is downloaded again from where it now is in the
   target environment and its SHA-256 compared with the build record's, and every write is
   checked to have the effect it was meant to (a label present, a removed copy gone, the
   status in the build's history);
5. the promotion record (DSSE, in-toto Statement; see :mod:`relman.release.records`) is
   signed with the promoter's key and stored in the registry;
6. a ``promotion-outcome`` entry names the intent and holds the writes and the record.

Anything that stops the run between 2 and 6 (an error, a crash, a lost connection) leaves an
intent without an outcome: :meth:`relman.release.audit.AuditLog.pending` finds it on the next
run, every preflight refuses to start another promotion of the profile until it is dealt with,
and :func:`resume` completes it (each write already made is recognised and not made twice)
or :func:`undo` reverts the writes that were made. Nothing is ever half-done silently. A
build status cannot be removed (a build's statuses are an append-only history, on Artifactory
as in the local registry): an undo adds the status ``<env>-undone``, its comment naming the
audit entry undone, and says so in its notes.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from relman.errors import RelmanError, UsageError, VerificationError
from relman.keystore import PrivateKey
from relman.model import DEFAULT_LABEL_PROPERTY, Location, Profile, RepoPath
from relman.registry.base import BuildStatuses, Deletes, NotFound, Registry, Write
from relman.release import records
from relman.release.audit import AuditLog, Entry
from relman.release.plan import STATUS, Operation, Plan, Request, write_json
from relman.release.preflight import Check, Preflight, Promoter
from relman.verify.signatures.dsse import parse_envelope

INTENT, OUTCOME = "promotion-intent", "promotion-outcome"
OnWrite = Callable[[Write], None]


class PromotionRefused(VerificationError):
    """A check failed, so nothing was written (exit 1); ``checks`` are all of them."""

    def __init__(self, message: str, checks: Sequence[Check] = ()) -> None:
        super().__init__(message)
        self.checks = tuple(checks)


class PromotionInterrupted(RelmanError):
    """A promotion stopped after its intent was logged; the message says how to finish it."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Steps:
    """What an intent commits to, as the audit log keeps it: enough to finish or undo it."""

    request: Request
    profile: str
    identity: str | None
    source: str | None
    digest: str
    replaces: tuple[str, ...]
    registry: str
    artifacts: tuple[tuple[str, str | None, RepoPath | None], ...]
    operations: tuple[Operation, ...]

    @classmethod
    def of(cls, plan: Plan) -> Steps:
        return cls(
            request=plan.request,
            profile=plan.profile.name,
            identity=plan.identity,
            source=plan.source,
            digest=plan.digest,
            replaces=plan.replaces,
            registry=plan.registry,
            artifacts=tuple((a.name, a.sha256, a.target) for a in plan.artifacts),
            operations=plan.operations,
        )

    @classmethod
    def from_intent(cls, entry: Entry) -> Steps:
        """The steps of a ``promotion-intent`` entry; :class:`UsageError` when it holds none."""
        try:
            doc = entry.body["plan"]
            request = Request(
                str(doc["name"]), str(doc["number"]), str(doc["to"]), bool(doc["rollback"])
            )
            artifacts = tuple(
                (str(a["name"]), a["sha256"], _ref(a["target"])) for a in doc["artifacts"]
            )
            return cls(
                request=request,
                profile=str(doc["profile"]),
                identity=doc["identity"],
                source=doc["from"],
                digest=str(doc["digest"]),
                replaces=tuple(str(r) for r in doc["replaces"]),
                registry=str(doc["registry"]),
                artifacts=artifacts,
                operations=tuple(Operation.from_json(op) for op in doc["operations"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise UsageError(
                f"audit entry {entry.seq} is not a promotion intent relman can act on "
                f"({type(exc).__name__}: {exc})"
            ) from None

    def stamped(self, intent: int) -> Steps:
        """These steps with the comment of each build status naming the audit entry of their
        intent: what an execution of them writes, and what resume and undo look for."""
        operations = tuple(
            replace(op, comment=f"{op.comment}, audit entry {intent}")
            if op.action == STATUS
            else op
            for op in self.operations
        )
        return replace(self, operations=operations)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished promotion: the writes made, the read-back, the signed record, the log."""

    steps: Steps
    checks: tuple[Check, ...]
    writes: tuple[Write, ...]
    readback: Check
    record: bytes
    intent: int
    outcome: int

    @property
    def record_sha256(self) -> str:
        return hashlib.sha256(self.record).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "writes": [write_json(w) for w in self.writes],
            "readback": self.readback.to_json(),
            "record": json.loads(self.record),
            "record_sha256": self.record_sha256,
            "audit": {"intent": self.intent, "outcome": self.outcome},
        }


@dataclass(frozen=True, slots=True)
class Undone:
    """An interrupted promotion reverted: the writes that reverted it, and what was left."""

    steps: Steps
    writes: tuple[Write, ...]
    notes: tuple[str, ...]
    intent: int
    outcome: int

    def to_json(self) -> dict[str, Any]:
        return {
            "writes": [write_json(w) for w in self.writes],
            "notes": list(self.notes),
            "audit": {"intent": self.intent, "outcome": self.outcome},
        }


class Executor:
    """Makes the writes of one profile's promotions, with the audit log and the record."""

    def __init__(
        self, registry: Registry, profile: Profile, log: AuditLog, promoter: Promoter
    ) -> None:
        self.registry = registry
        self.profile = profile
        self.log = log
        self.promoter = promoter

    def run(
        self,
        plan: Plan,
        result: Preflight,
        *,
        on_write: OnWrite | None = None,
    ) -> Outcome:
        """Execute a plan whose preflight passed (:class:`PromotionRefused` otherwise)."""
        refuse_unless_passed(plan, result)
        key = self.promoter.private_key()
        steps = Steps.of(plan)
        approvals = [{"sha256": a.sha256, "key": a.signer} for a in result.approvals]
        body = {
            "profile": self.profile.name,
            "build": plan.build,
            "from": plan.source,
            "to": plan.target,
            "rollback": plan.request.rollback,
            "plan": plan.to_json(),
            "checks": result.to_json(),
            "promoter": {"key": self.promoter.name, "fingerprint": self.promoter.fingerprint},
            "approvals": approvals,
        }
        intent = self.log.append(INTENT, body, key_name=self.promoter.name, private_key=key)
        return self._complete(
            steps, intent.seq, result.to_json(), approvals, key, on_write, self.log.anchor(intent)
        )

    def resume(self, entry: Entry, *, on_write: OnWrite | None = None) -> Outcome:
        """Finish an interrupted promotion: make the writes it had not made, then read back,
        record and log the outcome as for a promotion that ran through."""
        steps = Steps.from_intent(entry)
        key = self.promoter.private_key()
        return self._complete(
            steps,
            entry.seq,
            list(entry.body.get("checks", [])),
            list(entry.body.get("approvals", [])),
            key,
            on_write,
            self.log.anchor(entry),
            resumed=True,
        )

    def _complete(
        self,
        steps: Steps,
        intent: int,
        checks: Sequence[Mapping[str, Any]],
        approvals: Sequence[Mapping[str, Any]],
        key: PrivateKey,
        on_write: OnWrite | None,
        anchor: Mapping[str, Any],
        *,
        resumed: bool = False,
    ) -> Outcome:
        steps = steps.stamped(intent)
        made: list[Write] = []
        total = len(steps.operations)
        for count, op in enumerate(steps.operations):
            try:
                if resumed and self._applied(op):
                    continue
                write = apply(self.registry, op, user=self.promoter.name)
            except Exception as exc:
                raise self._interrupted(
                    steps, intent, f"after {count} of {total} writes", exc
                ) from None
            made.append(write)
            if on_write is not None:
                on_write(write)
        readback = read_back(self.registry, self.profile, steps)
        if not readback.ok:
            raise self._interrupted(steps, intent, "at the read-back", readback.detail)
        # A resumed promotion may have stopped after its record was stored: never two records.
        record = self._recorded(steps) if resumed else None
        if record is None:
            record = self._record(
                steps, [*checks, readback.to_json()], approvals, key, resumed, anchor
            )
            try:
                stored = self.registry.put_promotion_record(
                    steps.request.name, steps.request.number, steps.request.target, record
                )
            except Exception as exc:
                raise self._interrupted(steps, intent, "storing the record", exc) from None
            made.append(stored)
        outcome = self.log.append(
            OUTCOME,
            {
                "intent": intent,
                "result": "done",
                "resumed": resumed,
                "writes": [write_json(w) for w in made],
                "record_sha256": hashlib.sha256(record).hexdigest(),
                "record": json.loads(record),
            },
            key_name=self.promoter.name,
            private_key=key,
        )
        return Outcome(
            steps,
            tuple(Check(str(c["name"]), bool(c["ok"]), str(c["detail"])) for c in checks),
            tuple(made),
            readback,
            record,
            intent,
            outcome.seq,
        )

    def _record(
        self,
        steps: Steps,
        checks: Sequence[Mapping[str, Any]],
        approvals: Sequence[Mapping[str, Any]],
        key: PrivateKey,
        resumed: bool,
        anchor: Mapping[str, Any],
    ) -> bytes:
        request = steps.request
        statement = records.statement(
            build_name=request.name,
            build_number=request.number,
            identity=steps.identity,
            artifacts=[(name, sha or "") for name, sha, _ in steps.artifacts],
            source=steps.source,
            target=request.target,
            promoter=self.promoter.name,
            fingerprint=self.promoter.fingerprint,
            checks=checks,
            registry=steps.registry,
        )
        predicate = statement["predicate"]
        predicate["plan"] = {"sha256": steps.digest}
        predicate["approvals"] = [dict(a) for a in approvals]
        predicate["resumed"] = resumed
        # The registry keeps evidence of this machine's audit log (relman.release.anchors).
        predicate["audit"] = dict(anchor)
        if request.rollback:
            predicate["rollback"] = {"replaces": list(steps.replaces)}
        return records.sign(statement, key)

    def _interrupted(self, steps: Steps, intent: int, when: str, cause: object) -> RelmanError:
        request = steps.request
        return PromotionInterrupted(
            f"promotion of {request.build} to {request.target} stopped {when} ({cause}); the "
            f"audit log holds its intent (entry {intent}): finish it with 'relman promote "
            f"--profile {self.profile.name} --resume' or revert it with '--undo'"
        )

    def _applied(self, op: Operation) -> bool:
        """Whether the effect of ``op`` is in the registry already (a build status: added and
        not undone)."""
        item = op.item
        if op.action == STATUS:
            statuses = _statuses(self.registry, op)
            return _row(op) in statuses and _row(_undoing(op)) not in statuses
        if op.action == "delete":
            return _location(self.registry, item) is None
        if op.action == "copy":
            there = _location(self.registry, item)
            return there is not None and there.sha256 == op.sha256
        current = self.registry.properties(item.repo, item.path)
        if op.action == "set-properties":
            return all(current.get(k) == v for k, v in op.properties.items())
        return all(name not in current for name in op.previous)

    # -- undo ------------------------------------------------------------------------------

    def undo(self, entry: Entry, *, on_write: OnWrite | None = None) -> Undone:
        """Revert what an interrupted promotion wrote, newest write first; the promotion's
        record, once stored, is evidence and is never removed (such a promotion is resumed)."""
        steps = Steps.from_intent(entry).stamped(entry.seq)
        request = steps.request
        if self._recorded(steps) is not None:
            raise UsageError(
                f"the promotion of {request.build} to {request.target} (audit entry {entry.seq}) "
                f"finished: its record is in the registry; run 'relman promote --profile "
                f"{self.profile.name} --resume' to log its outcome, or roll it back"
            )
        pending = [op for op in reversed(steps.operations) if self._applied(op)]
        if any(op.action == "copy" for op in pending) and not isinstance(self.registry, Deletes):
            raise UsageError(
                f"{self.registry.capabilities.name} cannot delete, so the copies of audit entry "
                f"{entry.seq} cannot be removed by relman: "
                f"{', '.join(str(op.item) for op in pending if op.action == 'copy')}"
            )
        key = self.promoter.private_key()
        made: list[Write] = []
        notes: list[str] = []
        for op in pending:
            try:
                write = self._revert(op, notes)
            except Exception as exc:
                raise PromotionInterrupted(
                    f"undo of audit entry {entry.seq} stopped after {len(made)} writes ({exc}); "
                    "run it again ('relman promote --undo')"
                ) from None
            if write is not None:
                made.append(write)
                if on_write is not None:
                    on_write(write)
        outcome = self.log.append(
            OUTCOME,
            {
                "intent": entry.seq,
                "result": "undone",
                "writes": [write_json(w) for w in made],
                "notes": notes,
            },
            key_name=self.promoter.name,
            private_key=key,
        )
        return Undone(steps, tuple(made), tuple(notes), entry.seq, outcome.seq)

    def _revert(self, op: Operation, notes: list[str]) -> Write | None:
        item = op.item
        if op.action == STATUS:
            undoing = _undoing(op)
            write = apply(self.registry, undoing, user=self.promoter.name)
            notes.append(
                f"build {item.repo}/{item.path} keeps its status {op.status}: a build's statuses "
                f"are an append-only history, so status {undoing.status} records the undo"
            )
            return write
        if op.action == "copy":
            assert isinstance(self.registry, Deletes)
            return self.registry.delete(item.repo, item.path)
        if op.action == "delete":
            if op.source is None or _location(self.registry, op.source) is None:
                notes.append(f"{item} was removed and no copy is left to restore it from")
                return None
            return self.registry.copy(op.source, item)
        names = list(op.properties) if op.action == "set-properties" else list(op.previous)
        restore = {k: v for k, v in op.previous.items() if k in names}
        if restore:
            return self.registry.set_properties(item.repo, item.path, restore)
        return self.registry.delete_properties(item.repo, item.path, names)

    def _recorded(self, steps: Steps) -> bytes | None:
        """The record of this plan (found by its digest) if the registry holds it already."""
        request = steps.request
        for target, data in self.registry.promotion_records(request.name, request.number):
            try:
                envelope = parse_envelope(json.loads(data), "record")
                digest = json.loads(envelope.payload)["predicate"]["plan"]["sha256"]
            except (RelmanError, ValueError, KeyError, TypeError):
                continue
            if target == request.target and digest == steps.digest:
                return data
        return None


def refuse_unless_passed(plan: Plan, result: Preflight) -> None:
    """Raise :class:`PromotionRefused` unless every check of ``result`` passed."""
    if not result.ok:
        failed = ", ".join(c.name for c in result.failed)
        raise PromotionRefused(
            f"promotion of {plan.build} to {plan.target} refused: {failed} failed "
            "(nothing was written)",
            result.checks,
        )


def apply(registry: Registry, op: Operation, *, user: str = "") -> Write:
    """Make one operation's write (``user``: the promoter's key name, a build status's user)."""
    item = op.item
    if op.action == STATUS and isinstance(registry, BuildStatuses):
        assert op.status is not None
        return registry.set_build_status(
            item.repo, item.path, op.status, comment=op.comment, user=user
        )
    if op.action == "copy":
        assert op.source is not None
        return registry.copy(op.source, item)
    if op.action == "set-properties":
        return registry.set_properties(item.repo, item.path, op.properties)
    if op.action == "delete-properties":
        return registry.delete_properties(item.repo, item.path, list(op.previous))
    if op.action == "delete" and isinstance(registry, Deletes):
        return registry.delete(item.repo, item.path)
    raise UsageError(f"{registry.capabilities.name} cannot {op.action} {item}")


def read_back(registry: Registry, profile: Profile, steps: Steps) -> Check:
    """Read the registry back after the writes: every artifact's bytes where the target
    environment now has them (downloaded again, SHA-256 equal to the build record's), and
    the effect of every write."""
    env = profile.environment(steps.request.target)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="relman-readback-") as folder:
        for index, (name, sha256, target) in enumerate(steps.artifacts):
            if target is None:
                problems.append(f"{name}: has no place in {steps.request.target}")
                continue
            try:
                digests = registry.download(target.repo, target.path, Path(folder, str(index)))
                labels = registry.properties(target.repo, target.path)
            except RelmanError as exc:
                problems.append(f"{name}: {exc}")
                continue
            if digests.sha256 != sha256:
                problems.append(f"{name}: {target} has sha256 {digests.sha256}, not {sha256}")
            if env is not None and env.mode == "label":
                prop = env.label or DEFAULT_LABEL_PROPERTY
                if env.name not in labels.get(prop, ()):
                    problems.append(f"{name}: {target} does not carry {prop}={env.name}")
    for op in steps.operations:
        problem = _effect_problem(registry, op)
        if problem is not None:
            problems.append(problem)
    if problems:
        return Check("read-back", False, "; ".join(problems))
    return Check(
        "read-back",
        True,
        f"{len(steps.artifacts)} artifacts read back from {steps.request.target}: the same "
        "SHA-256 as the build record",
    )


def _effect_problem(registry: Registry, op: Operation) -> str | None:
    item = op.item
    try:
        if op.action == STATUS:
            found = _row(op) in _statuses(registry, op)
            return None if found else f"build {item.repo}/{item.path} has no status {op.status}"
        if op.action == "delete":
            return f"{item} is still there" if _location(registry, item) is not None else None
        there = registry.location(item.repo, item.path)
    except RelmanError as exc:
        return f"{item}: {exc}"
    if op.action == "copy":
        return None if there.sha256 == op.sha256 else f"{item} has sha256 {there.sha256}"
    props = there.properties
    if op.action == "set-properties":
        wrong = [k for k, v in op.properties.items() if props.get(k) != v]
    else:
        wrong = [k for k in op.previous if k in props]
    return f"{item}: property {', '.join(wrong)} was not written" if wrong else None


def _statuses(registry: Registry, op: Operation) -> set[tuple[str, str]]:
    """The ``(status, comment)`` of every status of the build of a ``build-status``."""
    record = registry.build_record(op.item.repo, op.item.path)
    return {(s.status, s.comment or "") for s in record.statuses}


def _row(op: Operation) -> tuple[str, str]:
    return (op.status or "", op.comment)


def _undoing(op: Operation) -> Operation:
    """The status that records the undo of ``op``'s (which stays: see the module docstring)."""
    return replace(op, status=f"{op.status}-undone", comment=f"undo of {op.comment}")


def _location(registry: Registry, ref: RepoPath) -> Location | None:
    try:
        return registry.location(ref.repo, ref.path)
    except NotFound:
        return None


def _ref(doc: Any) -> RepoPath | None:
    return None if doc is None else RepoPath(str(doc["repo"]), str(doc["path"]))
