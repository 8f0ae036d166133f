"""The Promote dialog's window: its parts, laid out, and how each shows what it is given.

:class:`PromoteWindow` builds the window UX.md draws (what, from, to; the checks beside the
plan; the approvals; the key; the typed identity; Promote and Cancel, Cancel the default) and
fills it in; :class:`~relman.gui.promote_dialog.PromoteDialog` adds the behaviour (the work on
the task runner, the states, which button is enabled and why).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from relman.keystore import SigningKey
from relman.release.plan import Plan, Request

from .icons import IconSet
from .promote_model import ArtifactsModel, ChecksModel, WritesModel
from .promote_widgets import ProblemPanel, RecordPanel, ValueLine

PROMOTE, APPROVE = "promote", "approve"


class PromoteWindow(QDialog):
    """The parts of the Promote dialog for ``request`` in ``mode`` (promote or approve)."""

    def __init__(
        self, request: Request, icons: IconSet, mode: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.request = request
        self.icons = icons
        self.mode = mode
        self.keys: tuple[SigningKey, ...] = ()
        self._build()

    @property
    def verb(self) -> str:
        if self.mode == APPROVE:
            return "Approve"
        return "Roll back" if self.request.rollback else "Promote"

    def _build(self) -> None:
        request = self.request
        if self.mode == APPROVE:
            title = f"Approve the promotion of {request.build} to {request.target}"
        elif request.rollback:
            title = f"Roll back {request.target} to {request.build}"
        else:
            title = f"Promote {request.build}"
        self.setWindowTitle(title)
        self.setAccessibleName(f"{self.verb} dialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.resize(1120, 800)

        self.heading = QLabel(title)
        self.heading.setObjectName("pageTitle")
        self.heading.setAccessibleName("What is promoted")
        self.route = QLabel(f"→ {request.target}")
        self.route.setObjectName("pageTitle")
        self.route.setAccessibleName("From and to")
        head = QHBoxLayout()
        head.addWidget(self.heading, 1)
        head.addWidget(self.route)
        self.subtitle = QLabel(
            "Nothing is written until you press Promote, and Promote checks everything again "
            "before it writes."
            if self.mode == PROMOTE
            else "You sign the digest of this exact plan; nothing else is written."
        )
        self.subtitle.setProperty("role", "hint")
        self.subtitle.setAccessibleName("What happens")

        self.identity = ValueLine(self.icons, "Build identity", "build identity")
        self.commit = ValueLine(self.icons, "Commit", "commit")
        self.digest = ValueLine(self.icons, "Plan digest", "plan digest")
        self.registry_label = QLabel("…")
        self.registry_label.setAccessibleName("Registry")
        self.registry_label.setWordWrap(True)
        self.artifacts = ArtifactsModel(self)
        self.artifacts_view = self._table(self.artifacts, "Artifacts", (175, 150, 170))
        what = QGroupBox("What")
        what.setAccessibleName("What")
        what_form = QFormLayout()
        what_form.addRow("Identity:", self.identity)
        what_form.addRow("Commit:", self.commit)
        what_form.addRow("Plan digest:", self.digest)
        what_form.addRow("Registry:", self.registry_label)
        what_layout = QHBoxLayout(what)
        what_layout.addLayout(what_form, 1)
        what_layout.addWidget(self.artifacts_view, 1)
        self.artifacts_view.setMaximumHeight(130)

        self.checks = ChecksModel(self.icons, self)
        self.checks_view = self._table(self.checks, "Checks", (96, 175))
        self.checks_view.setWordWrap(True)
        self.checks_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.checks_summary = QLabel()
        self.checks_summary.setAccessibleName("Checks summary")
        checks_box = QGroupBox("Checks")
        checks_box.setAccessibleName("Checks")
        checks_layout = QVBoxLayout(checks_box)
        checks_layout.addWidget(self.checks_summary)
        checks_layout.addWidget(self.checks_view, 1)

        self.writes = WritesModel(self.icons, self)
        self.writes_view = self._table(self.writes, "Planned writes", (150,))
        self.writes_view.setWordWrap(True)
        self.writes_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.plan_title = (
            "Plan (nothing written until you promote)"
            if self.mode == PROMOTE
            else "Plan (what the promoter will write)"
        )
        self.plan_box = QGroupBox(self.plan_title)
        self.plan_box.setAccessibleName("Plan")
        plan_layout = QVBoxLayout(self.plan_box)
        plan_layout.addWidget(self.writes_view)
        self.approvals_label = QLabel("Counted when the checks run.")
        self.approvals_label.setAccessibleName("Approvals")
        self.approvals_label.setWordWrap(True)
        self.approvals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        approvals_box = QGroupBox("Approvals")
        approvals_box.setAccessibleName("Approvals box")
        QVBoxLayout(approvals_box).addWidget(self.approvals_label)
        self.record = RecordPanel(self.icons)
        self.record.hide()

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.plan_box, 1)
        right_layout.addWidget(approvals_box)
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(checks_box)
        middle.addWidget(right)
        middle.setSizes([640, 480])
        middle.setChildrenCollapsible(False)
        # The record, once there is one, takes the lower part; the checks stay above it.
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.addWidget(middle)
        self.body.addWidget(self.record)
        self.body.setChildrenCollapsible(False)

        self.problem = ProblemPanel(self.icons)

        self.key_combo = QComboBox()
        self.key_combo.setAccessibleName("Signing key")
        self.key_combo.view().setAccessibleName("Signing key choices")
        self.key_combo.setMinimumContentsLength(40)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setAccessibleName("Type the build identity to confirm")
        self.confirm_edit.setPlaceholderText("the identity shown above, exactly")
        self.confirm_label = QLabel("Type the build identity to confirm:")
        self.choices = QWidget()
        form = QFormLayout(self.choices)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Approve with:" if self.mode == APPROVE else "Sign with:", self.key_combo)
        form.addRow(self.confirm_label, self.confirm_edit)
        self.show_confirm(False)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(200)
        self.progress.setAccessibleName("Progress")
        self.progress.hide()
        self.reason = QLabel()
        self.reason.setAccessibleName("Why the action is disabled")
        self.reason.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.check_button = self.buttons.addButton(
            "Check again", QDialogButtonBox.ButtonRole.ResetRole
        )
        self.check_button.setAccessibleName("Check again")
        self.check_button.setToolTip("Plan again and run every check again")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.action_button = self.buttons.addButton(
            self.verb, QDialogButtonBox.ButtonRole.ActionRole
        )
        self.action_button.setAccessibleName(self.verb)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress)
        bottom.addWidget(self.reason, 1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.subtitle)
        layout.addWidget(what)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.choices)
        layout.addLayout(bottom)
        # Cancel is the default button (Enter never promotes); set once it is in the dialog.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(button is self.cancel_button)
        if isinstance(self.cancel_button, QPushButton):
            self.cancel_button.setDefault(True)

    def _table(self, model: object, name: str, widths: tuple[int, ...]) -> QTableView:
        view = QTableView()
        view.setAccessibleName(name)
        view.setModel(model)  # type: ignore[arg-type]
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        header = view.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate(widths):
            view.setColumnWidth(column, width)
        return view

    def show_confirm(self, shown: bool) -> None:
        self.needs_identity = shown
        self.confirm_label.setVisible(shown)
        self.confirm_edit.setVisible(shown)

    def show_plan(self, plan: Plan, approvals: int, last: bool) -> None:
        """Fill in what the plan promotes; ``approvals``: how many the target's policy wants;
        ``last``: the target is the last environment (the identity must be typed)."""
        source = plan.source or "—"
        if plan.request.rollback:
            replaces = ", ".join(plan.replaces) or "nothing"
            self.route.setText(f"{plan.target}: {replaces} → {plan.build}")
        else:
            self.route.setText(f"{source} → {plan.target}")
        ident = f"  {plan.identity}" if plan.identity else "  (no identity)"
        self.heading.setText(f"{self.windowTitle()}{ident}")
        self.identity.set_value(plan.identity or "")
        self.commit.set_value(plan.node.commit or "")
        self.digest.set_value(plan.digest)
        self.registry_label.setText(plan.registry)
        self.artifacts.set_artifacts(plan.artifacts)
        self.writes.set_writes(plan.writes)
        self.plan_box.setTitle(self.plan_title)
        self.approvals_label.setText(
            f"{plan.target} requires {approvals} approval(s) by trusted keys other than "
            "the promoter's; counted when the checks run."
        )
        self.show_confirm(self.mode == PROMOTE and last and plan.identity is not None)

    def fill_keys(self, keys: tuple[SigningKey, ...], default: str | None) -> None:
        """The signing keys of this machine (public records only), ``default`` selected."""
        self.keys = keys
        combo = self.key_combo
        combo.blockSignals(True)
        combo.clear()
        if not keys:
            combo.addItem("no signing key on this machine: create one on Keys & Trust", None)
            combo.setEnabled(False)
        for key in keys:
            combo.addItem(f"{key.name} ({key.kind}, {key.fingerprint[:19]}…)", key.name)
            combo.setItemData(combo.count() - 1, key.fingerprint, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(0, combo.findData(default)))
        combo.blockSignals(False)

    def current_key(self) -> SigningKey | None:
        name = self.key_combo.currentData()
        return next((k for k in self.keys if k.name == name), None)

    def count_writes(self) -> None:
        total = self.writes.rowCount()
        self.plan_box.setTitle(f"Writes ({self.writes.made()} of {total} made)")

    def show_record(self) -> None:
        self.choices.hide()
        self.body.setSizes([300, 500])
