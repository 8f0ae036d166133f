"""DSSE envelopes (secure-systems-lab/dsse protocol v1.0.2), verified with trusted keys.

::

    {"payloadType": "application/vnd.in-toto+json",
     "payload": "<base64 of the payload>",
     "signatures": [{"keyid": "<unauthenticated hint>", "sig": "<base64 signature>"}]}

Each signature is over ``PAE(payloadType, payload)`` =
``"DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload`` (lengths in ASCII decimal), so the
payload type is bound too. Base64 may be standard or URL-safe, padded or not. ECDSA signatures
are DER (sigstore, in-toto, securesystemslib) or raw ``r‖s`` (the spec's own vector); P-256
uses SHA-256, P-384 SHA-384. The ``keyid`` never decides trust: every signature is tried
against every trusted key (cosign writes an empty ``keyid``), and a threshold counts distinct
keys. The payload handed on is the exact bytes that verified; the envelope is never read again.

An in-toto payload goes on to :mod:`~relman.verify.signatures.provenance` for the subject and
lineage checks. An envelope carrying an inline Fulcio certificate (slsa-github-generator before
v1.5) fails closed: without a log entry or timestamp its signing time cannot be proven offline.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from relman.errors import VerificationError
from relman.verify.signatures import provenance
from relman.verify.signatures.base import (
    Artifact,
    Context,
    Pending,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)
from relman.verify.signatures.keys import load_crypto_key

#: The kinds of trusted keys a DSSE signature may be made with.
KEY_KINDS = ("ecdsa-p256", "ecdsa-p384", "ed25519", "rsa")

_ECDSA_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}

SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class DSSEVerificationError(VerificationError):
    """The envelope parses but is not signed by enough trusted keys (message says why)."""


@dataclass(frozen=True, slots=True)
class Signature:
    keyid: str
    sig: bytes
    cert: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 Pre-Authentication Encoding of a payload type and payload."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def b64decode_any(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not; :class:`binascii.Error` when neither."""
    cleaned = "".join(text.split()).rstrip("=").replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def parse_envelope(doc: Any, where: str) -> Envelope:
    """An :class:`Envelope` from parsed JSON; :class:`SignatureFormatError` naming ``where``."""
    if not isinstance(doc, dict):
        raise SignatureFormatError(f"{where}: is not a DSSE envelope (not a JSON object)")
    payload_type, payload, signatures = (
        doc.get("payloadType"),
        doc.get("payload"),
        doc.get("signatures"),
    )
    if not isinstance(payload_type, str) or not isinstance(payload, str):
        raise SignatureFormatError(f"{where}: is not a DSSE envelope (no payloadType or payload)")
    if not isinstance(signatures, list) or not signatures:
        raise SignatureFormatError(f"{where}: the DSSE envelope has no signatures")
    try:
        body = b64decode_any(payload)
    except (binascii.Error, ValueError):
        raise SignatureFormatError(f"{where}: the DSSE payload is not base64") from None
    parsed: list[Signature] = []
    for number, entry in enumerate(signatures, start=1):
        sig = entry.get("sig") if isinstance(entry, dict) else None
        if not isinstance(sig, str):
            raise SignatureFormatError(f"{where}: DSSE signature {number} has no sig")
        try:
            raw = b64decode_any(sig)
        except (binascii.Error, ValueError):
            raise SignatureFormatError(f"{where}: DSSE signature {number} is not base64") from None
        keyid = entry.get("keyid")
        cert = entry.get("cert")
        parsed.append(
            Signature(
                keyid if isinstance(keyid, str) else "",
                raw,
                cert if isinstance(cert, str) and cert.strip() else None,
            )
        )
    return Envelope(payload_type, body, tuple(parsed))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sign_envelope(
    payload_type: str, payload: bytes, private_key: SigningKey, keyid: str = ""
) -> dict[str, Any]:
    """A DSSE envelope over ``payload`` signed with an ECDSA (DER) or Ed25519 private key."""
    message = pae(payload_type, payload)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        sig = private_key.sign(message)
    else:
        algorithm = _ECDSA_HASHES.get(private_key.curve.name)
        if algorithm is None:
            raise ValueError(f"unsupported ECDSA curve {private_key.curve.name}")
        sig = private_key.sign(message, ec.ECDSA(algorithm()))
    return {
        "payloadType": payload_type,
        "payload": _b64(payload),
        "signatures": [{"keyid": keyid, "sig": _b64(sig)}],
    }


