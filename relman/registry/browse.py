"""Browsing a registry a folder at a time: what a folder holds, and everything about one file.

The GUI's registry browser lists a folder only when it is opened, so a listing must cost one
request however deep the repository is. On Artifactory that is the file list API
(reference §1.4, ``?list&deep=1&depth=1&listFolders=1``: names, sizes and SHA-256 of the
folder's own children); where the server refuses it (an anonymous user, an edition without it)
the folder info's ``children`` (§1.2) stand in, without sizes. A local registry is a folder on
disk and is read with ``scandir``.

:func:`describe` reads one file's storage info and properties (§1.1, §2.1): what the server
computed, what the deployer declared (``originalChecksums``: a difference means the bytes are
not the ones that were deployed), who made it and when.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from relman.errors import InputError, UsageError
from relman.model import Location
from relman.registry import artifactory_aql as aql
from relman.registry import storage
from relman.registry.artifactory import ArtifactoryRegistry
from relman.registry.base import NotFound, Registry
from relman.registry.http import AuthenticationError, HttpError, HttpNotFound, PermissionDenied
from relman.registry.local import LocalRegistry

_DIGESTS = ("sha256", "sha1", "md5")


@dataclass(frozen=True, slots=True)
class Entry:
    """One child of a folder: a folder or a file (``path`` is relative to the repository).
    ``size``, ``sha256`` and ``modified`` are None where the listing does not say."""

    repo: str
    path: str
    folder: bool
    size: int | None = None
    sha256: str | None = None
    modified: datetime | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return f"{self.repo}/{self.path}"


@dataclass(frozen=True, slots=True)
class ItemDetails:
    """One file as the registry describes it: its :class:`Location` (size, digests, created,
    properties) and what the storage info adds. ``declared`` are the digests the deployer sent
    with the bytes (Artifactory's ``originalChecksums``; empty where the registry keeps none)."""

    location: Location
    declared: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    created_by: str | None = None
    modified: datetime | None = None
    modified_by: str | None = None
    mime_type: str | None = None


def list_folder(registry: Registry, repo: str, folder: str = "") -> list[Entry]:
    """The folders, then the files, directly in ``repo/folder`` (``""``: the repository's
    root), each group sorted by name. :class:`NotFound` when there is no such folder."""
    storage.check_repo_key(repo)
    folder = storage.check_item_path(folder.strip("/")) if folder.strip("/") else ""
    if isinstance(registry, ArtifactoryRegistry):
        entries = _artifactory_list(registry, repo, folder)
    elif isinstance(registry, LocalRegistry):
        entries = _local_list(registry, repo, folder)
    else:
        raise UsageError(f"{type(registry).__name__}: browsing it is not supported")
    return sorted(entries, key=lambda e: (not e.folder, e.name.casefold(), e.name))


def describe(registry: Registry, repo: str, path: str) -> ItemDetails:
    """Everything the registry says about the file ``repo/path`` (see :class:`ItemDetails`)."""
    if not isinstance(registry, ArtifactoryRegistry):
        return ItemDetails(registry.location(repo, path))
    where = f"{repo}/{path}"
    info = _storage_json(registry, repo, path, query="", what=where)
    if "children" in info:
        raise UsageError(f"{where}: is a folder, not a file")
    sums = _mapping(info.get("checksums"))
    declared = _mapping(info.get("originalChecksums"))
    location = Location(
        repo=repo,
        path=path,
        size=aql.size_of(info.get("size"), where),
        sha256=aql.digest_of(sums, "sha256", where),
        sha1=aql.digest_of(sums, "sha1", where),
        md5=aql.digest_of(sums, "md5", where),
        created=aql.time_of(info.get("created"), where),
        properties=registry.properties(repo, path),
    )
    return ItemDetails(
        location=location,
        declared=MappingProxyType(
            {
                name: value
                for name in _DIGESTS
                if (value := aql.digest_of(declared, name, f"{where} (declared)")) is not None
            }
        ),
        created_by=_text(info.get("createdBy")),
        modified=aql.time_of(info.get("lastModified"), where),
        modified_by=_text(info.get("modifiedBy")),
        mime_type=_text(info.get("mimeType")),
    )


# -- Artifactory ------------------------------------------------------------------------------


def _storage_json(
    registry: ArtifactoryRegistry, repo: str, path: str, *, query: str, what: str
) -> Mapping[str, Any]:
    url = f"/api/storage/{repo}" + ("/" + urllib.parse.quote(path, safe="/") if path else "")
    try:
        doc = registry.http.get_json(url, query=query, what=what)
    except HttpNotFound:
        raise NotFound(f"{repo}/{path}: no such item in {registry.url}".rstrip("/")) from None
    if not isinstance(doc, Mapping):
        raise HttpError(f"{registry.url}: the storage answer for {what} is not an object")
    return doc


def _artifactory_list(registry: ArtifactoryRegistry, repo: str, folder: str) -> list[Entry]:
    where = f"{repo}/{folder}".rstrip("/")
    try:
        doc = _storage_json(
            registry,
            repo,
            folder,
            query="list&deep=1&depth=1&listFolders=1",
            what=f"listing of {where}",
        )
    except (AuthenticationError, PermissionDenied):
        return _children(registry, repo, folder, where)
    except HttpError as exc:
        if exc.status != 400:
            raise
        if "expected a folder" in str(exc).lower():
            raise UsageError(f"{where}: is a file, not a folder") from None
        return _children(registry, repo, folder, where)
    rows = doc.get("files")
    if not isinstance(rows, list):
        raise HttpError(f"{registry.url}: the listing of {where} has no 'files' list")
    entries = []
    for row in rows:
        name = _child_name(row, where)
        if name is None:
            continue
        path = f"{folder}/{name}" if folder else name
        is_folder = row.get("folder") is True
        entries.append(
            Entry(
                repo,
                path,
                is_folder,
                size=None if is_folder else aql.size_of(row.get("size"), f"{repo}/{path}"),
                sha256=None
                if is_folder
                else aql.digest_of({"sha256": row.get("sha2")}, "sha256", f"{repo}/{path}"),
                modified=aql.time_of(row.get("lastModified"), f"{repo}/{path}"),
            )
        )
    return entries


def _children(registry: ArtifactoryRegistry, repo: str, folder: str, where: str) -> list[Entry]:
    """The folder info's ``children``: names and kinds only."""
    info = _storage_json(registry, repo, folder, query="", what=where)
    rows = info.get("children")
    if not isinstance(rows, list):
        raise UsageError(f"{where}: is a file, not a folder")
    entries = []
    for row in rows:
        name = _child_name(row, where)
        if name is not None:
            path = f"{folder}/{name}" if folder else name
            entries.append(Entry(repo, path, row.get("folder") is True))
    return entries


def _child_name(row: Any, where: str) -> str | None:
    """The name in a listing row's ``uri`` (``/name``); None for a deeper row (a server that
    ignored ``depth``), an error for a name that would lead elsewhere."""
    uri = row.get("uri") if isinstance(row, Mapping) else None
    if not isinstance(uri, str) or not uri.startswith("/") or len(uri) < 2:
        raise InputError(f"{where}: a listing entry has no '/NAME' uri")
    name = urllib.parse.unquote(uri[1:])
    if "/" in name:
        return None
    try:
        storage.check_item_path(name)
    except UsageError as exc:
        raise InputError(f"{where}: the server listed an item {exc}") from None
    return name


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- local registry ---------------------------------------------------------------------------


def _local_list(registry: LocalRegistry, repo: str, folder: str) -> list[Entry]:
    base = registry.root / "repos" / repo
    if not base.is_dir():
        raise NotFound(f"no repository {repo!r} in {registry.root}")
    target = base / folder if folder else base
    if target.is_symlink() or (folder and not target.is_dir()):
        raise NotFound(f"{repo}/{folder}: no such folder in {registry.root}")
    entries = []
    with os.scandir(target) as found:
        for entry in found:
            path = f"{folder}/{entry.name}" if folder else entry.name
            if entry.is_dir(follow_symlinks=False):
                entries.append(Entry(repo, path, True))
            elif entry.is_file(follow_symlinks=False):
                loc = registry.location(repo, path)
                modified = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                entries.append(Entry(repo, path, False, loc.size, loc.sha256, modified))
    return entries
