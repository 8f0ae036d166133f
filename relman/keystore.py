"""Signing keys: private halves in the OS keyring, public halves in the config.

A signing key is an Ed25519 or ECDSA (P-256, P-384) private key, stored as PKCS#8 PEM under
the keyring account ``signing-key:<name>`` (service ``relman``); such keys fit the smallest
keyring (Windows: 1,280 characters). The config file ``keys.toml`` keeps only what is public:
the kind, the fingerprint, the public key and when it was added, so ``relman keys list`` never
has to unlock anything. Private key material never reaches a file, a log or a message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from relman import paths, secrets
from relman.errors import InputError, RelmanError, UsageError
from relman.verify.signatures.keys import key_kind, spki_fingerprint

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
KEY_TYPES = ("ed25519", "ecdsa-p256", "ecdsa-p384")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ACCOUNT = "signing-key:{name}"


class PassphraseNeeded(InputError):
    """The private key to import is encrypted and no passphrase was given."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The public record of a signing key (the private half stays in the keyring)."""

    name: str
    kind: str
    fingerprint: str
    public_pem: str
    created: str

    @property
    def minisign_key_id(self) -> bytes:
        """The 8-byte key number relman uses when it writes minisign signatures."""
        return minisign_key_id(self.public_pem.encode())


def minisign_key_id(public_pem: bytes) -> bytes:
    key = serialization.load_pem_public_key(public_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:8]


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"key name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def _index_path() -> Path:
    return paths.resolve().config / "keys.toml"


def _load_index() -> dict[str, dict[str, str]]:
    return paths.read_index(_index_path(), "the signing-key index")


def _save_index(index: dict[str, dict[str, str]]) -> None:
    paths.write_index(_index_path(), index)


def _record(name: str, entry: dict[str, str]) -> SigningKey:
    return SigningKey(
        name=name,
        kind=entry.get("kind", "?"),
        fingerprint=entry.get("fingerprint", "?"),
        public_pem=entry.get("public_key", ""),
        created=entry.get("created", ""),
    )


def list_keys() -> list[SigningKey]:
    return [_record(name, entry) for name, entry in sorted(_load_index().items())]


def get_key(name: str) -> SigningKey:
    entry = _load_index().get(name)
    if entry is None:
        raise UsageError(f"no signing key named {name!r} (see 'relman keys list')")
    return _record(name, entry)


def _private_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _public_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _store(name: str, key: PrivateKey) -> SigningKey:
    check_name(name)
    index = _load_index()
    if name in index:
        raise UsageError(f"a signing key named {name!r} exists already (delete it first)")
    secrets.set_secret(_ACCOUNT.format(name=name), _private_pem(key))
    entry = {
        "kind": key_kind(key.public_key()),
        "fingerprint": spki_fingerprint(key.public_key()),
        "public_key": _public_pem(key),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    index[name] = entry
    try:
        _save_index(index)
    except BaseException:
        secrets.delete_secret(_ACCOUNT.format(name=name))
        raise
    return _record(name, entry)


def generate(name: str, kind: str = "ed25519") -> SigningKey:
    key: PrivateKey
    if kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif kind == "ecdsa-p256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kind == "ecdsa-p384":
        key = ec.generate_private_key(ec.SECP384R1())
    else:
        raise UsageError(f"unknown key type {kind!r}; choose one of {', '.join(KEY_TYPES)}")
    return _store(name, key)


def import_key(name: str, data: bytes, *, origin: str, password: bytes | None = None) -> SigningKey:
    """Import a PEM (PKCS#8 or traditional) or DER private key of a supported type."""
    key = _parse_private(data, origin, password)
    return _store(name, key)


def _parse_private(data: bytes, origin: str, password: bytes | None) -> PrivateKey:
    if not data.strip():
        raise InputError(f"{origin}: is empty, not a private key")
    loaded: PrivateKeyTypes | None = None
    for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
        try:
            loaded = loader(data, password=password)
            break
        except TypeError as exc:
            text = str(exc).lower()
            if "not encrypted" in text:
                raise InputError(
                    f"{origin}: the private key is not encrypted; import it without a passphrase"
                ) from None
            if "encrypted" in text or "password" in text:
                raise PassphraseNeeded(
                    f"{origin}: the private key is encrypted; its passphrase is needed"
                ) from None
            raise InputError(f"{origin}: {exc}") from None
        except ValueError:
            continue
    if loaded is None:
        if password is not None:
            raise InputError(f"{origin}: not a private key, or the passphrase is wrong")
        raise InputError(f"{origin}: holds no private key relman can read (PEM or DER expected)")
    if isinstance(loaded, ed25519.Ed25519PrivateKey):
        return loaded
    if isinstance(loaded, ec.EllipticCurvePrivateKey) and loaded.curve.name in (
        "secp256r1",
        "secp384r1",
    ):
        return loaded
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise InputError(
            f"{origin}: ECDSA keys on {loaded.curve.name} are not supported; "
            "use an Ed25519 or ECDSA P-256/P-384 key"
        )
    given = type(loaded).__name__.removeprefix("_").removesuffix("PrivateKey") or "this"
    raise InputError(
        f"{origin}: an {given} key does not fit in every OS keyring (at most 1,280 characters); "
        "use an Ed25519 or ECDSA P-256/P-384 key"
    )


def load_private(name: str) -> PrivateKey:
    """The private key from the keyring (raises when it is missing or the keyring is locked)."""
    record = get_key(name)
    pem = secrets.get_secret(_ACCOUNT.format(name=name))
    if pem is None:
        raise RelmanError(
            f"signing key {name!r} is listed but its private half is not in the OS keyring "
            f"({secrets.status().backend}); import it again or delete it"
        )
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if spki_fingerprint(key.public_key()) != record.fingerprint:
        raise RelmanError(f"signing key {name!r} in the keyring does not match its fingerprint")
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise RelmanError(f"signing key {name!r} has an unsupported type")
    return key


def delete(name: str) -> bool:
    """Delete the key from the keyring and the index; False when the keyring had no secret."""
    index = _load_index()
    if name not in index:
        raise UsageError(f"no signing key named {name!r} (see 'relman keys list')")
    had_secret = secrets.delete_secret(_ACCOUNT.format(name=name))
    del index[name]
    _save_index(index)
    return had_secret
