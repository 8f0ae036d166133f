"""Checking the local audit log against the promotion records in a registry.

Every promotion record relman signs carries an anchor of its ``promotion-intent`` entry
(:meth:`relman.release.audit.AuditLog.anchor`): the log's identity (the SHA-256 of its first
line), the entry's seq and the SHA-256 of its line. The registry thereby keeps evidence of
the log that no one with access to this machine alone can remove: a log cut back below an
anchored entry, with an old head file put back (which :meth:`~relman.release.audit.AuditLog.
verify` cannot tell from a log that never went further), or an anchored line rewritten, is
found here and named. Records anchored in another machine's log (another promoter's) are
counted, not checked.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from relman.model import CancelToken
from relman.registry.base import Registry
from relman.release.audit import AuditLog, Problem
from relman.release.audit_lines import line_sha256


@dataclass(frozen=True, slots=True)
class AnchorReport:
    """``checked``: records anchored in this log; ``elsewhere``: in another log;
    ``unanchored``: records that carry no anchor (written before anchors, or by hand)."""

    checked: int
    elsewhere: int
    unanchored: int
    issues: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "elsewhere": self.elsewhere,
            "unanchored": self.unanchored,
            "problems": [p.to_json() for p in self.issues],
        }


def check_anchors(
    log: AuditLog, registry: Registry, *, cancel: CancelToken | None = None
) -> AnchorReport:
    """Every promotion record of ``registry`` whose anchor names this log must name an entry
    the log holds, with the same line."""
    entries = log.scan().entries
    identity = line_sha256(entries[0]) if entries else None
    by_seq = {e.seq: e for e in entries}
    checked = elsewhere = unanchored = 0
    issues: list[Problem] = []
    for label, target, anchor in _anchors(registry, cancel):
        if anchor is None:
            unanchored += 1
            continue
        if anchor.get("log") != identity:
            elsewhere += 1
            continue
        checked += 1
        seq, sha = anchor.get("seq"), anchor.get("sha256")
        entry = by_seq.get(seq) if isinstance(seq, int) else None
        record = f"the record of {label} -> {target} in the registry"
        if entry is None:
            issues.append(
                Problem(
                    None,
                    "anchor",
                    f"{record} names audit entry {seq}, which this log no longer holds (cut back?)",
                )
            )
        elif line_sha256(entry) != sha:
            issues.append(
                Problem(entry.line, "anchor", f"entry {seq} is not the line {record} names")
            )
    return AnchorReport(checked, elsewhere, unanchored, tuple(issues))


def _anchors(
    registry: Registry, cancel: CancelToken | None
) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """``(build, target, anchor or None)`` of every promotion record in the registry."""
    for name in registry.build_names():
        for number in registry.build_numbers(name):
            if cancel is not None:
                cancel.raise_if_cancelled()
            for target, data in registry.promotion_records(name, number):
                yield f"{name}/{number}", target, _anchor_of(data)


def _anchor_of(data: bytes) -> dict[str, Any] | None:
    """The anchor in a record's statement; None when the record has none or is not one (a
    record that does not parse is lineage's finding, not this check's)."""
    try:
        envelope = json.loads(data)
        statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
        anchor = statement["predicate"].get("audit")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return None
    return anchor if isinstance(anchor, dict) else None
