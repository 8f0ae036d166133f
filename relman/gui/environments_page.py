"""The Environments page (the release manager's home page): the board of cards."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from relman.release.lineage import Lineage

from .builds_page import StateMessage
from .environments_model import CARD_HEIGHT, CARD_WIDTH, CardDelegate, EnvironmentsModel, NodeRole
from .icons import IconSet
from .lineage_loader import LineageLoader
from .qtcompat import emit


class EnvironmentsPage(QWidget):
    """Applications x environments; emits ``build_selected`` with the card's BuildNode."""

    build_selected = Signal(object)
    #: Two environments' headers clicked one after the other: compare them (the Diff page).
    compare_requested = Signal(str, str)

    def __init__(self, loader: LineageLoader, icons: IconSet, parent: QWidget | None = None):
        super().__init__(parent)
        self.loader = loader
        self.setAccessibleName("Environments page")
        self.model = EnvironmentsModel(self)
        self.summary = QLabel()
        self.summary.setAccessibleName("Environments summary")
        self.board = QTableView()
        self.board.setAccessibleName("Environments board")
        self.board.setModel(self.model)
        self.board.setItemDelegate(CardDelegate(icons, self.board))
        self.board.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.board.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.board.setShowGrid(False)
        self.board.setWordWrap(False)
        self.board.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.board.horizontalHeader().setMinimumSectionSize(CARD_WIDTH)
        self.board.horizontalHeader().setHighlightSections(False)
        self.board.verticalHeader().setHighlightSections(False)
        self.board.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.board.verticalHeader().setDefaultSectionSize(CARD_HEIGHT)
        self.message = StateMessage("Environments status")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.board)
        layout = QVBoxLayout(self)
        self.summary_row = QHBoxLayout()
        self.summary_row.addWidget(self.summary, 1)
        layout.addLayout(self.summary_row)
        layout.addWidget(self.stack, 1)
        self.board.selectionModel().selectionChanged.connect(self._selection_changed)
        header = self.board.horizontalHeader()
        header.setToolTip("Click two environments' headers to compare them")
        header.sectionClicked.connect(self._header_clicked)
        self._compare_first: str | None = None
        loader.changed.connect(self.refresh)
        self._shown: Lineage | None = None
        self.refresh()

    def refresh(self) -> None:
        loader = self.loader
        lineage = loader.lineage
        if lineage is not self._shown:
            self._shown = lineage
            self.model.set_lineage(lineage)
        if lineage is None:
            self.message.setText(loader.message or "Nothing loaded yet — press F5.")
            self.stack.setCurrentWidget(self.message)
            self.summary.setText("")
        elif not self.model.apps:
            self.message.setText(
                "No build is in any environment yet: publish and deploy a build (or run "
                "`relman demo`), then press F5."
            )
            self.stack.setCurrentWidget(self.message)
        else:
            name = loader.profile.name if loader.profile else ""
            movable = sum(
                self.model.card(a, e).may_promote for a in self.model.apps for e in self.model.envs
            )
            self.summary.setText(
                f"Profile {name}: {len(self.model.apps)} applications × "
                f"{len(self.model.envs)} environments — {movable} builds ready to promote"
            )
            self.stack.setCurrentWidget(self.board)

    def add_build_actions(self, toolbar: QToolBar, actions: Sequence[QAction]) -> None:
        """Promote / roll back / approve the selected build (issue 6): ``toolbar`` beside the
        summary, ``actions`` in the board's context menu."""
        self.summary_row.addWidget(toolbar)
        self.board.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.board.addActions(list(actions))

    def _header_clicked(self, column: int) -> None:
        """The first header names one side of a comparison, the next another: their diff."""
        if not 0 <= column < len(self.model.envs):
            return
        env = self.model.envs[column]
        first, self._compare_first = self._compare_first, None
        if first is None or first == env:
            self._compare_first = env if first is None else None
            self.summary.setText(
                f"Compare {env} with… (click another environment's header)"
                if self._compare_first
                else "Comparison cancelled"
            )
            return
        self.refresh()
        emit(self.compare_requested, first, env)

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = self.board.selectionModel().selectedIndexes()
        node = indexes[0].data(NodeRole) if indexes else None
        emit(self.build_selected, node)