def verify_signature(key: PublicKeyTypes, sig: bytes, message: bytes) -> bool:
    """Whether ``sig`` over ``message`` verifies with ``key`` (never raises on a bad sig)."""
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, message)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            return _verify_ecdsa(key, sig, message)
        if isinstance(key, rsa.RSAPublicKey):
            return _verify_rsa(key, sig, message)
    except (InvalidSignature, ValueError):
        return False
    return False


def _verify_ecdsa(key: ec.EllipticCurvePublicKey, sig: bytes, message: bytes) -> bool:
    algorithm = _ECDSA_HASHES.get(key.curve.name)
    if algorithm is None:
        return False
    candidates = [sig]
    size = (key.curve.key_size + 7) // 8
    if len(sig) == 2 * size:  # raw r||s, as the DSSE spec vector writes it
        r, s = int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
        candidates.append(encode_dss_signature(r, s))
    for candidate in candidates:
        try:
            key.verify(candidate, message, ec.ECDSA(algorithm()))
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


def _verify_rsa(key: rsa.RSAPublicKey, sig: bytes, message: bytes) -> bool:
    schemes: list[padding.AsymmetricPadding] = [
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
        padding.PKCS1v15(),
    ]
    for scheme in schemes:
        try:
            key.verify(sig, message, scheme, hashes.SHA256())
            return True
        except InvalidSignature:
            continue
    return False


