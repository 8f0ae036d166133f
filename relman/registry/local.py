"""The embedded local registry: a folder on disk that behaves like a small registry.

It is the default registry when no server is configured, the demo's registry, and the form
of an offline evidence bundle. A person can read it with ``ls`` and ``cat``::

    ROOT/
      repos/<repo>/<path>                   artifact bytes, exactly as deployed (and sidecars
                                            such as <path>.sig beside them, as files of their own)
      .relman/registry.json                 {"format": "relman-local-registry", "schema": 1}
      .relman/lock                          advisory lock taken around every metadata change
      .relman/repos/<repo>.json             {"package_type": "generic"} per repository
      .relman/items/<repo>/<path>.json      per item: size, created, checksums, properties
      .relman/builds/<name>/<number>.json   JFrog build-info, as Artifactory stores it
      .relman/approvals/<name>/<number>/<target>/<sha256>.dsse.json   signed approvals
      .relman/tmp/                          bytes being written (same file system as repos/)

Build names and numbers are percent-encoded in file names (``acme%2Fapp``), so any build
name maps to one file. Item metadata looks like::

    {"schema": 1, "size": 1024, "created": "2025-03-02T10:10:00.000000+00:00",
     "checksums": {"sha256": "...", "sha1": "...", "md5": "..."},
     "properties": {"build.name": ["acme-app"], "vcs.revision": ["3f1c..."]}}

There is no separate index by digest, build or commit: lookups read the item metadata (one
small JSON file per artifact) when asked. A second copy of the same facts would have to be
kept in step by every writer and repaired after every crash; a scan of a few thousand small
files takes milliseconds and cannot disagree with the items it reads. Callers that ask many
questions at once (lineage) iterate :meth:`LocalRegistry.items` once and build their own maps.

Rules every write keeps:

- metadata is written to a temporary file and renamed into place, so a reader sees the old
  file or the new one; a crash leaves no half file;
- read-modify-write of metadata happens under an advisory lock (``flock`` on POSIX,
  ``msvcrt.locking`` on Windows), so two relman processes never lose each other's changes;
- artifact bytes are never rewritten: they are streamed to ``.relman/tmp`` while hashed, then
  hard-linked to their final path, which fails if the path exists. A deploy or copy to a path
  that holds different bytes is refused; one that holds the same bytes changes nothing;
- paths are repository-relative, with no ``..``, no empty or ``.`` segment, no backslash, no NUL,
  not absolute, and never resolve through a symbolic link to outside their repository.

A file put into ``repos/`` by hand is listed, with no recorded checksums until it is deployed
through relman: like an old Artifactory item without a sha256, lineage reports it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from relman.errors import InputError, UsageError, VerificationError
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
from relman.paths import atomic_write, ensure_dir
from relman.registry import storage
from relman.registry.base import (
    DIGESTS,
    SIDECAR_SUFFIXES,
    Conflict,
    NotFound,
    PropertyValues,
    Write,
    check_property_name,
    describe_properties,
    property_values,
)
from relman.registry.local_builds import BuildStore
from relman.registry.local_index import MetaIndex, Stamp, item_row, properties_of, stamp_of

logger = logging.getLogger(__name__)

FORMAT = "relman-local-registry"
SCHEMA = 1
META = ".relman"
_MAX_SIDECAR = 16 << 20
_NO_FOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_READ_NO_LINK = os.O_RDONLY | _NO_FOLLOW
_CAPABILITIES = Capabilities(
    name="relman local registry",
    version=str(SCHEMA),
    properties=True,
    copy=True,
    move=True,
    build_promotion=False,
    tags=False,
    staging_move=False,
    signatures=True,
)


class LocalRegistry(BuildStore):
    """A registry in a folder; see the module docstring for its layout and rules."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool = False) -> None:
        self.root = Path(root).expanduser().absolute()
        self._meta = self.root / META
        marker = self._meta / "registry.json"
        if not marker.is_file():
            if not create:
                raise NotFound(f"{self.root}: no relman local registry here")
            self._initialise(marker)
        else:
            self._check_marker(marker)
        self._repos = self.root / "repos"
        self._tmp = self._meta / "tmp"
        # Parsed build records by file, with the stat stamp they were read at (any change to
        # the file changes it), so build_numbers() followed by build_record() parses each once.
        self._parsed: dict[str, tuple[Stamp, BuildRecord]] = {}
        self._index: MetaIndex | None = None
        self._meta_str = str(self._meta) + os.sep

    @contextlib.contextmanager
    def indexed(self) -> Iterator[None]:
        """Within this block, metadata files unchanged since an earlier scan are not read
        again: their decoded content comes from relman's cache (see
        :mod:`relman.registry.local_index`). For callers that read the whole registry."""
        if self._index is not None:
            yield
            return
        self._index = MetaIndex.open(self._meta_str)
        try:
            yield
        finally:
            index, self._index = self._index, None
            index.save()

    def _initialise(self, marker: Path) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(f"{self.root}: is a file, not a folder for a local registry")
        if self.root.is_dir() and any(p.name != META for p in self.root.iterdir()):
            raise UsageError(
                f"{self.root}: the folder is not empty and is not a relman local registry"
            )
        ensure_dir(self.root / "repos")
        for folder in ("items", "builds", "repos", "tmp"):
            ensure_dir(self._meta / folder)
        atomic_write(marker, storage.json_bytes({"format": FORMAT, "schema": SCHEMA}))

    def _check_marker(self, marker: Path) -> None:
        try:
            data = json.loads(marker.read_bytes())
        except (OSError, ValueError) as exc:
            raise InputError(f"{marker}: unreadable registry marker ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{marker}: not a relman local registry marker")
        if not isinstance(data.get("schema"), int) or data["schema"] > SCHEMA:
            raise InputError(
                f"{self.root}: local registry schema {data.get('schema')!r} is newer than this "
                f"relman understands ({SCHEMA}); upgrade relman"
            )

    def __repr__(self) -> str:
        return f"LocalRegistry({str(self.root)!r})"

    @property
    def capabilities(self) -> Capabilities:
        return _CAPABILITIES

    # -- locking and paths -----------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._meta / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            storage.lock_fd(fd)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _repo_dir(self, repo: str) -> Path:
        folder = self._repos / storage.check_repo_key(repo)
        if not folder.is_dir():
            raise NotFound(f"no repository {repo!r} in {self.root}")
        return folder

    def _file(self, repo: str, path: str) -> Path:
        """The bytes' path, refusing any that resolves outside the repository."""
        folder = self._repo_dir(repo)
        target = folder / storage.check_item_path(path)
        real_root = os.path.realpath(folder)
        real = os.path.realpath(target)
        if os.path.commonpath([real_root, real]) != real_root:
            raise UsageError(f"{repo}/{path}: resolves outside its repository (symbolic link)")
        return target

    def _meta_file(self, repo: str, path: str) -> Path:
        return self._meta / "items" / repo / (path + ".json")

    def _existing(self, repo: str, path: str) -> Path:
        target = self._file(repo, path)
        if not target.is_file():
            raise NotFound(f"{repo}/{path}: no such item in {self.root}")
        return target

    # -- repositories ----------------------------------------------------------------------

    def create_repository(self, key: str, package_type: str = "generic") -> Repository:
        storage.check_repo_key(key)
        with self._locked():
            ensure_dir(self._repos / key)
            atomic_write(
                self._meta / "repos" / f"{key}.json",
                storage.json_bytes({"package_type": package_type}),
            )
        return Repository(key, "local", package_type)

    def repositories(self) -> Iterator[Repository]:
        if not self._repos.is_dir():
            return
        for entry in sorted(os.scandir(self._repos), key=lambda e: e.name):
            if not entry.is_dir(follow_symlinks=False) or not storage.REPO_KEY.fullmatch(
                entry.name
            ):
                continue
            config = storage.read_json(self._meta / "repos" / f"{entry.name}.json") or {}
            package_type = config.get("package_type")
            yield Repository(
                entry.name, "local", package_type if isinstance(package_type, str) else "generic"
            )

    # -- items -----------------------------------------------------------------------------

    def items(self, repo: str, under: str = "") -> Iterator[Location]:
        for rel, full in self.item_files(repo, under):
            yield self.item_at(repo, rel, full)

    def item_files(self, repo: str, under: str = "") -> Iterator[tuple[str, str]]:
        """``(path, file)`` of every item :meth:`items` lists, in its order, without reading
        their metadata (lineage reads none for the signature sidecars); :meth:`item_at` makes
        the :class:`Location` of one."""
        folder = self._repo_dir(repo)
        start = self._file(repo, under) if under else folder
        real_root = os.path.realpath(folder)
        listing = self._index.listing if self._index is not None else _list_folder
        for full, rel, is_link in _walk_files(str(start), str(folder), listing):
            # Only a symbolic link can lead outside: plain entries reached without following
            # links are inside by construction, and the realpath check costs a syscall per
            # path segment (too much for 50,000 items in one lineage scan).
            if is_link:
                real = os.path.realpath(full)
                if os.path.commonpath([real_root, real]) != real_root or not Path(real).is_file():
                    logger.warning("skipping %s: resolves outside %s", full, folder)
                    continue
            yield rel, full

    def item_at(self, repo: str, path: str, full: str) -> Location:
        """The :class:`Location` of an item :meth:`item_files` listed as ``(path, full)``."""
        rel = "items/" + repo + "/" + path + ".json"
        meta_path = self._meta_str + rel if os.sep == "/" else os.path.join(self._meta, rel)
        index = self._index
        if index is None:
            return _location_from(repo, path, full, meta_path)
        row = index.item(rel, meta_path)
        if row is None:
            row, stamp = _read_meta_row(meta_path)
            if stamp is not None:
                index.put_item(rel, stamp, row)
        return _location_from_row(repo, path, full, row)

    def _all_items(self) -> Iterator[Location]:
        for repo in self.repositories():
            yield from self.items(repo.key)

    def location(self, repo: str, path: str) -> Location:
        return self._location(repo, path, self._existing(repo, path))

    def _location(self, repo: str, path: str, target: Path) -> Location:
        return _location_from(repo, path, str(target), str(self._meta_file(repo, path)))

    def properties(self, repo: str, path: str) -> Mapping[str, tuple[str, ...]]:
        return self.location(repo, path).properties

    def find_by_sha256(self, sha256: str) -> Iterator[Location]:
        wanted = sha256.strip().lower()
        return (loc for loc in self._all_items() if loc.sha256 == wanted)

    def find_by_property(self, name: str, value: str) -> Iterator[Location]:
        check_property_name(name)
        return (loc for loc in self._all_items() if value in loc.properties.get(name, ()))

    def find_by_build(self, name: str, number: str) -> Iterator[Location]:
        try:
            record: BuildRecord | None = self.build_record(name, number)
        except NotFound:
            record = None
        sha256s = {a.sha256 for a in record.artifacts if a.sha256} if record else set()
        sha1s = {a.sha1 for a in record.artifacts if a.sha1} if record else set()
        for loc in self._all_items():
            names = loc.properties.get("build.name")
            numbers = loc.properties.get("build.number")
            if names is not None or numbers is not None:
                if name in (names or ()) and number in (numbers or ()):
                    yield loc
            elif (loc.sha256 and loc.sha256 in sha256s) or (loc.sha1 and loc.sha1 in sha1s):
                yield loc

    def find_by_commit(self, commit: str) -> Iterator[Location]:
        wanted = commit.strip().lower()
        if len(wanted) < 7:
            raise UsageError(f"commit {commit!r} is too short to look up (7 hex digits or more)")
        seen: set[tuple[str, str]] = set()
        for loc in self._all_items():
            if any(v.lower().startswith(wanted) for v in loc.properties.get("vcs.revision", ())):
                seen.add((loc.repo, loc.path))
                yield loc
        for name in self.build_names():
            for number in self.build_numbers(name):
                revision = self.build_record(name, number).vcs_revision or ""
                if revision.startswith(wanted):
                    for loc in self.find_by_build(name, number):
                        if (loc.repo, loc.path) not in seen:
                            seen.add((loc.repo, loc.path))
                            yield loc

    def sidecars(self, repo: str, path: str) -> dict[str, bytes]:
        self._existing(repo, path)
        found: dict[str, bytes] = {}
        for suffix in SIDECAR_SUFFIXES:
            # A stat first: most suffixes are absent, and the path check (realpath) is dear.
            if os.path.lexists(self._repos / repo / (path + suffix)):
                side = self._file(repo, path + suffix)
                if side.is_file():
                    with side.open("rb") as handle:
                        found[suffix] = handle.read(_MAX_SIDECAR)
        return found

    def sidecar(self, repo: str, path: str, suffix: str) -> bytes | None:
        """The bytes of one sidecar (``suffix`` of :data:`SIDECAR_SUFFIXES`) of ``repo/path``,
        or None when there is none: :meth:`sidecars` for one suffix, without the cost of
        resolving the path (lineage reads 50,000 of them).

        The path is checked segment by segment instead: when no folder below the repository is
        a symbolic link and the file is opened without following one, it cannot be outside the
        repository. Anything else (a link on the way) takes the full check of :meth:`sidecars`.
        """
        if suffix not in SIDECAR_SUFFIXES:
            raise UsageError(f"{suffix!r} is not a sidecar suffix")
        storage.check_item_path(path)
        if not _NO_FOLLOW:  # pragma: no cover - no O_NOFOLLOW (Windows): the full check
            return self.sidecars(repo, path).get(suffix)
        folder = os.path.join(self._repos, storage.check_repo_key(repo))
        segments = path.split("/")
        here = folder
        try:
            for segment in segments[:-1]:
                here = os.path.join(here, segment)
                if stat.S_ISLNK(os.lstat(here).st_mode):
                    return self.sidecars(repo, path).get(suffix)
            fd = os.open(os.path.join(here, segments[-1] + suffix), _READ_NO_LINK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the sidecar itself is a symbolic link
                return self.sidecars(repo, path).get(suffix)
            raise
        return _read_regular(fd)

    def listed_sidecar(self, repo: str, path: str) -> bytes | None:
        """The bytes of a sidecar :meth:`item_files` listed (``path`` with its suffix), or None
        when it is gone: the walk vetted the folders on the way, so only the file itself is
        opened without following a link (a link the walk vetted takes the full check)."""
        storage.check_item_path(path)
        full = os.path.join(self._repos, storage.check_repo_key(repo), path)
        try:
            if not _NO_FOLLOW:  # pragma: no cover - no O_NOFOLLOW (Windows): the full check
                raise OSError(errno.ELOOP, "no O_NOFOLLOW")
            fd = os.open(full, _READ_NO_LINK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            target = self._file(repo, path)
            if not target.is_file():
                return None
            with target.open("rb") as handle:
                return handle.read(_MAX_SIDECAR)
        return _read_regular(fd)

    # -- bytes -----------------------------------------------------------------------------

    def download(
        self,
        repo: str,
        path: str,
        dest: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Digests:
        loc = self.location(repo, path)
        source = self._file(repo, path)
        dest = Path(dest)
        if dest.is_dir():
            raise UsageError(f"{dest}: is a folder; give the file to download into")
        ensure_dir(dest.parent)
        with storage.temporary(dest.parent, dest.name) as tmp:
            digests = storage.stream(source, tmp, progress, cancel)
            _check_digests(f"{repo}/{path}", loc, digests)
            os.replace(tmp, dest)
        return digests

    def deploy(
        self,
        repo: str,
        path: str,
        source: Path | bytes,
        properties: PropertyValues | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Write:
        """Put new bytes at ``repo``/``path`` (a helper for tests, the demo and imports).

        The same bytes at the same path change nothing but the properties; different bytes
        are refused with :class:`Conflict`: relman never rewrites an artifact.
        """
        target = self._file(repo, path)
        props = property_values(properties or {})
        label = f"{repo}/{path}"
        with storage.temporary(self._tmp, "deploy") as tmp:
            if isinstance(source, bytes):
                digests = storage.hash_bytes(tmp, source, progress)
            else:
                digests = storage.stream(Path(source), tmp, progress, cancel)
            with self._locked():
                if target.exists():
                    self._same_bytes_or_conflict(label, target, digests, "deploy")
                    if props:
                        self._update_properties(repo, path, props, ())
                    return Write("deploy", label, "already there with the same sha256")
                meta = _new_meta(digests, props)
                self._place(tmp, target, self._meta_file(repo, path), meta)
        return Write("deploy", label, f"sha256 {digests.sha256}")

    def _same_bytes_or_conflict(
        self, label: str, target: Path, digests: Digests, action: str
    ) -> None:
        repo, path = label.split("/", 1)
        existing = self._location(repo, path, target).sha256
        if existing is None:
            existing = storage.stream(target, None, None, None).sha256
        if existing != digests.sha256:
            raise Conflict(
                f"{label}: already holds different bytes (sha256 {existing}); relman never "
                f"rewrites an artifact, {action} to a new path instead"
            )

    def _place(self, tmp: Path, target: Path, meta_path: Path, meta: dict[str, Any]) -> None:
        """Metadata first, then the bytes by hard link (fails if the path exists)."""
        old_meta = meta_path.read_bytes() if meta_path.is_file() else None
        atomic_write(meta_path, storage.json_bytes(meta))
        ensure_dir(target.parent)
        try:
            storage.link_new(tmp, target)
        except BaseException:
            if old_meta is None:
                with contextlib.suppress(FileNotFoundError):
                    meta_path.unlink()
            else:
                atomic_write(meta_path, old_meta)
            raise

    # -- promotion primitives --------------------------------------------------------------

    def set_properties(
        self, repo: str, path: str, properties: PropertyValues, *, dry_run: bool = False
    ) -> Write:
        self._existing(repo, path)
        props = property_values(properties)
        if not props:
            raise UsageError("set_properties: no property given")
        write = Write("set-properties", f"{repo}/{path}", describe_properties(props), dry_run)
        if not dry_run:
            with self._locked():
                self._update_properties(repo, path, props, ())
        return write

    def delete_properties(
        self, repo: str, path: str, names: Sequence[str], *, dry_run: bool = False
    ) -> Write:
        self._existing(repo, path)
        wanted = [check_property_name(n) for n in names]
        if not wanted:
            raise UsageError("delete_properties: no property name given")
        write = Write("delete-properties", f"{repo}/{path}", ", ".join(wanted), dry_run)
        if not dry_run:
            with self._locked():
                self._update_properties(repo, path, {}, wanted)
        return write

    def _update_properties(
        self,
        repo: str,
        path: str,
        new: Mapping[str, tuple[str, ...]],
        remove: Sequence[str],
    ) -> None:
        """Read-modify-write of one item's metadata; the caller holds the lock."""
        meta_path = self._meta_file(repo, path)
        meta = storage.read_json(meta_path) or {"schema": SCHEMA, "checksums": {}}
        props = properties_of(meta)
        for name in remove:
            props.pop(name, None)
        props.update(new)
        meta["properties"] = {k: list(v) for k, v in props.items()}
        atomic_write(meta_path, storage.json_bytes(meta))

    def copy(
        self,
        src: RepoPath,
        dst: RepoPath,
        *,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Write:
        return self._transfer("copy", src, dst, dry_run, progress, cancel)

    def move(
        self,
        src: RepoPath,
        dst: RepoPath,
        *,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Write:
        return self._transfer("move", src, dst, dry_run, progress, cancel)

    def _transfer(
        self,
        action: str,
        src: RepoPath,
        dst: RepoPath,
        dry_run: bool,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> Write:
        source = self._existing(src.repo, src.path)
        target = self._file(dst.repo, dst.path)
        if (src.repo, src.path) == (dst.repo, dst.path):
            raise UsageError(f"{action}: {src} onto itself")
        loc = self._location(src.repo, src.path, source)
        label = str(dst)
        if target.exists():
            # Same bytes already there: nothing to write (and a move leaves the source alone).
            digests = storage.stream(source, None, None, None)
            self._same_bytes_or_conflict(label, target, digests, action)
            return Write(action, label, f"already there with the same sha256 as {src}", dry_run)
        write = Write(action, label, f"from {src} (sha256 {loc.sha256 or 'unrecorded'})", dry_run)
        if dry_run:
            return write
        meta = storage.read_json(self._meta_file(src.repo, src.path)) or {"checksums": {}}
        meta["schema"] = SCHEMA
        meta["created"] = datetime.now(UTC).isoformat()
        with storage.temporary(self._tmp, action) as tmp:
            # Stream and hash the copy, and prove it has the bytes the registry recorded.
            digests = storage.stream(source, tmp, progress, cancel)
            _check_digests(str(src), loc, digests)
            meta["checksums"] = digests.as_dict()
            meta["size"] = digests.size
            with self._locked():
                if target.exists():
                    self._same_bytes_or_conflict(label, target, digests, action)
                    return Write(action, label, f"already there with the same sha256 as {src}")
                self._place(tmp, target, self._meta_file(dst.repo, dst.path), meta)
                if action == "move":
                    with contextlib.suppress(FileNotFoundError):
                        self._meta_file(src.repo, src.path).unlink()
                    source.unlink()
        return write

    def delete(self, repo: str, path: str, *, dry_run: bool = False) -> Write:
        """Remove an item, bytes then metadata (:class:`~relman.registry.base.Deletes`): a
        rollback or an undone promotion removing a copy. Sidecars are items of their own."""
        target = self._existing(repo, path)
        loc = self._location(repo, path, target)
        write = Write("delete", f"{repo}/{path}", f"sha256 {loc.sha256 or 'unrecorded'}", dry_run)
        if not dry_run:
            with self._locked():
                target.unlink(missing_ok=True)
                with contextlib.suppress(FileNotFoundError):
                    self._meta_file(repo, path).unlink()
        return write


# -- helpers -------------------------------------------------------------------------------


def _list_folder(path: str) -> list[tuple[str, str]] | None:
    """``(name, kind)`` of a folder's entries sorted by name (kind ``d`` a folder, ``l`` a
    symbolic link, ``f`` anything else); None when it is not a folder (any more)."""
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return [
        (e.name, "d" if e.is_dir(follow_symlinks=False) else "l" if e.is_symlink() else "f")
        for e in entries
    ]


def _walk_files(
    start: str,
    folder: str,
    listing: Callable[[str], list[tuple[str, str]] | None] = _list_folder,
) -> Iterator[tuple[str, str, bool]]:
    """``(full path, repository-relative path, is a symbolic link)`` of every file below
    ``start``, in ``os.walk`` order (a folder's files sorted, then its sub-folders sorted);
    symbolic links to folders are not followed. ``listing`` lists one folder (the index's
    cached listings within :meth:`LocalRegistry.indexed`)."""
    prefix = os.path.relpath(start, folder).replace(os.sep, "/")
    stack = [(start, "" if prefix == "." else prefix + "/")]
    while stack:
        here, prefix = stack.pop()
        entries = listing(here)
        if entries is None:
            continue
        folders = []
        base = here + os.sep
        for name, kind in entries:
            if kind == "d":
                folders.append((base + name, prefix + name + "/"))
            elif kind == "l":
                if not os.path.isdir(base + name):  # noqa: PTH112 - 50,000 paths
                    yield base + name, prefix + name, True
            else:
                yield base + name, prefix + name, False
        stack.extend(reversed(folders))


def _location_from(repo: str, path: str, full: str, meta_path: str) -> Location:
    """An item as the registry knows it: its recorded size and digests (a file put there by
    hand, with no metadata, has its size on disk and no digests)."""
    return _location_from_row(repo, path, full, item_row(_read_meta(meta_path)))


def _location_from_row(repo: str, path: str, full: str, row: tuple[Any, ...]) -> Location:
    size, sha256, sha1, md5, created_text, properties = row
    if size is None:
        size = os.stat(full).st_size
    created = None
    if created_text is not None:
        with contextlib.suppress(ValueError):
            created = datetime.fromisoformat(created_text)
    return Location(repo, path, size, sha256, sha1, md5, created, MappingProxyType(properties))


def _read_meta_row(path: str) -> tuple[tuple[Any, ...], Stamp | None]:
    """The row of an item's metadata file and the stamp it had while it was read (None when
    it changed meanwhile or does not exist: such a row is not cached)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return item_row({}), None
    except OSError as exc:
        raise InputError(f"{path}: unreadable registry metadata ({exc})") from None
    try:
        before = os.fstat(fd)
        chunks = [os.read(fd, 1 << 16)]
        while len(chunks[-1]) == 1 << 16:
            chunks.append(os.read(fd, 1 << 16))
        after = os.fstat(fd)
    except OSError as exc:
        raise InputError(f"{path}: unreadable registry metadata ({exc})") from None
    finally:
        os.close(fd)
    meta = _decode_meta(path, b"".join(chunks))
    stamp = stamp_of(before)
    return item_row(meta), stamp if stamp == stamp_of(after) else None


def _read_regular(fd: int) -> bytes | None:
    """Up to ``_MAX_SIDECAR`` bytes of an open file (as :meth:`LocalRegistry.sidecars` reads),
    None if it is not a regular file; closes ``fd``."""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        chunks: list[bytes] = []
        size = 0
        while size < _MAX_SIDECAR:
            # The size on disk sizes the reads: one read for a file that keeps its size.
            chunk = os.read(fd, min(max(info.st_size - size, 0) or 1 << 16, _MAX_SIDECAR - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size == info.st_size:
                break
    finally:
        os.close(fd)
    return b"".join(chunks)


def _read_meta(path: str) -> dict[str, Any]:
    """``storage.read_json`` without pathlib and buffered files, which cost more than the
    read itself when a lineage scan reads 50,000 items."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            chunks = [os.read(fd, 1 << 16)]
            while len(chunks[-1]) == 1 << 16:
                chunks.append(os.read(fd, 1 << 16))
        finally:
            os.close(fd)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InputError(f"{path}: unreadable registry metadata ({exc})") from None
    return _decode_meta(path, b"".join(chunks))


def _decode_meta(path: str, data: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(data)
    except ValueError as exc:
        raise InputError(f"{path}: unreadable registry metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: registry metadata is not a JSON object")
    return meta


def _new_meta(digests: Digests, props: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "size": digests.size,
        "created": datetime.now(UTC).isoformat(),
        "checksums": digests.as_dict(),
        "properties": {k: list(v) for k, v in props.items()},
    }


def _check_digests(label: str, loc: Location, digests: Digests) -> None:
    for name in DIGESTS:
        recorded = getattr(loc, name)
        actual = getattr(digests, name)
        if recorded is not None and recorded != actual:
            raise VerificationError(
                f"{label}: the bytes read have {name} {actual} but the registry records "
                f"{recorded}; they were changed after they were deployed"
            )
