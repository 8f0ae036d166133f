"""Offline verification of files against every digest and signature found for them.

:func:`plan` gathers, for each file, what to compare it with: ``--sha256``, the lists given
with ``--checksums``, its sidecars (``FILE.sha256`` ...), the ``SHA256SUMS``-style lists in its
folder (with their signatures), and its signatures and provenance (``--signature``,
``--provenance``, ``FILE.sig .asc .minisig .sigstore.json .bundle .intoto.jsonl``), parsed up
front. :func:`verify_all` hashes every file once, in parallel, with every algorithm its checks
and signatures need, then compares and finishes each signature. A file with nothing to compare
against is *not verified*: verification fails closed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from relman.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, ChecksumListError, RelmanError
from relman.model import CancelToken, ProgressCallback
from relman.verify.checksums import LIST_NAMES, SIDECAR_SUFFIXES
from relman.verify.hashing import (
    DEFAULT_ALGORITHM,
    FileDigests,
    HashRequest,
    display_path,
    hash_file,
    hash_many,
)
from relman.verify.index import ChecksumIndex, absolute
from relman.verify.signatures.base import WHOLE_FILE, Artifact, Context, SignatureResult
from relman.verify.signatures.dispatch import SIDECAR_SUFFIXES as SIGNATURE_SUFFIXES
from relman.verify.signatures.dispatch import Prepared
from relman.verify.signatures.dispatch import prepare as prepare_signature

CHECKSUM = "checksum"


@dataclass(frozen=True, slots=True)
class Expected:
    """A digest a file should have, and where relman learned it."""

    algorithm: str
    hexdigest: str
    source: str
    #: Set when the source itself disqualifies the match (a sidecar naming another file).
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One check of a file: ``kind`` is ``checksum``, ``signature`` or ``provenance``."""

    kind: str
    ok: bool
    source: str
    detail: str
    algorithm: str | None = None
    format: str | None = None
    signer: str | None = None
    fingerprint: str | None = None
    facts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_signature(cls, result: SignatureResult) -> Check:
        return cls(
            kind=result.kind,
            ok=result.ok,
            source=result.source,
            detail=result.detail,
            format=result.format,
            signer=result.signer,
            fingerprint=result.fingerprint,
            facts=MappingProxyType(dict(result.facts)),
        )

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "ok": self.ok,
            "source": self.source,
            "detail": self.detail,
        }
        if self.kind != CHECKSUM:
            out["format"] = self.format
            out["signer"] = self.signer
            out["fingerprint"] = self.fingerprint
            out["facts"] = dict(self.facts)
        return out


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file to verify: what it must match, or why it cannot be checked at all."""

    path: Path
    expected: tuple[Expected, ...] = ()
    error: str | None = None
    signatures: tuple[Prepared, ...] = ()
    #: Signature results of the checksum lists that name this file.
    list_signatures: tuple[SignatureResult, ...] = ()
    require_signature: bool = False

    @property
    def algorithms(self) -> tuple[str, ...]:
        needed = [e.algorithm for e in self.expected]
        for prepared in self.signatures:
            needed.extend(sorted(a for a in prepared.needs if a != WHOLE_FILE))
        return tuple(dict.fromkeys((DEFAULT_ALGORITHM, *needed)))


@dataclass(frozen=True, slots=True)
class FileResult:
    path: Path
    checks: tuple[Check, ...] = ()
    digests: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    size: int | None = None
    error: str | None = None
    reason: str | None = None

    @property
    def display(self) -> str:
        return display_path(self.path)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def sha256(self) -> str | None:
        return self.digests.get("sha256")

    @property
    def status(self) -> str:
        """``verified``, ``failed``, ``not-verified`` (nothing to compare) or ``error``."""
        if self.error is not None:
            return "error"
        if not self.checks:
            return "not-verified"
        return "verified" if self.ok else "failed"

    @property
    def summary(self) -> str:
        """One line saying why the file is or is not verified."""
        if self.error is not None:
            return self.error
        if self.reason is not None:
            return self.reason
        failed = [c for c in self.checks if not c.ok]
        if failed:
            return failed[0].detail
        sources = ", ".join(
            f"{c.source} by {c.signer}" if c.signer and c.kind != CHECKSUM else c.source
            for c in self.checks
        )
        return f"{len(self.checks)} check{'s' if len(self.checks) != 1 else ''} passed ({sources})"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.display,
            "ok": self.ok,
            "sha256": self.sha256,
            "checks": [c.to_json() for c in self.checks],
        }
        if self.size is not None:
            out["size"] = self.size
        if self.error is not None or self.reason is not None:
            out["error"] = self.error or self.reason
        return out


@dataclass(frozen=True, slots=True)
class Report:
    files: tuple[FileResult, ...]

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.ok for f in self.files)

    @property
    def exit_code(self) -> int:
        """2 when an input could not be read, else 1 when a file is not verified, else 0."""
        if any(f.error is not None for f in self.files):
            return EXIT_USAGE
        return EXIT_OK if self.ok else EXIT_FAILED

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "files": [f.to_json() for f in self.files]}


def load_explicit_lists(paths: Iterable[Path], index: ChecksumIndex) -> list[Path]:
    """Parse each ``--checksums`` list now, so a malformed one stops the command (exit 2)."""
    loaded = []
    for path in paths:
        index.load(path)
        loaded.append(absolute(path))
    return loaded


@dataclass(frozen=True, slots=True)
class _FolderEvidence:
    #: Names of files that have a checksum sidecar or a signature beside them.
    bases: frozenset[str]
    #: The folder's own ``SHA256SUMS``-style lists (those not given with ``--checksums``).
    lists: tuple[str, ...]


_EVIDENCE_SUFFIXES = tuple(dict.fromkeys((*SIDECAR_SUFFIXES, *SIGNATURE_SUFFIXES)))


class Planner:
    """Works out what each file must match; safe to call from several worker threads.

    ``signatures`` and ``provenance`` apply to every file (the CLI allows them with one file
    only). ``context`` defaults to the keys of the trust store. Each folder is listed once,
    so discovering sidecars costs a set lookup per candidate, not a ``stat``.
    """

    def __init__(
        self,
        *,
        sha256: str | None = None,
        checksum_lists: Sequence[Path] = (),
        signatures: Sequence[Path] = (),
        provenance: Sequence[Path] = (),
        discover: bool = True,
        require_signature: bool = False,
        context: Context | None = None,
        index: ChecksumIndex | None = None,
    ) -> None:
        if index is None:
            index = ChecksumIndex(context if context is not None else default_context())
        self.index = index
        self.context = index.context
        self.sha256 = sha256
        self.discover = discover
        self.require_signature = require_signature
        self.explicit = load_explicit_lists(checksum_lists, index)
        self.given = tuple(
            prepare_signature(p, self.context, source=display_path(p))
            for p in (*signatures, *provenance)
        )
        self._listings: dict[str, frozenset[str]] = {}
        self._labels: dict[tuple[str, str], str] = {}
        self._list_paths: dict[tuple[str, str], tuple[Path, bool]] = {}
        self._evidence_cache: dict[str, _FolderEvidence] = {}
        self._cwd = os.getcwd()

    def files_in(self, folder: str) -> frozenset[str]:
        """Names of the regular files in ``folder`` (cached; empty when it cannot be listed)."""
        found = self._listings.get(folder)
        if found is None:
            try:
                with os.scandir(folder) as entries:
                    found = frozenset(e.name for e in entries if e.is_file())
            except OSError:
                found = frozenset()
            self._listings[folder] = found
        return found

    def _list_label(self, list_path: Path, relative_to: str) -> str:
        """How a list is named in a check's source (relative where that is shorter)."""
        key = (str(list_path), relative_to)
        label = self._labels.get(key)
        if label is None:
            text = key[0]
            if text.startswith(relative_to.rstrip(os.sep) + os.sep):
                text = text[len(relative_to.rstrip(os.sep)) + 1 :]
            label = self._labels[key] = display_path(text)
        return label

    def plan(self, file: Path) -> FileJob:
        # Plain string operations on purpose: thousands of files are planned while other
        # files hash, and pathlib's parsing would be most of the planning time.
        target = os.path.normpath(os.path.abspath(file))
        folder, name = os.path.split(target)
        expected: list[Expected] = []
        if self.sha256 is not None:
            expected.append(Expected("sha256", self.sha256, "--sha256"))
        lists: list[Path] = []
        try:
            for list_path in self.explicit:
                label = self._list_label(list_path, self._cwd)
                for src, entry in self.index.targets(list_path).get(target, []):
                    source = f"{label}:{entry.line}"
                    expected.append(Expected(entry.algorithm, entry.hexdigest, source))
                    lists.append(src)
            evidence = self._evidence(folder) if self.discover else None
            if evidence is not None:
                self._discover(folder, name, target, expected, lists, evidence)
        except RelmanError as exc:
            return FileJob(path=Path(file), error=str(exc))
        path = file if isinstance(file, Path) else Path(file)
        prepared = list(self.given)
        if evidence is not None and name in evidence.bases:
            names = self.files_in(folder)
            prepared.extend(
                prepare_signature(Path(target + suffix), self.context)
                for suffix in SIGNATURE_SUFFIXES
                if name + suffix in names
            )
        list_results = tuple(r for lst in dict.fromkeys(lists) for r in self.index.signatures(lst))
        return FileJob(
            path=path,
            expected=tuple(dict.fromkeys(expected)),
            signatures=tuple(prepared),
            list_signatures=list_results,
            require_signature=self.require_signature,
        )

    def _evidence(self, folder: str) -> _FolderEvidence:
        """Which files of ``folder`` have sidecars or signatures, and its own lists (cached).

        Most files of a release folder have none: planning them skips every suffix test.
        """
        found = self._evidence_cache.get(folder)
        if found is None:
            names = self.files_in(folder)
            bases = {
                file[: -len(suffix)]
                for file in names
                for suffix in _EVIDENCE_SUFFIXES
                if file.endswith(suffix) and len(file) > len(suffix)
            }
            own_lists = tuple(
                list_name
                for list_name in LIST_NAMES
                if list_name in names and not self._folder_list(folder, list_name)[1]
            )
            found = self._evidence_cache[folder] = _FolderEvidence(frozenset(bases), own_lists)
        return found

    def _discover(
        self,
        folder: str,
        name: str,
        target: str,
        expected: list[Expected],
        lists: list[Path],
        evidence: _FolderEvidence,
    ) -> None:
        """Sidecars ``FILE.sha256`` ... and ``SHA256SUMS``-style lists beside ``target``."""
        names = self.files_in(folder)
        for suffix in SIDECAR_SUFFIXES if name in evidence.bases else ():
            if name + suffix not in names:
                continue
            sidecar = Path(target + suffix)
            if sidecar in self.explicit:
                continue
            source = display_path(name + suffix)
            for entry in self.index.load(sidecar):
                if entry.name is not None and os.path.basename(entry.name) != name:
                    problem = f"{source} is for {entry.name!r}, not {name!r}"
                    expected.append(Expected(entry.algorithm, entry.hexdigest, source, problem))
                    continue
                expected.append(Expected(entry.algorithm, entry.hexdigest, source))
        for list_name in evidence.lists:
            if list_name == name:
                continue
            list_path, _ = self._folder_list(folder, list_name)
            label = self._list_label(list_path, folder)
            for src, entry in self.index.targets(list_path).get(target, []):
                expected.append(Expected(entry.algorithm, entry.hexdigest, f"{label}:{entry.line}"))
                lists.append(src)

    def _folder_list(self, folder: str, list_name: str) -> tuple[Path, bool]:
        """The list's path, and whether ``--checksums`` named it already (cached)."""
        key = (folder, list_name)
        found = self._list_paths.get(key)
        if found is None:
            path = Path(folder, list_name)
            found = self._list_paths[key] = (path, path in self.explicit)
        return found


