"""An Artifactory emulator speaking real HTTP on 127.0.0.1, for backend, CLI and GUI tests.

It follows ``../shared/reference/artifactory.md``: the real field names and types (``size`` as
a string in storage answers, ``originalChecksums``, no ``sha256`` on old items), status codes,
the ``{"errors": [...]}`` envelope, 404 ``No properties could be found.`` meaning "none",
``+03:00`` storage timestamps, build-info kept as published (legacy ``vcsRevision``), property
escaping, Range requests, ``X-Checksum-*`` headers, an AQL subset, auth (Bearer, Basic,
``X-JFrog-Art-Api``) and fault injection. Usage::

    with ArtifactoryEmulator(token="s3cret") as emu:
        emu.add_repo("libs-dev")
        emu.deploy("libs-dev", "app/1.0/app.jar", b"bytes", properties={"build.name": ["app"]})
        requests.get(f"{emu.url}/api/storage/libs-dev/app/1.0/app.jar",
                     headers={"Authorization": "Bearer s3cret"})

Seeding and reading back happen in-process, under the same lock as the HTTP handlers.
Endpoints are in :mod:`artifactory_api` and :mod:`artifactory_builds`, AQL in
:mod:`artifactory_aql`, state in :mod:`artifactory_store`, the server in :mod:`artifactory_http`.
"""

from __future__ import annotations

import copy
import re
import ssl
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme

from tests.emulators import artifactory_api
from tests.emulators.artifactory_http import Fault, Request, RequestLog, Response, Server
from tests.emulators.artifactory_store import (
    DEFAULT_TZ,
    Repo,
    Store,
    StoredFile,
    build_time,
    clean_path,
    digests,
    file_digests,
    parse_time,
)

__all__ = ["ArtifactoryEmulator", "Fault", "RequestLog", "StoredFile"]

PropertiesArg = Mapping[str, str | Sequence[str]] | None


