"""The state of the Artifactory emulator: repositories, items, folders, build runs, indexes.

Nothing here speaks HTTP or takes a lock: :class:`Store` is mutated only by the emulator,
which holds its one lock around every call. Items are kept the way Artifactory reports them:
files with server checksums (``sha256`` may be missing on old items) and the checksums the
client declared at deploy time; folders exist as nodes of their own (created by the deploys
below them, kept when emptied) and can carry properties. Indexes by digest, by property and by
build artifact keep AQL lookups over tens of thousands of items cheap.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import mimetypes
import posixpath
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

#: Zone of the timestamps the emulator makes up (storage answers show it as ``+03:00``).
DEFAULT_TZ = timezone(timedelta(hours=3))
BUILD_INFO_REPO = "artifactory-build-info"
#: Characters a property key may not contain (reference §2.2).
FORBIDDEN_KEY_CHARS = frozenset(")(}{][*+^$\\/~`!@#%&<>;=,±§ ")
_CHUNK = 1 << 20


# -- time -----------------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """An ISO-8601 time with ``Z``, ``+HH:MM`` or ``+HHMM``; a naive time is UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def storage_time(value: datetime) -> str:
    """Joda ``dateTime()`` as the storage API writes it: ``2025-03-02T10:15:31.204+03:00``."""
    text = value.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def build_time(value: datetime) -> str:
    """The build-info form ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``: ``2025-03-02T10:10:00.000+0300``."""
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}"
        + (value.strftime("%z") or "+0000")
    )


def aql_time(value: datetime) -> str:
    """AQL answers in UTC with milliseconds: ``2026-08-23T08:19:04.618Z``."""
    return storage_time(value.astimezone(UTC))


def millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


# -- items ----------------------------------------------------------------------------------


@dataclass(eq=False)
class StoredFile:
    """One file: its bytes (in memory or in a file on disk) and what Artifactory records."""

    repo: str
    path: str
    size: int
    sha1: str
    md5: str
    sha256: str | None
    properties: dict[str, list[str]]
    created: datetime
    created_by: str
    modified: datetime
    modified_by: str
    original_checksums: dict[str, str]
    content: bytes | None = None
    source: Path | None = None
    seq: int = 0
    updated: datetime | None = None
    properties_modified: datetime | None = None

    @property
    def data(self) -> bytes:
        """The bytes (read from disk for a file deployed with ``deploy_file``)."""
        if self.content is not None:
            return self.content
        assert self.source is not None
        return self.source.read_bytes()

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def parent(self) -> str:
        return posixpath.dirname(self.path)

    @property
    def mime_type(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    @property
    def checksums(self) -> dict[str, str]:
        out = {"sha1": self.sha1, "md5": self.md5}
        if self.sha256:
            out["sha256"] = self.sha256
        return out

    @property
    def last_updated(self) -> datetime:
        return self.updated or self.modified


@dataclass(eq=False)
class Folder:
    """A folder node (``path`` ``""`` is the repository root)."""

    repo: str
    path: str
    created: datetime
    created_by: str
    properties: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, bool] = field(default_factory=dict)
    seq: int = 0

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def parent(self) -> str:
        return posixpath.dirname(self.path)

    @property
    def modified(self) -> datetime:
        return self.created

    @property
    def modified_by(self) -> str:
        return self.created_by


Item = StoredFile | Folder


@dataclass(eq=False)
class Repo:
    key: str
    rclass: str
    package_type: str
    description: str = ""
    url: str = ""
    members: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    folders: dict[str, Folder] = field(default_factory=dict)


@dataclass(eq=False)
class BuildRun:
    """One published build-info document (several runs may share a number)."""

    info: dict[str, Any]
    started: datetime
    created: datetime
    created_by: str
    seq: int

    @property
    def name(self) -> str:
        return str(self.info["name"])

    @property
    def number(self) -> str:
        return str(self.info["number"])


def digests(data: bytes) -> tuple[str, str, str]:
    """``(sha256, sha1, md5)`` of ``data``."""
    return (
        hashlib.sha256(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.md5(data).hexdigest(),
    )


def file_digests(path: Path) -> tuple[str, str, str, int]:
    """``(sha256, sha1, md5, size)`` of a file, read once in 1 MiB chunks."""
    sha256, sha1, md5 = hashlib.sha256(), hashlib.sha1(), hashlib.md5()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha256.update(chunk)
            sha1.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), sha1.hexdigest(), md5.hexdigest(), size


def clean_path(path: str) -> str:
    """A repository-relative path without leading, trailing or doubled slashes."""
    return "/".join(part for part in path.split("/") if part)


# -- property strings -----------------------------------------------------------------------


class PropertySyntaxError(ValueError):
    """A property string the server refuses (answered as 400)."""


