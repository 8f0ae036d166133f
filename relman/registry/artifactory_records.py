"""Promotion records and approvals on Artifactory: files in the profile's records
repository, ``.relman/promotions/<name>/<number>/<env>.dsse.json`` and
``.relman/approvals/<name>/<number>/<env>/<sha256>.dsse.json`` (names percent-encoded as the
local registry encodes them). Listed in one search for all builds, kept for a short while.
"""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from datetime import UTC, datetime

from relman.model import Location
from relman.registry import storage
from relman.registry.artifactory_core import EPOCH, RECORDS, ArtifactoryCore, digests_of, quote_name
from relman.registry.base import Write

#: Seconds a listing of the promotion records (or approvals) is used before it is read again.
RECORDS_TTL = 30.0


class RecordsMixin(ArtifactoryCore):
    """Signed promotion records and approvals, files in the records repository."""

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
                    files.setdefault(_build_folder(kind, loc.path), []).append(loc)
            with self._lock:
                self._records[kind] = (time.monotonic(), files)
        with self._lock:
            found = list(self._records[kind][1].get(folder, ()))
        return sorted(found, key=lambda loc: (loc.created or EPOCH, loc.path))

    def _noted(self, kind: str, repo: str, path: str, data: bytes) -> None:
        """Add a file this registry just stored to the kept list of ``kind``."""
        digests = digests_of(data)
        loc = Location(
            repo, path, len(data), digests.sha256, digests.sha1, digests.md5, datetime.now(UTC)
        )
        with self._lock:
            listed = self._records.get(kind)
            if listed is not None:
                listed[1].setdefault(_build_folder(kind, path), []).append(loc)

    def promotion_records(self, name: str, number: str) -> list[tuple[str, bytes]]:
        """Every record of a build, oldest first, as ``(target environment, bytes)``."""
        folder = self._records_folder("promotions", name, number)
        found = []
        for loc in self._record_files("promotions", folder):
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


# -- helpers -------------------------------------------------------------------------------


def _build_folder(kind: str, path: str) -> str:
    """The build's folder of a record file (``.relman/promotions/NAME/NUMBER/ENV.dsse.json``)
    or of an approval (``.relman/approvals/NAME/NUMBER/ENV/SHA256.dsse.json``)."""
    up = 2 if kind == "approvals" else 1
    return path.rsplit("/", up)[0]
