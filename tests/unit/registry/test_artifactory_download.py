"""Downloads from the Artifactory emulator: streamed, hashed in one pass, checked against the
X-Checksum headers and the expected digests, resumed after a reset or a short body, atomic,
cancellable; the content-addressed cache; sidecars."""

from __future__ import annotations

import gzip
import hashlib
import mmap
import os
import signal
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from relman.errors import Cancelled, InputError, UsageError, VerificationError
from relman.model import CancelToken
from relman.registry import download, download_pipeline
from relman.registry.artifactory import ArtifactoryRegistry
from relman.registry.base import NotFound
from relman.registry.http import ConnectionFailed
from tests.emulators.artifactory import ArtifactoryEmulator, Fault, StoredFile
from tests.emulators.fixtures import ARTIFACTORY_TOKEN

DATA = os.urandom(2 * download_pipeline.BLOCK_SIZE + 12345)  # three blocks of the pipeline
PATH = "app/1/app.bin"


def digests(data: bytes) -> dict[str, str]:
    return {name: hashlib.new(name, data).hexdigest() for name in ("sha256", "sha1", "md5")}


@pytest.fixture
def reg(artifactory: ArtifactoryEmulator) -> Iterator[ArtifactoryRegistry]:
    artifactory.deploy("libs-dev", PATH, DATA)
    registry = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, attempts=1)
    yield registry
    registry.close()


