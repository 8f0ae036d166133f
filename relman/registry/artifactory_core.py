"""The shared core of the Artifactory backend: one HTTP session, item and build URLs, storage
info, properties, small files read through the download cache, and deploys of new files.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self

from relman.errors import RelmanError, UsageError, VerificationError
from relman.model import (
    DEFAULT_RECORDS_REPO,
    BuildRecord,
    Capabilities,
    Digests,
    Location,
    ProgressCallback,
    Repository,
)
from relman.registry import artifactory_aql as aql
from relman.registry import artifactory_writes as writes
from relman.registry import buildinfo, download, storage
from relman.registry.base import Conflict, NotFound, Write
from relman.registry.http import DEFAULT_TIMEOUT, HttpClient, HttpError, HttpNotFound

logger = logging.getLogger(__name__)

SERVICE = "Artifactory"
RECORDS = ".relman"
MAX_SIDECAR = 16 << 20
NO_PROPERTIES = "no properties could be found"
_KINDS = {"local": "local", "federated": "local", "remote": "remote", "virtual": "virtual"}


def quote_name(text: str) -> str:
    """A build name, number or environment as a file name, as the local registry writes it."""
    return urllib.parse.quote(text, safe=" @+-_,=")


class ArtifactoryCore:
    """What every part of the Artifactory backend shares: the HTTP session and its caches,
    URLs of items and builds, storage info, properties, small files and new files.

    :class:`~relman.registry.artifactory.ArtifactoryRegistry` is made of this and the
    parts in ``artifactory_server``, ``artifactory_builds``, ``artifactory_records`` and
    ``artifactory_changes``; see it for the constructor's arguments.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        ca_bundle: str | None = None,
        records_repo: str = DEFAULT_RECORDS_REPO,
        profile: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        attempts: int = 3,
        page_size: int = aql.DEFAULT_PAGE,
        workers: int = 8,
        max_json: int | None = None,
    ) -> None:
        hint = (
            f"set RELMAN_TOKEN, or add profile {profile} again with --token-stdin"
            if profile
            else "set RELMAN_TOKEN"
        )
        options: dict[str, Any] = {} if max_json is None else {"max_json": max_json}
        self.http = HttpClient(
            url,
            service=SERVICE,
            token=token,
            user=user,
            ca_bundle=ca_bundle,
            timeout=timeout,
            attempts=attempts,
            pool=max(workers, 4),
            search_paths=("/api/search/",),
            hint=hint,
            **options,
        )
        self.url = self.http.base_url
        self.records_repo = storage.check_repo_key(records_repo)
        self.pager = aql.Pager(self._aql, self.url, page_size)
        self.workers = workers
        self._capabilities: Capabilities | None = None
        self._repos: dict[str, Repository] | None = None
        # repo -> {item path: {suffix: sidecar SHA-256}} from the last whole listing of the
        # repository by items(): sidecars() then needs no search, and the download cache
        # serves the bytes it holds.
        self._listed: dict[str, dict[str, dict[str, str | None]]] = {}
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._runs: dict[str, list[str]] = {}
        # "promotions"/"approvals" -> (when listed, {folder: files}): see _record_files.
        self._records: dict[str, tuple[float, dict[str, list[Location]]]] = {}
        self._ahead: dict[tuple[str, str], concurrent.futures.Future[BuildRecord]] = {}

    def __repr__(self) -> str:
        return f"ArtifactoryRegistry({self.url!r})"

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._ahead.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _item(repo: str, path: str) -> str:
        """``/repo/path`` escaped for a URL (``;`` too: it starts matrix parameters)."""
        storage.check_repo_key(repo)
        return f"/{repo}/" + urllib.parse.quote(storage.check_item_path(path), safe="/")

    def _storage(self, repo: str, path: str = "") -> str:
        if not path:
            return f"/api/storage/{storage.check_repo_key(repo)}"
        return "/api/storage" + self._item(repo, path)

    @staticmethod
    def _build(name: str, number: str | None = None) -> str:
        storage.check_build_key("name", name)
        out = "/api/build/" + urllib.parse.quote(name, safe="")
        if number is not None:
            storage.check_build_key("number", number)
            out += "/" + urllib.parse.quote(number, safe="")
        return out

    def repositories(self) -> Iterator[Repository]:
        doc = self.http.get_json("/api/repositories", what="repositories")
        if not isinstance(doc, list):
            raise HttpError(f"{self.url}/api/repositories: the answer is not a list")
        found: dict[str, Repository] = {}
        for entry in doc:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
                raise HttpError(f"{self.url}/api/repositories: an entry has no 'key'")
            kind = str(entry.get("type") or entry.get("rclass") or "local").lower()
            package = str(entry.get("packageType") or "generic").lower()
            found[entry["key"]] = Repository(entry["key"], _KINDS.get(kind, kind), package)
        self._repos = found
        yield from sorted(found.values(), key=lambda r: r.key)

    def _repository(self, repo: str) -> Repository:
        storage.check_repo_key(repo)
        if self._repos is None or repo not in self._repos:
            list(self.repositories())
        assert self._repos is not None
        if repo not in self._repos:
            raise NotFound(f"no repository {repo!r} in {self.url}")
        return self._repos[repo]

    def _search(self, criteria: Mapping[str, Any], *, dense: bool = False) -> Iterator[Location]:
        """Items matching ``criteria`` with their properties (see :meth:`aql.Pager.items`),
        never relman's own ``.relman`` folder."""
        for loc in self.pager.items(criteria, dense=dense):
            if loc.path == RECORDS or loc.path.startswith(RECORDS + "/"):
                continue
            yield loc

    def _aql(self, text: str) -> Any:
        answer = self.http.send(
            "POST",
            "/api/search/aql",
            data=text.encode(),
            headers={"Content-Type": "text/plain"},
            what="AQL search",
        )
        return self.http.json_of(answer)

    def _file_info(self, repo: str, path: str) -> Mapping[str, Any]:
        """``GET /api/storage/repo/path`` of a file; :class:`NotFound` when there is none."""
        try:
            doc = self.http.get_json(self._storage(repo, path), what=f"{repo}/{path}")
        except HttpNotFound:
            raise NotFound(f"{repo}/{path}: no such item in {self.url}") from None
        if not isinstance(doc, Mapping):
            raise HttpError(f"{self.url}: the storage answer for {repo}/{path} is not an object")
        if "children" in doc:
            raise UsageError(f"{repo}/{path}: is a folder, not a file")
        return doc

    def _file_info_or_none(self, repo: str, path: str) -> Mapping[str, Any] | None:
        try:
            return self._file_info(repo, path)
        except NotFound:
            return None

    def properties(self, repo: str, path: str) -> Mapping[str, tuple[str, ...]]:
        """The item's properties; an item without any has ``{}`` (Artifactory answers 404
        ``No properties could be found.``, which is not a missing item)."""
        try:
            doc = self.http.get_json(
                self._storage(repo, path), query="properties", what=f"properties of {repo}/{path}"
            )
        except HttpNotFound as exc:
            if NO_PROPERTIES in exc.server_message.lower():
                return MappingProxyType({})
            raise NotFound(f"{repo}/{path}: no such item in {self.url}") from None
        raw = doc.get("properties") if isinstance(doc, Mapping) else None
        if not isinstance(raw, Mapping):
            raise HttpError(f"{self.url}: the properties of {repo}/{path} are not an object")
        out: dict[str, tuple[str, ...]] = {}
        for key, values in raw.items():
            items = values if isinstance(values, list) else [values]
            out[str(key)] = tuple(str(v) for v in items)
        return MappingProxyType(out)

    def _fetch_record(self, name: str, number: str) -> BuildRecord:
        try:
            answer = self.http.send("GET", self._build(name, number), what=f"build {name}/{number}")
        except HttpNotFound:
            raise NotFound(f"no build {name}/{number} in {self.url}") from None
        doc = self.http.json_of(answer)
        return buildinfo.parse(doc, source=f"{self.url}: build {name}/{number}")

    def _small_or_none(self, repo: str, path: str, sha256: str | None) -> bytes | None:
        try:
            return self._small(repo, path, sha256)
        except NotFound:
            return None

    def _small(self, repo: str, path: str, sha256: str | None) -> bytes:
        """A small file (sidecar, record): from the cache by SHA-256, or one GET (at most
        16 MiB) checked against that SHA-256 and kept in the cache."""
        hit = download.cached(sha256)
        if hit is not None:
            return hit.read_bytes()
        try:
            response = self.http.open("GET", self._item(repo, path), what=f"{repo}/{path}")
        except HttpNotFound:
            raise NotFound(f"{repo}/{path}: no such item in {self.url}") from None
        try:
            data = self.http.read_body(response, limit=MAX_SIDECAR)
        finally:
            response.close()
        header = response.headers.get("X-Checksum-Sha256", "").strip().lower() or None
        for expected in (sha256, header):
            if expected and hashlib.sha256(data).hexdigest() != expected:
                raise VerificationError(
                    f"{repo}/{path}: the bytes read have sha256 "
                    f"{hashlib.sha256(data).hexdigest()} but the server records {expected}"
                )
        if sha256 or header:
            try:
                download.keep(data)
            except OSError as exc:
                logger.warning("could not keep %s/%s in the download cache: %s", repo, path, exc)
        return data

    def _put_new(self, repo: str, path: str, data: bytes, *, what: str) -> bool:
        """Deploy ``data`` where nothing is yet; False when the same bytes are there already
        (nothing to do)."""
        digests = digests_of(data)
        existing = self._file_info_or_none(repo, path)
        if existing is not None:
            self._same_or_conflict(f"{repo}/{path}", existing, digests.sha256, what)
            return False
        try:
            self._put(repo, path, data, digests, {}, None)
        except HttpNotFound:
            if repo == self.records_repo and self._missing_repo(repo):
                raise UsageError(
                    f"the records repository {repo!r} does not exist in {self.url}: create it "
                    "(a local generic repository) or name another with relman profile add "
                    "--records-repo"
                ) from None
            raise
        return True

    def _missing_repo(self, repo: str) -> bool:
        try:
            self._repository(repo)
        except NotFound:
            return True
        return False

    def _put(
        self,
        repo: str,
        path: str,
        source: Path | bytes,
        digests: Digests,
        props: Mapping[str, Sequence[str]],
        progress: ProgressCallback | None,
    ) -> None:
        target = self._item(repo, path)
        if props:
            target += ";" + writes.encode_properties(props)
        headers = {
            "X-Checksum-Sha256": digests.sha256,
            "X-Checksum-Sha1": digests.sha1,
            "X-Checksum-Md5": digests.md5,
            "Content-Type": "application/octet-stream",
        }
        write = Write("deploy", f"{repo}/{path}", f"sha256 {digests.sha256}")
        try:
            if isinstance(source, bytes):
                answer = self.http.send("PUT", target, data=source, headers=headers, ok=(200, 201))
            else:
                with Path(source).open("rb") as handle:
                    headers["Content-Length"] = str(digests.size)
                    body = _ProgressReader(handle, digests.size, progress)
                    answer = self.http.send(
                        "PUT", target, data=body, headers=headers, ok=(200, 201)
                    )
        except RelmanError as exc:
            writes.settle(write, exc, lambda: self._holds(repo, path, digests.sha256))
            return
        doc = self.http.json_of(answer) if answer.body.strip() else {}
        stored = doc.get("checksums", {}).get("sha256") if isinstance(doc, Mapping) else None
        if stored is not None and stored != digests.sha256:
            raise VerificationError(
                f"{repo}/{path}: the server stored sha256 {stored}, not the {digests.sha256} sent"
            )

    def _holds(self, repo: str, path: str, sha256: str) -> bool:
        info = self._file_info_or_none(repo, path)
        return info is not None and checksum_of(info, "sha256") == sha256

    def _same_or_conflict(
        self, label: str, info: Mapping[str, Any], sha256: str, action: str
    ) -> None:
        existing = checksum_of(info, "sha256")
        if existing != sha256:
            raise Conflict(
                f"{label}: already holds different bytes (sha256 {existing or 'unrecorded'}); "
                f"relman never rewrites an artifact, {action} to a new path instead"
            )


# -- helpers -------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _ProgressReader:
    """A file object for an upload body that reports how much was read."""

    def __init__(self, handle: Any, total: int, progress: ProgressCallback | None) -> None:
        self.handle = handle
        self.total = total
        self.done = 0
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.handle.read(size if size and size > 0 else 1 << 20)
        self.done += len(chunk)
        if self.progress is not None and chunk:
            self.progress(self.done, self.total)
        return chunk

    def __len__(self) -> int:
        return self.total


def digests_of(data: bytes) -> Digests:
    return Digests(
        len(data),
        hashlib.sha256(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),  # noqa: S324 - a registry checksum, not security
        hashlib.md5(data).hexdigest(),  # noqa: S324
    )


def checksum_of(info: Mapping[str, Any], name: str) -> str | None:
    sums = info.get("checksums")
    if not isinstance(sums, Mapping):
        return None
    return aql.digest_of(sums, name, "storage info")


def json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


def text_head(body: bytes) -> str:
    return body[:4096].decode("utf-8", "replace").lower()
