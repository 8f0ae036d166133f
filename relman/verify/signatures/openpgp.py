"""OpenPGP signatures: detached (armored ``.asc``, binary ``.sig``/``.gpg``) and clear-signed.

Verified offline with pysequoia (Sequoia-PGP) against the pinned certificates of the context
(``context.keys_of("openpgp")``): no gpg, no agent, no keyserver. A signature made by a
subkey is attributed to the certificate that binds it; the result names that certificate's
:class:`TrustedKey` and its primary fingerprint, and the fact ``signing_key`` gives the subkey.

Policy (all fail closed):

* **Expiry**: Sequoia's rule, "the key was valid when the signature was made". A signature
  made before the key (or its certificate) expired stays valid after the expiry; the fact
  ``key_expired_at`` and the detail say so. A signature made after the expiry fails. The
  signature's creation time is asserted by the signer: whoever holds an expired (not revoked)
  key can back-date a signature, so revoke keys that leak rather than let them expire.
* **Revocation, subkey bindings, key flags**: as Sequoia's standard policy decides. A subkey
  is only accepted with a valid binding signature by its primary key, so a signing subkey
  injected into a pinned certificate (with the attacker's own binding) is rejected.
* **Hash algorithms**: SHA-1, MD5 and RIPEMD-160 signatures are refused outright ("SHA-1
  signatures are not accepted"), whatever their date.
* **Several signatures in one file**: the check passes when at least one signature verifies
  with a trusted certificate and no signature by a trusted certificate is bad (does not match
  the data, or is damaged). Signatures by keys that are not trusted, SHA-1 signatures and
  signatures by expired, revoked or unbound keys neither make nor break the result; they are
  reported in the fact ``other_signatures``.

The artifact is verified by Sequoia reading it from its path (``verify(file=...)``), which
streams it through a small buffer: memory stays flat whatever the file size. Only when a
signature by a trusted key fails is the data hashed again (to tell "the file was modified"
from "the key was not valid").
"""

from __future__ import annotations

import hashlib
import logging
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pysequoia import ArmorKind, Cert, Sig, armor, verify
from pysequoia.packet import HashAlgorithm, Packet, PacketPile, SignatureType, Tag

from relman.errors import InputError
from relman.verify.signatures.base import (
    WHOLE_FILE,
    Artifact,
    Context,
    KeyFormatError,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)

logger = logging.getLogger(__name__)

NAME = "openpgp"
_ARMOR_SIG = b"-----BEGIN PGP SIGNATURE-----"
_ARMOR_CLEAR = b"-----BEGIN PGP SIGNED MESSAGE-----"
_ARMOR_KEY = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
_NO_VALID_SIG = "no valid signatures"
_CHUNK = 1 << 20

#: Hash algorithms refused whatever the signature's date.
_WEAK_HASHES = (
    (HashAlgorithm.SHA1, "SHA-1"),
    (HashAlgorithm.MD5, "MD5"),
    (HashAlgorithm.RipeMD, "RIPEMD-160"),
)
#: hashlib names, for telling a modified file from an unusable key after a failure.
_HASHLIB = (
    (HashAlgorithm.SHA256, "sha256"),
    (HashAlgorithm.SHA384, "sha384"),
    (HashAlgorithm.SHA512, "sha512"),
    (HashAlgorithm.SHA224, "sha224"),
    (HashAlgorithm.SHA3_256, "sha3_256"),
    (HashAlgorithm.SHA3_512, "sha3_512"),
)
_DOCUMENT_TYPES = (SignatureType.Binary, SignatureType.Text)


# --- trusted certificates -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CertInfo:
    key: TrustedKey
    cert: Cert
    #: subkey fingerprint (lower hex) -> issuers (fingerprints or key ids) of its bindings
    subkeys: dict[str, frozenset[str]]
    #: key fingerprint (lower hex) -> expiry, for primary and subkeys (None: never)
    expiry: dict[str, datetime | None]
    #: subkeys (lower hex fingerprints) with a revocation signature
    revoked_subkeys: frozenset[str] = frozenset()

    @property
    def primary(self) -> str:
        return self.cert.fingerprint.lower()


