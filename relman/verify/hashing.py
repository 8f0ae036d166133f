"""The hashing engine: stream a file once, compute every digest it needs.

- Reads in large blocks into reused buffers, so memory stays flat whatever the file size.
- Several algorithms over one file run in one read pass, each algorithm on its own thread
  (hashlib releases the GIL on large updates), so a 2-core machine hashes sha256 + sha1 + md5
  in roughly the time of the slowest one.
- Many files are hashed in parallel by :func:`hash_many`, one file per worker.
- A file that changes while it is read is refused, never given a digest.
"""

from __future__ import annotations

import errno
import hashlib
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from relman.errors import Cancelled, InputError, RelmanError, UsageError
from relman.model import CancelToken, ProgressCallback

BLOCK_SIZE = 1 << 20
#: A read buffer per thread, reused: allocating and zeroing 1 MiB per small file adds up.
_thread_buffers = threading.local()
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)
_HAS_READV = hasattr(os, "readv")
#: Buffers in flight for a multi-algorithm pass; memory is BLOCK_SIZE times this.
PIPELINE_BUFFERS = 4

#: Canonical algorithm name -> hex digits of its digest.
HEX_LENGTHS: dict[str, int] = {
    "md5": 32,
    "sha1": 40,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
    "blake2b": 128,
}
ALGORITHMS: tuple[str, ...] = tuple(HEX_LENGTHS)
DEFAULT_ALGORITHM = "sha256"

_ALIASES = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA": "sha1",
    "SHA256": "sha256",
    "SHA2256": "sha256",
    "SHA384": "sha384",
    "SHA2384": "sha384",
    "SHA512": "sha512",
    "SHA2512": "sha512",
    "BLAKE2B": "blake2b",
    "BLAKE2B512": "blake2b",
    "B2": "blake2b",
}


def canonical_algorithm(name: str) -> str | None:
    """Map ``SHA256``, ``SHA2-256``, ``sha-256``, ``BLAKE2b-512`` ... to our names, or None."""
    key = name.strip().upper().replace("-", "").replace("_", "")
    return _ALIASES.get(key)


