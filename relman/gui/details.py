"""The details panel: the full evidence of whatever is selected (shown in the Details dock).

For a verified file it lists every check (kind, source, result, detail) and every digest in
monospace with a copy button. With nothing selected it says how to fill it.
"""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
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
        return self.findChildren(QToolButton, "copyDigest")

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

        checks = QGroupBox("Checks")
        checks.setAccessibleName("Checks")
        checks_layout = QVBoxLayout(checks)
        result = row.result
        if result is None or not result.checks:
            none = _label(
                "No checks ran."
                if result is None
                else "Nothing to compare against: no sidecar, no list.",
                "No checks",
            )
            none.setProperty("role", "hint")
            checks_layout.addWidget(none)
        else:
            for n, check in enumerate(result.checks, 1):
                line = QHBoxLayout()
                mark = QLabel()
                mark.setPixmap(
                    self._icons.status("verified" if check.ok else "failed").pixmap(16, 16)
                )
                mark.setAccessibleName(f"Check {n} icon")
                line.addWidget(mark, 0, Qt.AlignmentFlag.AlignTop)
                text = (
                    f"<b>{check.kind}</b> — {'passed' if check.ok else 'FAILED'}<br>"
                    f"source: {_escape(breakable(check.source))}<br>"
                    f"{_escape(breakable(check.detail))}"
                )
                label = _label(text, f"Check {n}", rich=True)
                label.setTextFormat(Qt.TextFormat.RichText)
                line.addWidget(label, 1)
                checks_layout.addLayout(line)
        layout.addWidget(checks)

        digests = QGroupBox("Digests")
        digests.setAccessibleName("Digests")
        digests_layout = QFormLayout(digests)
        values = dict(result.digests) if result is not None else {}
        if not values:
            none = _label("Not hashed.", "No digests")
            none.setProperty("role", "hint")
            digests_layout.addRow(none)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for algorithm, value in sorted(values.items()):
            field = QLineEdit(value)
            field.setReadOnly(True)
            field.setFont(mono)
            field.setCursorPosition(0)
            field.setToolTip(value)
            field.setAccessibleName(f"{algorithm} digest")
            copy = QToolButton()
            copy.setObjectName("copyDigest")
            copy.setIcon(self._icons.icon("copy"))
            copy.setToolTip(f"Copy the {algorithm} digest")
            copy.setAccessibleName(f"Copy {algorithm}")
            copy.clicked.connect(lambda _=False, v=value: QGuiApplication.clipboard().setText(v))
            line = QHBoxLayout()
            line.addWidget(field, 1)
            line.addWidget(copy)
            digests_layout.addRow(f"{algorithm}:", line)
        layout.addWidget(digests)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
