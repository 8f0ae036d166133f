"""Help → About relman: version, Qt and Python versions, and where the log is."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from relman import APP_ID, __version__
from relman.paths import resolve


def about_text() -> str:
    return (
        f"<h3>relman {__version__}</h3>"
        "<p>Build once, promote by metadata, verify before trust.</p>"
        f"<p>Qt {qVersion()} · PySide6 {pyside_version} · Python {platform.python_version()}"
        f" ({platform.python_implementation()})<br>"
        f"App id: {APP_ID}<br>Log: {resolve().log_file}</p>"
    )


class AboutDialog(QDialog):
    def __init__(self, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About relman")
        self.setAccessibleName("About relman")
        art = QLabel()
        art.setPixmap(icon.pixmap(64, 64))
        art.setAccessibleName("relman icon")
        self.text = QLabel(about_text())
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setWordWrap(True)
        self.text.setAccessibleName("About text")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.setAccessibleName("About buttons")
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        row = QHBoxLayout()
        row.addWidget(art, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
