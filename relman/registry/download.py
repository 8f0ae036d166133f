"""Downloads from a registry server: received, hashed and written at once; checked, resumed.

A body goes through the pipeline of :mod:`~relman.registry.download_pipeline`: the calling
thread receives from the socket straight into a free buffer of a small ring (``readinto`` of
the body as ``http.client`` reads it, no bytes object per block), each digest is computed on
a thread of its own and the file is written on another, so a download costs about what its
slowest part costs (SHA-256, or the disk), with a few MiB in flight whatever its size.

Only the digests that verification needs are computed: SHA-256 always (it names the cache
file); SHA-1 and MD5 when the caller asks (:func:`fetch` returns all three, as
:meth:`Registry.download <relman.registry.base.Registry.download>` promises), or when the
server gives no SHA-256 for the item and one of them is the only checksum it has.

- A body cut short (a reset connection, fewer bytes than ``Content-Length``) is resumed with
  ``Range: bytes=N-`` when the server offers ranges and answers 206 for the same bytes (the
  same ``X-Checksum-*``); otherwise the download starts again from the first byte, on an
  emptied file and fresh hashes. Attempts are bounded.
- The digests are compared with the ``X-Checksum-Sha256/-Sha1/-Md5`` headers (those
  computed) and with the digests the caller expects (the build record's, the storage API's);
  a mismatch raises :class:`~relman.errors.VerificationError`.
- A file is written beside its destination (around the page cache where the system allows
  it), made durable (``fsync``) and renamed over it (``os.replace``) only when every check
  has passed: a crash, a cancel or a failed check leaves nothing half-written.

:func:`fetch_to_cache` keeps the bytes in the content-addressed download cache
(``<cache>/downloads/ab/abcd…``, by SHA-256) that "verify now" and the sidecar reads use.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3

from relman import paths
from relman.errors import Cancelled, InputError, UsageError, VerificationError
from relman.model import CancelToken, Digests, ProgressCallback
from relman.registry.base import DIGESTS
from relman.registry.download_pipeline import Pipeline, Reader, fill
from relman.registry.http import ConnectionFailed, HttpClient

logger = logging.getLogger(__name__)

ATTEMPTS = 4
_HEADERS = {"sha256": "X-Checksum-Sha256", "sha1": "X-Checksum-Sha1", "md5": "X-Checksum-Md5"}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: What reading a body raises when the connection breaks (OSError: resets, timeouts, TLS).
_BROKEN = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


@dataclass(frozen=True, slots=True)
class _Source:
    """What to read and how: ``client.url(path)``, named ``label`` in messages."""

    client: HttpClient
    path: str
    label: str
    progress: ProgressCallback | None
    cancel: CancelToken | None
    attempts: int


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
    """Download ``client.url(path)`` to ``dest`` with its three digests (see the module
    docstring); ``label`` names the item in messages (``libs-dev/app/1.0/app.jar``);
    ``expected`` maps digest names (sha256, sha1, md5) to the hex the bytes must have (None:
    not known)."""
    dest = Path(dest)
    if dest.is_dir():
        raise UsageError(f"{dest}: is a folder; give the file to download into")
    source = _Source(client, path, label, progress, cancel, attempts)
    job = _into_file(source, DIGESTS, expected, dest, lambda _digests: dest)
    found = job.digests
    return Digests(job.done, found["sha256"], found["sha1"], found["md5"])


def fetch_to_cache(
    client: HttpClient,
    path: str,
    *,
    label: str,
    sha256: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    attempts: int = ATTEMPTS,
) -> Path:
    """Download ``client.url(path)`` into the download cache and return its file there:
    SHA-256 only (checked against ``sha256`` when given and the server's header), unless
    the server gives no SHA-256 (see the module docstring)."""
    source = _Source(client, path, label, progress, cancel, attempts)
    expected = {"sha256": sha256} if sha256 else None
    incoming = cache_root() / "incoming" / "download"
    job = _into_file(source, ("sha256",), expected, incoming, lambda d: cache_path(d["sha256"]))
    return cache_path(job.digests["sha256"])


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
    job = _transfer(_Source(client, path, label, progress, cancel, attempts), None, wanted)
    _check(label, job.digests, job.checksums or {}, expected or {})
    return job.done, job.digests


def _into_file(
    source: _Source,
    algorithms: Sequence[str],
    expected: Mapping[str, str | None] | None,
    beside: Path,
    target: Callable[[Mapping[str, str]], Path],
) -> _Download:
    """Download into a temporary file beside ``beside`` (in its folder, named after it),
    check it, make it durable and rename it to ``target(digests)``; on any failure the
    temporary file is removed."""
    paths.ensure_dir(beside.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{beside.name}.", suffix=".part", dir=beside.parent)
    tmp = Path(tmp_name)
    dest = beside
    try:
        try:
            job = _transfer(source, fd, algorithms)
            saved = "; nothing was saved"
            _check(source.label, job.digests, job.checksums or {}, expected or {}, saved)
            os.fsync(fd)
        finally:
            os.close(fd)
        dest = target(job.digests)
        paths.ensure_dir(dest.parent)
        os.replace(tmp, dest)
    except OSError as exc:
        raise InputError(f"{dest}: cannot write the download ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return job


def _transfer(source: _Source, fd: int | None, algorithms: Sequence[str]) -> _Download:
    """Read the whole body (into the file ``fd`` unless None), resuming or starting over
    after a body cut short, at most ``source.attempts`` times; the job holds the digests
    afterwards."""
    job = _Download(source, fd, algorithms)
    try:
        for attempt in range(1, source.attempts + 1):
            try:
                job.read()
                break
            except _CutShort as exc:
                if attempt == source.attempts:
                    raise ConnectionFailed(
                        f"{exc} after {attempt} attempts", kind="reset", url=exc.url
                    ) from None
                logger.info("%s; trying again from byte %d", exc, job.done)
        job.digests = job.finish()
    finally:
        job.close()
    return job


class _Download:
    """One download in progress: the file, the pipeline, the bytes held so far and what the
    first answer said about the bytes (size, checksum headers, ranges)."""

    def __init__(self, source: _Source, fd: int | None, algorithms: Sequence[str]) -> None:
        self.source = source
        self.label = source.label
        self.fd = fd
        self.algorithms = tuple(algorithms)
        self.pipeline: Pipeline | None = None
        self.digests: dict[str, str] = {}
        self.done = 0
        self.total: int | None = None
        self.checksums: dict[str, str] | None = None
        self.ranges = False

    def close(self) -> None:
        if self.pipeline is not None:
            self.pipeline.close()

    def finish(self) -> dict[str, str]:
        """The digests of the whole body, once :meth:`read` has read it."""
        assert self.pipeline is not None
        return self.pipeline.hexdigests()

    def restart(self) -> None:
        """Start again from the first byte: an empty file, fresh hashes."""
        self.close()
        self.pipeline = None
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.lseek(self.fd, 0, os.SEEK_SET)
        self.done = 0

    def read(self) -> None:
        """One GET, ranged from ``done`` when resuming; raises :class:`_CutShort` when the
        body ends early (``done`` counts what was kept)."""
        headers = {"Accept-Encoding": "identity"}
        if self.done and self.ranges:
            headers["Range"] = f"bytes={self.done}-"
        elif self.done:
            self.restart()
        source = self.source
        response = source.client.open(
            "GET", source.path, headers=headers, ok=(200, 206), what=f"download {self.label}"
        )
        with contextlib.closing(response):
            if self._start_of(response) != self.done:
                self.restart()  # a whole body came back, or a range we cannot place
                if response.status_code != 200:
                    raise _CutShort(self, None)
            if self.pipeline is None:
                self.pipeline = Pipeline(self._algorithms(), self.fd)
            reader = _body_reader(response)
            while True:
                if source.cancel is not None and source.cancel.cancelled:
                    raise Cancelled()
                buf = self.pipeline.take()
                size, broken = fill(reader, buf, _BROKEN)
                self.pipeline.hand_on(buf, size)
                self.done += size
                if size and source.progress is not None:
                    source.progress(self.done, self.total or 0)
                if broken is not None:
                    raise _CutShort(self, broken)
                if size < len(buf):
                    break
        if self.total is not None and self.done != self.total:
            raise _CutShort(self, None)

    def _algorithms(self) -> tuple[str, ...]:
        """The digests asked for, and the server's only checksum when it has no SHA-256."""
        known = self.checksums or {}
        if "sha256" in known or not known:
            return self.algorithms
        weaker = "sha1" if "sha1" in known else "md5"
        return tuple(dict.fromkeys([*self.algorithms, weaker]))

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
            self.total = int(length) if _plain(response) and length.isdigit() else None
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


def _plain(response: requests.Response) -> bool:
    return response.headers.get("Content-Encoding", "identity").strip().lower() == "identity"


def _body_reader(response: requests.Response) -> Reader:
    """``readinto`` for the body of ``response``. A plain body is read by ``http.client``
    straight from the socket into the buffer (urllib3's own ``readinto`` reads a bytes
    object and copies it); an encoded one (a proxy that compressed it though relman asked
    for ``identity``) is decoded by urllib3 first."""
    raw = response.raw
    direct = getattr(raw, "_fp", None)
    if _plain(response) and isinstance(direct, http.client.HTTPResponse):
        return direct.readinto

    def decoded(view: memoryview) -> int:
        data: bytes = raw.read(len(view), decode_content=True)
        view[: len(data)] = data
        return len(data)

    return decoded


class _CutShort(ConnectionFailed):
    def __init__(self, download: _Download, exc: BaseException | None) -> None:
        of = f" of {download.total}" if download.total is not None else ""
        why = "the connection was reset" if exc is not None else "the body ended early"
        super().__init__(
            f"{download.label}: cut short after {download.done}{of} bytes ({why})",
            kind="reset",
            url=download.source.client.url(download.source.path),
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
