"""Planning a promotion: what moves where, and the exact registry writes that do it.

:func:`make_plan` reads the build's lineage (where its artifacts are, which environments it
reached, its findings and promotion records) and turns a :class:`Request` into a
:class:`Plan`: the environment it comes from, every artifact with the location its bytes are
taken from and where they go, and the :class:`Operation` list, each with the
:class:`~relman.registry.base.Write` the backend describes for it in a dry run. Nothing is
written here.

How an environment is reached depends on how the profile locates it, and on what the
backend declares in its :class:`~relman.model.Capabilities` (never on which backend it is):

- ``repository``: the artifact and its sidecars (signatures, provenance, checksums) are
  copied into the environment's repository, at the same path (``copy``); an item already
  there with the same SHA-256 needs no write;
- ``label``: the location in the environment before gets the environment's name added to
  its label property (``set-properties``), keeping the values it has.

A rollback returns an environment to an earlier build it held: the newer builds of the same
name leave it (``delete`` of their copies in a repository environment, which needs a
backend that can delete; their label value removed in a label environment) and the earlier
build is put back where it is missing. Where the backend keeps build statuses
(:class:`~relman.registry.base.BuildStatuses`) the build then gets the target environment's
name as a new status (``build-status``, its comment naming the plan); every plan ends with the
signed promotion record (``put-record``).

What planning finds wrong (a path that holds other bytes, a write the backend cannot make)
is kept in :attr:`Plan.problems` under the name of the preflight check that reports it.

The plan's :attr:`~Plan.digest` is the SHA-256 of the RFC 8785 canonical JSON of what is
promoted: build, identity, from, to, rollback and the builds it replaces, and every artifact
by name and SHA-256. Approvers sign it; it does not depend on the registry's momentary state,
so an approval given yesterday still names the plan executed today.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import rfc8785

from relman.errors import RelmanError, UsageError
from relman.model import (
    DEFAULT_LABEL_PROPERTY,
    CancelToken,
    Environment,
    Location,
    Profile,
    ProgressCallback,
    RepoPath,
)
from relman.registry.base import BuildStatuses, Deletes, NotFound, Registry, Write
from relman.release.lineage import ArtifactNode, BuildNode, Lineage, build_lineage
from relman.release.policy import Policy
from relman.verify.signatures.base import Context

PLAN_TYPE = "https://relman.dev/promotion-plan/v1"
#: Names of the preflight checks a planning problem can belong to.
TARGET, WRITES, ORDER = "target", "writes", "environment-order"
#: The action of the operation that adds a build status.
STATUS = "build-status"

_NO_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Request:
    """What an operator asks for: build ``name/number`` into environment ``target``."""

    name: str
    number: str
    target: str
    rollback: bool = False

    @property
    def build(self) -> str:
        return f"{self.name}/{self.number}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One registry write of a plan.

    ``item`` is what changes (the copy's destination, the item whose properties change, the
    item removed); ``source`` the copy's origin or, for a ``delete``, another location of the
    same bytes an undo restores from; ``sha256`` the bytes concerned; ``properties`` the new
    values of a ``set-properties`` and ``previous`` the values before (a name missing from it
    had no value), so an undo can put them back. A ``build-status`` changes a build, not an
    item: ``item`` names it (``repo`` is the build's name, ``path`` its number), ``status`` is
    the status added and ``comment`` its comment."""

    action: str
    item: RepoPath
    write: Write
    source: RepoPath | None = None
    sha256: str | None = None
    properties: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _NO_VALUES)
    previous: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _NO_VALUES)
    status: str | None = None
    comment: str = ""

    def to_json(self) -> dict[str, Any]:
        doc = {
            "action": self.action,
            "item": _ref_json(self.item),
            "source": _ref_json(self.source) if self.source is not None else None,
            "sha256": self.sha256,
            "properties": {k: list(v) for k, v in self.properties.items()},
            "previous": {k: list(v) for k, v in self.previous.items()},
            "write": write_json(self.write),
        }
        if self.status is not None:
            doc.update(status=self.status, comment=self.comment)
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Operation:
        """An operation as an audit entry holds it; :class:`UsageError` when it is not one."""
        try:
            write = doc["write"]
            source = doc.get("source")
            return cls(
                action=str(doc["action"]),
                item=RepoPath(str(doc["item"]["repo"]), str(doc["item"]["path"])),
                write=Write(str(write["action"]), str(write["target"]), str(write["detail"])),
                source=RepoPath(str(source["repo"]), str(source["path"])) if source else None,
                sha256=None if doc.get("sha256") is None else str(doc["sha256"]),
                properties=_values(doc.get("properties", {})),
                previous=_values(doc.get("previous", {})),
                status=None if doc.get("status") is None else str(doc["status"]),
                comment=str(doc.get("comment", "")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise UsageError(
                f"an operation in the audit log cannot be read ({type(exc).__name__}: {exc})"
            ) from None


@dataclass(frozen=True, slots=True)
class PlannedArtifact:
    """An artifact of the build: its SHA-256 as the build record has it, the location its
    bytes are read from (None when the build is not where the plan takes it from), and where
    they will be in the target environment."""

    name: str
    sha256: str | None
    source: Location | None
    target: RepoPath | None


@dataclass(frozen=True, slots=True)
class Plan:
    """A promotion (or rollback) worked out against the registry as it is now."""

    request: Request
    profile: Profile
    identity: str | None
    source: str | None
    present: tuple[str, ...]
    replaces: tuple[str, ...]
    artifacts: tuple[PlannedArtifact, ...]
    operations: tuple[Operation, ...]
    record_write: Write
    registry: str
    digest: str
    problems: Mapping[str, tuple[str, ...]]
    node: BuildNode = field(compare=False, repr=False)
    lineage: Lineage = field(compare=False, repr=False)

    @property
    def target(self) -> str:
        return self.request.target

    @property
    def build(self) -> str:
        return self.request.build

    @property
    def writes(self) -> tuple[Write, ...]:
        """The exact registry writes, in order, as the backend described them (dry run)."""
        return (*(op.write for op in self.operations), self.record_write)

    def summary(self) -> str:
        what = "roll back" if self.request.rollback else "promote"
        source = f" from {self.source}" if self.source else ""
        ident = f" ({self.identity})" if self.identity else ""
        return f"{what} {self.build}{ident}{source} to {self.target}"

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile.name,
            "build": self.build,
            "name": self.request.name,
            "number": self.request.number,
            "identity": self.identity,
            "from": self.source,
            "to": self.target,
            "rollback": self.request.rollback,
            "replaces": list(self.replaces),
            "digest": self.digest,
            "registry": self.registry,
            "artifacts": [
                {
                    "name": a.name,
                    "sha256": a.sha256,
                    "source": _ref_json(a.source.ref) if a.source is not None else None,
                    "target": _ref_json(a.target) if a.target is not None else None,
                }
                for a in self.artifacts
            ],
            "operations": [op.to_json() for op in self.operations],
            "writes": [write_json(w) for w in self.writes],
        }


def write_json(write: Write) -> dict[str, Any]:
    return {"action": write.action, "target": write.target, "detail": write.detail}


def plan_digest(
    request: Request,
    identity: str | None,
    source: str | None,
    replaces: Sequence[str],
    artifacts: Sequence[tuple[str, str | None]],
) -> str:
    """The SHA-256 of the canonical JSON of what a plan promotes (see the module docstring)."""
    document = {
        "type": PLAN_TYPE,
        "build": {"name": request.name, "number": request.number, "id": identity},
        "from": source,
        "to": request.target,
        "rollback": request.rollback,
        "replaces": sorted(replaces),
        "subjects": sorted(
            ({"name": name, "sha256": sha} for name, sha in artifacts),
            key=lambda s: (s["name"], s["sha256"] or ""),
        ),
    }
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def make_plan(
    registry: Registry,
    profile: Profile,
    policy: Policy,
    context: Context,
    request: Request,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Plan:
    """Plan ``request`` against ``registry``; raises only for what cannot be planned at all
    (an unknown environment or build: :class:`UsageError`, :class:`NotFound`)."""
    env = profile.environment(request.target)
    previous = policy.previous(request.target)  # UsageError for an unknown environment
    assert env is not None  # the policy's environments are the profile's
    lineage = build_lineage(
        registry,
        profile,
        context,
        build=request.name,
        number=None if request.rollback else request.number,
        progress=progress,
        cancel=cancel,
    )
    node = next((n for n in lineage.builds if n.number == request.number), None)
    if node is None:
        raise NotFound(f"no build {request.build} in {registry!r}")
    planner = _Planner(registry, profile, request, env)
    if request.rollback:
        source = None
        planner.rollback(node, lineage, policy)
    else:
        source = previous
        planner.promote(node, previous)
    identity = str(node.identity) if node.identity is not None else None
    subjects = [(a.name, a.sha256) for a in node.artifacts]
    digest = plan_digest(request, identity, source, planner.replaces, subjects)
    planner.status(status_comment(request, source, digest))
    record = registry.put_promotion_record(
        request.name, request.number, request.target, b"", dry_run=True
    )
    return Plan(
        request=request,
        profile=profile,
        identity=identity,
        source=source,
        present=node.environments,
        replaces=tuple(planner.replaces),
        artifacts=tuple(planner.artifacts),
        operations=tuple(planner.operations),
        record_write=Write(record.action, record.target, "the signed promotion record", True),
        registry=f"{registry.capabilities.name} ({profile.kind} profile {profile.name})",
        digest=digest,
        problems=MappingProxyType({k: tuple(v) for k, v in planner.problems.items()}),
        node=node,
        lineage=lineage,
    )


class _Planner:
    """Collects the artifacts, operations and problems of one plan."""

    def __init__(
        self, registry: Registry, profile: Profile, request: Request, env: Environment
    ) -> None:
        self.registry = registry
        self.profile = profile
        self.request = request
        self.env = env
        self.capabilities = registry.capabilities
        self.artifacts: list[PlannedArtifact] = []
        self.operations: list[Operation] = []
        self.replaces: list[str] = []
        self.problems: dict[str, list[str]] = {}

    def problem(self, check: str, detail: str) -> None:
        self.problems.setdefault(check, []).append(detail)

    # -- promotion -------------------------------------------------------------------------

    def promote(self, node: BuildNode, previous: str | None) -> None:
        for art in node.artifacts:
            source = _location_in(art, previous) if previous is not None else None
            self.artifacts.append(self._bring(art, source))

    def _bring(self, art: ArtifactNode, source: Location | None) -> PlannedArtifact:
        """Plan putting the bytes at ``source`` into the target environment."""
        if source is None:
            return PlannedArtifact(art.name, art.sha256, None, None)
        if self.env.mode == "repository":
            assert self.env.repo is not None
            target = RepoPath(self.env.repo, source.path)
            self._copy(source.ref, target, art.sha256)
            for suffix, data in self._sidecars(source.ref).items():
                side = RepoPath(source.repo, source.path + suffix)
                self._copy(side, RepoPath(target.repo, target.path + suffix), _sha256(data))
            return PlannedArtifact(art.name, art.sha256, source, target)
        prop = self.env.label or DEFAULT_LABEL_PROPERTY
        values = source.properties.get(prop, ())
        if self.env.name not in values:
            self._properties(source.ref, prop, (*values, self.env.name), values, art.sha256)
        return PlannedArtifact(art.name, art.sha256, source, source.ref)

    def _copy(self, src: RepoPath, dst: RepoPath, sha256: str | None) -> None:
        try:
            there = self.registry.location(dst.repo, dst.path)
        except NotFound:
            there = None
        if there is not None:
            if there.sha256 is None or there.sha256 != sha256:
                held = f"sha256 {there.sha256}" if there.sha256 else "bytes of no recorded sha256"
                self.problem(
                    TARGET, f"{dst} already holds other bytes ({held}), not sha256 {sha256}"
                )
            return
        if not self.capabilities.copy:
            self.problem(WRITES, f"{self.capabilities.name} cannot copy {src} to {dst}")
            return
        self._add("copy", dst, sha256=sha256, source=src)

    def status(self, comment: str) -> None:
        """The target environment's name as the build's new status, where the backend keeps
        build statuses (none is planned where it does not)."""
        if isinstance(self.registry, BuildStatuses):
            build = RepoPath(self.request.name, self.request.number)
            self._add(STATUS, build, sha256=None, status=self.env.name, comment=comment)

    def _properties(
        self,
        item: RepoPath,
        prop: str,
        values: tuple[str, ...],
        previous: tuple[str, ...],
        sha256: str | None,
    ) -> None:
        if not self.capabilities.properties:
            self.problem(WRITES, f"{self.capabilities.name} cannot set properties on {item}")
            return
        before = {prop: previous} if previous else {}
        if values:
            self._add(
                "set-properties", item, sha256=sha256, properties={prop: values}, previous=before
            )
        else:
            self._add("delete-properties", item, sha256=sha256, previous=before)

    def _add(
        self,
        action: str,
        item: RepoPath,
        *,
        sha256: str | None,
        source: RepoPath | None = None,
        properties: Mapping[str, tuple[str, ...]] = _NO_VALUES,
        previous: Mapping[str, tuple[str, ...]] = _NO_VALUES,
        status: str | None = None,
        comment: str = "",
    ) -> None:
        """Add an operation with the backend's dry-run description of it (a write the backend
        refuses even in a dry run is a problem of the ``writes`` check)."""
        try:
            write = describe(
                self.registry, action, item, source, properties, previous, status, comment
            )
        except RelmanError as exc:
            self.problem(WRITES, str(exc))
            return
        self.operations.append(
            Operation(
                action,
                item,
                write,
                source=source,
                sha256=sha256,
                properties=MappingProxyType(dict(properties)),
                previous=MappingProxyType(dict(previous)),
                status=status,
                comment=comment,
            )
        )

    def _sidecars(self, ref: RepoPath) -> dict[str, bytes]:
        """The sidecars beside ``ref`` (copied or removed with it)."""
        try:
            return self.registry.sidecars(ref.repo, ref.path)
        except RelmanError as exc:
            self.problem(WRITES, f"the files beside {ref} cannot be listed: {exc}")
            return {}

    # -- rollback --------------------------------------------------------------------------

    def rollback(self, node: BuildNode, lineage: Lineage, policy: Policy) -> None:
        target = self.env.name
        problem = policy.rollback_problem(target)
        if problem is not None:
            self.problem(ORDER, problem)
        held = target in node.environments or any(p.ok for p in node.promotions_to(target))
        if not held:
            self.problem(
                ORDER,
                f"{node.label} was never in {target}: a rollback returns {target} to a build it "
                f"held before (promote {node.label} instead)",
            )
        newer = [n for n in lineage.builds if _newer(n, node) and target in n.environments]
        if not newer:
            self.problem(
                ORDER,
                f"no build of {node.name} newer than {node.label} is in {target}: nothing to "
                "roll back",
            )
        for other in newer:
            self.replaces.append(other.label)
            for art in other.artifacts:
                for loc, envs in zip(art.locations, art.location_environments, strict=True):
                    if target in envs:
                        self._remove(art, loc)
        if target not in node.environments:
            before = policy.previous(target)
            for art in node.artifacts:
                source = _location_in(art, before) if before is not None else None
                source = source or next(
                    (loc for loc in art.locations if loc.sha256 == art.sha256), None
                )
                self.artifacts.append(self._bring(art, source))
        else:
            for art in node.artifacts:
                here = _location_in(art, target)
                self.artifacts.append(
                    PlannedArtifact(art.name, art.sha256, here, here.ref if here else None)
                )

    def _remove(self, art: ArtifactNode, loc: Location) -> None:
        """Take a newer build's location out of the target environment."""
        if self.env.mode == "label":
            prop = self.env.label or DEFAULT_LABEL_PROPERTY
            values = loc.properties.get(prop, ())
            rest = tuple(v for v in values if v != self.env.name)
            self._properties(loc.ref, prop, rest, values, loc.sha256)
            return
        if not isinstance(self.registry, Deletes):
            self.problem(
                WRITES,
                f"{self.capabilities.name} cannot delete, so {loc} cannot leave {self.env.name}",
            )
            return
        keep = next(
            (
                other
                for other in art.locations
                if other.ref != loc.ref and other.sha256 == loc.sha256 and other.sha256
            ),
            None,
        )
        if keep is None:
            self.problem(
                WRITES,
                f"{loc} is the only copy of those bytes in the registry; removing it from "
                f"{self.env.name} would lose it",
            )
            return
        sidecars = self._sidecars(loc.ref)
        self._add("delete", loc.ref, sha256=loc.sha256, source=keep.ref)
        for suffix, data in sidecars.items():
            side = RepoPath(loc.repo, loc.path + suffix)
            self._add(
                "delete", side, sha256=_sha256(data), source=RepoPath(keep.repo, keep.path + suffix)
            )


def describe(
    registry: Registry,
    action: str,
    item: RepoPath,
    source: RepoPath | None,
    properties: Mapping[str, tuple[str, ...]],
    previous: Mapping[str, tuple[str, ...]],
    status: str | None = None,
    comment: str = "",
) -> Write:
    """The backend's dry-run :class:`Write` of one operation (nothing is written)."""
    if action == STATUS:
        assert status is not None and isinstance(registry, BuildStatuses)
        return registry.set_build_status(
            item.repo, item.path, status, comment=comment, dry_run=True
        )
    if action == "copy":
        assert source is not None
        return registry.copy(source, item, dry_run=True)
    if action == "set-properties":
        return registry.set_properties(item.repo, item.path, properties, dry_run=True)
    if action == "delete-properties":
        return registry.delete_properties(item.repo, item.path, list(previous), dry_run=True)
    assert action == "delete" and isinstance(registry, Deletes)
    return registry.delete(item.repo, item.path, dry_run=True)


def status_comment(request: Request, source: str | None, digest: str) -> str:
    """The comment of the status a plan adds: what it does and which plan it is (the
    executor adds the audit entry of its intent)."""
    if request.rollback:
        what = f"rollback to {request.build}"
    elif source is not None:
        what = f"promotion {source} -> {request.target}"
    else:
        what = f"promotion to {request.target}"
    return f"relman {what}, plan {digest[:12]}"


def _location_in(art: ArtifactNode, environment: str) -> Location | None:
    """The location of ``art`` in ``environment``, one with the build record's bytes first."""
    found = [
        loc
        for loc, envs in zip(art.locations, art.location_environments, strict=True)
        if environment in envs
    ]
    return next((loc for loc in found if loc.sha256 == art.sha256), found[0] if found else None)


def _newer(other: BuildNode, node: BuildNode) -> bool:
    """Whether ``other`` is a later build of ``node``'s name (start time, then number)."""
    if other.name != node.name or other.number == node.number:
        return False
    return _order(other) > _order(node)


def _order(node: BuildNode) -> tuple[datetime, int]:
    started = node.started or datetime.min.replace(tzinfo=UTC)
    return started, int(node.number) if node.number.isdigit() else -1


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ref_json(ref: RepoPath) -> dict[str, str]:
    return {"repo": ref.repo, "path": ref.path}


def _values(doc: Mapping[str, Any]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({str(k): tuple(str(v) for v in vs) for k, vs in doc.items()})
