"""How a file's checks read in the GUI: per-kind summaries, signers, facts, plain reasons.

Plain Python over :class:`relman.verify.files.FileResult` (no Qt), shared by the table model,
the Checks column's delegate and the details panel so they always say the same thing; and the
lines of a registry artifact's download-and-verify result
(:class:`relman.release.artifact_check.ArtifactCheck`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from relman.release.artifact_check import ArtifactCheck
from relman.verify.files import Check, FileResult

#: Check kinds in the order they are shown.
KINDS = ("checksum", "signature", "provenance")
KIND_TITLES = {"checksum": "Checksums", "signature": "Signatures", "provenance": "Provenance"}
#: Facts of a provenance (or signature) shown in the details, in this order.
FACT_LABELS = (
    ("commit", "Commit"),
    ("source", "Source"),
    ("builder", "Builder"),
    ("ref", "Ref"),
    ("signed_at", "Signed"),
    ("invocation", "Build run"),
    ("predicate_type", "Predicate"),
    ("trusted_comment", "Trusted comment"),
    ("tlog", "Transparency log"),
)
#: Facts shown in monospace with a copy button (digests and identities).
MONO_FACTS = frozenset({"commit"})

_CLI_POLICY_HINT = "--identity"
GUI_POLICY_HINT = (
    "Fill in “Signer identity” and “OIDC issuer” above the table and drop the file again "
    "to trust this signer."
)


@dataclass(frozen=True, slots=True)
class KindSummary:
    """Every check of one kind of a file: passed (all of them) or failed (any of them)."""

    kind: str
    passed: int
    failed: int

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def word(self) -> str:
        return "ok" if self.ok else "FAILED"

    @property
    def text(self) -> str:
        return f"{self.kind} {self.word}"


@dataclass(frozen=True, slots=True)
class Signer:
    """Who made a signature: a trusted key (name, fingerprint) or a Sigstore identity."""

    name: str | None = None
    fingerprint: str | None = None
    identity: str | None = None
    issuer: str | None = None


def kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def summarize(checks: Iterable[Check]) -> tuple[KindSummary, ...]:
    counts: dict[str, list[int]] = {}
    for check in checks:
        passed_failed = counts.setdefault(check.kind, [0, 0])
        passed_failed[0 if check.ok else 1] += 1
    return tuple(
        KindSummary(kind, passed, failed)
        for kind, (passed, failed) in sorted(counts.items(), key=lambda kv: kind_order(kv[0]))
    )


def grouped(checks: Iterable[Check]) -> list[tuple[str, list[Check]]]:
    """Checks grouped by kind, kinds in :data:`KINDS` order, checks in their own order."""
    groups: dict[str, list[Check]] = {}
    for check in checks:
        groups.setdefault(check.kind, []).append(check)
    return sorted(groups.items(), key=lambda kv: kind_order(kv[0]))


def signer_of(check: Check) -> Signer | None:
    facts = check.facts
    identity, issuer = facts.get("identity"), facts.get("issuer")
    if identity or issuer:
        return Signer(identity=identity, issuer=issuer)
    if check.signer is None and check.fingerprint is None:
        return None
    name = check.signer
    if name and check.fingerprint and name.endswith(")") and " (" in name:
        name = name.rsplit(" (", 1)[0]  # "ci-release (SHA256:9f2c…)" -> "ci-release"
    return Signer(name=name, fingerprint=check.fingerprint)


def reason(check: Check) -> str:
    """The check's plain reason, with the GUI's way to fix a missing Sigstore policy."""
    detail = check.detail
    if not check.ok and _CLI_POLICY_HINT in detail:
        return f"{detail}. {GUI_POLICY_HINT}"
    return detail


def verdict(result: FileResult) -> str:
    """One line for the Reason column: why the file is (not) verified, and by whom."""
    if result.status != "verified":
        failed = [c for c in result.checks if not c.ok]
        return reason(failed[0]) if failed and result.error is None else result.summary
    signers = list(
        dict.fromkeys(c.signer for c in result.checks if c.kind != "checksum" and c.signer)
    )
    if not signers:
        return result.summary
    count = len(result.checks)
    return f"signed by {', '.join(signers)}; {count} check{'s' if count != 1 else ''} passed"


def checks_tooltip(checks: Iterable[Check]) -> str:
    """Every check on its own line: kind, result word, source and reason."""
    lines = []
    for kind, group in grouped(checks):
        for check in group:
            fmt = f" ({check.format})" if check.format else ""
            word = "ok" if check.ok else "FAILED"
            lines.append(f"{kind}{fmt} {word}: {check.source} — {reason(check)}")
    return "\n".join(lines) or "no checks: nothing to compare against"


def relative_time(timestamp: str, now: datetime | None = None) -> str | None:
    """``3 h ago`` for an ISO 8601 UTC time, or None when it cannot be read."""
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''} ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


# -- download and verify ----------------------------------------------------------------------


def artifact_check_lines(check: ArtifactCheck) -> list[tuple[str, str]]:
    """``(status, text)`` lines of a download-and-verify result, the verdict first: one line
    per SHA-256 compared (``verified``, ``failed`` or ``not-verified`` when a source records
    none), then where the bytes are kept. Status words go with the icons, never colour alone."""
    verdict = "verified" if check.ok else "failed"
    lines = [(verdict, check.summary)]
    if check.sha256 is not None:
        size = f"{check.size:,} bytes, " if check.size is not None else ""
        lines.append(("check-checksum", f"the bytes received: {size}SHA-256 {check.sha256}"))
    for comparison in check.comparisons:
        status = {True: "verified", False: "failed", None: "not-verified"}[comparison.ok]
        lines.append((status, comparison.text))
    if check.cached is not None:
        lines.append(("queued", f"kept in the download cache: {check.cached}"))
    return lines
