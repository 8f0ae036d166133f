"""The Artifactory backend: lineage, downloads and promotion primitives over its REST API.

Everything follows ``reference/artifactory.md`` (section numbers below are its sections):
storage info and properties (§1, §2), downloads with checksum headers (§3), build-info (§4),
build promotion (§5), copy and move (§6), AQL (§7), checksum search (§8), environments of
Release Lifecycle Management v2 (§9.1), ping and version (§10), repositories (§11).

Requests are few and grow with pages, not items: :meth:`ArtifactoryRegistry.items` and the
``find_by_*`` lookups are AQL searches, two queries a page with the items' properties
(:mod:`relman.registry.artifactory_aql`); a build's runs are listed once and their build-info
read ahead on a small thread pool while the caller works through them.

Promotion records and approvals are files in the profile's records repository, beside no
artifact: ``.relman/promotions/<name>/<number>/<env>.dsse.json`` and
``.relman/approvals/<name>/<number>/<env>/<sha256>.dsse.json`` (names percent-encoded as the
local registry encodes them). :meth:`~ArtifactoryRegistry.items` never lists the ``.relman``
folder: it is relman's, not a release's.

Writes are described by a :class:`~relman.registry.base.Write`, read back after they are
made, and never retried blindly (:mod:`relman.registry.artifactory_writes`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from relman.errors import InputError, UsageError
from relman.model import BuildRecord, CancelToken, Digests, Location, ProgressCallback, RepoPath
from relman.registry import artifactory_aql as aql
from relman.registry import download, storage
from relman.registry.artifactory_builds import BuildPromotion, BuildsMixin
from relman.registry.artifactory_changes import ChangesMixin
from relman.registry.artifactory_core import quote_name
from relman.registry.artifactory_records import RecordsMixin
from relman.registry.artifactory_server import ConnectionCheck, ServerMixin, ServerVersion
from relman.registry.base import SIDECAR_SUFFIXES, NotFound, check_property_name
from relman.registry.http import HttpError

__all__ = [
    "ArtifactoryRegistry",
    "BuildPromotion",
    "ConnectionCheck",
    "ServerVersion",
    "quote_name",
    "safe_file_name",
]


class ArtifactoryRegistry(ServerMixin, BuildsMixin, RecordsMixin, ChangesMixin):
    """An Artifactory server at ``url`` (``https://host/artifactory``): the
    :class:`~relman.registry.base.Registry` protocol and more (see the module docstring).

    ``token`` is an access token (sent as Bearer; with ``user``, as the Basic password);
    ``ca_bundle`` a PEM file of CAs to trust; ``records_repo`` the repository that holds
    promotion records and approvals. ``profile`` names the profile in messages that say how
    to store a token. One HTTP session per registry; :meth:`close` releases it.
    """

    def items(self, repo: str, under: str = "") -> Iterator[Location]:
        """Every file of ``repo`` (below the folder ``under``), with its properties, sorted by
        path; none for remote and virtual repositories (they hold no items of their own) and
        none from relman's own ``.relman`` folder."""
        if self._repository(repo).kind in ("remote", "virtual"):
            return
        criteria: dict[str, Any] = {"repo": repo}
        if under:
            folder = storage.check_item_path(under.strip("/"))
            if any(c in folder for c in "*?"):
                raise UsageError(f"folder {under!r}: '*' and '?' are not allowed here")
            criteria = {
                "$and": [
                    {"repo": repo},
                    {"$or": [{"path": folder}, {"path": {"$match": folder + "/*"}}]},
                ]
            }
            yield from self._search(criteria, dense=True)
            return
        listed: dict[str, dict[str, str | None]] = {}
        for loc in self._search(criteria, dense=True):
            if loc.path.endswith(SIDECAR_SUFFIXES):
                for suffix in SIDECAR_SUFFIXES:
                    if loc.path.endswith(suffix) and len(loc.path) > len(suffix):
                        listed.setdefault(loc.path[: -len(suffix)], {})[suffix] = loc.sha256
            yield loc
        with self._lock:
            self._listed[repo] = listed

    def location(self, repo: str, path: str) -> Location:
        info = self._file_info(repo, path)
        return _location_from_info(repo, path, info, self.properties(repo, path))

    def find_by_sha256(self, sha256: str) -> Iterator[Location]:
        wanted = aql.hex_value(sha256, "sha256", (64,))
        return self._search({"sha256": wanted})

    def find_by_property(self, name: str, value: str) -> Iterator[Location]:
        check_property_name(name)
        return self._search({aql.property_key(name): aql.value(value, f"value of {name}")})

    def find_by_build(self, name: str, number: str) -> Iterator[Location]:
        storage.check_build_key("name", name)
        storage.check_build_key("number", number)
        seen: set[tuple[str, str]] = set()
        criteria = {
            "$and": [{"@build.name": aql.value(name)}, {"@build.number": aql.value(number)}]
        }
        for loc in self._search(criteria):
            seen.add((loc.repo, loc.path))
            yield loc
        try:
            record: BuildRecord | None = self.build_record(name, number)
        except NotFound:
            record = None
        if record is None:
            return
        sums: list[dict[str, str]] = [
            {"sha256": a.sha256} for a in record.artifacts if a.sha256
        ] + [{"actual_sha1": a.sha1} for a in record.artifacts if a.sha1 and not a.sha256]
        for criteria_part in aql.any_of(sums):
            for loc in self._search(criteria_part):
                has_build = "build.name" in loc.properties or "build.number" in loc.properties
                if not has_build and (loc.repo, loc.path) not in seen:
                    seen.add((loc.repo, loc.path))
                    yield loc

    def find_by_commit(self, commit: str) -> Iterator[Location]:
        wanted = aql.commit_prefix(commit)
        seen: set[tuple[str, str]] = set()
        for loc in self._search({"@vcs.revision": {"$match": wanted + "*"}}):
            seen.add((loc.repo, loc.path))
            yield loc
        for name in self.build_names():
            for number in self.build_numbers(name):
                revision = (self.build_record(name, number).vcs_revision or "").lower()
                if revision.startswith(wanted):
                    for loc in self.find_by_build(name, number):
                        if (loc.repo, loc.path) not in seen:
                            seen.add((loc.repo, loc.path))
                            yield loc

    def checksum_search(self, sha256: str) -> list[RepoPath]:
        """``GET /api/search/checksum?sha256=``: every place that holds these bytes."""
        wanted = aql.hex_value(sha256, "sha256", (64,))
        doc = self.http.get_json(
            "/api/search/checksum", query={"sha256": wanted}, what="checksum search"
        )
        rows = doc.get("results") if isinstance(doc, Mapping) else None
        if not isinstance(rows, list):
            raise HttpError(f"{self.url}: the checksum search answer has no 'results' list")
        found = []
        for row in rows:
            uri = row.get("uri") if isinstance(row, Mapping) else None
            if not isinstance(uri, str) or "/api/storage/" not in uri:
                raise HttpError(f"{self.url}: a checksum search result has no storage 'uri'")
            tail = urllib.parse.unquote(uri.split("/api/storage/", 1)[1])
            repo, _, path = tail.partition("/")
            storage.check_repo_key(repo)
            found.append(RepoPath(repo, _server_path(path, self.url)))
        return found

    def download(
        self,
        repo: str,
        path: str,
        dest: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        expected: Mapping[str, str | None] | None = None,
    ) -> Digests:
        """Stream ``repo/path`` into ``dest`` (atomically) while hashing it; the digests must
        match the server's ``X-Checksum-*`` headers and ``expected`` (e.g. the build
        record's ``{"sha256": ...}``), else :class:`VerificationError` and ``dest`` untouched.
        A connection reset or a short body is resumed (``Range``) or retried from the start."""
        return download.fetch(
            self.http,
            self._item(repo, path),
            Path(dest),
            label=f"{repo}/{path}",
            expected=expected,
            progress=progress,
            cancel=cancel,
        )

    def hash_remote(
        self,
        repo: str,
        path: str,
        *,
        algorithms: Sequence[str] = ("sha256",),
        expected: Mapping[str, str | None] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[int, dict[str, str]]:
        """Read ``repo/path`` again and hash it without keeping the bytes ("verify now"): the
        size and the digests of ``algorithms`` (and of those ``expected`` names), checked
        against ``expected`` and the server's ``X-Checksum-*`` headers, else
        :class:`VerificationError`. Resumed or retried like :meth:`download`."""
        return download.digest_stream(
            self.http,
            self._item(repo, path),
            label=f"{repo}/{path}",
            algorithms=algorithms,
            expected=expected,
            progress=progress,
            cancel=cancel,
        )

    def download_into(
        self,
        repo: str,
        path: str,
        folder: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        expected: Mapping[str, str | None] | None = None,
    ) -> Path:
        """:meth:`download` into ``folder`` under the item's own name, which must be a plain
        file name (no ``..``, no separator): a name from the server never leads elsewhere."""
        name = safe_file_name(storage.check_item_path(path).rsplit("/", 1)[-1])
        folder = Path(folder)
        dest = folder / name
        if dest.resolve().parent != folder.resolve():
            raise UsageError(f"{repo}/{path}: the name {name!r} leads outside {folder}")
        self.download(repo, path, dest, progress=progress, cancel=cancel, expected=expected)
        return dest

    def download_to_cache(
        self,
        repo: str,
        path: str,
        *,
        sha256: str | None = None,
        refresh: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """The bytes of ``repo/path`` in the content-addressed download cache (named by their
        SHA-256), downloaded and checked unless the cache holds ``sha256`` already (or
        ``refresh`` asks for a new download, as "verify now" does). Only SHA-256 is computed
        (checked against ``sha256`` and the server's header): the pipeline of
        :mod:`~relman.registry.download` then runs at about the speed of SHA-256 alone."""
        known = download.cached(sha256)
        if known is not None and not refresh:
            return known
        return download.fetch_to_cache(
            self.http,
            self._item(repo, path),
            label=f"{repo}/{path}",
            sha256=sha256,
            progress=progress,
            cancel=cancel,
        )

    def sidecars(self, repo: str, path: str) -> dict[str, bytes]:
        """``{suffix: bytes}`` of the signature and checksum files beside the item: one AQL
        search, then each file (from the download cache when it has its SHA-256). After a
        whole listing of the repository by :meth:`items` (lineage makes one) the listing says
        which sidecars there are, and the search is not made."""
        folder, _, name = storage.check_item_path(path).rpartition("/")
        listed = self._listed.get(storage.check_repo_key(repo))
        if listed is not None:
            known = listed.get(path, {})
            return {
                suffix: data
                for suffix, sha256 in known.items()
                if (data := self._small_or_none(repo, path + suffix, sha256)) is not None
            }
        names = [name] + [name + suffix for suffix in SIDECAR_SUFFIXES]
        criteria = {
            "$and": [
                {"repo": storage.check_repo_key(repo)},
                {"path": folder or "."},
                {"$or": [{"name": n} for n in names]},
            ]
        }
        rows = {loc.name: loc for loc in self.pager.items(criteria, properties=False)}
        if name not in rows:
            raise NotFound(f"{repo}/{path}: no such item in {self.url}")
        found = {}
        for suffix in SIDECAR_SUFFIXES:
            side = rows.get(name + suffix)
            if side is not None:
                found[suffix] = self._small(repo, side.path, side.sha256)
        return found

    def sidecar(self, repo: str, path: str, suffix: str) -> bytes | None:
        """The bytes of one sidecar of ``repo/path`` (None when there is none): one GET, or
        none when :meth:`items` listed it and the download cache holds its SHA-256."""
        if suffix not in SIDECAR_SUFFIXES:
            raise UsageError(f"{suffix!r} is not a sidecar suffix")
        side = storage.check_item_path(path) + suffix
        listed = self._listed.get(storage.check_repo_key(repo))
        if listed is not None and suffix not in listed.get(path, {}):
            return None
        sha256 = listed.get(path, {}).get(suffix) if listed is not None else None
        return self._small_or_none(repo, side, sha256)


# -- helpers -------------------------------------------------------------------------------


def _location_from_info(
    repo: str, path: str, info: Mapping[str, Any], props: Mapping[str, tuple[str, ...]]
) -> Location:
    where = f"{repo}/{path}"
    sums = info.get("checksums")
    sums = sums if isinstance(sums, Mapping) else {}
    return Location(
        repo=repo,
        path=path,
        size=aql.size_of(info.get("size"), where),
        sha256=aql.digest_of(sums, "sha256", where),
        sha1=aql.digest_of(sums, "sha1", where),
        md5=aql.digest_of(sums, "md5", where),
        created=aql.time_of(info.get("created"), where),
        properties=MappingProxyType(dict(props)),
    )


def _server_path(path: str, source: str) -> str:
    try:
        return storage.check_item_path(path)
    except UsageError as exc:
        raise InputError(f"{source}: the server named an item {exc}") from None


def safe_file_name(name: str) -> str:
    """A name from the server as a file name on this machine, or a one-line error: no
    ``..``/``.``, no ``/`` or ``\\``, no NUL or control character, not empty."""
    shown = name.encode("unicode_escape").decode("ascii")
    if (
        not name
        or name in (".", "..")
        or any(c in name for c in "/\\\x00")
        or any(ord(c) < 0x20 for c in name)
    ):
        raise UsageError(f"{shown!r} is not a safe file name to save to (path traversal?)")
    return name
