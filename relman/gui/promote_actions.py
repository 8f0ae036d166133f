"""The actions that open the Promote dialog: Promote…, Roll back…, Approve….

One set of actions serves every page that shows builds (Builds, Environments, Lineage; the
Approvals inbox asks through :meth:`PromoteActions.open_dialog`). They act on the build last
selected (the one the Details dock shows) and name it in their text, so it is never unclear
which build a click promotes. On a read-only (auditor) profile they are hidden everywhere;
the dialog and the work behind it refuse such a profile too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolBar, QWidget

from relman.errors import RelmanError
from relman.release.lineage import BuildNode
from relman.release.plan import Request

from .icons import IconSet
from .lineage_loader import LineageLoader
from .promote_dialog import APPROVE, PROMOTE, PromoteDialog
from .promote_model import next_environment, rollback_targets
from .qtcompat import emit
from .tasks import TaskRunner

logger = logging.getLogger(__name__)


class PromoteActions(QObject):
    """Promote / roll back / approve the selected build of ``loader``'s profile.

    ``registry_changed`` is emitted when a dialog wrote to the registry (the window reloads
    the lineage); ``refused`` carries a one-line reason a dialog could not be opened."""

    registry_changed = Signal()
    refused = Signal(str)

    def __init__(
        self, runner: TaskRunner, loader: LineageLoader, icons: IconSet, window: QWidget
    ) -> None:
        super().__init__(window)
        self.runner = runner
        self.loader = loader
        self.icons = icons
        self.window = window
        self.node: BuildNode | None = None
        self.dialog: PromoteDialog | None = None
        self.promote_action = self._action("promoteBuild", "Promote", "verified")
        self.rollback_action = self._action("rollbackBuild", "Roll back", "queued")
        self.approve_action = self._action("approveBuild", "Approve", "check-signature")
        self.promote_action.triggered.connect(lambda: self._open(PROMOTE))
        self.rollback_action.triggered.connect(lambda: self._open(PROMOTE, rollback=True))
        self.approve_action.triggered.connect(lambda: self._open(APPROVE))
        loader.changed.connect(self.refresh)
        self.refresh()

    @property
    def actions(self) -> tuple[QAction, ...]:
        return (self.promote_action, self.rollback_action, self.approve_action)

    @property
    def read_only(self) -> bool:
        profile = self.loader.profile
        return profile is not None and profile.read_only

    def _action(self, name: str, word: str, icon: str) -> QAction:
        action = QAction(self.icons.icon(icon), f"{word}…", self)
        action.setObjectName(name)
        # Toolbars show the word; menus the full text, which names the build.
        action.setIconText(word)
        return action

    def toolbar(self, name: str) -> QToolBar:
        """A small toolbar with the three actions (hidden ones take no room)."""
        bar = QToolBar(name)
        bar.setObjectName(f"{name.replace(' ', '')}Actions")
        bar.setAccessibleName(f"{name} build actions")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in self.actions:
            bar.addAction(action)
            bar.widgetForAction(action).setAccessibleName(action.iconText())
        return bar

    def set_build(self, node: object) -> None:
        self.node = node if isinstance(node, BuildNode) else None
        self.refresh()

    def targets(self) -> tuple[str | None, list[str]]:
        """The environment the selected build would be promoted into, and those that could be
        rolled back to it."""
        lineage, node = self.loader.lineage, self.node
        if lineage is None or node is None:
            return None, []
        envs = [e.name for e in lineage.environments]
        return next_environment(envs, node), rollback_targets(lineage, node)

    def refresh(self) -> None:
        for action in self.actions:
            action.setVisible(not self.read_only)
        node = self.node
        target, back = self.targets()
        label = node.label if node is not None else ""
        promote, rollback, approve = self.actions
        if node is None:
            why = "select a build first"
            for action, text in (
                (promote, "Promote…"),
                (rollback, "Roll back to this build…"),
                (approve, "Approve…"),
            ):
                action.setText(text)
                action.setEnabled(False)
                action.setToolTip(f"{text.rstrip('…')}: {why}")
            return
        if target is None:
            where = node.furthest or "no environment"
            why = f"{label} is in {where}: there is no next environment to promote it into"
            promote.setText("Promote…")
            approve.setText("Approve…")
            for action in (promote, approve):
                action.setEnabled(False)
                action.setToolTip(why)
        else:
            promote.setText(f"Promote {label} to {target}…")
            promote.setToolTip(f"Check and promote {label} into {target}")
            approve.setText(f"Approve {label} to {target}…")
            approve.setToolTip(f"Review the plan of {label} into {target} and sign its digest")
            promote.setEnabled(True)
            approve.setEnabled(True)
        if back:
            rollback.setText(f"Roll back {back[-1]} to {label}…")
            rollback.setToolTip(
                f"Return {back[-1]} to {label}: the newer builds there leave it (a planned, "
                "checked and signed promotion of its own)"
            )
        else:
            rollback.setText("Roll back to this build…")
            rollback.setToolTip(
                f"No environment can be rolled back to {label}: none held it and holds a newer "
                "build now"
            )
        rollback.setEnabled(bool(back))

    def _open(self, mode: str, *, rollback: bool = False) -> None:
        node = self.node
        target, back = self.targets()
        if node is None:
            return
        if rollback:
            target = back[-1] if back else None
        if target is not None:
            self.open_dialog(node, target, mode=mode, rollback=rollback)

    def open_dialog(
        self, node: BuildNode, target: str, *, mode: str = PROMOTE, rollback: bool = False
    ) -> PromoteDialog | None:
        """Open the dialog (window-modal) for ``node`` into ``target``; None when it cannot
        be opened (no profile, a read-only profile: ``refused`` says why)."""
        profile = self.loader.profile
        if profile is None:
            emit(self.refused, "no registry profile is selected")
            return None
        request = Request(node.name, node.number, target, rollback=rollback)
        try:
            dialog = PromoteDialog(
                self.runner, profile, request, self.icons, mode=mode, parent=self.window
            )
        except RelmanError as exc:
            emit(self.refused, str(exc))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.registry_changed.connect(lambda: emit(self.registry_changed))
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _closed(self, dialog: PromoteDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None


def add_actions(view: QWidget, actions: Sequence[QAction]) -> None:
    """Put ``actions`` in ``view``'s context menu (invisible ones are left out of the menu)."""
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    view.addActions(list(actions))
