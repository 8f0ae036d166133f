"""The details panel: the full evidence of whatever is selected (shown in the Details dock).

For a file it shows the verdict, then every check grouped by kind (checksums, signatures,
provenance): the result word, format, source file, the signer (a trusted key's name and
fingerprint, or a Sigstore identity and issuer), what a provenance says (commit, source,
builder, ref, when it was signed) and the plain reason of every failure; then every digest.
Digests, fingerprints, identities and commits are monospace, shortened in the middle with the
full value on hover and a copy button. With nothing selected it says how to fill it.
"""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relman.verify.files import Check

from .evidence import (
    FACT_LABELS,
    KIND_TITLES,
    MONO_FACTS,
    grouped,
    reason,
    relative_time,
    signer_of,
)
from .icons import IconSet
from .verify_model import STATUS_WORDS, VerifyRow, human_size

logger = logging.getLogger(__name__)

EMPTY_TEXT = "Select a file to see every check and digest here."


def breakable(text: str, every: int = 16) -> str:
    """Let long unbroken runs (hex digests, paths) wrap: a zero-width space every ``every``."""
    return re.sub(rf"(\S{{{every}}})(?=\S)", "\\1\u200b", text)


def _label(
    text: str, name: str, *, wrap: bool = True, selectable: bool = True, rich: bool = False
) -> QLabel:
    label = QLabel(breakable(text) if wrap and not rich else text)
    label.setWordWrap(wrap)
    label.setAccessibleName(name)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ElidedLabel(QLabel):
    """A one-line monospace value shortened in the middle to fit, the full value on hover."""

    def __init__(self, value: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = value
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setToolTip(value)
        self.setAccessibleName(name)
        self.setAccessibleDescription(value)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(40, self.width())
        self.setText(
            self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width)
        )


