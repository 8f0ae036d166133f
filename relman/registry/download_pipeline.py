"""The pipeline under every download: one thread receives, the others hash and write.

The receiving thread (the caller) fills a free buffer of a small ring straight from the
socket and hands it to the consumers: a thread per digest and one that writes the file.
hashlib and ``os.write`` release the GIL on large blocks, so on two cores receiving, hashing
and writing overlap and a download costs about what its slowest part costs. A buffer goes
back to the ring once every consumer is done with it: memory in flight is :data:`RING` x
:data:`BLOCK_SIZE` whatever the size of the file.

The buffers are anonymous memory maps, aligned on pages, so that the file can be written
around the page cache (``O_DIRECT``, see :class:`FileWriter`).

This is :mod:`relman.verify.hashing`'s design for a socket instead of a file; it lives here
because the registry layer may not import the verification layer (import-linter's layers).
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import queue
import sys
import threading
from collections.abc import Callable, Sequence

#: 4 MiB blocks were measured fastest on two cores (1 and 2 MiB: 5-23 % slower).
BLOCK_SIZE = 4 << 20
#: Buffers in the ring.
RING = 4
#: Read into a buffer: how many bytes were read (0 at the end of the body).
Reader = Callable[[memoryview], int]

if sys.platform == "linux":
    import fcntl

    _DIRECT = os.O_DIRECT
else:
    _DIRECT = 0


class Pipeline:
    """The consumers of one body and the ring of buffers they share with the receiving
    thread. A consumer that fails (a full disk) keeps returning buffers, so the receiver
    never waits forever; it meets the error at its next :meth:`take`."""

    def __init__(self, algorithms: Sequence[str], fd: int | None) -> None:
        self.hashes = {name: hashlib.new(name) for name in algorithms}
        self.failure: BaseException | None = None
        self._free: queue.SimpleQueue[mmap.mmap] = queue.SimpleQueue()
        for _ in range(RING):
            self._free.put(mmap.mmap(-1, BLOCK_SIZE))
        work: list[Callable[[memoryview], object]] = [h.update for h in self.hashes.values()]
        if fd is not None:
            work.append(FileWriter(fd).write)
        self._queues: list[queue.SimpleQueue[_Job]] = []
        self._threads: list[threading.Thread] = []
        for fn in work:
            jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
            thread = threading.Thread(
                target=self._consume, args=(fn, jobs), name="relman-download", daemon=True
            )
            thread.start()
            self._queues.append(jobs)
            self._threads.append(thread)

    def take(self) -> mmap.mmap:
        """A free buffer (waiting while all are in use)."""
        buf = self._free.get()
        if self.failure is not None:
            self._free.put(buf)
            raise self.failure
        return buf

    def hand_on(self, buf: mmap.mmap, size: int) -> None:
        """Give the first ``size`` bytes of ``buf`` to every consumer; 0 returns it unused."""
        if not size:
            self._free.put(buf)
            return
        view = memoryview(buf)[:size]
        countdown = _Countdown(len(self._queues), buf, self._free)
        for jobs in self._queues:
            jobs.put((view, countdown))

    def close(self) -> None:
        """Let the consumers finish what they hold, and wait for them."""
        for jobs in self._queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._queues, self._threads = [], []

    def hexdigests(self) -> dict[str, str]:
        """The digests of everything handed on (the consumers are closed first)."""
        self.close()
        if self.failure is not None:
            raise self.failure
        return {name: h.hexdigest() for name, h in self.hashes.items()}

    def _consume(self, work: Callable[[memoryview], object], jobs: queue.SimpleQueue[_Job]) -> None:
        while (job := jobs.get()) is not None:
            view, countdown = job
            if self.failure is None:
                try:
                    work(view)
                except BaseException as exc:  # handed to the receiving thread
                    self.failure = exc
            countdown.done()


class _Countdown:
    """Returns a buffer to the ring once every consumer is done with it."""

    __slots__ = ("_buf", "_free", "_left", "_lock")

    def __init__(self, count: int, buf: mmap.mmap, free: queue.SimpleQueue[mmap.mmap]) -> None:
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


class FileWriter:
    """Writes each block whole to a file, around the page cache (``O_DIRECT``) where the
    system offers it.

    Measured on a two-core VM: filling the page cache with a 1 GiB download cost 0.3-3 s of
    CPU (most often 1.5-2 s, more than receiving and hashing it), direct writes about 0.05 s,
    and they overlap with the transfer instead of waiting for the final ``fsync``: the
    download to the cache went from 1.0-3.4 s to 0.67-0.78 s (docs/benchmarks.md, issue 5).
    A block whose size is not a multiple of the page (the last one, or the end of a body cut
    short) and any failing direct write switch the file to ordinary writes for the rest; a
    real failure (a full disk) then fails again, and is raised.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.direct = False
        if _DIRECT:
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | _DIRECT)
                self.direct = True

    def write(self, view: memoryview) -> None:
        if self.direct and len(view) % mmap.PAGESIZE:
            self._buffered()
        while view:
            try:
                written = os.write(self.fd, view)
            except OSError:
                if not self.direct:
                    raise
                self._buffered()
                continue
            view = view[written:]

    def _buffered(self) -> None:
        fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~_DIRECT)
        self.direct = False


def fill(
    read: Reader, buf: mmap.mmap, broken: tuple[type[BaseException], ...]
) -> tuple[int, BaseException | None]:
    """Fill ``buf`` with ``read``: how many bytes it holds (fewer at the end of the body),
    and the ``broken`` exception that stopped it if one did (the bytes before it count)."""
    view = memoryview(buf)
    size = 0
    try:
        while size < len(buf):
            got = read(view[size:])
            if not got:
                break
            size += got
    except broken as exc:
        return size, exc
    return size, None
