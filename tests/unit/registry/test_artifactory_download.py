"""Downloads from the Artifactory emulator: streamed, hashed in one pass, checked against the
X-Checksum headers and the expected digests, resumed after a reset or a short body, atomic,
cancellable; the content-addressed cache; sidecars."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from relman.errors import Cancelled, UsageError, VerificationError
from relman.model import CancelToken
from relman.registry import download
from relman.registry.artifactory import ArtifactoryRegistry
from relman.registry.base import NotFound
from relman.registry.http import ConnectionFailed
from tests.emulators.artifactory import ArtifactoryEmulator, Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN

DATA = os.urandom(3 * (1 << 20) + 12345)
PATH = "app/1/app.bin"


def digests(data: bytes) -> dict[str, str]:
    return {name: hashlib.new(name, data).hexdigest() for name in ("sha256", "sha1", "md5")}


@pytest.fixture
def reg(artifactory: ArtifactoryEmulator) -> ArtifactoryRegistry:
    artifactory.deploy("libs-dev", PATH, DATA)
    registry = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, attempts=1)
    yield registry
    registry.close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_a_download_is_hashed_on_the_way(reg: ArtifactoryRegistry, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = reg.download(
        "libs-dev", PATH, tmp_path / "app.bin", progress=lambda d, t: seen.append((d, t))
    )
    assert result.as_dict() == digests(DATA) and result.size == len(DATA)
    assert (tmp_path / "app.bin").read_bytes() == DATA
    assert seen[-1] == (len(DATA), len(DATA)) and len(seen) >= 3
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["reset", "short"])
def test_a_body_cut_short_is_resumed_with_a_range(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path: Path, kind: str
) -> None:
    artifactory.inject(Fault(method="GET", path=f"^/libs-dev/{PATH}$", kind=kind, after=1 << 20))
    result = reg.download("libs-dev", PATH, tmp_path / "app.bin")
    assert result.sha256 == digests(DATA)["sha256"]
    assert (tmp_path / "app.bin").read_bytes() == DATA
    statuses = [r.status for r in artifactory.requests if r.path == f"/libs-dev/{PATH}"]
    if kind == "short":
        assert statuses == [200, 206]  # the second request asked for the rest only
    else:
        # A TCP reset may discard what was still in the receive buffer: when nothing was
        # kept the download starts over, else it resumes.
        assert statuses in ([200, 206], [200, 200])


def test_a_download_that_keeps_failing_leaves_nothing(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    dest = tmp_path / "app.bin"
    dest.write_bytes(b"the old file")
    artifactory.inject(
        Fault(method="GET", path=f"^/libs-dev/{PATH}$", kind="reset", after=1000, times=None)
    )
    with pytest.raises(
        ConnectionFailed, match=r"app.bin: cut short after \d+ of \d+ bytes .* after 4 attempts"
    ):
        reg.download("libs-dev", PATH, dest)
    assert dest.read_bytes() == b"the old file" and leftovers(tmp_path) == []


def test_bytes_that_differ_from_the_expected_digest_are_not_saved(
    reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    dest = tmp_path / "app.bin"
    with pytest.raises(VerificationError, match="but 00+ was expected; nothing was saved"):
        reg.download("libs-dev", PATH, dest, expected={"sha256": "0" * 64})
    assert not dest.exists() and leftovers(tmp_path) == []
    good = reg.download(
        "libs-dev", PATH, dest, expected={"sha256": digests(DATA)["sha256"].upper()}
    )
    assert good.size == len(DATA)


def test_bytes_that_differ_from_the_server_headers_are_not_saved(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    artifactory.file("libs-dev", PATH).content = DATA[:-1] + b"!"  # rotted behind the server
    with pytest.raises(VerificationError, match="X-Checksum-Sha256 header says"):
        reg.download("libs-dev", PATH, tmp_path / "app.bin")
    assert not (tmp_path / "app.bin").exists()


def test_a_cancelled_download_leaves_nothing(reg: ArtifactoryRegistry, tmp_path: Path) -> None:
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done >= 1 << 20:
            token.cancel()

    with pytest.raises(Cancelled):
        reg.download("libs-dev", PATH, tmp_path / "app.bin", progress=progress, cancel=token)
    assert not (tmp_path / "app.bin").exists() and leftovers(tmp_path) == []


def test_missing_items_and_bad_destinations(reg: ArtifactoryRegistry, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"download libs-dev/none.bin: not found \(HTTP 404"):
        reg.download("libs-dev", "none.bin", tmp_path / "x")
    with pytest.raises(UsageError, match="is a folder"):
        reg.download("libs-dev", PATH, tmp_path)


def test_download_into_a_folder_keeps_the_name_inside(
    reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    saved = reg.download_into("libs-dev", PATH, tmp_path)
    assert saved == tmp_path / "app.bin" and saved.read_bytes() == DATA
    with pytest.raises(UsageError, match="climbs out of its repository"):
        reg.download_into("libs-dev", "app/1/../../../etc/passwd", tmp_path)
    with pytest.raises(UsageError, match="empty or '.' segment"):
        reg.download_into("libs-dev", "app/1/.", tmp_path)


def test_the_content_addressed_cache(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    sha = digests(DATA)["sha256"]
    path = reg.download_to_cache("libs-dev", PATH, sha256=sha)
    assert path == download.cache_path(sha) and path.read_bytes() == DATA
    artifactory.reset_log()
    assert reg.download_to_cache("libs-dev", PATH, sha256=sha) == path
    assert artifactory.count("GET", "^/libs-dev/") == 0
    assert reg.download_to_cache("libs-dev", PATH, sha256=sha, refresh=True) == path
    assert artifactory.count("GET", "^/libs-dev/") == 1
    with pytest.raises(VerificationError):
        reg.download_to_cache("libs-dev", PATH, sha256="1" * 64)
    with pytest.raises(UsageError, match="not a SHA-256"):
        download.cache_path("../../etc")


def test_sidecars_by_search_and_after_a_listing(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.deploy("libs-dev", PATH + ".sig", b"signature")
    artifactory.deploy("libs-dev", PATH + ".sha256", b"checksum")
    artifactory.deploy("libs-dev", "app/1/other.bin", b"o")
    assert reg.sidecars("libs-dev", PATH) == {".sig": b"signature", ".sha256": b"checksum"}
    assert reg.sidecars("libs-dev", "app/1/other.bin") == {}
    with pytest.raises(NotFound):
        reg.sidecars("libs-dev", "app/1/none.bin")
    list(reg.items("libs-dev"))  # a whole listing: the registry knows the sidecars now
    artifactory.reset_log()
    assert reg.sidecars("libs-dev", PATH) == {".sig": b"signature", ".sha256": b"checksum"}
    assert reg.sidecar("libs-dev", PATH, ".sig") == b"signature"
    assert reg.sidecar("libs-dev", PATH, ".asc") is None
    assert artifactory.requests == []  # all from the listing and the download cache
    with pytest.raises(UsageError, match="not a sidecar suffix"):
        reg.sidecar("libs-dev", PATH, ".exe")


def test_a_sidecar_larger_than_16_mib_is_refused(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    big = tmp_path / "big.sig"
    with big.open("wb") as handle:
        handle.truncate(17 << 20)
    artifactory.deploy_file("libs-dev", PATH + ".sig", big)
    from relman.registry.http import HttpError

    with pytest.raises(HttpError, match="larger than 16 MiB"):
        reg.sidecars("libs-dev", PATH)


def test_hash_remote_reads_without_keeping(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    size, found = reg.hash_remote("libs-dev", PATH)
    assert size == len(DATA) and found == {"sha256": digests(DATA)["sha256"]}
    size, found = reg.hash_remote("libs-dev", PATH, expected={"md5": digests(DATA)["md5"]})
    assert set(found) == {"sha256", "md5"}
    artifactory.inject(Fault(method="GET", path=f"^/libs-dev/{PATH}$", kind="short", after=5000))
    assert reg.hash_remote("libs-dev", PATH)[1]["sha256"] == digests(DATA)["sha256"]
    with pytest.raises(VerificationError, match="but 11+ was expected$"):
        reg.hash_remote("libs-dev", PATH, expected={"sha256": "1" * 64})
    with pytest.raises(UsageError, match="cannot compute a sha512 digest"):
        reg.hash_remote("libs-dev", PATH, algorithms=("sha512",))
    assert list(tmp_path.iterdir()) == []