@dataclass(frozen=True, slots=True)
class _Keyring:
    certs: tuple[_CertInfo, ...]
    #: key fingerprint or 16-hex key id (lower) of every primary and subkey -> its certificate
    index: dict[str, _CertInfo]

    def store(self, _key_ids: Any) -> list[Cert]:
        """pysequoia's key lookup: always every trusted certificate, nothing else."""
        return [info.cert for info in self.certs]

    def find(self, issuer: str | None) -> _CertInfo | None:
        return self.index.get(issuer.lower()) if issuer else None

    def by_primary(self, fingerprint: str) -> _CertInfo | None:
        return next((c for c in self.certs if c.primary == fingerprint.lower()), None)


def _parse_cert(key: TrustedKey) -> Cert:
    for candidate in (key.material,):
        try:
            cert = Cert.from_bytes(candidate)
        except Exception as exc:  # pysequoia raises plain exceptions for anything unparsable
            logger.debug("%s: not a certificate: %s", key.name, _first_line(exc))
            continue
        if cert.fingerprint.upper() != key.fingerprint.upper():
            raise KeyFormatError(
                f"{key.name}: OpenPGP certificate {cert.fingerprint.upper()} does not match "
                f"its pinned fingerprint {key.fingerprint}"
            )
        return cert
    raise KeyFormatError(f"{key.name}: holds no readable OpenPGP certificate")


def _cert_expiration(cert: Cert) -> datetime | None:
    try:
        return cert.expiration
    except Exception:  # no valid self-signature now: Sequoia will refuse the cert anyway
        return None


def _key_expiry(created: datetime | None, validity: Any) -> datetime | None:
    return created + validity if created is not None and validity is not None else None


def _cert_info(key: TrustedKey) -> _CertInfo:
    cert = _parse_cert(key)
    subkeys: dict[str, set[str]] = {}
    expiry: dict[str, datetime | None] = {cert.fingerprint.lower(): _cert_expiration(cert)}
    revoked: set[str] = set()
    current: str | None = None
    created: datetime | None = None
    for packet in PacketPile.from_bytes(bytes(cert)):
        if packet.tag == Tag.PublicSubkey:
            current, created = str(packet.fingerprint).lower(), packet.key_created
            subkeys[current] = set()
            expiry[current] = None
        elif packet.tag == Tag.Signature and current is not None:
            if packet.signature_type == SignatureType.SubkeyRevocation:
                revoked.add(current)
            else:  # a binding: Sequoia's canonical form keeps nothing else after a subkey
                issuers = {i for i in (packet.issuer_fingerprint, packet.issuer_key_id) if i}
                subkeys[current].update(i.lower() for i in issuers)
                expiry[current] = _key_expiry(created, packet.key_validity_period)
        elif packet.tag != Tag.Signature:
            current = None
    bound = {k: frozenset(v) for k, v in subkeys.items()}
    return _CertInfo(key, cert, bound, expiry, frozenset(revoked))


def _keyring(context: Context) -> _Keyring:
    certs = tuple(_cert_info(key) for key in context.keys_of(NAME))
    index: dict[str, _CertInfo] = {}
    for info in certs:
        for fpr in (info.primary, *info.subkeys):
            index.setdefault(fpr, info)
            index.setdefault(fpr[-16:], info)
    return _Keyring(certs, index)