def verify_envelope(
    envelope: Mapping[str, Any] | Envelope, keys: Iterable[TrustedKey], threshold: int = 1
) -> tuple[bytes, list[TrustedKey]]:
    """Verify a DSSE envelope with trusted keys; return (payload bytes, keys that verified).

    ``threshold`` distinct keys (by fingerprint) must each have made a valid signature.
    Raises :class:`DSSEVerificationError` with the reason when they have not, and
    :class:`SignatureFormatError` when the envelope cannot be parsed."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    env = envelope if isinstance(envelope, Envelope) else parse_envelope(envelope, "DSSE envelope")
    candidates = [k for k in keys if k.kind in KEY_KINDS]
    if not candidates:
        raise DSSEVerificationError(_no_key_reason(env))
    message = pae(env.payload_type, env.payload)
    loaded = [(k, load_crypto_key(k.material)) for k in candidates]
    verified: dict[str, TrustedKey] = {}
    for signature in env.signatures:
        # The keyid only orders the tries (the key it names first); it never decides trust.
        ordered = sorted(loaded, key=lambda pair: pair[0].fingerprint != signature.keyid)
        for trusted, key in ordered:
            if trusted.fingerprint in verified or key is None:
                continue
            if verify_signature(key, signature.sig, message):
                verified[trusted.fingerprint] = trusted
                break
    if not verified:
        raise DSSEVerificationError(_unverified_reason(env, candidates))
    if len(verified) < threshold:
        names = ", ".join(k.label for k in verified.values())
        raise DSSEVerificationError(
            f"only {len(verified)} of the {threshold} required trusted keys signed the "
            f"envelope ({names})"
        )
    return env.payload, list(verified.values())


def _inline_identity(env: Envelope) -> str | None:
    for signature in env.signatures:
        if signature.cert is None:
            continue
        try:
            cert = x509.load_pem_x509_certificate(signature.cert.encode())
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = [str(v) for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
            names += san.get_values_for_type(x509.RFC822Name)
        except (ValueError, x509.ExtensionNotFound):
            return "an unreadable certificate"
        return names[0] if names else "a certificate without identity"
    return None


def _inline_cert_reason(identity: str) -> str:
    return (
        f"the envelope is signed with a short-lived Fulcio certificate carried inline (for "
        f"{identity}), with no transparency-log entry or timestamp: its signing time cannot be "
        "proven offline, so the signature cannot be trusted (use the Sigstore bundle of this "
        "provenance, or a trusted key)"
    )


def _no_key_reason(env: Envelope) -> str:
    identity = _inline_identity(env)
    if identity is not None:
        return _inline_cert_reason(identity)
    return (
        "no trusted key of a kind DSSE uses (ECDSA P-256/P-384, Ed25519, RSA); give one with "
        "--key or add it to the trust store"
    )


def _unverified_reason(env: Envelope, tried: list[TrustedKey]) -> str:
    identity = _inline_identity(env)
    if identity is not None:
        return _inline_cert_reason(identity)
    names = ", ".join(k.label for k in tried[:4]) + (" …" if len(tried) > 4 else "")
    return (
        f"no signature in the envelope verifies with a trusted key (tried {names}): "
        "signed by another key, or the envelope was modified"
    )


class EnvelopePending:
    """One envelope: verify with the context's keys, then check an in-toto payload."""

    def __init__(self, envelope: Envelope, source: str, context: Context) -> None:
        self.envelope = envelope
        self.source = source
        self.keys = context.keys_of(*KEY_KINDS)
        self.in_toto = envelope.payload_type == provenance.IN_TOTO_PAYLOAD_TYPE
        self.needs: frozenset[str] = frozenset({"sha256"}) if self.in_toto else frozenset()

    def claims(self, artifact: Artifact) -> bool:
        return self.in_toto and provenance.claims_artifact(
            self.envelope.payload, artifact.digests.get("sha256")
        )

    def finish(self, artifact: Artifact) -> SignatureResult:
        kind = "provenance" if self.in_toto else "signature"
        try:
            payload, signers = verify_envelope(self.envelope, self.keys)
        except DSSEVerificationError as exc:
            return SignatureResult(False, "dsse", self.source, str(exc), kind=kind)
        signer = ", ".join(k.label for k in signers)
        fingerprint = signers[0].fingerprint
        if not self.in_toto:
            return SignatureResult(
                False,
                "dsse",
                self.source,
                f"the envelope is signed by {signer}, but its payload type "
                f"{self.envelope.payload_type!r} is not an in-toto Statement, so it names no "
                "artifact relman can check",
                signer=signer,
                fingerprint=fingerprint,
                facts=MappingProxyType({"payload_type": self.envelope.payload_type}),
            )
        return provenance.check_statement(
            payload,
            artifact,
            format="dsse",
            source=self.source,
            signer=signer,
            fingerprint=fingerprint,
        )


def prepare_document(doc: Any, where: str, context: Context) -> EnvelopePending:
    return EnvelopePending(parse_envelope(doc, where), where, context)


class DSSEFormat:
    """Bare DSSE envelopes (one per line) whose payload is not an in-toto Statement; in-toto
    envelopes are sniffed by :data:`relman.verify.signatures.provenance.FORMAT`, but this
    format verifies them the same way when asked to."""

    name = "dsse"

    def sniff(self, data: bytes, filename: str) -> bool:
        docs = provenance.sniff_documents(data)
        return (
            bool(docs)
            and all(provenance.is_envelope(doc) for doc in docs)
            and not any(provenance.is_in_toto(doc) for doc in docs)
        )

    def prepare(self, data: bytes, source: str, context: Context) -> Pending:
        docs = provenance.split_documents(data, source, "a DSSE envelope")
        lines = [
            prepare_document(doc, source if len(docs) == 1 else f"{source}, line {n}", context)
            for n, doc in docs
        ]
        return provenance.combine(lines, source)


FORMAT = DSSEFormat()
