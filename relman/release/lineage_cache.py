"""Lineage's cache of verified signatures and promotion records, kept between runs in
relman's cache folder (see :class:`VerifyCache`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from relman import paths
from relman.errors import RelmanError
from relman.model import Location
from relman.release.lineage_model import SignatureCheck
from relman.verify.signatures.base import Context

logger = logging.getLogger(__name__)


class VerifyCache:
    """Signatures that verified, kept between runs in ``<cache>/lineage/``.

    A key (:func:`_check_key`) is a hash of the sidecar's suffix, its bytes as read now, the
    artifact's recorded SHA-256 and size; the file is named by a fingerprint of everything
    else a verification depends on (the trusted keys with their material, the Sigstore policy,
    the trusted root's bytes, relman's version). Only ``verified`` results are kept: a failure
    is checked again every time. The cache is only an optimisation: an unreadable or foreign
    file is ignored, a failed write is logged, and two runs writing at once lose entries at
    worst (the file is replaced atomically)."""

    LIMIT = 1_000_000
    _SIDECAR = "\x00"

    def __init__(self, folder: Path, context: Context) -> None:
        self.folder = folder
        self.context = context
        self._path: Path | None = None
        # The file: {"results": [[format, detail, signer], ...], "entries": {key: index}}, the
        # keys hashed and the results shared (50,000 signatures by one key are one result).
        self.known: dict[str, Any] | None = None
        self.results: list[tuple[str, str, str | None]] = []
        self.new: dict[str, tuple[str, str, str | None]] = {}
        self._shared: dict[tuple[str, str, str | None], tuple[str, str, str | None]] = {}

    @classmethod
    def open(cls, context: Context) -> VerifyCache | None:
        try:
            folder = paths.resolve().cache / "lineage"
        except (OSError, RelmanError):  # pragma: no cover - no cache folder to be had
            return None
        return cls(folder, context)

    @property
    def path(self) -> Path:
        """The file, named when first needed (the fingerprint reads relman's version)."""
        if self._path is None:
            self._path = self.folder / f"signatures-{trust_fingerprint(self.context)}.json"
        return self._path

    def _load(self) -> dict[str, Any]:
        if self.known is None:
            self.known, self.results = {}, []
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(self.path.read_bytes())
                results = data.get("results") if isinstance(data, dict) else None
                entries = data.get("entries") if isinstance(data, dict) else None
                if (
                    isinstance(results, list)
                    and isinstance(entries, dict)
                    and all(
                        isinstance(r, list)
                        and len(r) == 3
                        and isinstance(r[0], str)
                        and isinstance(r[1], str)
                        and (r[2] is None or isinstance(r[2], str))
                        for r in results
                    )
                ):
                    self.known, self.results = entries, [(r[0], r[1], r[2]) for r in results]
        return self.known

    def get(self, key: str, source: str) -> SignatureCheck | None:
        index = self._load().get(key)
        if type(index) is not int or not 0 <= index < len(self.results):
            return None
        fmt, detail, signer = self.results[index]
        return SignatureCheck(
            source, fmt, "verified", detail.replace(self._SIDECAR, source), signer
        )

    def put(self, key: str, check: SignatureCheck) -> None:
        if check.status == "verified":
            result = (
                check.format,
                check.detail.replace(check.sidecar, self._SIDECAR),
                check.signer,
            )
            self.new[key] = self._shared.setdefault(result, result)

    def save(self) -> None:
        if not self.new:
            return
        self.known = None  # merge with what another run may have written meanwhile
        entries = self._load()
        results = self.results
        if len(entries) + len(self.new) > self.LIMIT:
            entries, results = {}, []
        index = {r: i for i, r in enumerate(results)}
        for key, result in self.new.items():
            if result not in index:
                index[result] = len(results)
                results.append(result)
            entries[key] = index[result]
        try:
            paths.ensure_dir(self.path.parent)
            data = json.dumps(
                {"results": [list(r) for r in results], "entries": entries},
                separators=(",", ":"),
                ensure_ascii=False,
            )
            paths.atomic_write(self.path, data.encode())
        except OSError as exc:
            logger.warning("could not keep verified signatures in %s: %s", self.path, exc)
        self.new = {}


def trust_fingerprint(context: Context) -> str:
    from relman import __version__

    root: str | None = None
    if context.trusted_root is not None:
        try:
            root = hashlib.sha256(context.trusted_root.read_bytes()).hexdigest()
        except OSError:
            root = f"unreadable {context.trusted_root}"
    parts = [
        str(__version__),
        [
            [k.name, k.kind, k.fingerprint, k.key_id, hashlib.sha256(k.material).hexdigest()]
            for k in context.keys
        ],
        context.identity,
        context.issuer,
        root,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def check_key(suffix: str, data: bytes, loc: Location) -> str:
    """What a check depends on besides the trust store: the sidecar's suffix and bytes, the
    artifact's recorded SHA-256 and size (hashed: 50,000 of them are kept; the first NUL
    ends the text part, which has none)."""
    digest = hashlib.sha256(f"{suffix} {loc.sha256} {loc.size}\x00".encode())
    digest.update(data)
    return digest.hexdigest()[:40]
