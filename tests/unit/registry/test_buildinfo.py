"""Build-info JSON <-> BuildRecord: realistic, legacy, awkward and garbage documents."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relman.errors import InputError
from relman.model import Agent, ArtifactRecord, BuildIdentity, BuildRecord, BuildStatus
from relman.registry import buildinfo

FIXTURES = Path(__file__).parents[2] / "fixtures" / "buildinfo"
COMMIT = "3f1c2a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"


def load(name: str) -> BuildRecord:
    return buildinfo.parse((FIXTURES / name).read_bytes(), source=name)


def test_full_artifactory_example() -> None:
    record = load("artifactory-417.json")
    assert (record.name, record.number, str(record)) == ("acme-app", "417", "acme-app/417")
    assert record.started == datetime(2025, 3, 2, 10, 10, tzinfo=UTC)
    assert record.started_raw == "2025-03-02T10:10:00.000+0000"
    assert record.vcs_revision == COMMIT
    assert record.vcs_url == "https://git.example.com/acme/app.git"
    assert (record.vcs_branch, record.vcs_message) == ("main", "Bump parser to 2.3")
    assert record.agent == Agent("GitHub Actions", "2.321.0")
    assert record.build_agent == Agent("GENERIC", "2.72.2")
    assert record.properties["java.version"] == "21.0.2"
    assert record.artifacts == (
        ArtifactRecord(
            name="app-1.4.2.jar",
            sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            sha1="0a4f9c2e5d1b7a3e9c6f0b2d4e8a1c3f5b7d9e0a",
            md5="5d41402abc4b2a76b9719d911017c592",
            type="jar",
            path="org/acme/app/1.4.2/app-1.4.2.jar",
            module="acme-app",
        ),
    )
    (status,) = record.statuses
    assert status == BuildStatus(
        status="QA",
        repository="libs-qa-local",
        timestamp=datetime(2025, 3, 3, 9, tzinfo=UTC),
        timestamp_raw="2025-03-03T09:00:00.000+0000",
        user="release-bot",
        comment="Smoke tests green",
    )
    assert record.identity == BuildIdentity(datetime(2025, 3, 2, 10, 10, tzinfo=UTC), 417, COMMIT)
    assert str(record.identity) == "20250302T101000Z.417.3f1c2a9d8e7b"
    assert json.loads(record.raw)["uri"].startswith("https://rt.example.com/")


def test_legacy_record_offsets_and_missing_digests() -> None:
    record = load("legacy-vcsrevision.json")
    assert record.number == "58"  # a JSON number becomes the string build-info means
    # +0300 without a colon, converted to UTC; milliseconds kept on the record ...
    assert record.started == datetime(2014, 9, 30, 9, 0, 19, 893000, tzinfo=UTC)
    # ... and dropped by the identity (whole seconds)
    assert record.identity is not None
    assert record.identity.started == datetime(2014, 9, 30, 9, 0, 19, tzinfo=UTC)
    assert record.vcs_revision == "abcdef0123456789abcdef0123456789abcdef01"  # legacy, lower-cased
    assert record.vcs_url == "https://git.example.com/acme/legacy.git"
    assert record.vcs_branch is None
    jar, pom = record.artifacts
    assert jar.sha256 is None and jar.sha1 == "99129f16442844f6a4a11ae22fbbee40b14d774f"
    assert jar.path is None and jar.module == "org.acme:legacy:1.0"
    assert (pom.sha1, pom.md5, pom.sha256) == (None, None, None)


def test_no_modules_and_a_release_candidate_number() -> None:
    record = load("no-modules-rc-number.json")
    assert record.number == "1.0.0-rc+1"
    assert record.started == datetime(2025, 3, 4, 23, 22, 41, 507000, tzinfo=UTC)
    assert record.artifacts == () and record.vcs_revision is None
    assert record.identity is None  # not a whole number, and no commit
    assert record.statuses[0].timestamp == datetime(2025, 3, 5, 8, tzinfo=UTC)
    assert record.statuses[0].repository is None


def test_slim_record_has_no_identity() -> None:
    record = load("slim.json")
    assert record.started is None and record.started_raw == ""
    assert record.identity is None
    assert dict(record.properties) == {} and record.agent is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("garbage-html.json", "garbage-html.json: not JSON"),
        ("garbage-array.json", "garbage-array.json: not a build-info object (a JSON list)"),
        (
            "garbage-bad-sha256.json",
            "garbage-bad-sha256.json: 'modules[0].artifacts[0].sha256' 'nothex' is not 64 hex digits",
        ),
        (
            "garbage-bad-started.json",
            "garbage-bad-started.json: 'started' 'yesterday' is not an ISO 8601 time",
        ),
    ],
)
def test_garbage_is_one_line(name: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load(name)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"number": "1"}, "'name' is missing"),
        ({"name": "", "number": "1"}, "'name' is empty"),
        ({"name": " ", "number": "1"}, "'name' is empty"),
        ({"name": 5, "number": "1"}, "'name' is a JSON number, not a string"),
        ({"name": "a"}, "'number' is missing"),
        ({"name": "a", "number": True}, "'number' is a JSON boolean, not a string"),
        ({"name": "a", "number": [1]}, "'number' is a JSON list, not a string"),
        ({"name": "a", "number": " "}, "'number' is empty"),
        ({"name": "a", "number": "1", "started": "2025-03-02T10:10:00"}, "has no UTC offset"),
        ({"name": "a", "number": "1", "modules": {}}, "'modules' is a JSON object, not a list"),
        ({"name": "a", "number": "1", "modules": [3]}, "'modules[0]' is a JSON number"),
        (
            {"name": "a", "number": "1", "modules": [{"artifacts": [{"type": "jar"}]}]},
            "'modules[0].artifacts[0]' has neither a name nor a path",
        ),
        ({"name": "a", "number": "1", "vcs": "abc"}, "'vcs' is a JSON string, not a list"),
        ({"name": "a", "number": "1", "agent": "x"}, "'agent' is a JSON string, not an object"),
        ({"name": "a", "number": "1", "properties": []}, "'properties' is a JSON list"),
        (
            {"name": "a", "number": "1", "properties": {"k": {"x": 1}}},
            "'properties.k' is a JSON object, not a string",
        ),
        ({"name": "a", "number": "1", "statuses": [{}]}, "'statuses[0].status' is missing"),
        (
            {"name": "a", "number": "1", "statuses": [{"status": "QA", "timestamp": "soon"}]},
            "'statuses[0].timestamp' 'soon' is not an ISO 8601 time",
        ),
        ({"uri": "x", "buildInfo": None}, "'buildInfo' is a JSON null, not an object"),
    ],
)
def test_strict_on_garbage(doc: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        buildinfo.parse(doc)


def test_tolerant_of_scalars_and_names_from_paths() -> None:
    record = buildinfo.parse(
        json.dumps(
            {
                "name": "a",
                "number": 7,
                "properties": {"n": 3, "b": True, "f": False, "none": None},
                "agent": {"version": "1"},
                "vcs": [{"url": "u"}, {"revision": "not-hex-but-kept", "url": ""}],
                "modules": [{"artifacts": [{"path": "x/y/app.tgz", "sha256": "A" * 64}]}],
            }
        ).encode()
    )
    assert dict(record.properties) == {"n": "3", "b": "true", "f": "false", "none": ""}
    assert record.agent is None  # an agent without a name says nothing
    assert record.vcs_revision == "not-hex-but-kept" and record.vcs_url is None
    (artifact,) = record.artifacts
    assert (artifact.name, artifact.sha256, artifact.module) == ("app.tgz", "a" * 64, "")
    assert record.identity is None


def test_size_limit_and_bad_utf8() -> None:
    with pytest.raises(InputError, match="not JSON"):
        buildinfo.parse(b"\xff\xfe{}")
    with pytest.raises(InputError, match="larger than 64 MiB"):
        buildinfo.parse(" " * ((64 << 20) + 1))


def test_dump_keeps_what_relman_does_not_model() -> None:
    record = load("artifactory-417.json")
    out = buildinfo.dump(record)
    assert "uri" not in out and out["name"] == "acme-app"
    assert out["durationMillis"] == 93211 and out["issues"]["tracker"]["name"] == "JIRA"
    module = out["modules"][0]
    assert module["dependencies"][0]["id"] == "org.example:parser:2.3"
    assert module["properties"] == {"project.build.sourceEncoding": "UTF-8"}
    assert out["vcsRevision"] == COMMIT and out["vcsUrl"] == record.vcs_url
    assert out["statuses"][0]["timestamp"] == "2025-03-03T09:00:00.000+0000"
    again = buildinfo.parse(buildinfo.dumps(record))
    assert again == record
    assert json.loads(again.raw)["issues"]["affectedIssues"][0]["key"] == "ACME-12"


def test_dump_of_a_legacy_record_keeps_legacy_fields_in_step() -> None:
    record = load("legacy-vcsrevision.json")
    out = buildinfo.dump(record)
    assert out["vcs"] == [{"revision": record.vcs_revision, "url": record.vcs_url}]
    assert out["vcsRevision"] == record.vcs_revision
    assert buildinfo.parse(out) == record
    # A record whose commit was dropped drops the legacy fields too.
    from dataclasses import replace

    cleared = replace(record, vcs_revision=None, vcs_url=None)
    out = buildinfo.dump(cleared)
    assert "vcsRevision" not in out and "vcsUrl" not in out and "vcs" not in out


def test_dump_of_a_record_built_in_code() -> None:
    started = datetime(2026, 11, 26, 14, 30, 5, 120000, tzinfo=timezone(timedelta(hours=1)))
    record = buildinfo.make_record(
        "acme/app",
        42,
        started=started,
        commit=COMMIT.upper(),
        vcs_url="https://git.example.com/acme/app.git",
        branch="main",
        message="release",
        artifacts=[
            ArtifactRecord("a.tgz", sha256="1" * 64, module="m1"),
            ArtifactRecord("b.tgz", sha1="2" * 40, module="m2", path="p/b.tgz", type="tgz"),
            ArtifactRecord("c.tgz", md5="3" * 32, module="m1"),
        ],
        properties={"buildInfo.env.CI": "true"},
        statuses=[
            BuildStatus("qa", timestamp=datetime(2026, 11, 27, tzinfo=UTC), user="rm"),
            BuildStatus("prod", repository="libs-prod", comment="go"),
        ],
        agent=Agent("relman", "0.1"),
        build_agent=Agent("GENERIC"),
    )
    assert record.started_raw == "2026-11-26T13:30:05.120+0000"
    assert record.vcs_revision == COMMIT
    assert str(record.identity) == "20261126T133005Z.42.3f1c2a9d8e7b"
    assert [a.name for a in record.artifacts] == ["a.tgz", "c.tgz", "b.tgz"]  # grouped by module
    assert record.statuses[0].timestamp_raw == "2026-11-27T00:00:00.000+0000"
    out = buildinfo.dump(record)
    assert [m["id"] for m in out["modules"]] == ["m1", "m2"]
    assert out["modules"][1]["type"] == "generic"
    assert out["version"] == buildinfo.SCHEMA_VERSION
    with pytest.raises(InputError, match="no UTC offset"):
        buildinfo.make_record("a", 1, started=datetime(2026, 1, 1))


def test_identity_needs_every_part() -> None:
    base = buildinfo.make_record("a", 5, started=datetime(2026, 1, 1, tzinfo=UTC), commit="a" * 64)
    assert base.identity is not None and base.identity.commit == "a" * 64
    from dataclasses import replace

    assert replace(base, number="0").identity is None
    assert replace(base, number="x5").identity is None
    assert replace(base, vcs_revision="abc1234").identity is None  # short commit
    assert replace(base, vcs_revision=None).identity is None
    assert replace(base, started=None).identity is None


def test_envelope_given_as_an_object_and_module_without_artifacts() -> None:
    doc = {
        "uri": "https://rt/api/build/a/1",
        "buildInfo": {
            "name": "a",
            "number": "1",
            "modules": [
                {"id": "deps-only", "dependencies": [{"id": "x"}]},
                {"id": "m", "artifacts": [{"name": "a.bin", "sha1": "f" * 40}]},
                "not a module in raw",
            ],
        },
    }
    with pytest.raises(InputError, match=r"'modules\[2\]' is a JSON string"):
        buildinfo.parse(doc)
    doc["buildInfo"]["modules"].pop()  # type: ignore[index, union-attr]
    record = buildinfo.parse(doc)
    out = buildinfo.dump(record)
    assert [m["id"] for m in out["modules"]] == ["deps-only", "m"]
    assert "artifacts" not in out["modules"][0]
    assert buildinfo.parse(out) == record


def test_raw_that_is_not_an_object_is_ignored_by_dump() -> None:
    from dataclasses import replace

    record = replace(buildinfo.make_record("a", 1), raw="[1, 2]")
    assert buildinfo.dump(record) == {"version": "1.0.1", "name": "a", "number": "1"}
    record = replace(record, raw='{"buildInfo": [1]}')
    assert buildinfo.dump(record)["name"] == "a"


# -- round trip (hypothesis) -------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s != "")
_times = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2090, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-7))]),
)


def _digest(length: int) -> st.SearchStrategy[str | None]:
    return st.none() | st.text(alphabet="0123456789abcdef", min_size=length, max_size=length)


_artifacts = st.builds(
    ArtifactRecord,
    name=_text,
    sha256=_digest(64),
    sha1=_digest(40),
    md5=_digest(32),
    type=st.none() | _text,
    path=st.none() | _text,
    module=st.sampled_from(["", "m1", "m2"]),
)
_statuses = st.builds(
    BuildStatus,
    status=_text,
    repository=st.none() | _text,
    timestamp=st.none() | _times,
    user=st.none() | _text,
    comment=st.none() | _text,
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=_text.filter(lambda s: not s.startswith(".")),
    number=st.integers(min_value=1, max_value=10**6) | _text,
    started=st.none() | _times,
    commit=st.none() | st.text(alphabet="0123456789abcdef", min_size=40, max_size=40),
    vcs_url=st.none() | _text,
    branch=st.none() | _text,
    artifacts=st.lists(_artifacts, max_size=5),
    properties=st.dictionaries(_text, st.text(max_size=8), max_size=4),
    statuses=st.lists(_statuses, max_size=3),
    agent=st.none() | st.builds(Agent, name=_text, version=st.text(max_size=5)),
)
def test_round_trip(**kwargs: object) -> None:
    record = buildinfo.make_record(**kwargs)  # type: ignore[arg-type]
    text = buildinfo.dumps(record)
    again = buildinfo.parse(text)
    assert again == record
    assert buildinfo.parse(json.loads(text)) == record
    assert buildinfo.dump(again) == buildinfo.dump(record)
    # Build-info's own time format, whatever the offset given.
    if record.started is not None:
        assert record.started_raw.endswith("+0000") and record.started.tzinfo == UTC


def test_dump_with_odd_modules_in_raw() -> None:
    raw = {
        "name": "a",
        "number": "1",
        "modules": [
            {"id": "m", "artifacts": [{"name": "x", "md5": "0" * 32}]},
            {"id": "m", "type": "duplicate id"},
        ],
    }
    from dataclasses import replace

    record = buildinfo.parse(raw)
    out = buildinfo.dump(replace(record, raw=json.dumps({**raw, "modules": [*raw["modules"], 7]})))  # type: ignore[list-item]
    assert out["modules"] == [{"id": "m", "artifacts": [{"name": "x", "md5": "0" * 32}]}]
