"""The Artifactory emulator itself, spoken to with plain ``requests`` over real HTTP.

Each test checks what ``../shared/reference/artifactory.md`` says the server answers: fields
and their types, status codes, error envelopes, escaping, faults, auth and TLS. Backends are
tested against this emulator elsewhere; these tests keep the emulator honest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection, IncompleteRead
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emulators import artifactory_api
from tests.emulators.artifactory import ArtifactoryEmulator, Fault, StoredFile
from tests.emulators.fixtures import ARTIFACTORY_TOKEN, ARTIFACTORY_USERS

COMMIT = "3f1c2a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"
JAR = b"jar bytes of acme-app 417\n"
PLUS_03 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+03:00$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def bearer(token: str = ARTIFACTORY_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def message(response: requests.Response) -> str:
    body = response.json()
    assert body["errors"][0]["status"] == response.status_code
    return str(body["errors"][0]["message"])


def props(emu: ArtifactoryEmulator, repo: str, path: str) -> dict[str, list[str]]:
    found = emu.properties(repo, path)
    assert found is not None, f"no item {repo}/{path}"
    return found


def stored(emu: ArtifactoryEmulator, repo: str, path: str) -> StoredFile:
    found = emu.file(repo, path)
    assert found is not None, f"no file {repo}/{path}"
    return found


@pytest.fixture
def emu(artifactory: ArtifactoryEmulator) -> ArtifactoryEmulator:
    return artifactory


@pytest.fixture
def http(emu: ArtifactoryEmulator) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(bearer())
        yield session


def get(
    http: requests.Session, emu: ArtifactoryEmulator, path: str, **kw: Any
) -> requests.Response:
    return http.get(emu.url + path, timeout=10, **kw)


def aql(http: requests.Session, emu: ArtifactoryEmulator, query: str) -> requests.Response:
    return http.post(
        emu.url + "/api/search/aql",
        data=query.encode(),
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )


def build_info(
    name: str, number: str | int, started: str, *artifacts: bytes, **extra: Any
) -> dict[str, Any]:
    return {
        "version": "1.0.1",
        "name": name,
        "number": number,
        "started": started,
        "modules": [
            {
                "id": name,
                "artifacts": [
                    {"type": "jar", "name": f"a{i}.jar", "sha1": sha1(a), "sha256": sha256(a)}
                    for i, a in enumerate(artifacts)
                ],
            }
        ],
        **extra,
    }


@pytest.fixture
def lineage(emu: ArtifactoryEmulator) -> ArtifactoryEmulator:
    """Build acme-app #417 with its jar in libs-dev (tagged) and an untagged copy in libs-qa."""
    emu.deploy(
        "libs-dev",
        "org/acme/app/1.4.2/app-1.4.2.jar",
        JAR,
        {"build.name": "acme-app", "build.number": "417", "vcs.revision": COMMIT},
        created="2025-03-02T10:15:31.204+03:00",
    )
    emu.deploy("libs-qa", "copies/app.jar", JAR)
    emu.deploy(
        "libs-dev", "org/acme/app/1.4.2/app-1.4.2.pom", b"<pom/>", {"build.name": "acme-app"}
    )
    emu.add_build(
        build_info(
            "acme-app",
            "417",
            "2025-03-02T10:10:00.000+0300",
            JAR,
            vcs=[{"revision": COMMIT, "url": "https://git.example.com/acme/app.git"}],
        )
    )
    return emu


# -- system, repositories ---------------------------------------------------------------------


def test_ping_is_plain_ok_without_credentials(emu: ArtifactoryEmulator) -> None:
    response = requests.get(emu.url + "/api/system/ping", timeout=10)
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["Content-Type"].startswith("text/plain")


