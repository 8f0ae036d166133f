"""The Artifactory backend against the emulator (real HTTP on 127.0.0.1): reads, lookups,
AQL paging and escaping, builds, records. Writes and downloads: test_artifactory_writes.py and
test_artifactory_download.py."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from relman.errors import InputError, UsageError
from relman.model import Profile, RepoPath, Repository
from relman.registry import open_registry
from relman.registry.artifactory import ArtifactoryRegistry, safe_file_name
from relman.registry.base import Conflict, NotFound, Registry
from relman.registry.local import LocalRegistry
from tests.emulators.artifactory import ArtifactoryEmulator, Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN

COMMIT = "3f1c2a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_info(name: str, number: str, files: dict[str, bytes], **extra) -> dict:
    return {
        "name": name,
        "number": number,
        "started": extra.pop("started", "2025-03-02T10:10:00.000+0300"),
        "vcs": [{"revision": COMMIT, "url": "https://git.example/app.git"}],
        "modules": [
            {
                "id": name,
                "artifacts": [
                    {"name": f, "sha256": sha256(d), "path": f"{name}/{number}/{f}"}
                    for f, d in files.items()
                ],
            }
        ],
        **extra,
    }


@pytest.fixture
def reg(artifactory: ArtifactoryEmulator) -> ArtifactoryRegistry:
    artifactory.add_repo("relman-records")
    registry = ArtifactoryRegistry(
        artifactory.url, token=ARTIFACTORY_TOKEN, page_size=4, attempts=1, workers=4
    )
    yield registry
    registry.close()


# -- server ------------------------------------------------------------------------------------


def test_it_is_a_registry(reg: ArtifactoryRegistry) -> None:
    assert isinstance(reg, Registry)
    assert repr(reg) == f"ArtifactoryRegistry({reg.url!r})" and ARTIFACTORY_TOKEN not in repr(reg)


def test_ping_version_and_capabilities_are_probed(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    reg.ping()
    assert reg.version().version == "7.90.10"
    caps = reg.capabilities
    assert (caps.name, caps.version) == ("Artifactory", "7.90.10")
    assert caps.properties and caps.copy and caps.move and caps.build_promotion
    assert not caps.lifecycle and caps.signatures
    assert reg.capabilities is caps  # probed once


def test_capabilities_follow_what_the_server_offers(artifactory: ArtifactoryEmulator) -> None:
    artifactory.features(build_promotion=False, copy_move=False)
    artifactory.set_environments(["DEV", "QA", "PROD"])
    with ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN) as reg:
        caps = reg.capabilities
        assert not caps.copy and not caps.move and not caps.build_promotion
        assert caps.lifecycle and reg.environments() == ["DEV", "QA", "PROD"]
    # the probes wrote nothing
    assert not any(r.method in ("PUT", "DELETE", "PATCH") for r in artifactory.requests)


def test_check_connection_says_what_worked(artifactory: ArtifactoryEmulator) -> None:
    with ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN) as reg:
        checks = reg.check_connection()
    assert [(c.step, c.ok) for c in checks] == [
        ("server", True),
        ("version", True),
        ("token", True),
        ("repositories", True),
    ]
    assert "7.90.10" in checks[1].detail
    with ArtifactoryRegistry(artifactory.url, token="wrong") as reg:
        checks = reg.check_connection()
    assert [c.ok for c in checks] == [True, False, False, False]
    assert "refused the credentials" in checks[2].detail
    with ArtifactoryRegistry("http://relman-test.invalid/artifactory", attempts=0) as reg:
        checks = reg.check_connection()
    assert len(checks) == 1 and not checks[0].ok and "DNS" in checks[0].detail


def test_ping_that_is_not_ok_names_the_url(artifactory: ArtifactoryEmulator) -> None:
    artifactory.inject(Fault(path="^/api/system/ping", kind="garbage-json"))
    with (
        ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN) as reg,
        pytest.raises(InputError, match="not OK: is .* the Artifactory URL"),
    ):
        reg.ping()


# -- repositories and items --------------------------------------------------------------------


def test_repositories_with_their_kinds(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.add_repo("maven-remote", "remote", "maven", url="https://repo1.example/")
    artifactory.add_repo("libs", "virtual", repositories=["libs-dev"])
    repos = {r.key: r for r in reg.repositories()}
    assert repos["libs-dev"] == Repository("libs-dev", "local", "generic")
    assert repos["maven-remote"] == Repository("maven-remote", "remote", "maven")
    assert repos["libs"].kind == "virtual"
    assert list(reg.items("maven-remote")) == [] and list(reg.items("libs")) == []
    with pytest.raises(NotFound, match="no repository 'nope'"):
        list(reg.items("nope"))


def test_items_are_paged_with_their_properties_whole(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    """The emulator pages item x property rows when properties are included, as Artifactory
    does: a client that trusted it would lose properties at page edges."""
    expected = {}
    for index in range(11):
        path = f"app/{index % 3}/file-{index:02d}.bin"
        props = {f"key{k}": [f"v{index}-{k}", "shared"] for k in range(3)}
        artifactory.deploy("libs-dev", path, f"data {index}".encode(), properties=props)
        expected[path] = {k: tuple(v) for k, v in props.items()}
    artifactory.reset_log()
    found = list(reg.items("libs-dev"))
    assert [loc.path for loc in found] == sorted(expected)
    for loc in found:
        assert {k: tuple(sorted(v)) for k, v in loc.properties.items()} == {
            k: tuple(sorted(v)) for k, v in expected[loc.path].items()
        }
        assert loc.sha256 == sha256(f"data {int(loc.name[5:7])}".encode())
        assert loc.size == len(f"data {int(loc.name[5:7])}")
    # 11 items, pages of 4: 3 pages, each one query for the items and one for their properties
    assert artifactory.count("POST", "/api/search/aql") == 6


def test_items_below_a_folder_and_never_relmans_own(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.deploy("libs-dev", "a/1/x.bin", b"x")
    artifactory.deploy("libs-dev", "a/1/deep/y.bin", b"y")
    artifactory.deploy("libs-dev", "a/10/z.bin", b"z")
    artifactory.deploy("libs-dev", "root.bin", b"r")
    artifactory.deploy("libs-dev", ".relman/promotions/a/1/qa.dsse.json", b"{}")
    assert [loc.path for loc in reg.items("libs-dev", "a/1")] == ["a/1/x.bin", "a/1/deep/y.bin"]
    assert [loc.path for loc in reg.items("libs-dev")] == [
        "root.bin",
        "a/1/x.bin",
        "a/1/deep/y.bin",
        "a/10/z.bin",
    ]
    with pytest.raises(UsageError, match="not allowed"):
        list(reg.items("libs-dev", "a/*"))
    with pytest.raises(UsageError, match="climbs out"):
        list(reg.items("libs-dev", "a/../b"))


def test_location_of_an_old_item_and_of_nothing(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.deploy("libs-dev", "old/app.jar", b"old", properties={"a": "1"}, sha256=False)
    loc = reg.location("libs-dev", "old/app.jar")
    assert loc.size == 3 and loc.sha256 is None and loc.sha1 == hashlib.sha1(b"old").hexdigest()
    assert dict(loc.properties) == {"a": ("1",)} and loc.created is not None
    with pytest.raises(NotFound, match="libs-dev/old/none.jar: no such item"):
        reg.location("libs-dev", "old/none.jar")
    with pytest.raises(UsageError, match="is a folder"):
        reg.location("libs-dev", "old")


def test_no_properties_is_not_a_missing_item(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.deploy("libs-dev", "bare.bin", b"b")
    assert dict(reg.properties("libs-dev", "bare.bin")) == {}
    with pytest.raises(NotFound, match="no such item"):
        reg.properties("libs-dev", "gone.bin")


def test_a_size_that_is_not_a_number_is_an_error(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    from relman.registry import artifactory_aql as aql

    assert aql.size_of("184223", "x") == 184223 and aql.size_of(5, "x") == 5
    with pytest.raises(InputError, match="size 'big' is not a number"):
        aql.size_of("big", "x")
    with pytest.raises(InputError, match="is not a number"):
        aql.size_of(1.5, "x")
    with pytest.raises(InputError, match="sha256 'zz' is not 64 hex digits"):
        aql.digest_of({"sha256": "zz"}, "sha256", "x")


# -- lookups and AQL ---------------------------------------------------------------------------


def test_lookups_by_sha256_property_build_and_commit(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    props = {"build.name": "acme", "build.number": "7", "vcs.revision": COMMIT}
    artifactory.deploy("libs-dev", "acme/7/app.jar", b"app", properties=props)
    artifactory.deploy("libs-qa", "acme/7/app.jar", b"app", properties=props)
    artifactory.deploy("libs-dev", "acme/7/plain.txt", b"plain")  # no build properties
    artifactory.deploy("libs-dev", "other/7/app.jar", b"app2", properties={"build.name": "x"})
    artifactory.add_build(build_info("acme", "7", {"app.jar": b"app", "plain.txt": b"plain"}))
    assert {str(loc) for loc in reg.find_by_sha256(sha256(b"app"))} == {
        "libs-dev/acme/7/app.jar",
        "libs-qa/acme/7/app.jar",
    }
    assert [str(loc) for loc in reg.find_by_property("build.name", "x")] == [
        "libs-dev/other/7/app.jar"
    ]
    assert {str(loc) for loc in reg.find_by_build("acme", "7")} == {
        "libs-dev/acme/7/app.jar",
        "libs-qa/acme/7/app.jar",
        "libs-dev/acme/7/plain.txt",
    }
    assert {str(loc) for loc in reg.find_by_commit(COMMIT[:9])} == {
        "libs-dev/acme/7/app.jar",
        "libs-qa/acme/7/app.jar",
        "libs-dev/acme/7/plain.txt",
    }
    assert reg.checksum_search(sha256(b"app")) == [
        RepoPath("libs-dev", "acme/7/app.jar"),
        RepoPath("libs-qa", "acme/7/app.jar"),
    ]


@pytest.mark.parametrize(
    "value",
    [
        'x"}).include("*',
        'x"},{"repo":{"$match":"*"}}',
        "*",
        "acme*",
        "x\\",
        "a'b)(",
    ],
)
def test_a_search_box_cannot_change_the_query(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, value: str
) -> None:
    artifactory.deploy("libs-dev", "acme/7/app.jar", b"app", properties={"build.name": "acme"})
    artifactory.deploy("libs-dev", "evil.jar", b"e", properties={"build.name": value})
    assert [loc.path for loc in reg.find_by_property("build.name", value)] == ["evil.jar"]
    assert list(reg.find_by_property("build.name", value + "-none")) == []


def test_bad_search_input_is_refused_in_one_line(reg: ArtifactoryRegistry) -> None:
    with pytest.raises(UsageError, match="is not 64 hex digits"):
        list(reg.find_by_sha256("abc"))
    with pytest.raises(UsageError, match="control character"):
        list(reg.find_by_property("build.name", "a\nb"))
    with pytest.raises(UsageError, match="not a property name"):
        list(reg.find_by_property("build name", "a"))
    with pytest.raises(UsageError, match="is not a commit"):
        list(reg.find_by_commit("xyz*"))
    with pytest.raises(UsageError, match="longer than"):
        list(reg.find_by_property("a", "x" * 5000))


def test_long_checksum_lists_are_cut_into_queries_aql_accepts(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.aql_max_chars = 6000
    files = {f"f{i}.bin": f"bytes {i}".encode() for i in range(150)}
    for name, data in files.items():
        artifactory.deploy("libs-dev", f"big/1/{name}", data)
    artifactory.add_build(build_info("big", "1", files))
    assert len(list(reg.find_by_build("big", "1"))) == 150


def test_aql_without_sort_reads_unpaged(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    for index in range(6):
        artifactory.deploy(
            "libs-dev", f"f{index}.bin", bytes([index]), properties={"i": str(index)}
        )
    artifactory.inject(
        Fault(
            method="POST",
            path="^/api/search/aql",
            status=400,
            message="Sorting is not supported by AQL in the open source version",
        )
    )
    found = list(reg.items("libs-dev"))
    assert sorted(loc.path for loc in found) == [f"f{i}.bin" for i in range(6)]
    assert all(loc.properties["i"] == (loc.name[1],) for loc in found)


def test_aql_errors_are_one_line(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.features(aql=False)
    with pytest.raises(InputError, match="AQL search"):
        list(reg.items("libs-dev"))


def test_names_from_the_server_never_lead_elsewhere() -> None:
    from relman.registry import artifactory_aql as aql

    for name in ("..", ".", "a/b", "a\\b", "", "x\x00"):
        with pytest.raises(UsageError, match="not a safe file name"):
            safe_file_name(name)
    assert safe_file_name("app-1.0.jar") == "app-1.0.jar"
    with pytest.raises(InputError, match="has the name '..'"):
        aql.item_path({"repo": "r", "path": "a", "name": ".."}, "x")
    with pytest.raises(InputError, match="has the name 'b/c'"):
        aql.item_path({"repo": "r", "path": "a", "name": "b/c"}, "x")


# -- builds ------------------------------------------------------------------------------------


def test_builds_runs_and_legacy_build_info(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    assert list(reg.build_names()) == []  # 404 "No builds were found" is an empty list
    artifactory.add_build(build_info("zeta", "1", {"z.bin": b"z"}))
    legacy = build_info("acme/web", "2", {"w.bin": b"w"}, started="2025-03-03T10:10:00.000Z")
    del legacy["vcs"]
    legacy["vcsRevision"] = COMMIT
    artifactory.add_build(legacy)
    artifactory.add_build(build_info("acme/web", "1", {"w.bin": b"v"}))
    artifactory.add_build(
        build_info("acme/web", "10", {"w.bin": b"u"}, started="2025-01-01T00:00:00.000+0000")
    )
    assert list(reg.build_names()) == ["acme/web", "zeta"]
    assert reg.build_numbers("acme/web") == ["2", "1", "10"]  # newest start time first
    record = reg.build_record("acme/web", "2")
    assert record.vcs_revision == COMMIT and record.artifacts[0].name == "w.bin"
    assert str(record.identity).startswith("20250303T101000Z.2.")
    with pytest.raises(NotFound, match="no build acme/web/3"):
        reg.build_record("acme/web", "3")
    with pytest.raises(NotFound, match="no build named 'nope'"):
        reg.build_numbers("nope")


def test_build_info_is_read_ahead_once_each(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    for number in range(1, 41):
        artifactory.add_build(
            build_info(
                "app",
                str(number),
                {"a.bin": bytes([number])},
                started=f"2025-01-01T{number % 24:02d}:{number // 24:02d}:00.000Z",
            )
        )
    artifactory.reset_log()
    numbers = reg.build_numbers("app")
    records = [reg.build_record("app", n) for n in numbers]
    assert [r.number for r in records] == numbers
    assert artifactory.count("GET", r"^/api/build/app/\d+$") == 40
    assert artifactory.count("GET", r"^/api/build/app$") == 1
    # a record asked for out of the listing is fetched directly
    assert reg.build_record("app", "3").number == "3"


def test_publish_build_refuses_a_reused_number(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    from datetime import UTC, datetime

    from relman.registry import buildinfo

    record = buildinfo.make_record(
        "app", 5, started=datetime(2025, 1, 1, tzinfo=UTC), commit=COMMIT
    )
    assert str(reg.publish_build(record)) == "publish-build build app/5: 0 artifacts"
    assert reg.build_record("app", "5") == record
    reg.publish_build(record)  # the same run again: replaced, fine
    later = buildinfo.make_record("app", 5, started=datetime(2025, 2, 1, tzinfo=UTC), commit=COMMIT)
    with pytest.raises(Conflict, match="a build number is never reused"):
        reg.publish_build(later)


# -- records and approvals ---------------------------------------------------------------------


def test_promotion_records_and_approvals(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    assert reg.promotion_records("acme/web", "1") == []
    first = reg.put_promotion_record("acme/web", "1", "qa", b"record one")
    assert str(first) == "put-record records/acme/web/1/qa.dsse.json: 10 bytes"
    reg.put_promotion_record("acme/web", "1", "qa", b"record two")
    reg.put_promotion_record("acme/web", "1", "prod", b"record three")
    assert reg.promotion_records("acme/web", "1") == [
        ("qa", b"record one"),
        ("qa", b"record two"),
        ("prod", b"record three"),
    ]
    stored = artifactory.file("relman-records", ".relman/promotions/acme%2Fweb/1/qa.dsse.2.json")
    assert stored is not None and stored.data == b"record two"
    dry = reg.put_promotion_record("acme/web", "1", "qa", b"x", dry_run=True)
    assert dry.dry_run and len(reg.promotion_records("acme/web", "1")) == 3
    reg.put_approval("acme/web", "1", "prod", b"approval a")
    reg.put_approval("acme/web", "1", "prod", b"approval a")  # the same: one file
    reg.put_approval("acme/web", "1", "qa", b"approval b")
    assert sorted(reg.approvals("acme/web", "1")) == [
        ("prod", b"approval a"),
        ("qa", b"approval b"),
    ]
    assert reg.approvals("acme/web", "2") == []
    # relman's files are not items of a release
    assert list(reg.items("relman-records")) == []


def test_a_missing_records_repository_is_named(artifactory: ArtifactoryEmulator) -> None:
    with ArtifactoryRegistry(
        artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="no-such-repo"
    ) as reg:
        assert reg.promotion_records("a", "1") == []
        with pytest.raises(UsageError, match="records repository 'no-such-repo' does not exist"):
            reg.put_promotion_record("a", "1", "qa", b"x")


def test_records_are_checked_against_their_recorded_sha256(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    reg.put_promotion_record("a", "1", "qa", b"genuine")
    stored = artifactory.file("relman-records", ".relman/promotions/a/1/qa.dsse.json")
    stored.content = b"tampered"  # bytes changed behind the server's back
    from relman.errors import VerificationError

    with pytest.raises(VerificationError, match="the server records"):
        reg.promotion_records("a", "1")


# -- opening by profile ------------------------------------------------------------------------


def test_open_registry_by_profile_kind(
    artifactory: ArtifactoryEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = LocalRegistry(tmp_path / "reg", create=True)
    assert isinstance(open_registry(Profile("l", "local", str(local.root))), LocalRegistry)
    monkeypatch.setenv("RELMAN_TOKEN", ARTIFACTORY_TOKEN)
    profile = Profile(
        "rt",
        "artifactory",
        artifactory.url,
        environments=(),
        records_repo="libs-qa",
    )
    reg = open_registry(profile)
    assert isinstance(reg, ArtifactoryRegistry) and reg.records_repo == "libs-qa"
    assert list(reg.repositories())
    assert artifactory.requests[-1].user == "admin"
    with pytest.raises(UsageError, match="Nexus backend is not supported yet"):
        open_registry(Profile("nx", "nexus", "https://nexus.example"))


def test_the_token_never_appears_in_errors_or_logs(
    artifactory: ArtifactoryEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    artifactory.expire_token()
    errors = []
    with ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, attempts=0) as reg:
        for call in (reg.ping, reg.version, lambda: list(reg.items("libs-dev"))):
            try:
                call()
            except Exception as exc:
                errors.append(str(exc))
    assert errors and all(ARTIFACTORY_TOKEN not in e for e in errors)
    assert ARTIFACTORY_TOKEN not in caplog.text


def test_records_of_many_builds_take_one_search(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in ("1", "2", "3"):
        reg.put_promotion_record("app", number, "qa", f"record {number}".encode())
    reg.put_approval("app", "2", "qa", b"approved")
    artifactory.reset_log()
    fresh = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN)
    found = [fresh.promotion_records("app", n) for n in ("1", "2", "3", "4")]
    assert found == [[("qa", b"record 1")], [("qa", b"record 2")], [("qa", b"record 3")], []]
    assert (
        fresh.approvals("app", "2") == [("qa", b"approved")] and fresh.approvals("app", "1") == []
    )
    assert artifactory.count("POST", "^/api/search/aql") == 2  # one for each kind
    # another writer's record shows once the listing is older than RECORDS_TTL
    artifactory.deploy("relman-records", ".relman/promotions/app/4/qa.dsse.json", b"theirs")
    assert fresh.promotion_records("app", "4") == []
    monkeypatch.setattr("relman.registry.artifactory_records.RECORDS_TTL", 0.0)
    assert fresh.promotion_records("app", "4") == [("qa", b"theirs")]
    # this registry's own writes show at once
    monkeypatch.setattr("relman.registry.artifactory_records.RECORDS_TTL", 3600.0)
    fresh.put_promotion_record("app", "4", "prod", b"mine")
    assert fresh.promotion_records("app", "4") == [("qa", b"theirs"), ("prod", b"mine")]
    fresh.close()