def stored(artifactory: ArtifactoryEmulator, path: str = PATH) -> StoredFile:
    found = artifactory.file("libs-dev", path)
    assert found is not None
    return found


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_a_download_is_hashed_on_the_way(reg: ArtifactoryRegistry, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = reg.download(
        "libs-dev", PATH, tmp_path / "app.bin", progress=lambda d, t: seen.append((d, t))
    )
    assert result.as_dict() == digests(DATA) and result.size == len(DATA)
    assert (tmp_path / "app.bin").read_bytes() == DATA
    assert seen[-1] == (len(DATA), len(DATA)) and len(seen) == 3
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
    stored(artifactory).content = DATA[:-1] + b"!"  # rotted behind the server
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


# -- the pipeline: the cache, only the digests needed, faults ---------------------------------


def incoming() -> list[str]:
    folder = download.cache_root() / "incoming"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_the_cache_resumes_a_reset_inside_a_block(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    cut = download_pipeline.BLOCK_SIZE + 4099  # in the second block, not on a page boundary
    artifactory.inject(Fault(method="GET", path=f"^/libs-dev/{PATH}$", kind="short", after=cut))
    seen: list[int] = []
    path = reg.download_to_cache("libs-dev", PATH, progress=lambda d, _t: seen.append(d))
    assert path == download.cache_path(digests(DATA)["sha256"]) and path.read_bytes() == DATA
    ranges = [r.status for r in artifactory.requests if r.path == f"/libs-dev/{PATH}"]
    assert ranges == [200, 206] and seen[-1] == len(DATA) and seen == sorted(seen)
    assert incoming() == []


def test_a_server_without_ranges_gets_a_whole_new_download(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    artifactory.inject(
        Fault(
            method="GET",
            path=f"^/libs-dev/{PATH}$",
            kind="reset",
            after=download_pipeline.BLOCK_SIZE + 10,
            headers={"Accept-Ranges": "none"},
        )
    )
    result = reg.download("libs-dev", PATH, tmp_path / "app.bin")
    assert result.as_dict() == digests(DATA) and (tmp_path / "app.bin").read_bytes() == DATA
    assert [r.status for r in artifactory.requests if r.path == f"/libs-dev/{PATH}"] == [200, 200]


def test_the_cache_keeps_nothing_of_a_short_body_that_stays_short(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.inject(
        Fault(method="GET", path=f"^/libs-dev/{PATH}$", kind="short", after=5000, times=None)
    )
    with pytest.raises(
        ConnectionFailed,
        match=r"cut short after 20000 of \d+ bytes \(the body ended early\) after 4",
    ):
        reg.download_to_cache("libs-dev", PATH)
    assert incoming() == [] and download.cached(digests(DATA)["sha256"]) is None


def test_the_cache_refuses_bytes_that_differ_from_the_header(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    rotten = DATA[:-1] + b"!"
    stored(artifactory).content = rotten
    with pytest.raises(
        VerificationError, match="X-Checksum-Sha256 header says .*nothing was saved"
    ):
        reg.download_to_cache("libs-dev", PATH)
    assert incoming() == []
    assert download.cached(hashlib.sha256(rotten).hexdigest()) is None
    assert download.cached(digests(DATA)["sha256"]) is None


def test_a_cancelled_download_to_the_cache_leaves_nothing(reg: ArtifactoryRegistry) -> None:
    token = CancelToken()

    def progress(done: int, _total: int) -> None:
        token.cancel()

    with pytest.raises(Cancelled):
        reg.download_to_cache("libs-dev", PATH, progress=progress, cancel=token)
    assert incoming() == [] and download.cached(digests(DATA)["sha256"]) is None


def test_only_the_digests_needed_are_computed(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    stored(artifactory).sha1 = "0" * 40  # a wrong SHA-1 header, a right SHA-256
    path = reg.download_to_cache("libs-dev", PATH)  # SHA-256 only: the SHA-1 is not looked at
    assert path.read_bytes() == DATA
    with pytest.raises(VerificationError, match="X-Checksum-Sha1 header says 0+; nothing"):
        reg.download("libs-dev", PATH, tmp_path / "app.bin")  # all three, as it returns them
    size, found = reg.hash_remote("libs-dev", PATH)
    assert size == len(DATA) and set(found) == {"sha256"}


def test_an_item_without_sha256_is_checked_against_its_sha1(
    artifactory: ArtifactoryEmulator, reg: ArtifactoryRegistry
) -> None:
    artifactory.deploy("libs-dev", "old/app.bin", DATA, sha256=False)
    assert reg.download_to_cache("libs-dev", "old/app.bin").read_bytes() == DATA
    download.cache_path(digests(DATA)["sha256"]).unlink()
    stored(artifactory, "old/app.bin").content = DATA[:-1] + b"!"
    with pytest.raises(VerificationError, match="X-Checksum-Sha1 header says"):
        reg.download_to_cache("libs-dev", "old/app.bin")
    assert incoming() == []


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="RLIMIT_FSIZE is POSIX")
def test_a_write_that_fails_stops_the_download_and_leaves_nothing(
    reg: ArtifactoryRegistry, tmp_path: Path
) -> None:
    """The writing thread fails (the kernel refuses to grow a file past RLIMIT_FSIZE, as a
    full disk would): the receiving thread stops, one line says why, nothing is left."""
    import resource

    limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (download_pipeline.BLOCK_SIZE + 4096, limit[1]))
    try:
        with pytest.raises(
            InputError, match=r"app.bin: cannot write the download \(File too large"
        ):
            reg.download("libs-dev", PATH, tmp_path / "app.bin")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limit)
        signal.signal(signal.SIGXFSZ, handler)
    assert list(tmp_path.iterdir()) == []


def test_a_download_over_tls_is_read_straight_into_the_ring(
    artifactory_tls: tuple[ArtifactoryEmulator, Path],
) -> None:
    emu, bundle = artifactory_tls
    emu.deploy("libs-dev", PATH, DATA)
    emu.inject(Fault(method="GET", path=f"^/libs-dev/{PATH}$", kind="reset", after=1 << 20))
    with ArtifactoryRegistry(emu.url, token=ARTIFACTORY_TOKEN, ca_bundle=str(bundle)) as tls:
        path = tls.download_to_cache("libs-dev", PATH, sha256=digests(DATA)["sha256"])
        assert path.read_bytes() == DATA
        assert tls.hash_remote("libs-dev", PATH)[1] == {"sha256": digests(DATA)["sha256"]}


class _Compressing(BaseHTTPRequestHandler):
    """A proxy that compresses the body although the client asked for ``identity``."""

    protocol_version = "HTTP/1.1"
    body = gzip.compress(DATA, compresslevel=1)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("X-Checksum-Sha256", digests(DATA)["sha256"])
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_a_compressed_body_is_decoded_before_it_is_hashed() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Compressing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/artifactory"
        with ArtifactoryRegistry(url, token=ARTIFACTORY_TOKEN, attempts=1) as proxied:
            path = proxied.download_to_cache("libs-dev", PATH)
            assert path.read_bytes() == DATA
            assert proxied.hash_remote("libs-dev", PATH) == (
                len(DATA),
                {"sha256": digests(DATA)["sha256"]},
            )
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(sys.platform != "linux", reason="O_DIRECT is Linux's")
def test_the_file_is_written_around_the_page_cache_until_a_block_is_not_whole(
    tmp_path: Path,
) -> None:
    import fcntl

    def direct(fd: int) -> bool:
        return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)

    block = mmap.mmap(-1, 3 * mmap.PAGESIZE)
    block.write(os.urandom(len(block)))
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        writer = download_pipeline.FileWriter(fd)
        writer.write(memoryview(block))
        assert writer.direct and direct(fd)
        writer.write(memoryview(block)[:100])  # the last block of a body: ordinary writes
        assert not writer.direct and not direct(fd)
        writer.write(memoryview(block))
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == bytes(block) + block[:100] + bytes(block)
