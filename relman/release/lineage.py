"""Lineage: commit -> build(s) -> artifact(s) -> environment(s), and the findings on it.

:func:`build_lineage` reads a registry once (every item of every repository, joined in
memory; the build records; the promotion records of the builds asked about) and returns an
immutable :class:`Lineage` that the command line prints and the GUI views read. It never
re-hashes bytes: digests are the ones the registry recorded (the "verify now" action
re-hashes). Signature sidecars are checked with the recorded digest, each distinct one once a
run, and those that verified are kept in relman's cache folder for the next run (keyed by the
sidecar's bytes, the artifact's digest and the trust store; see :class:`VerifyCache`).

An artifact of a build is located by its SHA-256 and by the ``build.name``/``build.number``
properties a deploy sets. It is in an environment when one of its locations is in the
environment's repository (``repository`` mode) or carries the environment's name in its label
property (``label`` mode); a build is in every environment one of its artifacts is in.

Findings (:data:`FINDING_KINDS`):

- ``rebuilt``: two builds of one name and one commit list an artifact name with two SHA-256;
- ``overwritten``: a location of a build's artifact whose recorded SHA-256 is not the build's;
- ``untraceable``: an item in an environment that no build record claims, or a build without
  an identity (commit, start time, a number >= 1);
- ``unsigned``: an artifact with no signature sidecar at any of its locations;
- ``bad-signature``: a sidecar that does not verify against the trust store. Formats that
  need only the SHA-256 (cosign, DSSE/in-toto) are checked with the recorded digest; those
  that need other digests or the bytes themselves are "not checked without the bytes";
- ``skipped-stage``: a build in environment k >= 1 that never was in environment k-1 (neither
  there now nor named by a valid promotion record as a source or target);
- ``unverified-promotion``: a build in environment k >= 1 without a valid promotion record to
  it whose subjects are the build's artifacts.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relman.errors import RelmanError, UsageError
from relman.model import (
    DEFAULT_LABEL_PROPERTY,
    ArtifactRecord,
    BuildRecord,
    CancelToken,
    Environment,
    Location,
    Profile,
    ProgressCallback,
)
from relman.registry.base import SIDECAR_SUFFIXES, SIGNATURE_SIDECARS, NotFound, Registry
from relman.registry.local import LocalRegistry
from relman.release import records
from relman.release.gc_pause import gc_paused
from relman.release.lineage_cache import VerifyCache, check_key
from relman.release.lineage_model import (
    FINDING_KINDS,
    ArtifactNode,
    BuildNode,
    Finding,
    Lineage,
    Promotion,
    SignatureCheck,
    find_builds,
)
from relman.verify.signatures.base import Artifact, Context, SignatureFormatError
from relman.verify.signatures.dispatch import prepare_bytes

__all__ = [
    "FINDING_KINDS",
    "ArtifactNode",
    "BuildNode",
    "Finding",
    "Lineage",
    "Promotion",
    "SignatureCheck",
    "build_lineage",
    "find_builds",
    "gc_paused",
]

logger = logging.getLogger(__name__)

_HEX = re.compile(r"[0-9a-f]+")
_CHECKABLE = frozenset({"sha256"})


def build_lineage(
    registry: Registry,
    profile_or_environments: Profile | Sequence[Environment],
    context: Context,
    *,
    build: str | None = None,
    number: str | None = None,
    commit: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    verification_cache: bool = True,
) -> Lineage:
    """The lineage of every build (or of build ``build`` [number ``number``], or of the builds
    of ``commit``, a prefix of 7 hex digits or more) and the findings on it.

    Unknown builds raise :class:`~relman.registry.base.NotFound`; a malformed commit or a
    number without a build name raise :class:`~relman.errors.UsageError`. ``progress`` is
    called with (builds done, builds) and ``cancel`` is honoured between steps.

    ``verification_cache``: remember, in relman's cache folder, the signatures that verified
    (by the SHA-256 of the sidecar's bytes, the artifact's recorded SHA-256 and size, and the
    trust store), so the next lineage does not check them again; see :class:`VerifyCache`.
    """
    if isinstance(profile_or_environments, Profile):
        environments = profile_or_environments.environments
    else:
        environments = tuple(profile_or_environments)
    wanted_commit = _check_filters(build, number, commit)
    builder = _Builder(registry, environments, context, progress, cancel, verification_cache)
    try:
        indexed = (
            registry.indexed() if isinstance(registry, LocalRegistry) else contextlib.nullcontext()
        )
        with gc_paused(), indexed:
            return builder.run(build, number, wanted_commit)
    finally:
        if builder.cache is not None:
            builder.cache.save()


def _check_filters(build: str | None, number: str | None, commit: str | None) -> str | None:
    if number is not None and build is None:
        raise UsageError("lineage: a build number needs a build name (NAME/NUMBER)")
    if commit is None:
        return None
    wanted = commit.strip().lower()
    if len(wanted) < 7 or not _HEX.fullmatch(wanted):
        raise UsageError(f"commit {commit!r} is not a commit (7 hex digits or more)")
    return wanted


# -- the builder ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Art:
    """An artifact being assembled: its record and the locations found for it."""

    record: ArtifactRecord
    locations: list[Location] = field(default_factory=list)
    overwritten: list[Location] = field(default_factory=list)


@dataclass(slots=True)
class _Build:
    record: BuildRecord
    arts: list[_Art]
    by_sha: dict[str, list[_Art]] = field(default_factory=dict)
    by_path: dict[str, _Art] = field(default_factory=dict)
    by_name: dict[str, list[_Art]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for art in self.arts:
            if art.record.sha256:
                self.by_sha.setdefault(art.record.sha256, []).append(art)
            if art.record.path:
                self.by_path.setdefault(art.record.path, art)
            self.by_name.setdefault(art.record.name, []).append(art)

    def match(self, loc: Location) -> _Art | None:
        """The artifact a location of other bytes stands for: same path, else a unique name."""
        if loc.path in self.by_path:
            return self.by_path[loc.path]
        named = self.by_name.get(loc.name, [])
        return named[0] if len(named) == 1 else None


class _Builder:
    def __init__(
        self,
        registry: Registry,
        environments: tuple[Environment, ...],
        context: Context,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        cache: bool = False,
    ) -> None:
        self.registry = registry
        self.environments = environments
        self.context = context
        self.progress = progress
        self.cancel = cancel
        self.findings: list[Finding] = []
        self.items: dict[tuple[str, str], Location] = {}
        self.sidecars: dict[tuple[str, str], dict[str, Location]] = {}
        self.verified: dict[tuple[str, str, str], SignatureCheck] = {}
        self.checked: dict[str, SignatureCheck] = {}
        # The local registry reads one sidecar without resolving its path (unless a subclass
        # reads sidecars its own way).
        self.local_sidecars = (
            registry
            if isinstance(registry, LocalRegistry)
            and type(registry).sidecars is LocalRegistry.sidecars
            else None
        )
        # A backend's sidecar() reads one file where sidecars() reads them all; used only when
        # both come from the same class (a subclass that reads sidecars its own way is asked).
        self.one_sidecar: Callable[[str, str, str], bytes | None] | None = (
            registry.sidecar  # type: ignore[attr-defined]
            if _owner(registry, "sidecar") is not None
            and _owner(registry, "sidecar") is _owner(registry, "sidecars")
            else None
        )
        self.label_properties = tuple(
            dict.fromkeys(
                e.label or DEFAULT_LABEL_PROPERTY for e in environments if e.mode == "label"
            )
        )
        self.env_cache: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self.union_cache: dict[tuple[tuple[str, ...], ...], tuple[str, ...]] = {}
        self.cache = VerifyCache.open(context) if cache else None

    def _check_cancel(self) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    def run(self, name: str | None, number: str | None, commit: str | None) -> Lineage:
        builds = self._load_builds(name)
        selected = [
            b
            for b in builds
            if (number is None or b.record.number == number)
            and (commit is None or (b.record.vcs_revision or "").lower().startswith(commit))
        ]
        if name is not None and number is not None and not selected:
            raise NotFound(f"no build {name}/{number} in {self.registry!r}")
        if commit is not None and not selected:
            raise NotFound(f"no build of commit {commit} in {self.registry!r}")
        self._scan()
        stray = self._attach(builds)
        untraceable = [] if name or commit else self._untraceable_items(stray)
        rebuilt = self._rebuilt(builds)
        nodes = []
        for done, b in enumerate(selected):
            self._check_cancel()
            if self.progress is not None:
                self.progress(done, len(selected))
            nodes.append(self._node(b, rebuilt.get(b.record.name + "/" + b.record.number, [])))
        if self.progress is not None:
            self.progress(len(selected), len(selected))
        by_build: dict[str, list[Finding]] = {}
        for f in self.findings:
            if f.build is not None:
                by_build.setdefault(f.build, []).append(f)
        return Lineage(
            environments=self.environments,
            builds=tuple(nodes),
            findings=tuple(self.findings),
            untraceable=tuple(untraceable),
            _by_build={k: tuple(v) for k, v in by_build.items()},
        )

    # -- reading -------------------------------------------------------------------------

    def _load_builds(self, name: str | None) -> list[_Build]:
        names = [name] if name is not None else list(self.registry.build_names())
        builds = []
        for build_name in names:
            for build_number in self.registry.build_numbers(build_name):
                self._check_cancel()
                record = self.registry.build_record(build_name, build_number)
                builds.append(_Build(record, [_Art(a) for a in record.artifacts]))
        return builds

    def _scan(self) -> None:
        """Every item of every repository, once; sidecars set apart by the item they serve."""
        if isinstance(self.registry, LocalRegistry):
            self._scan_local(self.registry)
            return
        for repository in self.registry.repositories():
            for count, loc in enumerate(self.registry.items(repository.key)):
                if count % 4096 == 0:
                    self._check_cancel()
                self.items[(loc.repo, loc.path)] = loc
        for (repo, path), loc in list(self.items.items()):
            if not path.endswith(SIDECAR_SUFFIXES):
                continue
            for suffix in SIDECAR_SUFFIXES:
                base = path[: -len(suffix)]
                if path.endswith(suffix) and (repo, base) in self.items:
                    self.sidecars.setdefault((repo, base), {})[suffix] = loc
                    del self.items[(repo, path)]
                    break

    def _scan_local(self, registry: LocalRegistry) -> None:
        """:meth:`_scan` without reading the metadata of the sidecars: only their bytes are
        used (a sidecar whose item is not there is an item like any other)."""
        count = 0
        for repository in registry.repositories():
            repo = repository.key
            files = dict(registry.item_files(repo))
            set_apart: set[str] = set()  # as _scan: a sidecar of a sidecar set apart is an item
            for path, full in files.items():
                count += 1
                if count % 4096 == 0:
                    self._check_cancel()
                if path.endswith(SIDECAR_SUFFIXES):
                    served = None
                    for suffix in SIDECAR_SUFFIXES:
                        base = path[: -len(suffix)]
                        if path.endswith(suffix) and base in files and base not in set_apart:
                            served = suffix
                            break
                    if served is not None:
                        set_apart.add(path)
                        self.sidecars.setdefault((repo, base), {})[served] = Location(repo, path)
                        continue
                self.items[(repo, path)] = registry.item_at(repo, path, full)

    # -- joining items to builds -----------------------------------------------------------

    def _attach(self, builds: list[_Build]) -> list[tuple[Location, str]]:
        """Give every item to the artifacts it stands for; return those no build claims,
        with why."""
        by_key = {(b.record.name, b.record.number): b for b in builds}
        by_sha: dict[str, list[_Build]] = {}
        by_path: dict[str, list[_Build]] = {}
        for b in builds:
            for sha in b.by_sha:
                by_sha.setdefault(sha, []).append(b)
            for path in b.by_path:
                by_path.setdefault(path, []).append(b)
        stray: list[tuple[Location, str]] = []
        for loc in self.items.values():
            names = loc.properties.get("build.name", ())
            numbers = loc.properties.get("build.number", ())
            if names or numbers:
                claims = [by_key[k] for k in _pairs(names, numbers) if k in by_key]
                if not claims:
                    named = ", ".join(f"{n}/{m}" for n, m in _pairs(names, numbers)) or "?"
                    stray.append((loc, f"it names build {named}, which has no build record"))
                for b in claims:
                    if not self._claim(b, loc):
                        stray.append((loc, f"build {b.record} does not list it"))
            elif loc.sha256 in by_sha:
                for b in by_sha[loc.sha256]:
                    for art in b.by_sha[loc.sha256]:
                        art.locations.append(loc)
            elif loc.path in by_path:
                for b in by_path[loc.path]:
                    art = b.by_path[loc.path]
                    art.locations.append(loc)
                    art.overwritten.append(loc)
            else:
                stray.append((loc, "no build record lists its sha256 or its path"))
        return stray

    @staticmethod
    def _claim(b: _Build, loc: Location) -> bool:
        arts = b.by_sha.get(loc.sha256 or "")
        if arts:
            for art in arts:
                art.locations.append(loc)
            return True
        other = b.match(loc)
        if other is None:
            return False
        other.locations.append(loc)
        other.overwritten.append(loc)
        return True

    def _untraceable_items(self, stray: list[tuple[Location, str]]) -> list[Location]:
        found = []
        for loc, why in stray:
            envs = self._environments_of(loc)
            if envs:
                found.append(loc)
                self.findings.append(
                    Finding(
                        "untraceable", None, loc.name, f"{loc} is in {envs[-1]} but {why}", str(loc)
                    )
                )
        return found

    def _environments_of(self, loc: Location) -> tuple[str, ...]:
        """The environments a location is in, in profile order (asked 50,000 times: the
        answer is kept per repository and label values)."""
        key = (loc.repo, *(loc.properties.get(p, ()) for p in self.label_properties))
        found = self.env_cache.get(key)
        if found is None:
            out = []
            for env in self.environments:
                if env.mode == "repository":
                    if loc.repo == env.repo:
                        out.append(env.name)
                elif env.name in loc.properties.get(env.label or DEFAULT_LABEL_PROPERTY, ()):
                    out.append(env.name)
            found = self.env_cache[key] = tuple(out)
        return found

    # -- rebuilt ---------------------------------------------------------------------------

    def _rebuilt(self, builds: list[_Build]) -> dict[str, list[tuple[str, str]]]:
        """``NAME/NUMBER`` -> [(artifact, detail)] for builds of one name and commit whose
        artifacts of one name have different SHA-256."""
        groups: dict[tuple[str, str], list[_Build]] = {}
        for b in builds:
            if b.record.vcs_revision:
                groups.setdefault((b.record.name, b.record.vcs_revision.lower()), []).append(b)
        out: dict[str, list[tuple[str, str]]] = {}
        for (_, commit), members in groups.items():
            if len(members) < 2:
                continue
            shas: dict[str, dict[str, list[str]]] = {}
            for b in members:
                for art in b.arts:
                    if art.record.sha256:
                        shas.setdefault(art.record.name, {}).setdefault(
                            art.record.sha256, []
                        ).append(b.record.number)
            for artifact, by_sha in shas.items():
                if len(by_sha) < 2:
                    continue
                # One detail per artifact, shared by its builds, naming a few variants: a
                # commit built 2,000 times must not make 2,000 texts of 2,000 variants each.
                shown = list(by_sha.items())[:_VARIANTS_SHOWN]
                variants = "; ".join(
                    f"sha256 {sha[:12]}… in build {_numbers(nums)}" for sha, nums in shown
                )
                if len(by_sha) > len(shown):
                    variants += f"; {len(by_sha) - len(shown)} more"
                detail = f"commit {commit[:12]} was built more than once: {variants}"
                for b in members:
                    if artifact in b.by_name:
                        out.setdefault(f"{b.record.name}/{b.record.number}", []).append(
                            (artifact, detail)
                        )
        return out

    # -- one build -------------------------------------------------------------------------

    def _node(self, b: _Build, rebuilt: list[tuple[str, str]]) -> BuildNode:
        label = f"{b.record.name}/{b.record.number}"
        if b.record.identity is None:
            self.findings.append(Finding("untraceable", label, None, _why_no_identity(b.record)))
        for artifact, detail in rebuilt:
            self.findings.append(Finding("rebuilt", label, artifact, detail))
        arts = tuple(self._artifact(label, art) for art in b.arts)
        present = {e for art in arts for e in art.environments}
        environments = tuple(e.name for e in self.environments if e.name in present)
        promotions = self._promotions(b)
        self._stages(label, b, environments, promotions)
        return BuildNode(b.record, arts, environments, promotions)

    def _artifact(self, label: str, art: _Art) -> ArtifactNode:
        record = art.record
        for loc in art.overwritten:
            recorded = f"sha256 {loc.sha256}" if loc.sha256 else "no sha256"
            self.findings.append(
                Finding(
                    "overwritten",
                    label,
                    record.name,
                    f"{loc}: the registry records {recorded}, the build record sha256 "
                    f"{record.sha256 or 'none'}",
                    str(loc),
                )
            )
        locations = art.locations
        location_envs = tuple(map(self._environments_of, locations))
        checks: list[SignatureCheck] = []
        sidecars = self.sidecars
        for loc in locations:
            beside = sidecars.get((loc.repo, loc.path))
            if beside:
                for suffix, side in beside.items():
                    if suffix in SIGNATURE_SIDECARS:
                        checks.append(self._signature(loc, suffix, side))
        if locations and not checks:
            self.findings.append(
                Finding(
                    "unsigned",
                    label,
                    record.name,
                    f"no signature ({' '.join(SIGNATURE_SIDECARS)}) beside "
                    f"{', '.join(str(loc) for loc in art.locations)}",
                )
            )
        for check in checks:
            if check.status == "failed":
                self.findings.append(
                    Finding("bad-signature", label, record.name, check.detail, check.sidecar)
                )
        return ArtifactNode(
            record.name,
            record.path,
            record.sha256,
            tuple(locations),
            location_envs,
            self._union(location_envs),
            tuple(checks),
        )

    def _union(self, location_envs: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
        """The environments of any of the locations, in profile order (one answer per
        combination: there are few)."""
        found = self.union_cache.get(location_envs)
        if found is None:
            present = {e for envs in location_envs for e in envs}
            found = tuple(e.name for e in self.environments if e.name in present)
            self.union_cache[location_envs] = found
        return found

    def _signature(self, loc: Location, suffix: str, side: Location) -> SignatureCheck:
        """Check one sidecar with the recorded digest; identical sidecars of identical bytes
        (copies in other repositories) are checked once."""
        source = f"{loc}{suffix}"
        key = (suffix, side.sha256 or "", loc.sha256 or "")
        cached = self.verified.get(key) if side.sha256 else None
        if cached is not None:
            return _renamed(cached, source)
        check = self._check_signature(loc, suffix, source)
        self.verified[key] = check
        return check

    def _check_signature(self, loc: Location, suffix: str, source: str) -> SignatureCheck:
        try:
            if self.local_sidecars is not None:  # a sidecar its scan listed
                data = self.local_sidecars.listed_sidecar(loc.repo, loc.path + suffix)
            elif self.one_sidecar is not None:  # one file, not every sidecar beside it
                data = self.one_sidecar(loc.repo, loc.path, suffix)
            else:
                data = self.registry.sidecars(loc.repo, loc.path).get(suffix)
        except RelmanError as exc:
            return SignatureCheck(source, "unknown", "failed", f"{source}: {exc}")
        if data is None:
            return SignatureCheck(source, "unknown", "failed", f"{source}: is gone")
        # Identical sidecars of identical bytes (copies in other repositories) are checked
        # once a run, and once for all while the cache keeps them.
        key = check_key(suffix, data, loc)
        done = self.checked.get(key)
        if done is not None:
            return _renamed(done, source)
        check = self.cache.get(key, source) if self.cache is not None else None
        if check is None:
            check = self._verify(loc, suffix, source, data)
            if self.cache is not None and loc.sha256 is not None:
                self.cache.put(key, check)
        self.checked[key] = check
        return check

    def _verify(self, loc: Location, suffix: str, source: str, data: bytes) -> SignatureCheck:
        prepared = prepare_bytes(data, source, self.context)
        if prepared.failure is not None:
            result = prepared.failure
        elif not prepared.needs <= _CHECKABLE:
            needs = ", ".join(sorted(prepared.needs - _CHECKABLE))
            return SignatureCheck(
                source,
                "unknown",
                "not-checked",
                f"{source}: not checked without the bytes (it needs {needs})",
            )
        elif loc.sha256 is None:
            return SignatureCheck(
                source,
                "unknown",
                "not-checked",
                f"{source}: not checked, the registry records no sha256 for its artifact",
            )
        else:
            artifact = Artifact(
                path=Path(loc.path),
                size=loc.size or 0,
                digests={"sha256": bytes.fromhex(loc.sha256)},
            )
            result = prepared.finish(artifact)
        status = "verified" if result.ok else "failed"
        return SignatureCheck(source, result.format, status, result.detail, result.signer)

    # -- promotions ------------------------------------------------------------------------

    def _promotions(self, b: _Build) -> tuple[Promotion, ...]:
        record = b.record
        out = []
        for target, data in self.registry.promotion_records(record.name, record.number):
            source = f"promotion record {record.name}/{record.number} -> {target}"
            # A record that verified before, byte for byte with this trust store, is not
            # checked again (the cache keeps only records and signatures that verified).
            key = "record\x00" + hashlib.sha256(data).hexdigest()[:40]
            known = self.cache.get(key, source) if self.cache is not None else None
            try:
                read = records.read(
                    data,
                    self.context.keys,
                    source=source,
                    verified_by=None if known is None else known.signer,
                )
            except SignatureFormatError as exc:
                out.append(Promotion(target, None, False, str(exc)))
                continue
            if known is None and read.ok and read.signer and self.cache is not None:
                self.cache.put(key, SignatureCheck(source, "dsse", "verified", "", read.signer))
            problem = _record_problem(read, b, target)
            out.append(
                Promotion(
                    environment=target,
                    source=read.source,
                    ok=read.ok and problem is None,
                    detail=read.detail if problem is None else f"{source}: {problem}",
                    signer=read.signer,
                    promoter=read.promoter,
                    time=read.time,
                )
            )
        return tuple(out)

    def _stages(
        self,
        label: str,
        b: _Build,
        environments: tuple[str, ...],
        promotions: tuple[Promotion, ...],
    ) -> None:
        names = [e.name for e in self.environments]
        present = set(environments)
        valid = [p for p in promotions if p.ok]
        # A valid record to or from an environment proves the build was there once (a
        # promotion by move leaves nothing behind).
        reached = present | {p.environment for p in valid} | {p.source for p in valid if p.source}
        for k, env in enumerate(names):
            if k == 0 or env not in present:
                continue
            before = names[k - 1]
            if before not in reached:
                self.findings.append(
                    Finding(
                        "skipped-stage",
                        label,
                        None,
                        f"in {env} without having been in {before}",
                    )
                )
            if not any(p.environment == env for p in valid):
                tried = [p.detail for p in promotions if p.environment == env]
                why = f" ({'; '.join(tried)})" if tried else ""
                self.findings.append(
                    Finding(
                        "unverified-promotion",
                        label,
                        None,
                        f"in {env} without a valid promotion record{why}",
                    )
                )


def _renamed(check: SignatureCheck, source: str) -> SignatureCheck:
    """``check`` of an identical sidecar, told of ``source``."""
    return SignatureCheck(
        source,
        check.format,
        check.status,
        check.detail.replace(check.sidecar, source),
        check.signer,
    )


_VARIANTS_SHOWN = 4


def _owner(obj: object, name: str) -> type | None:
    """The class in ``obj``'s MRO that defines ``name``."""
    return next((c for c in type(obj).__mro__ if name in c.__dict__), None)


