"""What every table model and search proxy of the app shares.

The roles views and proxies read (:data:`SortRole`, :data:`ObjectRole`), the row/column counts
and horizontal headers of a flat table over a ``_rows`` list, a proxy that sorts by
:data:`SortRole` and searches every column, and :func:`rows_view`, the table view the pages
show them in.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

#: Row height of the record tables (fixed: a relayout after a sort or a filter is then
#: O(visible rows), not O(rows)).
ROW_HEIGHT = 26

#: A value to sort by (a number for sizes and times, not their display text).
SortRole = Qt.ItemDataRole.UserRole + 1
#: The row's own object (a result row, a build, a key record).
ObjectRole = Qt.ItemDataRole.UserRole + 2


class RowsTableModel(QAbstractTableModel):
    """A flat table over ``self._rows`` with the column titles in ``HEADERS``."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None


class SearchProxyModel(QSortFilterProxyModel):
    """Sort by :data:`SortRole` and search every column, case-insensitively."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setDynamicSortFilter(True)

    def set_search(self, text: str) -> None:
        self.setFilterFixedString(text.strip())


def rows_view(name: str, model: QAbstractItemModel, *, wrap: bool = False) -> QTableView:
    """A table of records: whole rows selected one at a time, alternating colours, no row
    numbers; rows of one fixed height unless ``wrap`` (long text wraps and rows grow)."""
    table = QTableView()
    table.setAccessibleName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    rows = table.verticalHeader()
    rows.hide()
    if not wrap:
        table.setWordWrap(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(ROW_HEIGHT)
    return table
