"""The Approvals inbox: promotions the current profile's policy will not let through without
approvals, and the approvals each has.

For every build of the loaded lineage whose next environment (the one after the furthest it
is in) requires approvals, a worker computes the digest of the plan an approver would sign
(:func:`~relman.release.plan.plan_digest`, exactly as the engine computes it), reads the
build's approvals from the registry and counts them with the engine's own
:func:`~relman.release.approvals.tally` (valid signatures by trusted keys over this plan; who
the promoter will be is not known yet, so each is listed with its signer). Approve… and
Promote… open the Promote dialog; on a read-only (auditor) profile both are hidden and the
inbox is a list to read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from relman.errors import Cancelled, RelmanError
from relman.model import CancelToken, Profile, ProgressCallback
from relman.registry import open_registry, opened
from relman.registry.base import Registry
from relman.release import approvals
from relman.release.lineage import BuildNode, Lineage
from relman.release.plan import Request, plan_digest
from relman.release.policy import load_policy
from relman.verify.files import default_context

from .builds_model import shorten_middle
from .builds_page import StateMessage
from .icons import IconSet
from .lineage_loader import LineageLoader
from .promote_actions import add_actions
from .promote_model import next_environment
from .qtcompat import emit
from .table_base import ObjectRole, RowsTableModel, SearchProxyModel, SortRole, rows_view
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A promotion that needs approvals: the build, from, to, the plan digest and its tally."""

    node: BuildNode
    source: str | None
    target: str
    digest: str
    tally: approvals.Tally

    @property
    def approved(self) -> bool:
        return self.tally.ok

    @property
    def count(self) -> str:
        return f"{len(self.tally.counted)} of {self.tally.required}"

    @property
    def approvers(self) -> str:
        return ", ".join(a.signer or a.approver for a in self.tally.counted) or "nobody yet"


def find_waiting(
    profile: Profile,
    lineage: Lineage,
    progress: ProgressCallback,
    cancel: CancelToken,
    opener: Callable[[Profile], Registry] = open_registry,
) -> list[Waiting]:
    """The worker's body: every promotion of ``lineage`` that needs approvals, with a tally."""
    policy = load_policy(profile)
    context = default_context()
    envs = list(policy.environments)
    wanted = []
    for node in lineage.builds:
        target = next_environment(envs, node)
        if target is not None and policy.rule(target).approvals > 0:
            wanted.append((node, target))
    with opened(profile, opener) as registry:
        found = []
        for done, (node, target) in enumerate(wanted):
            cancel.raise_if_cancelled()
            progress(done, len(wanted))
            source = policy.previous(target)
            identity = str(node.identity) if node.identity is not None else None
            artifacts = [(a.name, a.sha256) for a in node.artifacts]
            request = Request(node.name, node.number, target)
            digest = plan_digest(request, identity, source, (), artifacts)
            tally = approvals.tally(
                registry.approvals(node.name, node.number),
                build=node.label,
                target=target,
                digest=digest,
                promoter=None,
                keys=context.keys,
                required=policy.rule(target).approvals,
            )
            found.append(Waiting(node, source, target, digest, tally))
    return sorted(found, key=lambda w: (w.approved, -_stamp(w.node), w.node.label))


def _stamp(node: BuildNode) -> float:
    return node.started.timestamp() if node.started is not None else float("-inf")


class ApprovalsModel(RowsTableModel):
    """One :class:`Waiting` promotion a row."""

    HEADERS = ("Status", "Build", "Identity", "From → to", "Approvals", "Approved by")

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons

    def set_rows(self, rows: list[Waiting]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Waiting]:
        return list(self._rows)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row: Waiting = self._rows[index.row()]
        column = index.column()
        status = "approved: ready to promote" if row.approved else "waiting for approval"
        ident = str(row.node.identity) if row.node.identity is not None else "no identity"
        texts = (
            status,
            row.node.label,
            shorten_middle(ident, 12),
            f"{row.source or '—'} → {row.target}",
            row.count,
            row.approvers,
        )
        if role == Qt.ItemDataRole.DisplayRole:
            return texts[column]
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._icons.icon("verified" if row.approved else "queued")
        if role == Qt.ItemDataRole.ToolTipRole:
            return ident if column == 2 else self.detail(row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.node.label} to {row.target}: {status}, {row.count} approvals"
        if role == SortRole:
            keys = (int(row.approved), _stamp(row.node), ident, row.target)
            return keys[column] if column < len(keys) else texts[column]
        if role == ObjectRole:
            return row
        return None

    @staticmethod
    def detail(row: Waiting) -> str:
        return f"plan {row.digest[:12]}…: {row.tally.detail}"


