"""Build identities: ``YYYYMMDDTHHMMSSZ.N.<commit>``.

A build's identity is its start time converted to UTC, its sequential build number and the
git commit it was built from. The short form carries the first 12 hex digits of the commit;
the long form the whole commit. No I/O here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from relman.errors import UsageError
from relman.model import BuildIdentity

_COMMIT = re.compile(r"[0-9a-f]{7,64}")
_FULL_COMMIT_LENGTHS = (40, 64)
_IDENTITY = re.compile(
    r"(?P<started>\d{8}T\d{6}Z)\.(?P<number>[1-9]\d*)\.(?P<commit>[0-9a-f]{12}|[0-9a-f]{40}|[0-9a-f]{64})"
)
_STAMP = "%Y%m%dT%H%M%SZ"


def normalise_commit(commit: str) -> str:
    """Return a full git commit id in lower case, or raise :class:`UsageError`."""
    value = commit.strip().lower()
    if len(value) not in _FULL_COMMIT_LENGTHS or not _COMMIT.fullmatch(value):
        raise UsageError(
            f"commit {_quote(commit)} is not a full git commit id "
            "(40 hex digits, or 64 for SHA-256)"
        )
    return value


def parse_number(number: str | int) -> int:
    """A build number is a whole number of at least 1."""
    try:
        value = int(str(number).strip(), 10)
    except ValueError:
        raise UsageError(f"build number {_quote(str(number))} is not a whole number") from None
    if value < 1:
        raise UsageError(f"build number {value} is below 1 (build numbers start at 1)")
    return value


def parse_started(text: str) -> datetime:
    """Parse an ISO 8601 time with an offset (or ``Z``) and return it in UTC, whole seconds.

    A time without an offset is refused: guessing the local zone is how identities drift.
    """
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"start time {_quote(text)} is not an ISO 8601 time") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise UsageError(
            f"start time {_quote(text)} has no UTC offset; add Z or +HH:MM "
            "(for example 2026-11-26T15:30:05+01:00)"
        )
    return value.astimezone(UTC).replace(microsecond=0)


def make_identity(
    number: str | int, commit: str, started: str | datetime | None = None
) -> BuildIdentity:
    """Build an identity from its parts, checking each one."""
    if started is None:
        when = datetime.now(UTC).replace(microsecond=0)
    elif isinstance(started, datetime):
        if started.tzinfo is None:
            raise UsageError("start time has no UTC offset")
        when = started.astimezone(UTC).replace(microsecond=0)
    else:
        when = parse_started(started)
    return BuildIdentity(started=when, number=parse_number(number), commit=normalise_commit(commit))


def parse_identity(text: str) -> BuildIdentity:
    """Turn ``YYYYMMDDTHHMMSSZ.N.<12, 40 or 64 hex>`` back into its parts."""
    match = _IDENTITY.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"{_quote(text)} is not a build identity (expected YYYYMMDDTHHMMSSZ.N.<commit>, "
            "for example 20261126T143005Z.42.3f9c2ab1d0e4)"
        )
    try:
        started = datetime.strptime(match["started"], _STAMP).replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{_quote(text)} has an impossible start time") from None
    return BuildIdentity(started=started, number=int(match["number"]), commit=match["commit"])


def _quote(text: str) -> str:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return repr(shown)
