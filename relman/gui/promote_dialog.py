"""The guarded Promote dialog: what moves from where to where, every check live, the exact
writes, the approvals, the key, and Promote only when everything passed.

Window-modal, Cancel is the default button. Opening it plans the promotion on a worker
(:mod:`.promote_session`), shows the artifacts with their SHA-256 and the dry-run writes, then
runs every preflight check on a worker, each row going pending -> running -> passed / failed
as the engine reports it. Promote stays disabled, and says why, until every check has passed
and, for the last environment, the build identity has been typed exactly. Promote then calls
:meth:`Engine.execute`, which plans and checks again before it writes; the checks run live
again, each write is marked as it is made, and the dialog ends on the signed record (its
SHA-256, the signer, the DSSE JSON) and the audit entries. A refusal or an interruption is said
in plain words with what to do; an interrupted promotion offers Resume and Undo.

In ``approve`` mode the same plan is checked and shown, and Approve signs its digest with the
approver's key (:meth:`Engine.approve`). A read-only (auditor) profile cannot open the dialog.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QWidget,
)

from relman.errors import Cancelled, RelmanError
from relman.model import Profile
from relman.registry import open_registry
from relman.release.audit import Entry
from relman.release.plan import Plan, Request
from relman.release.promotion import (
    Approved,
    Check,
    Outcome,
    PromotionInterrupted,
    PromotionRefused,
    Undone,
)

from . import promote_session as work
from .icons import IconSet
from .promote_model import PASSED
from .promote_view import APPROVE, PROMOTE, PromoteWindow
from .qtcompat import emit
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)

#: Checks an approver does not decide on: the promoter's key, the approvals being given, and
#: another promotion left interrupted (the promoter deals with it).
NOT_FOR_APPROVERS = frozenset({"promoter", "approvals", "interrupted"})
BUSY = frozenset({"loading", "checking", "promoting", "approving", "recovering"})
#: States in which another key may be chosen (the checks then run again).
CHOOSING = frozenset({"checking", "ready", "refused", "failed", "stopped", "interrupted"})


class PromoteDialog(PromoteWindow):
    """Promote (or roll back, or approve) build ``request`` in ``profile``'s registry.

    ``key`` preselects a signing key by name; ``opener`` opens the registry (tests wrap it).
    Emits ``promoted`` (Outcome), ``approved`` (Approved) and ``registry_changed`` after any
    write (a promotion, an approval, a resume or an undo)."""

    promoted = Signal(object)
    approved = Signal(object)
    registry_changed = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        profile: Profile,
        request: Request,
        icons: IconSet,
        *,
        mode: str = PROMOTE,
        key: str | None = None,
        opener: work.Opener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        work.refuse_read_only(profile, "approve" if mode == APPROVE else "promote")
        super().__init__(request, icons, mode, parent)
        self.state = "loading"
        self.writing = False
        self.runner = runner
        self.profile = profile
        self.preferred_key = key
        self.opener = opener or open_registry
        self.session: work.Session | None = None
        self.plan: Plan | None = None
        self.checked: work.Checked | None = None
        self.task: Task | None = None
        self._generation = 0
        self._closed = False
        self.problem.resume_button.clicked.connect(self.resume)
        self.problem.undo_button.clicked.connect(self.undo)
        self.key_combo.currentIndexChanged.connect(self._key_changed)
        self.confirm_edit.textChanged.connect(self._update_buttons)
        self.buttons.clicked.connect(self._clicked)
        self._load()

    # -- planning and checking -------------------------------------------------------------

    def _next(self) -> int:
        self._generation += 1
        return self._generation

    def _current(self, generation: int) -> bool:
        return generation == self._generation and not self._closed and shiboken6.isValid(self)

    def _submit(self, fn: object, title: str, *, serial: bool = False) -> Task:
        task = self.runner.submit(fn, title=title, serial=serial, track=True)  # type: ignore[arg-type]
        self.task = task
        return task

    def _load(self) -> None:
        """Plan (opening the registry first, the first time), then check."""
        generation = self._next()
        self._set_state("loading")
        self.checks.reset()
        session, profile, opener, request = self.session, self.profile, self.opener, self.request

        def plan_it(progress, cancel):  # type: ignore[no-untyped-def]
            opened = session or work.open_session(profile, opener)
            try:
                return opened, work.plan(opened, request, progress, cancel)
            except BaseException:
                if session is None:
                    opened.close()
                raise

        task = self._submit(plan_it, f"Planning {request.build} to {request.target}")
        task.connect(
            on_progress=lambda done, total: self._progress(generation, done, total),
            on_result=lambda value: self._planned(generation, value),
            on_error=lambda exc: self._failed(generation, exc, "plan"),
        )

    def _planned(self, generation: int, value: tuple[work.Session, Plan]) -> None:
        session, plan = value
        if self.session is None:
            if self._closed or not shiboken6.isValid(self):
                session.close()
                return
            self.session = session
            self.fill_keys(session.keys, self._default_key(session))
        if not self._current(generation):
            return
        self.plan = plan
        policy = session.engine.policy
        self.show_plan(plan, policy.rule(plan.target).approvals, policy.is_last(plan.target))
        self._check()

    def _default_key(self, session: work.Session) -> str | None:
        names = [k.name for k in session.keys]
        if self.preferred_key in names:
            return self.preferred_key
        trusted = session.engine.context.keys
        fingerprints = {k.fingerprint for k in trusted}
        rule = session.engine.policy.rule(self.request.target)
        for key in session.keys:
            if key.fingerprint in fingerprints and (
                self.mode == APPROVE or rule.allows(key.fingerprint, trusted)
            ):
                return key.name
        return names[0] if names else None

    def _key_changed(self) -> None:
        # The promoter check and the approvals tally depend on the key: check again.
        if self.plan is not None and self.state in ("checking", "ready", "refused", "stopped"):
            if self.task is not None:
                self.task.cancel()
            self._check()

    def _check(self) -> None:
        generation = self._next()
        self._set_state("checking")
        self.checks.reset()
        session, plan, key = self.session, self.plan, self.current_key()
        assert session is not None and plan is not None
        post = self.runner.post_to_gui

        def check_it(progress, cancel):  # type: ignore[no-untyped-def]
            return work.check(
                session,
                key,
                plan,
                on_start=lambda name: post(self._check_started, generation, name),
                on_check=lambda check: post(self._check_done, generation, check),
                progress=progress,
                cancel=cancel,
            )

        task = self._submit(check_it, f"Checking {plan.build} for {plan.target}")
        task.connect(
            on_progress=lambda done, total: self._progress(generation, done, total),
            on_result=lambda checked: self._checked(generation, checked),
            on_error=lambda exc: self._failed(generation, exc, "check"),
        )

    def _check_started(self, generation: int, name: str) -> None:
        if self._current(generation):
            self.checks.start(name)
            self._update_buttons()

    def _check_done(self, generation: int, check: Check) -> None:
        if not self._current(generation):
            return
        if self.mode == APPROVE and check.name == "promoter":
            self.checks.skip(
                "promoter", "not needed to approve: the promoter's key is checked when it promotes"
            )
        else:
            self.checks.finish(check)
        if check.name == "approvals":
            mark = "✓" if check.ok else "✗"
            self.approvals_label.setText(f"{mark} {check.detail}")
        self._update_buttons()

    def _checked(self, generation: int, checked: work.Checked) -> None:
        if not self._current(generation):
            return
        self.checked = checked
        self._set_state("ready")
        entry = self._relevant(checked.pending)
        if entry is not None:
            stopped = (
                f"a promotion of {entry.body.get('build', '?')} to {entry.body.get('to', '?')} "
                f"stopped midway (audit entry {entry.seq}, {entry.time}); nothing else can be "
                "promoted in this profile until it is finished or reverted."
            )
            if self.mode == APPROVE:  # an approver reviews; the promoter finishes or reverts
                self.problem.show_problem("warning", "Interrupted", stopped)
            else:
                self.problem.show_problem(
                    "error",
                    "Interrupted",
                    f"{stopped} Resume finishes it with the key that began it; Undo reverts "
                    "the writes it made.",
                    entry,
                )
        self._update_buttons()

    def _relevant(self, pending: tuple[Entry, ...]) -> Entry | None:
        """The interrupted promotion to offer: this build's to this target first."""
        same = [
            e
            for e in pending
            if e.body.get("build") == self.request.build and e.body.get("to") == self.request.target
        ]
        return (same or list(pending) or [None])[0]

    def _progress(self, generation: int, done: int, total: int) -> None:
        if not self._current(generation) or total <= 0:
            return
        percent = int(100 * done / total)
        self.progress.setValue(percent)
        self.progress.show()
        if self.state in ("checking", "promoting"):
            self.checks.progress(percent)

    # -- the action ------------------------------------------------------------------------

    def _clicked(self, button: QAbstractButton) -> None:
        if button is self.action_button:
            if self.mode == APPROVE:
                self.approve()
            else:
                self.promote()
        elif button is self.check_button:
            self.problem.clear()
            self._load()
        elif button is self.cancel_button:
            self.reject()

    def promote(self) -> Task | None:
        """Promote: :meth:`Engine.execute` on the serial runner (it checks everything again)."""
        if self.mode != PROMOTE or not self.action_button.isEnabled():
            return None
        work.refuse_read_only(self.profile, "promote")
        generation = self._next()
        self._set_state("promoting")
        self.writing = False
        self.checks.reset()
        session, plan, key = self.session, self.plan, self.current_key()
        assert session is not None and plan is not None
        self.writes.set_writes(plan.writes)
        post = self.runner.post_to_gui

        def promote_it(progress, cancel):  # type: ignore[no-untyped-def]
            return work.promote(
                session,
                key,
                plan,
                on_start=lambda name: post(self._check_started, generation, name),
                on_check=lambda check: post(self._check_done, generation, check),
                on_write=lambda write: post(self._written, generation, write),
                progress=progress,
                cancel=cancel,
            )

        task = self._submit(promote_it, f"Promoting {plan.build} to {plan.target}", serial=True)
        task.connect(
            on_progress=lambda done, total: self._progress(generation, done, total),
            on_result=lambda outcome: self._promoted(generation, outcome, resumed=False),
            on_error=lambda exc: self._failed(generation, exc, "promote"),
        )
        return task

    def _written(self, generation: int, write: object) -> None:
        if not self._current(generation):
            return
        self.writing = True
        self.writes.mark_made(write)  # type: ignore[arg-type]
        self.count_writes()
        self._update_buttons()

    def _promoted(self, generation: int, outcome: Outcome, *, resumed: bool) -> None:
        if not self._current(generation):
            return
        self._set_state("done")
        self.problem.clear()
        for write in outcome.writes:
            self.writes.mark_made(write)
        self.count_writes()
        self.record.show_outcome(outcome, self.current_key(), resumed=resumed)
        self.show_record()
        self._update_buttons()
        emit(self.promoted, outcome)
        emit(self.registry_changed)

    def approve(self) -> Task | None:
        """Sign this plan's digest with the chosen key and store the approval."""
        if self.mode != APPROVE or not self.action_button.isEnabled():
            return None
        work.refuse_read_only(self.profile, "approve")
        generation = self._next()
        self._set_state("approving")
        session, plan, key = self.session, self.plan, self.current_key()
        assert session is not None and plan is not None
        task = self._submit(
            lambda _progress, _cancel: work.approve(session, key, plan),
            f"Approving {plan.build} to {plan.target}",
            serial=True,
        )
        task.connect(
            on_result=lambda approved: self._approved(generation, approved),
            on_error=lambda exc: self._failed(generation, exc, "approve"),
        )
        return task

    def _approved(self, generation: int, approved: Approved) -> None:
        if not self._current(generation):
            return
        self._set_state("approved")
        key = self.current_key()
        self.approvals_label.setText(
            f"✓ your approval ({key.name if key else 'this key'}) is stored as "
            f"{approved.write.target}; the promoter's checks count it (Check again shows the "
            "new tally)"
        )
        self.record.show_approval(approved, key, approved.write.target)
        self.show_record()
        self._update_buttons()
        emit(self.approved, approved)
        emit(self.registry_changed)

    # -- an interrupted promotion ----------------------------------------------------------

    def resume(self) -> Task | None:
        return self._recover("resume")

    def undo(self) -> Task | None:
        return self._recover("undo")

    def _recover(self, action: str) -> Task | None:
        entry = self.problem.entry
        if entry is None or self.session is None or self.state in BUSY:
            return None
        work.refuse_read_only(self.profile, f"{action} of a promotion")
        generation = self._next()
        self._set_state("recovering")
        session, key = self.session, self.current_key()
        post = self.runner.post_to_gui

        def recover(_progress, _cancel):  # type: ignore[no-untyped-def]
            fn = work.resume if action == "resume" else work.undo
            return fn(session, key, entry, lambda w: post(self._written, generation, w))

        task = self._submit(recover, f"{action.capitalize()} audit entry {entry.seq}", serial=True)
        task.connect(
            on_result=lambda value: self._recovered(generation, entry, value),
            on_error=lambda exc: self._failed(generation, exc, action, entry),
        )
        return task

    def _recovered(self, generation: int, entry: Entry, value: Outcome | Undone) -> None:
        if not self._current(generation):
            return
        emit(self.registry_changed)
        this = entry.body.get("build") == self.request.build and entry.body.get("to") == (
            self.request.target
        )
        if isinstance(value, Outcome) and this:
            self._promoted(generation, value, resumed=True)
            return
        if isinstance(value, Outcome):
            text = (
                f"the promotion of {value.steps.request.build} to {value.steps.request.target} "
                f"(audit entry {entry.seq}) is finished; record sha256 {value.record_sha256}"
            )
            self.problem.show_problem("ok", "Resumed", text)
        else:
            notes = f"; {'; '.join(value.notes)}" if value.notes else ""
            self.problem.show_problem(
                "ok",
                "Undone",
                f"{len(value.writes)} writes of audit entry {entry.seq} reverted{notes}; "
                "checking again",
            )
        self._load()

    # -- failures --------------------------------------------------------------------------

    def _failed(
        self, generation: int, exc: BaseException, step: str, entry: Entry | None = None
    ) -> None:
        if not self._current(generation):
            return
        if isinstance(exc, Cancelled):
            self._set_state("stopped")
            self.checks.skip_open("not run: stopped")
            if step == "promote":
                self.problem.show_problem(
                    "warning",
                    "Stopped",
                    "you stopped the promotion while it was checking again; nothing was "
                    "written. Check again to start over.",
                )
            self._update_buttons()
            return
        self._set_state("failed")
        self.checks.skip_open("not run")
        if isinstance(exc, PromotionRefused):
            self._set_state("refused")
            self.problem.show_problem(
                "error",
                "Refused",
                f"{exc}. What to do: each failed check above says why; fix what it names "
                "(the registry, the trust store, the policy, the approvals), then Check again.",
            )
        elif isinstance(exc, PromotionInterrupted):
            self._set_state("interrupted")
            self.problem.show_problem(
                "error",
                "Interrupted",
                f"{exc}. What to do: Resume finishes it (the writes not yet made, the read-back, "
                "the signed record); Undo reverts the writes it made.",
            )
            self._offer_recovery()
        elif isinstance(exc, RelmanError):
            what = {"plan": "Cannot plan", "check": "Cannot check"}.get(step, "Not done")
            self.problem.show_problem(
                "error", what, f"{exc}. What to do: fix what it names, then Check again.", entry
            )
        else:
            logger.error("%s failed", step, exc_info=exc)
            self.problem.show_problem(
                "error",
                "Unexpected error",
                f"{type(exc).__name__}: {exc} (the log file has the details); Check again "
                "shows what the registry holds now.",
                entry,
            )
        self._update_buttons()

    def _offer_recovery(self) -> None:
        """Find the interrupted intent in the audit log and put Resume / Undo beside it."""
        session, generation = self.session, self._generation
        if session is None:
            return
        task = self.runner.submit(lambda _p, _c: work.pending(session), title="Reading audit log")
        task.connect(on_result=lambda entries: self._offer(generation, entries))

    def _offer(self, generation: int, entries: tuple[Entry, ...]) -> None:
        entry = self._relevant(entries)
        if self._current(generation) and entry is not None:
            self.problem.show_problem(
                self.problem.kind or "error", "Interrupted", self.problem.message(), entry
            )

    # -- state -----------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        self.state = state
        if state not in ("checking", "promoting", "loading"):
            self.progress.hide()
        self._update_buttons()

    def blocking(self) -> list[str]:
        """The checks that keep the action disabled (not passed)."""
        ignored = NOT_FOR_APPROVERS if self.mode == APPROVE else frozenset()
        return [r.name for r in self.checks.rows() if r.state != PASSED and r.name not in ignored]

    def disabled_reason(self) -> str:
        """Why the action button is disabled, in words ("" when it is enabled)."""
        state = self.state
        if state == "loading":
            return "reading the registry and planning"
        if state in ("checking", "promoting"):
            counts = self.checks.counts()
            finished = counts["passed"] + counts["failed"] + counts["skipped"]
            doing = "checks running" if state == "checking" else "promoting"
            return f"{doing}: {finished} of {len(self.checks.rows())} checks done"
        if state in ("approving", "recovering"):
            return "working"
        if state in ("refused", "failed", "stopped"):
            return "press Check again to plan and check again"
        if state == "interrupted":
            return "resume or undo the interrupted promotion first"
        if self.current_key() is None:
            return "no signing key chosen"
        failed = self.blocking()
        if failed or self.checked is None:
            return f"{len(failed)} check(s) not passed: {', '.join(failed)}"
        if self.mode == PROMOTE and not self.checked.result.ok:
            return "a check did not pass"
        if self.needs_identity and self.confirm_edit.text() != (
            self.plan.identity if self.plan else None
        ):
            return f"type the build identity exactly: {self.request.target} is the last environment"
        return ""

    def _update_buttons(self) -> None:
        if not shiboken6.isValid(self):
            return
        finished = self.state in ("done", "approved")
        reason = "" if finished else self.disabled_reason()
        self.action_button.setVisible(not finished)
        self.action_button.setEnabled(self.state == "ready" and not reason)
        self.action_button.setToolTip(f"Disabled: {reason}" if reason else "")
        self.check_button.setVisible(not finished)
        self.check_button.setEnabled(self.state not in BUSY)
        has_keys = self.session is not None and bool(self.session.keys)
        self.key_combo.setEnabled(has_keys and self.state in CHOOSING)
        self.confirm_edit.setEnabled(not finished)
        if finished:
            self.cancel_button.setText("Close")
            self.cancel_button.setAccessibleName("Close")
        self.cancel_button.setEnabled(not self.writing or self.state != "promoting")
        self.cancel_button.setToolTip(
            "The writes have begun: they run to the end (an error leaves an intent to resume "
            "or undo)"
            if self.writing and self.state == "promoting"
            else ""
        )
        if finished:
            self.reason.setText("Done: the record is shown; nothing more to do.")
        elif reason:
            self.reason.setText(f"{self.verb} is disabled: {reason}.")
        else:
            self.reason.setText(f"Ready: every check passed. {self.verb} when you are sure.")
        counts = self.checks.counts()
        self.checks_summary.setText(
            ", ".join(f"{n} {word}" for word, n in counts.items() if n) or "no checks"
        )

    # -- closing ---------------------------------------------------------------------------

    def reject(self) -> None:
        """Cancel / Esc: stop checking and close; while promoting, stop the re-checks (the
        dialog stays to show what happened) but never interrupt the writes."""
        if self.state == "promoting":
            if not self.writing and self.task is not None:
                self.task.cancel()
            return
        if self.state in ("approving", "recovering"):
            return
        super().reject()

    def done(self, result: int) -> None:
        self._closed = True
        task, session = self.task, self.session
        self.session = None
        if task is not None and not task.finished:
            task.cancel()
            if session is not None:
                task.connect(on_finished=session.close)
        elif session is not None:
            session.close()
        super().done(result)