class ApprovalsPage(QWidget):
    """The inbox. ``approve_requested`` / ``promote_requested`` (BuildNode, target) ask the
    window to open the Promote dialog; ``count_changed`` (waiting rows) feeds the sidebar."""

    approve_requested = Signal(object, str)
    promote_requested = Signal(object, str)
    count_changed = Signal(int)

    def __init__(
        self,
        runner: TaskRunner,
        loader: LineageLoader,
        icons: IconSet,
        parent: QWidget | None = None,
        opener: Callable[[Profile], Registry] = open_registry,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.loader = loader
        self.opener = opener
        self.task: Task | None = None
        self.setAccessibleName("Approvals page")
        self.model = ApprovalsModel(icons, self)
        self.proxy = SearchProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.summary = QLabel()
        self.summary.setAccessibleName("Approvals summary")
        self.summary.setWordWrap(True)
        self.approve_action = QAction(icons.icon("check-signature"), "Approve…", self)
        self.approve_action.setObjectName("approveWaiting")
        self.promote_action = QAction(icons.icon("verified"), "Promote…", self)
        self.promote_action.setObjectName("promoteWaiting")
        self.reload_action = QAction("Check again", self)
        self.reload_action.setToolTip("Read the approvals in the registry again")
        toolbar = QToolBar("Approvals")
        toolbar.setAccessibleName("Approvals actions")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.approve_action, self.promote_action, self.reload_action):
            toolbar.addAction(action)
            toolbar.widgetForAction(action).setAccessibleName(action.text().rstrip("…"))
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(toolbar)

        self.table = rows_view("Promotions waiting for approval", self.proxy, wrap=True)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((200, 150, 200, 130, 90)):
            self.table.setColumnWidth(column, width)
        add_actions(self.table, (self.approve_action, self.promote_action))
        self.detail = QLabel()
        self.detail.setAccessibleName("Approvals of the selected promotion")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = StateMessage("Approvals status")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.detail)

        self.approve_action.triggered.connect(lambda: self._request(self.approve_requested))
        self.promote_action.triggered.connect(lambda: self._request(self.promote_requested))
        self.reload_action.triggered.connect(self.reload)
        self.table.doubleClicked.connect(lambda _index: self.approve_action.trigger())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        loader.changed.connect(self.reload)
        self.reload()

    # -- contents --------------------------------------------------------------------------

    def reload(self) -> Task | None:
        """Count the approvals of the loaded lineage's waiting promotions (on a worker)."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
        profile, lineage = self.loader.profile, self.loader.lineage
        self._update_actions()
        if profile is None or lineage is None:
            self.model.set_rows([])
            self._show_message(self.loader.message or "Nothing loaded yet — press F5.")
            return None
        self._show_message(f"Reading the approvals of profile {profile.name}…")
        opener = self.opener
        task = self.runner.submit(
            lambda progress, cancel: find_waiting(profile, lineage, progress, cancel, opener),
            title=f"Reading approvals of profile {profile.name}",
            track=True,
        )
        self.task = task
        task.connect(
            on_result=lambda rows: self._loaded(task, rows),
            on_error=lambda exc: self._failed(task, exc),
        )
        return task

    def _loaded(self, task: Task, rows: list[Waiting]) -> None:
        if task is not self.task:
            return
        self.task = None
        self.model.set_rows(rows)
        waiting = sum(not r.approved for r in rows)
        if not rows:
            self._show_message(
                "No promotion is waiting for approval: no build's next environment requires "
                "approvals (see 'relman policy show'), or none is ready to move on."
            )
        else:
            self.stack.setCurrentWidget(self.table)
            self.summary.setText(
                f"{waiting} waiting for approval, {len(rows) - waiting} approved and ready to "
                "promote. Approve… signs the plan's digest with your key."
            )
        self._update_actions()
        emit(self.count_changed, waiting)

    def _failed(self, task: Task, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.task = None
        if isinstance(exc, Cancelled):
            self._show_message("Reading the approvals was cancelled — press Check again.")
            return
        if not isinstance(exc, RelmanError | OSError):
            logger.error("reading approvals failed", exc_info=exc)
        self._show_message(f"Cannot read the approvals: {exc}")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.summary.setText("")
        self.stack.setCurrentWidget(self.message)

    # -- selection and actions -------------------------------------------------------------

    def selected(self) -> Waiting | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ObjectRole) if rows else None

    def _selection_changed(self) -> None:
        row = self.selected()
        self.detail.setText(ApprovalsModel.detail(row) if row is not None else "")
        self._update_actions()

    def _update_actions(self) -> None:
        profile = self.loader.profile
        read_only = profile is not None and profile.read_only
        row = self.selected()
        for action in (self.approve_action, self.promote_action):
            action.setVisible(not read_only)
        self.approve_action.setEnabled(row is not None)
        self.promote_action.setEnabled(row is not None and row.approved)
        if row is None:
            tip = "Select a promotion first"
        elif row.approved:
            tip = f"Check and promote {row.node.label} into {row.target}"
        else:
            tip = f"{row.node.label} has {row.count} required approvals: it needs approving first"
        self.promote_action.setToolTip(tip)

    def _request(self, signal: Signal) -> None:
        row = self.selected()
        if row is not None and not (self.loader.profile and self.loader.profile.read_only):
            emit(signal, row.node, row.target)
