"""minisign and OpenBSD signify signatures (one key layout: ``"Ed" ‖ key id(8) ‖ Ed25519 pk``).

``FORMAT`` (``minisign``), a four-line ``.minisig``::

    untrusted comment: <free text, not authenticated>
    base64( "ED" or "Ed" ‖ key id(8) ‖ signature(64) )
    trusted comment: <text>
    base64( global signature(64) )

``ED`` (the default) signs the 64-byte BLAKE2b-512 digest of the file (taken from the one read
pass); legacy ``Ed`` signs the whole file (read through ``mmap``). The global signature, over
``signature ‖ trusted comment``, must verify with the same key: a changed trusted comment
fails. The trusted comment is reported as the ``trusted_comment`` fact (and its
``timestamp:`` as ``signed_at``).

``SIGNIFY_FORMAT`` (``signify``), a two-line detached ``.sig``: ``"Ed" ‖ key number(8) ‖
Ed25519(file)``, no prehash, no trusted comment. :func:`verify_embedded` checks a ``signify -S
-e`` file (OpenBSD's ``SHA256.sig``: the two lines followed by the signed message) and returns
the message it verified, for the checksum list flow of ``signify -C``.

A key is chosen by key id (bytes compared): keys read as ``minisign`` or ``signify`` are both
candidates, as the two tools share the key layout and a bare ``RW…`` key string carries no
tool name.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from relman.verify.signatures.base import (
    WHOLE_FILE,
    Artifact,
    Context,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)
from relman.verify.signatures.keys import parse_minisign_public
from relman.verify.signatures.openssl import MISMATCH, Message, failure, whole_file

NAME = "minisign"
SIGNIFY_NAME = "signify"
_KINDS = ("minisign", "signify")
_UNTRUSTED = b"untrusted comment: "
_TRUSTED = b"trusted comment: "
_PREHASHED = b"ED"
_PURE = b"Ed"


def display_key_id(key_id: bytes) -> str:
    """A key id as minisign prints it: the little-endian u64 in upper-case hex."""
    return key_id[::-1].hex().upper()


@dataclass(frozen=True, slots=True)
class _Candidate:
    key: TrustedKey
    public: ed25519.Ed25519PublicKey


def _candidates(key_id: bytes, context: Context) -> tuple[tuple[_Candidate, ...], str | None]:
    """The trusted keys with this key id, or the reason there are none."""
    keys = context.keys_of(*_KINDS)
    if not keys:
        return (), "no trusted key of this type (a minisign or signify public key)"
    found = []
    for key in keys:
        parsed = parse_minisign_public(key.material)
        if parsed is not None and parsed[0] == key_id:
            found.append(_Candidate(key, ed25519.Ed25519PublicKey.from_public_bytes(parsed[1])))
    if not found:
        return (), f"key id {display_key_id(key_id)} is not trusted"
    return tuple(found), None


def _ed25519_ok(public: ed25519.Ed25519PublicKey, sig: bytes, message: Message) -> bool:
    try:
        public.verify(sig, message)
    except InvalidSignature:
        return False
    return True


def _decode(line: bytes, length: int, what: str, source: str) -> bytes:
    try:
        raw = base64.b64decode(line.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureFormatError(f"{source}: {what} is not valid base64") from None
    if len(raw) != length:
        raise SignatureFormatError(
            f"{source}: {what} is {len(raw)} bytes, not {length} (truncated or damaged)"
        )
    return raw


def _signature_line(line: bytes, source: str) -> tuple[bytes, bytes, bytes]:
    """``(algorithm, key id, signature)`` from the base64 line of either tool."""
    raw = _decode(line, 74, "the signature line", source)
    alg, key_id, sig = raw[:2], raw[2:10], raw[10:]
    if alg not in (_PREHASHED, _PURE):
        raise SignatureFormatError(f"{source}: unknown signature algorithm {alg!r}")
    return alg, key_id, sig


def _ok(fmt: str, source: str, key: TrustedKey, detail: str, **facts: str) -> SignatureResult:
    return SignatureResult(
        ok=True,
        format=fmt,
        source=source,
        detail=f"{detail} by {key.label}",
        signer=key.label,
        fingerprint=key.fingerprint,
        facts=facts,
    )


def _signed_at(trusted_comment: str) -> dict[str, str]:
    for part in trusted_comment.split("\t"):
        name, _, value = part.partition(":")
        if name.strip() == "timestamp" and value.strip().isdigit():
            try:
                when = datetime.fromtimestamp(int(value.strip()), UTC)
            except (OverflowError, ValueError, OSError):
                return {}
            return {"signed_at": when.isoformat()}
    return {}


def _lines(data: bytes, source: str, tool: str) -> list[bytes]:
    if not data.strip():
        raise SignatureFormatError(f"{source}: is empty, not a {tool} signature")
    lines = [ln.rstrip(b"\r") for ln in data.split(b"\n")]
    if not lines[0].startswith(_UNTRUSTED):
        raise SignatureFormatError(
            f"{source}: does not start with 'untrusted comment:', not a {tool} signature"
        )
    if len(lines) < 2:
        raise SignatureFormatError(f"{source}: ends after its comment line (truncated)")
    return lines


# -- minisign ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MinisignPending:
    source: str
    prehashed: bool
    signature: bytes
    trusted_comment: bytes
    global_signature: bytes
    candidates: tuple[_Candidate, ...]
    reason: str | None
    needs: frozenset[str]

    def finish(self, artifact: Artifact) -> SignatureResult:
        if not self.candidates:
            return failure(self.source, self.reason or MISMATCH, NAME)
        if self.prehashed:
            digest = artifact.digests.get("blake2b")
            if digest is None:
                return failure(self.source, "the file's BLAKE2b-512 digest was not computed", NAME)
            return self._verify(digest)
        with whole_file(artifact) as message:
            return self._verify(message)

    def _verify(self, message: Message) -> SignatureResult:
        for candidate in self.candidates:
            if not _ed25519_ok(candidate.public, self.signature, message):
                continue
            if not _ed25519_ok(
                candidate.public, self.global_signature, self.signature + self.trusted_comment
            ):
                return failure(
                    self.source,
                    "the trusted comment was modified (its global signature does not verify)",
                    NAME,
                )
            comment = self.trusted_comment.decode("utf-8", "replace")
            kind = "prehashed" if self.prehashed else "legacy"
            return _ok(
                NAME,
                self.source,
                candidate.key,
                f"minisign ({kind}) signature",
                trusted_comment=comment,
                **_signed_at(comment),
            )
        return failure(self.source, MISMATCH, NAME)


class MinisignFormat:
    name = NAME

    def sniff(self, data: bytes, filename: str) -> bool:
        lines = data.split(b"\n")
        return len(lines) >= 4 and lines[0].startswith(_UNTRUSTED) and lines[2].startswith(_TRUSTED)

    def prepare(self, data: bytes, source: str, context: Context) -> MinisignPending:
        lines = _lines(data, source, "minisign")
        alg, key_id, sig = _signature_line(lines[1], source)
        if len(lines) < 4 or not lines[2].startswith(_TRUSTED):
            raise SignatureFormatError(
                f"{source}: has no trusted comment and global signature (truncated, or a "
                "signify signature)"
            )
        if any(ln.strip() for ln in lines[4:]):
            raise SignatureFormatError(f"{source}: has unexpected lines after the signature")
        global_sig = _decode(lines[3], 64, "the global signature", source)
        candidates, reason = _candidates(key_id, context)
        prehashed = alg == _PREHASHED
        needs: frozenset[str] = frozenset()
        if candidates:
            needs = frozenset({"blake2b" if prehashed else WHOLE_FILE})
        return MinisignPending(
            source=source,
            prehashed=prehashed,
            signature=sig,
            trusted_comment=lines[2][len(_TRUSTED) :],
            global_signature=global_sig,
            candidates=candidates,
            reason=reason,
            needs=needs,
        )


# -- signify -------------------------------------------------------------------------------


def _signify_parts(data: bytes, source: str) -> tuple[bytes, bytes, bytes]:
    """``(key id, signature, the rest after the two lines)`` of a signify signature file."""
    lines = _lines(data, source, "signify")
    alg, key_id, sig = _signature_line(lines[1], source)
    if alg != _PURE:
        raise SignatureFormatError(
            f"{source}: is a prehashed minisign signature, not a signify signature"
        )
    first = data.index(b"\n")
    second = data.find(b"\n", first + 1)
    rest = b"" if second < 0 else data[second + 1 :]
    return key_id, sig, rest


@dataclass(frozen=True, slots=True)
class SignifyPending:
    source: str
    signature: bytes
    candidates: tuple[_Candidate, ...]
    reason: str | None
    needs: frozenset[str]

    def finish(self, artifact: Artifact) -> SignatureResult:
        if not self.candidates:
            return failure(self.source, self.reason or MISMATCH, SIGNIFY_NAME)
        with whole_file(artifact) as message:
            return _signify_verify(self.source, self.signature, self.candidates, message)


def _signify_verify(
    source: str, sig: bytes, candidates: tuple[_Candidate, ...], message: Message
) -> SignatureResult:
    for candidate in candidates:
        if _ed25519_ok(candidate.public, sig, message):
            return _ok(SIGNIFY_NAME, source, candidate.key, "signify signature")
    return failure(source, MISMATCH, SIGNIFY_NAME)


class SignifyFormat:
    name = SIGNIFY_NAME

    def sniff(self, data: bytes, filename: str) -> bool:
        lines = data.split(b"\n")
        if len(lines) < 2 or not lines[0].startswith(_UNTRUSTED):
            return False
        if len(lines) > 2 and lines[2].startswith(_TRUSTED):
            return False  # minisign
        try:
            return base64.b64decode(lines[1].strip(), validate=True)[:2] == _PURE
        except (binascii.Error, ValueError):
            return False

    def prepare(self, data: bytes, source: str, context: Context) -> SignifyPending:
        key_id, sig, rest = _signify_parts(data, source)
        if rest.strip():
            if rest.startswith(_TRUSTED):
                raise SignatureFormatError(
                    f"{source}: is a minisign signature (it has a trusted comment)"
                )
            raise SignatureFormatError(
                f"{source}: is an embedded signify signature (signify -S -e): it signs the "
                "text inside it; use it as a checksum list"
            )
        candidates, reason = _candidates(key_id, context)
        needs = frozenset({WHOLE_FILE}) if candidates else frozenset()
        return SignifyPending(source, sig, candidates, reason, needs)


def verify_embedded(
    data: bytes, source: str, context: Context
) -> tuple[SignatureResult, bytes | None]:
    """Verify a ``signify -S -e`` file; return the result and the message it signs.

    The message (e.g. the BSD-tag checksum list of OpenBSD's ``SHA256.sig``) is returned only
    when the signature verifies; otherwise None. Raises :class:`SignatureFormatError` when
    ``data`` is not a signify signature.
    """
    key_id, sig, message = _signify_parts(data, source)
    if not message:
        raise SignatureFormatError(
            f"{source}: holds no embedded message (a detached signify signature?)"
        )
    candidates, reason = _candidates(key_id, context)
    if not candidates:
        return failure(source, reason or MISMATCH, SIGNIFY_NAME), None
    result = _signify_verify(source, sig, candidates, message)
    return result, (message if result.ok else None)


FORMAT = MinisignFormat()
SIGNIFY_FORMAT = SignifyFormat()
