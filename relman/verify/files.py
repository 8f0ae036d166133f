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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from relman.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, ChecksumListError, RelmanError
from relman.model import CancelToken, ProgressCallback
from relman.verify.checksums import LIST_NAMES, SIDECAR_SUFFIXES, ChecksumEntry
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
from relman.verify.signatures.dispatch import Prepared
from relman.verify.signatures.dispatch import prepare as prepare_signature
from relman.verify.signatures.dispatch import sidecars as signature_sidecars

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
        sources = ", ".join(c.source for c in self.checks)
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


def _entry_source(list_path: Path, entry: ChecksumEntry, relative_to: Path) -> str:
    try:
        shown = list_path.relative_to(relative_to)
    except ValueError:
        shown = list_path
    return f"{display_path(shown)}:{entry.line}"


def load_explicit_lists(paths: Iterable[Path], index: ChecksumIndex) -> list[Path]:
    """Parse each ``--checksums`` list now, so a malformed one stops the command (exit 2)."""
    loaded = []
    for path in paths:
        index.load(path)
        loaded.append(absolute(path))
    return loaded


def plan(
    files: Sequence[Path],
    *,
    sha256: str | None = None,
    checksum_lists: Sequence[Path] = (),
    signatures: Sequence[Path] = (),
    provenance: Sequence[Path] = (),
    discover: bool = True,
    require_signature: bool = False,
    context: Context | None = None,
    index: ChecksumIndex | None = None,
) -> list[FileJob]:
    """Work out what each file must match.

    Raises :class:`ChecksumListError` for a malformed ``--checksums`` list. A malformed list or
    sidecar found beside a file makes that file's job an error instead. ``signatures`` and
    ``provenance`` apply to every file (the CLI allows them with one file only). ``context``
    defaults to the keys of the trust store.
    """
    if index is None:
        index = ChecksumIndex(context if context is not None else default_context())
    context = index.context
    explicit = load_explicit_lists(checksum_lists, index)
    given = tuple(
        prepare_signature(p, context, source=display_path(p)) for p in (*signatures, *provenance)
    )
    jobs = []
    for file in files:
        expected: list[Expected] = []
        if sha256 is not None:
            expected.append(Expected("sha256", sha256, "--sha256"))
        target = absolute(file)
        lists: list[Path] = []
        try:
            for list_path in explicit:
                for src, entry in index.targets(list_path).get(str(target), []):
                    expected.append(
                        Expected(
                            entry.algorithm, entry.hexdigest, _entry_source(src, entry, Path.cwd())
                        )
                    )
                    lists.append(src)
            if discover:
                found, found_lists = _discover(target, index, skip=set(explicit))
                expected.extend(found)
                lists.extend(found_lists)
        except RelmanError as exc:
            jobs.append(FileJob(path=Path(file), error=str(exc)))
            continue
        prepared = list(given)
        if discover:
            prepared.extend(prepare_signature(s, context) for s in signature_sidecars(target))
        list_results = tuple(r for lst in dict.fromkeys(lists) for r in index.signatures(lst))
        jobs.append(
            FileJob(
                path=Path(file),
                expected=tuple(dict.fromkeys(expected)),
                signatures=tuple(prepared),
                list_signatures=list_results,
                require_signature=require_signature,
            )
        )
    return jobs


def default_context() -> Context:
    """The keys of the trust store (an unreadable store is an input error)."""
    from relman.verify import truststore

    return Context(keys=tuple(truststore.trusted_keys()))


def _discover(
    target: Path, index: ChecksumIndex, skip: set[Path]
) -> tuple[list[Expected], list[Path]]:
    """Sidecars ``FILE.sha256`` ... and ``SHA256SUMS``-style lists beside ``target``."""
    found: list[Expected] = []
    lists: list[Path] = []
    folder = target.parent
    for suffix in SIDECAR_SUFFIXES:
        sidecar = target.with_name(target.name + suffix)
        if sidecar in skip or not sidecar.is_file():
            continue
        for entry in index.load(sidecar):
            source = display_path(sidecar.name)
            if entry.name is not None and Path(entry.name).name != target.name:
                problem = f"{source} is for {entry.name!r}, not {target.name!r}"
                found.append(Expected(entry.algorithm, entry.hexdigest, source, problem))
                continue
            found.append(Expected(entry.algorithm, entry.hexdigest, source))
    for name in LIST_NAMES:
        list_path = folder / name
        if list_path in skip or list_path == target or not list_path.is_file():
            continue
        for src, entry in index.targets(list_path).get(str(target), []):
            found.append(
                Expected(entry.algorithm, entry.hexdigest, _entry_source(src, entry, folder))
            )
            lists.append(src)
    return found, lists


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