def plan(files: Sequence[Path], **options: Any) -> list[FileJob]:
    """Plan every file (see :class:`Planner` for the options).

    Raises :class:`ChecksumListError` for a malformed ``--checksums`` list. A malformed list or
    sidecar found beside a file makes that file's job an error instead.
    """
    planner = Planner(**options)
    return [planner.plan(f) for f in files]


def default_context() -> Context:
    """The keys of the trust store (an unreadable store is an input error)."""
    from relman.verify import truststore

    return Context(keys=tuple(truststore.trusted_keys()))


def compare(job: FileJob, digests: FileDigests) -> FileResult:
    """Compare a file's digests with everything it is expected to match."""
    checks = []
    for exp in job.expected:
        actual = digests.digests[exp.algorithm]
        if exp.problem is not None:
            checks.append(Check(CHECKSUM, False, exp.source, exp.problem, exp.algorithm))
        elif actual == exp.hexdigest:
            checks.append(
                Check(CHECKSUM, True, exp.source, f"{exp.algorithm} matches", exp.algorithm)
            )
        else:
            detail = (
                f"{exp.algorithm} mismatch against {exp.source}: "
                f"expected {exp.hexdigest}, got {actual}"
            )
            if digests.size == 0:
                detail += " (the file is empty)"
            checks.append(Check(CHECKSUM, False, exp.source, detail, exp.algorithm))
    checks.extend(Check.from_signature(r) for r in job.list_signatures)
    if job.signatures:
        artifact = Artifact(
            path=job.path,
            size=digests.size,
            digests={a: bytes.fromhex(h) for a, h in digests.digests.items()},
        )
        checks.extend(Check.from_signature(p.finish(artifact)) for p in job.signatures)
    if job.require_signature and not any(c.ok and c.kind != CHECKSUM for c in checks):
        checks.append(
            Check(
                "signature",
                False,
                "--require-signature",
                "no valid signature by a trusted key (--require-signature asks for one)",
            )
        )
    reason = None
    if not checks:
        reason = (
            f"{display_path(job.path)}: not verified: no digest to compare against "
            "(no --sha256, no --checksums entry, no sidecar, no SHA256SUMS names it, "
            "and no signature)"
        )
    return FileResult(
        path=job.path,
        checks=tuple(checks),
        digests=digests.digests,
        size=digests.size,
        reason=reason,
    )