# --- signature packets ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Signature:
    packet: Packet
    sig: Sig

    @property
    def issuer(self) -> str | None:
        found = self.packet.issuer_fingerprint or self.packet.issuer_key_id
        return found.upper() if found else None

    @property
    def text_mode(self) -> bool:
        return bool(self.packet.signature_type == SignatureType.Text)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _parse_signatures(data: bytes, source: str, *, clearsigned: bool = False) -> list[_Signature]:
    if not data.strip():
        raise SignatureFormatError(f"{source}: is empty, not an OpenPGP signature")
    if not clearsigned and _ARMOR_CLEAR in data[:1024]:
        raise SignatureFormatError(
            f"{source}: is a clear-signed message, not a detached signature "
            "(give it as the checksum list: --checksums)"
        )
    try:
        packets = list(PacketPile.from_bytes(data))
    except Exception as exc:  # pysequoia raises plain exceptions for anything unparsable
        raise SignatureFormatError(
            f"{source}: is not a readable OpenPGP signature ({_first_line(exc)})"
        ) from exc
    if not packets:
        raise SignatureFormatError(f"{source}: holds no OpenPGP packet, not a signature")
    signatures = []
    for packet in packets:
        if packet.tag == Tag.PublicKey:
            raise SignatureFormatError(
                f"{source}: holds an OpenPGP public key (certificate), not a signature"
            )
        if packet.tag != Tag.Signature:
            raise SignatureFormatError(
                f"{source}: holds an OpenPGP {packet.tag} packet, not a detached signature"
            )
        if not any(packet.signature_type == t for t in _DOCUMENT_TYPES):
            raise SignatureFormatError(
                f"{source}: holds a {packet.signature_type} signature, not a signature over a file"
            )
        signatures.append(_Signature(packet, Sig.from_bytes(bytes(packet))))
    return signatures


# --- telling a modified file from an unusable key -------------------------------------------


