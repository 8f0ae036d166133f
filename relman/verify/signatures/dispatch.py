"""Recognise a signature file and prepare it with the format that understands it.

Formats are tried most specific first (a Sigstore bundle before a bare DSSE envelope, minisign
before signify, OpenPGP before a raw OpenSSL signature); the first whose ``sniff`` accepts the
bytes prepares them. A file no format recognises is a failed check, never a silent skip.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from relman.errors import RelmanError
from relman.verify.hashing import describe_os_error, display_path
from relman.verify.signatures.base import (
    Artifact,
    Context,
    Format,
    Pending,
    SignatureFormatError,
    SignatureResult,
)

logger = logging.getLogger(__name__)

#: Signature and provenance sidecars found beside an artifact, in the order they are listed.
SIDECAR_SUFFIXES = (
    ".sig",
    ".asc",
    ".minisig",
    ".sigstore.json",
    ".sigstore",
    ".bundle",
    ".intoto.jsonl",
    ".dsse.json",
    ".build.slsa",
)
#: Detached signatures of a checksum list (``SHA256SUMS.gpg`` ...), found beside the list.
LIST_SIGNATURE_SUFFIXES = (".gpg", ".asc", ".sig", ".sign", ".minisig", ".sigstore.json")

#: (module, attribute) in the order formats are tried.
_ORDER = (
    ("sigstore_bundle", "FORMAT"),
    ("cosign", "BUNDLE_FORMAT"),
    ("provenance", "FORMAT"),
    ("dsse", "FORMAT"),
    ("minisign", "FORMAT"),
    ("minisign", "SIGNIFY_FORMAT"),
    ("openpgp", "FORMAT"),
    ("cosign", "FORMAT"),
    ("openssl", "FORMAT"),
)
MAX_SIGNATURE_BYTES = 64 * 1024 * 1024


def formats() -> Iterator[Format]:
    for module_name, attribute in _ORDER:
        try:
            module = importlib.import_module(f"relman.verify.signatures.{module_name}")
        except ImportError:  # a format whose optional library is missing is skipped, loudly
            logger.warning("signature format %s is unavailable", module_name, exc_info=True)
            continue
        yield getattr(module, attribute)


def detect(data: bytes, filename: str) -> Format:
    for fmt in formats():
        if fmt.sniff(data, filename):
            return fmt
    raise SignatureFormatError(
        f"{filename}: not a signature relman recognises (OpenSSL, cosign, minisign, signify, "
        "OpenPGP, DSSE/in-toto or Sigstore expected)"
    )


def read_signature(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SIGNATURE_BYTES + 1)
    except OSError as exc:
        raise describe_os_error(path, exc) from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise SignatureFormatError(f"{display_path(path)}: is too large to be a signature")
    return data


@dataclass(frozen=True, slots=True)
class Prepared:
    """A signature ready to be finished once the artifact is hashed, or why it cannot be."""

    source: str
    pending: Pending | None = None
    failure: SignatureResult | None = None

    @property
    def needs(self) -> frozenset[str]:
        return self.pending.needs if self.pending is not None else frozenset()

    def finish(self, artifact: Artifact) -> SignatureResult:
        if self.failure is not None:
            return self.failure
        assert self.pending is not None
        try:
            return self.pending.finish(artifact)
        except RelmanError as exc:
            return _failed(self.source, str(exc))
        except Exception as exc:  # a format's bug must never turn into a pass
            logger.exception("verifying %s failed unexpectedly", self.source)
            return _failed(self.source, f"could not be verified: {type(exc).__name__}: {exc}")


def _failed(source: str, detail: str, fmt: str = "unknown") -> SignatureResult:
    return SignatureResult(ok=False, format=fmt, source=source, detail=detail)


def prepare(path: Path, context: Context, *, source: str | None = None) -> Prepared:
    """Read and parse one signature file; every problem becomes a failed result."""
    shown = source or display_path(path.name)
    try:
        data = read_signature(path)
    except RelmanError as exc:
        return Prepared(shown, failure=_failed(shown, str(exc)))
    return prepare_bytes(data, shown, context)


def prepare_bytes(data: bytes, source: str, context: Context) -> Prepared:
    if not data.strip():
        return Prepared(source, failure=_failed(source, f"{source}: is empty, not a signature"))
    try:
        fmt = detect(data, source)
        return Prepared(source, pending=fmt.prepare(data, source, context))
    except RelmanError as exc:
        return Prepared(source, failure=_failed(source, str(exc)))
    except Exception as exc:
        logger.exception("parsing %s failed unexpectedly", source)
        return Prepared(source, failure=_failed(source, f"cannot be read: {type(exc).__name__}"))
