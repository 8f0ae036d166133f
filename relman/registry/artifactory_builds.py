"""Builds on Artifactory: the build list, runs and build-info (reference §4), publishing,
and build promotion with dry run (§5), read back after it is made; a build status on its own is
a status-only promotion.
"""

from __future__ import annotations

import concurrent.futures
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from relman.errors import RelmanError, UsageError
from relman.model import BuildRecord
from relman.registry import artifactory_aql as aql
from relman.registry import artifactory_writes as writes
from relman.registry import buildinfo, storage
from relman.registry.artifactory_core import ArtifactoryCore, json_or_none
from relman.registry.base import Conflict, NotFound, PropertyValues, Write, property_values
from relman.registry.http import HttpError, HttpNotFound

#: Build-info read ahead of the caller when it works through a build's runs.
READ_AHEAD = 16
_NO_BUILDS = "no builds were found"


@dataclass(frozen=True, slots=True)
class BuildPromotion:
    """The outcome of :meth:`BuildsMixin.promote_build`: what changed and the server's
    messages (``(LEVEL, text)``)."""

    write: Write
    messages: tuple[tuple[str, str], ...] = ()


class BuildsMixin(ArtifactoryCore):
    """Builds (reference §4): names, runs, build-info read ahead on a small pool while the
    caller works through a build's runs; publishing; build promotion (§5), read back."""

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

    def promote_build(
        self,
        name: str,
        number: str,
        *,
        status: str,
        target_repo: str | None = None,
        source_repo: str | None = None,
        copy: bool = True,
        artifacts: bool = True,
        properties: PropertyValues | None = None,
        comment: str = "",
        ci_user: str | None = None,
        dependencies: bool = False,
        dry_run: bool = False,
    ) -> BuildPromotion:
        """``POST /api/build/promote/NAME/NUMBER`` (``dryRun`` for a dry run): a status row in
        the build's ``statuses``, and with ``target_repo`` its artifacts copied (or moved)
        there (``artifacts=False``: the server does not look for them). Read back: the status
        row with this promotion's own time stamp."""
        record = self._fetch_record(name, number)
        when = buildinfo.format_time(datetime.now(UTC))
        body: dict[str, Any] = {
            "status": aql.value(status, "status"),
            "comment": comment,
            "timestamp": when,
            "dryRun": dry_run,
            "copy": copy,
            "artifacts": artifacts,
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
        found = tuple(writes.messages(json_or_none(answer.body)))
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
        """A status on build ``name/number`` (:class:`~relman.registry.base.BuildStatuses`):
        a status-only build promotion (§5: no ``targetRepo`` and no artifacts, so nothing
        moves), with ``user`` as its ``ciUser`` (the server records the token's user as
        ``user``), read back as :meth:`promote_build` reads it back. Artifactory records a
        ``repository`` only for a promotion that moves items, so none can be given here."""
        if repository is not None:
            raise UsageError(
                f"build {name}/{number}: Artifactory records the repository of a status only "
                "when the promotion moves items; a status-only promotion names none"
            )
        self.promote_build(
            name,
            number,
            status=status,
            comment=comment,
            ci_user=user or None,
            artifacts=False,
            dry_run=dry_run,
        )
        if not dry_run:
            with self._lock:  # build-info read ahead before this write is out of date
                stale = self._ahead.pop((name, number), None)
            if stale is not None:
                stale.cancel()
        return Write("build-status", f"build {name}/{number}", f"status {status}", dry_run)


# -- helpers -------------------------------------------------------------------------------


def _uri_name(row: Any, source: str) -> str:
    """The name in ``{"uri": "/<url-encoded name>"}`` of the build lists."""
    uri = row.get("uri") if isinstance(row, Mapping) else None
    if not isinstance(uri, str) or not uri.startswith("/") or len(uri) < 2:
        raise HttpError(f"{source}: a build list entry has no '/NAME' uri")
    return urllib.parse.unquote(uri[1:])
