"""The Keys & Trust page: your signing keys (OS keyring) and the keys relman trusts.

Every keyring and disk operation is submitted to the task runner's serial executor, so state
changes happen one at a time and never on the GUI thread; each one ends with a reload of both
lists. Questions to the user go through the ``ask_*`` and ``confirm`` methods, which tests
replace. Errors are shown in the page's message bar as one line, never as a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from relman import keystore
from relman.errors import Cancelled, RelmanError
from relman.secrets import KeyringStatus
from relman.verify.hashing import display_path
from relman.verify.signatures.base import TrustedKey

from .icons import IconSet
from .keys_dialogs import (
    KeyNameDialog,
    KeyringStatusLine,
    KeyTableSection,
    MessageBar,
    NewKeyDialog,
    PassphraseDialog,
    action_button,
)
from .keys_dialogs import (
    confirm as confirm_dialog,
)
from .keys_models import (
    KeysProxyModel,
    KeysSnapshot,
    NeedsPassphrase,
    SigningKeyModel,
    TrustedKeyModel,
    export_public_key,
    import_signing_key,
    keyring_line,
    kind_label,
    load_snapshot,
    remove_trusted_key,
    suggested_name,
    trust_key_file,
)
from .tasks import TaskRunner

logger = logging.getLogger(__name__)


class KeysPage(QWidget):
    """Generate, import, export and delete signing keys; add and remove trusted keys."""

    def __init__(self, runner: TaskRunner, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Keys & Trust page")
        self.runner = runner
        self.icons = icons
        self.status: KeyringStatus | None = None
        self.pending = 0  # submitted operations whose result has not come back yet
        self._loaded_once = False
        self._focus: tuple[KeyTableSection, str] | None = None
        self.signing_model = SigningKeyModel(self)
        self.signing_proxy = KeysProxyModel(self)
        self.signing_proxy.setSourceModel(self.signing_model)
        self.trusted_model = TrustedKeyModel(self)
        self.trusted_proxy = KeysProxyModel(self)
        self.trusted_proxy.setSourceModel(self.trusted_model)
        self._build_actions()

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel("Keys & Trust")
        title.setObjectName("pageTitle")
        title.setAccessibleName("Keys & Trust title")
        top.addWidget(title)
        top.addStretch(1)
        self.refresh_button = action_button(self.refresh_action, "Refresh lists")
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        self.status_line = KeyringStatusLine(icons)
        layout.addWidget(self.status_line)
        self.status_icon = self.status_line.icon
        self.status_label = self.status_line.text

        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)

        self.signing = KeyTableSection(
            "Your signing keys",
            "Private halves live in the OS keyring; only public keys and fingerprints are kept "
            "on disk.",
            self.signing_proxy,
            (self.generate_action, self.import_action, self.export_action, self.delete_action),
            "No signing keys yet. Generate one, or import an existing Ed25519 or ECDSA key.",
        )
        self.trusted = KeyTableSection(
            "Trusted keys",
            "relman accepts signatures made by these public keys.",
            self.trusted_proxy,
            (self.trust_action, self.untrust_action),
            "No trusted keys yet. Trust a public key file (PEM, minisign, signify or OpenPGP) "
            "to verify the signatures it makes.",
        )
        for section in (self.signing, self.trusted):
            section.table.selectionModel().selectionChanged.connect(self._update_actions)
            layout.addWidget(section, 1)
        self._show_status()
        self._update_actions()

    def _action(self, text: str, name: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.refresh_action = self._action("Refresh", "refresh", self.refresh)
        self.refresh_action.setToolTip("Reload both lists and the keyring state (F5)")
        self.generate_action = self._action("Generate…", "generate", self.generate_key)
        self.import_action = self._action("Import…", "import", self.import_key)
        self.export_action = self._action("Export public key…", "export", self.export_key)
        self.delete_action = self._action("Delete…", "delete", self.delete_key)
        self.trust_action = self._action("Trust a key…", "trust", self.trust_key)
        self.trust_action.setToolTip("Accept signatures made by a public key from a file")
        self.untrust_action = self._action("Remove trust…", "untrust", self.remove_trust)
        # A window shortcut of this page matches only while the page is the one shown.
        self.refresh_shortcut = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        self.refresh_shortcut.activated.connect(self.refresh)

    # -- what tests replace -------------------------------------------------------------------

    def ask_new_key(self) -> tuple[str, str] | None:
        dialog = NewKeyDialog(self)
        return dialog.values() if dialog.exec() else None

    def ask_key_name(self, title: str, ok_text: str, default: str) -> str | None:
        dialog = KeyNameDialog(title, ok_text, default, parent=self)
        return dialog.name() if dialog.exec() else None

    def ask_passphrase(self, origin: str, problem: str) -> bytes | None:
        dialog = PassphraseDialog(origin, problem, self)
        return dialog.passphrase() if dialog.exec() else None

    def ask_open_file(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        return path or None

    def ask_export_target(self, record: keystore.SigningKey) -> tuple[str, str] | None:
        """(path, ``pem`` or ``minisign``); minisign is offered for Ed25519 keys only."""
        pem = "PEM public key (*.pem)"
        filters = [pem]
        if record.kind == "ed25519":
            filters.append("minisign public key (*.pub)")
        path, chosen = QFileDialog.getSaveFileName(
            self,
            f"Export the public key of {record.name}",
            f"{record.name}.pem",
            ";;".join(filters),
        )
        if not path:
            return None
        return path, "minisign" if chosen.startswith("minisign") else "pem"

    def confirm(self, title: str, text: str, action: str, details: str = "") -> bool:
        return confirm_dialog(self, title, text, action, details)

    # -- actions ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the keyring state and both lists (on the serial executor)."""
        self._loaded_once = True
        self._submit(
            "reading keys", lambda _p, _c: load_snapshot(), self._apply_snapshot, reload=False
        )

    def generate_key(self) -> None:
        answer = self.ask_new_key()
        if answer is None:
            return
        name, kind = answer
        self._submit(
            f"generating {name}",
            lambda _p, _c: keystore.generate(name, kind),
            lambda key: self._done(
                f"generated {key.name} ({kind_label(key.kind)})", (self.signing, key.name)
            ),
        )

    def import_key(self) -> None:
        path = self.ask_open_file(
            "Import a private key", "Private keys (*.pem *.key *.der);;All (*)"
        )
        if path is None:
            return
        name = self.ask_key_name("Import signing key", "Import", suggested_name(path))
        if name is None:
            return
        self._import(Path(path), name, None)

    def _import(self, path: Path, name: str, password: bytes | None) -> None:
        def landed(result: Any) -> None:
            if isinstance(result, NeedsPassphrase):
                self._ask_and_import(path, name, "")
            else:
                self._done(
                    f"imported {result.name} ({kind_label(result.kind)})",
                    (self.signing, result.name),
                )

        def failed(exc: BaseException) -> None:
            # A wrong passphrase: ask again, with the reason in the dialog.
            if password is not None and "passphrase" in str(exc):
                self._ask_and_import(path, name, str(exc))
            else:
                self._show_error(exc)

        self._submit(
            f"importing {name}",
            lambda _p, _c: import_signing_key(path, name, password),
            landed,
            on_error=failed,
        )

    def _ask_and_import(self, path: Path, name: str, problem: str) -> None:
        password = self.ask_passphrase(display_path(path), problem)
        if password is not None:
            self._import(path, name, password)

    def export_key(self) -> None:
        record = self.selected_signing_key()
        if record is None:
            return
        target = self.ask_export_target(record)
        if target is None:
            return
        path, fmt = Path(target[0]), target[1]
        self._submit(
            f"exporting {record.name}",
            lambda _p, _c: export_public_key(record, path, fmt),
            lambda written: self._done(
                f"wrote the public key of {record.name} to {display_path(written)}"
            ),
            reload=False,
        )

    def delete_key(self) -> None:
        record = self.selected_signing_key()
        if record is None:
            return
        backend = self.status.backend if self.status else "the OS keyring"
        if not self.confirm(
            "Delete signing key",
            f"Delete the signing key “{record.name}” ({kind_label(record.kind)})?",
            "Delete",
            f"Fingerprint: {record.fingerprint}\n\nIts private half is removed from the OS "
            f"keyring ({backend}). This cannot be undone; export its public key first if "
            "others need to verify what it signed.",
        ):
            return
        self._submit(
            f"deleting {record.name}",
            lambda _p, _c: keystore.delete(record.name),
            lambda _had: self._done(f"deleted {record.name}"),
        )

    def trust_key(self) -> None:
        path = self.ask_open_file(
            "Trust a public key", "Public keys (*.pem *.pub *.asc *.gpg *.crt);;All (*)"
        )
        if path is None:
            return
        name = self.ask_key_name("Trust a public key", "Trust", suggested_name(path))
        if name is None:
            return
        self._submit(
            f"trusting {name}",
            lambda _p, _c: trust_key_file(Path(path), name),
            lambda key: self._done(
                f"now trusting {key.name} ({key.fingerprint})", (self.trusted, key.name)
            ),
        )

    def remove_trust(self) -> None:
        record = self.selected_trusted_key()
        if record is None:
            return
        if not self.confirm(
            "Remove trust",
            f"Stop trusting “{record.name}” ({kind_label(record.kind)})?",
            "Remove trust",
            f"Fingerprint: {record.fingerprint}\n\nrelman will no longer accept signatures "
            "made by this key.",
        ):
            return
        self._submit(
            f"removing trust in {record.name}",
            lambda _p, _c: remove_trusted_key(record.name),
            lambda _none: self._done(f"no longer trusting {record.name}"),
        )

    # -- selection ----------------------------------------------------------------------------

    def selected_signing_key(self) -> keystore.SigningKey | None:
        return self.signing.selected()  # type: ignore[return-value]

    def selected_trusted_key(self) -> TrustedKey | None:
        return self.trusted.selected()  # type: ignore[return-value]

    def select_key(self, section: KeyTableSection, name: str) -> None:
        model = self.signing_model if section is self.signing else self.trusted_model
        row = model.row_of(name)
        if row is not None:
            section.select_source_row(row)

    # -- plumbing ---------------------------------------------------------------------------

    def _submit(
        self,
        title: str,
        fn: Callable[[Any, Any], Any],
        on_result: Callable[[Any], object],
        *,
        reload: bool = True,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> None:
        self.pending += 1
        task = self.runner.submit(fn, title=title, serial=True)
        task.connect(
            on_result=on_result,
            on_error=on_error or self._show_error,
            on_finished=self._finished,
        )
        if reload:  # queued behind the change on the same serial executor
            self.refresh()

    def _finished(self) -> None:
        self.pending -= 1

    @property
    def busy(self) -> bool:
        return self.pending > 0

    def _apply_snapshot(self, snapshot: KeysSnapshot) -> None:
        keep = {
            self.signing: getattr(self.selected_signing_key(), "name", None),
            self.trusted: getattr(self.selected_trusted_key(), "name", None),
        }
        if self._focus is not None:  # what the last operation made: select it
            keep[self._focus[0]] = self._focus[1]
            self._focus = None
        self.signing_model.set_records(list(snapshot.signing))
        self.trusted_model.set_records(list(snapshot.trusted))
        for section, model in (
            (self.signing, self.signing_model),
            (self.trusted, self.trusted_model),
        ):
            section.set_has_rows(model.rowCount() > 0)
            name = keep[section]
            if name:
                self.select_key(section, name)
        self.status = snapshot.status
        self._show_status()
        if snapshot.errors:
            self._show_error_text("; ".join(snapshot.errors))
        self._update_actions()

    def _done(self, message: str, focus: tuple[KeyTableSection, str] | None = None) -> None:
        self._focus = focus
        self.message_bar.show_message("ok", "Done", message, self.icons.status("verified"))

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return
        if isinstance(exc, RelmanError):
            self._show_error_text(str(exc))
        else:  # a bug: the log gets the traceback, the page gets one line
            logger.error("keys operation failed", exc_info=exc)
            self._show_error_text(f"unexpected error: {type(exc).__name__}: {exc}")

    def _show_error_text(self, text: str) -> None:
        line = " ".join(text.split())
        self.message_bar.show_message("error", "Error", line, self.icons.status("failed"))

    def _show_status(self) -> None:
        self.status_line.show_status(self.status)

    def _update_actions(self, *_args: object) -> None:
        _icon, _text, reason = keyring_line(self.status)
        self.generate_action.setEnabled(not reason)
        self.generate_action.setToolTip(reason or "Create a new signing key in the OS keyring")
        self.import_action.setEnabled(not reason)
        self.import_action.setToolTip(reason or "Import a private key file into the OS keyring")
        has_key = self.selected_signing_key() is not None
        has_trusted = self.selected_trusted_key() is not None
        for action, enabled, tip in (
            (self.export_action, has_key, "Write the selected key's public half to a file"),
            (self.delete_action, has_key, "Delete the selected key from the OS keyring"),
            (self.untrust_action, has_trusted, "Stop accepting the selected key's signatures"),
        ):
            action.setEnabled(enabled)
            needs = "a trusted key" if action is self.untrust_action else "a signing key"
            action.setToolTip(tip if enabled else f"Select {needs} first")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:  # load lazily: a window that never shows this page reads nothing
            self.refresh()
