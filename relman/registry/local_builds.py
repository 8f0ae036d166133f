"""Build records, promotion records and approvals of the embedded local registry.

:class:`BuildStore` is the part of :class:`~relman.registry.local.LocalRegistry` that keeps
what is said about builds, in ``.relman/``: build-info under ``builds/<name>/<number>.json``,
signed promotion records under ``promotions/<name>/<number>/``, approvals under
``approvals/<name>/<number>/<target>/``, each name percent-encoded. Every write takes the
registry's lock and replaces a file atomically; evidence (records, approvals) is never
replaced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from relman.model import BuildRecord, BuildStatus
from relman.paths import atomic_write
from relman.registry import buildinfo, storage
from relman.registry.base import Conflict, NotFound, Write
from relman.registry.local_index import MetaIndex, Stamp, stamp_of


def quote(text: str) -> str:
    """A build name, number or environment as one file name (``acme%2Fapp``)."""
    return urllib.parse.quote(text, safe=" @+-_,=")


class BuildStore:
    """Builds, promotion records and approvals; mixed into LocalRegistry, which provides the
    folder, the lock and the metadata index."""

    root: Path
    _meta: Path
    _meta_str: str
    _index: MetaIndex | None
    _parsed: dict[str, tuple[Stamp, BuildRecord]]
    _locked: Callable[[], AbstractContextManager[None]]

    # -- builds ----------------------------------------------------------------------------

    def _build_file(self, name: str, number: str) -> Path:
        storage.check_build_key("name", name)
        storage.check_build_key("number", number)
        return self._meta / "builds" / quote(name) / (quote(number) + ".json")

    def publish_build(self, build: BuildRecord | bytes | Mapping[str, Any]) -> Write:
        """Store a build record (build-info). Republishing the same run replaces it; a
        different run under the same number is refused (build numbers are not reused)."""
        record = build if isinstance(build, BuildRecord) else buildinfo.parse(build)
        target = self._build_file(record.name, record.number)
        label = f"build {record.name}/{record.number}"
        with self._locked():
            if target.is_file():
                old = buildinfo.parse(target.read_bytes(), source=str(target))
                if old.started != record.started:
                    raise Conflict(
                        f"{label}: already published with start time {old.started_raw or 'none'}; "
                        "a build number is never reused"
                    )
            atomic_write(target, buildinfo.dumps(record))
        return Write("publish-build", label, f"{len(record.artifacts)} artifacts")

    # -- promotion records --------------------------------------------------------------------

    def _records_dir(self, name: str, number: str) -> Path:
        storage.check_build_key("name", name)
        storage.check_build_key("number", number)
        return self._meta / "promotions" / quote(name) / quote(number)

    def put_promotion_record(
        self, name: str, number: str, target: str, data: bytes, *, dry_run: bool = False
    ) -> Write:
        """Store a signed record as ``.relman/promotions/<name>/<number>/<target>.dsse.json``.

        A record is evidence: an existing one is never replaced (a second promotion to the same
        environment, a rollback, is recorded under a new, time-stamped name)."""
        storage.check_build_key("environment", target)
        folder = self._records_dir(name, number)
        write = Write(
            "put-record", f"records/{name}/{number}/{target}.dsse.json", f"{len(data)} bytes"
        )
        if dry_run:
            return Write(write.action, write.target, write.detail, dry_run=True)
        with self._locked():
            stem = quote(target)
            path = folder / f"{stem}.dsse.json"
            serial = 1
            while path.exists():
                serial += 1
                path = folder / f"{stem}.dsse.{serial}.json"
            atomic_write(path, data)
        return write

    def promotion_records(self, name: str, number: str) -> list[tuple[str, bytes]]:
        """Every record of a build, oldest name first, as ``(target environment, bytes)``."""
        storage.check_build_key("name", name)
        storage.check_build_key("number", number)
        # Asked for every build of a lineage, most of which have none: within indexed(), one
        # listing per build name says which numbers have records; no pathlib.
        named = self._meta_str + "promotions" + os.sep + quote(name)
        quoted = quote(number)
        if self._index is not None:
            listings = self._index.listings
            listed = listings.get(named)
            if listed is None:
                try:
                    listed = listings[named] = frozenset(e.name for e in os.scandir(named))
                except (FileNotFoundError, NotADirectoryError):
                    listed = listings[named] = frozenset()
            if quoted not in listed:
                return []
        folder = named + os.sep + quoted
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for entry in sorted(entries, key=lambda e: e.stat().st_mtime_ns):
            if ".dsse." in entry.name and entry.name.endswith(".json") and entry.is_file():
                target = urllib.parse.unquote(entry.name.rsplit(".dsse.", 1)[0])
                found.append((target, Path(entry.path).read_bytes()))
        return found

    def build_names(self) -> Iterator[str]:
        folder = self._meta / "builds"
        if not folder.is_dir():
            return
        for entry in sorted(os.scandir(folder), key=lambda e: urllib.parse.unquote(e.name)):
            if entry.is_dir() and any(p.suffix == ".json" for p in Path(entry.path).iterdir()):
                yield urllib.parse.unquote(entry.name)

    def build_numbers(self, name: str) -> list[str]:
        folder = self._meta / "builds" / quote(storage.check_build_key("name", name))
        if not folder.is_dir():
            raise NotFound(f"no build named {name!r} in {self.root}")
        runs: list[tuple[float, int, str]] = []
        for entry in os.scandir(folder):
            if entry.name.endswith(".json") and not entry.name.startswith("."):
                number = urllib.parse.unquote(entry.name[: -len(".json")])
                record = self.build_record(name, number)
                when = record.started.timestamp() if record.started else float("-inf")
                runs.append((when, int(number) if number.isdigit() else -1, number))
        return [number for *_, number in sorted(runs, reverse=True)]

    def build_record(self, name: str, number: str) -> BuildRecord:
        storage.check_build_key("name", name)
        storage.check_build_key("number", number)
        rel = "builds/" + quote(name) + "/" + quote(number) + ".json"
        target = self._meta_str + rel if os.sep == "/" else os.path.join(self._meta, rel)
        try:
            info = os.stat(target)
            cached = self._parsed.get(target)
            if cached is not None and cached[0] == stamp_of(info):
                return cached[1]
            with open(target, "rb") as handle:
                data = handle.read()
                info = os.fstat(handle.fileno())  # the file as it was read
        except FileNotFoundError:
            raise NotFound(f"no build {name}/{number} in {self.root}") from None
        index = self._index
        record = index.build(rel, info, data) if index is not None else None
        if record is None:
            record = buildinfo.parse(data, source=target)
            if index is not None:
                index.put_build(rel, info, record)
        self._parsed[target] = (stamp_of(info), record)
        return record

    # -- approvals and removal (the promotion engine's additions) ------------------------

    def _approvals_dir(self, name: str, number: str) -> Path:
        storage.check_build_key("name", name)
        storage.check_build_key("number", number)
        return self._meta / "approvals" / quote(name) / quote(number)

    def put_approval(
        self, name: str, number: str, target: str, data: bytes, *, dry_run: bool = False
    ) -> Write:
        """Store a signed approval as
        ``.relman/approvals/<name>/<number>/<target>/<sha256 of data>.dsse.json``: named by its
        content, so storing the same approval twice changes nothing."""
        storage.check_build_key("environment", target)
        digest = hashlib.sha256(data).hexdigest()
        path = self._approvals_dir(name, number) / quote(target) / f"{digest}.dsse.json"
        write = Write(
            "put-approval",
            f"approvals/{name}/{number}/{target}/{digest}.dsse.json",
            f"{len(data)} bytes",
            dry_run,
        )
        if not dry_run:
            with self._locked():
                if not path.is_file():
                    atomic_write(path, data)
        return write

    def approvals(self, name: str, number: str) -> list[tuple[str, bytes]]:
        """Every approval of a build as ``(target environment, bytes)``, by target then name."""
        folder = self._approvals_dir(name, number)
        if not folder.is_dir():
            return []
        found = []
        for target in sorted(os.scandir(folder), key=lambda e: e.name):
            if not target.is_dir(follow_symlinks=False):
                continue
            for entry in sorted(os.scandir(target.path), key=lambda e: e.name):
                if entry.name.endswith(".dsse.json") and entry.is_file(follow_symlinks=False):
                    found.append((urllib.parse.unquote(target.name), Path(entry.path).read_bytes()))
        return found

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
        """Append a status to the stored build record's ``statuses``
        (:class:`~relman.registry.base.BuildStatuses`), stamped with the time in UTC, as
        Artifactory's build promotion does; earlier statuses are kept as they are."""
        storage.check_build_key("status", status)
        target = self._build_file(name, number)
        label = f"build {name}/{number}"
        write = Write("build-status", label, f"status {status}", dry_run)
        if not target.is_file():
            raise NotFound(f"no build {name}/{number} in {self.root}")
        if dry_run:
            return write
        with self._locked():
            record = buildinfo.parse(target.read_bytes(), source=str(target))
            stamp = buildinfo.format_time(datetime.now(UTC))
            added = BuildStatus(
                status=status,
                repository=repository,
                timestamp=buildinfo.parse_time(stamp, what=f"{label} status time"),
                timestamp_raw=stamp,
                user=user or None,
                comment=comment or None,
            )
            statuses = (*record.statuses, added)
            atomic_write(target, buildinfo.dumps(dataclasses.replace(record, statuses=statuses)))
        return write
