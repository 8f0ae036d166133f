"""A cache of what a local registry's metadata files say, for scans of the whole registry.

Lineage reads the metadata of every item and every build record of a registry: 60,000 small
JSON files for 5,000 builds of 10 artifacts. Opening, reading and decoding them, and turning
build-info into records, is most of a lineage's time. This cache keeps, in relman's cache
folder (never in the registry: a registry may be read-only, an evidence bundle on a DVD), what
each file said the last time it was read, with the file's ``stat`` stamp (inode, size,
modification and change times in nanoseconds).

The files stay the only truth. A cached answer is used only when the file's stamp is exactly
the one recorded: any change of the file (a relman write renames a new file into place, a new
inode; an edit in place changes size or mtime, and always ctime, which no user can set)
makes relman read the file again. A ``stat`` costs a third of reading and decoding the file.

The cache file is ``marshal`` data (plain tuples and strings, never code or objects: loading
it runs nothing) behind a SHA-256 of its bytes, so a truncated or corrupt cache is ignored
and rebuilt. It is only an optimisation: any problem with it is logged and the files are read.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from sys import intern
from types import MappingProxyType
from typing import Any

from relman import paths
from relman.model import Agent, ArtifactRecord, BuildRecord, BuildStatus

logger = logging.getLogger(__name__)

_MAGIC = b"relman-local-index\x00"
_SCHEMA = 4
#: Entries kept at most (the index of a far larger registry is not worth its load time).
_LIMIT = 2_000_000

Stamp = tuple[int, int, int, int]


def stamp_of(info: os.stat_result) -> Stamp:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class MetaIndex:
    """Decoded metadata files of one registry, by path relative to its ``.relman`` folder."""

    def __init__(self, meta_root: str, file: Path | None) -> None:
        self.meta_root = meta_root
        self.file = file
        self.items: dict[str, tuple[Stamp, tuple[Any, ...]]] = {}
        self.builds: dict[str, tuple[Stamp, tuple[Any, ...]]] = {}
        #: Folder listings of ``repos/`` by path: ``(stamp, [(name, kind), ...])``.
        self.folders: dict[str, tuple[Stamp, list[tuple[str, str]]]] = {}
        self.folders_seen: set[str] = set()
        self.changed = False
        self.seen: set[str] = set()
        #: Folder listings made during one scan (not saved): a scan is a snapshot.
        self.listings: dict[str, frozenset[str]] = {}

    @classmethod
    def open(cls, meta_root: str) -> MetaIndex:
        """The index of the registry whose metadata folder is ``meta_root`` (empty if none)."""
        try:
            real = os.path.realpath(meta_root)
            name = hashlib.sha256(os.fsencode(real)).hexdigest()[:32] + ".idx"
            file = paths.resolve().cache / "local-index" / name
        except (OSError, ValueError) as exc:
            logger.info("no local registry index (%s)", exc)
            return cls(meta_root, None)
        index = cls(meta_root, file)
        index._load()
        return index

    def _load(self) -> None:
        assert self.file is not None
        try:
            data = self.file.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            logger.info("local registry index %s unreadable: %s", self.file, exc)
            return
        head = len(_MAGIC) + 32
        body = memoryview(data)[head:]  # no copy of tens of megabytes
        if (
            data[: len(_MAGIC)] != _MAGIC
            or hashlib.sha256(body).digest() != data[len(_MAGIC) : head]
        ):
            logger.info("local registry index %s is damaged; rebuilding it", self.file)
            return
        try:
            decoded = marshal.loads(body)  # noqa: S302 - plain data, checked by its digest
            schema, items, builds, folders = decoded
        except (ValueError, TypeError, EOFError) as exc:
            logger.info("local registry index %s unreadable: %s", self.file, exc)
            return
        if schema == _SCHEMA and all(isinstance(d, dict) for d in (items, builds, folders)):
            self.items, self.builds, self.folders = items, builds, folders

    def save(self) -> None:
        """Write the index if anything changed, keeping only the files and folders this run
        looked at (a file deleted from the registry leaves the index with the next save)."""
        if self.file is None:
            return
        items, builds, folders = self.items, self.builds, self.folders
        pruned = False
        if len(self.seen) != len(items) + len(builds):
            items = {k: v for k, v in items.items() if k in self.seen}
            builds = {k: v for k, v in builds.items() if k in self.seen}
            pruned = True
        if len(self.folders_seen) != len(folders):
            folders = {k: v for k, v in folders.items() if k in self.folders_seen}
            pruned = True
        if not (pruned or self.changed):
            return
        if len(items) + len(builds) + len(folders) > _LIMIT:
            return
        try:
            body = marshal.dumps((_SCHEMA, items, builds, folders))
            # In pieces: one copy of tens of megabytes fewer at the peak.
            paths.atomic_write(self.file, (_MAGIC, hashlib.sha256(body).digest(), body))
        except (OSError, ValueError) as exc:
            logger.warning("could not save the local registry index %s: %s", self.file, exc)

    # -- folder listings --------------------------------------------------------------------

    def listing(self, path: str) -> list[tuple[str, str]] | None:
        """A folder's entries as :func:`relman.registry.local._list_folder` gives them, from
        the index when the folder's stamp is unchanged: adding, removing or renaming an entry
        changes a folder's modification and change times (what is in a file does not, and is
        not part of a listing)."""
        from relman.registry.local import _list_folder

        self.folders_seen.add(path)
        try:
            stamp = stamp_of(os.stat(path))
        except OSError:
            return None
        cached = self.folders.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        entries = _list_folder(path)
        if entries is not None:
            try:
                unchanged = stamp_of(os.stat(path)) == stamp  # not changed while listed
            except OSError:
                unchanged = False
            if unchanged:
                self.folders[path] = (stamp, entries)
                self.changed = True
        return entries

    # -- item metadata ----------------------------------------------------------------------

    def item(self, rel: str, meta_path: str) -> tuple[Any, ...] | None:
        """The cached row of an item's metadata file if the file is unchanged, else None
        (also when the file does not exist: the caller reads and reports it)."""
        self.seen.add(rel)
        cached = self.items.get(rel)
        if cached is None:
            return None
        try:
            info = os.stat(meta_path)
        except OSError:
            return None
        if stamp_of(info) != cached[0]:
            return None
        return cached[1]

    def put_item(self, rel: str, stamp: Stamp, row: tuple[Any, ...]) -> None:
        self.items[rel] = (stamp, row)
        self.changed = True

    # -- build records ----------------------------------------------------------------------

    def build(self, rel: str, info: os.stat_result, data: bytes) -> BuildRecord | None:
        """The record of a build-info file read as ``data`` (with ``info`` its ``fstat``), if
        the index holds it for exactly that file; its text is ``data`` (the index does not
        keep the text: it would double its size)."""
        self.seen.add(rel)
        cached = self.builds.get(rel)
        if cached is None or cached[0] != stamp_of(info):
            return None
        try:
            return record_from_row(cached[1], data.decode("utf-8", "replace"))
        except (ValueError, TypeError) as exc:
            logger.info("local registry index: entry %s unusable (%s)", rel, exc)
            return None

    def put_build(self, rel: str, info: os.stat_result, record: BuildRecord) -> None:
        self.builds[rel] = (stamp_of(info), record_to_row(record))
        self.changed = True


def item_row(meta: Mapping[str, Any]) -> tuple[Any, ...]:
    """``(size, sha256, sha1, md5, created, properties)`` of decoded item metadata, as
    :func:`relman.registry.local._location_from` reads them (``created`` as text). The
    properties dict is shared by every location made from the row: nobody changes it."""
    size = meta.get("size")
    if not isinstance(size, int) or isinstance(size, bool):
        size = None
    checksums = meta.get("checksums")
    if not isinstance(checksums, dict):
        checksums = {}
    created = meta.get("created")
    return (
        size,
        _str_or_none(checksums.get("sha256")),
        _str_or_none(checksums.get("sha1")),
        _str_or_none(checksums.get("md5")),
        created if isinstance(created, str) else None,
        properties_of(meta),
    )


def properties_of(meta: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    raw = meta.get("properties")
    if not isinstance(raw, dict):
        return {}
    # Interned: the same few names and values (build names and numbers, commits) recur on
    # thousands of items; one string each keeps memory down, and marshal writes a reference
    # to a string it has written once.
    return {
        intern(str(key)): tuple(intern(str(v)) for v in value)
        if isinstance(value, list)
        else (intern(str(value)),)
        for key, value in raw.items()
    }


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _agent(agent: Agent | None) -> tuple[str, str] | None:
    return None if agent is None else (agent.name, agent.version)


def record_to_row(r: BuildRecord) -> tuple[Any, ...]:
    return (
        r.name,
        r.number,
        _time(r.started),
        r.started_raw,
        r.vcs_revision,
        r.vcs_url,
        r.vcs_branch,
        r.vcs_message,
        _agent(r.agent),
        _agent(r.build_agent),
        tuple((a.name, a.sha256, a.sha1, a.md5, a.type, a.path, a.module) for a in r.artifacts),
        tuple(r.properties.items()),
        tuple(
            (s.status, s.repository, _time(s.timestamp), s.timestamp_raw, s.user, s.comment)
            for s in r.statuses
        ),
    )


def record_from_row(row: tuple[Any, ...], raw: str) -> BuildRecord:
    (name, number, started, started_raw, revision, url, branch, message, agent, build_agent,
     artifacts, properties, statuses) = row  # fmt: skip
    return BuildRecord(
        name=name,
        number=number,
        started=_from_time(started),
        started_raw=started_raw,
        vcs_revision=revision,
        vcs_url=url,
        vcs_branch=branch,
        vcs_message=message,
        agent=None if agent is None else Agent(*agent),
        build_agent=None if build_agent is None else Agent(*build_agent),
        artifacts=tuple(ArtifactRecord(*a) for a in artifacts),
        properties=MappingProxyType(dict(properties)),
        statuses=tuple(
            BuildStatus(s, repo, _from_time(when), raw_when, user, comment)
            for s, repo, when, raw_when, user, comment in statuses
        ),
        raw=raw,
    )