class DetailsPanel(QScrollArea):
    """Shows one :class:`VerifyRow` (or an empty-state hint)."""

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self._row: VerifyRow | None = None
        self.setWidgetResizable(True)
        # Everything wraps to the dock's width; a sideways scroll bar would hide the reason.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Details")
        self.setMinimumWidth(300)
        self.show_row(None)

    @property
    def row(self) -> VerifyRow | None:
        return self._row

    def copy_buttons(self) -> list[QToolButton]:
        """Every copy button, in the order shown (checks first, then digests)."""
        return [b for b in self.findChildren(QToolButton) if b.objectName() == "copyValue"]

    def values(self) -> dict[str, str]:
        """Accessible name -> full value of every monospace value shown (for tests, a11y)."""
        return {v.accessibleName(): v.full_text for v in self.findChildren(ElidedLabel)}

    def show_row(self, row: VerifyRow | None) -> None:
        self._row = row
        body = QWidget()
        layout = QVBoxLayout(body)
        if row is None:
            hint = _label(EMPTY_TEXT, "Details hint", selectable=False)
            hint.setProperty("role", "hint")
            hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(hint)
        else:
            self._fill(layout, row)
        layout.addStretch(1)
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(body)

    # -- building blocks -------------------------------------------------------------------

    def _value(self, value: str, name: str, what: str) -> QHBoxLayout:
        """A monospace value with a copy button."""
        line = QHBoxLayout()
        line.setSpacing(4)
        line.addWidget(ElidedLabel(value, name), 1)
        copy = QToolButton()
        copy.setObjectName("copyValue")
        copy.setIcon(self._icons.icon("copy"))
        copy.setAutoRaise(True)
        copy.setToolTip(f"Copy the {what}")
        copy.setAccessibleName(f"Copy {what}")
        copy.clicked.connect(lambda _=False, v=value: QGuiApplication.clipboard().setText(v))
        line.addWidget(copy)
        return line

    def _status_icon(self, ok: bool, size: int, name: str) -> QLabel:
        mark = QLabel()
        mark.setPixmap(self._icons.status("verified" if ok else "failed").pixmap(size, size))
        mark.setAccessibleName(name)
        return mark

    # -- the row ---------------------------------------------------------------------------

    def _fill(self, layout: QVBoxLayout, row: VerifyRow) -> None:
        header = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(self._icons.status(row.status).pixmap(24, 24))
        icon.setAccessibleName("Result icon")
        header.addWidget(icon)
        word = _label(STATUS_WORDS.get(row.status, row.status), "Result", wrap=False)
        word.setObjectName("pageTitle")
        header.addWidget(word)
        header.addStretch(1)
        layout.addLayout(header)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("File:", _label(row.display, "File path"))
        form.addRow(
            "Size:",
            _label(
                f"{human_size(row.size)} ({row.size:,} bytes)"
                if row.size is not None
                else "unknown",
                "File size",
            ),
        )
        form.addRow("Reason:", _label(row.reason or "—", "Reason"))
        layout.addLayout(form)

        result = row.result
        if result is None or not result.checks:
            checks = QGroupBox("Checks")
            checks.setAccessibleName("Checks")
            checks_layout = QVBoxLayout(checks)
            none = _label(
                "No checks ran."
                if result is None
                else "Nothing to compare against: no checksum, no signature, no provenance.",
                "No checks",
            )
            none.setProperty("role", "hint")
            checks_layout.addWidget(none)
            layout.addWidget(checks)
        else:
            number = 0
            for kind, group in grouped(result.checks):
                title = KIND_TITLES.get(kind, kind.capitalize())
                box = QGroupBox(f"{title} ({len(group)})")
                box.setAccessibleName(title)
                box_layout = QVBoxLayout(box)
                for check in group:
                    number += 1
                    box_layout.addWidget(self._check_card(check, number))
                layout.addWidget(box)

        digests = QGroupBox("Digests")
        digests.setAccessibleName("Digests")
        digests_layout = QFormLayout(digests)
        values = dict(result.digests) if result is not None else {}
        if not values:
            none = _label("Not hashed.", "No digests")
            none.setProperty("role", "hint")
            digests_layout.addRow(none)
        for algorithm, value in sorted(values.items()):
            digests_layout.addRow(
                f"{algorithm}:", self._value(value, f"{algorithm} digest", f"{algorithm} digest")
            )
        layout.addWidget(digests)

    def _check_card(self, check: Check, number: int) -> QFrame:
        """One check: result word, format, source, signer, facts and the reason."""
        card = QFrame()
        card.setObjectName("checkCard")
        card.setProperty("outcome", "ok" if check.ok else "failed")
        card.setAccessibleName(f"Check {number}")
        outer = QVBoxLayout(card)
        outer.setContentsMargins(6, 6, 6, 6)
        head = QHBoxLayout()
        head.addWidget(self._status_icon(check.ok, 16, f"Check {number} icon"))
        word = "ok" if check.ok else "FAILED"
        title = _label(f"{check.kind} {word}", f"Check {number} result", wrap=False)
        title.setObjectName("checkTitle")
        head.addWidget(title)
        head.addStretch(1)
        outer.addLayout(head)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        if check.format:
            form.addRow("Format:", _label(check.format, f"Check {number} format"))
        elif check.algorithm:
            form.addRow("Algorithm:", _label(check.algorithm, f"Check {number} algorithm"))
        form.addRow("Source:", _label(check.source, f"Check {number} source"))
        signer = signer_of(check)
        if signer is not None:
            if signer.name:
                form.addRow("Key:", _label(signer.name, f"Check {number} key"))
            if signer.fingerprint:
                form.addRow(
                    "Fingerprint:",
                    self._value(signer.fingerprint, f"Check {number} fingerprint", "fingerprint"),
                )
            if signer.identity:
                form.addRow(
                    "Identity:",
                    self._value(signer.identity, f"Check {number} identity", "signer identity"),
                )
            if signer.issuer:
                form.addRow("Issuer:", _label(signer.issuer, f"Check {number} issuer"))
        facts = check.facts
        for key, label in FACT_LABELS:
            value = facts.get(key)
            if not value:
                continue
            name = f"Check {number} {key.replace('_', ' ')}"
            if key in MONO_FACTS:
                form.addRow(f"{label}:", self._value(value, name, key))
            elif key == "signed_at":
                ago = relative_time(value)
                text = _label(f"{ago} ({value})" if ago else value, name)
                text.setToolTip(value)
                form.addRow(f"{label}:", text)
            else:
                form.addRow(f"{label}:", _label(value, name))
        why = _label(reason(check), f"Check {number} reason")
        form.addRow("Reason:" if not check.ok else "Detail:", why)
        outer.addLayout(form)
        return card