def parse_property_string(text: str) -> dict[str, list[str]]:
    """``k1=v1,v2;k2=v3`` (``|`` also separates) with ``\\`` escaping the next character.

    ``text`` is already percent-decoded, as the servlet hands it over (reference §2.2).
    """
    out: dict[str, list[str]] = {}
    key: str | None = None
    values: list[str] = []
    current: list[str] = []

    def finish() -> None:
        nonlocal key, values, current
        if key is None:
            key = "".join(current)
            values = []
        else:
            values.append("".join(current))
        if key or values:
            check_property_key(key)
            out[key] = values or [""]
        key, values, current = None, [], []

    chars = iter(text)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char in ";|":
            finish()
        elif char == "=" and key is None:
            key, current = "".join(current), []
        elif char == "," and key is not None:
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    if current or key is not None:
        finish()
    return out


def split_escaped(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` except where a backslash escapes it."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part]


def unescape(text: str) -> str:
    """Drop the backslash before each escaped character."""
    return "".join(split_escaped(text, sep="")) if "\\" in text else text


def check_property_key(key: str) -> None:
    if not key:
        raise PropertySyntaxError("Properties value cannot be empty.")
    bad = sorted(set(key) & FORBIDDEN_KEY_CHARS)
    if bad:
        raise PropertySyntaxError(
            f"Property key '{key}' contains forbidden special characters: {''.join(bad)}"
        )


def matrix_properties(segments: Sequence[str]) -> dict[str, list[str]]:
    """Matrix parameters of a deploy path (``;k=v1,v2``), each segment still percent-encoded."""
    out: dict[str, list[str]] = {}
    for segment in segments:
        text = urllib.parse.unquote(segment)
        if not text:
            continue
        key, _, value = text.partition("=")
        key = unescape(key)
        check_property_key(key)
        out.setdefault(key, []).extend(split_escaped(value) or [""])
    return out


# -- the store ------------------------------------------------------------------------------


class Store:
    """Repositories, their items and folders, build runs and the lookup indexes."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.runs: dict[tuple[str, str], list[BuildRun]] = {}
        self.by_sha256: dict[str, set[StoredFile]] = {}
        self.by_sha1: dict[str, set[StoredFile]] = {}
        self.by_property: dict[tuple[str, str], set[StoredFile]] = {}
        self._seq = itertools.count(1)
        self._build_index: dict[str, dict[str, list[BuildRun]]] | None = None

    def next_seq(self) -> int:
        return next(self._seq)

    # repositories

    def add_repo(self, repo: Repo, now: datetime) -> Repo:
        self.repos[repo.key] = repo
        repo.folders[""] = Folder(repo.key, "", now, "admin", seq=self.next_seq())
        return repo

    def repo(self, key: str) -> Repo | None:
        return self.repos.get(key)

    # items

    def item(self, repo_key: str, path: str) -> Item | None:
        """The file or folder at ``path`` of a local repo (members of a virtual one, in order)."""
        repo = self.repos.get(repo_key)
        if repo is None:
            return None
        path = clean_path(path)
        if repo.rclass == "virtual":
            for member in repo.members:
                found = self.item(member, path)
                if found is not None:
                    return found
            return None
        return repo.files.get(path) or repo.folders.get(path)

    def ensure_folders(self, repo: Repo, path: str, user: str, now: datetime) -> None:
        """Create the folders above ``path`` (not ``path`` itself), linking each to its parent."""
        parts = path.split("/")[:-1]
        for depth in range(len(parts)):
            folder = "/".join(parts[: depth + 1])
            if folder not in repo.folders:
                repo.folders[folder] = Folder(repo.key, folder, now, user, seq=self.next_seq())
            repo.folders["/".join(parts[:depth])].children[parts[depth]] = True

    def make_folder(self, repo: Repo, path: str, user: str, now: datetime) -> Folder:
        self.ensure_folders(repo, path + "/", user, now)
        return repo.folders[path]

    def put_file(self, stored: StoredFile) -> StoredFile:
        """Store a file (replacing one at the same path) and index it."""
        repo = self.repos[stored.repo]
        old = repo.files.get(stored.path)
        if old is not None:
            self._unindex(old)
            stored.seq = old.seq
        else:
            stored.seq = self.next_seq()
        self.ensure_folders(repo, stored.path, stored.created_by, stored.created)
        repo.folders[stored.parent].children[stored.name] = False
        repo.files[stored.path] = stored
        self._index(stored)
        return stored

    def files_under(self, repo_key: str, folder: str) -> Iterator[StoredFile]:
        repo = self.repos[repo_key]
        prefix = folder + "/" if folder else ""
        for path, stored in list(repo.files.items()):
            if path.startswith(prefix):
                yield stored

    def folders_under(self, repo_key: str, folder: str) -> Iterator[Folder]:
        """Folders strictly below ``folder``."""
        repo = self.repos[repo_key]
        prefix = folder + "/" if folder else ""
        for path, node in list(repo.folders.items()):
            if path and path.startswith(prefix):
                yield node

    def delete(self, item: Item) -> int:
        """Delete a file or a folder with everything below it; the number of files removed."""
        repo = self.repos[item.repo]
        if isinstance(item, StoredFile):
            self._unindex(item)
            del repo.files[item.path]
            repo.folders[item.parent].children.pop(item.name, None)
            return 1
        files = list(self.files_under(item.repo, item.path))
        for stored in files:
            self._unindex(stored)
            del repo.files[stored.path]
        for node in list(self.folders_under(item.repo, item.path)):
            del repo.folders[node.path]
        if item.path:
            del repo.folders[item.path]
            repo.folders[item.parent].children.pop(item.name, None)
        else:
            item.children.clear()
        return len(files)

    def set_properties(self, item: Item, changes: Mapping[str, list[str] | None]) -> None:
        """Replace (a list) or delete (``None``) keys of an item's properties."""
        if isinstance(item, StoredFile):
            self._unindex(item)
        for key, values in changes.items():
            if values is None:
                item.properties.pop(key, None)
            else:
                item.properties[key] = list(values)
        if isinstance(item, StoredFile):
            self._index(item)
            item.properties_modified = datetime.now(DEFAULT_TZ)

    def all_files(self) -> Iterator[StoredFile]:
        for repo in self.repos.values():
            yield from repo.files.values()

    def all_folders(self) -> Iterator[Folder]:
        for repo in self.repos.values():
            for path, node in repo.folders.items():
                if path:
                    yield node

    def _index(self, stored: StoredFile) -> None:
        if stored.sha256:
            self.by_sha256.setdefault(stored.sha256, set()).add(stored)
        self.by_sha1.setdefault(stored.sha1, set()).add(stored)
        for key, values in stored.properties.items():
            for value in values:
                self.by_property.setdefault((key, value), set()).add(stored)

    def _unindex(self, stored: StoredFile) -> None:
        for index, key in ((self.by_sha256, stored.sha256), (self.by_sha1, stored.sha1)):
            if key and key in index:
                index[key].discard(stored)
        for prop, values in stored.properties.items():
            for value in values:
                self.by_property.get((prop, value), set()).discard(stored)

    # builds

    def add_run(self, info: dict[str, Any], started: datetime, user: str, now: datetime) -> None:
        """Publish a run; the same name, number and start time replace the earlier one."""
        key = (str(info["name"]), str(info["number"]))
        runs = self.runs.setdefault(key, [])
        runs[:] = [run for run in runs if run.started != started]
        runs.append(BuildRun(info, started, now, user, self.next_seq()))
        runs.sort(key=lambda run: run.started)
        self._build_index = None
        self._store_build_file(info, started, user, now)

    def newest_run(self, name: str, number: str) -> BuildRun | None:
        runs = self.runs.get((name, number))
        return runs[-1] if runs else None

    def all_runs(self) -> Iterator[BuildRun]:
        for runs in self.runs.values():
            yield from runs

    def builds_with(self, relation: str, sha1: str) -> list[BuildRun]:
        """The runs that list ``sha1`` as an artifact (``relation`` ``artifact``) or dependency."""
        if self._build_index is None:
            index: dict[str, dict[str, list[BuildRun]]] = {"artifact": {}, "dependency": {}}
            for run in self.all_runs():
                for kind, entries in (
                    ("artifact", build_entries(run.info, "artifacts")),
                    ("dependency", build_entries(run.info, "dependencies")),
                ):
                    for entry in entries:
                        digest = entry.get("sha1")
                        if isinstance(digest, str) and digest:
                            index[kind].setdefault(digest, []).append(run)
            self._build_index = index
        return self._build_index[relation].get(sha1, [])

    def _store_build_file(
        self, info: dict[str, Any], started: datetime, user: str, now: datetime
    ) -> None:
        """Keep the JSON as Artifactory does: ``artifactory-build-info/<name>/<number>-<ms>.json``."""
        if BUILD_INFO_REPO not in self.repos:
            self.add_repo(Repo(BUILD_INFO_REPO, "local", "buildinfo"), now)
        name = urllib.parse.quote(str(info["name"]), safe="")
        number = urllib.parse.quote(str(info["number"]), safe="")
        data = json.dumps(info, ensure_ascii=False).encode()
        sha256, sha1, md5 = digests(data)
        self.put_file(
            StoredFile(
                repo=BUILD_INFO_REPO,
                path=f"{name}/{number}-{millis(started)}.json",
                size=len(data),
                sha1=sha1,
                md5=md5,
                sha256=sha256,
                properties={},
                created=now,
                created_by=user,
                modified=now,
                modified_by=user,
                original_checksums={},
                content=data,
            )
        )


def build_entries(info: Mapping[str, Any], kind: str) -> Iterable[dict[str, Any]]:
    """Every artifact or dependency of a build-info, over all modules, skipping garbage."""
    modules = info.get("modules")
    if not isinstance(modules, list):
        return
    for module in modules:
        entries = module.get(kind) if isinstance(module, dict) else None
        if isinstance(entries, list):
            yield from (entry for entry in entries if isinstance(entry, dict))
