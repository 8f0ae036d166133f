"""The lineage graph as :func:`relman.release.lineage.build_lineage` hands it out: builds,
their artifacts and where they are, the promotion records on each edge, and the findings; its
``relman lineage --json`` form; and :func:`find_builds`, the search the GUI's Ctrl+K runs.

Plain immutable data: the views read it from any thread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from relman.model import BuildIdentity, BuildRecord, Environment, Location

FINDING_KINDS = (
    "rebuilt",
    "overwritten",
    "untraceable",
    "unsigned",
    "bad-signature",
    "skipped-stage",
    "unverified-promotion",
)
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem lineage found: ``build`` is ``NAME/NUMBER`` (None for a stray item),
    ``artifact`` the artifact's name, ``location`` the ``repo/path`` concerned, if any."""

    kind: str
    build: str | None
    artifact: str | None
    detail: str
    location: str | None = None

    def __str__(self) -> str:
        where = " ".join(x for x in (self.build, self.artifact) if x)
        return f"{self.kind}  {where}: {self.detail}" if where else f"{self.kind}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "build": self.build,
            "artifact": self.artifact,
            "detail": self.detail,
            "location": self.location,
        }


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One signature sidecar of one location: ``status`` is ``verified``, ``failed`` or
    ``not-checked`` (a format that needs the bytes, which lineage does not read)."""

    sidecar: str
    format: str
    status: str
    detail: str
    signer: str | None = None


@dataclass(frozen=True, slots=True)
class Promotion:
    """A promotion record on the edge build -> ``environment``: who, when, and whether it
    holds (signature by a trusted key, and claims that match the build)."""

    environment: str
    source: str | None
    ok: bool
    detail: str
    signer: str | None = None
    promoter: str | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ArtifactNode:
    """An artifact of a build, where the registry holds it, and its signatures.

    ``location_environments[i]`` are the environments ``locations[i]`` is in."""

    name: str
    path: str | None
    sha256: str | None
    locations: tuple[Location, ...] = ()
    location_environments: tuple[tuple[str, ...], ...] = ()
    environments: tuple[str, ...] = ()
    signatures: tuple[SignatureCheck, ...] = ()


@dataclass(frozen=True, slots=True)
class BuildNode:
    """A build, its artifacts, the environments it is in (profile order) and its promotions."""

    record: BuildRecord
    artifacts: tuple[ArtifactNode, ...] = ()
    environments: tuple[str, ...] = ()
    promotions: tuple[Promotion, ...] = ()

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def number(self) -> str:
        return self.record.number

    @property
    def label(self) -> str:
        return f"{self.record.name}/{self.record.number}"

    @property
    def identity(self) -> BuildIdentity | None:
        return self.record.identity

    @property
    def commit(self) -> str | None:
        return self.record.vcs_revision

    @property
    def started(self) -> datetime | None:
        return self.record.started

    @property
    def furthest(self) -> str | None:
        """The last environment, in profile order, the build has reached."""
        return self.environments[-1] if self.environments else None

    def promotions_to(self, environment: str) -> tuple[Promotion, ...]:
        return tuple(p for p in self.promotions if p.environment == environment)


@dataclass(frozen=True, slots=True)
class Lineage:
    """The graph and its findings; ``untraceable`` are registry items no build claims."""

    environments: tuple[Environment, ...]
    builds: tuple[BuildNode, ...]
    findings: tuple[Finding, ...]
    untraceable: tuple[Location, ...] = ()
    _by_build: Mapping[str, tuple[Finding, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def ok(self) -> bool:
        return not self.findings

    def commits(self) -> list[tuple[str | None, tuple[BuildNode, ...]]]:
        """The builds grouped by commit, in the order the commits first appear."""
        groups: dict[str | None, list[BuildNode]] = {}
        for node in self.builds:
            groups.setdefault(node.commit, []).append(node)
        return [(commit, tuple(nodes)) for commit, nodes in groups.items()]

    def findings_of(self, build: BuildNode | str) -> tuple[Finding, ...]:
        key = build if isinstance(build, str) else build.label
        return self._by_build.get(key, ())

    def to_json(self) -> dict[str, Any]:
        """The ``relman lineage --json`` document."""
        return {
            "ok": self.ok,
            "environments": [e.name for e in self.environments],
            "builds": [_build_json(b) for b in self.builds],
            "findings": [f.to_json() for f in self.findings],
        }


def find_builds(lineage: Lineage, query: str) -> list[BuildNode]:
    """The builds a search names, newest first: a build ``NAME/NUMBER``, a build identity (or
    its start, ``20261126T143005Z.42``), a commit (7 hex digits or more), an artifact's SHA-256
    (8 hex digits or more) or an artifact's file name. Case does not matter; nothing found is
    an empty list."""
    text = query.strip()
    wanted = text.lower()
    if not wanted:
        return []
    hexadecimal = bool(_HEX.fullmatch(wanted))

    def matches(b: BuildNode) -> bool:
        if b.label.lower() == wanted or str(b.identity or "").lower().startswith(wanted):
            return True
        if hexadecimal and len(wanted) >= 7 and (b.commit or "").lower().startswith(wanted):
            return True
        for art in b.artifacts:
            if art.name.lower() == wanted:
                return True
            if hexadecimal and len(wanted) >= 8 and (art.sha256 or "").startswith(wanted):
                return True
        return False

    found = [b for b in lineage.builds if matches(b)]
    return sorted(found, key=lambda b: b.started or _OLDEST, reverse=True)


_OLDEST = datetime.min.replace(tzinfo=UTC)


# -- JSON ----------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _build_json(b: BuildNode) -> dict[str, Any]:
    identity = b.identity
    return {
        "name": b.name,
        "number": b.number,
        "id": str(identity) if identity is not None else None,
        "commit": b.commit,
        "started": _time(b.started),
        "artifacts": [
            {
                "name": a.name,
                "sha256": a.sha256,
                "locations": [
                    {
                        "repo": loc.repo,
                        "path": loc.path,
                        "environment": envs[-1] if envs else None,
                        "environments": list(envs),
                        "sha256": loc.sha256,
                    }
                    for loc, envs in zip(a.locations, a.location_environments, strict=True)
                ],
                "signatures": [
                    {
                        "sidecar": s.sidecar,
                        "format": s.format,
                        "status": s.status,
                        "detail": s.detail,
                        "signer": s.signer,
                    }
                    for s in a.signatures
                ],
            }
            for a in b.artifacts
        ],
        "environments": list(b.environments),
        "promotions": [
            {
                "environment": p.environment,
                "source": p.source,
                "ok": p.ok,
                "detail": p.detail,
                "signer": p.signer,
                "promoter": p.promoter,
                "time": _time(p.time),
            }
            for p in b.promotions
        ],
    }
