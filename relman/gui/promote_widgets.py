"""The parts of the Promote dialog that show evidence: values with a copy button, the signed
record at the end, and the problem panel (refused, interrupted: what happened, what to do).

Digests and fingerprints are monospace, shortened in the middle with the full value on hover
and a copy button; the record's DSSE envelope is shown as indented JSON with its in-toto
Statement decoded below it, selectable and copyable as a whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relman.keystore import SigningKey
from relman.release.audit import Entry
from relman.release.promotion import Approved, Outcome

from .details import ElidedLabel
from .icons import IconSet

logger = logging.getLogger(__name__)


class ValueLine(QWidget):
    """A monospace value shortened in the middle, with a copy button."""

    def __init__(self, icons: IconSet, name: str, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.label = ElidedLabel("", name)
        layout.addWidget(self.label, 1)
        self.copy_button = QToolButton()
        self.copy_button.setObjectName("copyValue")
        self.copy_button.setIcon(icons.icon("copy"))
        self.copy_button.setAutoRaise(True)
        self.copy_button.setToolTip(f"Copy the {what}")
        self.copy_button.setAccessibleName(f"Copy {what}")
        self.copy_button.clicked.connect(self.copy)
        layout.addWidget(self.copy_button)

    @property
    def value(self) -> str:
        return self.label.full_text

    def set_value(self, value: str) -> None:
        label = ElidedLabel(value, self.label.accessibleName())
        layout = self.layout()
        layout.replaceWidget(self.label, label)
        self.label.deleteLater()
        self.label = label
        self.copy_button.setEnabled(bool(value))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.value)


def readable_record(record: bytes) -> str:
    """The record's in-toto Statement (its payload, decoded) as indented JSON, then the DSSE
    envelope as stored (payload and signatures)."""
    try:
        envelope = json.loads(record)
    except ValueError:
        return record.decode("utf-8", "replace")
    stored = json.dumps(envelope, indent=2, sort_keys=True, ensure_ascii=False)
    text = f"// the DSSE envelope, as stored:\n{stored}"
    try:
        statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
    except (KeyError, TypeError, ValueError, binascii.Error):
        return text
    decoded = json.dumps(statement, indent=2, sort_keys=True, ensure_ascii=False)
    return f"// the signed in-toto Statement (the payload, decoded):\n{decoded}\n\n{text}"


class RecordPanel(QGroupBox):
    """What a finished promotion (or approval) left behind: digest, signer, audit entries, and
    the signed record itself."""

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__("Signed promotion record", parent)
        self.setAccessibleName("Signed promotion record")
        self._icons = icons
        self.raw = b""
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.icon = QLabel()
        self.icon.setAccessibleName("Result icon")
        head.addWidget(self.icon)
        self.headline = QLabel()
        self.headline.setObjectName("checkTitle")
        self.headline.setAccessibleName("Result")
        self.headline.setWordWrap(True)
        head.addWidget(self.headline, 1)
        layout.addLayout(head)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.digest = ValueLine(icons, "Record SHA-256", "record SHA-256")
        self.signer = QLabel()
        self.signer.setAccessibleName("Signed by")
        self.signer.setWordWrap(True)
        self.fingerprint = ValueLine(icons, "Signer fingerprint", "signer fingerprint")
        self.readback = QLabel()
        self.readback.setAccessibleName("Read-back")
        self.readback.setWordWrap(True)
        self.audit = QLabel()
        self.audit.setAccessibleName("Audit entries")
        self.audit.setWordWrap(True)
        self.labels = {}
        for title, widget in (
            ("SHA-256:", self.digest),
            ("Signed by:", self.signer),
            ("Fingerprint:", self.fingerprint),
            ("Read-back:", self.readback),
            ("Audit log:", self.audit),
        ):
            label = QLabel(title)
            self.labels[title] = label
            form.addRow(label, widget)
        layout.addLayout(form)
        self.json = QPlainTextEdit()
        self.json.setReadOnly(True)
        self.json.setAccessibleName("Record JSON")
        self.json.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.json.setMinimumHeight(120)
        self.json.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.json, 1)
        self.copy_json = QPushButton("Copy record JSON")
        self.copy_json.setAccessibleName("Copy record JSON")
        self.copy_json.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.raw.decode("utf-8", "replace"))
        )
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_json)
        layout.addLayout(buttons)

    def show_outcome(self, outcome: Outcome, key: SigningKey | None, resumed: bool = False) -> None:
        steps = outcome.steps
        done = "resumed and finished" if resumed else "done"
        self.setTitle("Signed promotion record")
        self.icon.setPixmap(self._icons.icon("verified").pixmap(20, 20))
        self.headline.setText(
            f"Promoted {steps.request.build} to {steps.request.target} ({done}): "
            f"{len(outcome.writes)} writes made"
        )
        self.digest.set_value(outcome.record_sha256)
        self._show_signer(key)
        mark = "✓" if outcome.readback.ok else "✗"
        self.readback.setText(f"{mark} {outcome.readback.detail}")
        self.audit.setText(
            f"entry {outcome.intent} (intent) and entry {outcome.outcome} (outcome), "
            "each signed and chained to the one before"
        )
        self._set_rows(readback=True)
        self.raw = outcome.record
        self.json.setPlainText(readable_record(outcome.record))
        self.json.show()
        self.copy_json.show()
        self.show()

    def show_approval(self, approved: Approved, key: SigningKey | None, stored: str) -> None:
        self.setTitle("Signed approval")
        self.icon.setPixmap(self._icons.icon("verified").pixmap(20, 20))
        self.headline.setText(
            f"Approved plan {approved.digest[:12]}…: stored as {stored}; it counts for a "
            "promoter whose key is not yours"
        )
        self.digest.set_value(approved.sha256)
        self._show_signer(key)
        self.audit.setText("an approval entry, signed with your key")
        self._set_rows(readback=False)
        self.raw = b""
        self.json.hide()
        self.copy_json.hide()
        self.show()

    def _show_signer(self, key: SigningKey | None) -> None:
        if key is None:
            self.signer.setText("unknown key")
            self.fingerprint.set_value("")
            return
        self.signer.setText(f"{key.name} ({key.kind}), from the OS keyring")
        self.fingerprint.set_value(key.fingerprint)

    def _set_rows(self, *, readback: bool) -> None:
        self.readback.setVisible(readback)
        self.labels["Read-back:"].setVisible(readback)


class ProblemPanel(QFrame):
    """What went wrong, in plain words, and what to do; Resume / Undo buttons for an
    interrupted promotion (:attr:`entry` is the audit entry they act on)."""

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self.entry: Entry | None = None
        self.kind = ""
        self.setObjectName("messageBar")
        self.setAccessibleName("Problem")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "QFrame#messageBar { border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(alternate-base); }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.icon = QLabel()
        self.icon.setAccessibleName("Problem icon")
        layout.addWidget(self.icon)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Problem text")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text, 1)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setAccessibleName("Resume the interrupted promotion")
        self.resume_button.setToolTip(
            "Make the writes not yet made, read the registry back, sign and store the record"
        )
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo the interrupted promotion")
        self.undo_button.setToolTip("Revert the writes the interrupted promotion made")
        layout.addWidget(self.resume_button)
        layout.addWidget(self.undo_button)
        self.hide()

    def show_problem(self, kind: str, word: str, message: str, entry: Entry | None = None) -> None:
        """``kind``: ``error``, ``warning`` or ``ok`` (the word says it too)."""
        self.kind = kind
        self.entry = entry
        icon = {"error": "failed", "warning": "not-verified"}.get(kind, "verified")
        self.icon.setPixmap(self._icons.icon(icon).pixmap(20, 20))
        self.text.setText(f"<b>{_escape(word)}:</b> {_escape(message)}")
        self.text.setToolTip(message)
        self.setAccessibleDescription(f"{word}: {message}")
        self.resume_button.setVisible(entry is not None)
        self.undo_button.setVisible(entry is not None)
        self.show()

    def message(self) -> str:
        return self.text.toolTip()

    def clear(self) -> None:
        self.kind = ""
        self.entry = None
        self.hide()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
