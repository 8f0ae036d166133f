"""Environment diff: what one environment holds that the other does not, per application.

Built on a :class:`~relman.release.lineage.Lineage`: an application is a build name; a build is
in an environment when lineage places it there, an artifact when one of its locations is there.
For each application present in either environment, :func:`diff_environments` gives

- the builds in A and not in B, and in B and not in A, compared by identity (the build's
  ``name/number`` when it has none);
- the artifacts in A and not in B, and the other way, compared by name and SHA-256 (the same
  bytes under the same name are the same artifact, whichever build listed them);
- the commit range between the newest build of each side (by start time, then number): every
  build of the application started after the older one and up to the newer one, by start time,
  each with its commit. There is no range when a side holds no build of the application, when
  both sides' newest build is the same, or when either has no start time to order it by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relman.errors import UsageError
from relman.model import Environment
from relman.release.lineage import BuildNode, Lineage


@dataclass(frozen=True, slots=True)
class BuildRef:
    """A build as the diff shows it: name, number, identity, commit, start time."""

    name: str
    number: str
    identity: str | None
    commit: str | None
    started: datetime | None

    @classmethod
    def of(cls, node: BuildNode) -> BuildRef:
        identity = node.identity
        return cls(
            node.name,
            node.number,
            str(identity) if identity is not None else None,
            node.commit,
            node.started,
        )

    @property
    def label(self) -> str:
        return f"{self.name}/{self.number}"

    @property
    def key(self) -> str:
        return self.identity or self.label

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "number": self.number,
            "id": self.identity,
            "commit": self.commit,
            "started": _time(self.started),
        }


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """An artifact by name and SHA-256, and the build that lists it."""

    name: str
    sha256: str | None
    build: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "build": self.build}


@dataclass(frozen=True, slots=True)
class Only:
    """What one environment holds and the other does not."""

    builds: tuple[BuildRef, ...] = ()
    artifacts: tuple[ArtifactRef, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.builds or self.artifacts)

    def to_json(self) -> dict[str, Any]:
        return {
            "builds": [b.to_json() for b in self.builds],
            "artifacts": [a.to_json() for a in self.artifacts],
        }


@dataclass(frozen=True, slots=True)
class CommitRange:
    """The builds from ``older`` (excluded) to ``newer`` (included), by start time;
    ``ahead`` is the environment whose newest build is ``newer``."""

    older: BuildRef
    newer: BuildRef
    ahead: str
    builds: tuple[BuildRef, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.older.to_json(),
            "to": self.newer.to_json(),
            "ahead": self.ahead,
            "builds": [b.to_json() for b in self.builds],
        }


@dataclass(frozen=True, slots=True)
class AppDiff:
    """One application: its newest build on each side, what only each side holds, the range."""

    name: str
    newest_a: BuildRef | None
    newest_b: BuildRef | None
    only_a: Only
    only_b: Only
    range: CommitRange | None = None

    @property
    def same(self) -> bool:
        return not (self.only_a or self.only_b)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "same": self.same,
            "newest_in_a": self.newest_a.to_json() if self.newest_a else None,
            "newest_in_b": self.newest_b.to_json() if self.newest_b else None,
            "only_in_a": self.only_a.to_json(),
            "only_in_b": self.only_b.to_json(),
            "range": self.range.to_json() if self.range else None,
        }


@dataclass(frozen=True, slots=True)
class EnvDiff:
    """Environment ``a`` against environment ``b``, application by application (by name)."""

    a: str
    b: str
    applications: tuple[AppDiff, ...]

    @property
    def same(self) -> bool:
        return all(app.same for app in self.applications)

    def to_json(self) -> dict[str, Any]:
        """The ``relman diff --json`` document (without the profile)."""
        return {
            "ok": True,
            "a": self.a,
            "b": self.b,
            "same": self.same,
            "applications": [app.to_json() for app in self.applications],
        }


def diff_environments(lineage: Lineage, a: str, b: str) -> EnvDiff:
    """Environment ``a`` against ``b`` (both checked by :func:`check_environments`)."""
    check_environments(lineage.environments, a, b)
    by_app: dict[str, list[BuildNode]] = {}
    for node in lineage.builds:
        by_app.setdefault(node.name, []).append(node)
    apps = []
    for name in sorted(by_app):
        nodes = by_app[name]
        in_a = [n for n in nodes if a in n.environments]
        in_b = [n for n in nodes if b in n.environments]
        if in_a or in_b:
            apps.append(_app(name, nodes, in_a, in_b, a, b))
    return EnvDiff(a, b, tuple(apps))


def check_environments(environments: Iterable[Environment], a: str, b: str) -> None:
    """A :class:`~relman.errors.UsageError` naming an environment that is not among
    ``environments``, or the same environment given twice."""
    names = [e.name for e in environments]
    for env in (a, b):
        if env not in names:
            known = ", ".join(names) or "none"
            raise UsageError(f"no environment {env!r} in this profile (it has: {known})")
    if a == b:
        raise UsageError(f"compare two different environments, not {a} with itself")


def _app(
    name: str, nodes: list[BuildNode], in_a: list[BuildNode], in_b: list[BuildNode], a: str, b: str
) -> AppDiff:
    newest_a = max(in_a, key=_order, default=None)
    newest_b = max(in_b, key=_order, default=None)
    return AppDiff(
        name,
        BuildRef.of(newest_a) if newest_a else None,
        BuildRef.of(newest_b) if newest_b else None,
        _only(in_a, in_b, a, b),
        _only(in_b, in_a, b, a),
        _range(nodes, newest_a, newest_b, a, b),
    )


def _only(mine: list[BuildNode], theirs: list[BuildNode], env: str, other: str) -> Only:
    their_builds = {BuildRef.of(n).key for n in theirs}
    their_artifacts = {
        (art.name, art.sha256) for n in theirs for art in n.artifacts if other in art.environments
    }
    builds = [BuildRef.of(n) for n in sorted(mine, key=_order)]
    artifacts = {
        (art.name, art.sha256): ArtifactRef(art.name, art.sha256, n.label)
        for n in sorted(mine, key=_order)
        for art in n.artifacts
        if env in art.environments
    }
    return Only(
        tuple(ref for ref in builds if ref.key not in their_builds),
        tuple(ref for key, ref in artifacts.items() if key not in their_artifacts),
    )


def _range(
    nodes: list[BuildNode], newest_a: BuildNode | None, newest_b: BuildNode | None, a: str, b: str
) -> CommitRange | None:
    if newest_a is None or newest_b is None or newest_a is newest_b:
        return None
    if newest_a.started is None or newest_b.started is None:
        return None
    older, newer, ahead = (
        (newest_b, newest_a, a) if _order(newest_a) > _order(newest_b) else (newest_a, newest_b, b)
    )
    low, high = _order(older), _order(newer)
    between = [n for n in nodes if n.started is not None and low < _order(n) <= high]
    return CommitRange(
        BuildRef.of(older),
        BuildRef.of(newer),
        ahead,
        tuple(BuildRef.of(n) for n in sorted(between, key=_order)),
    )


def _order(node: BuildNode) -> tuple[float, int, str]:
    """Start time first, then the number (numerically when it is one), then the number as
    text; a build without a start time sorts before every build with one."""
    started = node.started.timestamp() if node.started is not None else float("-inf")
    number = int(node.number) if node.number.isascii() and node.number.isdigit() else -1
    return started, number, node.number


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None