def _numbers(numbers: list[str]) -> str:
    """``1/2/3`` for a few build numbers, ``1/2/3 and 40 more`` for many."""
    if len(numbers) <= _VARIANTS_SHOWN:
        return "/".join(numbers)
    return "/".join(numbers[:_VARIANTS_SHOWN]) + f" and {len(numbers) - _VARIANTS_SHOWN} more"


def _pairs(names: Iterable[str], numbers: Iterable[str]) -> list[tuple[str, str]]:
    return [(n, m) for n in names for m in numbers]


def _record_problem(read: records.PromotionRecord, b: _Build, target: str) -> str | None:
    """Why a record, signature aside, is not a record of this build's promotion to ``target``."""
    record = b.record
    if (read.build_name, read.build_number) != (record.name, record.number):
        return f"it is the record of build {read.build_name}/{read.build_number}"
    if read.target != target:
        return f"it records a promotion to {read.target}"
    expected = {(a.name, a.sha256) for a in record.artifacts if a.sha256}
    claimed = set(read.subjects.items())
    if expected != claimed:
        missing = sorted(n for n, _ in expected - claimed)
        extra = sorted(n for n, _ in claimed - expected)
        parts = []
        if missing:
            parts.append(f"does not cover {', '.join(missing)}")
        if extra:
            parts.append(f"names other bytes: {', '.join(extra)}")
        return "its subjects are not the build's artifacts: " + "; ".join(parts)
    return None


def _why_no_identity(record: BuildRecord) -> str:
    missing = []
    if not record.vcs_revision:
        missing.append("no commit")
    elif not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", record.vcs_revision.lower()):
        missing.append(f"commit {record.vcs_revision!r} is not a full commit id")
    if record.started is None:
        missing.append("no start time")
    if not (record.number.isdigit() and int(record.number) >= 1):
        missing.append(f"number {record.number!r} is not a whole number >= 1")
    return "the build has no identity: " + ", ".join(missing)