def new_hash(algorithm: str) -> Any:
    """A fresh hashlib object for a canonical algorithm name."""
    if algorithm == "blake2b":
        return hashlib.blake2b(digest_size=64)
    if algorithm not in HEX_LENGTHS:
        raise UsageError(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


@dataclass(frozen=True, slots=True)
class FileDigests:
    """The digests of one file as read in one pass."""

    path: Path
    size: int
    digests: MappingProxyType[str, str]

    @property
    def sha256(self) -> str | None:
        return self.digests.get("sha256")


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as a person can read it: undecodable bytes shown as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def describe_os_error(path: str | os.PathLike[str], exc: OSError) -> InputError:
    """One readable line for an OSError on ``path``."""
    name = display_path(path)
    code = exc.errno
    if isinstance(exc, FileNotFoundError):
        why = "no such file"
    elif isinstance(exc, IsADirectoryError):
        why = "is a folder, not a file"
    elif isinstance(exc, PermissionError):
        why = "permission denied"
    elif code == errno.ELOOP:
        why = "symbolic link loop"
    elif code == errno.ENOTDIR:
        why = "a part of the path is not a folder"
    else:
        why = exc.strerror or str(exc)
    return InputError(f"{name}: {why}")


def _fingerprint(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def hash_file(
    path: str | os.PathLike[str],
    algorithms: Iterable[str] = (DEFAULT_ALGORITHM,),
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FileDigests:
    """Hash ``path`` with every algorithm in ``algorithms`` in one read pass.

    Raises :class:`InputError` for anything that cannot be read as a regular file or that
    changed while it was read, and :class:`Cancelled` when ``cancel`` is set.
    """
    algos = tuple(dict.fromkeys(algorithms))
    if not algos:
        raise UsageError("no digest algorithm asked for")
    hashes = {name: new_hash(name) for name in algos}
    target = path if isinstance(path, Path) else Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not hang; it is refused below as not a regular file.
        fd = os.open(target, _OPEN_FLAGS)
    except OSError as exc:
        raise describe_os_error(target, exc) from None
    try:
        opened = os.fstat(fd)
        if stat.S_ISDIR(opened.st_mode):
            raise InputError(f"{display_path(target)}: is a folder, not a file")
        if not stat.S_ISREG(opened.st_mode):
            raise InputError(f"{display_path(target)}: is not a regular file")
        total = opened.st_size
        update = tuple(h.update for h in hashes.values())
        if total < BLOCK_SIZE and _HAS_READV:
            done = _read_small(fd, update, total, progress, cancel)
        else:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            with open(fd, "rb", buffering=0, closefd=False) as handle:
                if len(update) == 1 or total <= BLOCK_SIZE * PIPELINE_BUFFERS:
                    done = _read_serial(handle, update, total, progress, cancel)
                else:
                    done = _read_pipelined(handle, update, total, progress, cancel)
        after = os.fstat(fd)
    except OSError as exc:
        raise describe_os_error(target, exc) from None
    finally:
        os.close(fd)
    if done != total or _fingerprint(after) != _fingerprint(opened):
        raise _changed(target)
    digests = {name: h.hexdigest() for name, h in hashes.items()}
    return FileDigests(path=target, size=total, digests=MappingProxyType(digests))


def _thread_buffer() -> bytearray:
    buf: bytearray | None = getattr(_thread_buffers, "buf", None)
    if buf is None:  # one buffer per thread, reused from file to file
        buf = _thread_buffers.buf = bytearray(BLOCK_SIZE)
    return buf


def _read_small(
    fd: int,
    update: Sequence[Any],
    total: int,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> int:
    """A file smaller than one block: one read into the thread's buffer, no file object.

    The buffer is larger than the file, so a file that grew since ``fstat`` reads longer
    than ``total`` and is caught by the caller.
    """
    if cancel is not None and cancel.cancelled:
        raise Cancelled()
    buf = _thread_buffer()
    n = os.readv(fd, [buf])
    chunk = memoryview(buf)[:n]
    for fn in update:
        fn(chunk)
    if progress is not None:
        progress(n, total)
    return n


def _changed(path: Path) -> InputError:
    return InputError(
        f"{display_path(path)}: changed while it was being hashed; "
        "hash it again once it is complete"
    )


def _read_serial(
    handle: Any,
    update: Sequence[Any],
    total: int,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> int:
    buf = _thread_buffer()
    view = memoryview(buf)
    done = 0
    while True:
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        n = handle.readinto(buf)
        if not n:
            break
        chunk = view[:n] if n < BLOCK_SIZE else view
        for fn in update:
            fn(chunk)
        done += n
        if done > total:  # growing file: stop early, the caller reports it
            break
        if progress is not None:
            progress(done, total)
    return done


class _Countdown:
    """Returns a buffer to the free pool once every hasher is done with it."""

    __slots__ = ("_buf", "_free", "_left", "_lock")

    def __init__(self, count: int, buf: bytearray, free: queue.SimpleQueue[bytearray]) -> None:
        self._left = count
        self._buf = buf
        self._free = free
        self._lock = threading.Lock()

    def done(self) -> None:
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self._free.put(self._buf)


_Job = tuple[memoryview, _Countdown] | None


def _hasher_loop(update: Any, jobs: queue.SimpleQueue[_Job]) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        chunk, countdown = job
        try:
            update(chunk)
        finally:
            countdown.done()


def _read_pipelined(
    handle: Any,
    update: Sequence[Any],
    total: int,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> int:
    free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    for _ in range(PIPELINE_BUFFERS):
        free.put(bytearray(BLOCK_SIZE))
    queues: list[queue.SimpleQueue[_Job]] = [queue.SimpleQueue() for _ in update]
    threads = [
        threading.Thread(target=_hasher_loop, args=(h, q), name="relman-hash", daemon=True)
        for h, q in zip(update, queues, strict=True)
    ]
    for thread in threads:
        thread.start()
    done = 0
    try:
        while True:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            buf = free.get()
            n = handle.readinto(buf)
            if not n:
                free.put(buf)
                break
            countdown = _Countdown(len(update), buf, free)
            chunk = memoryview(buf)[:n]
            for q in queues:
                q.put((chunk, countdown))
            done += n
            if done > total:
                break
            if progress is not None:
                progress(done, total)
    finally:
        for q in queues:
            q.put(None)
        for thread in threads:
            thread.join()
    return done


# -- many files ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HashRequest:
    path: Path
    algorithms: tuple[str, ...] = (DEFAULT_ALGORITHM,)


FileProgress = Callable[[int, int, int], None]
"""``file_progress(index, done, total)`` for the request at ``index``."""


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 2))


def hash_many(
    requests: Sequence[HashRequest],
    *,
    workers: int | None = None,
    file_progress: FileProgress | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[int, FileDigests | RelmanError]]:
    """Hash many files in parallel; yields ``(index, digests or error)`` as each completes.

    Errors of one file (missing, unreadable, changed) do not stop the others.
    """
    from relman.verify.parallel import run_parallel

    def work(index: int) -> FileDigests:
        return _hash_one(index, requests[index], file_progress, cancel)

    yield from run_parallel(
        len(requests), work, workers=workers or default_workers(), cancel=cancel
    )


def _hash_one(
    index: int,
    request: HashRequest,
    file_progress: FileProgress | None,
    cancel: CancelToken | None,
) -> FileDigests:
    callback: ProgressCallback | None = None
    if file_progress is not None:

        def callback(done: int, total: int) -> None:
            file_progress(index, done, total)

    return hash_file(request.path, request.algorithms, progress=callback, cancel=cancel)
