"""The registry connection dialog: add or edit a profile, and test it before saving.

Name, kind, URL, user, token, CA bundle, records repository and the environments in promotion
order. "Test connection" runs :func:`relman.registry.connection.check_profile` on the task
runner and lists every step with an icon and a word (ok, FAILED, not tried) and the reason in
plain words: DNS, TLS, the token, the version, the repositories, what the profile names. Save
writes the profile (``profiles.toml``) and the token (the OS keyring, never the file) on the
serial executor. The token field is a password field; no text of the dialog ever shows it.

:class:`ProfileActions` puts "Add registry…" and "Edit…" on the profile toolbar.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from relman import settings
from relman.errors import RelmanError
from relman.model import Profile
from relman.registry.artifactory import ConnectionCheck
from relman.registry.connection import STEP_TITLES, check_profile, save_profile

from .connection_widgets import COL_ENV_NAME, CheckRow, EnvironmentsModel
from .icons import IconSet
from .lineage_loader import LineageLoader
from .qtcompat import emit
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)

KINDS = (("Artifactory", "artifactory"), ("Local folder", "local"))
#: The steps "Test connection" makes for each kind, in order (those not reached: "not tried").
STEPS = {
    "artifactory": (
        "server",
        "version",
        "token",
        "repositories",
        "records",
        "environments",
        "permissions",
    ),
    "local": ("folder", "environments"),
}
KEEP_TOKEN_HINT = "stored in the OS keyring — leave empty to keep it"  # noqa: S105 - a hint
TLS_HINT = "Choose the server's CA certificate (PEM) in “CA bundle” above, then test again."


class ConnectionDialog(QDialog):
    """Add (``profile`` None) or edit a registry profile; emits ``saved`` with the profile."""

    saved = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        icons: IconSet,
        profile: Profile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.icons = icons
        self.editing = profile
        title = f"Edit registry profile {profile.name}" if profile else "Add a registry"
        self.setWindowTitle(title)
        self.setAccessibleName("Registry connection")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.test_task: Task | None = None
        self.save_task: Task | None = None
        self.check_rows: list[CheckRow] = []

        self.name_edit = self._line("Profile name", "e.g. acme-artifactory")
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Registry kind")
        for text, kind in KINDS:
            self.kind_combo.addItem(text, kind)
        self.url_edit = self._line("Registry URL", "https://rt.example.com/artifactory")
        self.user_edit = self._line("User", "optional: with the token, sent as Basic auth")
        self.token_edit = self._line("Token", "an access token (kept in the OS keyring)")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.ca_edit = self._line("CA bundle", "optional: PEM file of the CAs to trust")
        self.ca_button = QPushButton("Browse…")
        self.ca_button.setAccessibleName("Choose a CA bundle file")
        self.records_edit = self._line(
            "Records repository", "default: the first environment's repository"
        )
        self.read_only_box = QCheckBox("Read-only (auditor): never promote or approve with it")
        self.read_only_box.setAccessibleName("Read-only profile")

        self.environments = EnvironmentsModel(self)
        self.env_table = QTableView()
        self.env_table.setAccessibleName("Environments in promotion order")
        self.env_table.setModel(self.environments)
        self.env_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.env_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.env_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.env_table.setMinimumHeight(120)
        self.env_table.verticalHeader().setDefaultSectionSize(24)
        self.env_buttons: dict[str, QPushButton] = {}
        env_bar = QHBoxLayout()
        for key, text in (
            ("add", "Add"),
            ("remove", "Remove"),
            ("up", "Move up"),
            ("down", "Move down"),
        ):
            button = QPushButton(text)
            button.setAccessibleName(f"{text} environment")
            env_bar.addWidget(button)
            self.env_buttons[key] = button
        env_bar.addStretch(1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Name:", self.name_edit)
        form.addRow("&Kind:", self.kind_combo)
        form.addRow("&URL:", self.url_edit)
        form.addRow("&User:", self.user_edit)
        form.addRow("&Token:", self.token_edit)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_button)
        ca_label = QLabel("&CA bundle:")
        ca_label.setBuddy(self.ca_edit)
        form.addRow(ca_label, ca_row)
        form.addRow("&Records repository:", self.records_edit)
        form.addRow("", self.read_only_box)
        envs_box = QGroupBox("Environments (in promotion order)")
        envs_box.setAccessibleName("Environments")
        envs_layout = QVBoxLayout(envs_box)
        envs_layout.addWidget(self.env_table)
        envs_layout.addLayout(env_bar)

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")
        self.hint.setAccessibleName("Hint")
        self.results_box = QGroupBox("Connection test")
        self.results_box.setAccessibleName("Connection test results")
        # In a scroll area the rows get their wrapped height (a long TLS reason takes lines).
        rows = QWidget()
        self.results_layout = QVBoxLayout(rows)
        self.results_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setAccessibleName("Connection test steps")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumHeight(250)
        scroll.setWidget(rows)
        QVBoxLayout(self.results_box).addWidget(scroll)
        self.summary = QLabel("Not tested yet: “Test connection” checks every step.")
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Connection test summary")
        self.results_layout.insertWidget(0, self.summary)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName("Save")
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.test_button = QPushButton("Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(self.test_connection)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(envs_box)
        layout.addWidget(self.results_box)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(780)

        self.ca_button.clicked.connect(self.choose_ca_bundle)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.env_buttons["add"].clicked.connect(self._add_environment)
        self.env_buttons["remove"].clicked.connect(
            lambda: self.environments.remove(self._env_row())
        )
        self.env_buttons["up"].clicked.connect(lambda: self._move_environment(-1))
        self.env_buttons["down"].clicked.connect(lambda: self._move_environment(1))
        for edit in (self.name_edit, self.url_edit, self.records_edit, self.ca_edit):
            edit.textChanged.connect(self._validate)
        self.environments.dataChanged.connect(self._validate)
        self.environments.rowsInserted.connect(self._validate)
        self.environments.rowsRemoved.connect(self._validate)
        if profile is not None:
            self._fill(profile)
        self._kind_changed()

    # -- fields ----------------------------------------------------------------------------

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    def _fill(self, profile: Profile) -> None:
        self.name_edit.setText(profile.name)
        self.name_edit.setReadOnly(True)
        self.name_edit.setToolTip("A profile keeps its name; add a new profile to rename it")
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(profile.kind)))
        self.kind_combo.setEnabled(False)
        self.url_edit.setText(profile.url)
        self.user_edit.setText(profile.user or "")
        self.token_edit.setPlaceholderText(KEEP_TOKEN_HINT)
        self.ca_edit.setText(profile.ca_bundle or "")
        self.records_edit.setText(profile.records_repo or "")
        self.read_only_box.setChecked(profile.read_only)
        self.environments.set_environments(profile.environments)

    @property
    def kind(self) -> str:
        return str(self.kind_combo.currentData())

    def _kind_changed(self) -> None:
        server = self.kind != "local"
        for widget in (
            self.user_edit,
            self.token_edit,
            self.ca_edit,
            self.ca_button,
            self.records_edit,
        ):
            widget.setEnabled(server)
        self.url_edit.setPlaceholderText(
            "https://rt.example.com/artifactory" if server else "a folder on this machine"
        )
        self._validate()

    def _env_row(self) -> int:
        rows = self.env_table.selectionModel().selectedRows()
        return rows[0].row() if rows else self.environments.rowCount() - 1

    def _add_environment(self) -> None:
        row = self.environments.add("", "label")
        index = self.environments.index(row, COL_ENV_NAME)
        self.env_table.setCurrentIndex(index)
        self.env_table.edit(index)

    def _move_environment(self, step: int) -> None:
        row = self.environments.move(self._env_row(), step)
        self.env_table.selectRow(row)

    def ask_ca_bundle(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Choose the CA bundle", "", "PEM certificates (*.pem *.crt *.cer);;All files (*)"
        )
        return path

    def choose_ca_bundle(self) -> None:
        path = self.ask_ca_bundle()
        if path:
            self.ca_edit.setText(path)

    # -- the profile -----------------------------------------------------------------------

    def profile(self) -> Profile:
        """The profile the form describes, checked by the core; a :class:`RelmanError` says
        what is wrong in one line."""
        server = self.kind != "local"
        return settings.make_profile(
            self.name_edit.text().strip(),
            self.kind,
            self.url_edit.text().strip(),
            user=(self.user_edit.text().strip() or None) if server else None,
            environments=self.environments.texts(),
            ca_bundle=(self.ca_edit.text().strip() or None) if server else None,
            records_repo=(self.records_edit.text().strip() or None) if server else None,
            read_only=self.read_only_box.isChecked(),
        )

    def token(self) -> str | None:
        """The token typed (None: none typed; editing keeps the stored one)."""
        if self.kind == "local":
            return None
        return self.token_edit.text().strip() or None

    def problem(self) -> str:
        """Why the form cannot be tested or saved yet, or ""."""
        if not self.name_edit.text().strip():
            return "Give the profile a name."
        if not self.url_edit.text().strip():
            return "Give the registry's URL" + (" (folder)." if self.kind == "local" else ".")
        for row in range(self.environments.rowCount()):
            problem = self.environments.problem(row)
            if problem:
                return problem
        try:
            self.profile()
        except RelmanError as exc:
            return str(exc)
        return ""

    def _validate(self) -> None:
        problem = self.problem()
        busy = self.save_task is not None
        self.hint.setText(problem or "Test the connection, then save.")
        self.save_button.setEnabled(not problem and not busy)
        self.save_button.setToolTip(problem or "Save the profile (the token into the OS keyring)")
        self.test_button.setEnabled(not problem and self.test_task is None and not busy)

    # -- test connection -------------------------------------------------------------------

    def test_connection(self) -> Task | None:
        """Run every step on the task runner; the rows fill in when the answer comes."""
        problem = self.problem()
        if problem or self.test_task is not None:
            self.hint.setText(problem)
            return None
        profile = self.profile()
        typed = self.token()
        editing = self.editing is not None

        def work(_progress: object, _cancel: object) -> list[ConnectionCheck]:
            token = typed
            if token is None and editing:
                token = settings.token_for(profile)  # the keyring: never on the GUI thread
            return check_profile(profile, token)

        self._show_checks(profile.kind, [], running=True)
        task = self.runner.submit(work, title=f"Testing the connection of {profile.name}")
        self.test_task = task
        task.connect(
            on_result=lambda checks: self._tested(task, profile, checks),
            on_error=lambda exc: self._test_failed(task, exc),
        )
        self._validate()
        return task

    def _tested(self, task: Task, profile: Profile, checks: list[ConnectionCheck]) -> None:
        if task is not self.test_task:
            return
        self.test_task = None
        self._show_checks(profile.kind, checks, running=False, ca_bundle=profile.ca_bundle)
        self._validate()

    def _test_failed(self, task: Task, exc: BaseException) -> None:
        if task is not self.test_task:
            return
        self.test_task = None
        self._clear_rows()
        self._set_summary(f"✗ The test could not run: {exc}", failed=True)
        if not isinstance(exc, RelmanError):
            logger.error("connection test failed", exc_info=exc)
        self._validate()

    def _clear_rows(self) -> None:
        for row in self.check_rows:
            self.results_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        self.check_rows = []

    def _show_checks(
        self,
        kind: str,
        checks: list[ConnectionCheck],
        *,
        running: bool,
        ca_bundle: str | None = None,
    ) -> None:
        self._clear_rows()
        done = {c.step: c for c in checks}
        expected = STEPS.get(kind, ())
        for step in (*expected, *(c.step for c in checks if c.step not in expected)):
            row = CheckRow(self.icons, step)
            check = done.get(step)
            if check is not None:
                detail = check.detail
                if not check.ok and "TLS:" in detail and not ca_bundle:
                    detail = f"{detail}. {TLS_HINT}"
                row.show_state(
                    "verified" if check.ok else "failed", "ok" if check.ok else "FAILED", detail
                )
            elif running:
                row.show_state("hashing", "testing…", "")
            else:
                row.show_state("queued", "not tried", "not reached: an earlier step failed")
            self.results_layout.insertWidget(self.results_layout.count() - 1, row)
            self.check_rows.append(row)
        if running:
            self._set_summary("Testing the connection…", failed=False)
            return
        failed = [c for c in checks if not c.ok]
        if not failed:
            self._set_summary(f"✓ Every step works ({len(checks)} of {len(checks)}).", False)
        else:
            first = STEP_TITLES.get(failed[0].step, failed[0].step)
            self._set_summary(
                f"✗ {len(failed)} step{'s' if len(failed) != 1 else ''} failed, the first: "
                f"{first}.",
                failed=True,
            )

    def _set_summary(self, text: str, failed: bool) -> None:
        self.summary.setText(text)
        self.summary.setProperty("outcome", "failed" if failed else "ok")
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)

    def results(self) -> dict[str, tuple[str, str]]:
        """Step -> (word, reason) as shown (for tests and screen readers)."""
        return {r.step: (r.outcome, r.detail.text()) for r in self.check_rows}

    # -- save ------------------------------------------------------------------------------

    def save(self) -> Task | None:
        """Save on the serial executor (profile file and keyring); close when it is done."""
        problem = self.problem()
        if problem or self.save_task is not None:
            self.hint.setText(problem)
            return None
        profile = self.profile()
        token = self.token()
        replace = self.editing is not None
        task = self.runner.submit(
            lambda _progress, _cancel: save_profile(profile, token, replace=replace),
            title=f"Saving profile {profile.name}",
            serial=True,
        )
        self.save_task = task
        task.connect(
            on_result=lambda _value: self._saved(task, profile),
            on_error=lambda exc: self._save_failed(task, exc),
        )
        self.hint.setText(f"Saving profile {profile.name}…")
        self._validate()
        return task

    def _saved(self, task: Task, profile: Profile) -> None:
        if task is not self.save_task:
            return
        self.save_task = None
        self.token_edit.clear()
        emit(self.saved, profile)
        self.accept()

    def _save_failed(self, task: Task, exc: BaseException) -> None:
        if task is not self.save_task:
            return
        self.save_task = None
        self._validate()
        self.hint.setText(f"Not saved: {exc}")
        if not isinstance(exc, RelmanError):
            logger.error("saving a profile failed", exc_info=exc)

    def reject(self) -> None:
        self.test_task = None  # a late answer finds no one waiting
        super().reject()


class ProfileActions(QObject):
    """ "Add registry…" and "Edit…" (the selected profile) for the profile toolbar."""

    def __init__(
        self, runner: TaskRunner, loader: LineageLoader, icons: IconSet, window: QWidget
    ) -> None:
        super().__init__(window)
        self.runner = runner
        self.loader = loader
        self.icons = icons
        self.window = window
        self.dialog: ConnectionDialog | None = None
        self.add_action = QAction("Add registry…", self)
        self.add_action.setObjectName("addRegistry")
        self.add_action.setToolTip("Add a registry profile (Artifactory or a local folder)")
        self.edit_action = QAction("Edit…", self)
        self.edit_action.setObjectName("editRegistry")
        self.add_action.triggered.connect(lambda: self.open_dialog(None))
        self.edit_action.triggered.connect(lambda: self.open_dialog(self.loader.profile))
        loader.changed.connect(self.refresh)
        loader.profiles_changed.connect(self.refresh)
        self.refresh()

    @property
    def actions(self) -> tuple[QAction, ...]:
        return (self.add_action, self.edit_action)

    def editable(self) -> bool:
        profile = self.loader.profile
        return profile is not None and profile.name in _saved_names(self.loader)

    def refresh(self) -> None:
        profile = self.loader.profile
        ok = self.editable()
        self.edit_action.setEnabled(ok)
        self.edit_action.setToolTip(
            f"Edit profile {profile.name}: URL, user, token, CA bundle, environments"
            if ok and profile is not None
            else "The built-in local registry has no settings to edit"
        )

    def open_dialog(self, profile: Profile | None) -> ConnectionDialog:
        if profile is not None and profile.name not in _saved_names(self.loader):
            profile = None
        dialog = ConnectionDialog(self.runner, self.icons, profile, self.window)
        dialog.saved.connect(self._saved)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _saved(self, profile: Profile) -> None:
        """Show the saved profile: load it (again, when it is the one shown)."""
        self.loader.refresh_profiles()
        if self.loader.profile is not None and self.loader.profile.name == profile.name:
            self.loader.load()
        else:
            self.loader.select(profile.name)


def _saved_names(loader: LineageLoader) -> set[str]:
    """Profiles of ``profiles.toml`` (the built-in local registry is not one of them)."""
    default = settings.default_profile()
    return {n for n, p in loader.profiles.items() if p != default}
