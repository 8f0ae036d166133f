"""Read public keys of every kind relman verifies with, and fingerprint them.

Accepted: PEM SubjectPublicKeyInfo, PEM PKCS#1 RSA public keys, X.509 certificates (PEM or
DER; the public key is used, no chain is implied), DER SPKI, minisign and signify public key
files (or a bare ``RW…`` key string), and OpenPGP certificates (armored or binary).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from relman.verify.signatures.base import KeyFormatError, TrustedKey

_MINISIGN_ALG = b"Ed"


def spki_fingerprint(key: PublicKeyTypes) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + hashlib.sha256(der).hexdigest()


def key_kind(key: PublicKeyTypes) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        names = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384", "secp521r1": "ecdsa-p521"}
        return names.get(curve, f"ecdsa-{curve}")
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    raise KeyFormatError(f"unsupported public key type {type(key).__name__}")


@functools.lru_cache(maxsize=256)
def load_crypto_key(data: bytes) -> PublicKeyTypes | None:
    """A ``cryptography`` public key from PEM/DER SPKI, PKCS#1 or a certificate, else None.

    Cached: lineage checks thousands of signatures against the same few trusted keys, and
    the loaded keys are immutable.

    Key types relman cannot verify with (DSA, DH, X25519 ...) are returned as well; callers
    reject them by :func:`key_kind`.
    """
    text = data.strip()
    loaders: list[Callable[[], object]] = []
    if b"-----BEGIN CERTIFICATE-----" in text:
        loaders.append(lambda: x509.load_pem_x509_certificate(text).public_key())
    elif b"-----BEGIN" in text:
        loaders.append(lambda: serialization.load_pem_public_key(text))
    else:
        loaders.append(lambda: serialization.load_der_public_key(data))
        loaders.append(lambda: x509.load_der_x509_certificate(data).public_key())
    for loader in loaders:
        try:
            key = loader()
        except (ValueError, TypeError):
            continue
        return key  # type: ignore[return-value]
    return None


def parse_minisign_public(data: bytes) -> tuple[bytes, bytes] | None:
    """``(key_id 8 bytes, Ed25519 public key 32 bytes)`` from a minisign/signify key, else None."""
    lines = [ln.strip() for ln in data.strip().splitlines() if ln.strip()]
    if len(lines) == 2 and lines[0].startswith(b"untrusted comment:"):
        b64 = lines[1]
    elif len(lines) == 1:
        b64 = lines[0]
    else:
        return None
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 42 or raw[:2] != _MINISIGN_ALG:
        return None
    return raw[2:10], raw[10:]


def _material(data: bytes) -> bytes:
    """Text keys tidied to end in one newline; binary keys (DER, OpenPGP) kept byte for byte."""
    try:
        data.decode("ascii")
    except UnicodeDecodeError:
        return data
    if any(b < 0x09 or 0x0D < b < 0x20 for b in data):
        return data
    return data.strip() + b"\n"


def load_public_key(data: bytes, name: str, *, origin: str | None = None) -> TrustedKey:
    """Read any supported public key; raise :class:`KeyFormatError` naming ``origin``."""
    where = origin or name
    if not data.strip():
        raise KeyFormatError(f"{where}: is empty, not a public key")
    if b"PRIVATE KEY" in data:
        raise KeyFormatError(
            f"{where}: holds a private key; give the public key (relman keys export NAME)"
        )
    key = load_crypto_key(data)
    if key is not None:
        return TrustedKey(name, key_kind(key), spki_fingerprint(key), _material(data))
    mini = parse_minisign_public(data)
    if mini is not None:
        number, raw = mini
        pk = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        kind = "signify" if b"signify" in data.lower() else "minisign"
        key_number = number[::-1].hex().upper()  # minisign prints the little-endian u64
        return TrustedKey(name, kind, spki_fingerprint(pk), _material(data), key_id=key_number)
    openpgp = _load_openpgp(data)
    if openpgp is not None:
        fingerprint, pgp_key_id = openpgp
        return TrustedKey(name, "openpgp", fingerprint, _material(data), key_id=pgp_key_id)
    raise KeyFormatError(
        f"{where}: holds no public key relman can read (PEM, certificate, minisign, signify "
        "or OpenPGP expected)"
    )


def _load_openpgp(data: bytes) -> tuple[str, str] | None:
    looks_armored = b"-----BEGIN PGP PUBLIC KEY BLOCK-----" in data
    looks_binary = bool(data) and data[0] & 0x80 != 0
    if not (looks_armored or looks_binary):
        return None
    try:
        from pysequoia import Cert
    except ImportError:  # pragma: no cover - pysequoia is a dependency
        return None
    try:
        cert = Cert.from_bytes(data)
    except Exception:  # pysequoia raises plain exceptions for anything unparsable
        return None
    fingerprint = str(cert.fingerprint).upper()
    return fingerprint, fingerprint[-16:]
