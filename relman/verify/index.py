"""Checksum lists read once each, with their signatures checked before they are believed.

A list may carry its own signature (an OpenPGP clear-signature, a signify embedded signature)
or have one beside it (``SHA256SUMS.gpg``, ``.asc``, ``.sig``, ``.minisig`` ...). The signature
is verified first; entries of a signed list come from the verified bytes only. Each list's
signature results are kept, so every file the list names reports them as its own checks.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

from relman.errors import ChecksumListError, RelmanError
from relman.verify.checksums import (
    MAX_LIST_BYTES,
    SIDECAR_SUFFIXES,
    ChecksumEntry,
    algorithm_for_list,
    parse_checksum_list,
)
from relman.verify.hashing import describe_os_error, display_path, hash_file
from relman.verify.signatures.base import WHOLE_FILE, Artifact, Context, SignatureResult

_PGP_CLEARSIGNED = b"-----BEGIN PGP SIGNED MESSAGE-----"
_SIGNIFY_COMMENT = b"untrusted comment:"


def absolute(path: Path) -> Path:
    return Path(os.path.normpath(Path(path).absolute()))


class ChecksumIndex:
    """Parsed checksum lists (and their signature results), each read once."""

    def __init__(self, context: Context | None = None) -> None:
        self.context = context or Context()
        self._lists: dict[Path, list[ChecksumEntry] | RelmanError] = {}
        self._signatures: dict[Path, tuple[SignatureResult, ...]] = {}
        self._by_target: dict[Path, dict[str, list[tuple[Path, ChecksumEntry]]]] = {}
        self._by_given: dict[Path, dict[str, list[tuple[Path, ChecksumEntry]]]] = {}
        # Planner workers share the index; a list is parsed (and its signature checked) once.
        self._lock = threading.RLock()

    def load(self, path: Path) -> list[ChecksumEntry]:
        """Parse ``path`` once; a parse error is cached and raised again on every call."""
        key = absolute(path)
        cached = self._lists.get(key)
        if cached is None:
            with self._lock:
                cached = self._lists.get(key)
                if cached is None:
                    try:
                        cached = self._read(path, key)
                    except RelmanError as exc:
                        cached = exc
                    self._lists[key] = cached
        if isinstance(cached, RelmanError):
            raise cached
        return cached

    def signatures(self, path: Path) -> tuple[SignatureResult, ...]:
        """The signature results of a loaded list (empty when it is unsigned)."""
        if not self._signatures:
            return ()
        found = self._signatures.get(path)  # the planner passes the absolute key itself
        return found if found is not None else self._signatures.get(absolute(path), ())

    def targets(self, path: Path) -> dict[str, list[tuple[Path, ChecksumEntry]]]:
        """``{absolute target path: [(list, entry)]}``, names resolved against the list's folder."""
        found = self._by_given.get(path)
        if found is not None:
            return found
        key = absolute(path)
        found = self._by_target.get(key)
        if found is not None:
            self._by_given[path] = found
            return found
        with self._lock:
            found = self._by_target.get(key)
            if found is not None:
                return found
            found = {}
            folder = key.parent
            bare_target = _sidecar_target(key)
            for entry in self.load(path):
                if entry.name is None:
                    # A bare digest names no file; a sidecar's file is its own name less the
                    # suffix (``app.tar.gz.sha256`` -> ``app.tar.gz``).
                    if bare_target is None:
                        continue
                    target = bare_target
                else:
                    target = os.path.normpath(os.path.join(folder, entry.name))
                found.setdefault(target, []).append((key, entry))
            self._by_target[key] = found
            self._by_given[path] = found
        return found

    def _read(self, path: Path, key: Path) -> list[ChecksumEntry]:
        source = display_path(path)
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_LIST_BYTES + 1)
        except OSError as exc:
            raise describe_os_error(path, exc) from None
        if len(data) > MAX_LIST_BYTES:
            raise ChecksumListError(source, "is too large to be a checksum list")
        results: list[SignatureResult] = []
        content = data
        embedded = _embedded_signature(data, source, self.context)
        if embedded is not None:
            result, verified = embedded
            results.append(result)
            if verified is not None:
                content = verified
        results.extend(_detached_signatures(path, self.context))
        entries = parse_checksum_list(content, source, algorithm_for_list(path))
        self._signatures[key] = tuple(results)
        return entries


def _sidecar_target(list_path: Path) -> str | None:
    for suffix in SIDECAR_SUFFIXES:
        if list_path.name.endswith(suffix) and len(list_path.name) > len(suffix):
            return str(list_path)[: -len(suffix)]
    return None


def _embedded_signature(
    data: bytes, source: str, context: Context
) -> tuple[SignatureResult, bytes | None] | None:
    head = data.lstrip()[:64]
    if head.startswith(_PGP_CLEARSIGNED):
        module, function = "openpgp", "verify_clearsigned"
    elif head.startswith(_SIGNIFY_COMMENT) and data.count(b"\n") > 2:
        module, function = "minisign", "verify_embedded"
    else:
        return None
    try:
        verify = getattr(importlib.import_module(f"relman.verify.signatures.{module}"), function)
        result, verified = verify(data, source, context)
    except RelmanError as exc:
        return SignatureResult(ok=False, format=module, source=source, detail=str(exc)), None
    return result, verified


def _detached_signatures(path: Path, context: Context) -> list[SignatureResult]:
    from relman.verify.signatures.dispatch import LIST_SIGNATURE_SUFFIXES, prepare

    results = []
    for suffix in LIST_SIGNATURE_SUFFIXES:
        sig = path.with_name(path.name + suffix)
        if not sig.is_file():
            continue
        prepared = prepare(sig, context)
        needs = [a for a in prepared.needs if a != WHOLE_FILE]
        digests = hash_file(path, needs or ("sha256",))
        artifact = Artifact(
            path, digests.size, {a: bytes.fromhex(h) for a, h in digests.digests.items()}
        )
        results.append(prepared.finish(artifact))
    return results
