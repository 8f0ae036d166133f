"""The contract every signature format implements, and the shapes of its results.

A verification is two steps, so that the artifact is read once for every check it needs:

1. ``Format.prepare(signature_bytes, source, keys)`` parses the signature (and nothing else)
   and returns a :class:`Pending`: which digests of the artifact it needs (``sha256``,
   ``sha384``, ``sha512``, ``blake2b`` ... named as in :mod:`relman.verify.hashing`), or
   ``WHOLE_FILE`` when the scheme signs the message itself. A signature that cannot even be
   parsed raises :class:`SignatureFormatError` (exit 1: data that does not verify).
2. ``Pending.finish(artifact)`` gets the artifact's path and the digests computed in the one
   pass, and returns the :class:`SignatureResult`: valid or not, which trusted key (name and
   fingerprint) or which Sigstore identity made it, and a plain reason for every failure.

Verification fails closed: an unknown key, an empty or truncated signature, a signature over
other bytes, a key of the wrong type: each is ``ok=False`` with a reason, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from relman.errors import VerificationError

#: A Pending that needs the artifact's bytes themselves (read through mmap in ``finish``).
WHOLE_FILE = "whole-file"


class SignatureFormatError(VerificationError):
    """The signature file is empty, truncated, garbage or not of the format it claims (exit 1)."""


class KeyFormatError(VerificationError):
    """A key file holds no key relman can use.

    Raised with exit status 2 by the CLI when the operator supplied the key (``--key FILE``)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A named public key (or OpenPGP certificate, or Sigstore identity) that may sign.

    ``kind``: ``rsa``, ``ecdsa-p256``, ``ecdsa-p384``, ``ed25519``, ``minisign``, ``signify``,
    ``openpgp``. ``fingerprint``: ``SHA256:<hex of the SHA-256 of the DER
    SubjectPublicKeyInfo>`` for raw keys (also for minisign/signify: the SPKI of their Ed25519
    key), the primary key fingerprint in upper-case hex for OpenPGP. ``key_id``: the format's
    own short id where it has one (minisign/signify key number as 16 hex digits, OpenPGP key id).
    ``material``: the key as read (PEM, the minisign/signify two-line file, an armored cert).
    """

    name: str
    kind: str
    fingerprint: str
    material: bytes
    key_id: str | None = None

    @property
    def label(self) -> str:
        """``name (SHA256:9f2c…)`` as results show it."""
        return f"{self.name} ({shorten(self.fingerprint)})"


def shorten(fingerprint: str, keep: int = 12) -> str:
    prefix, _, rest = fingerprint.rpartition(":")
    head = f"{prefix}:" if prefix else ""
    return f"{head}{rest[:keep]}…" if len(rest) > keep else fingerprint


@dataclass(frozen=True, slots=True)
class Artifact:
    """What ``finish`` gets: the file, its size, and the digests from the one read pass."""

    path: Path
    size: int
    digests: Mapping[str, bytes]  # raw digest bytes by algorithm name


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """The outcome of one signature (or provenance) check.

    ``signer``: the trusted key's label, or the Sigstore identity and issuer. ``facts``: what
    the signature asserts that lineage uses (``commit``, ``source``, ``builder``, ``identity``,
    ``issuer``, ``signed_at``, ``predicate_type``). ``kind`` is ``signature`` or ``provenance``.
    """

    ok: bool
    format: str
    source: str
    detail: str
    kind: str = "signature"
    signer: str | None = None
    fingerprint: str | None = None
    facts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Context:
    """What a verification may rely on: the candidate keys and the Sigstore policy.

    ``keys``: the keys given with ``--key`` and the trust store's keys; a format uses those
    of its kind. ``identity`` / ``issuer``: the expected Sigstore certificate identity (SAN) and
    OIDC issuer for keyless bundles. ``trusted_root``: a Sigstore ``trusted_root.json``. When it
    is None, keyless bundles are checked against the pinned public-good root shipped in
    ``relman/resources/sigstore/``, and the transparency-log entries of key-based cosign bundles
    are not checked (their result says so in its ``tlog`` fact).
    """

    keys: tuple[TrustedKey, ...] = ()
    identity: str | None = None
    issuer: str | None = None
    trusted_root: Path | None = None

    def keys_of(self, *kinds: str) -> tuple[TrustedKey, ...]:
        return tuple(k for k in self.keys if k.kind in kinds)


class Pending(Protocol):
    needs: frozenset[str]

    def finish(self, artifact: Artifact) -> SignatureResult: ...


class Format(Protocol):
    """One signature format (a module-level instance per format)."""

    #: "openssl", "cosign", "cosign-bundle", "minisign", "signify", "openpgp", "dsse",
    #: "in-toto", "sigstore"
    name: str

    def sniff(self, data: bytes, filename: str) -> bool:
        """True when ``data`` (the signature file's bytes) looks like this format."""
        ...

    def prepare(self, data: bytes, source: str, context: Context) -> Pending:
        """Parse ``data``; raise :class:`SignatureFormatError` when it cannot be parsed."""
        ...
