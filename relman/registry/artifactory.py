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

import concurrent.futures
import hashlib
import json
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from relman import paths
from relman.errors import InputError, RelmanError, UsageError, VerificationError
from relman.model import (
    DEFAULT_RECORDS_REPO,
    BuildRecord,
    CancelToken,
    Capabilities,
    Digests,
    Location,
    ProgressCallback,
    RepoPath,
    Repository,
)
from relman.registry import artifactory_aql as aql
from relman.registry import artifactory_writes as writes
from relman.registry import buildinfo, download, storage
from relman.registry.base import (
    SIDECAR_SUFFIXES,
    Conflict,
    NotFound,
    PropertyValues,
    Write,
    check_property_name,
    describe_properties,
    property_values,
)
from relman.registry.http import (
    DEFAULT_TIMEOUT,
    AuthenticationError,
    HttpClient,
    HttpError,
    HttpNotFound,
    PermissionDenied,
)

logger = logging.getLogger(__name__)

SERVICE = "Artifactory"
RECORDS = ".relman"
#: Build-info read ahead of the caller when it works through a build's runs.
READ_AHEAD = 16
#: Seconds a listing of the promotion records (or approvals) is used before it is read again.
RECORDS_TTL = 30.0
MAX_SIDECAR = 16 << 20
_NO_PROPERTIES = "no properties could be found"
_NO_BUILDS = "no builds were found"
_KINDS = {"local": "local", "federated": "local", "remote": "remote", "virtual": "virtual"}


@dataclass(frozen=True, slots=True)
class ServerVersion:
    """``GET /api/system/version``: the version, its add-ons and licence, as the server says."""

    version: str
    revision: str = ""
    addons: tuple[str, ...] = ()
    license: str = ""


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """One step of :meth:`ArtifactoryRegistry.check_connection`: ``step`` is ``server``,
    ``version``, ``token`` or ``repositories``."""

    step: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class BuildPromotion:
    """The outcome of :meth:`ArtifactoryRegistry.promote_build`: what changed and the
    server's messages (``(LEVEL, text)``)."""

    write: Write
    messages: tuple[tuple[str, str], ...] = ()


def quote_name(text: str) -> str:
    """A build name, number or environment as a file name, as the local registry writes it."""
    return urllib.parse.quote(text, safe=" @+-_,=")


