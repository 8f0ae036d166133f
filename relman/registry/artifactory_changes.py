"""Changes to items on Artifactory (reference §2, §3, §6): deploy, properties (with the
escaping of ``, \\ | =``), copy and move with dry run, delete. Each is read back after it is
made; an uncertain answer is settled by reading the state back, never by a blind retry
(:mod:`relman.registry.artifactory_writes`).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path

from relman.errors import RelmanError, UsageError
from relman.model import CancelToken, ProgressCallback, RepoPath
from relman.registry import artifactory_aql as aql
from relman.registry import artifactory_writes as writes
from relman.registry import storage
from relman.registry.artifactory_core import ArtifactoryCore, checksum_of, digests_of, json_or_none
from relman.registry.base import (
    Conflict,
    PropertyValues,
    Write,
    check_property_name,
    describe_properties,
    property_values,
)
from relman.registry.http import HttpError


class ChangesMixin(ArtifactoryCore):
    """The promotion primitives on items: deploy, set and delete properties, copy, move,
    delete; each read back, and settled by reading back when the answer is uncertain."""

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
            digests = digests_of(source)
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
        sha256 = checksum_of(source, "sha256")
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
        problems = writes.errors_in(writes.messages(json_or_none(answer.body)))
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
        if target is None or (sha256 and checksum_of(target, "sha256") != sha256):
            return False
        return action == "copy" or self._file_info_or_none(src.repo, src.path) is None

    def delete(self, repo: str, path: str, *, dry_run: bool = False) -> Write:
        """``DELETE /repo/path``: remove an item (a rollback, an undone promotion's copy)."""
        info = self._file_info(repo, path)
        label = f"{repo}/{path}"
        write = Write(
            "delete", label, f"sha256 {checksum_of(info, 'sha256') or 'unrecorded'}", dry_run
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
