"""The Verify table: a QAbstractTableModel over plain, mutable result rows.

Rows arrive in batches (one ``beginInsertRows`` per batch) and change often while files hash.
Changes are only *recorded* when they happen; a timer flushes them every ``FLUSH_MS`` with one
``dataChanged`` over the rows touched since the last flush, so 10,000 files in flight cost the
view a handful of repaints per second, not one per callback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QFontDatabase

from relman.verify.files import FileResult
from relman.verify.hashing import display_path

from .evidence import KindSummary, checks_tooltip, summarize, verdict
from .icons import IconSet
from .qtcompat import emit
from .table_base import ObjectRole, RowsTableModel, SearchProxyModel, SortRole

logger = logging.getLogger(__name__)

FLUSH_MS = 80
#: Totals (summaries, progress bars) follow at most this often; a bar repaints synchronously.
TOTALS_MS = 250

COL_FILE, COL_SIZE, COL_PROGRESS, COL_SHA256, COL_CHECKS, COL_RESULT, COL_REASON = range(7)
HEADERS = ("File", "Size", "Progress", "SHA-256", "Checks", "Result", "Reason")

ProgressRole = Qt.ItemDataRole.UserRole + 3
#: The Checks column: a tuple of :class:`KindSummary`, one per check kind present.
ChecksRole = Qt.ItemDataRole.UserRole + 4

#: The word shown for each status; never colour alone.
STATUS_WORDS = {
    "queued": "queued",
    "hashing": "hashing",
    "verified": "verified",
    "failed": "FAILED",
    "not-verified": "not verified",
    "error": "error",
    "cancelled": "cancelled",
}
FINAL = frozenset({"verified", "failed", "not-verified", "error", "cancelled"})
#: Sort order of the Result column: the problems first.
STATUS_ORDER = {
    s: i
    for i, s in enumerate(
        ("failed", "error", "not-verified", "cancelled", "hashing", "queued", "verified")
    )
}


@dataclass(slots=True, eq=False)
class VerifyRow:
    """One file on the Verify page (plain data; the model owns the only reference)."""

    path: Path
    size: int | None = None
    status: str = "queued"
    done: int = 0
    reason: str = ""
    result: FileResult | None = None
    #: One summary per check kind (set with the result).
    kinds: tuple[KindSummary, ...] = ()

    @property
    def display(self) -> str:
        return display_path(self.path)

    @property
    def sha256(self) -> str:
        return (self.result.sha256 or "") if self.result is not None else ""

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    @property
    def checks_text(self) -> str:
        """The Checks column in words (shown to screen readers and searched)."""
        if self.result is None:
            return ""
        return ", ".join(k.text for k in self.kinds) or "no checks"

    @property
    def percent(self) -> int:
        if self.status in {"verified", "failed", "not-verified"}:
            return 100
        if not self.size:
            return 0
        return min(100, self.done * 100 // self.size)


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


class VerifyTableModel(RowsTableModel):
    """Result rows, appended in batches and updated through a coalescing flush."""

    HEADERS = HEADERS

    #: Emitted after each flush (and after appends) so summaries and progress bars follow.
    totals_changed = Signal()

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self._rows: list[VerifyRow] = []  # typed here; RowsTableModel counts them
        self._dirty: set[int] = set()
        # Totals kept up to date on every change: summing 10,000 rows per flush is a stall.
        self._counts: dict[str, int] = dict.fromkeys(STATUS_WORDS, 0)
        self._bytes_done = 0
        self._bytes_total = 0
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)
        self._totals_timer = QTimer(self)
        self._totals_timer.setSingleShot(True)
        self._totals_timer.setInterval(TOTALS_MS)
        self._totals_timer.timeout.connect(self._emit_totals)

    # -- Qt model API --------------------------------------------------------------------

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        return self._data(self._rows[index.row()], index.column(), role)

    def multiData(
        self, index: QModelIndex | QPersistentModelIndex, span: QModelRoleDataSpan
    ) -> None:
        """Every role a delegate asks for in one call (a repaint makes a few thousand fewer
        calls into Python, each of which may wait for the interpreter lock)."""
        if not index.isValid() or index.row() >= len(self._rows):
            for item in span:
                item.clearData()
            return
        row, column = self._rows[index.row()], index.column()
        for item in span:
            item.setData(self._data(row, column, item.role()))

    def _data(self, row: VerifyRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == ObjectRole:
            return row
        if role == SortRole:
            return self._sort_key(row, column)
        if role == ProgressRole:
            return row.percent
        if role == ChecksRole:
            return row.kinds
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COL_RESULT:
            return self._icons.status(row.status)
        if role == Qt.ItemDataRole.FontRole and column == COL_SHA256:
            return QFont(self._mono)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_SIZE, COL_PROGRESS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._display(row, column)
        return None

    def _display(self, row: VerifyRow, column: int) -> str:
        if column == COL_FILE:
            return row.display
        if column == COL_SIZE:
            return human_size(row.size)
        if column == COL_PROGRESS:
            return f"{row.percent}%" if row.status != "error" else ""
        if column == COL_SHA256:
            return row.sha256
        if column == COL_CHECKS:
            return row.checks_text
        if column == COL_RESULT:
            return STATUS_WORDS.get(row.status, row.status)
        if column == COL_REASON:
            return row.reason
        return ""

    def _sort_key(self, row: VerifyRow, column: int) -> Any:
        if column == COL_SIZE:
            return row.size if row.size is not None else -1
        if column == COL_PROGRESS:
            return row.percent
        if column == COL_RESULT:
            return STATUS_ORDER.get(row.status, len(STATUS_ORDER))
        if column == COL_CHECKS:  # failed kinds first, then by how much evidence there is
            return -10 * sum(k.failed for k in row.kinds) - len(row.kinds)
        return self._display(row, column).casefold()

    def _tooltip(self, row: VerifyRow, column: int) -> str | None:
        if column == COL_SHA256:
            return row.sha256 or None
        if column == COL_FILE:
            return row.display
        if column == COL_SIZE and row.size is not None:
            return f"{row.size:,} bytes"
        if column == COL_CHECKS:
            return checks_tooltip(row.result.checks) if row.result is not None else None
        if column in (COL_REASON, COL_RESULT):
            return row.reason or None
        return None

    # -- changes (recorded now, shown at the next flush) ----------------------------------

    def append_rows(self, rows: list[VerifyRow]) -> int:
        """Append a batch with one insert; returns the index of its first row."""
        first = len(self._rows)
        if rows:
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            for row in rows:
                self._account(row, 1)
            self.endInsertRows()
            self._notify_totals()
        return first

    def row(self, index: int) -> VerifyRow:
        return self._rows[index]

    def rows(self) -> list[VerifyRow]:
        return list(self._rows)

    def set_progress(self, index: int, done: int, total: int) -> None:
        row = self._rows[index]
        if row.finished:
            return
        self._account(row, -1)
        row.done = done
        if row.size is None or total > 0:
            row.size = total
        row.status = "hashing"
        self._account(row, 1)
        self._touch(index)

    def set_result(self, index: int, result: FileResult) -> None:
        row = self._rows[index]
        if row.status == "cancelled":
            return
        self._account(row, -1)
        row.result = result
        row.status = result.status
        row.reason = verdict(result)
        row.kinds = summarize(result.checks)
        if result.size is not None:
            row.size = result.size
        row.done = row.size or 0
        self._account(row, 1)
        self._touch(index)

    def set_results(self, results: Iterable[tuple[int, FileResult]]) -> None:
        """Record a batch of (row, result) pairs; the view hears of them at the next flush."""
        for index, result in results:
            self.set_result(index, result)

    def set_status(self, index: int, status: str, reason: str = "") -> None:
        row = self._rows[index]
        self._account(row, -1)
        row.status = status
        row.reason = reason
        self._account(row, 1)
        self._touch(index)

    def cancel_unfinished(self) -> int:
        """Mark every queued or hashing row cancelled; returns how many."""
        count = 0
        for index, row in enumerate(self._rows):
            if not row.finished:
                self._account(row, -1)
                row.status = "cancelled"
                row.reason = "cancelled before it was verified"
                self._account(row, 1)
                self._dirty.add(index)
                count += 1
        if count:
            self.flush()
        return count

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._dirty.clear()
        self._counts = dict.fromkeys(STATUS_WORDS, 0)
        self._bytes_done = self._bytes_total = 0
        self.endResetModel()
        emit(self.totals_changed)

    def _touch(self, index: int) -> None:
        self._dirty.add(index)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Tell the views about every change since the last flush, in one signal."""
        self._timer.stop()
        if not self._dirty:
            return
        first, last = min(self._dirty), max(self._dirty)
        self._dirty.clear()
        emit(self.dataChanged, self.index(first, 0), self.index(last, len(HEADERS) - 1))
        self._notify_totals()

    # -- totals ----------------------------------------------------------------------------

    def _notify_totals(self) -> None:
        if not self._totals_timer.isActive():
            self._totals_timer.start()

    def _emit_totals(self) -> None:
        emit(self.totals_changed)

    def _account(self, row: VerifyRow, sign: int) -> None:
        """Add (``sign`` 1) or remove (-1) a row's share of the totals."""
        self._counts[row.status] = self._counts.get(row.status, 0) + sign
        if row.size is None or row.status == "error":
            return
        self._bytes_total += sign * row.size
        self._bytes_done += sign * (row.size if row.finished else row.done)

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def byte_progress(self) -> tuple[int, int]:
        """(bytes done, bytes to do) over every row that has a size."""
        return self._bytes_done, self._bytes_total


class VerifyProxyModel(SearchProxyModel):
    """The shared search proxy, forwarding ``multiData`` spans in one call."""

    def multiData(
        self, index: QModelIndex | QPersistentModelIndex, span: QModelRoleDataSpan
    ) -> None:
        # QSortFilterProxyModel asks the source role by role; forward the span in one call.
        source = self.sourceModel()
        if source is None:
            for item in span:
                item.clearData()
            return
        source.multiData(self.mapToSource(index), span)
