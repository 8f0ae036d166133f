"""The Audit page (for auditors): the chain's state in words, the entries, and their evidence.

At the top, the state of the hash chain as :meth:`~relman.release.audit.AuditLog.verify` found
it: intact (how many entries, when the last one was written, who signed) or broken, each
problem named with its line, in red *and* with an icon and the word BROKEN. Below it, when the
log holds promotions that began and never ended (a crash, a network drop), a panel says so
prominently with the commands that finish or revert them. Then the entries, searchable and
filterable by event; selecting one shows its full body, ``prev`` hash and signature status in
:class:`AuditDetails`, which the main window puts in its Details dock.

Reading and verifying run on the task runner (:func:`~relman.gui.audit_model.read_audit`),
tracked in the status bar with Cancel; so does writing the exported report.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relman import paths
from relman.errors import Cancelled, InputError, RelmanError
from relman.model import CancelToken, Profile, ProgressCallback
from relman.release.audit import AuditLog

from .audit_model import (
    COL_EVENT,
    COL_FINGERPRINT,
    COL_KEY,
    COL_SEQ,
    COL_STATUS,
    COL_SUMMARY,
    COL_TIME,
    AuditProxyModel,
    AuditRow,
    AuditSnapshot,
    AuditTableModel,
    chain_details,
    chain_headline,
    read_audit,
)
from .audit_widgets import AuditDetails, ChainBanner, PendingPanel
from .builds_page import StateMessage
from .icons import IconSet
from .keys_dialogs import MessageBar, action_button
from .qtcompat import emit
from .table_base import ObjectRole, rows_view
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)

ALL_EVENTS = "All events"
SEARCH_DELAY_MS = 120


def write_report(path: Path, document: dict[str, Any]) -> Path:
    """The worker's body of Export: the report as JSON, written atomically."""
    data = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    try:
        paths.atomic_write(path, data)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report: {exc.strerror}") from None
    return path


