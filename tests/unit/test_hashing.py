"""The hashing engine: right digests, one pass, progress, cancel, and refusing bad input."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path

import pytest

from relman.errors import Cancelled, InputError, UsageError
from relman.model import CancelToken
from relman.verify import hashing
from relman.verify.hashing import (
    ALGORITHMS,
    HashRequest,
    canonical_algorithm,
    display_path,
    hash_file,
    hash_many,
)


def reference(data: bytes, algorithm: str) -> str:
    h = hashlib.blake2b(digest_size=64) if algorithm == "blake2b" else hashlib.new(algorithm)
    h.update(data)
    return h.hexdigest()


@pytest.fixture(scope="module")
def blob() -> bytes:
    # Larger than the pipeline threshold and not a multiple of the block size.
    return os.urandom(hashing.BLOCK_SIZE * (hashing.PIPELINE_BUFFERS + 3) + 12345)


@pytest.mark.parametrize(
    "size", [0, 1, hashing.BLOCK_SIZE - 1, hashing.BLOCK_SIZE, hashing.BLOCK_SIZE + 1]
)
def test_single_algorithm_matches_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    result = hash_file(path)
    assert result.size == size
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert dict(result.digests) == {"sha256": result.sha256}


def test_every_algorithm_in_one_pipelined_pass(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "big"
    path.write_bytes(blob)
    result = hash_file(path, ALGORITHMS)
    assert dict(result.digests) == {a: reference(blob, a) for a in ALGORITHMS}


def test_one_pass_reads_the_file_once(
    tmp_path: Path, blob: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big"
    path.write_bytes(blob)
    opened = []
    real_open = os.open

    def counting_open(p: object, *args: object, **kwargs: object) -> int:
        opened.append(p)
        return real_open(p, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashing.os, "open", counting_open)
    hash_file(path, ("sha256", "sha1", "md5", "sha512"))
    assert len(opened) == 1


def test_progress_is_monotonic_and_ends_at_the_size(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "big"
    path.write_bytes(blob)
    for algos in (("sha256",), ("sha256", "md5")):
        seen: list[tuple[int, int]] = []
        hash_file(path, algos, progress=lambda d, t: seen.append((d, t)))
        assert seen[-1] == (len(blob), len(blob))
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("algos", [("sha256",), ("sha256", "sha1", "md5")])
def test_cancel_stops_hashing(tmp_path: Path, blob: bytes, algos: tuple[str, ...]) -> None:
    path = tmp_path / "big"
    path.write_bytes(blob)
    token = CancelToken()
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        token.cancel()

    with pytest.raises(Cancelled):
        hash_file(path, algos, progress=progress, cancel=token)
    assert len(calls) == 1
    assert threading.active_count() < 10  # pipeline threads were joined


@pytest.mark.parametrize("algos", [("sha256",), ("sha256", "sha1")])
def test_a_file_that_grows_while_hashed_is_refused(
    tmp_path: Path, blob: bytes, algos: tuple[str, ...]
) -> None:
    path = tmp_path / "growing"
    path.write_bytes(blob)

    def append(done: int, total: int) -> None:
        if done == hashing.BLOCK_SIZE:
            with open(path, "ab") as handle:
                handle.write(b"more")

    with pytest.raises(InputError, match="changed while it was being hashed"):
        hash_file(path, algos, progress=append)


def test_a_file_rewritten_in_place_while_hashed_is_refused(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "rewritten"
    path.write_bytes(blob)

    def rewrite(done: int, total: int) -> None:
        if done == hashing.BLOCK_SIZE:
            with open(path, "r+b") as handle:
                handle.write(b"X")
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    with pytest.raises(InputError, match="changed while it was being hashed"):
        hash_file(path, progress=rewrite)


def test_a_file_that_shrinks_while_hashed_is_refused(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "shrinking"
    path.write_bytes(blob)

    def truncate(done: int, total: int) -> None:
        if done == hashing.BLOCK_SIZE:
            os.truncate(path, hashing.BLOCK_SIZE + 10)

    with pytest.raises(InputError, match="changed while it was being hashed"):
        hash_file(path, progress=truncate)


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing: no such file$"):
        hash_file(tmp_path / "missing")
    with pytest.raises(InputError, match="is a folder, not a file"):
        hash_file(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is not a regular file"):
        hash_file(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    with pytest.raises(InputError, match="symbolic link loop"):
        hash_file(loop)
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(InputError, match="a part of the path is not a folder"):
        hash_file(tmp_path / "file" / "inner")
    with pytest.raises(UsageError, match="unsupported digest algorithm"):
        hash_file(tmp_path / "file", ("sha3_256",))
    with pytest.raises(UsageError, match="no digest algorithm"):
        hash_file(tmp_path / "file", ())


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads mode-0 files, so make open() fail the way it would

        def deny(p: object, *args: object, **kwargs: object) -> int:
            raise PermissionError(errno.EACCES, "Permission denied", str(p))

        monkeypatch.setattr(hashing.os, "open", deny)
    with pytest.raises(InputError, match=r"secret.bin: permission denied$"):
        hash_file(path)


@pytest.mark.parametrize("size", [100, 3 * hashing.BLOCK_SIZE])
def test_io_error_while_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    path = tmp_path / "bad-disk.bin"
    path.write_bytes(b"x" * size)

    def eio(*args: object) -> int:
        raise OSError(errno.EIO, "Input/output error")

    class Failing:
        def __init__(self, *args: object, **kwargs: object) -> None: ...
        def __enter__(self) -> Failing:
            return self

        def __exit__(self, *args: object) -> None: ...

        readinto = staticmethod(eio)

    monkeypatch.setattr(hashing, "open", Failing, raising=False)  # large files: a FileIO
    monkeypatch.setattr(hashing.os, "readv", eio)  # small files: one readv
    with pytest.raises(InputError, match="bad-disk.bin: Input/output error"):
        hash_file(path)


def test_small_file_that_grows_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.bin"
    path.write_bytes(b"x" * 1000)
    real_fstat = os.fstat
    calls = []

    def grow_after_first_fstat(fd: int) -> os.stat_result:
        result = real_fstat(fd)
        if not calls:
            calls.append(1)
            with open(path, "ab") as handle:
                handle.write(b"more")
        return result

    monkeypatch.setattr(hashing.os, "fstat", grow_after_first_fstat)
    with pytest.raises(InputError, match="changed while it was being hashed"):
        hash_file(path)


def test_non_utf8_names(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.bin")
    (tmp_path / name).write_bytes(b"abc")
    assert hash_file(tmp_path / name).sha256 == hashlib.sha256(b"abc").hexdigest()
    assert display_path(tmp_path / name).endswith("caf\\xe9.bin")
    with pytest.raises(InputError, match=r"gone\\xff: no such file"):
        hash_file(tmp_path / os.fsdecode(b"gone\xff"))


def test_canonical_algorithm_names() -> None:
    assert canonical_algorithm("SHA2-256") == "sha256"
    assert canonical_algorithm("sha-512") == "sha512"
    assert canonical_algorithm("BLAKE2b") == "blake2b"
    assert canonical_algorithm("BLAKE2B-512") == "blake2b"
    assert canonical_algorithm("MD5") == "md5"
    assert canonical_algorithm("SHA3-256") is None


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_hash_many_returns_every_file_and_error(tmp_path: Path, workers: int) -> None:
    requests = []
    for i in range(25):
        p = tmp_path / f"f{i}"
        if i % 7 != 3:
            p.write_bytes(str(i).encode() * 1000)
        requests.append(HashRequest(p, ("sha256", "md5")))
    progress: dict[int, int] = {}
    results = dict(
        hash_many(
            requests, workers=workers, file_progress=lambda i, d, t: progress.__setitem__(i, d)
        )
    )
    assert sorted(results) == list(range(25))
    for i, outcome in results.items():
        if i % 7 == 3:
            assert isinstance(outcome, InputError)
            assert "no such file" in str(outcome)
        else:
            data = str(i).encode() * 1000
            assert not isinstance(outcome, Exception)
            assert outcome.digests["md5"] == hashlib.md5(data).hexdigest()
            assert progress[i] == len(data)


def test_hash_many_cancel(tmp_path: Path) -> None:
    requests = []
    for i in range(200):
        p = tmp_path / f"f{i}"
        p.write_bytes(b"x" * 10)
        requests.append(HashRequest(p))
    token = CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for index, _ in hash_many(requests, workers=2, cancel=token):
            seen.append(index)
            if len(seen) == 5:
                token.cancel()
    assert len(seen) < 200
