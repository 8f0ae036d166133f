"""The guarded promotion engine: plan -> preflight -> execute -> record.

This is the one entry point the command line and the Promote dialog use; both go through
:meth:`Engine.execute`, which plans and checks again before it writes anything, so a
promotion whose checks did not all pass cannot be executed from anywhere::

    engine = Engine(registry, profile, promoter=Promoter.from_keystore("rm-anna"))
    plan = engine.plan(Request("payments-api", "12", "qa"))      # reads the lineage
    result = engine.preflight(plan, on_start=..., on_check=...)   # each check, live
    plan.writes                                                   # the exact dry run
    outcome = engine.execute(plan, on_check=..., on_write=...)    # re-plans, re-checks, writes
    outcome.record                                                # the signed record (DSSE)

    for entry in engine.interrupted():                            # intents with no outcome
        engine.resume(entry)  # or engine.undo(entry)

    engine.approve(plan, Promoter.from_keystore("rm-ben"))        # a second person's approval

Everything is synchronous; long steps take a ``progress`` callback and a
:class:`~relman.model.CancelToken` (honoured while reading and checking, never between two
writes: once the intent is logged the writes run to the end or stop on an error). The engine
uses only the :class:`~relman.registry.base.Registry` protocol and the backend's
:class:`~relman.model.Capabilities`; see :mod:`relman.release.plan` (the writes per
environment kind), :mod:`relman.release.preflight` (the checks) and
:mod:`relman.release.execution` (the order of the writes, recovery).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from relman.errors import UsageError
from relman.model import CancelToken, Profile, ProgressCallback
from relman.registry.base import Registry, Write
from relman.release import approvals, records
from relman.release.audit import AuditLog, Entry
from relman.release.execution import (
    INTENT,
    Executor,
    OnWrite,
    Outcome,
    PromotionInterrupted,
    PromotionRefused,
    Steps,
    Undone,
    refuse_unless_passed,
)
from relman.release.plan import Plan, Request, make_plan
from relman.release.policy import Policy, load_policy
from relman.release.preflight import CHECKS, Check, OnCheck, OnStart, Preflight, Promoter, preflight
from relman.verify.signatures.base import Context

__all__ = [
    "CHECKS",
    "Approved",
    "Check",
    "Engine",
    "Outcome",
    "Plan",
    "Preflight",
    "Promoter",
    "PromotionInterrupted",
    "PromotionRefused",
    "Request",
    "Steps",
    "Undone",
]


@dataclass(frozen=True, slots=True)
class Approved:
    """An approval given: the write that stored it and the digest of its bytes."""

    write: Write
    sha256: str
    digest: str


class Engine:
    """Guarded promotions in one profile's registry.

    ``promoter``: the key promotions are signed with (None: plans and checks only; the
    ``promoter`` check then fails). ``policy``, ``context`` (the trusted keys) and ``log``
    default to the profile's ``policy.toml`` entry, the trust store and the data dir's audit
    log."""

    def __init__(
        self,
        registry: Registry,
        profile: Profile,
        *,
        promoter: Promoter | None = None,
        policy: Policy | None = None,
        context: Context | None = None,
        log: AuditLog | None = None,
    ) -> None:
        self.registry = registry
        self.profile = profile
        self.promoter = promoter
        self.policy = policy if policy is not None else load_policy(profile)
        if context is None:
            from relman.verify.files import default_context

            context = default_context()
        self.context = context
        self.log = log if log is not None else AuditLog()

    def plan(
        self,
        request: Request,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Plan:
        """The plan of ``request`` (its :attr:`~Plan.writes` are the dry run)."""
        return make_plan(
            self.registry,
            self.profile,
            self.policy,
            self.context,
            request,
            progress=progress,
            cancel=cancel,
        )

    def preflight(
        self,
        plan: Plan,
        *,
        on_start: OnStart | None = None,
        on_check: OnCheck | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Preflight:
        """Every check of :data:`CHECKS` on ``plan``, reported one by one as they run."""
        return preflight(
            plan,
            registry=self.registry,
            policy=self.policy,
            context=self.context,
            promoter=self.promoter,
            interrupted=self.interrupted(),
            on_start=on_start,
            on_check=on_check,
            progress=progress,
            cancel=cancel,
        )

    def execute(
        self,
        plan: Plan,
        *,
        on_start: OnStart | None = None,
        on_check: OnCheck | None = None,
        on_write: OnWrite | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Outcome:
        """Promote as ``plan`` says, after planning and checking again; raises
        :class:`PromotionRefused` (nothing written) when the registry no longer gives the same
        plan or a check fails, :class:`PromotionInterrupted` when the writes stop midway."""
        self._writable("promotion or rollback")
        fresh = self.plan(plan.request, progress=progress, cancel=cancel)
        if fresh.digest != plan.digest or fresh.writes != plan.writes:
            raise PromotionRefused(
                f"the registry changed since the plan of {plan.build} to {plan.target} was "
                "made (other writes, or other artifacts); nothing was written: review the new "
                "plan"
            )
        result = self.preflight(
            fresh, on_start=on_start, on_check=on_check, progress=progress, cancel=cancel
        )
        if cancel is not None:
            cancel.raise_if_cancelled()
        refuse_unless_passed(fresh, result)
        return self._executor().run(fresh, result, on_write=on_write)

    def _writable(self, what: str) -> None:
        if self.profile.read_only:
            raise UsageError(
                f"profile {self.profile.name} is read-only (an auditor's profile): no {what}"
            )

    def interrupted(self) -> list[Entry]:
        """The promotions of this profile whose intent has no outcome in the audit log."""
        return [
            e
            for e in self.log.pending(event_prefix="promotion")
            if e.body.get("profile") == self.profile.name
        ]

    def resume(self, entry: Entry, *, on_write: OnWrite | None = None) -> Outcome:
        """Finish the interrupted promotion of ``entry`` (an :meth:`interrupted` intent) with
        the key that began it."""
        self._writable("resume of a promotion")
        executor = self._executor()
        begun = entry.body.get("promoter", {})
        fingerprint = begun.get("fingerprint") if isinstance(begun, dict) else None
        if fingerprint != executor.promoter.fingerprint:
            raise UsageError(
                f"audit entry {entry.seq} was begun with key {begun.get('key', '?')}; resume it "
                f"with that key (--key), not {executor.promoter.name}"
            )
        return executor.resume(self._pending(entry), on_write=on_write)

    def undo(self, entry: Entry, *, on_write: OnWrite | None = None) -> Undone:
        """Revert what the interrupted promotion of ``entry`` wrote."""
        self._writable("undo of a promotion")
        return self._executor().undo(self._pending(entry), on_write=on_write)

    def approve(self, plan: Plan, approver: Promoter) -> Approved:
        """Sign ``plan``'s digest with ``approver``'s key, store the approval in the registry
        and log it (the log is checked first: an approval is never stored unlogged)."""
        self._writable("approval")
        missing = [a.name for a in plan.artifacts if a.sha256 is None]
        if missing:
            raise UsageError(
                f"{plan.build} cannot be approved: its build record gives no sha256 for "
                f"{', '.join(missing)}"
            )
        statement = approvals.statement(
            digest=plan.digest,
            build_name=plan.request.name,
            build_number=plan.request.number,
            identity=plan.identity,
            artifacts=[(a.name, a.sha256 or "") for a in plan.artifacts],
            source=plan.source,
            target=plan.target,
            rollback=plan.request.rollback,
            approver=approver.name,
            fingerprint=approver.fingerprint,
        )
        key = approver.private_key()
        data = records.sign(statement, key)
        self.log.check_appendable(key_name=approver.name, private_key=key)
        write = self.registry.put_approval(
            plan.request.name, plan.request.number, plan.target, data
        )
        sha256 = hashlib.sha256(data).hexdigest()
        self.log.append(
            "approval",
            {
                "profile": self.profile.name,
                "build": plan.build,
                "to": plan.target,
                "rollback": plan.request.rollback,
                "plan": plan.digest,
                "approval_sha256": sha256,
            },
            key_name=approver.name,
            private_key=key,
        )
        return Approved(write, sha256, plan.digest)

    def _executor(self) -> Executor:
        if self.promoter is None:
            raise UsageError("no signing key given: promotions are signed (--key NAME)")
        return Executor(self.registry, self.profile, self.log, self.promoter)

    def _pending(self, entry: Entry) -> Entry:
        if entry.event != INTENT or entry.seq not in {e.seq for e in self.interrupted()}:
            raise UsageError(
                f"audit entry {entry.seq} is not an interrupted promotion of profile "
                f"{self.profile.name}"
            )
        return entry
