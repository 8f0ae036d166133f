"""Download and verify one artifact: its bytes into the content-addressed cache, hashed as
they arrive and once more from the cache, compared with every SHA-256 anyone recorded for them.

The sources compared are the registry's own (the SHA-256 it computed when the bytes arrived),
the one the deployer declared with them (Artifactory's ``originalChecksums``: when it differs,
the bytes stored are not the bytes that were deployed) and the build record's. The answer
fails closed: a differing digest fails it, and so does having nothing to compare with.

Nothing half-written stays behind: the download streams into a temporary file that is removed
on a failure or a cancel, and only whole, checked bytes are renamed into the cache.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from relman import paths
from relman.errors import VerificationError
from relman.model import CancelToken, ProgressCallback
from relman.registry import download
from relman.registry.base import Registry
from relman.registry.browse import ItemDetails, describe
from relman.verify.hashing import hash_file

REGISTRY = "registry"
DECLARED = "deployer"
RECORD = "build record"
#: What each source of a SHA-256 is, in words.
SOURCE_WORDS = {
    REGISTRY: "the registry's SHA-256 (computed when the bytes arrived)",
    DECLARED: "the SHA-256 the deployer declared with the bytes",
    RECORD: "the build record's SHA-256",
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """The bytes' SHA-256 against one source: ``ok`` None when that source records none."""

    source: str
    expected: str | None
    ok: bool | None

    @property
    def text(self) -> str:
        words = SOURCE_WORDS.get(self.source, self.source)
        if self.ok is None:
            return f"{words}: not recorded"
        return f"{words}: {'equal' if self.ok else 'DIFFERENT'} ({self.expected})"


@dataclass(frozen=True, slots=True)
class ArtifactCheck:
    """The outcome of :func:`download_and_verify`. ``sha256`` and ``size`` are those of the
    bytes received (None when the download itself was refused, with ``error`` saying why);
    ``cached`` is where the bytes are kept."""

    repo: str
    path: str
    details: ItemDetails | None
    comparisons: tuple[Comparison, ...] = ()
    sha256: str | None = None
    size: int | None = None
    cached: Path | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Verified: no error, at least one source to compare with, every one equal."""
        return (
            self.error is None
            and any(c.ok for c in self.comparisons)
            and all(c.ok is not False for c in self.comparisons)
        )

    @property
    def summary(self) -> str:
        """One plain line: verified against what, or why not."""
        label = f"{self.repo}/{self.path}"
        if self.error is not None:
            return f"{label}: not verified: {self.error}"
        differing = [c for c in self.comparisons if c.ok is False]
        if differing:
            names = ", ".join(SOURCE_WORDS.get(c.source, c.source) for c in differing)
            return f"{label}: FAILED: the bytes have SHA-256 {self.sha256}, which is not {names}"
        equal = [c.source for c in self.comparisons if c.ok]
        if not equal:
            return (
                f"{label}: not verified: neither the registry nor a build record gives a "
                "SHA-256 to compare the bytes with"
            )
        return f"{label}: verified: the SHA-256 of the bytes equals {_and(equal)}"


def download_and_verify(
    registry: Registry,
    repo: str,
    path: str,
    *,
    record_sha256: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ArtifactCheck:
    """Download ``repo/path`` into the cache, hash it again there, compare (see the module
    docstring). ``progress`` gets (bytes done, bytes in all) over both passes; a cancel raises
    :class:`~relman.errors.Cancelled` and leaves nothing behind."""
    details = describe(registry, repo, path)
    size = details.location.size or 0

    def downloading(done: int, _total: int) -> None:
        if progress is not None:
            progress(done, 2 * size)

    def rehashing(done: int, _total: int) -> None:
        if progress is not None:
            progress(size + done, 2 * size)

    incoming = download.cache_root() / "incoming" / f"{os.getpid()}-{uuid.uuid4().hex}"
    try:
        digests = registry.download(repo, path, incoming, progress=downloading, cancel=cancel)
    except VerificationError as exc:
        return ArtifactCheck(repo, path, details, error=str(exc))
    target = download.cache_path(digests.sha256)
    paths.ensure_dir(target.parent)
    os.replace(incoming, target)
    again = hash_file(target, ("sha256",), progress=rehashing, cancel=cancel)
    if again.sha256 != digests.sha256:
        return ArtifactCheck(
            repo,
            path,
            details,
            sha256=digests.sha256,
            size=digests.size,
            error=(
                f"the copy in the cache ({target}) hashes to {again.sha256}, not the "
                f"{digests.sha256} received: the disk changed it"
            ),
        )
    known = (
        (REGISTRY, details.location.sha256),
        (DECLARED, details.declared.get("sha256")),
        (RECORD, record_sha256.strip().lower() if record_sha256 else None),
    )
    comparisons = tuple(
        Comparison(source, expected, None if expected is None else expected == digests.sha256)
        for source, expected in known
        if source != DECLARED or expected is not None
    )
    if details.location.size is not None and details.location.size != digests.size:
        return ArtifactCheck(
            repo,
            path,
            details,
            comparisons,
            digests.sha256,
            digests.size,
            target,
            error=f"{digests.size} bytes received, the registry records {details.location.size}",
        )
    return ArtifactCheck(repo, path, details, comparisons, digests.sha256, digests.size, target)


def _and(sources: list[str]) -> str:
    words = [SOURCE_WORDS.get(s, s) for s in sources]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


__all__ = ["ArtifactCheck", "Comparison", "download_and_verify"]
