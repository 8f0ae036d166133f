"""The Verify page: drop zone when empty, then the results table with search and progress."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QPaintEvent,
)
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

from .delegates import ChecksDelegate, ProgressDelegate
from .drop_zone import DropTarget, DropZone
from .icons import IconSet
from .qtcompat import emit
from .tasks import TaskRunner
from .verify_controller import Pacer, VerifyController
from .verify_model import (
    COL_CHECKS,
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

COLUMN_WIDTHS = {
    COL_FILE: 180,
    COL_SIZE: 70,
    COL_PROGRESS: 72,
    COL_SHA256: 120,
    COL_CHECKS: 80,
    COL_RESULT: 100,
}
#: Examples of a keyless Sigstore policy (the identity is a CI workflow's certificate SAN).
IDENTITY_PLACEHOLDER = (
    "optional, e.g. https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0"
)
ISSUER_PLACEHOLDER = "optional, e.g. https://token.actions.githubusercontent.com"


class ResultsTable(QTableView):
    """The results table, which paints before verification workers run Python again.

    Painting the visible cells asks the model (Python) for a few thousand values, each call
    taking the interpreter lock anew; while a worker runs Python each take can wait for the
    lock's switch interval (5 ms), and a repaint stalled the window for 50-150 ms.
    """

    def __init__(self, pacer: Pacer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pacer = pacer

    def paintEvent(self, event: QPaintEvent) -> None:
        with self._pacer.gui_first():
            super().paintEvent(event)


class VerifyPage(QWidget):
    """Drop files or folders; every file is hashed once and compared with what is found."""

    #: The selected row (or None), for the details dock.
    row_selected = Signal(object)

    def __init__(self, runner: TaskRunner, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Verify page")
        self._icons = icons
        self.model = VerifyTableModel(icons, self)
        self.proxy = VerifyProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.controller = VerifyController(runner, self.model, self)

        self.controller.problem.connect(self.show_problem)

        self.stack = QStackedWidget()
        self.drop_zone = DropZone(icons)
        self.drop_zone.choose_files.connect(self.choose_files)
        self.drop_zone.choose_folder.connect(self.choose_folder)
        self.stack.addWidget(self.drop_zone)
        self._drop = DropTarget(self, highlight=self.drop_zone)
        self.stack.addWidget(self._build_results())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        policy = self._build_policy()
        layout.addWidget(self.notice)
        layout.addWidget(self.stack, 1)
        layout.addLayout(policy)

        self._drop.dropped.connect(self.add_paths)
        self.controller.session_started.connect(self._on_session_started)
        self.controller.session_finished.connect(self._on_session_finished)
        self.model.totals_changed.connect(self._update_totals)
        self._update_totals()

    def _build_policy(self) -> QHBoxLayout:
        """The Sigstore policy of the next drop, and a line for problems that stop a drop."""
        line = QHBoxLayout()
        line.setContentsMargins(9, 0, 9, 9)
        heading = QLabel("Sigstore policy (next drop):")
        heading.setProperty("role", "hint")
        line.addWidget(heading)
        self.identity_edit = QLineEdit()
        self.identity_edit.setPlaceholderText(IDENTITY_PLACEHOLDER)
        self.identity_edit.setAccessibleName("Signer identity")
        self.identity_edit.setToolTip(
            "The certificate identity (SAN) a keyless Sigstore signature or provenance must "
            "carry; applies to the next drop. Keys in the trust store are always used."
        )
        self.identity_edit.setClearButtonEnabled(True)
        self.issuer_edit = QLineEdit()
        self.issuer_edit.setPlaceholderText(ISSUER_PLACEHOLDER)
        self.issuer_edit.setAccessibleName("OIDC issuer")
        self.issuer_edit.setToolTip("The OIDC issuer that certified the signer identity.")
        self.issuer_edit.setClearButtonEnabled(True)
        for label_text, edit, stretch in (
            ("Signer i&dentity:", self.identity_edit, 3),
            ("OIDC iss&uer:", self.issuer_edit, 2),
        ):
            for button in edit.findChildren(QToolButton):  # the line edit's clear button
                button.setAccessibleName(f"Clear {edit.accessibleName().lower()}")
            label = QLabel(label_text)
            label.setBuddy(edit)
            line.addWidget(label)
            line.addWidget(edit, stretch)
        self.notice = QLabel()
        self.notice.setObjectName("verifyNotice")
        self.notice.setAccessibleName("Verify problem")
        self.notice.setWordWrap(False)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.setContentsMargins(9, 4, 9, 0)
        self.notice.hide()
        return line

    def policy(self) -> tuple[str | None, str | None]:
        """The Sigstore identity and issuer the next drop is verified with (None: not set)."""
        return (
            self.identity_edit.text().strip() or None,
            self.issuer_edit.text().strip() or None,
        )

    def show_problem(self, message: str) -> None:
        """One line above the table (a drop that cannot be verified at all); "" hides it."""
        first = message.strip().splitlines()[0] if message.strip() else ""
        self.notice.setText(f"⚠ error: {first}" if first else "")
        self.notice.setToolTip(message)
        self.notice.setVisible(bool(first))

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

        self.table = ResultsTable(self.controller.pacer)
        self.table.setAccessibleName("Verification results")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.table))
        self.checks_delegate = ChecksDelegate(self._icons, self.table)
        self.table.setItemDelegateForColumn(COL_CHECKS, self.checks_delegate)
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
        identity, issuer = self.policy()
        self.show_problem("")
        self.controller.add_paths(paths, identity=identity, issuer=issuer)

    def cancel(self) -> bool:
        return self.controller.cancel()

    def clear(self) -> None:
        self.controller.clear()
        self.show_problem("")
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
        outcome = "failed" if problems else "ok"
        if self.summary.property("outcome") != outcome:  # re-polishing costs milliseconds
            self.summary.setProperty("outcome", outcome)
            self.summary.style().unpolish(self.summary)
            self.summary.style().polish(self.summary)
        done, size = self.model.byte_progress()
        finished = total - counts["queued"] - counts["hashing"]
        value = done * 100 // size if size else finished * 100 // total
        self.progress.setValue(min(100, value))
        self.progress.setFormat(f"{finished:,} of {total:,} files")
