from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relman.errors import UsageError
from relman.identity import make_identity, parse_identity, parse_started

COMMIT = "3f9c2ab1d0e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8"


def test_issue_example() -> None:
    ident = make_identity(42, COMMIT, "2026-11-26T15:30:05+01:00")
    assert str(ident) == "20261126T143005Z.42.3f9c2ab1d0e4"
    assert ident.full == f"20261126T143005Z.42.{COMMIT}"


def test_zulu_and_fraction_of_second() -> None:
    ident = make_identity("7", COMMIT.upper(), "2026-01-02T03:04:05.999Z")
    assert str(ident) == "20260102T030405Z.7.3f9c2ab1d0e4"
    assert ident.commit == COMMIT


def test_default_start_is_now_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    ident = make_identity(1, COMMIT)
    assert before <= ident.started <= datetime.now(UTC)
    assert ident.started.tzinfo is UTC


@pytest.mark.parametrize(
    ("number", "commit", "started", "message"),
    [
        (0, COMMIT, None, "below 1"),
        (-3, COMMIT, None, "below 1"),
        ("x", COMMIT, None, "not a whole number"),
        (1, "3f9c2ab", None, "not a full git commit"),
        (1, "z" * 40, None, "not a full git commit"),
        (1, COMMIT + "0", None, "not a full git commit"),
        (1, COMMIT, "yesterday", "not an ISO 8601 time"),
        (1, COMMIT, "2026-11-26T15:30:05", "no UTC offset"),
        (1, COMMIT, "2026-02-30T10:00:00Z", "not an ISO 8601 time"),
    ],
)
def test_bad_parts_are_refused(
    number: object, commit: str, started: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        make_identity(number, commit, started)  # type: ignore[arg-type]


def test_parse_short_and_full() -> None:
    short = parse_identity("20261126T143005Z.42.3f9c2ab1d0e4")
    assert (short.number, short.commit) == (42, "3f9c2ab1d0e4")
    assert short.started == datetime(2026, 11, 26, 14, 30, 5, tzinfo=UTC)
    full = parse_identity(f"20261126T143005Z.42.{COMMIT}")
    assert full.commit == COMMIT


@pytest.mark.parametrize(
    "text",
    [
        "",
        "20261126T143005Z.0.3f9c2ab1d0e4",
        "20261126T143005Z.42.3f9c2ab1d0e",
        "20261126T143005.42.3f9c2ab1d0e4",
        "20261126T143005Z.42.3F9C2AB1D0E4",
        "20261332T143005Z.42.3f9c2ab1d0e4",
        "20261126T143005Z.042.3f9c2ab1d0e4",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_identity(text)


def test_offsets_convert_to_utc() -> None:
    assert parse_started("2026-11-26T01:00:00+03:00") == datetime(2026, 11, 25, 22, tzinfo=UTC)
    assert parse_started("2026-11-26T01:00:00-0230") == datetime(2026, 11, 26, 3, 30, tzinfo=UTC)


@given(
    when=st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9998, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
        ),
    ),
    number=st.integers(min_value=1, max_value=10**12),
    commit=st.text(alphabet="0123456789abcdef", min_size=40, max_size=40),
)
def test_round_trip(when: datetime, number: int, commit: str) -> None:
    ident = make_identity(number, commit, when.isoformat())
    for text, want_commit in ((str(ident), commit[:12]), (ident.full, commit)):
        back = parse_identity(text)
        assert back.number == number
        assert back.commit == want_commit
        assert back.started == when.astimezone(UTC).replace(microsecond=0)
        assert str(back) == str(ident)
