"""The Builds table: one row per build of the loaded lineage, sorted and filtered fast.

Everything a row shows, sorts by or is searched for is computed once, when the lineage
arrives (:class:`BuildRow`). The model does both the sorting and the filtering itself, so that
no per-row call goes from C++ into Python:

* each column's ascending order (positions into the rows as loaded) is computed once, lazily or
  on zero-timers after the rows arrive, one column per tick; descending is that list reversed.
  A sort is then one list comprehension, reported as a layout change with the persistent
  indexes (the selection) moved;
* a filter is matched against precomputed lower-case strings in one list comprehension (and,
  while the search only grows, only over the rows the previous search kept); no filter means no
  pass at all. The model then shows only the matching rows, again as one layout change.

The proxy (:class:`BuildsProxyModel`) keeps the filter settings and hands ``sort`` and the
filter to the model; it does not override ``filterAcceptsRow``, so its own mapping is C++ only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFont, QFontDatabase, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from relman.release.lineage import BuildNode, Lineage

from .icons import IconSet
from .qtcompat import emit
from .table_base import ObjectRole, RowsTableModel, SortRole

logger = logging.getLogger(__name__)

#: The Findings column: a tuple of finding kinds (one badge each).
KindsRole = Qt.ItemDataRole.UserRole + 3

(
    COL_IDENTITY,
    COL_APP,
    COL_NUMBER,
    COL_STARTED,
    COL_COMMIT,
    COL_BRANCH,
    COL_FURTHEST,
    COL_FINDINGS,
) = range(8)
HEADERS = (
    "Identity",
    "Application",
    "Number",
    "Started",
    "Commit",
    "Branch",
    "Furthest",
    "Findings",
)
MONO = frozenset({COL_IDENTITY, COL_COMMIT})

#: Findings that mean the bytes or their evidence are wrong, drawn with the "failed" icon;
#: the others (process gaps) with the "not verified" icon.
SEVERE = frozenset({"rebuilt", "overwritten", "bad-signature", "untraceable"})


def shorten_middle(value: str, keep: int = 10) -> str:
    if len(value) <= 2 * keep + 1:
        return value
    return f"{value[:keep]}…{value[-keep:]}"


def relative(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "—"
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds >= 86400 * 30:
        return when.strftime("%Y-%m-%d")
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"  # pragma: no cover


def exact(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else "unknown"


def _number_key(number: str) -> tuple[int, int, str]:
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


@dataclass(slots=True, eq=False)
class BuildRow:
    """One build as the table shows it; every text and key computed once."""

    node: BuildNode
    identity: str
    identity_short: str
    commit: str
    branch: str
    started: str
    started_exact: str
    furthest: str
    kinds: tuple[str, ...]
    findings_text: str
    keys: tuple[Any, ...]
    #: Substring search: identity (full and short), label, artifact names (lower case).
    text_blob: str
    #: Prefix search: "\n" + commit and every artifact SHA-256 (lower case).
    prefix_blob: str
    extra: dict[str, Any] = field(default_factory=dict)


def make_rows(lineage: Lineage, now: datetime | None = None) -> list[BuildRow]:
    now = now or datetime.now(UTC)
    order = {e.name: i for i, e in enumerate(lineage.environments)}
    rows = []
    for node in lineage.builds:
        ident = node.identity
        full = ident.full if ident else ""
        short = str(ident) if ident else "untraceable (no identity)"
        commit = node.commit or ""
        kinds = tuple(dict.fromkeys(f.kind for f in lineage.findings_of(node)))
        started = node.started
        stamp = started.timestamp() if started else float("-inf")
        furthest = node.furthest or ""
        names = [a.name for a in node.artifacts]
        shas = [a.sha256 for a in node.artifacts if a.sha256]
        rows.append(
            BuildRow(
                node=node,
                identity=full or short,
                identity_short=shorten_middle(short, 11) if ident else short,
                commit=commit,
                branch=node.record.vcs_branch or "",
                started=relative(started, now),
                started_exact=exact(started),
                furthest=furthest,
                kinds=kinds,
                findings_text=", ".join(kinds) if kinds else "none",
                keys=(
                    full or "~",
                    node.name.casefold(),
                    _number_key(node.number),
                    stamp,
                    commit,
                    (node.record.vcs_branch or "").casefold(),
                    order.get(furthest, -1),
                    (len(kinds), ",".join(kinds)),
                ),
                text_blob="\n".join([full, short, node.label, *names]).lower(),
                prefix_blob="\n" + "\n".join([commit, *shas]).lower(),
            )
        )
    return rows


class BuildsTableModel(RowsTableModel):
    """The rows of one lineage, filtered and sorted by cached keys (see the module doc)."""

    HEADERS = HEADERS

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        #: Every row, in the order they were set; orders and filters are positions into it.
        self._all: list[BuildRow] = []
        #: The rows shown, in display order.
        self._rows: list[BuildRow] = []
        #: Column -> positions into ``_all`` in ascending order of that column's key.
        self._orders: dict[int, list[int]] = {}
        #: Positions into ``_all`` that pass the filter (ascending), or None: no filter.
        self._matched: list[int] | None = None
        self._mono = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._sort: tuple[int, Qt.SortOrder] = (COL_STARTED, Qt.SortOrder.DescendingOrder)
        self._generation = 0

    # -- Qt model API ----------------------------------------------------------------------

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(row, column)
        if role == SortRole:
            return row.keys[column]
        if role == ObjectRole:
            return row
        if role == KindsRole:
            return row.kinds if column == COL_FINDINGS else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.FontRole and column in MONO:
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COL_NUMBER:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: BuildRow, column: int) -> str:
        node = row.node
        if column == COL_IDENTITY:
            return row.identity_short
        if column == COL_APP:
            return node.name
        if column == COL_NUMBER:
            return node.number
        if column == COL_STARTED:
            return row.started
        if column == COL_COMMIT:
            return row.commit[:12] or "—"
        if column == COL_BRANCH:
            return row.branch or "—"
        if column == COL_FURTHEST:
            return row.furthest or "none"
        if column == COL_FINDINGS:
            return row.findings_text
        return ""

    def _tooltip(self, row: BuildRow, column: int) -> str | None:
        if column == COL_IDENTITY:
            return row.identity
        if column == COL_STARTED:
            return row.started_exact
        if column == COL_COMMIT:
            return row.commit or "no commit recorded"
        if column == COL_FURTHEST:
            envs = " → ".join(row.node.environments) or "no environment"
            return f"in {envs}"
        if column == COL_FINDINGS:
            return row.findings_text
        return None

    # -- sorting and filtering ---------------------------------------------------------

    def order_of(self, column: int) -> list[int]:
        """Positions into the loaded rows in ascending order of ``column`` (computed once)."""
        order = self._orders.get(column)
        if order is None:
            keys = [r.keys[column] for r in self._all]
            order = sorted(range(len(keys)), key=keys.__getitem__)
            self._orders[column] = order
        return order

    def _warm_orders(self, generation: int, columns: list[int]) -> None:
        """Compute one column's order per event-loop turn, so that the first sort by any
        column is as quick as the next."""
        if generation != self._generation or not columns:
            return
        self.order_of(columns.pop(0))
        if columns:
            QTimer.singleShot(0, self, lambda: self._warm_orders(generation, columns))

    def _display_positions(self) -> list[int]:
        column, order = self._sort
        positions = self.order_of(column)
        if order == Qt.SortOrder.DescendingOrder:
            positions = positions[::-1]
        matched = self._matched
        if matched is not None:
            if len(matched) * 4 < len(positions):
                # few matches: sort them by their rank in the column order
                rank = self._rank(column)
                reverse = order == Qt.SortOrder.DescendingOrder
                return sorted(matched, key=rank.__getitem__, reverse=reverse)
            keep = bytearray(len(self._all))
            for i in matched:
                keep[i] = 1
            positions = [i for i in positions if keep[i]]
        return positions

    def _rank(self, column: int) -> list[int]:
        ranks = self._orders.get(-1 - column)
        if ranks is None:
            order = self.order_of(column)
            ranks = [0] * len(order)
            for rank, position in enumerate(order):
                ranks[position] = rank
            self._orders[-1 - column] = ranks
        return ranks

    def _relayout(self) -> None:
        """Show ``_all`` filtered and sorted as set, as one layout change."""
        emit(self.layoutAboutToBeChanged)
        old = self._rows
        everything = self._all
        self._rows = [everything[i] for i in self._display_positions()]
        persistent = self.persistentIndexList()
        if persistent:
            position = {id(r): i for i, r in enumerate(self._rows)}
            moved = []
            for p in persistent:
                new = position.get(id(old[p.row()])) if 0 <= p.row() < len(old) else None
                moved.append(QModelIndex() if new is None else self.index(new, p.column()))
            self.changePersistentIndexList(persistent, moved)
        emit(self.layoutChanged)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by the cached key of ``column`` (persistent indexes follow)."""
        if not 0 <= column < len(HEADERS):
            return
        if (column, order) == self._sort:
            return  # the rows are in this order already
        self._sort = (column, order)
        if self._all:
            self._relayout()

    def set_matched(self, matched: list[int] | None) -> None:
        """Show only the rows at these positions of the loaded rows (None: every row)."""
        if matched is None and self._matched is None:
            return
        self._matched = matched
        if self._all:
            self._relayout()

    # -- contents --------------------------------------------------------------------------

    def set_rows(self, rows: list[BuildRow]) -> None:
        self.beginResetModel()
        self._generation += 1
        self._all = list(rows)
        self._orders = {}
        self._matched = None
        self._rows = [self._all[i] for i in self._display_positions()]
        self.endResetModel()
        column = self._sort[0]
        rest = [c for c in range(len(HEADERS)) if c != column]
        generation = self._generation
        QTimer.singleShot(0, self, lambda: self._warm_orders(generation, rest))

    def set_lineage(self, lineage: Lineage | None) -> None:
        self.set_rows(make_rows(lineage) if lineage is not None else [])

    def rows(self) -> list[BuildRow]:
        """The rows shown, in display order."""
        return list(self._rows)

    def all_rows(self) -> list[BuildRow]:
        """Every loaded row, shown or not, in the order they were set."""
        return list(self._all)

    def total(self) -> int:
        return len(self._all)

    def row(self, row: int) -> BuildRow:
        return self._rows[row]

    def row_of(self, label: str) -> int | None:
        """The display row of the build ``label``, None if it is not shown."""
        for i, r in enumerate(self._rows):
            if r.node.label == label:
                return i
        return None

    @property
    def sort_state(self) -> tuple[int, Qt.SortOrder]:
        return self._sort