class ArtifactoryRegistry:
    """An Artifactory server at ``url`` (``https://host/artifactory``).

    ``token`` is an access token (sent as Bearer; with ``user``, as the Basic password);
    ``ca_bundle`` a PEM file of CAs to trust; ``records_repo`` the repository that holds
    promotion records and approvals. ``profile`` names the profile in messages that say how
    to store a token. One HTTP session per registry; :meth:`close` releases it.
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

    def __enter__(self) -> ArtifactoryRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paths -----------------------------------------------------------------------------

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

    # -- server ----------------------------------------------------------------------------

    def ping(self) -> None:
        """``GET /api/system/ping``: the server answers ``OK``."""
        answer = self.http.send("GET", "/api/system/ping", what="ping")
        text = answer.body.decode("utf-8", "replace").strip()
        if text != "OK":
            raise HttpError(
                f"{answer.url}: the ping answer is {text[:80]!r}, not OK: is {self.url} the "
                "Artifactory URL (it ends in /artifactory)?",
                status=answer.status,
                url=answer.url,
            )

    def version(self) -> ServerVersion:
        doc = self.http.get_json("/api/system/version", what="version")
        if not isinstance(doc, Mapping) or not isinstance(doc.get("version"), str):
            raise HttpError(f"{self.url}/api/system/version: no 'version' in the answer")
        addons = doc.get("addons")
        return ServerVersion(
            version=doc["version"].strip(),
            revision=str(doc.get("revision", "")),
            addons=tuple(str(a) for a in addons) if isinstance(addons, list) else (),
            license=str(doc.get("license", "")),
        )

    def environments(self) -> list[str] | None:
        """Release Lifecycle Management v2 environments (``GET /access/api/v1/environments``),
        or None when the platform has none (404)."""
        try:
            doc = self.http.get_json("//access/api/v1/environments", what="environments")
        except HttpNotFound:
            return None
        if not isinstance(doc, list):
            raise HttpError(f"{self.url}: the environments answer is not a list")
        return [str(e["name"]) for e in doc if isinstance(e, Mapping) and "name" in e]

    @property
    def capabilities(self) -> Capabilities:
        """What the server offers, probed once (version, then a harmless request per feature:
        property reads, a dry-run copy, a dry-run promotion of no build)."""
        if self._capabilities is None:
            self._capabilities = self._probe()
        return self._capabilities

    def _probe(self) -> Capabilities:
        info = self.version()
        return Capabilities(
            name=SERVICE,
            version=info.version,
            properties=self._probe_properties(),
            copy=self._probe_transfer("copy"),
            move=self._probe_transfer("move"),
            build_promotion=self._probe_promotion(),
            signatures=True,
            lifecycle=self.environments() is not None,
        )

    def _probe_properties(self) -> bool:
        try:
            self.http.send("GET", self._storage(self.records_repo), query="properties")
        except HttpNotFound as exc:
            # "No properties could be found" is an answer of the properties API; a missing
            # records repository answers like a missing item, which tells nothing: ask the
            # server's own add-on list instead.
            return _NO_PROPERTIES in exc.server_message.lower() or self._has_addon("properties")
        except HttpError as exc:
            logger.info("%s: property reads refused (%s)", self.url, exc)
            return False
        return True

    def _probe_transfer(self, action: str) -> bool:
        probe = f".relman-probe/{action}"
        try:
            answer = self.http.send(
                "POST",
                f"/api/{action}/{self.records_repo}/{probe}",
                query=f"to=/{self.records_repo}/{probe}-target&dry=1",
                ok=(200, 400, 404, 409),
                what=f"{action} probe",
            )
        except HttpError as exc:
            logger.info("%s: %s refused (%s)", self.url, action, exc)
            return False
        return _answers_messages(answer.body)

    def _probe_promotion(self) -> bool:
        try:
            answer = self.http.send(
                "POST",
                self._build("relman-probe", "0").replace("/api/build/", "/api/build/promote/", 1),
                data=json.dumps({"status": "relman-probe", "dryRun": True}),
                headers={"Content-Type": "application/json"},
                ok=(200, 400, 404),
                what="build promotion probe",
            )
        except HttpError as exc:
            logger.info("%s: build promotion refused (%s)", self.url, exc)
            return False
        return answer.status == 200 or "cannot find a build" in _text(answer.body)

    def _has_addon(self, name: str) -> bool:
        try:
            return name in self.version().addons
        except RelmanError:
            return False

    def check_connection(self) -> list[ConnectionCheck]:
        """What works and what does not, step by step, for a "Test connection" button: the
        server (DNS, TLS, connection, ping), its version, the token (an AQL search needs an
        authenticated user) and the repositories it shows."""
        checks: list[ConnectionCheck] = []
        steps: list[tuple[str, Callable[[], str]]] = [
            ("server", self._check_server),
            ("version", lambda: f"{SERVICE} {self.version().version}"),
            ("token", self._check_token),
            ("repositories", lambda: f"{len(list(self.repositories()))} repositories visible"),
        ]
        for step, run in steps:
            try:
                checks.append(ConnectionCheck(step, True, run()))
            except RelmanError as exc:
                checks.append(ConnectionCheck(step, False, str(exc)))
                if step == "server":
                    break
        return checks

    def _check_server(self) -> str:
        try:
            self.ping()
        except (AuthenticationError, PermissionDenied) as exc:
            # Reached over DNS, TCP and TLS: the credentials are the token step's business.
            return f"{self.url} answers (HTTP {exc.status} to the ping)"
        return f"{self.url} answers"

    def _check_token(self) -> str:
        if not self.http.has_token:
            raise UsageError("no token: relman reads anonymously (set RELMAN_TOKEN or store one)")
        self._aql(aql.query({"repo": self.records_repo}, limit=1))
        return "accepted (an AQL search ran as the token's user)"

    # -- repositories and items --------------------------------------------------------------

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
            yield from self._search(criteria)
            return
        listed: dict[str, dict[str, str | None]] = {}
        for loc in self._search(criteria):
            if loc.path.endswith(SIDECAR_SUFFIXES):
                for suffix in SIDECAR_SUFFIXES:
                    if loc.path.endswith(suffix) and len(loc.path) > len(suffix):
                        listed.setdefault(loc.path[: -len(suffix)], {})[suffix] = loc.sha256
            yield loc
        with self._lock:
            self._listed[repo] = listed

    def _search(self, criteria: Mapping[str, Any]) -> Iterator[Location]:
        for loc in self.pager.items(criteria):
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

    def location(self, repo: str, path: str) -> Location:
        info = self._file_info(repo, path)
        return _location_from_info(repo, path, info, self.properties(repo, path))

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
            if _NO_PROPERTIES in exc.server_message.lower():
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

    # -- lookups -----------------------------------------------------------------------------

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

    # -- builds ------------------------------------------------------------------------------

    def build_names(self) -> Iterator[str]:
        try:
            doc = self.http.get_json("/api/build", what="build list")
        except HttpNotFound as exc:
            if _NO_BUILDS in exc.server_message.lower():
                return
            raise
        rows = doc.get("builds") if isinstance(doc, Mapping) else None
        if not isinstance(rows, list):
            raise HttpError(f"{self.url}/api/build: the answer has no 'builds' list")
        names = {_uri_name(row, self.url) for row in rows}
        yield from sorted(names)

    def build_runs(self, name: str) -> list[tuple[str, datetime | None]]:
        """``(number, start time)`` of every run of build ``name``, newest first."""
        try:
            doc = self.http.get_json(self._build(name), what=f"runs of build {name}")
        except HttpNotFound:
            raise NotFound(f"no build named {name!r} in {self.url}") from None
        rows = doc.get("buildsNumbers") if isinstance(doc, Mapping) else None
        if not isinstance(rows, list):
            raise HttpError(f"{self.url}: the runs of build {name} have no 'buildsNumbers'")
        runs: dict[str, datetime | None] = {}
        for row in rows:
            number = _uri_name(row, self.url)
            started = row.get("started")
            when = (
                buildinfo.parse_time(started, what=f"start of {name}/{number}")
                if isinstance(started, str) and started
                else None
            )
            known = runs.get(number)
            if number not in runs or (when is not None and (known is None or when > known)):
                runs[number] = when
        order = sorted(
            runs.items(),
            key=lambda item: (
                item[1].timestamp() if item[1] else float("-inf"),
                int(item[0]) if item[0].isdigit() else -1,
                item[0],
            ),
            reverse=True,
        )
        return order

    def build_numbers(self, name: str) -> list[str]:
        numbers = [number for number, _ in self.build_runs(name)]
        with self._lock:
            self._runs[name] = numbers
        return numbers

    def build_record(self, name: str, number: str) -> BuildRecord:
        """The build-info of ``name/number``. When the caller goes through the numbers
        :meth:`build_numbers` gave, the next ones are read ahead on a small thread pool."""
        future = self._read_ahead(name, number)
        if future is not None:
            return future.result()
        return self._fetch_record(name, number)

    def _read_ahead(self, name: str, number: str) -> concurrent.futures.Future[BuildRecord] | None:
        with self._lock:
            order = self._runs.get(name)
            if order is None or number not in order or self.workers < 2:
                return None
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self.workers, thread_name_prefix="relman-artifactory"
                )
            index = order.index(number)
            for ahead in order[index : index + READ_AHEAD]:
                if (name, ahead) not in self._ahead:
                    self._ahead[(name, ahead)] = self._pool.submit(self._fetch_record, name, ahead)
            future = self._ahead.pop((name, number))
            if index == len(order) - 1:
                del self._runs[name]
        return future

    def _fetch_record(self, name: str, number: str) -> BuildRecord:
        try:
            answer = self.http.send("GET", self._build(name, number), what=f"build {name}/{number}")
        except HttpNotFound:
            raise NotFound(f"no build {name}/{number} in {self.url}") from None
        doc = self.http.json_of(answer)
        return buildinfo.parse(doc, source=f"{self.url}: build {name}/{number}")

    def publish_build(self, build: BuildRecord | bytes | Mapping[str, Any]) -> Write:
        """``PUT /api/build``. Republishing the same run replaces it; a different run under
        the same number is refused (as the local registry refuses it)."""
        record = build if isinstance(build, BuildRecord) else buildinfo.parse(build)
        label = f"build {record.name}/{record.number}"
        write = Write("publish-build", label, f"{len(record.artifacts)} artifacts")
        try:
            old: BuildRecord | None = self._fetch_record(record.name, record.number)
        except NotFound:
            old = None
        if old is not None and old.started != record.started:
            raise Conflict(
                f"{label}: already published with start time {old.started_raw or 'none'}; "
                "a build number is never reused"
            )
        try:
            self.http.send(
                "PUT",
                "/api/build",
                data=buildinfo.dumps(record),
                headers={"Content-Type": "application/json"},
                ok=(200, 201, 204),
                what=f"publish {label}",
            )
        except RelmanError as exc:
            return writes.settle(write, exc, lambda: self._published(record))
        return write

    def _published(self, record: BuildRecord) -> bool:
        try:
            return self._fetch_record(record.name, record.number).started == record.started
        except NotFound:
            return False

    # -- promotion records and approvals -----------------------------------------------------

    def _records_folder(self, kind: str, name: str, number: str) -> str:
        storage.check_build_key("name", name)
        storage.check_build_key("number", number)
        return f"{RECORDS}/{kind}/{quote_name(name)}/{quote_name(number)}"

    def _record_files(self, kind: str, folder: str) -> list[Location]:
        """The record (or approval) files below ``folder``, oldest first. All files of
        ``kind`` are listed in one search and kept for :data:`RECORDS_TTL` seconds (lineage
        asks for the records of thousands of builds: one search, not one a build); this
        registry's own writes update the list at once."""
        with self._lock:
            listed = self._records.get(kind)
            fresh = listed is not None and time.monotonic() - listed[0] < RECORDS_TTL
        if not fresh:
            criteria = {
                "$and": [
                    {"repo": self.records_repo},
                    {"path": {"$match": f"{RECORDS}/{kind}/*"}},
                ]
            }
            files: dict[str, list[Location]] = {}
            for loc in self.pager.items(criteria, properties=False):
                if loc.name.endswith(".json") and ".dsse." in loc.name:
                    files.setdefault(loc.path.rsplit("/", 1)[0], []).append(loc)
            with self._lock:
                self._records[kind] = (time.monotonic(), files)
        with self._lock:
            by_folder = self._records[kind][1]
            found = [
                loc
                for key, locs in by_folder.items()
                if key == folder or key.startswith(folder + "/")
                for loc in locs
            ]
        return sorted(found, key=lambda loc: (loc.created or _EPOCH, loc.path))

    def _noted(self, kind: str, repo: str, path: str, data: bytes) -> None:
        """Add a file this registry just stored to the kept list of ``kind``."""
        digests = _digests_of(data)
        loc = Location(
            repo, path, len(data), digests.sha256, digests.sha1, digests.md5, datetime.now(UTC)
        )
        with self._lock:
            listed = self._records.get(kind)
            if listed is not None:
                listed[1].setdefault(path.rsplit("/", 1)[0], []).append(loc)

    def promotion_records(self, name: str, number: str) -> list[tuple[str, bytes]]:
        """Every record of a build, oldest first, as ``(target environment, bytes)``."""
        folder = self._records_folder("promotions", name, number)
        found = []
        for loc in self._record_files("promotions", folder):
            if loc.path.rsplit("/", 1)[0] != folder:
                continue
            target = urllib.parse.unquote(loc.name.rsplit(".dsse.", 1)[0])
            found.append((target, self._small(loc.repo, loc.path, loc.sha256)))
        return found

    def put_promotion_record(
        self, name: str, number: str, target: str, data: bytes, *, dry_run: bool = False
    ) -> Write:
        """Store a signed record; an existing one is never replaced (a second promotion to the
        same environment is filed as ``<env>.dsse.2.json``, and so on)."""
        storage.check_build_key("environment", target)
        folder = self._records_folder("promotions", name, number)
        write = Write(
            "put-record", f"records/{name}/{number}/{target}.dsse.json", f"{len(data)} bytes"
        )
        if dry_run:
            return Write(write.action, write.target, write.detail, dry_run=True)
        here = {"$and": [{"repo": self.records_repo}, {"path": folder}]}
        taken = {loc.name for loc in self.pager.items(here, properties=False)}
        stem = quote_name(target)
        file_name, serial = f"{stem}.dsse.json", 1
        while file_name in taken:
            serial += 1
            file_name = f"{stem}.dsse.{serial}.json"
        path = f"{folder}/{file_name}"
        self._put_new(self.records_repo, path, data, what="promotion record")
        self._noted("promotions", self.records_repo, path, data)
        return write

    def approvals(self, name: str, number: str) -> list[tuple[str, bytes]]:
        """Every approval of a build as ``(target environment, bytes)``, by target then name."""
        folder = self._records_folder("approvals", name, number)
        found = []
        files = self._record_files("approvals", folder)
        for loc in sorted(files, key=lambda loc: loc.path):
            target = loc.path[len(folder) + 1 :].rsplit("/", 1)[0]
            if "/" in target:
                continue
            found.append(
                (urllib.parse.unquote(target), self._small(loc.repo, loc.path, loc.sha256))
            )
        return found

    def put_approval(
        self, name: str, number: str, target: str, data: bytes, *, dry_run: bool = False
    ) -> Write:
        """Store a signed approval, named by its SHA-256: the same approval twice is one file."""
        storage.check_build_key("environment", target)
        digest = hashlib.sha256(data).hexdigest()
        folder = self._records_folder("approvals", name, number)
        write = Write(
            "put-approval",
            f"approvals/{name}/{number}/{target}/{digest}.dsse.json",
            f"{len(data)} bytes",
            dry_run,
        )
        if not dry_run:
            path = f"{folder}/{quote_name(target)}/{digest}.dsse.json"
            if self._put_new(self.records_repo, path, data, what="approval"):
                self._noted("approvals", self.records_repo, path, data)
        return write

    # -- bytes -------------------------------------------------------------------------------

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
        ``refresh`` asks for a new download, as "verify now" does)."""
        known = download.cached(sha256)
        if known is not None and not refresh:
            return known
        incoming = download.cache_root() / "incoming" / f"{os.getpid()}-{threading.get_ident()}"
        digests = self.download(
            repo,
            path,
            incoming,
            progress=progress,
            cancel=cancel,
            expected={"sha256": sha256} if sha256 else None,
        )
        target = download.cache_path(digests.sha256)
        paths.ensure_dir(target.parent)
        os.replace(incoming, target)
        return target

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

    # -- writes ------------------------------------------------------------------------------

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
        """Put new bytes at ``repo/path`` with properties (``PUT`` with matrix parameters and
        the checksum headers, which the server checks). The same bytes already there change
        only the properties; different bytes are refused with :class:`Conflict`."""
        props = property_values(properties or {})
        label = f"{repo}/{path}"
        if isinstance(source, bytes):
            digests = _digests_of(source)
        else:
            digests = storage.stream(Path(source), None, None, cancel)
        existing = self._file_info_or_none(repo, path)
        if existing is not None:
            self._same_or_conflict(label, existing, digests.sha256, "deploy")
            if props:
                self.set_properties(repo, path, props)
            return Write("deploy", label, "already there with the same sha256")
        self._put(repo, path, source, digests, props, progress)
        return Write("deploy", label, f"sha256 {digests.sha256}")

    def _put_new(self, repo: str, path: str, data: bytes, *, what: str) -> bool:
        """Deploy ``data`` where nothing is yet; False when the same bytes are there already
        (nothing to do)."""
        digests = _digests_of(data)
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
        return info is not None and _checksum(info, "sha256") == sha256

    def _same_or_conflict(
        self, label: str, info: Mapping[str, Any], sha256: str, action: str
    ) -> None:
        existing = _checksum(info, "sha256")
        if existing != sha256:
            raise Conflict(
                f"{label}: already holds different bytes (sha256 {existing or 'unrecorded'}); "
                f"relman never rewrites an artifact, {action} to a new path instead"
            )

    def set_properties(
        self, repo: str, path: str, properties: PropertyValues, *, dry_run: bool = False
    ) -> Write:
        """``PUT /api/storage/...?properties=`` (values replace those of the same keys; other
        keys stay), read back afterwards; a value holding ``;`` goes through the JSON
        ``PATCH /api/metadata`` (the ``properties=`` syntax cannot carry it)."""
        props = property_values(properties)
        if not props:
            raise UsageError("set_properties: no property given")
        for key in props:
            aql.property_key(key)
        write = Write("set-properties", f"{repo}/{path}", describe_properties(props), dry_run)
        self._file_info(repo, path)
        if dry_run:
            return write
        try:
            if writes.needs_patch(props):
                body = json.dumps({"props": {k: list(v) for k, v in props.items()}})
                self.http.send(
                    "PATCH",
                    "/api/metadata" + self._item(repo, path),
                    query="recursiveProperties=0",
                    data=body.encode(),
                    headers={"Content-Type": "application/json"},
                    ok=(200, 204),
                    what=f"set properties of {repo}/{path}",
                )
            else:
                self.http.send(
                    "PUT",
                    self._storage(repo, path),
                    query=f"properties={writes.encode_properties(props)}&recursive=0",
                    ok=(200, 204),
                    what=f"set properties of {repo}/{path}",
                )
        except RelmanError as exc:
            return writes.settle(write, exc, lambda: self._has_properties(repo, path, props))
        if not self._has_properties(repo, path, props):
            raise HttpError(
                f"set properties of {repo}/{path}: the server accepted them but reads back "
                f"other values than {describe_properties(props)}"
            )
        return write

    def _has_properties(self, repo: str, path: str, props: Mapping[str, Sequence[str]]) -> bool:
        now = self.properties(repo, path)
        return all(sorted(now.get(k, ())) == sorted(v) for k, v in props.items())

    def delete_properties(
        self, repo: str, path: str, names: Sequence[str], *, dry_run: bool = False
    ) -> Write:
        wanted = [check_property_name(n) for n in names]
        if not wanted:
            raise UsageError("delete_properties: no property name given")
        for key in wanted:
            aql.property_key(key)
        write = Write("delete-properties", f"{repo}/{path}", ", ".join(wanted), dry_run)
        self._file_info(repo, path)
        if dry_run:
            return write
        keys = ",".join(urllib.parse.quote(k, safe="") for k in wanted)
        try:
            self.http.send(
                "DELETE",
                self._storage(repo, path),
                query=f"properties={keys}&recursive=0",
                ok=(200, 204),
                what=f"delete properties of {repo}/{path}",
            )
        except RelmanError as exc:
            return writes.settle(write, exc, lambda: self._lacks(repo, path, wanted))
        if not self._lacks(repo, path, wanted):
            raise HttpError(f"delete properties of {repo}/{path}: they are still there")
        return write

    def _lacks(self, repo: str, path: str, names: Sequence[str]) -> bool:
        now = self.properties(repo, path)
        return not any(n in now for n in names)

    def copy(
        self,
        src: RepoPath,
        dst: RepoPath,
        *,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Write:
        """``POST /api/copy`` (with ``dry=1`` for a dry run, which the server checks too)."""
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
        """``POST /api/move`` (with ``dry=1`` for a dry run)."""
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
        if (src.repo, src.path) == (dst.repo, dst.path):
            raise UsageError(f"{action}: {src} onto itself")
        source = self._file_info(src.repo, src.path)
        sha256 = _checksum(source, "sha256")
        label = str(dst)
        target = self._file_info_or_none(dst.repo, dst.path)
        if target is not None:
            self._same_or_conflict(label, target, sha256 or "", action)
            return Write(action, label, f"already there with the same sha256 as {src}", dry_run)
        if cancel is not None:
            cancel.raise_if_cancelled()
        write = Write(action, label, f"from {src} (sha256 {sha256 or 'unrecorded'})", dry_run)
        query = "to=" + urllib.parse.quote(f"/{dst.repo}/{dst.path}", safe="/")
        try:
            answer = self.http.send(
                "POST",
                f"/api/{action}" + self._item(src.repo, src.path),
                query=query + ("&dry=1" if dry_run else ""),
                ok=(200,),
                what=f"{action} {src} to {dst}",
            )
        except RelmanError as exc:
            if dry_run:
                raise
            return writes.settle(write, exc, lambda: self._transferred(action, src, dst, sha256))
        problems = writes.errors_in(writes.messages(_json_or_none(answer.body)))
        if problems:
            raise Conflict(f"{action} {src} to {dst}: {'; '.join(problems)}")
        if not dry_run and not self._transferred(action, src, dst, sha256):
            raise HttpError(
                f"{action} {src} to {dst}: the server said it was done, but {dst} does not "
                f"hold sha256 {sha256}" + (f" or {src} is still there" if action == "move" else "")
            )
        if progress is not None:
            progress(1, 1)
        return write

    def _transferred(self, action: str, src: RepoPath, dst: RepoPath, sha256: str | None) -> bool:
        target = self._file_info_or_none(dst.repo, dst.path)
        if target is None or (sha256 and _checksum(target, "sha256") != sha256):
            return False
        return action == "copy" or self._file_info_or_none(src.repo, src.path) is None

    def delete(self, repo: str, path: str, *, dry_run: bool = False) -> Write:
        """``DELETE /repo/path``: remove an item (a rollback, an undone promotion's copy)."""
        info = self._file_info(repo, path)
        label = f"{repo}/{path}"
        write = Write(
            "delete", label, f"sha256 {_checksum(info, 'sha256') or 'unrecorded'}", dry_run
        )
        if dry_run:
            return write
        try:
            self.http.send(
                "DELETE", self._item(repo, path), ok=(200, 202, 204), what=f"delete {label}"
            )
        except RelmanError as exc:
            return writes.settle(write, exc, lambda: self._file_info_or_none(repo, path) is None)
        return write

    def promote_build(
        self,
        name: str,
        number: str,
        *,
        status: str,
        target_repo: str | None = None,
        source_repo: str | None = None,
        copy: bool = True,
        properties: PropertyValues | None = None,
        comment: str = "",
        ci_user: str | None = None,
        dependencies: bool = False,
        dry_run: bool = False,
    ) -> BuildPromotion:
        """``POST /api/build/promote/NAME/NUMBER`` (``dryRun`` for a dry run): a status row in
        the build's ``statuses``, and with ``target_repo`` its artifacts copied (or moved)
        there. Read back: the status row with this promotion's own time stamp."""
        record = self._fetch_record(name, number)
        when = buildinfo.format_time(datetime.now(UTC))
        body: dict[str, Any] = {
            "status": aql.value(status, "status"),
            "comment": comment,
            "timestamp": when,
            "dryRun": dry_run,
            "copy": copy,
            "artifacts": True,
            "dependencies": dependencies,
            "failFast": True,
        }
        if ci_user:
            body["ciUser"] = ci_user
        if target_repo:
            body["targetRepo"] = storage.check_repo_key(target_repo)
        if source_repo:
            body["sourceRepo"] = storage.check_repo_key(source_repo)
        if properties:
            body["properties"] = {k: list(v) for k, v in property_values(properties).items()}
        where = f" to {target_repo} ({'copy' if copy else 'move'})" if target_repo else ""
        write = Write(
            "promote-build",
            f"build {record.name}/{record.number}",
            f"status {status}{where}",
            dry_run,
        )
        try:
            answer = self.http.send(
                "POST",
                self._build(name, number).replace("/api/build/", "/api/build/promote/", 1),
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                ok=(200,),
                what=f"promote build {name}/{number}",
            )
        except RelmanError as exc:
            if dry_run:
                raise
            settled = writes.settle(write, exc, lambda: self._has_status(name, number, when))
            return BuildPromotion(settled)
        found = tuple(writes.messages(_json_or_none(answer.body)))
        problems = [text for level, text in found if level == "ERROR"]
        if problems:
            raise Conflict(f"promote build {name}/{number}: {'; '.join(problems)}")
        if not dry_run and not self._has_status(name, number, when):
            raise HttpError(
                f"promote build {name}/{number}: the server said it was done, but the build "
                f"has no status {status!r} at {when}"
            )
        return BuildPromotion(write, found)

    def _has_status(self, name: str, number: str, when: str) -> bool:
        record = self._fetch_record(name, number)
        stamp = buildinfo.parse_time(when, what="promotion time")
        return any(s.timestamp == stamp or s.timestamp_raw == when for s in record.statuses)


# -- helpers ---------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def _digests_of(data: bytes) -> Digests:
    return Digests(
        len(data),
        hashlib.sha256(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),  # noqa: S324 - a registry checksum, not security
        hashlib.md5(data).hexdigest(),  # noqa: S324
    )


def _checksum(info: Mapping[str, Any], name: str) -> str | None:
    sums = info.get("checksums")
    if not isinstance(sums, Mapping):
        return None
    return aql.digest_of(sums, name, "storage info")


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


def _uri_name(row: Any, source: str) -> str:
    """The name in ``{"uri": "/<url-encoded name>"}`` of the build lists."""
    uri = row.get("uri") if isinstance(row, Mapping) else None
    if not isinstance(uri, str) or not uri.startswith("/") or len(uri) < 2:
        raise HttpError(f"{source}: a build list entry has no '/NAME' uri")
    return urllib.parse.unquote(uri[1:])


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


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


def _answers_messages(body: bytes) -> bool:
    doc = _json_or_none(body)
    return isinstance(doc, Mapping) and isinstance(doc.get("messages"), list)


def _text(body: bytes) -> str:
    return body[:4096].decode("utf-8", "replace").lower()
