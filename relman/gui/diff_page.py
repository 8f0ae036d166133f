"""The Diff page: what one environment of the current profile holds and the other does not.

It reads nothing itself: it compares two environments of the lineage the shared
:class:`~relman.gui.lineage_loader.LineageLoader` loaded (read on the task runner, with
progress in the status bar), and runs the comparison on the task runner too
(:func:`~relman.gui.diff_model.compare`). By default it compares the profile's last two
environments (``staging`` against ``prod``: what is about to reach production). It is
read-only: nothing here promotes.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelection, QModelIndex, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from relman.errors import Cancelled, RelmanError
from relman.release.diff import check_environments
from relman.release.lineage import Lineage

from .builds_page import StateMessage
from .diff_model import (
    COL_COMMIT,
    COL_DIGEST,
    COL_ITEM,
    COL_NUMBER,
    SPANNED,
    DiffNode,
    DiffResult,
    DiffTreeModel,
    compare,
)
from .icons import IconSet
from .lineage_loader import LineageLoader
from .qtcompat import emit
from .table_base import ObjectRole
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)


class DiffPage(QWidget):
    """Two environments side by side; emits ``build_selected`` (a BuildNode or None)."""

    build_selected = Signal(object)

    def __init__(
        self,
        loader: LineageLoader,
        runner: TaskRunner,
        icons: IconSet,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Diff page")
        self.loader = loader
        self.runner = runner
        self.result: DiffResult | None = None
        self.task: Task | None = None
        self._compared: tuple[Lineage, str, str] | None = None
        self.model = DiffTreeModel(icons, self)

        top = QHBoxLayout()
        title = QLabel("Compare environments")
        title.setObjectName("pageTitle")
        title.setAccessibleName("Diff title")
        top.addWidget(title)
        top.addStretch(1)
        self.env_a = QComboBox()
        self.env_a.setAccessibleName("Environment A")
        self.env_b = QComboBox()
        self.env_b.setAccessibleName("Environment B")
        for combo in (self.env_a, self.env_b):
            combo.view().setAccessibleName(f"{combo.accessibleName()} choices")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(8)
        against = QLabel("against")
        against.setAccessibleName("against")
        self.swap_button = QPushButton("Swap")
        self.swap_button.setAccessibleName("Swap environments")
        self.swap_button.setToolTip("Compare the other way round")
        self.swap_button.clicked.connect(self.swap)
        top.addWidget(self.env_a)
        top.addWidget(against)
        top.addWidget(self.env_b)
        top.addWidget(self.swap_button)

        self.summary = QLabel()
        self.summary.setAccessibleName("Diff summary")
        self.summary.setWordWrap(True)
        self.tree = QTreeView()
        self.tree.setAccessibleName("Environment differences")
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in (
            (COL_ITEM, 300),
            (COL_NUMBER, 64),
            (COL_DIGEST, 210),
            (COL_COMMIT, 112),
        ):
            header.resizeSection(column, width)
        self.message = StateMessage("Diff status")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.tree)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)

        self.env_a.currentIndexChanged.connect(self._choice_changed)
        self.env_b.currentIndexChanged.connect(self._choice_changed)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)
        loader.changed.connect(self.refresh)
        self.refresh()

    # -- environments -------------------------------------------------------------------------

    def environments(self) -> tuple[str, str]:
        return self.env_a.currentData() or "", self.env_b.currentData() or ""

    def _fill_environments(self, names: list[str]) -> None:
        """The profile's environments; keep the choice when both still exist, else the last
        two (the step a build takes last)."""
        a, b = self.environments()
        if a not in names or b not in names or a == b:
            a, b = (names[-2], names[-1]) if len(names) >= 2 else ("", "")
        for combo, chosen in ((self.env_a, a), (self.env_b, b)):
            combo.blockSignals(True)
            combo.clear()
            for name in names:
                combo.addItem(name, name)
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
            combo.blockSignals(False)

    def choose(self, a: str, b: str) -> None:
        """Compare ``a`` against ``b`` (names of the profile's environments)."""
        for combo, name in ((self.env_a, a), (self.env_b, b)):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(name)))
            combo.blockSignals(False)
        self._choice_changed()

    def swap(self) -> None:
        a, b = self.environments()
        self.choose(b, a)

    def _choice_changed(self) -> None:
        self._compared = None
        if self.isVisible():
            self.run()

    # -- loading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Follow the loader: new environments, a new lineage, a state to say."""
        loader = self.loader
        lineage = loader.lineage
        if lineage is None:
            self._cancel_task()
            self._show_message(loader.message or "Nothing loaded yet — press F5.")
            self.summary.setText("")
            return
        self._fill_environments([env.name for env in lineage.environments])
        if self.isVisible():
            self.run()

    def run(self) -> Task | None:
        """Compare the chosen environments on the task runner, unless already shown."""
        lineage = self.loader.lineage
        if lineage is None:
            return None
        a, b = self.environments()
        names = [env.name for env in lineage.environments]
        profile = self.loader.profile.name if self.loader.profile else ""
        if len(names) < 2:
            self._show_message(
                f"Profile {profile} has {len(names)} environment(s): there is nothing to "
                "compare. Add environments to the profile (relman profile add --env …)."
            )
            return None
        try:
            check_environments(lineage.environments, a, b)
        except RelmanError as exc:
            self._show_message(f"{exc}: choose two different environments above.")
            return None
        if self._compared == (lineage, a, b):
            return None
        self._cancel_task()
        self._compared = (lineage, a, b)
        task = self.runner.submit(
            lambda progress, cancel: compare(lineage, a, b, progress, cancel),
            title=f"Comparing {a} with {b}",
            track=True,
        )
        self.task = task
        task.connect(
            on_result=lambda result: self._compared_ok(task, result),
            on_error=lambda exc: self._failed(task, exc),
        )
        self.summary.setText(f"Comparing {a} with {b} in profile {profile}…")
        if self.result is None:
            self._show_message(f"Comparing {a} with {b}…")
        return task

    def cancel(self) -> bool:
        """Stop the comparison in progress (Esc); True when there was one. The page then
        says it was cancelled."""
        if self.task is None:
            return False
        self.task.cancel()
        return True

    def _cancel_task(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _compared_ok(self, task: Task, result: DiffResult) -> None:
        if task is not self.task:
            return
        self.task = None
        self.show_result(result)

    def _failed(self, task: Task, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.task = None
        self._compared = None
        if isinstance(exc, Cancelled):
            self._show_message("Comparison cancelled — choose the environments again or F5.")
            return
        if not isinstance(exc, RelmanError):
            logger.error("comparing environments failed", exc_info=exc)
        self._show_message(f"Cannot compare: {' '.join(str(exc).split())}")

    def show_result(self, result: DiffResult) -> None:
        self.result = result
        diff = result.diff
        self.model.set_roots(result.roots)
        self._span(result.roots, QModelIndex())
        self.tree.expandAll()
        profile = self.loader.profile.name if self.loader.profile else ""
        apps = len(diff.applications)
        if not apps:
            self.summary.setText(f"Profile {profile}: {diff.a} against {diff.b}")
            self._show_message(
                f"No build is in {diff.a} or {diff.b} yet: promote a build there (or run "
                "relman demo), then press F5."
            )
            return
        if diff.same:
            verdict = f"{diff.a} and {diff.b} hold the same builds and artifacts"
        else:
            verdict = f"{result.differing} of {apps} applications differ"
        self.summary.setText(f"Profile {profile}: {diff.a} against {diff.b} — {verdict}.")
        self.stack.setCurrentWidget(self.tree)

    def _span(self, nodes: list[DiffNode] | tuple[DiffNode, ...], where: QModelIndex) -> None:
        """Application and section titles take the whole row."""
        for node in nodes:
            if node.kind in SPANNED or (node.kind == "newest" and node.build is None):
                self.tree.setFirstColumnSpanned(node.position, where, True)
            if node.children:
                self._span(node.children, self.model.index(node.position, 0, where))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    # -- selection ----------------------------------------------------------------------------

    def selected_node(self) -> DiffNode | None:
        rows = self.tree.selectionModel().selectedRows()
        return rows[0].data(ObjectRole) if rows else None

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        node = self.selected_node()
        emit(self.build_selected, node.build if node is not None else None)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.run()