class BuildsProxyModel(QSortFilterProxyModel):
    """Search + filters; both ``sort`` and the filtering are done by the source model.

    No ``filterAcceptsRow`` override: the source only has the matching rows, and a Python
    override would be called once per row whenever the source's layout changes.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setDynamicSortFilter(False)
        self.search = ""
        self.application = ""
        self.environment = ""
        self.findings_only = False
        self._last: tuple[str, str, str, bool] | None = None

    def setSourceModel(self, model: BuildsTableModel) -> None:  # type: ignore[override]
        self._model = model
        self._last = None
        super().setSourceModel(model)

    def source(self) -> BuildsTableModel:
        model = self.sourceModel()
        assert isinstance(model, BuildsTableModel)
        return model

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.source().sort(column, order)

    def set_filters(
        self,
        *,
        search: str | None = None,
        application: str | None = None,
        environment: str | None = None,
        findings_only: bool | None = None,
    ) -> None:
        if search is not None:
            self.search = search.strip().lower()
        if application is not None:
            self.application = application
        if environment is not None:
            self.environment = environment
        if findings_only is not None:
            self.findings_only = findings_only
        self.refilter()

    def refilter(self) -> None:
        """Match the rows against the search and the filters (see the module doc)."""
        model = self.source()
        state = (self.search, self.application, self.environment, self.findings_only)
        last, self._last = self._last, state
        if not any(state):
            model.set_matched(None)
            return
        rows = model._all
        previous = model._matched
        needle, app, env, only = state
        candidates: Iterable[int] = range(len(rows))
        if (
            last is not None
            and previous is not None
            and last[1:] == state[1:]
            and last[0]
            and needle.startswith(last[0])
        ):
            candidates = previous  # the search grew: only what it matched can still match
        if app:
            candidates = [i for i in candidates if rows[i].node.name == app]
        if env:
            candidates = [i for i in candidates if env in rows[i].node.environments]
        if only:
            candidates = [i for i in candidates if rows[i].kinds]
        if needle:
            prefix = "\n" + needle
            candidates = [
                i
                for i in candidates
                if needle in rows[i].text_blob or prefix in rows[i].prefix_blob
            ]
        model.set_matched(list(candidates))


class FindingsDelegate(QStyledItemDelegate):
    """Paints :data:`KindsRole` as one badge per finding kind: an icon and the word."""

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        kinds = index.data(KindsRole)
        if not kinds:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # type: ignore[attr-defined]
        widget = opt.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = option.rect.adjusted(4, 3, -4, -3)  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = rect.left()
        for kind in kinds:
            width = 16 + 4 + metrics.horizontalAdvance(kind) + 10
            if x + width > rect.right():
                painter.setPen(palette.color(text_role))
                painter.drawText(
                    QRect(x, rect.top(), rect.right() - x, rect.height()),
                    Qt.AlignmentFlag.AlignVCenter,
                    "…",
                )
                break
            badge = QRect(x, rect.top(), width, rect.height())
            painter.setPen(palette.color(QPalette.ColorRole.Mid))
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(badge, 4, 4)
            icon = self._icons.icon("failed" if kind in SEVERE else "not-verified")
            icon.paint(painter, QRect(x + 4, badge.center().y() - 8, 16, 16))
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(badge.adjusted(24, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, kind)
            x += width + 4
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        kinds = index.data(KindsRole) or ()
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        width = sum(34 + metrics.horizontalAdvance(k) for k in kinds)
        return QSize(max(hint.width(), width), max(hint.height(), 24))
