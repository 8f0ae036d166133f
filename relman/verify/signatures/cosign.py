"""cosign key-based signatures: ``cosign sign-blob --key`` and key-based Sigstore bundles.

``FORMAT`` (``cosign``): the ``.sig`` that ``cosign sign-blob --key cosign.key`` writes: base64
of a DER ECDSA signature over the SHA-256 of the file (P-256; a P-384 key signs SHA-384), checked
with ``Prehashed`` over the digest from the one read pass against the trusted ECDSA keys.

``BUNDLE_FORMAT`` (``cosign-bundle``): a Sigstore bundle whose ``verificationMaterial`` holds a
``publicKey`` (``cosign sign-blob --key … --bundle``; keyless bundles with a certificate belong
to the ``sigstore`` format). Checked, in order:

1. ``messageSignature.messageDigest`` equals the file's digest;
2. the signature verifies with a trusted key (the key named by ``publicKey.hint``, the SHA-256
   of its DER SubjectPublicKeyInfo, is tried first; the hint itself is never trusted);
3. every transparency-log entry, when ``Context.trusted_root`` names a ``trusted_root.json``:
   the log key is taken from the trusted root by ``logId.keyId`` (valid at ``integratedTime``);
   the RFC 9162 inclusion proof of the leaf ``SHA-256(0x00 ‖ canonicalizedBody)`` gives the
   proof's root; the checkpoint (a signed note) is signed by that log key and names the same
   tree size and root; the signed entry timestamp (SET), when present, is the log key's
   signature over the RFC 8785 JSON of ``body``/``integratedTime``/``logID``/``logIndex``; and
   the log body (``hashedrekord`` 0.0.1) records this file's digest, this signature and the
   key that verified it. Any failure fails the bundle, and so does a bundle without log
   entries. Without a trusted root the log entries are not checked, which the result says in
   its ``tlog`` fact.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from relman.verify.signatures.base import (
    Artifact,
    Context,
    KeyFormatError,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)
from relman.verify.signatures.keys import load_crypto_key, spki_fingerprint
from relman.verify.signatures.openssl import MISMATCH, crypto_key, der_ecdsa, failure, same

NAME = "cosign"
BUNDLE_NAME = "cosign-bundle"
_KINDS = ("ecdsa-p256", "ecdsa-p384")
_CURVE_DIGEST = {"ecdsa-p256": "sha256", "ecdsa-p384": "sha384"}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_BUNDLE_DIGESTS = {"SHA2_256": "sha256", "SHA2_384": "sha384", "SHA2_512": "sha512"}
_NO_KEY = "no trusted key of this type (an ECDSA P-256 or P-384 key, as cosign makes)"


# -- shared by both forms ------------------------------------------------------------------


def _b64(value: object, what: str, source: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise SignatureFormatError(f"{source}: {what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureFormatError(f"{source}: {what} is not valid base64") from None


def _der_signature(sig: bytes, source: str) -> bytes:
    if not der_ecdsa(sig):
        raise SignatureFormatError(
            f"{source}: is not a DER ECDSA signature (truncated or not a cosign signature)"
        )
    return sig


def _verify_ecdsa(pub: PublicKeyTypes | None, sig: bytes, digest: bytes, algorithm: str) -> bool:
    if not isinstance(pub, ec.EllipticCurvePublicKey):
        return False
    try:
        pub.verify(sig, digest, ec.ECDSA(utils.Prehashed(_HASHES[algorithm]())))
    except InvalidSignature:
        return False
    return True


def _ok(fmt: str, source: str, key: TrustedKey, facts: Mapping[str, str]) -> SignatureResult:
    return SignatureResult(
        ok=True,
        format=fmt,
        source=source,
        detail=f"cosign signature by {key.label}",
        signer=key.label,
        fingerprint=key.fingerprint,
        facts=dict(facts),
    )


def _tried(keys: tuple[TrustedKey, ...]) -> str:
    return "1 trusted key" if len(keys) == 1 else f"{len(keys)} trusted keys"


# -- cosign sign-blob --key ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CosignPending:
    source: str
    signature: bytes
    keys: tuple[TrustedKey, ...]
    needs: frozenset[str]

    def finish(self, artifact: Artifact) -> SignatureResult:
        if not self.keys:
            return failure(self.source, _NO_KEY, NAME)
        for key in self.keys:
            algorithm = _CURVE_DIGEST[key.kind]
            digest = artifact.digests.get(algorithm)
            if digest is not None and _verify_ecdsa(
                crypto_key(key), self.signature, digest, algorithm
            ):
                return _ok(NAME, self.source, key, {"algorithm": f"ECDSA {algorithm}"})
        return failure(self.source, f"{MISMATCH}; tried {_tried(self.keys)}", NAME)


class CosignFormat:
    name = NAME

    def sniff(self, data: bytes, filename: str) -> bool:
        text = data.strip()
        if not text or len(text) > 200 or b"\n" in text:
            return False
        try:
            _der_signature(base64.b64decode(text, validate=True), filename)
        except (binascii.Error, ValueError, SignatureFormatError):
            return False
        return True

    def prepare(self, data: bytes, source: str, context: Context) -> CosignPending:
        text = data.strip()
        if not text:
            raise SignatureFormatError(f"{source}: is empty, not a cosign signature")
        sig = _der_signature(_b64(text.decode("ascii", "replace"), "the signature", source), source)
        keys = context.keys_of(*_KINDS)
        return CosignPending(source, sig, keys, frozenset(_CURVE_DIGEST[k.kind] for k in keys))


# -- key-based Sigstore bundles ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    body: bytes  # the signed text: up to and including the newline before the blank line
    origin: str
    tree_size: int
    root_hash: bytes
    signatures: tuple[tuple[str, bytes, bytes], ...]  # (name, key hint 4 bytes, signature)


@dataclass(frozen=True, slots=True)
class _Proof:
    log_index: int  # tree-local
    tree_size: int
    root_hash: bytes
    hashes: tuple[bytes, ...]
    checkpoint: _Checkpoint


@dataclass(frozen=True, slots=True)
class _TlogEntry:
    log_index: int  # global
    key_id: bytes
    kind: str
    version: str
    integrated_time: int
    body_b64: str
    body: bytes
    set_signature: bytes | None
    proof: _Proof | None


def _int(value: object, what: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SignatureFormatError(f"{source}: {what} is missing or not a number")
    try:
        number = int(value)
    except ValueError:
        raise SignatureFormatError(f"{source}: {what} is not a number") from None
    if number < 0:
        raise SignatureFormatError(f"{source}: {what} is negative")
    return number


def _obj(value: object, what: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SignatureFormatError(f"{source}: {what} is missing or not an object")
    return value


def _parse_checkpoint(envelope: object, source: str) -> _Checkpoint:
    if not isinstance(envelope, str) or "\n\n" not in envelope:
        raise SignatureFormatError(f"{source}: the checkpoint is not a signed note")
    text, _, sigs = envelope.partition("\n\n")
    lines = text.split("\n")
    if len(lines) < 3:
        raise SignatureFormatError(f"{source}: the checkpoint has no origin, size and root")
    signatures = []
    for line in sigs.split("\n"):
        if not line:
            continue
        if not line.startswith("— "):
            raise SignatureFormatError(f"{source}: the checkpoint has a malformed signature line")
        name, _, blob = line[2:].rpartition(" ")
        raw = _b64(blob, "a checkpoint signature", source)
        if len(raw) < 5:
            raise SignatureFormatError(f"{source}: a checkpoint signature is too short")
        signatures.append((name, raw[:4], raw[4:]))
    return _Checkpoint(
        body=(text + "\n").encode("utf-8"),
        origin=lines[0],
        tree_size=_int(lines[1], "the checkpoint tree size", source),
        root_hash=_b64(lines[2], "the checkpoint root hash", source),
        signatures=tuple(signatures),
    )


def _parse_entry(raw: object, source: str) -> _TlogEntry:
    entry = _obj(raw, "a tlog entry", source)
    kind_version = _obj(entry.get("kindVersion"), "the tlog entry kindVersion", source)
    body_b64 = entry.get("canonicalizedBody")
    body = _b64(body_b64, "the tlog entry canonicalizedBody", source)
    assert isinstance(body_b64, str)
    promise = entry.get("inclusionPromise")
    set_signature = None
    if promise is not None:
        set_signature = _b64(
            _obj(promise, "the inclusion promise", source).get("signedEntryTimestamp"),
            "the signed entry timestamp",
            source,
        )
    proof = None
    if entry.get("inclusionProof") is not None:
        p = _obj(entry.get("inclusionProof"), "the inclusion proof", source)
        hashes_ = p.get("hashes", [])
        if not isinstance(hashes_, list):
            raise SignatureFormatError(f"{source}: the inclusion proof hashes are not a list")
        proof = _Proof(
            log_index=_int(p.get("logIndex"), "the inclusion proof logIndex", source),
            tree_size=_int(p.get("treeSize"), "the inclusion proof treeSize", source),
            root_hash=_b64(p.get("rootHash"), "the inclusion proof rootHash", source),
            hashes=tuple(_b64(h, "an inclusion proof hash", source) for h in hashes_),
            checkpoint=_parse_checkpoint(
                _obj(p.get("checkpoint"), "the checkpoint", source).get("envelope"), source
            ),
        )
    return _TlogEntry(
        log_index=_int(entry.get("logIndex"), "the tlog entry logIndex", source),
        key_id=_b64(
            _obj(entry.get("logId"), "the tlog entry logId", source).get("keyId"),
            "the tlog entry keyId",
            source,
        ),
        kind=str(kind_version.get("kind", "")),
        version=str(kind_version.get("version", "")),
        integrated_time=_int(entry.get("integratedTime", 0), "integratedTime", source),
        body_b64=body_b64,
        body=body,
        set_signature=set_signature,
        proof=proof,
    )


def _is_key_bundle(doc: object) -> bool:
    if not isinstance(doc, dict):
        return False
    media = doc.get("mediaType")
    material = doc.get("verificationMaterial")
    return (
        isinstance(media, str)
        and media.startswith("application/vnd.dev.sigstore.bundle")
        and isinstance(material, dict)
        and "publicKey" in material
        and "messageSignature" in doc
    )


# -- RFC 9162 and the log checks -----------------------------------------------------------


def _leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def inclusion_root(index: int, size: int, leaf: bytes, path: tuple[bytes, ...]) -> bytes | None:
    """The root that an RFC 9162 §2.1.3.2 inclusion proof gives, or None when it is malformed."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