class AuditPage(QWidget):
    """The audit log; emits ``entry_selected`` with the selected :class:`AuditRow` or None."""

    entry_selected = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        icons: IconSet,
        log: AuditLog | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Audit page")
        self.runner = runner
        self.icons = icons
        #: The log to read; None reads the data dir's log (resolved when loading).
        self.log = log
        #: The profile whose promotion records the log is checked against (the main window
        #: sets the current one); None checks the log alone.
        self.profile: Profile | None = None
        self.snapshot: AuditSnapshot | None = None
        self.task: Task | None = None
        self._loaded_once = False
        self.details = AuditDetails()
        self.model = AuditTableModel(icons, self)
        self.proxy = AuditProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self._build_actions()

        top = QHBoxLayout()
        title = QLabel("Audit log")
        title.setObjectName("pageTitle")
        title.setAccessibleName("Audit title")
        top.addWidget(title)
        self.path_label = QLabel()
        self.path_label.setProperty("role", "hint")
        self.path_label.setAccessibleName("Audit log path")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.path_label, 1)
        self.verify_button = action_button(self.verify_action, "Verify chain")
        self.export_button = action_button(self.export_action, "Export report")
        top.addWidget(self.verify_button)
        top.addWidget(self.export_button)

        self.banner = ChainBanner(icons)
        self.pending_panel = PendingPanel(icons)
        self.message_bar = MessageBar()

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search seq, event, key, fingerprint, build, body")
        self.search.setAccessibleName("Search audit entries")
        self.search.setClearButtonEnabled(True)
        for button in self.search.findChildren(QToolButton):
            button.setAccessibleName("Clear search")
        self.events = QComboBox()
        self.events.setAccessibleName("Event filter")
        self.events.view().setAccessibleName("Event filter choices")
        self.events.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.events.addItem(ALL_EVENTS, "")
        self.count = QLabel()
        self.count.setAccessibleName("Entry count")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.events)
        bar.addWidget(self.count)

        self.table = rows_view("Audit entries", self.proxy)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        # File order first (a reordered line shows where it is); a third click returns to it.
        header.setSortIndicatorClearable(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        for column, width in (
            (COL_STATUS, 86),
            (COL_SEQ, 50),
            (COL_TIME, 80),
            (COL_EVENT, 140),
            (COL_KEY, 80),
            (COL_FINGERPRINT, 140),
            (COL_SUMMARY, 150),
        ):
            header.resizeSection(column, width)
        self.message = StateMessage("Audit status")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.table)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.pending_panel)
        layout.addWidget(self.message_bar)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_search)
        self.events.currentIndexChanged.connect(self._event_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.banner.problem_clicked.connect(self.select_line)
        self.pending_panel.entry_clicked.connect(self.select_seq)
        self._show_empty_state()

    def _build_actions(self) -> None:
        self.verify_action = QAction("Verify chain", self)
        self.verify_action.setObjectName("verifyChain")
        self.verify_action.setToolTip(
            "Read the log again and check every line's hash chain, signature and the head (F5)"
        )
        self.verify_action.triggered.connect(self.verify)
        self.export_action = QAction("Export report…", self)
        self.export_action.setObjectName("exportReport")
        self.export_action.triggered.connect(self.export_report)
        self.export_action.setEnabled(False)
        self.export_action.setToolTip("Verify the chain first")
        self.refresh_shortcut = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        self.refresh_shortcut.activated.connect(self.verify)

    # -- what tests replace -------------------------------------------------------------------

    def ask_export_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the audit report", suggested, "JSON (*.json)"
        )
        return path or None

    # -- loading ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.task is not None

    def verify(self) -> Task:
        """Read and verify the log on the task runner (tracked: progress and Cancel)."""
        self._loaded_once = True
        self.cancel()
        log, profile = self.log, self.profile

        def work(progress: ProgressCallback, cancel: CancelToken) -> AuditSnapshot:
            chosen = log if log is not None else AuditLog()
            return read_audit(chosen, progress, cancel, profile=profile)

        task = self.runner.submit(work, title="Verifying the audit log", track=True)
        self.task = task
        task.connect(
            on_result=lambda snapshot: self._loaded(task, snapshot),
            on_error=lambda exc: self._failed(task, exc),
        )
        self.verify_action.setEnabled(False)
        self.banner.show_state(
            "busy", "Verifying the chain…", ["Reading every line and checking it."], "hashing"
        )
        if self.snapshot is None:
            self.message.setText("Reading and verifying the audit log…")
        return task

    def cancel(self) -> bool:
        """Cancel the verification in progress; True when there was one."""
        task, self.task = self.task, None
        if task is None:
            return False
        task.cancel()
        self._cancelled()
        return True

    def _loaded(self, task: Task, snapshot: AuditSnapshot) -> None:
        if task is not self.task:
            return
        self.task = None
        self.verify_action.setEnabled(True)
        self.show_snapshot(snapshot)

    def _failed(self, task: Task, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.task = None
        if isinstance(exc, Cancelled):
            self._cancelled()
            return
        if not isinstance(exc, RelmanError | OSError):
            logger.error("reading the audit log failed", exc_info=exc)
        line = " ".join(str(exc).split()) or type(exc).__name__
        self.verify_action.setEnabled(True)
        self.banner.show_state("error", "The audit log cannot be read", [line], "error")
        if self.snapshot is None:
            self.message.setText(f"The audit log cannot be read: {line}")

    def _cancelled(self) -> None:
        self.verify_action.setEnabled(True)
        self.banner.show_state(
            "unknown",
            "Verification cancelled",
            ["Press Verify chain (F5) to check the chain."],
            "cancelled",
        )

    def show_snapshot(self, snapshot: AuditSnapshot) -> None:
        keep = self.selected_row()
        self.snapshot = snapshot
        self.path_label.setText(str(snapshot.path))
        self.path_label.setToolTip(str(snapshot.path))
        intact = snapshot.report.ok
        self.banner.show_state(
            "intact" if intact else "broken",
            chain_headline(snapshot),
            chain_details(snapshot),
            "verified" if intact else "failed",
        )
        self.pending_panel.show_snapshot(snapshot)
        self._fill_events(snapshot.events)
        self.model.set_rows(snapshot.rows)
        self.export_action.setEnabled(True)
        self.export_action.setToolTip("Save the chain's state and every problem as JSON")
        if snapshot.rows:
            self.stack.setCurrentWidget(self.table)
        else:
            self.message.setText(
                "No entries yet. When a build is promoted, approved or rolled back, relman "
                "writes a signed entry here; relman promote --profile P --build NAME/NUMBER "
                "--to ENV makes the first."
            )
            self.stack.setCurrentWidget(self.message)
        self._update_count()
        if keep is None or not self.select_seq(keep.entry.seq):
            self._show_selected(None)

    def _show_empty_state(self) -> None:
        self.banner.show_state(
            "unknown",
            "The chain has not been checked yet",
            ["Press Verify chain (F5) to read the log and check every line."],
            "queued",
        )
        self.message.setText("Nothing read yet — press Verify chain (F5).")
        self.stack.setCurrentWidget(self.message)
        self._update_count()

    def _fill_events(self, events: list[str]) -> None:
        current = self.events.currentData()
        self.events.blockSignals(True)
        self.events.clear()
        self.events.addItem(ALL_EVENTS, "")
        for event in events:
            self.events.addItem(event, event)
        self.events.setCurrentIndex(max(0, self.events.findData(current)))
        self.events.blockSignals(False)
        self.proxy.set_filters(event=self.events.currentData() or "")

    # -- search and filter --------------------------------------------------------------------

    def apply_search(self) -> None:
        self._search_timer.stop()
        self.proxy.set_filters(search=self.search.text())
        self._update_count()

    def _event_changed(self) -> None:
        self.proxy.set_filters(event=self.events.currentData() or "")
        self._update_count()

    def set_event_filter(self, event: str) -> None:
        self.events.setCurrentIndex(max(0, self.events.findData(event)))

    def _update_count(self) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        noun = "entry" if total == 1 else "entries"
        self.count.setText(f"{shown} of {total} {noun}" if shown != total else f"{total} {noun}")

    # -- selection ----------------------------------------------------------------------------

    def visible_rows(self) -> list[AuditRow]:
        proxy = self.proxy
        return [proxy.data(proxy.index(r, 0), ObjectRole) for r in range(proxy.rowCount())]

    def selected_row(self) -> AuditRow | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ObjectRole) if rows else None

    def select_seq(self, seq: int) -> bool:
        """Select entry ``seq`` (clearing a search or filter that hides it)."""
        return self._select_source(self.model.row_of(seq))

    def select_line(self, line: int) -> bool:
        """Select the entry on line ``line`` of the file (a problem the banner names)."""
        for position, row in enumerate(self.model.rows()):
            if row.entry.line == line:
                return self._select_source(position)
        return False

    def _select_source(self, position: int | None) -> bool:
        if position is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(position, 0))
        if not index.isValid():
            self.search.clear()
            self.events.setCurrentIndex(0)
            self.apply_search()
            index = self.proxy.mapFromSource(self.model.index(position, 0))
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_selected(self.selected_row())

    def _show_selected(self, row: AuditRow | None) -> None:
        self.details.show_row(row, checked=self.snapshot is not None)
        emit(self.entry_selected, row)

    # -- export -------------------------------------------------------------------------------

    def export_report(self) -> Task | None:
        snapshot = self.snapshot
        if snapshot is None:
            return None
        stamp = snapshot.checked.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.ask_export_path(f"audit-report-{stamp}.json")
        if target is None:
            return None
        path = Path(target)
        document = snapshot.to_json()
        task = self.runner.submit(
            lambda _p, _c: write_report(path, document), title="Exporting the audit report"
        )
        task.connect(on_result=self._exported, on_error=self._export_failed)
        return task

    def _exported(self, path: Path) -> None:
        self.message_bar.show_message(
            "ok", "Exported", f"the audit report is in {path}", self.icons.status("verified")
        )

    def _export_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, RelmanError):
            logger.error("exporting the audit report failed", exc_info=exc)
        self.message_bar.show_message(
            "error", "Error", " ".join(str(exc).split()), self.icons.status("failed")
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:  # read lazily: a window that never shows this page reads nothing
            self.verify()


__all__ = ["AuditDetails", "AuditPage"]
