"""Write a local registry's files directly, in the documented layout (docs/local-registry.md).

Deploying 50,000 items one by one through :class:`LocalRegistry` (a lock, a temporary file, a
hard link and an fsync each) takes minutes; the lineage benchmark writes the same files
straight away. ``test_lineage.py`` checks on a small registry that what this writes is what
``deploy``/``copy``/``publish_build``/``put_promotion_record`` write, apart from the times.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from relman.model import BuildRecord
from relman.registry import buildinfo


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe=" @+-_,=")


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


class DirectWriter:
    """The files of a local registry, written without locks, temporary files or fsync."""

    def __init__(self, root: Path, repos: Sequence[str] = ()) -> None:
        self.root = root
        meta = root / ".relman"
        for folder in ("items", "builds", "repos", "tmp"):
            (meta / folder).mkdir(parents=True, exist_ok=True)
        (root / "repos").mkdir(exist_ok=True)
        (meta / "registry.json").write_bytes(
            _json({"format": "relman-local-registry", "schema": 1})
        )
        for repo in repos:
            self.repository(repo)

    def repository(self, key: str, package_type: str = "generic") -> None:
        (self.root / "repos" / key).mkdir(exist_ok=True)
        (self.root / ".relman" / "repos" / f"{key}.json").write_bytes(
            _json({"package_type": package_type})
        )

    def deploy(
        self,
        repo: str,
        path: str,
        data: bytes,
        properties: Mapping[str, str | Sequence[str]] | None = None,
        *,
        created: datetime | None = None,
    ) -> str:
        target = self.root / "repos" / repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        sha256 = hashlib.sha256(data).hexdigest()
        props = {
            k: list(dict.fromkeys([v] if isinstance(v, str) else v))
            for k, v in (properties or {}).items()
        }
        self._meta(
            repo,
            path,
            {
                "schema": 1,
                "size": len(data),
                "created": (created or datetime.now(UTC)).isoformat(),
                "checksums": {
                    "sha256": sha256,
                    "sha1": hashlib.sha1(data).hexdigest(),
                    "md5": hashlib.md5(data).hexdigest(),
                },
                "properties": props,
            },
        )
        return sha256

    def copy(
        self, src: tuple[str, str], dst: tuple[str, str], *, created: datetime | None = None
    ) -> None:
        source = self.root / "repos" / src[0] / src[1]
        target = self.root / "repos" / dst[0] / dst[1]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)
        meta = json.loads(self._meta_path(*src).read_bytes())
        meta["created"] = (created or datetime.now(UTC)).isoformat()
        self._meta(*dst, meta)

    def set_properties(self, repo: str, path: str, properties: Mapping[str, Sequence[str]]) -> None:
        meta = json.loads(self._meta_path(repo, path).read_bytes())
        meta["properties"].update({k: list(v) for k, v in properties.items()})
        self._meta(repo, path, meta)

    def publish_build(self, record: BuildRecord) -> None:
        folder = self.root / ".relman" / "builds" / _quote(record.name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{_quote(record.number)}.json").write_bytes(buildinfo.dumps(record))

    def put_promotion_record(self, name: str, number: str, target: str, data: bytes) -> None:
        folder = self.root / ".relman" / "promotions" / _quote(name) / _quote(number)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{_quote(target)}.dsse.json").write_bytes(data)

    def _meta_path(self, repo: str, path: str) -> Path:
        return self.root / ".relman" / "items" / repo / (path + ".json")

    def _meta(self, repo: str, path: str, meta: dict[str, object]) -> None:
        target = self._meta_path(repo, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_json(meta))
