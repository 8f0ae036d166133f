"""Secrets in the OS keyring, and nowhere else.

One small store over :mod:`keyring` (service ``relman``): get / set / delete, which backend is
in use, and whether it is usable, locked or missing. There is no plaintext fallback: with no
keyring, every secret operation fails with a message that says so and what to install.
Messages never contain the secret itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from relman.errors import RelmanError

logger = logging.getLogger(__name__)

SERVICE = "relman"
#: Windows Credential Manager stores at most 2,560 bytes, 1,280 UTF-16 characters; a secret
#: that fits there fits everywhere, so relman refuses anything larger on every platform.
MAX_SECRET_CHARS = 1280


class KeyringUnavailable(RelmanError):
    """No usable OS keyring (none installed, none running, or locked)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    backend: str  # human name, e.g. "Secret Service"
    state: str  # "ok", "locked" or "missing"
    detail: str

    @property
    def usable(self) -> bool:
        return self.state == "ok"

    def __str__(self) -> str:
        return f"keyring: {self.backend}, {self.detail}"


_NAMES = {
    "SecretService": "Secret Service",
    "kwallet": "KWallet",
    "macOS": "macOS Keychain",
    "Windows": "Windows Credential Manager",
    "fail": "none",
    "null": "none",
    "chainer": "chained backends",
}


def _backend() -> Any:
    import keyring

    return keyring.get_keyring()


def _backend_name(backend: Any) -> str:
    module = type(backend).__module__.rsplit(".", 1)[-1]
    return _NAMES.get(module, type(backend).__name__)


def _is_missing(backend: Any) -> bool:
    module = type(backend).__module__
    return module.endswith((".fail", ".null")) or "keyrings.alt" in module


_MISSING_HELP = (
    "no OS keyring is available (install and unlock one: GNOME Keyring or KWallet through the "
    "Secret Service, macOS Keychain, Windows Credential Manager); relman keeps no secret in a "
    "plain file"
)


def status() -> KeyringStatus:
    """Which keyring is in use and whether it can be used now (does not read any secret)."""
    try:
        backend = _backend()
    except Exception as exc:  # keyring's own initialisation failing is "missing"
        return KeyringStatus("none", "missing", f"{_MISSING_HELP} ({type(exc).__name__})")
    name = _backend_name(backend)
    if _is_missing(backend):
        return KeyringStatus(name, "missing", _MISSING_HELP)
    locked = _secret_service_locked(backend)
    if locked:
        return KeyringStatus(
            name, "locked", "locked: unlock it (log in again, or open Passwords and Keys)"
        )
    return KeyringStatus(name, "ok", "unlocked" if locked is False else "available")


def _secret_service_locked(backend: Any) -> bool | None:
    """True/False for the Secret Service's default collection; None when it cannot be told."""
    if _backend_name(backend) != "Secret Service":
        return None
    try:
        import secretstorage

        with secretstorage.dbus_init() as connection:
            collection = secretstorage.get_default_collection(connection)
            return bool(collection.is_locked())
    except Exception:
        logger.debug("cannot tell whether the Secret Service is locked", exc_info=True)
        return None


def _require() -> Any:
    state = status()
    if state.state == "missing":
        raise KeyringUnavailable(_MISSING_HELP)
    return _backend()


def _call(action: str, account: str, func: Any, *args: Any) -> Any:
    from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

    try:
        return func(SERVICE, account, *args)
    except PasswordDeleteError:
        raise
    except KeyringLocked:
        raise KeyringUnavailable(
            f"the OS keyring is locked; unlock it to {action} {account!r}"
        ) from None
    except KeyringError as exc:
        raise KeyringUnavailable(
            f"the OS keyring refused to {action} {account!r}: {type(exc).__name__}"
        ) from None
    except Exception as exc:  # D-Bus errors and the like: say which, never the secret
        raise KeyringUnavailable(
            f"the OS keyring failed to {action} {account!r}: {type(exc).__name__}"
        ) from None


def get_secret(account: str) -> str | None:
    backend = _require()
    value: str | None = _call("read", account, backend.get_password)
    return value


def set_secret(account: str, value: str) -> None:
    if not value:
        raise RelmanError(f"refusing to store an empty secret for {account!r}")
    if len(value) > MAX_SECRET_CHARS:
        raise RelmanError(
            f"the secret for {account!r} is {len(value)} characters; OS keyrings hold at most "
            f"{MAX_SECRET_CHARS} on every platform (use an Ed25519 or ECDSA P-256 key)"
        )
    backend = _require()
    _call("store", account, backend.set_password, value)


def delete_secret(account: str) -> bool:
    """Delete ``account``; False when there was nothing to delete."""
    from keyring.errors import PasswordDeleteError

    backend = _require()
    try:
        _call("delete", account, backend.delete_password)
    except PasswordDeleteError:
        return False
    return True
