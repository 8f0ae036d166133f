"""Drag and drop of files and folders, and the Verify page's empty state.

:class:`DropTarget` is a small helper any widget can own (composition): it accepts local file
URLs, reports the paths and flips a ``dragActive`` property that the style sheet follows.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .icons import IconSet
from .qtcompat import emit

logger = logging.getLogger(__name__)


def local_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[str]:
    """The local files and folders a drag carries (remote URLs are ignored)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class DropTarget(QObject):
    """Handles the drag events a widget forwards to it."""

    dropped = Signal(list)

    def __init__(self, widget: QWidget, highlight: QWidget | None = None) -> None:
        super().__init__(widget)
        self._highlight = highlight or widget
        widget.setAcceptDrops(True)

    def _set_active(self, active: bool) -> None:
        self._highlight.setProperty("dragActive", active)
        style = self._highlight.style()
        style.unpolish(self._highlight)
        style.polish(self._highlight)

    def drag_enter(self, event: QDragEnterEvent) -> None:
        if local_paths(event):
            event.acceptProposedAction()
            self._set_active(True)
        else:
            event.ignore()

    def drag_move(self, event: QDragMoveEvent) -> None:
        if local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def drag_leave(self) -> None:
        self._set_active(False)

    def drop(self, event: QDropEvent) -> None:
        self._set_active(False)
        paths = local_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        logger.info("dropped %d path(s)", len(paths))
        emit(self.dropped, paths)


class DropZone(QFrame):
    """The empty Verify page: one large target and the buttons that do the same."""

    choose_files = Signal()
    choose_folder = Signal()

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAccessibleName("Drop zone")
        self.setAccessibleDescription("Drop downloaded files or folders here to verify them")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        art = QLabel()
        art.setPixmap(icons.icon("drop").pixmap(64, 64))
        art.setAlignment(Qt.AlignmentFlag.AlignCenter)
        art.setAccessibleName("Drop icon")
        layout.addWidget(art)
        title = QLabel("Drop downloaded files or folders here")
        title.setObjectName("dropZoneTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setAccessibleName("Drop zone title")
        layout.addWidget(title)
        hint = QLabel(
            "relman hashes each file once and checks everything it finds beside it: checksum\n"
            "sidecars and SHA256SUMS lists, signatures (.sig .asc .minisig .sigstore.json) and\n"
            "provenance (.intoto.jsonl), against the keys on the Keys & Trust page."
        )
        hint.setProperty("role", "hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        hint.setAccessibleName("Drop zone hint")
        layout.addWidget(hint)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        files = QPushButton("Choose files…")
        files.setAccessibleName("Choose files")
        files.setDefault(True)
        files.clicked.connect(self.choose_files)
        folder = QPushButton("Choose folder…")
        folder.setAccessibleName("Choose folder")
        folder.clicked.connect(self.choose_folder)
        buttons.addWidget(files)
        buttons.addWidget(folder)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(3)
