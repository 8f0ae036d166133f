"""The Keys & Trust tables, and the work behind them that runs on the task runner.

Two table models over the core's immutable records (:class:`~relman.keystore.SigningKey`,
:class:`~relman.verify.signatures.base.TrustedKey`) share one base and one sort proxy. The
functions at the end are what the page submits to the runner's *serial* executor: they touch
the keyring and the disk, so they never run on the GUI thread, and they return plain data.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QFont, QFontDatabase

from relman import keystore, paths, secrets, sign
from relman.errors import InputError, RelmanError
from relman.verify import truststore
from relman.verify.hashing import display_path
from relman.verify.signatures.base import TrustedKey

from .table_base import ObjectRole, RowsTableModel, SearchProxyModel, SortRole

logger = logging.getLogger(__name__)


#: How each key type is shown; the raw kind is in the tooltip.
KIND_LABELS = {
    "ed25519": "Ed25519",
    "ecdsa-p256": "ECDSA P-256",
    "ecdsa-p384": "ECDSA P-384",
    "ecdsa-p521": "ECDSA P-521",
    "rsa": "RSA",
    "minisign": "minisign (Ed25519)",
    "signify": "signify (Ed25519)",
    "openpgp": "OpenPGP",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def shorten_middle(value: str, keep: int = 8) -> str:
    """``SHA256:2c4f91ab…0e7d3c55``: the prefix, ``keep`` characters each side of an ellipsis."""
    prefix, sep, rest = value.rpartition(":")
    if len(rest) <= 2 * keep + 1:
        return value
    return f"{prefix}{sep}{rest[:keep]}…{rest[-keep:]}"


def parse_utc(stamp: str) -> datetime | None:
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def relative_time(stamp: str, now: datetime | None = None) -> str:
    """``3 h ago`` for a stored UTC time stamp; the stamp itself when it cannot be read."""
    when = parse_utc(stamp)
    if when is None:
        return stamp
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 30, None), (86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            if unit is None:
                return when.strftime("%Y-%m-%d")
            return f"{int(seconds // size)} {unit} ago"
    return "just now"  # pragma: no cover


def exact_time(stamp: str) -> str:
    when = parse_utc(stamp)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else stamp


MISSING_LINE = (
    "no OS keyring: install and unlock one (GNOME Keyring or KWallet through the Secret "
    "Service, macOS Keychain, Windows Credential Manager) to generate or import signing keys; "
    "secrets are never written to a file"
)


def keyring_line(status: secrets.KeyringStatus | None) -> tuple[str, str, str]:
    """(icon, text, why signing keys cannot be added or "") for the keyring status line."""
    if status is None:
        return "queued", "Keyring: checking…", "Checking the OS keyring…"
    if status.state == "ok":
        return "verified", f"Keyring: {status.backend} — {status.detail}", ""
    if status.state == "locked":
        text = f"Keyring: {status.backend} — {status.detail}"
        return "not-verified", text, f"The OS keyring ({status.backend}) is {status.detail}"
    return "failed", f"Keyring: {MISSING_LINE}", f"Signing keys need an OS keyring: {MISSING_LINE}"


COL_NAME, COL_KIND, COL_FINGERPRINT, COL_CREATED = range(4)
COL_KEY_ID = 3


class RecordTableModel(RowsTableModel):
    """Read-only rows over immutable key records (each with a name, a kind and a
    fingerprint, the first three columns); subclasses add their fourth column."""

    HEADERS: tuple[str, ...] = ()
    #: Columns shown in monospace (digests, ids).
    MONO: frozenset[int] = frozenset()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        record = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.display(record, column)
        if role == ObjectRole:
            return record
        if role == SortRole:
            return self.sort_key(record, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(record, column)
        if role == Qt.ItemDataRole.FontRole and column in self.MONO:
            return QFont(self._mono)
        return None

    def display(self, record: Any, column: int) -> str:
        if column == COL_NAME:
            return str(record.name)
        if column == COL_KIND:
            return kind_label(record.kind)
        if column == COL_FINGERPRINT:
            return shorten_middle(record.fingerprint)
        return ""

    def tooltip(self, record: Any, column: int) -> str | None:
        if column == COL_FINGERPRINT:
            return str(record.fingerprint)
        if column == COL_KIND:
            return str(record.kind)
        return None

    def sort_key(self, record: Any, column: int) -> Any:
        if column == COL_FINGERPRINT:
            return record.fingerprint
        return self.display(record, column).casefold()

    # -- contents ---------------------------------------------------------------------------

    def set_records(self, records: list[Any]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def records(self) -> list[Any]:
        return list(self._rows)

    def record(self, row: int) -> Any:
        return self._rows[row]

    def row_of(self, name: str) -> int | None:
        for row, record in enumerate(self._rows):
            if record.name == name:
                return row
        return None


class SigningKeyModel(RecordTableModel):
    """Your signing keys: the public records; the private halves stay in the keyring."""

    HEADERS = ("Name", "Type", "Fingerprint", "Created")
    MONO = frozenset({COL_FINGERPRINT})

    def display(self, record: keystore.SigningKey, column: int) -> str:
        if column == COL_CREATED:
            return relative_time(record.created)
        return super().display(record, column)

    def tooltip(self, record: keystore.SigningKey, column: int) -> str | None:
        if column == COL_CREATED:
            return exact_time(record.created) or None
        return super().tooltip(record, column)

    def sort_key(self, record: keystore.SigningKey, column: int) -> Any:
        if column == COL_CREATED:
            return record.created
        return super().sort_key(record, column)


class TrustedKeyModel(RecordTableModel):
    """The trust store: public keys whose signatures relman accepts."""

    HEADERS = ("Name", "Type", "Fingerprint", "Key ID")
    MONO = frozenset({COL_FINGERPRINT, COL_KEY_ID})

    def display(self, record: TrustedKey, column: int) -> str:
        if column == COL_KEY_ID:
            return record.key_id or "—"
        return super().display(record, column)

    def tooltip(self, record: TrustedKey, column: int) -> str | None:
        if column == COL_KEY_ID:
            return record.key_id or "this key type has no short key id"
        return super().tooltip(record, column)

    def sort_key(self, record: TrustedKey, column: int) -> Any:
        if column == COL_KEY_ID:
            return record.key_id or ""
        return super().sort_key(record, column)


KeysProxyModel = SearchProxyModel


# -- work for the serial executor (never called on the GUI thread) ---------------------------


@dataclass(frozen=True, slots=True)
class KeysSnapshot:
    """What the page shows: the keyring's state and both lists, with what could not be read."""

    status: secrets.KeyringStatus
    signing: tuple[keystore.SigningKey, ...] = ()
    trusted: tuple[TrustedKey, ...] = ()
    errors: tuple[str, ...] = field(default=())


