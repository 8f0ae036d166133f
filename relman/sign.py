"""Sign files with a key from the OS keyring, in formats the upstream tools verify.

- ``cosign``: what ``cosign sign-blob --key`` writes: base64 of an ECDSA DER signature over the
  file's SHA-256 (SHA-384 for P-384), or a pure Ed25519 signature for an Ed25519 key.
  ``cosign verify-blob --key`` and ``openssl dgst -verify`` accept it.
- ``minisign``: a prehashed (``ED``) minisign signature with a signed trusted comment;
  ``minisign -V -p`` accepts it with the public key from ``relman keys export NAME --format
  minisign``.
- ``dsse``: a DSSE envelope carrying an in-toto Statement v1 whose subject is the file and its
  SHA-256, one JSON line (``FILE.intoto.jsonl``).

The digest comes from the same streaming engine as verification, so a large file is read once
and never held in memory (pure Ed25519 maps the file instead).
"""

from __future__ import annotations

import base64
import json
import mmap
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from relman import keystore, paths
from relman.errors import InputError, UsageError
from relman.model import CancelToken, ProgressCallback
from relman.verify.hashing import display_path, hash_file
from relman.verify.signatures.keys import key_kind, spki_fingerprint

FORMATS = ("cosign", "minisign", "dsse")
SUFFIXES = {"cosign": ".sig", "minisign": ".minisig", "dsse": ".intoto.jsonl"}
IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
SIGNED_FILE_PREDICATE = "https://relman.dev/signed-file/v1"


def default_output(path: Path, fmt: str) -> Path:
    return path.with_name(path.name + SUFFIXES[fmt])


def sign_file(
    path: Path,
    key_name: str,
    fmt: str,
    *,
    output: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Sign ``path`` with the keyring key ``key_name``; returns the signature file written."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown signature format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if path.is_dir():
        raise InputError(f"{display_path(path)}: is a folder, not a file")
    if not path.exists():
        raise InputError(f"{display_path(path)}: no such file")
    key = keystore.load_private(key_name)
    if fmt == "cosign":
        data = cosign_signature(path, key, progress=progress, cancel=cancel)
    elif fmt == "minisign":
        data = minisign_signature(path, key, key_name, progress=progress, cancel=cancel)
    else:
        data = dsse_envelope(path, key, key_name, progress=progress, cancel=cancel)
    target = output or default_output(path, fmt)
    paths.atomic_write(target, data)
    return target


def cosign_signature(
    path: Path,
    key: keystore.PrivateKey,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> bytes:
    """The bytes of a ``cosign sign-blob --key`` signature file for ``path``."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = _sign_whole(path, key)
    else:
        algorithm = "sha384" if key.curve.name == "secp384r1" else "sha256"
        digest = hash_file(path, (algorithm,), progress=progress, cancel=cancel)
        chosen: hashes.HashAlgorithm = hashes.SHA384() if algorithm == "sha384" else hashes.SHA256()
        signature = key.sign(
            bytes.fromhex(digest.digests[algorithm]), ec.ECDSA(utils.Prehashed(chosen))
        )
    return base64.b64encode(signature)


def _sign_whole(path: Path, key: ed25519.Ed25519PrivateKey) -> bytes:
    """Pure Ed25519 signs the message itself: map the file rather than read it into memory."""
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            return key.sign(b"")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return key.sign(mapped)  # type: ignore[arg-type]


def minisign_signature(
    path: Path,
    key: keystore.PrivateKey,
    name: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> bytes:
    """The bytes of a prehashed minisign signature of ``path`` by key ``name``."""
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        kind = key_kind(key.public_key())
        raise UsageError(f"minisign signatures need an Ed25519 key; {name!r} is {kind}")
    digest = hash_file(path, ("blake2b",), progress=progress, cancel=cancel)
    key_id = keystore.minisign_key_id(_public_pem(key))
    signature = key.sign(bytes.fromhex(digest.digests["blake2b"]))
    trusted = f"timestamp:{int(time.time())}\tfile:{path.name}\thashed".encode()
    global_signature = key.sign(signature + trusted)
    lines = [
        f"untrusted comment: signature from relman key {name}".encode(),
        base64.b64encode(b"ED" + key_id + signature),
        b"trusted comment: " + trusted,
        base64.b64encode(global_signature),
    ]
    return b"\n".join(lines) + b"\n"


def _public_pem(key: keystore.PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def minisign_public_key(record: keystore.SigningKey) -> str:
    """The minisign public key file for an Ed25519 signing key."""
    from cryptography.hazmat.primitives import serialization

    if record.kind != "ed25519":
        raise UsageError(
            f"only Ed25519 keys have a minisign form; {record.name!r} is {record.kind}"
        )
    public = serialization.load_pem_public_key(record.public_pem.encode())
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = record.minisign_key_id
    shown = key_id[::-1].hex().upper()
    encoded = base64.b64encode(b"Ed" + key_id + raw).decode()
    return f"untrusted comment: minisign public key {shown}\n{encoded}\n"


def dsse_envelope(
    path: Path,
    key: keystore.PrivateKey,
    name: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> bytes:
    """One line of ``FILE.intoto.jsonl``: a DSSE envelope over an in-toto Statement of ``path``."""
    from relman.verify.signatures.dsse import sign_envelope

    fingerprint = spki_fingerprint(key.public_key())
    digest = hash_file(path, ("sha256",), progress=progress, cancel=cancel)
    statement = {
        "_type": IN_TOTO_STATEMENT,
        "subject": [{"name": path.name, "digest": {"sha256": digest.digests["sha256"]}}],
        "predicateType": SIGNED_FILE_PREDICATE,
        "predicate": {
            "signer": {"key": name, "fingerprint": fingerprint},
            "signedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "size": digest.size,
        },
    }
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    envelope = sign_envelope(IN_TOTO_PAYLOAD_TYPE, payload, key, keyid=fingerprint)
    return json.dumps(envelope, separators=(",", ":")).encode() + b"\n"
