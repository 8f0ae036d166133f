"""Downloads from a registry server: streamed to disk while hashed, checked, resumed.

:func:`fetch` reads an answer's body in 1 MiB blocks and hands each block to three hashing
threads (SHA-256, SHA-1, MD5: hashlib releases the GIL, so on two cores the pass costs about
the slowest digest) while the same block is written to a temporary file beside the
destination. Memory stays flat: at most a few blocks are in flight.

- A body cut short (a reset connection, fewer bytes than ``Content-Length``) is resumed with
  ``Range: bytes=N-`` when the server offers ranges and answers 206 for the same bytes (the
  same ``X-Checksum-*``); otherwise the download starts again from the first byte, on a fresh
  file and fresh hashes. Attempts are bounded.
- The digests are compared with the ``X-Checksum-Sha256/-Sha1/-Md5`` headers and with the
  digests the caller expects (the build record's, the storage API's); a mismatch raises
  :class:`~relman.errors.VerificationError` and the destination is left untouched.
- Only then is the file renamed over the destination (``os.replace``): a crash, a cancel or a
  failed check leaves nothing half-written.

:func:`cache_path` names the content-addressed download cache (``<cache>/downloads/ab/abcd…``,
by SHA-256) that "verify now" and the sidecar reads use.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
import urllib3

from relman import paths
from relman.errors import Cancelled, InputError, UsageError, VerificationError
from relman.model import CancelToken, Digests, ProgressCallback
from relman.registry.base import DIGESTS
from relman.registry.http import ConnectionFailed, HttpClient

logger = logging.getLogger(__name__)

BLOCK_SIZE = 1 << 20
#: Blocks queued per hashing thread before the reader waits (memory: blocks x BLOCK_SIZE).
QUEUE_DEPTH = 8
ATTEMPTS = 4
_HEADERS = {"sha256": "X-Checksum-Sha256", "sha1": "X-Checksum-Sha1", "md5": "X-Checksum-Md5"}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BROKEN = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    TimeoutError,
)


class _Hashes:
    """Digests of a stream, each algorithm on a thread of its own (hashlib releases the GIL:
    the reading thread and the hashing threads run at once)."""

    def __init__(self, algorithms: Sequence[str]) -> None:
        self.hashes = {name: hashlib.new(name) for name in algorithms}
        self.queues: list[queue.Queue[bytes | None]] = []
        self.threads: list[threading.Thread] = []
        for h in self.hashes.values():
            q: queue.Queue[bytes | None] = queue.Queue(QUEUE_DEPTH)
            thread = threading.Thread(
                target=_hash_loop, args=(h.update, q), name="relman-download-hash", daemon=True
            )
            thread.start()
            self.queues.append(q)
            self.threads.append(thread)

    def update(self, chunk: bytes) -> None:
        for q in self.queues:
            q.put(chunk)

    def close(self) -> None:
        for q in self.queues:
            q.put(None)
        for thread in self.threads:
            thread.join()
        self.queues = []

    def hexdigests(self) -> dict[str, str]:
        self.close()
        return {name: h.hexdigest() for name, h in self.hashes.items()}


def _hash_loop(update: Any, jobs: queue.Queue[bytes | None]) -> None:
    while True:
        chunk = jobs.get()
        if chunk is None:
            return
        update(chunk)


def fetch(
    client: HttpClient,
    path: str,
    dest: Path,
    *,
    label: str,
    expected: Mapping[str, str | None] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    attempts: int = ATTEMPTS,
) -> Digests:
    """Download ``client.url(path)`` to ``dest`` (see the module docstring); ``label`` names
    the item in messages (``libs-dev/app/1.0/app.jar``); ``expected`` maps digest names
    (sha256, sha1, md5) to the hex the bytes must have (None: not known)."""
    dest = Path(dest)
    if dest.is_dir():
        raise UsageError(f"{dest}: is a folder; give the file to download into")
    paths.ensure_dir(dest.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            job = _transfer(client, path, out, label, DIGESTS, progress, cancel, attempts)
            out.flush()
            os.fsync(out.fileno())
        _check(label, job.digests, job.checksums or {}, expected or {}, "; nothing was saved")
        os.replace(tmp, dest)
    except OSError as exc:
        raise InputError(f"{dest}: cannot write the download ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    found = job.digests
    return Digests(job.done, found["sha256"], found["sha1"], found["md5"])


def digest_stream(
    client: HttpClient,
    path: str,
    *,
    label: str,
    algorithms: Sequence[str] = ("sha256",),
    expected: Mapping[str, str | None] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    attempts: int = ATTEMPTS,
) -> tuple[int, dict[str, str]]:
    """The size and digests of the bytes at ``client.url(path)``, read and hashed without
    keeping them ("verify now"): ``algorithms`` and those ``expected`` names, checked
    against ``expected`` and the server's ``X-Checksum-*`` headers for the same algorithms.
    Resumed and retried like :func:`fetch`."""
    wanted = tuple(dict.fromkeys([*algorithms, *(expected or {})]))
    for name in wanted:
        if name not in DIGESTS:
            raise UsageError(f"{label}: cannot compute a {name} digest (sha256, sha1 or md5)")
    job = _transfer(client, path, None, label, wanted, progress, cancel, attempts)
    _check(label, job.digests, job.checksums or {}, expected or {})
    return job.done, job.digests


def _transfer(
    client: HttpClient,
    path: str,
    out: Any,
    label: str,
    algorithms: Sequence[str],
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    attempts: int,
) -> _Download:
    """Read the whole body (into ``out`` unless None), resuming or starting over after a
    body cut short, at most ``attempts`` times; the job holds the digests afterwards."""
    job = _Download(client, path, out, label, algorithms)
    try:
        for attempt in range(1, attempts + 1):
            try:
                job.read(progress, cancel)
                break
            except _CutShort as exc:
                if attempt == attempts:
                    raise ConnectionFailed(
                        f"{exc} after {attempts} attempts", kind="reset", url=exc.url
                    ) from None
                logger.info("%s; trying again from byte %d", exc, job.done)
        job.digests = job.hashes.hexdigests()
    finally:
        job.hashes.close()
    return job


class _Download:
    """One download in progress: the temporary file, the hashes, the bytes held so far and
    what the first answer said about the bytes (size, checksum headers, ranges)."""

    def __init__(
        self, client: HttpClient, path: str, out: Any, label: str, algorithms: Sequence[str]
    ) -> None:
        self.client = client
        self.path = path
        self.out = out
        self.label = label
        self.algorithms = algorithms
        self.hashes = _Hashes(algorithms)
        self.digests: dict[str, str] = {}
        self.done = 0
        self.total: int | None = None
        self.checksums: dict[str, str] | None = None
        self.ranges = False

    def restart(self) -> None:
        if self.out is not None:
            self.out.seek(0)
            self.out.truncate()
        self.hashes.close()
        self.hashes = _Hashes(self.algorithms)
        self.done = 0

    def read(self, progress: ProgressCallback | None, cancel: CancelToken | None) -> None:
        """One GET, ranged from ``done`` when resuming; raises :class:`_CutShort` when the
        body ends early (``done`` counts what was kept)."""
        headers = {"Accept-Encoding": "identity"}
        if self.done and self.ranges:
            headers["Range"] = f"bytes={self.done}-"
        elif self.done:
            self.restart()
        response = self.client.open(
            "GET", self.path, headers=headers, ok=(200, 206), what=f"download {self.label}"
        )
        with contextlib.closing(response):
            if self._start_of(response) != self.done:
                self.restart()  # a whole body came back, or a range we cannot place
                if response.status_code != 200:
                    raise _CutShort(self, None)
            try:
                while True:
                    if cancel is not None and cancel.cancelled:
                        raise Cancelled()
                    chunk = response.raw.read(BLOCK_SIZE, decode_content=True)
                    if not chunk:
                        break
                    if self.out is not None:
                        self.out.write(chunk)
                    self.hashes.update(chunk)
                    self.done += len(chunk)
                    if progress is not None:
                        progress(self.done, self.total or 0)
            except _BROKEN as exc:
                raise _CutShort(self, exc) from None
        if self.total is not None and self.done != self.total:
            raise _CutShort(self, None)

    def _start_of(self, response: requests.Response) -> int:
        """Where the body of ``response`` starts (-1: nowhere we can use); the first answer
        also sets the size, the checksum headers and whether ranges are offered."""
        headers = response.headers
        checksums = {
            name: headers[key].strip().lower() for name, key in _HEADERS.items() if headers.get(key)
        }
        if response.status_code == 200:
            if self.checksums is not None and checksums != self.checksums:
                raise VerificationError(
                    f"{self.label}: the server's checksums changed between two attempts "
                    "(the item was replaced while it was downloaded); nothing was saved"
                )
            length = headers.get("Content-Length", "")
            plain = headers.get("Content-Encoding", "identity").lower() == "identity"
            self.total = int(length) if plain and length.isdigit() else None
            self.checksums = checksums
            self.ranges = headers.get("Accept-Ranges", "").lower() == "bytes"
            return 0
        match = _CONTENT_RANGE.fullmatch(headers.get("Content-Range", "").strip())
        if (
            match is None
            or checksums != self.checksums
            or (match.group(3) != "*" and int(match.group(3)) != self.total)
        ):
            self.ranges = False
            return -1
        return int(match.group(1))


class _CutShort(ConnectionFailed):
    def __init__(self, download: _Download, exc: BaseException | None) -> None:
        of = f" of {download.total}" if download.total is not None else ""
        why = "the connection was reset" if exc is not None else "the body ended early"
        super().__init__(
            f"{download.label}: cut short after {download.done}{of} bytes ({why})",
            kind="reset",
            url=download.client.url(download.path),
        )


def _check(
    label: str,
    actual: Mapping[str, str],
    headers: Mapping[str, str],
    expected: Mapping[str, str | None],
    outcome: str = "",
) -> None:
    """The digests against the server's checksum headers (those computed) and ``expected``;
    ``outcome`` ends the message (``; nothing was saved``)."""
    for name, value in headers.items():
        if name in actual and value != actual[name]:
            raise VerificationError(
                f"{label}: the bytes received have {name} {actual[name]} but the server's "
                f"X-Checksum-{name.capitalize()} header says {value}{outcome}"
            )
    for name, wanted in expected.items():
        if wanted is None:
            continue
        if name not in actual:
            raise UsageError(f"{label}: cannot check a {name} digest (sha256, sha1 or md5)")
        if wanted.strip().lower() != actual[name]:
            raise VerificationError(
                f"{label}: the bytes received have {name} {actual[name]} but {wanted} was "
                f"expected{outcome}"
            )


# -- the content-addressed cache -------------------------------------------------------------


def cache_root() -> Path:
    return paths.resolve().cache / "downloads"


def cache_path(sha256: str) -> Path:
    """Where bytes with this SHA-256 are kept in the download cache."""
    digest = sha256.strip().lower()
    if not _SHA256.fullmatch(digest):
        raise UsageError(f"{sha256!r} is not a SHA-256 (64 hex digits)")
    return cache_root() / digest[:2] / digest


def cached(sha256: str | None) -> Path | None:
    """The cached file of ``sha256``, if the cache holds it."""
    if sha256 is None:
        return None
    path = cache_path(sha256)
    return path if path.is_file() else None


def keep(data: bytes, sha256: str | None = None) -> Path:
    """Put ``data`` into the cache (its SHA-256 must be ``sha256`` when given)."""
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise VerificationError(f"bytes with sha256 {digest} are not the expected {sha256}")
    target = cache_path(digest)
    if not target.is_file():
        paths.atomic_write(target, data)
    return target
