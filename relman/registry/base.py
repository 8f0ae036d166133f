"""What every registry backend offers: the :class:`Registry` protocol.

A backend (Artifactory, Nexus, the embedded local registry) answers lineage questions
(repositories, builds, where an artifact is, by path, SHA-256, build or commit), hands out
bytes (streamed and hashed while they are written, never held in memory) and the sidecars
beside them, and performs the few writes a promotion needs (properties, copy, move; a build
status where it keeps one, :class:`BuildStatuses`). Every write returns a :class:`Write` that
says exactly what it changed, or, with ``dry_run``, what it would change without changing
anything.

Backends declare what they can do in :class:`~relman.model.Capabilities`; the release engine
asks for a capability before it uses one, and never knows which server it talks to. Anything
paged is an iterator; anything long takes a ``progress`` callback and a
:class:`~relman.model.CancelToken`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from relman.errors import InputError, UsageError
from relman.model import (
    BuildRecord,
    CancelToken,
    Capabilities,
    Digests,
    Location,
    ProgressCallback,
    RepoPath,
    Repository,
)

__all__ = [
    "CHECKSUM_SIDECARS",
    "DIGESTS",
    "SIDECAR_SUFFIXES",
    "SIGNATURE_SIDECARS",
    "BuildStatuses",
    "Capabilities",
    "Conflict",
    "Deletes",
    "NotFound",
    "PropertyValues",
    "Registry",
    "Write",
]

#: Signature and attestation files kept beside an artifact, as ``relman verify`` finds them.
SIGNATURE_SIDECARS = (".sig", ".asc", ".minisig", ".sigstore.json", ".intoto.jsonl")
#: Checksum files kept beside an artifact.
CHECKSUM_SIDECARS = (".sha256", ".sha512", ".sha1", ".md5")
SIDECAR_SUFFIXES = SIGNATURE_SIDECARS + CHECKSUM_SIDECARS
#: The digests a download computes in its one pass, the ones registries store.
DIGESTS = ("sha256", "sha1", "md5")

#: New property values: one string, or several (registry properties are multi-valued).
PropertyValues = Mapping[str, str | Sequence[str]]


class NotFound(InputError):
    """The registry has no such repository, item or build (exit 2)."""


class Conflict(UsageError):
    """A write would change what must not change (bytes at a path, a published build)."""


@dataclass(frozen=True, slots=True)
class Write:
    """One change to a registry, described for a person and for the audit log.

    ``action`` is ``deploy``, ``set-properties``, ``delete-properties``, ``copy``, ``move``,
    ``delete``, ``publish-build``, ``build-status``, ``put-record`` or ``put-approval``;
    ``target`` is what
    changes (``repo/path`` or ``build NAME/NUMBER``); ``detail`` the change itself
    (``relman.environment=qa``, ``from libs-dev/app.jar``).
    ``dry_run`` says the change was only described, not made.
    """

    action: str
    target: str
    detail: str = ""
    dry_run: bool = False

    def __str__(self) -> str:
        prefix = "would " if self.dry_run else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{prefix}{self.action} {self.target}{detail}"


@runtime_checkable
class Registry(Protocol):
    """The operations every backend implements."""

    @property
    def capabilities(self) -> Capabilities: ...

    # -- reading ----------------------------------------------------------------------

    def repositories(self) -> Iterator[Repository]: ...

    def items(self, repo: str, under: str = "") -> Iterator[Location]:
        """Every file of ``repo`` (below the folder ``under``), with what the registry knows."""
        ...

    def build_names(self) -> Iterator[str]: ...

    def build_numbers(self, name: str) -> list[str]:
        """The numbers of build ``name``, newest start time first."""
        ...

    def build_record(self, name: str, number: str) -> BuildRecord:
        """The build record; :class:`NotFound` when there is none."""
        ...

    def promotion_records(self, name: str, number: str) -> list[tuple[str, bytes]]:
        """The signed promotion records of a build as ``(target environment, bytes)``."""
        ...

    def put_promotion_record(
        self, name: str, number: str, target: str, data: bytes, *, dry_run: bool = False
    ) -> Write:
        """Store the signed record of a promotion of build ``name/number`` to ``target``."""
        ...

    def approvals(self, name: str, number: str) -> list[tuple[str, bytes]]:
        """The signed approvals of promotions of build ``name/number`` as
        ``(target environment, bytes)``."""
        ...

    def put_approval(
        self, name: str, number: str, target: str, data: bytes, *, dry_run: bool = False
    ) -> Write:
        """Store one signed approval (several approvals per target: each has its own file)."""
        ...

    def location(self, repo: str, path: str) -> Location:
        """The item at ``repo``/``path``; :class:`NotFound` when there is none."""
        ...

    def find_by_sha256(self, sha256: str) -> Iterator[Location]: ...

    def find_by_build(self, name: str, number: str) -> Iterator[Location]:
        """Items deployed by a build: its ``build.name``/``build.number`` properties or, for
        items that carry no build properties, a checksum the build record lists."""
        ...

    def find_by_commit(self, commit: str) -> Iterator[Location]:
        """Items built from ``commit``: property ``vcs.revision`` or the build record's commit."""
        ...

    def find_by_property(self, name: str, value: str) -> Iterator[Location]: ...

    def properties(self, repo: str, path: str) -> Mapping[str, tuple[str, ...]]: ...

    def download(
        self,
        repo: str,
        path: str,
        dest: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Digests:
        """Stream the bytes to ``dest`` (atomically), hashing them on the way; raise
        :class:`~relman.errors.VerificationError` when they differ from a digest the
        registry holds (``dest`` is then left untouched)."""
        ...

    def sidecars(self, repo: str, path: str) -> dict[str, bytes]:
        """``{suffix: bytes}`` of the signature and checksum files beside the item."""
        ...

    # -- writing (promotion primitives) ---------------------------------------------------

    def set_properties(
        self, repo: str, path: str, properties: PropertyValues, *, dry_run: bool = False
    ) -> Write: ...

    def delete_properties(
        self, repo: str, path: str, names: Sequence[str], *, dry_run: bool = False
    ) -> Write: ...

    def copy(
        self,
        src: RepoPath,
        dst: RepoPath,
        *,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Write: ...

    def move(
        self,
        src: RepoPath,
        dst: RepoPath,
        *,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Write: ...


@runtime_checkable
class Deletes(Protocol):
    """A backend that can remove an item, which a rollback in a ``repository`` environment
    and the undo of an interrupted promotion's copies need. It is a protocol of its own, not a
    :class:`Registry` method: the release engine asks ``isinstance(registry, Deletes)`` and
    refuses, saying why, where a backend cannot delete."""

    def delete(self, repo: str, path: str, *, dry_run: bool = False) -> Write:
        """Remove the item at ``repo``/``path`` (its bytes and what the registry knows of it)."""
        ...


@runtime_checkable
class BuildStatuses(Protocol):
    """A backend that can add a status to a build's promotion history (build-info
    ``statuses[]``), which a promotion records as its last write before the signed record. A
    protocol of its own, as :class:`Deletes` is: the release engine asks
    ``isinstance(registry, BuildStatuses)`` and plans no status where a backend has none.

    The history is append-only, as Artifactory keeps it: a status is never removed or
    changed, so an undone promotion is recorded by a status of its own."""

    def set_build_status(
        self,
        name: str,
        number: str,
        status: str,
        *,
        comment: str = "",
        user: str = "",
        repository: str | None = None,
        dry_run: bool = False,
    ) -> Write:
        """Append ``status`` (with ``comment``, ``user`` and ``repository`` when given, and
        the time) to build ``name/number``; :class:`NotFound` when there is no such build.
        The :class:`Write` is ``build-status`` of ``build NAME/NUMBER``, ``status STATUS``."""
        ...


def property_values(properties: PropertyValues) -> dict[str, tuple[str, ...]]:
    """Normalise new property values and check their names (one-line :class:`UsageError`)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, value in properties.items():
        check_property_name(name)
        values = (value,) if isinstance(value, str) else tuple(value)
        for item in values:
            if not isinstance(item, str) or "\x00" in item:
                raise UsageError(f"property {name!r}: values must be text without NUL")
        out[name] = tuple(dict.fromkeys(values))
    return out


def check_property_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or not name.strip()
        or any(c in name for c in "=;,|\x00\n\r")
        or name != name.strip()
    ):
        raise UsageError(f"{name!r} is not a property name (no '=', ';', ',', '|' or spaces)")
    return name


def describe_properties(properties: Mapping[str, Sequence[str]]) -> str:
    """``a=1,2; b=x`` for a :class:`Write`'s detail."""
    return "; ".join(f"{k}={','.join(v)}" for k, v in properties.items())