class ArtifactoryEmulator:
    """One emulated Artifactory server; see the module docstring and the interface notes.

    ``token`` belongs to the user ``admin``; ``users`` maps more user names to their tokens
    (accepted as Bearer, as the Basic password with that user name, or as ``X-JFrog-Art-Api``).
    Users in ``readonly_users`` get 403 on writes; ``anonymous_read`` lets requests without
    credentials read (never AQL, never write).
    """

    def __init__(
        self,
        token: str = "s3cret-token",
        users: Mapping[str, str] | None = None,
        version: str = "7.90.10",
        tls: trustme.CA | None = None,
        *,
        readonly_users: Iterable[str] = (),
        tz: tzinfo = DEFAULT_TZ,
    ) -> None:
        self.token = token
        self.token_user = "admin"
        self.users = dict(users or {})
        self.readonly_users: set[str] = set(readonly_users)
        self.expired_tokens: set[str] = set()
        self.anonymous_read = False
        self.version = version
        self.tls = tls
        self.tz = tz
        self.capabilities = {"build_promotion": True, "copy_move": True, "aql": True, "rlm": False}
        self.environments: list[str] | None = None
        #: Real servers list ``artifactory-build-info``; off by default to keep lists short.
        self.list_build_info_repo = False
        #: Some servers refuse AQL longer than 6,000 characters; ``None`` = no limit.
        self.aql_max_chars: int | None = None
        self.store = Store()
        self.lock = threading.RLock()
        self.requests: list[RequestLog] = []
        self.errors: list[str] = []
        self._faults: list[Fault] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> ArtifactoryEmulator:
        context = None
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._stopping.clear()
        self._server = Server(
            self._handle, self._take_fault, self._record, self.errors.append, self._wait, context
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="artifactory-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def __enter__(self) -> ArtifactoryEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:PORT``: the platform root (``/access``, ``/lifecycle``)."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT/artifactory``."""
        return self.base_url + "/artifactory"

    def now(self) -> datetime:
        return datetime.now(self.tz)

    # -- seeding --------------------------------------------------------------------------

    def add_repo(
        self,
        key: str,
        rclass: str = "local",
        package_type: str = "generic",
        *,
        description: str = "",
        url: str = "",
        repositories: Sequence[str] = (),
        environments: Sequence[str] = (),
    ) -> None:
        """Add a repository (``rclass`` local, remote or virtual with member ``repositories``)."""
        with self.lock:
            repo = Repo(
                key,
                rclass,
                package_type,
                description,
                url,
                list(repositories),
                list(environments),
            )
            self.store.add_repo(repo, self.now())

    def deploy(
        self,
        repo: str,
        path: str,
        data: bytes,
        properties: PropertiesArg = None,
        *,
        sha256: bool = True,
        created: str | datetime | None = None,
        created_by: str = "ci-deployer",
        modified: str | datetime | None = None,
        original_checksums: Mapping[str, str] | None = None,
    ) -> StoredFile:
        """Store bytes as if deployed. ``sha256=False`` makes an old item without sha256;
        ``original_checksums`` (default: the real ones) are what the client declared."""
        sha, sha1, md5 = digests(data)
        return self._put(
            repo, path, len(data), (sha, sha1, md5), properties, sha256, created, created_by,
            modified, original_checksums, content=data,
        )  # fmt: skip

    def deploy_file(
        self,
        repo: str,
        path: str,
        source: Path,
        properties: PropertiesArg = None,
        *,
        sha256: bool = True,
        created: str | datetime | None = None,
        created_by: str = "ci-deployer",
        modified: str | datetime | None = None,
        original_checksums: Mapping[str, str] | None = None,
    ) -> StoredFile:
        """Like :meth:`deploy` for a big file: hashed once here, served from disk in chunks."""
        sha, sha1, md5, size = file_digests(source)
        return self._put(
            repo, path, size, (sha, sha1, md5), properties, sha256, created, created_by,
            modified, original_checksums, source=source,
        )  # fmt: skip

    def _put(
        self,
        repo: str,
        path: str,
        size: int,
        sums: tuple[str, str, str],
        properties: PropertiesArg,
        with_sha256: bool,
        created: str | datetime | None,
        created_by: str,
        modified: str | datetime | None,
        original: Mapping[str, str] | None,
        content: bytes | None = None,
        source: Path | None = None,
    ) -> StoredFile:
        sha, sha1, md5 = sums
        when = self._time(created)
        checksums = {"sha1": sha1, "md5": md5, **({"sha256": sha} if with_sha256 else {})}
        props = {
            key: [values] if isinstance(values, str) else list(values)
            for key, values in (properties or {}).items()
        }
        with self.lock:
            if repo not in self.store.repos:
                raise KeyError(f"no repository {repo!r}: add_repo() it first")
            return self.store.put_file(
                StoredFile(
                    repo=repo,
                    path=clean_path(path),
                    size=size,
                    sha1=sha1,
                    md5=md5,
                    sha256=sha if with_sha256 else None,
                    properties=props,
                    created=when,
                    created_by=created_by,
                    modified=self._time(modified) if modified else when,
                    modified_by=created_by,
                    original_checksums=dict(checksums if original is None else original),
                    content=content,
                    source=source,
                )
            )

    def _time(self, value: str | datetime | None) -> datetime:
        if value is None:
            return self.now()
        return parse_time(value) if isinstance(value, str) else value

    def add_build(self, info: Mapping[str, Any]) -> None:
        """Store a build-info dict as given (a deep copy; legacy fields kept)."""
        self.publish_build(copy.deepcopy(dict(info)), user=str(info.get("principal") or "ci"))

    def publish_build(self, info: dict[str, Any], *, user: str) -> None:
        """Store a run; ``ValueError`` when ``started`` is not a time."""
        started = info.get("started")
        try:
            when = parse_time(started) if isinstance(started, str) else self.now()
        except ValueError:
            raise ValueError(f"Invalid build started date: {started}") from None
        if not isinstance(started, str):
            info["started"] = build_time(when)
        with self.lock:
            self.store.add_run(info, when, user, self.now())

    def set_environments(self, names: Sequence[str] | None) -> None:
        """RLM v2 environments of ``/access/api/v1/environments``; ``None`` answers 404."""
        with self.lock:
            self.environments = None if names is None else list(names)

    def features(
        self,
        *,
        build_promotion: bool | None = None,
        copy_move: bool | None = None,
        aql: bool | None = None,
        rlm: bool | None = None,
    ) -> None:
        """Switch server features on or off (``None`` leaves one as it is)."""
        given = {"build_promotion": build_promotion, "copy_move": copy_move, "aql": aql, "rlm": rlm}
        with self.lock:
            self.capabilities.update({k: v for k, v in given.items() if v is not None})

    def expire_token(self, token: str | None = None) -> None:
        """From now on ``token`` (default: the main token) answers 401 ``Token is expired``."""
        with self.lock:
            self.expired_tokens.add(self.token if token is None else token)

    def token_owner(self, secret: str) -> str | None:
        if secret == self.token:
            return self.token_user
        return next((user for user, token in self.users.items() if token == secret), None)

    # -- reading state back ---------------------------------------------------------------

    def file(self, repo: str, path: str) -> StoredFile | None:
        with self.lock:
            found = self.store.repos.get(repo)
            return None if found is None else found.files.get(clean_path(path))

    def properties(self, repo: str, path: str) -> dict[str, list[str]] | None:
        """Properties of a file or folder (``None`` when there is no such item)."""
        with self.lock:
            item = self.store.item(repo, path)
            return None if item is None else {k: list(v) for k, v in item.properties.items()}

    @property
    def builds(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The newest run of each (name, number), as stored (statuses included)."""
        with self.lock:
            return {key: runs[-1].info for key, runs in self.store.runs.items() if runs}

    def build_runs(self, name: str, number: str) -> list[dict[str, Any]]:
        """Every run of a build number, oldest ``started`` first."""
        with self.lock:
            return [run.info for run in self.store.runs.get((name, number), [])]

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def count(self, method: str | None = None, path: str = "") -> int:
        """How many logged requests match ``method`` (any when ``None``) and the ``path`` regex."""
        pattern = re.compile(path)
        with self.lock:
            return sum(
                1
                for entry in self.requests
                if (method is None or entry.method == method) and pattern.search(entry.path)
            )

    # -- faults ---------------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # -- server callbacks -----------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        with self.lock:
            return artifactory_api.handle(self, request)

    def _record(self, entry: RequestLog) -> None:
        with self.lock:
            self.requests.append(entry)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)