def test_version_and_readiness(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    body = get(http, emu, "/api/system/version").json()
    assert body["version"] == "7.90.10"
    assert body["revision"].isdigit() and "build" in body["addons"]
    assert get(http, emu, "/api/v1/system/readiness").json() == {"code": "OK"}
    emu.features(build_promotion=False, copy_move=False)
    assert get(http, emu, "/api/system/version").json()["license"] == "OSS"


def test_repositories_list_filters_and_config(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.add_repo("maven-remote", "remote", "maven", url="https://repo1.maven.org/maven2/")
    emu.add_repo("libs", "virtual", "generic", repositories=["libs-dev", "libs-prod"])
    listed = get(http, emu, "/api/repositories").json()
    assert isinstance(listed, list)
    keys = [r["key"] for r in listed]
    assert keys == ["libs-dev", "libs-qa", "libs-staging", "libs-prod", "maven-remote", "libs"]
    dev = listed[0]
    assert dev == {
        "key": "libs-dev",
        "type": "LOCAL",
        "description": "",
        "url": f"{emu.url}/libs-dev",
        "packageType": "Generic",
    }
    assert listed[4]["url"] == "https://repo1.maven.org/maven2/"
    assert [r["key"] for r in get(http, emu, "/api/repositories?type=remote").json()] == [
        "maven-remote"
    ]
    assert [r["key"] for r in get(http, emu, "/api/repositories?packageType=Maven").json()] == [
        "maven-remote"
    ]
    assert get(http, emu, "/api/repositories?type=nonsense").json() == []
    config = get(http, emu, "/api/repositories/libs").json()
    assert (config["rclass"], config["repositories"]) == ("virtual", ["libs-dev", "libs-prod"])
    missing = get(http, emu, "/api/repositories/nope")
    assert (missing.status_code, message(missing)) == (404, "The repository nope was not found")


def test_unknown_api_and_wrong_method(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    assert get(http, emu, "/api/nothing/here").status_code == 404
    assert http.post(emu.url + "/api/system/ping", timeout=10).status_code == 405
    outside = http.get(emu.base_url + "/other", timeout=10)
    assert (outside.status_code, message(outside)) == (404, "Not Found")


# -- storage info, file list ------------------------------------------------------------------


def test_file_info_has_the_real_field_types(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    response = get(http, emu, "/api/storage/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar")
    assert response.status_code == 200
    assert (
        response.headers["Content-Type"]
        == "application/vnd.org.jfrog.artifactory.storage.FileInfo+json"
    )
    info = response.json()
    assert info["size"] == str(len(JAR))
    assert info["path"] == "/org/acme/app/1.4.2/app-1.4.2.jar"
    assert info["repo"] == "libs-dev"
    assert info["created"] == "2025-03-02T10:15:31.204+03:00"
    assert PLUS_03.match(info["lastUpdated"])
    assert info["checksums"] == {
        "sha1": sha1(JAR),
        "md5": hashlib.md5(JAR).hexdigest(),
        "sha256": sha256(JAR),
    }
    assert info["originalChecksums"] == info["checksums"]
    assert info["uri"] == f"{emu.url}/api/storage/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    assert info["downloadUri"] == f"{emu.url}/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    assert info["mimeType"] == "application/java-archive"
    assert "children" not in info


def test_old_item_has_no_sha256_anywhere(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    emu.deploy("libs-dev", "old/legacy.jar", b"old", sha256=False)
    info = get(http, emu, "/api/storage/libs-dev/old/legacy.jar").json()
    assert set(info["checksums"]) == {"sha1", "md5"}
    assert set(info["originalChecksums"]) == {"sha1", "md5"}
    download = get(http, emu, "/libs-dev/old/legacy.jar")
    assert "X-Checksum-Sha256" not in download.headers
    assert download.headers["X-Checksum-Sha1"] == sha1(b"old")
    listed = get(http, emu, "/api/storage/libs-dev?list&deep=1").json()["files"]
    assert listed == [
        {
            "uri": "/old/legacy.jar",
            "size": 3,
            "lastModified": listed[0]["lastModified"],
            "folder": False,
            "sha1": sha1(b"old"),
        }
    ]
    found = aql(
        http, emu, 'items.find({"name":"legacy.jar"}).include("name","sha256","actual_sha1")'
    ).json()
    assert found["results"] == [{"name": "legacy.jar", "actual_sha1": sha1(b"old")}]
    assert stored(emu, "libs-dev", "old/legacy.jar").sha256 is None


def test_declared_checksums_can_differ_from_actual(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.deploy("libs-dev", "bad.bin", b"data", original_checksums={"sha1": "0" * 40})
    info = get(http, emu, "/api/storage/libs-dev/bad.bin").json()
    assert info["originalChecksums"] == {"sha1": "0" * 40}
    assert info["checksums"]["sha1"] == sha1(b"data")


def test_folder_info_and_repo_root(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    folder = get(http, emu, "/api/storage/libs-dev/org/acme/app/1.4.2")
    assert folder.headers["Content-Type"].endswith("storage.FolderInfo+json")
    body = folder.json()
    assert body["path"] == "/org/acme/app/1.4.2"
    assert body["children"] == [
        {"uri": "/app-1.4.2.jar", "folder": False},
        {"uri": "/app-1.4.2.pom", "folder": False},
    ]
    root = get(http, emu, "/api/storage/libs-dev").json()
    assert (root["path"], root["children"]) == ("/", [{"uri": "/org", "folder": True}])
    assert "checksums" not in root


def test_missing_item_is_a_404_envelope(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    for path in ("/api/storage/libs-dev/nope.jar", "/api/storage/no-such-repo/x"):
        response = get(http, emu, path)
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {"errors": [{"status": 404, "message": "Unable to find item"}]}


def test_file_list_flat_deep_and_errors(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    deep = get(
        http, emu, "/api/storage/libs-dev/org?list&deep=1&listFolders=1&mdTimestamps=1"
    ).json()
    assert deep["uri"] == f"{emu.url}/api/storage/libs-dev/org"
    assert PLUS_03.match(deep["created"])
    by_uri = {entry["uri"]: entry for entry in deep["files"]}
    assert list(by_uri) == [
        "/acme",
        "/acme/app",
        "/acme/app/1.4.2",
        "/acme/app/1.4.2/app-1.4.2.jar",
        "/acme/app/1.4.2/app-1.4.2.pom",
    ]
    jar = by_uri["/acme/app/1.4.2/app-1.4.2.jar"]
    assert (jar["size"], jar["folder"], jar["sha2"], jar["sha1"]) == (
        len(JAR),
        False,
        sha256(JAR),
        sha1(JAR),
    )
    assert "properties" in jar["mdTimestamps"]
    assert by_uri["/acme"]["size"] == -1 and by_uri["/acme"]["folder"] is True
    flat = get(http, emu, "/api/storage/libs-dev/org/acme/app/1.4.2?list").json()["files"]
    assert [e["uri"] for e in flat] == ["/app-1.4.2.jar", "/app-1.4.2.pom"]
    shallow = get(http, emu, "/api/storage/libs-dev?list&deep=1&depth=2&listFolders=1").json()
    assert [e["uri"] for e in shallow["files"]] == ["/org", "/org/acme"]
    bad = get(http, emu, "/api/storage/libs-dev/org?list&deep=yes")
    assert (bad.status_code, message(bad)) == (400, 'For input string: "yes"')
    on_file = get(http, emu, "/api/storage/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar?list")
    assert (
        message(on_file)
        == "Expected a folder but found a file, at: libs-dev:org/acme/app/1.4.2/app-1.4.2.jar"
    )
    emu.anonymous_read = True
    anonymous = requests.get(emu.url + "/api/storage/libs-dev?list", timeout=10)
    assert anonymous.status_code == 401


# -- properties ---------------------------------------------------------------------------------


def test_no_properties_is_a_404_with_its_own_message(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.deploy("libs-dev", "bare.bin", b"x")
    none = get(http, emu, "/api/storage/libs-dev/bare.bin?properties")
    assert none.status_code == 404
    assert none.json() == {"errors": [{"status": 404, "message": "No properties could be found."}]}
    missing = get(http, emu, "/api/storage/libs-dev/absent.bin?properties")
    assert (missing.status_code, message(missing)) == (404, "Unable to find item")


def test_get_properties_and_key_filter(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    path = "/api/storage/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar?properties"
    response = get(http, emu, path)
    assert response.headers["Content-Type"].endswith("storage.ItemProperties+json")
    assert response.json()["properties"] == {
        "build.name": ["acme-app"],
        "build.number": ["417"],
        "vcs.revision": [COMMIT],
    }
    assert get(http, emu, path + "=build.number,vcs.*").json()["properties"] == {
        "build.number": ["417"],
        "vcs.revision": [COMMIT],
    }
    assert get(http, emu, path + "=nothing").status_code == 404
    content_path = get(http, emu, "/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar?properties")
    assert content_path.json()["properties"]["build.name"] == ["acme-app"]


def test_set_properties_unescapes_comma_backslash_pipe_equals(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.deploy("libs-dev", "p.bin", b"x", {"keep": "me", "a": "old"})
    query = "a=1%5C=1;b=x%5C,y,z;c=p%5C|q;d=back%5C%5Cslash%7Ce=1%3B2;f=sp+ace"
    response = http.put(
        emu.url + "/api/storage/libs-dev/p.bin?properties=" + query + "&recursive=0", timeout=10
    )
    assert (response.status_code, response.content) == (204, b"")
    assert props(emu, "libs-dev", "p.bin") == {
        "keep": ["me"],
        "a": ["1=1"],
        "b": ["x,y", "z"],
        "c": ["p|q"],
        "d": ["back\\slash"],
        "e": ["1"],
        "2": [""],
        "f": ["sp ace"],
    }


def test_set_properties_as_jfrog_client_go_encodes(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.deploy("libs-dev", "g.bin", b"x")
    wanted = {"build.name": ["acme app"], "list": ["a,b", "c"], "plus": ["1+1"]}
    encoded = ";".join(
        urllib.parse.quote_plus(key)
        + "="
        + urllib.parse.quote_plus(",").join(
            urllib.parse.quote_plus(v.replace(",", "\\,")) for v in values
        )
        for key, values in sorted(wanted.items())
    )
    response = http.put(f"{emu.url}/api/storage/libs-dev/g.bin?properties={encoded}", timeout=10)
    assert response.status_code == 204
    assert props(emu, "libs-dev", "g.bin") == wanted


def _encode_properties(props: dict[str, list[str]]) -> str:
    """The recommended client rule: backslash-escape ``, \\ | = ;`` then percent-encode all."""

    def part(text: str) -> str:
        return urllib.parse.quote(re.sub(r"([,\\|=;])", r"\\\1", text), safe="")

    return ";".join(part(k) + "=" + ",".join(part(v) for v in vs) for k, vs in props.items())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    wanted=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9._:-]{0,12}", fullmatch=True),
        st.lists(
            st.text(alphabet=",\\|=;%+& aZ9é\"'*", min_size=1, max_size=8), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_property_value_round_trips(
    http: requests.Session, emu: ArtifactoryEmulator, wanted: dict[str, list[str]]
) -> None:
    if emu.file("libs-dev", "h.bin") is None:
        emu.deploy("libs-dev", "h.bin", b"x")
    url = f"{emu.url}/api/storage/libs-dev/h.bin"
    assert http.put(f"{url}?properties={_encode_properties(wanted)}", timeout=10).status_code == 204
    back = http.get(url + "?properties", timeout=10).json()["properties"]
    assert {key: back[key] for key in wanted} == wanted


def test_set_properties_refuses_bad_keys(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    emu.deploy("libs-dev", "k.bin", b"x")
    url = emu.url + "/api/storage/libs-dev/k.bin?properties="
    for bad in ("a%20b=1", "x*=1", "%5C%2C=1"):
        response = http.put(url + bad, timeout=10)
        assert response.status_code == 400, bad
        assert "forbidden" in message(response)
    empty = http.put(url + "=1", timeout=10)
    assert (empty.status_code, message(empty)) == (400, "Properties value cannot be empty.")
    assert http.put(url, timeout=10).status_code == 400
    assert props(emu, "libs-dev", "k.bin") == {}
    missing = http.put(emu.url + "/api/storage/libs-dev/none.bin?properties=a=1", timeout=10)
    assert missing.status_code == 404


def test_set_properties_on_a_folder_is_recursive_unless_told(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    url = emu.url + "/api/storage/libs-dev/org/acme?properties=env.promoted=QA"
    assert http.put(url + "&recursive=0", timeout=10).status_code == 204
    assert props(emu, "libs-dev", "org/acme") == {"env.promoted": ["QA"]}
    assert "env.promoted" not in props(emu, "libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar")
    assert http.put(url.replace("QA", "PROD"), timeout=10).status_code == 204
    assert props(emu, "libs-dev", "org/acme/app/1.4.2/app-1.4.2.pom")["env.promoted"] == ["PROD"]
    assert props(emu, "libs-dev", "org/acme/app")["env.promoted"] == ["PROD"]


def test_delete_properties(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    url = emu.url + "/api/storage/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar?properties="
    assert http.delete(url + "vcs.revision,build.number", timeout=10).status_code == 204
    assert props(emu, "libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar") == {
        "build.name": ["acme-app"]
    }
    none = http.delete(url, timeout=10)
    assert (none.status_code, message(none)) == (400, "Unspecified properties to delete.")
    assert (
        http.delete(emu.url + "/api/storage/libs-dev/x.bin?properties=a", timeout=10).status_code
        == 404
    )


def test_patch_metadata(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    url = emu.url + "/api/metadata/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    body = {
        "props": {"qa.status": "passed", "env.promoted": ["QA", "STAGING"], "vcs.revision": None}
    }
    assert http.patch(url, json=body, timeout=10).status_code == 204
    assert props(emu, "libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar") == {
        "build.name": ["acme-app"],
        "build.number": ["417"],
        "qa.status": ["passed"],
        "env.promoted": ["QA", "STAGING"],
    }
    no_props = http.patch(url, json={"stats": 1}, timeout=10)
    assert (no_props.status_code, message(no_props)) == (400, "props or stats fields required")
    missing = http.patch(emu.url + "/api/metadata/libs-dev/x.jar", json=body, timeout=10)
    assert missing.status_code == 400
    assert (
        message(missing)
        == "Failed to set properties on libs-dev:x.jar: Item libs-dev:x.jar does not exist"
    )
    emu.add_repo("remote", "remote")
    not_local = http.patch(emu.url + "/api/metadata/remote/x.jar", json=body, timeout=10)
    assert "is not a local repository" in message(not_local)


# -- download -------------------------------------------------------------------------------------


def test_download_headers_and_head(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    url = emu.url + "/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    response = http.get(url, timeout=10)
    assert response.content == JAR
    headers = response.headers
    assert headers["Content-Length"] == str(len(JAR))
    assert headers["X-Checksum-Sha256"] == sha256(JAR)
    assert headers["X-Checksum-Sha1"] == headers["ETag"] == sha1(JAR)
    assert headers["X-Checksum-Md5"] == hashlib.md5(JAR).hexdigest()
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["X-Artifactory-Filename"] == "app-1.4.2.jar"
    assert 'filename="app-1.4.2.jar"' in headers["Content-Disposition"]
    assert headers["Last-Modified"] == "Sun, 02 Mar 2025 07:15:31 GMT"
    head = http.head(url, timeout=10)
    assert (head.status_code, head.content, head.headers["Content-Length"]) == (
        200,
        b"",
        str(len(JAR)),
    )
    assert head.headers["X-Checksum-Sha256"] == sha256(JAR)
    info_head = http.head(
        emu.url + "/api/storage/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar", timeout=10
    )
    assert (info_head.status_code, info_head.content) == (200, b"")
    assert int(info_head.headers["Content-Length"]) > 0
    # A reset after complete headers: HEAD has no body, so the answer is whole, unless the
    # reset reaches the client before it read them (the kernel then drops what it had: a
    # race, not a fault of either side). The pooled connection is gone either way and the
    # next request opens a new one.
    emu.inject(Fault(method="HEAD", path="app-1.4.2.jar$", kind="reset"))
    try:
        assert http.head(url, timeout=10).status_code == 200
    except requests.ConnectionError as exc:
        assert "reset" in str(exc).lower()
    assert http.head(url, timeout=10).status_code == 200
    assert [e.fault for e in emu.requests if e.method == "HEAD"][-2:] == ["reset", None]


def test_range_requests(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    url = emu.url + "/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    size = len(JAR)
    cases = {
        "bytes=0-3": (0, 3),
        "bytes=5-": (5, size - 1),
        "bytes=-4": (size - 4, size - 1),
        "bytes=2-999": (2, size - 1),
    }
    for header, (start, end) in cases.items():
        part = http.get(url, headers={"Range": header}, timeout=10)
        assert part.status_code == 206, header
        assert part.content == JAR[start : end + 1]
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert part.headers["X-Checksum-Sha256"] == sha256(JAR)
    for header in (f"bytes={size}-", "bytes=-0", "bytes=9-3"):
        refused = http.get(url, headers={"Range": header}, timeout=10)
        assert refused.status_code == 416, header
        assert refused.headers["Content-Range"] == f"bytes */{size}"
    assert http.get(url, headers={"Range": "bytes=0-1,4-5"}, timeout=10).status_code == 200


def test_conditional_get(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    url = emu.url + "/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    same = http.get(url, headers={"If-None-Match": f'"{sha1(JAR)}"'}, timeout=10)
    assert (same.status_code, same.content) == (304, b"")
    assert http.get(url, headers={"If-None-Match": "other"}, timeout=10).status_code == 200
    later = http.get(
        url, headers={"If-Modified-Since": "Wed, 01 Jan 2031 00:00:00 GMT"}, timeout=10
    )
    assert later.status_code == 304


def test_checksum_sidecars_missing_items_and_folders(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    base = emu.url + "/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    assert http.get(base + ".sha256", timeout=10).text == sha256(JAR)
    assert http.get(base + ".sha1", timeout=10).text == sha1(JAR)
    missing = http.get(emu.url + "/libs-dev/nope.jar", timeout=10)
    assert (missing.status_code, message(missing)) == (404, "File not found.")
    listing = http.get(emu.url + "/libs-dev/org/acme/app/1.4.2/", timeout=10)
    assert listing.headers["Content-Type"] == "text/html" and "app-1.4.2.jar" in listing.text


def test_virtual_repository_resolves_reads(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    emu.add_repo("libs", "virtual", repositories=["libs-qa", "libs-dev"])
    assert http.get(emu.url + "/libs/copies/app.jar", timeout=10).content == JAR
    assert (
        http.get(emu.url + "/libs/org/acme/app/1.4.2/app-1.4.2.pom", timeout=10).content
        == b"<pom/>"
    )
    refused = http.put(emu.url + "/libs/new.bin", data=b"x", timeout=10)
    assert (refused.status_code, refused.headers["Allow"]) == (405, "GET")


def test_deploy_file_is_served_from_disk(
    http: requests.Session, emu: ArtifactoryEmulator, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
    big.write_bytes(block * 3 + b"tail")
    stored = emu.deploy_file("libs-dev", "big/big.bin", big)
    assert (stored.content, stored.size, stored.sha256) == (
        None,
        big.stat().st_size,
        sha256(big.read_bytes()),
    )
    response = http.get(emu.url + "/libs-dev/big/big.bin", timeout=10)
    assert response.content == big.read_bytes()
    assert response.headers["X-Checksum-Sha256"] == stored.sha256
    tail = http.get(emu.url + "/libs-dev/big/big.bin", headers={"Range": "bytes=-6"}, timeout=10)
    assert tail.content == block[-2:] + b"tail"


def test_keep_alive_reuses_one_connection(emu: ArtifactoryEmulator) -> None:
    emu.deploy("libs-dev", "a.bin", b"a" * 1000)
    conn = HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        seen = set()
        for path in (
            "/artifactory/libs-dev/a.bin",
            "/artifactory/api/storage/libs-dev/a.bin",
            "/artifactory/nope",
        ):
            conn.request("GET", path, headers=bearer())
            response = conn.getresponse()
            body = response.read()
            assert len(body) == int(response.headers["Content-Length"])
            assert response.version == 11
            seen.add(id(conn.sock))
        assert len(seen) == 1
    finally:
        conn.close()


def test_parallel_clients_are_served(lineage: ArtifactoryEmulator) -> None:
    emu = lineage

    def fetch(i: int) -> tuple[int, int]:
        with requests.Session() as session:
            session.headers.update(bearer())
            read = session.get(f"{emu.url}/api/build/acme-app/417", timeout=10)
            write = session.put(f"{emu.url}/libs-dev/par/{i}.bin", data=b"p", timeout=10)
            return read.status_code, write.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(fetch, range(64)))
    assert answers == [(200, 201)] * 64
    assert emu.count("PUT", r"^/libs-dev/par/") == 64
    assert len(get_children(emu, "libs-dev", "par")) == 64


def get_children(emu: ArtifactoryEmulator, repo: str, path: str) -> list[str]:
    with requests.Session() as session:
        info = session.get(
            f"{emu.url}/api/storage/{repo}/{path}", headers=bearer(), timeout=10
        ).json()
    return [child["uri"] for child in info["children"]]


# -- deploy, delete ---------------------------------------------------------------------------------


def test_deploy_with_checksums_and_matrix_properties(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    data = b"report contents"
    headers = {"X-Checksum-Sha1": sha1(data), "X-Checksum-Sha256": sha256(data)}
    url = (
        emu.url
        + "/libs-dev/tools/report-2.1.0.tar.gz;build.name=acme%20app;build.number=7;multi=a,b%5C,c"
    )
    response = http.put(url, data=data, headers=headers, timeout=10)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["Content-Type"].endswith("storage.ItemCreated+json")
    assert response.headers["Location"] == created["uri"] == created["downloadUri"]
    assert created["uri"] == f"{emu.url}/libs-dev/tools/report-2.1.0.tar.gz"
    assert (created["size"], created["path"], created["createdBy"]) == (
        str(len(data)),
        "/tools/report-2.1.0.tar.gz",
        "admin",
    )
    assert created["checksums"]["sha256"] == sha256(data) == response.headers["X-Checksum-Sha256"]
    assert created["originalChecksums"] == {"sha1": sha1(data), "sha256": sha256(data)}
    stored = emu.file("libs-dev", "tools/report-2.1.0.tar.gz")
    assert stored is not None and stored.data == data
    assert stored.properties == {
        "build.name": ["acme app"],
        "build.number": ["7"],
        "multi": ["a", "b,c"],
    }


def test_deploy_refuses_a_checksum_mismatch(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    response = http.put(
        emu.url + "/libs-dev/x.bin", data=b"x", headers={"X-Checksum-Sha1": "0" * 40}, timeout=10
    )
    assert response.status_code == 409
    assert f"received '{'0' * 40}' but actually was '{sha1(b'x')}'" in message(response)
    assert emu.file("libs-dev", "x.bin") is None
    generic = http.put(
        emu.url + "/libs-dev/y.bin", data=b"y", headers={"X-Checksum": sha256(b"y")}, timeout=10
    )
    assert generic.status_code == 201
    assert generic.json()["originalChecksums"] == {"sha256": sha256(b"y")}
    wrong = http.put(
        emu.url + "/libs-dev/z.bin", data=b"z", headers={"X-Checksum": "f" * 64}, timeout=10
    )
    assert wrong.status_code == 409


def test_deploy_by_checksum(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    url = emu.url + "/libs-prod/linked/app.jar"
    linked = http.put(
        url, headers={"X-Checksum-Deploy": "true", "X-Checksum-Sha256": sha256(JAR)}, timeout=10
    )
    assert linked.status_code == 201
    assert linked.json()["checksums"]["sha1"] == sha1(JAR)
    assert http.get(url, timeout=10).content == JAR
    unknown = http.put(
        url, headers={"X-Checksum-Deploy": "true", "X-Checksum-Sha1": "1" * 40}, timeout=10
    )
    assert unknown.status_code == 404
    no_sum = http.put(url, headers={"X-Checksum-Deploy": "true"}, timeout=10)
    assert (no_sum.status_code, message(no_sum)) == (400, "Checksum values not provided")


def test_deploy_chunked_body_folders_and_errors(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    chunked = http.put(
        emu.url + "/libs-dev/c/chunked.bin", data=iter([b"ab", b"cd", b"ef"]), timeout=10
    )
    assert chunked.status_code == 201
    assert stored(emu, "libs-dev", "c/chunked.bin").data == b"abcdef"
    folder = http.put(emu.url + "/libs-dev/empty/folder/", timeout=10)
    assert (folder.status_code, folder.json()["path"]) == (201, "/empty/folder/")
    assert get(http, emu, "/api/storage/libs-dev/empty/folder").json()["children"] == []
    assert http.put(emu.url + "/libs-dev/empty/folder", data=b"x", timeout=10).status_code == 409
    assert (
        http.put(emu.url + "/libs-dev/c/chunked.bin/under", data=b"x", timeout=10).status_code
        == 409
    )
    assert http.put(emu.url + "/no-such-repo/a.bin", data=b"x", timeout=10).status_code == 404
    bad_key = http.put(emu.url + "/libs-dev/m.bin;a%20b=1", data=b"x", timeout=10)
    assert bad_key.status_code == 400


def test_delete_item(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    assert (
        http.delete(emu.url + "/libs-dev/org/acme/app/1.4.2/app-1.4.2.pom", timeout=10).status_code
        == 204
    )
    assert emu.file("libs-dev", "org/acme/app/1.4.2/app-1.4.2.pom") is None
    assert http.delete(emu.url + "/libs-dev/org", timeout=10).status_code == 204
    assert get(http, emu, "/api/storage/libs-dev").json()["children"] == []
    assert aql(http, emu, 'items.find({"repo":"libs-dev"})').json()["results"] == []
    assert http.delete(emu.url + "/libs-dev/org", timeout=10).status_code == 404


# -- builds ------------------------------------------------------------------------------------------


def test_no_builds_is_a_404(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    response = get(http, emu, "/api/build")
    assert (response.status_code, message(response)) == (404, "No builds were found")
    runs = get(http, emu, "/api/build/acme")
    assert (runs.status_code, message(runs)) == (404, "No build was found for build name: acme")
    one = get(http, emu, "/api/build/acme/1")
    assert message(one) == "No build was found for build name: acme, build number: 1 "


def test_build_lists_runs_and_legacy_build_info(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    legacy = json.loads(
        (Path(__file__).parents[1] / "fixtures/buildinfo/legacy-vcsrevision.json").read_text()
    )
    emu.add_build(legacy)
    emu.add_build(build_info("acme/app", "2", "2025-03-02T10:10:00.000Z", JAR))
    emu.add_build(build_info("acme/app", "10", "2025-03-01T18:02:11.340+0300", JAR))
    builds = get(http, emu, "/api/build").json()
    assert builds["builds"] == [
        {"uri": "/acme-legacy", "lastStarted": "2014-09-30T09:00:19.893+0000"},
        {"uri": "/acme%2Fapp", "lastStarted": "2025-03-02T10:10:00.000+0000"},
    ]
    runs = get(http, emu, "/api/build/acme%2Fapp").json()
    assert runs["buildsNumbers"] == [
        {"uri": "/2", "started": "2025-03-02T10:10:00.000+0000"},
        {"uri": "/10", "started": "2025-03-01T15:02:11.340+0000"},
    ]
    info = get(http, emu, "/api/build/acme-legacy/58").json()
    assert info["uri"] == f"{emu.url}/api/build/acme-legacy/58"
    body = info["buildInfo"]
    assert body["number"] == 58 and body["vcsRevision"] == legacy["vcsRevision"]
    assert body["started"] == "2014-09-30T12:00:19.893+0300"
    assert body["durationMillis"] == 0
    assert "vcs" not in body
    assert emu.builds[("acme-legacy", "58")]["vcsUrl"] == legacy["vcsUrl"]


def test_runs_sharing_a_number(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    emu.add_build(build_info("app", "5", "2025-01-01T10:00:00.000+0000", JAR, url="first"))
    emu.add_build(build_info("app", "5", "2025-01-02T10:00:00.000+0000", JAR, url="second"))
    emu.add_build(build_info("app", "5", "2025-01-02T10:00:00.000+0000", JAR, url="second again"))
    assert [r["url"] for r in emu.build_runs("app", "5")] == ["first", "second again"]
    assert len(get(http, emu, "/api/build/app").json()["buildsNumbers"]) == 2
    assert get(http, emu, "/api/build/app/5").json()["buildInfo"]["url"] == "second again"
    first = get(http, emu, "/api/build/app/5", params={"started": "2025-01-01T10:00:00.000+0000"})
    assert first.json()["buildInfo"]["url"] == "first"
    assert (
        get(
            http, emu, "/api/build/app/5", params={"started": "2020-01-01T00:00:00.000Z"}
        ).status_code
        == 404
    )


def test_publish_build_info(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    doc = build_info("web", "1.0.0-rc+1", "2025-03-04T16:22:41.507+0000", JAR)
    body = json.dumps(doc).encode()
    response = http.put(
        emu.url + "/api/build", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["X-Checksum-Sha256"] == sha256(body)
    stored = emu.builds[("web", "1.0.0-rc+1")]
    assert stored["artifactoryPrincipal"] == "admin"
    number = urllib.parse.quote("1.0.0-rc+1", safe="")
    assert (
        get(http, emu, f"/api/build/web/{number}").json()["buildInfo"]["modules"] == doc["modules"]
    )
    latest = aql(
        http,
        emu,
        'items.find({"type":"file","repo":"artifactory-build-info","path":{"$match":"web"}}).sort({"$desc":["created"]}).limit(1)',
    ).json()["results"]
    assert latest[0]["name"].startswith("1.0.0-rc%2B1-") and latest[0]["name"].endswith(".json")
    for bad in (
        b"not json",
        b"[]",
        json.dumps({"name": ".hidden", "number": "1"}).encode(),
        json.dumps({"name": "x"}).encode(),
    ):
        assert http.put(emu.url + "/api/build", data=bad, timeout=10).status_code == 400, bad
    bad_time = json.dumps({"name": "x", "number": "1", "started": "yesterday"}).encode()
    assert http.put(emu.url + "/api/build", data=bad_time, timeout=10).status_code == 400


# -- promotion ----------------------------------------------------------------------------------------


def promote(
    http: requests.Session,
    emu: ArtifactoryEmulator,
    body: dict[str, Any],
    build: str = "acme-app/417",
) -> requests.Response:
    return http.post(f"{emu.url}/api/build/promote/{build}", json=body, timeout=10)


def test_promotion_dry_run_changes_nothing(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    response = promote(
        http,
        emu,
        {
            "status": "QA",
            "targetRepo": "libs-qa",
            "dryRun": True,
            "copy": True,
            "properties": {"env": ["QA"]},
        },
    )
    assert (response.status_code, response.json()) == (200, {"messages": []})
    assert emu.file("libs-qa", "org/acme/app/1.4.2/app-1.4.2.jar") is None
    assert "statuses" not in emu.builds[("acme-app", "417")]
    assert "env" not in props(emu, "libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar")


def test_promotion_copies_sets_properties_and_records_status(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    body = {
        "status": "QA",
        "comment": "smoke green",
        "ciUser": "jenkins",
        "timestamp": "2025-03-03T09:00:00.000+0000",
        "sourceRepo": "libs-dev",
        "targetRepo": "libs-staging",
        "copy": True,
        "properties": {"env.promoted": ["QA"]},
    }
    response = promote(http, emu, body)
    assert (response.status_code, response.json()) == (200, {"messages": []})
    copied = emu.file("libs-staging", "org/acme/app/1.4.2/app-1.4.2.jar")
    assert copied is not None and copied.data == JAR
    assert copied.properties["env.promoted"] == ["QA"] and copied.properties["build.number"] == [
        "417"
    ]
    assert emu.file("libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar") is not None
    assert emu.file("libs-staging", "copies/app.jar") is None
    assert emu.builds[("acme-app", "417")]["statuses"] == [
        {
            "status": "QA",
            "comment": "smoke green",
            "timestamp": "2025-03-03T09:00:00.000+0000",
            "timestampDate": 1740992400000,
            "user": "admin",
            "repository": "libs-staging",
            "ciUser": "jenkins",
        }
    ]
    shown = get(http, emu, "/api/build/acme-app/417").json()["buildInfo"]["statuses"]
    assert shown[0]["status"] == "QA"


def test_promotion_moves_and_status_only(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    assert promote(http, emu, {"targetRepo": "libs-prod"}).json() == {
        "messages": [
            {"level": "INFO", "message": "Skipping promotion status update: no status received."}
        ]
    }
    assert emu.file("libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar") is None
    assert emu.file("libs-prod", "org/acme/app/1.4.2/app-1.4.2.jar") is not None
    status_only = promote(http, emu, {"status": "PROD", "properties": {"env.promoted": "PROD"}})
    assert status_only.json() == {
        "messages": [
            {
                "level": "INFO",
                "message": "Skipping build item relocation: no target repository selected.",
            }
        ]
    }
    assert props(emu, "libs-prod", "org/acme/app/1.4.2/app-1.4.2.jar")["env.promoted"] == ["PROD"]
    assert emu.builds[("acme-app", "417")]["statuses"][0]["status"] == "PROD"


def test_promotion_failures(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    emu.add_build(
        build_info("acme-app", "418", "2025-03-03T10:10:00.000+0300", JAR, b"never deployed")
    )
    aborted = promote(http, emu, {"status": "QA", "targetRepo": "libs-qa"}, "acme-app/418")
    assert aborted.status_code == 400
    assert (
        message(aborted)
        == "Unable to find artifacts of build 'acme-app' #418 from artifactory-build-info repo: aborting promotion."
    )
    assert emu.file("libs-qa", "org/acme/app/1.4.2/app-1.4.2.jar") is None
    lenient = promote(
        http,
        emu,
        {"status": "QA", "targetRepo": "libs-qa", "copy": True, "failFast": False},
        "acme-app/418",
    )
    assert lenient.status_code == 200
    levels = [m["level"] for m in lenient.json()["messages"]]
    assert levels == ["WARNING", "INFO"]
    assert "a1.jar" in lenient.json()["messages"][0]["message"]
    assert "statuses" not in emu.builds[("acme-app", "418")]
    unknown = promote(http, emu, {"status": "QA"}, "acme-app/999")
    assert (unknown.status_code, message(unknown)) == (
        404,
        "Cannot find a build by the name: acme-app, number: 999, repo: artifactory-build-info",
    )
    target = promote(http, emu, {"status": "QA", "targetRepo": "nowhere"})
    assert (target.status_code, message(target)) == (
        404,
        "Cannot find target repository by the key 'nowhere'",
    )
    bad_time = promote(http, emu, {"status": "QA", "timestamp": "soon"})
    assert "invalid\\unparsable timestamp soon." in bad_time.json()["messages"][-1]["message"]
    reader = http.post(
        f"{emu.url}/api/build/promote/acme-app/417",
        json={"status": "X"},
        headers=bearer(ARTIFACTORY_USERS["reader"]),
        timeout=10,
    )
    assert reader.status_code == 403
    emu.features(build_promotion=False)
    assert promote(http, emu, {"status": "QA"}).status_code == 400


# -- copy and move -----------------------------------------------------------------------------------


def test_copy_and_move_files(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    src = "libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    dry = http.post(f"{emu.url}/api/copy/{src}?to=/libs-qa/app.jar&dry=1", timeout=10)
    assert dry.json()["messages"][0]["message"].startswith("Dry run for copying libs-dev:org/acme")
    assert emu.file("libs-qa", "app.jar") is None
    copied = http.post(f"{emu.url}/api/copy/{src}?to=/libs-qa/app.jar", timeout=10)
    assert copied.status_code == 200
    assert copied.json() == {
        "messages": [
            {
                "level": "INFO",
                "message": "copying libs-dev:org/acme/app/1.4.2/app-1.4.2.jar to libs-qa:app.jar completed successfully, 1 artifacts and 0 folders were copied",
            }
        ]
    }
    assert props(emu, "libs-qa", "app.jar") == props(
        emu, "libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar"
    )
    into_folder = http.post(f"{emu.url}/api/move/{src}?to=/libs-qa/copies", timeout=10)
    assert into_folder.json()["messages"][0]["message"].endswith(
        "1 artifacts and 0 folders were moved"
    )
    assert emu.file("libs-qa", "copies/app-1.4.2.jar") is not None
    assert emu.file("libs-dev", "org/acme/app/1.4.2/app-1.4.2.jar") is None


def test_copy_move_folders_and_errors(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    moved = http.post(f"{emu.url}/api/move/libs-dev/org/acme?to=/libs-prod/released", timeout=10)
    assert moved.status_code == 200
    assert "2 artifacts and 3 folders were moved" in moved.json()["messages"][0]["message"]
    assert emu.file("libs-prod", "released/app/1.4.2/app-1.4.2.pom") is not None
    assert get(http, emu, "/api/storage/libs-dev/org").json()["children"] == []
    same = http.post(
        f"{emu.url}/api/copy/libs-qa/copies/app.jar?to=/libs-qa/copies/app.jar", timeout=10
    )
    assert same.status_code == 400
    assert same.json()["messages"][0] == {
        "level": "ERROR",
        "message": "Skipping copy libs-qa:copies/app.jar: Destination and source are the same",
    }
    assert (
        http.post(f"{emu.url}/api/copy/libs-qa/none.jar?to=/libs-prod/x", timeout=10).status_code
        == 404
    )
    assert (
        http.post(
            f"{emu.url}/api/copy/libs-qa/copies/app.jar?to=/nowhere/x", timeout=10
        ).status_code
        == 404
    )
    assert http.post(f"{emu.url}/api/copy/libs-qa/copies/app.jar", timeout=10).status_code == 400
    reader = http.post(
        f"{emu.url}/api/copy/libs-qa/copies/app.jar?to=/libs-prod/x",
        headers=bearer(ARTIFACTORY_USERS["reader"]),
        timeout=10,
    )
    assert reader.status_code == 403 and reader.json()["messages"][0]["level"] == "ERROR"
    emu.features(copy_move=False)
    assert (
        http.post(
            f"{emu.url}/api/copy/libs-qa/copies/app.jar?to=/libs-prod/x", timeout=10
        ).status_code
        == 400
    )


# -- AQL --------------------------------------------------------------------------------------------


def results(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def test_aql_lineage_queries_of_the_reference(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    emu.add_build(
        {
            **build_info("consumer", "1", "2025-03-05T10:00:00.000+0000"),
            "modules": [
                {
                    "id": "c",
                    "dependencies": [
                        {"id": "acme:app:1.4.2", "sha1": sha1(JAR), "scopes": ["compile"]}
                    ],
                }
            ],
        }
    )
    by_sha = results(
        aql(
            http,
            emu,
            f'items.find({{"sha256":"{sha256(JAR)}"}}).include("repo","path","name","actual_sha1","actual_md5","sha256","size","created","property")',
        )
    )
    assert [(r["repo"], r["path"], r["name"]) for r in by_sha] == [
        ("libs-dev", "org/acme/app/1.4.2", "app-1.4.2.jar"),
        ("libs-qa", "copies", "app.jar"),
    ]
    first = by_sha[0]
    assert first["size"] == len(JAR) and isinstance(first["size"], int)
    assert first["created"] == "2025-03-02T07:15:31.204Z"
    assert {"key": "vcs.revision", "value": COMMIT} in first["properties"]
    assert "properties" not in by_sha[1]
    produced = results(
        aql(
            http,
            emu,
            'items.find({"$or":[{"$and":[{"artifact.module.build.name":"acme-app","artifact.module.build.number":"417"}]}]}).include("name","repo","path","actual_md5","actual_sha1","sha256","size","type","modified","created","property")',
        )
    )
    assert {(r["repo"], r["name"]) for r in produced} == {
        ("libs-dev", "app-1.4.2.jar"),
        ("libs-qa", "app.jar"),
    }
    assert (
        results(
            aql(
                http,
                emu,
                'items.find({"artifact.module.build.name":"acme-app","artifact.module.build.number":"418"})',
            )
        )
        == []
    )
    consumed = results(
        aql(
            http,
            emu,
            'items.find({"$or":[{"$and":[{"dependency.module.build.name":"consumer","dependency.module.build.number":"1"}]}]}).include("name","repo","path","actual_sha1","sha256")',
        )
    )
    assert len(consumed) == 2
    by_commit = results(
        aql(
            http,
            emu,
            f'items.find({{"@vcs.revision":"{COMMIT}"}}).include("repo","path","name","sha256","property")',
        )
    )
    assert [r["name"] for r in by_commit] == ["app-1.4.2.jar"]
    containing = results(
        aql(
            http,
            emu,
            f'builds.find({{"module.artifact.item.sha256":"{sha256(JAR)}"}}).include("name","number","started","repo")',
        )
    )
    assert containing == [
        {
            "build.name": "acme-app",
            "build.number": "417",
            "build.started": "2025-03-02T07:10:00.000Z",
            "build.repo": "artifactory-build-info",
        }
    ]
    latest = results(
        aql(
            http,
            emu,
            'items.find({"type":"file","repo":"artifactory-build-info","path":{"$match":"acme-app"}}).sort({"$desc":["created"]}).limit(1)',
        )
    )
    assert latest[0]["name"] == "417-1740899400000.json"
    assert set(latest[0]) == {
        "repo",
        "path",
        "name",
        "type",
        "size",
        "created",
        "created_by",
        "modified",
        "modified_by",
        "updated",
    }


def test_aql_comparison_operators(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    for name, size, when in (
        ("a.jar", 10, "2025-01-01T00:00:00.000Z"),
        ("b.jar", 20, "2025-02-01T00:00:00.000Z"),
        ("c.txt", 30, "2025-03-01T00:00:00.000Z"),
    ):
        emu.deploy("libs-dev", f"d/{name}", b"x" * size, {"tier": name[0]}, created=when)

    def names(criteria: str) -> list[str]:
        return [r["name"] for r in results(aql(http, emu, f"items.find({criteria})"))]

    assert names('{"name":{"$match":"*.jar"}}') == ["a.jar", "b.jar"]
    assert names('{"name":{"$match":"?.txt"}}') == ["c.txt"]
    assert names('{"name":{"$nmatch":"*.jar"}}') == ["c.txt"]
    assert names('{"name":{"$ne":"a.jar"},"repo":"libs-dev"}') == ["b.jar", "c.txt"]
    assert names('{"size":{"$gt":10}}') == ["b.jar", "c.txt"]
    assert names('{"size":{"$gte":"20","$lt":30}}') == ["b.jar"]
    assert names('{"size":{"$lte":10}}') == ["a.jar"]
    assert names('{"created":{"$gt":"2025-01-15"}}') == ["b.jar", "c.txt"]
    assert names('{"created":{"$before":"1d"}}') == ["a.jar", "b.jar", "c.txt"]
    assert names('{"created":{"$last":"1d"}}') == []
    assert names('{"$or":[{"name":"a.jar"},{"@tier":"c"}]}') == ["a.jar", "c.txt"]
    assert names('{"$and":[{"name":{"$match":"*.jar"}},{"@tier":{"$ne":"a"}}]}') == ["b.jar"]
    assert names('{"@*":"b"}') == ["b.jar"]
    assert names('{"property.key":"tier","property.value":"c"}') == ["c.txt"]
    assert names('{"path":"d","name":"nothing"}') == []
    assert names('{"repo":"no-such-repo"}') == []


def test_aql_property_instances_and_types(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    emu.deploy("libs-dev", "m.bin", b"m", {"k1": "v2", "k2": "v1"})

    def names(criteria: str) -> list[str]:
        return [r["name"] for r in results(aql(http, emu, f"items.find({criteria})"))]

    assert names('{"property.key":"k1","property.value":"v1"}') == ["m.bin"]
    assert names('{"$msp":[{"property.key":"k1","property.value":"v1"}]}') == []
    assert names('{"$msp":[{"@k1":"v2"}]}') == ["m.bin"]
    folders = results(
        aql(
            http,
            emu,
            'items.find({"type":"folder","repo":"libs-dev"}).include("path","name","type")',
        )
    )
    assert folders[:2] == [
        {"path": ".", "name": "org", "type": "folder"},
        {"path": "org", "name": "acme", "type": "folder"},
    ]
    both = results(aql(http, emu, 'items.find({"type":"any","repo":"libs-qa"})'))
    assert [(r["name"], r["type"]) for r in both] == [
        ("app.jar", "file"),
        ("copies", "folder"),
    ] or [(r["name"], r["type"]) for r in both] == [("copies", "folder"), ("app.jar", "file")]
    root = results(aql(http, emu, 'items.find({"name":"m.bin"}).include("path","depth")'))
    assert root == [{"path": ".", "depth": 1}]
    keys = results(aql(http, emu, 'items.find({"name":"m.bin"}).include("name","property.key")'))
    assert keys == [{"name": "m.bin", "properties": [{"key": "k1"}, {"key": "k2"}]}]
    one_key = results(aql(http, emu, 'items.find({"name":"m.bin"}).include("name","@k2")'))
    assert one_key == [{"name": "m.bin", "properties": [{"key": "k2", "value": "v1"}]}]


def test_aql_sort_offset_limit_and_range(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    for i in range(7):
        emu.deploy(
            "libs-dev", f"p/f{i}.bin", b"x" * (7 - i), {"build.name": "app", "n": [str(i), "x"]}
        )
    base = 'items.find({"@build.name":"app"}).include("name","size")'
    page = aql(http, emu, base + '.sort({"$asc":["size"]}).offset(2).limit(3)').json()
    assert [r["name"] for r in page["results"]] == ["f4.bin", "f3.bin", "f2.bin"]
    assert page["range"] == {"start_pos": 2, "end_pos": 5, "total": 3, "limit": 3}
    last = aql(http, emu, base + '.sort({"$desc":["name"]}).offset(6).limit(3)').json()
    assert last["range"] == {"start_pos": 6, "end_pos": 7, "total": 1, "limit": 3}
    assert aql(http, emu, base).json()["range"] == {"start_pos": 0, "end_pos": 7, "total": 7}
    assert aql(http, emu, base + ".distinct(false)").status_code == 200
    rows = aql(
        http, emu, 'items.find({"@build.name":"app"}).include("name","property").limit(4)'
    ).json()["results"]
    assert len(rows) == 2, "paging with properties counts item x property rows"
    assert len(rows[0]["properties"]) == 3 and len(rows[1]["properties"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        'items.find({"name":"a"',
        'items.find({"name":"a"}).limit(1).sort({"$asc":["name"]})',
        'items.find({"name":"a"}) trailing',
        'items.find({"nosuchfield":"a"})',
        'items.find({"name":{"$regex":"a"}})',
        'items.find({"size":{"$gt":"big"}})',
        'items.find({"created":{"$gt":"not a date"}})',
        'items.find({"size":{"$match":"1*"}})',
        'items.find({"name":["a","b"]})',
        'items.find({"$or":"a"})',
        'items.find({"name":"a"}).include("nosuchfield")',
        'items.find({"name":"a"}).sort({"$up":["name"]})',
        'items.find({"name":"a"}).limit(-1)',
        'artifacts.find({"name":"a"})',
        'items.find({"name":NaN})',
        "items.find(name)",
        "",
    ],
)
def test_aql_syntax_errors_are_400(
    http: requests.Session, emu: ArtifactoryEmulator, query: str
) -> None:
    response = aql(http, emu, query)
    assert response.status_code == 400
    assert message(response).startswith(
        f"Failed to parse query: {query}, it looks like there is syntax error near the following sub-query: "
    )


def test_aql_values_are_literals_never_criteria(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    tricky = 'x"}).include("*'
    emu.deploy("libs-dev", "safe/normal.jar", b"1", {"build.name": "app"})
    emu.deploy("libs-prod", "secret/prod.jar", b"2", {"build.name": tricky})
    emu.deploy("libs-dev", "safe/star*.jar", b"3", {"build.name": "*"})

    def find(value: str) -> list[str]:
        query = f'items.find({{{json.dumps("@build.name")}:{json.dumps(value)}}}).include("name")'
        return [r["name"] for r in results(aql(http, emu, query))]

    assert find(tricky) == ["prod.jar"]
    assert find("*") == ["star*.jar"]
    assert find('app","repo":{"$ne":"x') == []
    assert find('") or 1=1 --') == []
    for smuggled in (
        'app"},{"repo":"libs-prod',
        'app"}).include("property',
        'app"}) .items.find({"repo":"libs-prod',
    ):
        naive = f'items.find({{"@build.name":"{smuggled}"}})'
        assert aql(http, emu, naive).status_code == 400, naive
    duplicate = 'items.find({"repo":"libs-dev","repo":"libs-prod"})'
    assert results(aql(http, emu, duplicate)) == []


def test_aql_needs_a_user_and_can_be_limited(emu: ArtifactoryEmulator) -> None:
    query = 'items.find({"name":"x"})'
    anonymous = requests.post(emu.url + "/api/search/aql", data=query, timeout=10)
    assert anonymous.status_code == 401
    emu.anonymous_read = True
    anonymous = requests.post(emu.url + "/api/search/aql", data=query, timeout=10)
    assert (anonymous.status_code, message(anonymous)) == (
        403,
        "Only non-anonymous users are allowed to access AQL queries",
    )
    with requests.Session() as http:
        http.headers.update(bearer())
        emu.aql_max_chars = 10
        assert aql(http, emu, query).status_code == 400
        emu.aql_max_chars = None
        emu.features(aql=False)
        assert aql(http, emu, query).status_code == 404


def test_aql_builds_domain(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    promote(http, emu, {"status": "QA", "comment": "ok"})
    emu.add_build(build_info("acme-app", "416", "2025-03-01T10:00:00.000+0000", b"older"))
    names = results(
        aql(
            http,
            emu,
            'builds.find({"name":"acme-app"}).include("name","number").sort({"$asc":["number"]})',
        )
    )
    assert names == [
        {"build.name": "acme-app", "build.number": "416"},
        {"build.name": "acme-app", "build.number": "417"},
    ]
    qa = results(aql(http, emu, 'builds.find({"promotion.status":"QA"}).include("number")'))
    assert qa == [{"build.number": "417"}]
    by_artifact = results(
        aql(http, emu, f'builds.find({{"module.artifact.sha1":"{sha1(b"older")}"}})')
    )
    assert [r["build.number"] for r in by_artifact] == ["416"]
    assert aql(http, emu, 'builds.find({"module.nonsense":"x"})').status_code == 400


# -- checksum search ----------------------------------------------------------------------------------


def test_checksum_search(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    hits = get(http, emu, f"/api/search/checksum?sha256={sha256(JAR)}")
    assert hits.headers["Content-Type"].endswith("search.ChecksumSearchResult+json")
    assert hits.json() == {
        "results": [
            {"uri": f"{emu.url}/api/storage/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"},
            {"uri": f"{emu.url}/api/storage/libs-qa/copies/app.jar"},
        ]
    }
    only_qa = get(http, emu, f"/api/search/checksum?sha1={sha1(JAR)}&repos=libs-qa").json()[
        "results"
    ]
    assert len(only_qa) == 1
    detailed = get(
        http,
        emu,
        f"/api/search/checksum?md5={hashlib.md5(JAR).hexdigest()}",
        headers={"X-Result-Detail": "info, properties"},
    ).json()["results"]
    assert detailed[0]["size"] == str(len(JAR)) and detailed[0]["properties"]["build.number"] == [
        "417"
    ]
    assert "properties" not in detailed[1]
    assert get(http, emu, f"/api/search/checksum?sha256={'0' * 64}").json() == {"results": []}
    assert get(http, emu, "/api/search/checksum?sha256=xyz").status_code == 400
    assert get(http, emu, "/api/search/checksum").status_code == 400
    assert get(http, emu, f"/api/search/checksum?sha1={sha1(JAR)}&md5=x").status_code == 400


# -- auth ---------------------------------------------------------------------------------------------


def test_every_auth_scheme_is_accepted(emu: ArtifactoryEmulator) -> None:
    url = emu.url + "/api/system/version"
    for headers in (
        bearer(),
        basic("admin", ARTIFACTORY_TOKEN),
        basic("deployer", ARTIFACTORY_USERS["deployer"]),
        {"X-JFrog-Art-Api": ARTIFACTORY_TOKEN},
    ):
        assert requests.get(url, headers=headers, timeout=10).status_code == 200, headers
    assert [entry.user for entry in emu.requests] == ["admin", "admin", "deployer", "admin"]


def test_missing_and_bad_credentials_are_401_with_realm(emu: ArtifactoryEmulator) -> None:
    url = emu.url + "/api/storage/libs-dev"
    none = requests.get(url, timeout=10)
    assert (none.status_code, message(none)) == (401, "Authentication is required")
    assert none.headers["WWW-Authenticate"] == 'Basic realm="Artifactory Realm"'
    for headers in (
        bearer("wrong"),
        basic("deployer", ARTIFACTORY_TOKEN),
        basic("admin", "wrong"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Digest x"},
        {"X-JFrog-Art-Api": "wrong"},
    ):
        bad = requests.get(url, headers=headers, timeout=10)
        assert (bad.status_code, message(bad)) == (401, "Bad Credentials"), headers
        assert "WWW-Authenticate" in bad.headers


def test_expired_token(emu: ArtifactoryEmulator) -> None:
    emu.expire_token()
    response = requests.get(emu.url + "/api/system/version", headers=bearer(), timeout=10)
    assert (response.status_code, message(response)) == (401, "Token is expired")
    still = requests.get(
        emu.url + "/api/system/version", headers=bearer(ARTIFACTORY_USERS["deployer"]), timeout=10
    )
    assert still.status_code == 200


def test_read_only_user_reads_but_cannot_write(emu: ArtifactoryEmulator) -> None:
    emu.deploy("libs-dev", "r.bin", b"r")
    headers = bearer(ARTIFACTORY_USERS["reader"])
    assert requests.get(emu.url + "/libs-dev/r.bin", headers=headers, timeout=10).content == b"r"
    assert (
        requests.post(
            emu.url + "/api/search/aql",
            data='items.find({"name":"r.bin"})',
            headers=headers,
            timeout=10,
        ).status_code
        == 200
    )
    writes = [
        ("PUT", "/libs-dev/new.bin"),
        ("DELETE", "/libs-dev/r.bin"),
        ("PUT", "/api/storage/libs-dev/r.bin?properties=a=1"),
        ("DELETE", "/api/storage/libs-dev/r.bin?properties=a"),
        ("PATCH", "/api/metadata/libs-dev/r.bin"),
        ("PUT", "/api/build"),
    ]
    for method, path in writes:
        response = requests.request(method, emu.url + path, data=b"{}", headers=headers, timeout=10)
        assert response.status_code == 403, (method, path)
        assert response.json()["errors"][0]["status"] == 403
    assert emu.file("libs-dev", "r.bin") is not None and emu.file("libs-dev", "new.bin") is None


def test_anonymous_reads_when_allowed(emu: ArtifactoryEmulator) -> None:
    emu.deploy("libs-dev", "pub.bin", b"p")
    assert requests.get(emu.url + "/libs-dev/pub.bin", timeout=10).status_code == 401
    emu.anonymous_read = True
    assert requests.get(emu.url + "/libs-dev/pub.bin", timeout=10).content == b"p"
    assert requests.put(emu.url + "/libs-dev/anon.bin", data=b"x", timeout=10).status_code == 401


# -- environments, lifecycle ---------------------------------------------------------------------------


def test_environments_and_lifecycle(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    url = emu.base_url + "/access/api/v1/environments"
    assert http.get(url, timeout=10).status_code == 404
    emu.set_environments(["DEV", "QA", "PROD"])
    assert http.get(url, timeout=10).json() == [{"name": "DEV"}, {"name": "QA"}, {"name": "PROD"}]
    assert requests.get(url, timeout=10).status_code == 401
    names = emu.base_url + "/lifecycle/api/v2/release_bundle/names"
    assert http.get(names, timeout=10).status_code == 404
    emu.features(rlm=True)
    assert http.get(names, timeout=10).json() == {"release_bundles": []}
    records = http.get(
        emu.base_url + "/lifecycle/api/v2/release_bundle/records/acme", timeout=10
    ).json()
    assert records == {"release_bundles": [], "total": 0, "limit": 1000, "offset": 0}


# -- faults --------------------------------------------------------------------------------------------


def test_status_fault_with_retry_after_then_normal(
    http: requests.Session, lineage: ArtifactoryEmulator
) -> None:
    emu = lineage
    emu.inject(
        Fault(
            method="GET",
            path=r"^/libs-dev/",
            kind="status",
            status=503,
            headers={"Retry-After": "1"},
            times=2,
        )
    )
    url = emu.url + "/libs-dev/org/acme/app/1.4.2/app-1.4.2.jar"
    for _ in range(2):
        failed = http.get(url, timeout=10)
        assert (failed.status_code, failed.headers["Retry-After"]) == (503, "1")
        assert failed.json() == {"errors": [{"status": 503, "message": "Service Unavailable"}]}
    assert http.get(emu.url + "/api/storage/libs-dev/org", timeout=10).status_code == 200
    assert http.get(url, timeout=10).content == JAR
    assert emu.count("GET", r"^/libs-dev/") == 3
    assert [e.fault for e in emu.requests if e.path.startswith("/libs-dev/")] == [
        "status",
        "status",
        None,
    ]


def test_html_fault_is_a_proxy_page(http: requests.Session, emu: ArtifactoryEmulator) -> None:
    emu.inject(Fault(path="/api/build", kind="html", status=502))
    response = get(http, emu, "/api/build")
    assert (response.status_code, response.headers["Content-Type"]) == (502, "text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text
    with pytest.raises(ValueError):
        response.json()


def test_reset_and_short_body_faults(
    http: requests.Session, emu: ArtifactoryEmulator, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 1024
    emu.deploy("libs-dev", "mem.bin", data)
    source = tmp_path / "disk.bin"
    source.write_bytes(data)
    emu.deploy_file("libs-dev", "disk.bin", source)
    for name in ("mem.bin", "disk.bin"):
        for kind in ("reset", "short"):
            emu.inject(Fault(method="GET", path=f"/libs-dev/{name}$", kind=kind, after=1000))
            received = bytearray()
            with (
                pytest.raises(
                    (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
                ),
                http.get(f"{emu.url}/libs-dev/{name}", stream=True, timeout=10) as response,
            ):
                assert response.headers["Content-Length"] == str(len(data))
                for chunk in response.iter_content(256):
                    received += chunk
            assert len(received) <= 1000 and bytes(received) == data[: len(received)]
        # On the wire: a short body is exactly `after` bytes and a clean end of stream.
        emu.inject(Fault(method="GET", path=f"/libs-dev/{name}$", kind="short", after=1000))
        conn = HTTPConnection("127.0.0.1", emu.port, timeout=10)
        conn.request("GET", f"/artifactory/libs-dev/{name}", headers=bearer())
        with pytest.raises(IncompleteRead) as short:
            conn.getresponse().read()
        conn.close()
        assert short.value.partial == data[:1000]
    assert http.get(f"{emu.url}/libs-dev/disk.bin", timeout=10).content == data


def test_slow_fault_passes_the_client_timeout(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.inject(Fault(path="/api/system/ping", kind="slow", delay=0.6))
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(emu.url + "/api/system/ping", timeout=0.15)
    assert http.get(emu.url + "/api/system/ping", timeout=5).text == "OK"


def test_truncated_and_garbage_json(http: requests.Session, lineage: ArtifactoryEmulator) -> None:
    emu = lineage
    emu.inject(Fault(method="GET", path="^/api/build/acme-app/417$", kind="truncated-json"))
    truncated = get(http, emu, "/api/build/acme-app/417")
    assert truncated.status_code == 200 and len(truncated.content) == int(
        truncated.headers["Content-Length"]
    )
    with pytest.raises(ValueError):
        truncated.json()
    assert get(http, emu, "/api/build/acme-app/417").json()["buildInfo"]["name"] == "acme-app"
    emu.inject(Fault(method="POST", path="/api/search/aql", kind="garbage-json"))
    garbage = aql(http, emu, 'items.find({"name":"x"})')
    assert (garbage.status_code, garbage.headers["Content-Type"]) == (200, "application/json")
    with pytest.raises(ValueError):
        garbage.json()


def test_committed_fault_writes_then_fails(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.inject(Fault(method="PUT", path="^/libs-dev/", kind="status", status=502, commit=True))
    emu.inject(Fault(method="PUT", path="^/libs-qa/", kind="status", status=502))
    assert http.put(emu.url + "/libs-dev/w.bin", data=b"w", timeout=10).status_code == 502
    assert http.put(emu.url + "/libs-qa/w.bin", data=b"w", timeout=10).status_code == 502
    assert emu.file("libs-dev", "w.bin") is not None
    assert emu.file("libs-qa", "w.bin") is None


def test_fault_matching_times_and_clearing(
    http: requests.Session, emu: ArtifactoryEmulator
) -> None:
    emu.inject(Fault(method="POST", path="/api/system/ping", kind="status", status=500, times=None))
    emu.inject(Fault(method=None, path="/api/system/ping", kind="status", status=429, times=None))
    assert [get(http, emu, "/api/system/ping").status_code for _ in range(3)] == [429, 429, 429]
    emu.clear_faults()
    assert get(http, emu, "/api/system/ping").status_code == 200
    emu.reset_log()
    assert emu.requests == []
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(kind="explode")


def test_emulator_errors_are_500_and_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(emu: ArtifactoryEmulator, request: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(artifactory_api, "handle", broken)
    with ArtifactoryEmulator() as emu:
        response = requests.get(emu.url + "/api/system/ping", timeout=10)
        assert (response.status_code, message(response)) == (500, "Emulator error (see emu.errors)")
        assert "RuntimeError: boom" in emu.errors[0]


# -- TLS -----------------------------------------------------------------------------------------------


def test_tls_with_the_ca_bundle(artifactory_tls: tuple[ArtifactoryEmulator, Path]) -> None:
    emu, bundle = artifactory_tls
    assert emu.url.startswith("https://127.0.0.1:")
    emu.deploy("libs-dev", "t.bin", b"tls" * 1000)
    with requests.Session() as session:
        # Per request: requests lets REQUESTS_CA_BUNDLE override a Session's own ``verify``.
        session.headers.update(bearer())
        download = session.get(emu.url + "/libs-dev/t.bin", verify=str(bundle), timeout=10)
        assert download.content == b"tls" * 1000
        by_name = session.get(
            f"https://localhost:{emu.port}/artifactory/api/system/ping",
            verify=str(bundle),
            timeout=10,
        )
        assert by_name.text == "OK"


def test_tls_without_the_ca_fails_and_the_server_survives(
    artifactory_tls: tuple[ArtifactoryEmulator, Path],
) -> None:
    emu, bundle = artifactory_tls
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emu.url + "/api/system/ping", timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(emu.url.replace("https://", "http://") + "/api/system/ping", timeout=10)
    assert requests.get(emu.url + "/api/system/ping", verify=str(bundle), timeout=10).text == "OK"
