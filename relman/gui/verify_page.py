"""The Verify page: drop zone when empty, then the results table with search and progress."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .delegates import ProgressDelegate
from .drop_zone import DropTarget, DropZone
from .icons import IconSet
from .qtcompat import emit
from .tasks import TaskRunner
from .verify_controller import VerifyController
from .verify_model import (
    COL_FILE,
    COL_PROGRESS,
    COL_RESULT,
    COL_SHA256,
    COL_SIZE,
    ObjectRole,
    VerifyProxyModel,
    VerifyRow,
    VerifyTableModel,
)

logger = logging.getLogger(__name__)

COLUMN_WIDTHS = {COL_FILE: 210, COL_SIZE: 70, COL_PROGRESS: 80, COL_SHA256: 140, COL_RESULT: 110}


class VerifyPage(QWidget):
    """Drop files or folders; every file is hashed once and compared with what is found."""

    #: The selected row (or None), for the details dock.
    row_selected = Signal(object)

    def __init__(self, runner: TaskRunner, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Verify page")
        self.model = VerifyTableModel(icons, self)
        self.proxy = VerifyProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.controller = VerifyController(runner, self.model, self)

        self.stack = QStackedWidget()
        self.drop_zone = DropZone(icons)
        self.drop_zone.choose_files.connect(self.choose_files)
        self.drop_zone.choose_folder.connect(self.choose_folder)
        self.stack.addWidget(self.drop_zone)
        self._drop = DropTarget(self, highlight=self.drop_zone)
        self.stack.addWidget(self._build_results())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self._drop.dropped.connect(self.add_paths)
        self.controller.session_started.connect(self._on_session_started)
        self.controller.session_finished.connect(self._on_session_finished)
        self.model.totals_changed.connect(self._update_totals)
        self._update_totals()

    def _build_results(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        top = QHBoxLayout()
        title = QLabel("Verify")
        title.setObjectName("pageTitle")
        title.setAccessibleName("Verify title")
        top.addWidget(title)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search file, SHA-256 or result")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search results")
        for button in self.search.findChildren(QToolButton):  # the line edit's clear button
            button.setAccessibleName("Clear search")
        self.search.textChanged.connect(self.proxy.set_search)
        top.addWidget(self.search, 1)
        self.add_button = QPushButton("Add files…")
        self.add_button.setAccessibleName("Add files")
        self.add_button.clicked.connect(self.choose_files)
        top.addWidget(self.add_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel verification")
        self.cancel_button.setToolTip("Stop verifying (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        top.addWidget(self.cancel_button)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setAccessibleName("Clear results")
        self.clear_button.clicked.connect(self.clear)
        top.addWidget(self.clear_button)
        layout.addLayout(top)

        progress_line = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setAccessibleName("Verification summary")
        progress_line.addWidget(self.summary, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)  # a coarse range: fewer repaints while it moves
        self.progress.setTextVisible(True)
        self.progress.setAccessibleName("Overall progress")
        self.progress.setMaximumWidth(320)
        progress_line.addWidget(self.progress)
        layout.addLayout(progress_line)

        self.table = QTableView()
        self.table.setAccessibleName("Verification results")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # keep the order files came in
        self.table.setSortingEnabled(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(column, width)
        vertical = self.table.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        layout.addWidget(self.table, 1)
        return page

    # -- public API ----------------------------------------------------------------------

    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Verify these files and folders (what a drop or the file dialog does)."""
        self.controller.add_paths(paths)

    def cancel(self) -> bool:
        return self.controller.cancel()

    def clear(self) -> None:
        self.controller.clear()
        self.search.clear()
        self.stack.setCurrentWidget(self.drop_zone)
        emit(self.row_selected, None)

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Choose files to verify")
        if files:
            self.add_paths(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to verify")
        if folder:
            self.add_paths([folder])

    def selected_row(self) -> VerifyRow | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ObjectRole) if rows else None

    def select_source_row(self, source_row: int) -> None:
        index = self.proxy.mapFromSource(self.model.index(source_row, 0))
        self.table.selectRow(index.row())

    # -- drag and drop (forwarded to the DropTarget helper) -----------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._drop.drag_enter(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._drop.drag_move(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._drop.drag_leave()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop.drop(event)

    # -- reactions ------------------------------------------------------------------------

    def _on_session_started(self) -> None:
        self.stack.setCurrentIndex(1)
        self.cancel_button.setEnabled(True)

    def _on_session_finished(self) -> None:
        self.cancel_button.setEnabled(False)
        self._update_totals()
        self._refresh_details()

    def _on_selection(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        emit(self.row_selected, self.selected_row())

    def _refresh_details(self) -> None:
        row = self.selected_row()
        if row is not None:
            emit(self.row_selected, row)

    def _update_totals(self) -> None:
        counts = self.model.counts()
        total = self.model.rowCount()
        if total == 0:
            self.summary.setText("No files yet.")
            self.progress.setValue(0)
            self.cancel_button.setEnabled(False)
            return
        parts = [f"{total:,} file{'s' if total != 1 else ''}"]
        for status, word in (
            ("verified", "verified"),
            ("failed", "FAILED"),
            ("not-verified", "not verified"),
            ("error", "error"),
            ("cancelled", "cancelled"),
            ("hashing", "hashing"),
            ("queued", "queued"),
        ):
            if counts.get(status):
                parts.append(f"{counts[status]:,} {word}")
        self.summary.setText(" · ".join(parts))
        problems = counts["failed"] + counts["error"]
        self.summary.setProperty("outcome", "failed" if problems else "ok")
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        done, size = self.model.byte_progress()
        finished = total - counts["queued"] - counts["hashing"]
        value = done * 100 // size if size else finished * 100 // total
        self.progress.setValue(min(100, value))
        self.progress.setFormat(f"{finished:,} of {total:,} files")
