"""The trust store: named public keys that relman accepts signatures from.

Kept in the config dir: ``trust/<name>.<ext>`` holds each key as given (PEM, minisign or
signify key, OpenPGP certificate) and ``trust.toml`` indexes them by name with their kind and
fingerprint. Public data only; written atomically.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from relman import paths
from relman.errors import InputError, UsageError
from relman.verify.signatures.base import TrustedKey

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_EXTENSIONS = {"minisign": "pub", "signify": "pub", "openpgp": "asc"}


def _folder() -> Path:
    return paths.resolve().config / "trust"


def _index_path() -> Path:
    return paths.resolve().config / "trust.toml"


def _load_index() -> dict[str, dict[str, str]]:
    return paths.read_index(_index_path(), "the trust store index")


def _save_index(index: dict[str, dict[str, str]]) -> None:
    paths.write_index(_index_path(), index)


def trusted_keys() -> list[TrustedKey]:
    """Every trusted key, read and fingerprinted again (a changed file is caught here)."""
    index = _load_index()
    if not index:  # the common case for checksum-only runs: do not pay for cryptography
        return []
    from relman.verify.signatures.keys import load_public_key

    keys = []
    for name, entry in sorted(index.items()):
        path = _folder() / entry.get("file", "")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"trusted key {name!r}: {path}: {exc.strerror or exc}") from None
        key = load_public_key(data, name, origin=str(path))
        if key.fingerprint != entry.get("fingerprint"):
            raise InputError(
                f"trusted key {name!r}: {path} no longer matches the fingerprint recorded when it "
                "was added; remove it and add it again if the change is intended"
            )
        keys.append(key)
    return keys


def add(name: str, data: bytes, *, origin: str) -> TrustedKey:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"trusted key name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-'"
        )
    from relman.verify.signatures.keys import load_public_key

    key = load_public_key(data, name, origin=origin)
    index = _load_index()
    if name in index:
        raise UsageError(f"a trusted key named {name!r} exists already (remove it first)")
    for other, entry in index.items():
        if entry.get("fingerprint") == key.fingerprint:
            raise UsageError(f"{origin}: this key is trusted already as {other!r}")
    filename = f"{name}.{_EXTENSIONS.get(key.kind, 'pem')}"
    paths.ensure_dir(_folder())
    paths.atomic_write(_folder() / filename, key.material)
    index[name] = {
        "kind": key.kind,
        "fingerprint": key.fingerprint,
        "file": filename,
        "added": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    _save_index(index)
    return key


def remove(name: str) -> None:
    index = _load_index()
    entry = index.pop(name, None)
    if entry is None:
        raise UsageError(f"no trusted key named {name!r} (see 'relman trust list')")
    _save_index(index)
    (_folder() / entry.get("file", "")).unlink(missing_ok=True)


def find(name_or_path: str) -> TrustedKey:
    """A ``--key`` argument: a file holding a public key, or the name of a trusted key."""
    path = Path(name_or_path)
    if path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: {exc.strerror or exc}") from None
        from relman.verify.signatures.keys import load_public_key

        return load_public_key(data, path.name, origin=str(path))
    for key in trusted_keys():
        if key.name == name_or_path:
            return key
    if path.exists():
        raise InputError(f"{path}: is a folder, not a key file")
    raise UsageError(f"--key {name_or_path}: no such file and no trusted key of that name")