def load_snapshot() -> KeysSnapshot:
    """Read the keyring state and both lists; one list failing does not hide the other."""
    errors: list[str] = []
    state = secrets.status()
    signing: list[keystore.SigningKey] = []
    trusted: list[TrustedKey] = []
    try:
        signing = keystore.list_keys()
    except RelmanError as exc:
        errors.append(str(exc))
    try:
        trusted = truststore.trusted_keys()
    except RelmanError as exc:
        errors.append(str(exc))
    return KeysSnapshot(state, tuple(signing), tuple(trusted), tuple(errors))


def read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{display_path(path)}: is a folder, not a key file") from None
    except OSError as exc:
        raise InputError(f"{display_path(path)}: {exc.strerror or exc}") from None


@dataclass(frozen=True, slots=True)
class NeedsPassphrase:
    """What :func:`import_signing_key` returns when the key file is encrypted."""

    path: Path


def import_signing_key(
    path: Path, name: str, password: bytes | None = None
) -> keystore.SigningKey | NeedsPassphrase:
    """Import a private key file into the keyring, or say that it needs a passphrase."""
    data = read_key_file(path)
    try:
        return keystore.import_key(name, data, origin=display_path(path), password=password)
    except keystore.PassphraseNeeded:
        return NeedsPassphrase(path)


def public_key_text(record: keystore.SigningKey, fmt: str) -> str:
    """The public key as ``pem`` (SubjectPublicKeyInfo) or ``minisign`` (Ed25519 only)."""
    return sign.minisign_public_key(record) if fmt == "minisign" else record.public_pem


def export_public_key(record: keystore.SigningKey, path: Path, fmt: str) -> Path:
    paths.atomic_write(path, public_key_text(record, fmt).encode("ascii"))
    return path


def trust_key_file(path: Path, name: str) -> TrustedKey:
    return truststore.add(name, read_key_file(path), origin=display_path(path))


def remove_trusted_key(name: str) -> None:
    truststore.remove(name)


def suggested_name(path: str | Path) -> str:
    """A key name from a file name: ``rm-anna.key.pem`` -> ``rm-anna``."""
    stem = Path(path).name.split(".")[0]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:64]
    return cleaned or "imported-key"
