"""The Promote dialog's work: the engine's own entry points, run on the task runner's threads.

The dialog never plans, checks or writes itself: it calls these functions from worker tasks,
and they call :class:`~relman.release.promotion.Engine` exactly as ``relman promote`` and
``relman approve`` do. :func:`promote` goes through :meth:`Engine.execute`, which plans and
checks everything again and raises :class:`~relman.release.promotion.PromotionRefused` (nothing
written) or :class:`~relman.release.promotion.PromotionInterrupted` (resume or undo), so what
the dialog showed a minute ago is never what authorises a write.

Every entry point that changes the registry refuses a read-only (auditor's) profile before it
touches the engine: hiding the buttons is the first guard, this is the second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from relman import keystore
from relman.errors import UsageError
from relman.model import CancelToken, Profile, ProgressCallback
from relman.registry import close_registry
from relman.registry.base import Registry
from relman.release.audit import Entry
from relman.release.execution import OnWrite, Undone
from relman.release.plan import Plan, Request
from relman.release.preflight import OnCheck, OnStart
from relman.release.promotion import Approved, Engine, Outcome, Preflight, Promoter

logger = logging.getLogger(__name__)

Opener = Callable[[Profile], Registry]


def refuse_read_only(profile: Profile, what: str) -> None:
    """Raise :class:`UsageError` when ``profile`` is an auditor's (read-only) profile."""
    if profile.read_only:
        raise UsageError(
            f"profile {profile.name} is read-only (auditor mode): {what} is not available; "
            "use a release manager's profile to change the registry"
        )


@dataclass(frozen=True, slots=True)
class Session:
    """One open registry with the profile's policy, trust store and audit log (read once, in
    ``engine``, which has no promoter) and the signing keys of this machine."""

    profile: Profile
    registry: Registry
    engine: Engine
    keys: tuple[keystore.SigningKey, ...]

    def engine_for(self, key: keystore.SigningKey | None) -> Engine:
        """The same engine acting with ``key`` (its private half is unlocked from the keyring
        only when a promotion, approval, resume or undo runs)."""
        base = self.engine
        return Engine(
            base.registry,
            base.profile,
            promoter=Promoter(key.name, key.fingerprint) if key is not None else None,
            policy=base.policy,
            context=base.context,
            log=base.log,
        )

    def close(self) -> None:
        close = getattr(self.registry, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True, slots=True)
class Checked:
    """A preflight and the profile's interrupted promotions (offered for resume or undo)."""

    result: Preflight
    pending: tuple[Entry, ...]


def open_session(profile: Profile, opener: Opener) -> Session:
    registry = opener(profile)
    try:
        engine = Engine(registry, profile)
        return Session(profile, registry, engine, tuple(keystore.list_keys()))
    except BaseException:
        close_registry(registry)
        raise


def plan(
    session: Session, request: Request, progress: ProgressCallback, cancel: CancelToken
) -> Plan:
    return session.engine.plan(request, progress=progress, cancel=cancel)


def check(
    session: Session,
    key: keystore.SigningKey | None,
    planned: Plan,
    *,
    on_start: OnStart,
    on_check: OnCheck,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Checked:
    engine = session.engine_for(key)
    result = engine.preflight(
        planned, on_start=on_start, on_check=on_check, progress=progress, cancel=cancel
    )
    return Checked(result, tuple(engine.interrupted()))


def promote(
    session: Session,
    key: keystore.SigningKey | None,
    planned: Plan,
    *,
    on_start: OnStart,
    on_check: OnCheck,
    on_write: OnWrite,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Outcome:
    refuse_read_only(session.profile, "promote")
    return session.engine_for(key).execute(
        planned,
        on_start=on_start,
        on_check=on_check,
        on_write=on_write,
        progress=progress,
        cancel=cancel,
    )


def approve(session: Session, key: keystore.SigningKey | None, planned: Plan) -> Approved:
    refuse_read_only(session.profile, "approve")
    if key is None:
        raise UsageError("no signing key chosen: an approval is signed with your own key")
    return session.engine.approve(planned, Promoter(key.name, key.fingerprint))


def resume(
    session: Session, key: keystore.SigningKey | None, entry: Entry, on_write: OnWrite
) -> Outcome:
    refuse_read_only(session.profile, "resuming a promotion")
    return session.engine_for(key).resume(entry, on_write=on_write)


def undo(
    session: Session, key: keystore.SigningKey | None, entry: Entry, on_write: OnWrite
) -> Undone:
    refuse_read_only(session.profile, "undoing a promotion")
    return session.engine_for(key).undo(entry, on_write=on_write)


def pending(session: Session) -> tuple[Entry, ...]:
    return tuple(session.engine.interrupted())