@dataclass(frozen=True, slots=True)
class _LogKey:
    key: PublicKeyTypes
    start: int | None
    end: int | None


def _rfc3339(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def load_trusted_root(path: Path) -> dict[bytes, _LogKey]:
    """Transparency-log keys by key id from a Sigstore ``trusted_root.json``."""
    where = str(path)
    try:
        doc = json.loads(path.read_bytes())
        logs: dict[bytes, _LogKey] = {}
        for tlog in doc.get("tlogs", []):
            key_id = base64.b64decode(tlog["logId"]["keyId"], validate=True)
            public = tlog["publicKey"]
            key = serialization.load_der_public_key(
                base64.b64decode(public["rawBytes"], validate=True)
            )
            valid = public.get("validFor", {})
            logs[key_id] = _LogKey(key, _rfc3339(valid.get("start")), _rfc3339(valid.get("end")))
    except OSError as exc:
        raise KeyFormatError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise KeyFormatError(f"{where}: is not a Sigstore trusted_root.json") from None
    if not logs:
        raise KeyFormatError(f"{where}: holds no transparency log keys")
    return logs


def _log_signature_ok(key: PublicKeyTypes, sig: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, message)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _canonical_set_payload(entry: _TlogEntry) -> bytes:
    # RFC 8785 for this object: keys sorted, no whitespace; every value is an ASCII string or
    # an integer, for which json.dumps gives exactly the canonical form.
    payload = {
        "body": entry.body_b64,
        "integratedTime": entry.integrated_time,
        "logID": entry.key_id.hex(),
        "logIndex": entry.log_index,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")


def _body_consistent(
    entry: _TlogEntry, digest: bytes, signature: bytes, signer: PublicKeyTypes
) -> str | None:
    """Why the log body does not describe this signature, or None when it does."""
    if (entry.kind, entry.version) != ("hashedrekord", "0.0.1"):
        return f"log entry kind {entry.kind} {entry.version} is not supported"
    try:
        body = json.loads(entry.body)
        if body.get("kind") != "hashedrekord":
            return "the log body is not a hashedrekord entry"
        spec = body["spec"]
        recorded = spec["data"]["hash"]
        recorded_sig = base64.b64decode(spec["signature"]["content"], validate=True)
        recorded_key = load_crypto_key(
            base64.b64decode(spec["signature"]["publicKey"]["content"], validate=True)
        )
        value = bytes.fromhex(recorded["value"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return "the log body is not a readable hashedrekord entry"
    if recorded.get("algorithm") != "sha256" or not same(value, digest):
        return "the log body records another file digest"
    if not same(recorded_sig, signature):
        return "the log body records another signature"
    if recorded_key is None or spki_fingerprint(recorded_key) != spki_fingerprint(signer):
        return "the log body records another key"
    return None


def _check_entry(
    entry: _TlogEntry,
    logs: Mapping[bytes, _LogKey],
    digest: bytes,
    signature: bytes,
    signer: PublicKeyTypes,
) -> str | None:
    """Why the log entry does not verify, or None when it does."""
    log = logs.get(entry.key_id)
    if log is None:
        return f"log key {entry.key_id.hex()[:16]} is not in the trusted root"
    when = entry.integrated_time
    if (log.start is not None and when < log.start) or (log.end is not None and when > log.end):
        return "the log key was not valid at the entry's integrated time"
    if entry.proof is None and entry.set_signature is None:
        return "the log entry has neither an inclusion proof nor a signed entry timestamp"
    if entry.proof is not None:
        proof = entry.proof
        root = inclusion_root(
            proof.log_index, proof.tree_size, _leaf_hash(entry.body), proof.hashes
        )
        if root is None or not same(root, proof.root_hash):
            return "the inclusion proof does not lead to the recorded root hash"
        note = proof.checkpoint
        if note.tree_size != proof.tree_size or not same(note.root_hash, proof.root_hash):
            return "the checkpoint names another tree size or root than the inclusion proof"
        if not any(
            hint == entry.key_id[:4] and _log_signature_ok(log.key, sig, note.body)
            for _name, hint, sig in note.signatures
        ):
            return "the checkpoint is not signed by the log key"
    if entry.set_signature is not None and not _log_signature_ok(
        log.key, entry.set_signature, _canonical_set_payload(entry)
    ):
        return "the signed entry timestamp does not verify"
    return _body_consistent(entry, digest, signature, signer)


def _describe(entry: _TlogEntry) -> str:
    parts = []
    if entry.proof is not None:
        parts.append("inclusion proof, checkpoint")
    if entry.set_signature is not None:
        parts.append("signed entry timestamp")
    return f"verified (log index {entry.log_index}: {', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class BundlePending:
    source: str
    digest_name: str
    message_digest: bytes | None
    signature: bytes
    hint: bytes | None
    entries: tuple[_TlogEntry, ...]
    keys: tuple[TrustedKey, ...]
    trusted_root: Path | None
    needs: frozenset[str]

    def finish(self, artifact: Artifact) -> SignatureResult:
        def fail(why: str) -> SignatureResult:
            return failure(self.source, why, BUNDLE_NAME)

        digest = artifact.digests.get(self.digest_name)
        if digest is None:
            return fail(f"the file's {self.digest_name} digest was not computed")
        if self.message_digest is not None and not same(self.message_digest, digest):
            return fail(
                "the file's digest differs from the bundle's messageDigest "
                "(the file was modified or the bundle is for another file)"
            )
        if not self.keys:
            return fail(_NO_KEY)
        key = next(
            (
                k
                for k in self.keys
                if _verify_ecdsa(crypto_key(k), self.signature, digest, self.digest_name)
            ),
            None,
        )
        if key is None:
            if self.hint is not None and not any(
                k.fingerprint == "SHA256:" + self.hint.hex() for k in self.keys
            ):
                return fail(
                    f"key SHA256:{self.hint.hex()[:12]}… named by the bundle is not trusted"
                )
            return fail(f"{MISMATCH}; tried {_tried(self.keys)}")
        facts = {"algorithm": f"ECDSA {self.digest_name}"}
        if self.trusted_root is None:
            facts["tlog"] = (
                "not checked (no trusted root given)" if self.entries else "none in bundle"
            )
        elif not self.entries:
            # The operator asked for the log to be checked: a bundle without it is a downgrade.
            return fail("transparency log: the bundle has no log entry to check")
        else:
            logs = load_trusted_root(self.trusted_root)
            signer = crypto_key(key)
            assert signer is not None
            for entry in self.entries:
                why = _check_entry(entry, logs, digest, self.signature, signer)
                if why is not None:
                    return fail(f"transparency log: {why}")
            facts["tlog"] = "; ".join(_describe(e) for e in self.entries)
            first = min(e.integrated_time for e in self.entries)
            facts["signed_at"] = datetime.fromtimestamp(first, UTC).isoformat()
        return _ok(BUNDLE_NAME, self.source, key, facts)


class CosignBundleFormat:
    name = BUNDLE_NAME

    def sniff(self, data: bytes, filename: str) -> bool:
        if not data.lstrip().startswith(b"{"):
            return False
        try:
            return _is_key_bundle(json.loads(data))
        except ValueError:
            return False

    def prepare(self, data: bytes, source: str, context: Context) -> BundlePending:
        if not data.strip():
            raise SignatureFormatError(f"{source}: is empty, not a Sigstore bundle")
        try:
            doc = json.loads(data)
        except ValueError:
            raise SignatureFormatError(f"{source}: is not JSON (truncated or garbage)") from None
        if not _is_key_bundle(doc):
            raise SignatureFormatError(
                f"{source}: is not a key-based Sigstore bundle (publicKey and messageSignature)"
            )
        material = _obj(doc["verificationMaterial"], "verificationMaterial", source)
        public = _obj(material.get("publicKey"), "publicKey", source)
        hint = None
        if isinstance(public.get("hint"), str):
            try:
                hint = base64.b64decode(public["hint"], validate=True)
            except (binascii.Error, ValueError):
                hint = None
        entries_raw = material.get("tlogEntries", [])
        if not isinstance(entries_raw, list):
            raise SignatureFormatError(f"{source}: tlogEntries is not a list")
        entries = tuple(_parse_entry(e, source) for e in entries_raw)
        message = _obj(doc["messageSignature"], "messageSignature", source)
        signature = _der_signature(_b64(message.get("signature"), "the signature", source), source)
        digest_name, message_digest = "sha256", None
        if message.get("messageDigest") is not None:
            md = _obj(message["messageDigest"], "messageDigest", source)
            digest_name = _BUNDLE_DIGESTS.get(str(md.get("algorithm")), "")
            if not digest_name:
                raise SignatureFormatError(
                    f"{source}: unsupported messageDigest algorithm {md.get('algorithm')!r}"
                )
            message_digest = _b64(md.get("digest"), "the messageDigest", source)
            if len(message_digest) != _HASHES[digest_name]().digest_size:
                raise SignatureFormatError(f"{source}: the messageDigest has the wrong length")
        keys = context.keys_of(*_KINDS)
        if hint is not None:  # the key the bundle names first; the hint is never trusted
            named = "SHA256:" + hint.hex()
            keys = tuple(sorted(keys, key=lambda k: k.fingerprint != named))
        return BundlePending(
            source=source,
            digest_name=digest_name,
            message_digest=message_digest,
            signature=signature,
            hint=hint,
            entries=entries,
            keys=keys,
            trusted_root=context.trusted_root,
            needs=frozenset({digest_name}),
        )


FORMAT = CosignFormat()
BUNDLE_FORMAT = CosignBundleFormat()