def _canonical_text(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Line endings as CRLF (``\\r\\n``, ``\\n`` and ``\\r`` alike), as text signatures hash."""
    carry_cr = False
    for chunk in chunks:
        if carry_cr:
            chunk = b"\r" + chunk
        carry_cr = chunk.endswith(b"\r")
        if carry_cr:
            chunk = chunk[:-1]
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if carry_cr:
        yield b"\r\n"


def _digest_prefix_matches(sig: _Signature, chunks: Iterable[bytes]) -> bool | None:
    """Whether the signature's stored 2-byte digest prefix matches the data (v4 only).

    None when it cannot be told (another packet version or a hash hashlib lacks)."""
    body = sig.packet.body
    name = next((n for alg, n in _HASHLIB if sig.packet.hash_algorithm == alg), None)
    if name is None or len(body) < 6 or body[0] != 4:
        return None
    hashed_end = 6 + int.from_bytes(body[4:6], "big")
    unhashed_len = int.from_bytes(body[hashed_end : hashed_end + 2], "big")
    left16 = body[hashed_end + 2 + unhashed_len : hashed_end + 4 + unhashed_len]
    digest = hashlib.new(name)
    for chunk in _canonical_text(chunks) if sig.text_mode else chunks:
        digest.update(chunk)
    digest.update(body[:hashed_end] + b"\x04\xff" + struct.pack(">I", hashed_end))
    return digest.digest()[:2] == left16


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _clearsigned_text(message: bytes) -> bytes:
    """The text a clear-signed message signs (for the diagnosis only; Sequoia verifies)."""
    rest = message.partition(_ARMOR_CLEAR)[2]
    body = rest.split(b"\n\n", 1)[-1] if b"\n\n" in rest else rest.split(b"\r\n\r\n", 1)[-1]
    text = body.split(_ARMOR_SIG, 1)[0]
    lines = text.splitlines()
    unescaped = [ln[2:] if ln.startswith(b"- ") else ln for ln in lines]
    return b"\r\n".join(ln.rstrip(b" \t") for ln in unescaped)


# --- one signature, then the verdict --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    good: bool
    reason: str
    info: _CertInfo | None = None
    signing_key: str | None = None
    breaks: bool = False  # a bad signature by a trusted certificate: fails the whole check
    signed_at: datetime | None = None
    facts: dict[str, str] = field(default_factory=dict)


def _fmt_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _now() -> datetime:
    return datetime.now(UTC)


def _good(sig: _Signature, valid: Any, keyring: _Keyring) -> _Outcome:
    info = keyring.by_primary(str(valid.certificate))
    if info is None:  # pragma: no cover - the store only ever hands out trusted certificates
        return _Outcome(False, f"signed by key {valid.certificate}, which is not trusted")
    signing = str(valid.signing_key).lower()
    created = sig.packet.signature_created
    facts: dict[str, str] = {}
    detail = f"good signature by {info.key.label}"
    if signing != info.primary:
        facts["signing_key"] = signing.upper()
        detail += f" (subkey {signing.upper()})"
    expiry = info.expiry.get(signing) or info.expiry.get(info.primary)
    if expiry is not None and expiry <= _now():
        facts["key_expired_at"] = _fmt_time(expiry)
        detail += f"; the key expired on {_fmt_time(expiry)}, after the signature was made"
    if created is not None:  # pragma: no branch - Sequoia refuses signatures without one
        facts["signed_at"] = _fmt_time(created)
    return _Outcome(True, detail, info, signing.upper(), signed_at=created, facts=facts)


def _diagnose(
    sig: _Signature, info: _CertInfo, data: Callable[[], Iterable[bytes]] | None
) -> _Outcome:
    """Why a signature that names a trusted certificate's key did not verify."""
    issuer = sig.issuer or ""
    label = info.key.label
    created = sig.packet.signature_created
    if data is not None and _digest_prefix_matches(sig, data()) is False:
        return _Outcome(
            False,
            "bad signature: the file was modified or the signature is for another file "
            f"(signature by {label})",
            info,
            breaks=True,
        )
    binders = info.subkeys.get(issuer.lower()) or info.subkeys.get(
        next((s for s in info.subkeys if s.endswith(issuer.lower())), ""), frozenset()
    )
    if issuer.lower() not in (info.primary, info.primary[-16:]) and not (
        binders & {info.primary, info.primary[-16:]}
    ):
        return _Outcome(
            False,
            f"signing key {issuer} is not bound to certificate {label}: its binding signature "
            "was not made by the certificate's primary key (an injected subkey)",
            info,
        )
    if info.cert.is_revoked:
        return _Outcome(False, f"certificate {label} is revoked", info)
    if any(s.endswith(issuer.lower()) for s in info.revoked_subkeys):
        return _Outcome(False, f"signing key {issuer} of {label} is revoked", info)
    expiry = next((e for k, e in info.expiry.items() if k.endswith(issuer.lower())), None)
    expiry = expiry or info.expiry[info.primary]
    if expiry is not None and created is not None and expiry <= created:
        return _Outcome(
            False,
            f"key {issuer} of {label} had expired ({_fmt_time(expiry)}) when the signature was "
            f"made ({_fmt_time(created)})",
            info,
        )
    return _Outcome(
        False,
        f"signature by {label} does not verify: it is damaged, or the key was not valid for "
        "signing when it was made",
        info,
        breaks=True,
    )


def _check(
    sig: _Signature,
    keyring: _Keyring,
    run: Callable[[_Signature], Any],
    data: Callable[[], Iterable[bytes]] | None,
) -> tuple[_Outcome, Any]:
    issuer = sig.issuer or "(no issuer recorded)"
    weak = next((n for alg, n in _WEAK_HASHES if sig.packet.hash_algorithm == alg), None)
    if weak is not None:
        return _Outcome(False, f"{weak} signatures are not accepted (signed by key {issuer})"), None
    info = keyring.find(sig.issuer)
    if info is None and keyring.certs and sig.issuer is not None:
        return _Outcome(False, f"signed by key {issuer}, which is not trusted"), None
    if not keyring.certs:
        return _Outcome(
            False, f"signed by key {issuer}, which is not trusted (no OpenPGP certificate given)"
        ), None
    try:
        result = run(sig)
    except Exception as exc:  # pysequoia raises plain RuntimeErrors
        if _NO_VALID_SIG not in str(exc):
            raise InputError(f"cannot verify the OpenPGP signature: {_first_line(exc)}") from exc
        if info is None:  # no issuer recorded: Sequoia tried every trusted certificate
            return _Outcome(False, "the signature names no key and no trusted key made it"), None
        return _diagnose(sig, info, data), None
    valid = result.valid_sigs
    return _good(sig, valid[0], keyring), result


def _verdict(source: str, outcomes: list[_Outcome]) -> SignatureResult:
    goods = [o for o in outcomes if o.good]
    breaking = [o for o in outcomes if o.breaks]
    total = len(outcomes)

    def others(exclude: _Outcome) -> dict[str, str]:
        rest = [o.reason for o in outcomes if o is not exclude]
        return {"signatures": str(total), "other_signatures": "; ".join(rest)}

    if goods and not breaking:
        best = goods[0]
        assert best.info is not None
        facts = {**best.facts, **others(best)} if total > 1 else dict(best.facts)
        return SignatureResult(
            True,
            NAME,
            source,
            best.reason,
            signer=best.info.key.label,
            fingerprint=best.info.key.fingerprint,
            facts=MappingProxyType(facts),
        )
    worst = breaking[0] if breaking else next((o for o in outcomes if o.info), outcomes[0])
    detail = worst.reason
    if goods:
        detail += "; another signature verified, but a bad signature by a trusted key fails"
    elif total > 1:
        detail = f"none of the {total} signatures verifies: " + "; ".join(
            o.reason for o in outcomes
        )
    return SignatureResult(
        False,
        NAME,
        source,
        detail,
        signer=worst.info.key.label if worst.info else None,
        fingerprint=worst.info.key.fingerprint if worst.info else None,
        facts=MappingProxyType(others(worst) if total > 1 else {}),
    )


def _verify_all(
    source: str,
    signatures: list[_Signature],
    keyring: _Keyring,
    run: Callable[[_Signature], Any],
    data: Callable[[], Iterable[bytes]] | None,
) -> tuple[SignatureResult, Any]:
    outcomes = []
    verified = None
    for sig in signatures:
        outcome, result = _check(sig, keyring, run, data)
        outcomes.append(outcome)
        if outcome.good and verified is None:
            verified = result
    verdict = _verdict(source, outcomes)
    return verdict, verified if verdict.ok else None


# --- the Format and the two in-memory entry points ------------------------------------------


#: Above this size the OpenPGP check runs in a child process: pysequoia holds the GIL for the
#: whole ``verify`` call (2-3 s for 1 GiB), which would freeze every other thread, the GUI's
#: event loop included.
OFFLOAD_BYTES = 32 * 1024 * 1024


class _Pending:
    """A parsed detached signature waiting for the artifact (needs the whole file)."""

    def __init__(
        self,
        source: str,
        signatures: list[_Signature],
        keyring: _Keyring,
        data: bytes,
        context: Context,
    ) -> None:
        self.needs: frozenset[str] = frozenset({WHOLE_FILE})
        self._source = source
        self._signatures = signatures
        self._keyring = keyring
        self._data = data
        self._context = context

    def finish(self, artifact: Artifact) -> SignatureResult:
        if artifact.size > OFFLOAD_BYTES:
            return _finish_in_child(self._data, self._source, self._context, artifact)
        return self.finish_here(artifact)

    def finish_here(self, artifact: Artifact) -> SignatureResult:
        path = artifact.path

        def run(sig: _Signature) -> Any:
            return verify(file=path, store=self._keyring.store, signature=sig.sig)

        result, _ = _verify_all(
            self._source, self._signatures, self._keyring, run, lambda: _file_chunks(path)
        )
        return result


def _binary_signature_packet(data: bytes) -> bool:
    """A signature packet (tag 2) header, old or new format, with a plausible body start."""
    if len(data) < 8:
        return False
    ctb = data[0]
    if ctb & 0xC0 == 0xC0:  # new format
        if ctb & 0x3F != 2:
            return False
        first = data[1]
        offset = 2 if first < 192 else 3 if first < 224 else 6 if first == 255 else 2
    elif ctb & 0x80:  # old format
        if (ctb >> 2) & 0x0F != 2:
            return False
        offset = {0: 2, 1: 3, 2: 5, 3: 1}[ctb & 0x03]
    else:
        return False
    body = data[offset : offset + 3]
    if len(body) < 3:
        return False
    if body[0] in (4, 5, 6):
        return body[1] in (0, 1)
    return body[0] == 3 and body[1] == 5 and body[2] in (0, 1)


class OpenPGPFormat:
    """OpenPGP detached signatures (``.asc``, ``.sig``, ``.gpg``)."""

    name = NAME

    def sniff(self, data: bytes, filename: str) -> bool:
        head = data[:1024].lstrip()
        if head.startswith((_ARMOR_SIG, _ARMOR_CLEAR)):
            return True
        return _binary_signature_packet(data)

    def prepare(self, data: bytes, source: str, context: Context) -> _Pending:
        signatures = _parse_signatures(data, source)
        return _Pending(source, signatures, _keyring(context), data, context)


def _finish_in_child(
    data: bytes, source: str, context: Context, artifact: Artifact
) -> SignatureResult:
    """Run the check in a spawned child so this process's threads keep running."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    plain_artifact = (str(artifact.path), artifact.size)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        fields = pool.submit(_child_finish, data, source, context.keys, plain_artifact).result()
    return SignatureResult(**fields)


def _child_finish(
    data: bytes, source: str, keys: tuple[TrustedKey, ...], artifact: tuple[str, int]
) -> dict[str, Any]:
    pending = FORMAT.prepare(data, source, Context(keys=keys))
    result = pending.finish_here(Artifact(Path(artifact[0]), artifact[1], {}))
    return {
        "ok": result.ok,
        "format": result.format,
        "source": result.source,
        "detail": result.detail,
        "kind": result.kind,
        "signer": result.signer,
        "fingerprint": result.fingerprint,
        "facts": dict(result.facts),
    }


FORMAT = OpenPGPFormat()


def verify_detached_bytes(
    data: bytes, signature: bytes, source: str, context: Context
) -> SignatureResult:
    """Verify a detached signature (``signature``, read from ``source``) over ``data``.

    For small files already in memory, such as a ``SHA256SUMS`` signed by ``SHA256SUMS.gpg``.
    Raises :class:`SignatureFormatError` when ``signature`` cannot be parsed."""
    signatures = _parse_signatures(signature, source)
    keyring = _keyring(context)

    def run(sig: _Signature) -> Any:
        return verify(bytes=data, store=keyring.store, signature=sig.sig)

    result, _ = _verify_all(source, signatures, keyring, run, lambda: (data,))
    return result


def verify_clearsigned(
    data: bytes, source: str, context: Context
) -> tuple[SignatureResult, bytes | None]:
    """Verify a clear-signed message; return the result and, when valid, the signed text.

    The text is what Sequoia verified, never the file's text re-read. The signed text of a
    clear-signed message ends without the line break that precedes the signature block; it
    is given back with that one ``\\n`` (always) so that a signed ``SHA256SUMS`` comes back
    byte for byte. Raises :class:`SignatureFormatError` when ``data`` is not a clear-signed
    message."""
    if not data.lstrip().startswith(_ARMOR_CLEAR):
        raise SignatureFormatError(
            f"{source}: is not a clear-signed OpenPGP message (no '{_ARMOR_CLEAR.decode()}' line)"
        )
    cut = data.rfind(_ARMOR_SIG)
    if cut < 0:
        raise SignatureFormatError(f"{source}: clear-signed message without a signature block")
    signatures = _parse_signatures(data, source, clearsigned=True)
    keyring = _keyring(context)
    cleartext = data[:cut]

    def run(sig: _Signature) -> Any:
        # One signature at a time: the message rebuilt with just that signature block.
        message = cleartext + armor(bytes(sig.packet), ArmorKind.Signature).encode()
        return verify(bytes=message, store=keyring.store)

    result, verified = _verify_all(
        source, signatures, keyring, run, lambda: (_clearsigned_text(data),)
    )
    if verified is None:
        return result, None
    text: bytes = verified.bytes or b""
    return result, text + b"\n"
