"""Approvals: a second person's signature over the exact plan of a promotion.

An approver computes the same plan as the promoter (``relman approve``), reviews it, and signs
its digest (:attr:`relman.release.plan.Plan.digest`, the SHA-256 of the plan's canonical JSON:
build, identity, from, to, the artifacts and their SHA-256, rollback or not) with their own
key. The approval is a DSSE envelope carrying an in-toto Statement v1:

- ``subject``: the build's artifacts by name and SHA-256 (what the approver let through);
- ``predicateType``: ``https://relman.dev/approval/v1``;
- ``predicate``: ``plan`` (``{"sha256": digest}``), ``build`` (name, number, identity),
  ``from``, ``to``, ``rollback``, ``approver`` (key name and fingerprint) and ``time``.

Approvals are stored in the registry beside the build (``Registry.put_approval``). Preflight
counts those that verify with a trusted key, name the plan being executed, and were signed by
a key other than the promoter's; one key counts once however many approvals it signed. Any
other approval is listed with the reason it does not count, never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from relman.release import records
from relman.verify.signatures.base import SignatureFormatError, TrustedKey
from relman.verify.signatures.dsse import DSSEVerificationError, parse_envelope, verify_envelope

PREDICATE_TYPE = "https://relman.dev/approval/v1"


def statement(
    *,
    digest: str,
    build_name: str,
    build_number: str,
    identity: str | None,
    artifacts: Sequence[tuple[str, str]],
    source: str | None,
    target: str,
    rollback: bool,
    approver: str,
    fingerprint: str,
    time: datetime | None = None,
) -> dict[str, Any]:
    """The in-toto Statement of one approval of the plan with ``digest``."""
    when = (time or datetime.now(UTC)).astimezone(UTC)
    return {
        "_type": records.STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": sha}} for name, sha in artifacts],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "plan": {"sha256": digest},
            "build": {"name": build_name, "number": build_number, "id": identity},
            "from": source,
            "to": target,
            "rollback": rollback,
            "approver": {"key": approver, "fingerprint": fingerprint},
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


@dataclass(frozen=True, slots=True)
class Approval:
    """An approval as read back; ``ok`` when its signature verifies with a trusted key that
    is the key it names. ``sha256`` is the digest of the stored bytes (records cite it)."""

    target: str
    build_name: str
    build_number: str
    digest: str
    approver: str
    fingerprint: str
    ok: bool
    detail: str
    sha256: str
    signer: str | None = None


def read(data: bytes, target: str, keys: Sequence[TrustedKey], *, source: str) -> Approval:
    """Parse and verify one approval; raise :class:`SignatureFormatError` when it is not one."""
    try:
        envelope = parse_envelope(json.loads(data), source)
        document = json.loads(envelope.payload)
    except (ValueError, UnicodeDecodeError):
        raise SignatureFormatError(f"{source}: is not an approval (not JSON)") from None
    try:
        if document.get("predicateType") != PREDICATE_TYPE:
            raise KeyError("predicateType")
        pred = document["predicate"]
        claims = {
            "build_name": str(pred["build"]["name"]),
            "build_number": str(pred["build"]["number"]),
            "digest": str(pred["plan"]["sha256"]),
            "approver": str(pred["approver"]["key"]),
            "fingerprint": str(pred["approver"]["fingerprint"]),
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise SignatureFormatError(
            f"{source}: is not a relman approval ({type(exc).__name__}: {exc})"
        ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        _, verified = verify_envelope(envelope, keys)
    except DSSEVerificationError as exc:
        return Approval(target, ok=False, detail=f"{source}: {exc}", sha256=sha256, **claims)
    key = verified[0]
    if key.fingerprint != claims["fingerprint"]:
        detail = (
            f"{source}: signed by {key.label}, but it names approver key {claims['fingerprint']}"
        )
        return Approval(target, ok=False, detail=detail, sha256=sha256, signer=key.label, **claims)
    return Approval(
        target,
        ok=True,
        detail=f"approved by {key.label}",
        sha256=sha256,
        signer=key.label,
        **claims,
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """The approvals of one plan: those that count (one per key) and why the others do not."""

    required: int
    counted: tuple[Approval, ...]
    ignored: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return len(self.counted) >= self.required

    @property
    def detail(self) -> str:
        have = ", ".join(a.signer or a.approver for a in self.counted) or "none"
        head = f"{len(self.counted)} of {self.required} required approvals ({have})"
        if self.required == 0:
            head = f"no approval required; {len(self.counted)} valid ({have})"
        return head + (f"; not counted: {'; '.join(self.ignored)}" if self.ignored else "")


def tally(
    stored: Sequence[tuple[str, bytes]],
    *,
    build: str,
    target: str,
    digest: str,
    promoter: str | None,
    keys: Sequence[TrustedKey],
    required: int,
) -> Tally:
    """Count the approvals in ``stored`` (``Registry.approvals``) for the plan ``digest`` into
    ``target``; ``promoter`` is the promoter's key fingerprint (its own approvals never count)."""
    counted: dict[str, Approval] = {}
    ignored: list[str] = []
    for env, data in stored:
        if env != target:
            continue
        source = f"approval {hashlib.sha256(data).hexdigest()[:12]} of {build} -> {target}"
        try:
            approval = read(data, env, keys, source=source)
        except SignatureFormatError as exc:
            ignored.append(str(exc))
            continue
        who = approval.signer or approval.approver
        if not approval.ok:
            ignored.append(approval.detail)
        elif approval.digest != digest:
            ignored.append(f"{who} approved another plan ({approval.digest[:12]}…)")
        elif approval.fingerprint == promoter:
            ignored.append(f"{who} is the promoter's own key (no self-approval)")
        elif approval.fingerprint not in counted:
            counted[approval.fingerprint] = approval
    return Tally(required, tuple(counted.values()), tuple(ignored))
