"""OpenSSL detached signatures: RSA (PKCS#1 v1.5, PSS), ECDSA P-256/P-384 and Ed25519.

What ``openssl dgst -sign`` and ``openssl pkeyutl -sign -rawin`` write: the bare signature,
binary or base64 (``openssl base64``, wrapped or ``-A``). Nothing in it names the algorithm
or the key, so every trusted key of a fitting type is tried:

- **RSA**: the signature is as long as the modulus. PKCS#1 v1.5 records its hash in the
  DigestInfo, which the public key recovers: SHA-256, SHA-384 or SHA-512 are then verified over
  that digest. A signature whose DigestInfo cannot be recovered is taken as RSA-PSS with
  SHA-256 and MGF1-SHA-256, any salt length (OpenSSL signs with the maximum salt by default).
  PSS with another hash is not recognised (OpenSSL's ``-sha256`` is what pipelines use).
- **ECDSA**: P-256 over SHA-256, P-384 over SHA-384 (the hash follows the curve, as OpenSSL
  and cosign use them). DER ``SEQUENCE{r, s}`` as OpenSSL writes it; a raw ``r‖s`` of twice
  the curve size (HSMs, PKCS#11, JOSE) is accepted too.
- **Ed25519**: pure RFC 8032 over the whole file, read through ``mmap`` in ``finish``.

RSA and ECDSA are verified with ``Prehashed`` over the digests from the one read pass.

The helpers :func:`crypto_key`, :func:`whole_file` and :func:`decode_base64_or_binary` are
shared with the cosign and minisign/signify modules.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import mmap
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from relman.verify.signatures.base import (
    WHOLE_FILE,
    Artifact,
    Context,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)
from relman.verify.signatures.keys import load_crypto_key

NAME = "openssl"
KINDS = ("rsa", "ecdsa-p256", "ecdsa-p384", "ed25519")

#: DER DigestInfo prefixes of PKCS#1 v1.5 (RFC 8017 §9.2 note 1) -> our digest name.
_DIGEST_INFO: dict[bytes, str] = {
    bytes.fromhex("3031300d060960864801650304020105000420"): "sha256",
    bytes.fromhex("3041300d060960864801650304020205000430"): "sha384",
    bytes.fromhex("3051300d060960864801650304020305000440"): "sha512",
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
#: Curve kind -> (hash, byte length of r and of s).
_CURVES: dict[str, tuple[str, int]] = {"ecdsa-p256": ("sha256", 32), "ecdsa-p384": ("sha384", 48)}
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]+")
_SIG_SUFFIXES = (".sig", ".sign", ".signature", ".sig.b64", ".sig.base64", ".b64", ".base64")
_MIN_RSA, _MAX_RSA = 128, 2048  # 1024- to 16384-bit moduli, in bytes

#: The bytes of a whole file as pure Ed25519 verifies them.
Message = bytes | memoryview

MISMATCH = "signature does not match (wrong key or the file was modified)"


# -- shared helpers ----------------------------------------------------------------------------


def crypto_key(key: TrustedKey) -> PublicKeyTypes | None:
    """The ``cryptography`` public key of a trusted key (None when its material is not one)."""
    return load_crypto_key(key.material)


@contextmanager
def whole_file(artifact: Artifact) -> Iterator[Message]:
    """The artifact's bytes through ``mmap`` (an empty file, which cannot be mapped, as b"")."""
    with open(artifact.path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            yield b""
            return
        with (
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
            memoryview(mapped) as view,
        ):
            yield view


def decode_base64_or_binary(data: bytes) -> bytes:
    """Strict base64 when ``data`` is only base64 alphabet and whitespace, else ``data``."""
    if _BASE64_TEXT.fullmatch(data):
        compact = b"".join(data.split())
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            return data
    return data


def digest_of(artifact: Artifact, name: str) -> bytes | None:
    return artifact.digests.get(name)


def failure(source: str, detail: str, fmt: str = NAME) -> SignatureResult:
    return SignatureResult(ok=False, format=fmt, source=source, detail=detail)


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


# -- signature shapes ----------------------------------------------------------------------------


def der_ecdsa(sig: bytes) -> bool:
    """True when ``sig`` is exactly one canonical DER ECDSA ``SEQUENCE{r, s}``."""
    try:
        r, s = utils.decode_dss_signature(sig)
    except ValueError:
        return False
    # Re-encoding proves the whole input was one canonical SEQUENCE, nothing left over.
    return r > 0 and s > 0 and utils.encode_dss_signature(r, s) == sig


def _ecdsa_forms(sig: bytes, coord: int) -> list[bytes]:
    """DER encodings to try for ``sig``: itself when DER, and the raw ``r‖s`` reading."""
    forms = [sig] if der_ecdsa(sig) else []
    if len(sig) == 2 * coord:
        r = int.from_bytes(sig[:coord], "big")
        s = int.from_bytes(sig[coord:], "big")
        if r and s:
            forms.append(utils.encode_dss_signature(r, s))
    return forms


def _plausible(sig: bytes) -> bool:
    return (
        len(sig) in (64, 96)
        or der_ecdsa(sig)
        or (_MIN_RSA <= len(sig) <= _MAX_RSA and len(sig) % 32 == 0)
    )


def _rsa_digest(pub: rsa.RSAPublicKey, sig: bytes) -> str | None:
    """The hash named by a PKCS#1 v1.5 DigestInfo, or None (PSS, or another key)."""
    try:
        info = pub.recover_data_from_signature(sig, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        return None
    for prefix, name in _DIGEST_INFO.items():
        if info.startswith(prefix) and len(info) == len(prefix) + hashes_len(name):
            return name
    return None


def hashes_len(name: str) -> int:
    return _HASHES[name]().digest_size


# -- the format ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One way to verify: a key, the scheme, and what it checks against."""

    key: TrustedKey
    pub: PublicKeyTypes
    scheme: str  # rsa-pkcs1v15 | rsa-pss | ecdsa | ed25519
    digest: str | None  # sha256 ... ; None for Ed25519 (whole file)
    signature: bytes


def _attempts(sig: bytes, keys: tuple[TrustedKey, ...]) -> list[_Attempt]:
    out: list[_Attempt] = []
    for key in keys:
        pub = crypto_key(key)
        if isinstance(pub, rsa.RSAPublicKey):
            if len(sig) != (pub.key_size + 7) // 8:
                continue
            named = _rsa_digest(pub, sig)
            if named is not None:
                out.append(_Attempt(key, pub, "rsa-pkcs1v15", named, sig))
            else:
                out.append(_Attempt(key, pub, "rsa-pss", "sha256", sig))
        elif isinstance(pub, ec.EllipticCurvePublicKey) and key.kind in _CURVES:
            digest, coord = _CURVES[key.kind]
            out.extend(_Attempt(key, pub, "ecdsa", digest, f) for f in _ecdsa_forms(sig, coord))
        elif isinstance(pub, ed25519.Ed25519PublicKey) and len(sig) == 64:
            out.append(_Attempt(key, pub, "ed25519", None, sig))
    return out


def _check(attempt: _Attempt, artifact: Artifact, message: Message | None) -> bool:
    pub = attempt.pub
    try:
        if isinstance(pub, ed25519.Ed25519PublicKey):
            assert message is not None
            pub.verify(attempt.signature, message)
            return True
        assert attempt.digest is not None
        digest = digest_of(artifact, attempt.digest)
        if digest is None:
            return False
        prehashed = utils.Prehashed(_HASHES[attempt.digest]())
        if isinstance(pub, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding
            if attempt.scheme == "rsa-pkcs1v15":
                pad = padding.PKCS1v15()
            else:
                pad = padding.PSS(
                    mgf=padding.MGF1(_HASHES[attempt.digest]()), salt_length=padding.PSS.AUTO
                )
            pub.verify(attempt.signature, digest, pad, prehashed)
            return True
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        pub.verify(attempt.signature, digest, ec.ECDSA(prehashed))
        return True
    except InvalidSignature:
        return False


def _algorithm(attempt: _Attempt) -> str:
    if attempt.scheme == "ed25519":
        return "Ed25519"
    digest = (attempt.digest or "").upper().replace("SHA", "SHA-")
    if attempt.scheme == "ecdsa":
        curve = "P-256" if attempt.key.kind == "ecdsa-p256" else "P-384"
        return f"ECDSA {curve} {digest}"
    pad = "PKCS#1 v1.5" if attempt.scheme == "rsa-pkcs1v15" else "PSS"
    return f"RSA {pad} {digest}"


@dataclass(frozen=True, slots=True)
class OpenSSLPending:
    source: str
    attempts: tuple[_Attempt, ...]
    reason: str | None  # why nothing can be tried, when attempts is empty
    needs: frozenset[str]

    def finish(self, artifact: Artifact) -> SignatureResult:
        if not self.attempts:
            return failure(self.source, self.reason or MISMATCH)
        if WHOLE_FILE in self.needs:
            with whole_file(artifact) as message:
                return self._finish(artifact, message)
        return self._finish(artifact, None)

    def _finish(self, artifact: Artifact, message: Message | None) -> SignatureResult:
        for attempt in self.attempts:
            if _check(attempt, artifact, message):
                algorithm = _algorithm(attempt)
                return SignatureResult(
                    ok=True,
                    format=NAME,
                    source=self.source,
                    detail=f"{algorithm} signature by {attempt.key.label}",
                    signer=attempt.key.label,
                    fingerprint=attempt.key.fingerprint,
                    facts={"algorithm": algorithm},
                )
        tried = len({a.key.fingerprint for a in self.attempts})
        keys = "1 trusted key" if tried == 1 else f"{tried} trusted keys"
        return failure(self.source, f"{MISMATCH}; tried {keys}")


def parse_signature(data: bytes, source: str) -> bytes:
    """The raw signature bytes of an OpenSSL signature file, or SignatureFormatError."""
    if not data.strip():
        raise SignatureFormatError(
            f"{source}: is empty, not a signature (a failed signing run leaves a 0-byte file)"
        )
    sig = decode_base64_or_binary(data)
    if not _plausible(sig):
        raise SignatureFormatError(
            f"{source}: {len(sig)} bytes is not an RSA, ECDSA or Ed25519 signature "
            "(truncated or not a signature)"
        )
    return sig


class OpenSSLFormat:
    name = NAME

    def sniff(self, data: bytes, filename: str) -> bool:
        if not filename.lower().endswith(_SIG_SUFFIXES) or not data.strip():
            return False
        head = data.lstrip()[:20]
        if head.startswith((b"untrusted comment:", b"-----BEGIN", b"{")):
            return False
        return _plausible(decode_base64_or_binary(data))

    def prepare(self, data: bytes, source: str, context: Context) -> OpenSSLPending:
        sig = parse_signature(data, source)
        keys = context.keys_of(*KINDS)
        attempts = tuple(_attempts(sig, keys))
        reason = None
        if not keys:
            reason = "no trusted key of this type (an RSA, ECDSA P-256/P-384 or Ed25519 key)"
        elif not attempts:
            kinds = ", ".join(sorted({k.kind for k in keys}))
            reason = (
                f"no trusted key of this type: no trusted key ({kinds}) fits a "
                f"{len(sig)}-byte signature"
            )
        needs = {a.digest if a.digest else WHOLE_FILE for a in attempts}
        return OpenSSLPending(source, attempts, reason, frozenset(needs))


FORMAT = OpenSSLFormat()