def verify_job(
    job: FileJob,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FileResult:
    """Verify one planned file (the GUI calls this per file on its pool)."""
    if job.error is not None:
        return FileResult(path=job.path, error=job.error)
    try:
        digests = hash_file(job.path, job.algorithms, progress=progress, cancel=cancel)
    except RelmanError as exc:
        if exc.exit_code == EXIT_USAGE:
            return FileResult(path=job.path, error=str(exc))
        raise
    return compare(job, digests)


def verify_all(
    jobs: Sequence[FileJob],
    *,
    workers: int | None = None,
    cancel: CancelToken | None = None,
    on_result: Callable[[int, FileResult], None] | None = None,
    file_progress: Callable[[int, int, int], None] | None = None,
) -> Report:
    """Hash every runnable job in parallel and compare; results keep the order of ``jobs``."""
    results: list[FileResult | None] = [None] * len(jobs)
    runnable = [i for i, job in enumerate(jobs) if job.error is None]
    for i, job in enumerate(jobs):
        if job.error is not None:
            results[i] = FileResult(path=job.path, error=job.error)
            if on_result is not None:
                on_result(i, results[i])  # type: ignore[arg-type]
    requests = [HashRequest(jobs[i].path, jobs[i].algorithms) for i in runnable]

    def progress_of(k: int, done: int, total: int) -> None:
        if file_progress is not None:
            file_progress(runnable[k], done, total)

    for k, outcome in hash_many(
        requests, workers=workers, file_progress=progress_of, cancel=cancel
    ):
        i = runnable[k]
        if isinstance(outcome, RelmanError):
            result = FileResult(path=jobs[i].path, error=str(outcome))
        else:
            result = compare(jobs[i], outcome)
        results[i] = result
        if on_result is not None:
            on_result(i, result)
    return Report(tuple(r for r in results if r is not None))


def verify_files(
    files: Sequence[Path],
    planner: Planner,
    *,
    workers: int | None = None,
    cancel: CancelToken | None = None,
) -> Report:
    """Plan every file, then hash and compare them on worker threads, in the order given.

    Planning is pure Python and holds the interpreter lock, so it runs first, in one go:
    interleaved with hashing it would make the hashing threads wait for the lock (measured:
    1.55x a one-thread hashlib loop this way, 1.4x interleaved, on 2 cores).
    """
    from relman.verify.hashing import default_workers
    from relman.verify.parallel import run_all

    jobs = []
    for file in files:
        if cancel is not None:
            cancel.raise_if_cancelled()
        jobs.append(planner.plan(file))

    def work(index: int) -> FileResult:
        return verify_job(jobs[index], cancel=cancel)

    outcomes = run_all(len(jobs), work, workers=workers or default_workers(), cancel=cancel)
    return Report(
        tuple(
            FileResult(path=job.path, error=str(outcome))
            if isinstance(outcome, RelmanError)
            else outcome
            for job, outcome in zip(jobs, outcomes, strict=True)
        )
    )


def is_checksum_file(path: Path) -> bool:
    """True for lists and sidecars, which a dropped folder holds but are not artifacts."""
    name = path.name
    return name in LIST_NAMES or any(name.endswith(s) for s in SIDECAR_SUFFIXES)


__all__ = [
    "CHECKSUM",
    "Check",
    "ChecksumIndex",
    "ChecksumListError",
    "Expected",
    "FileJob",
    "FileResult",
    "Report",
    "compare",
    "is_checksum_file",
    "plan",
    "verify_all",
    "verify_job",
]
