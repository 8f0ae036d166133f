"""The main window: navigation sidebar, the pages, the Details dock and the status bar.

The window only assembles; each page owns its behaviour, the task runner owns the threads.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relman import APP_NAME
from relman.release.lineage import find_builds

from .about import AboutDialog
from .approvals_page import ApprovalsPage
from .audit_page import AuditPage
from .browser_page import BrowserPage
from .builds_page import BuildsPage
from .connection_dialog import ProfileActions
from .details import DetailsPanel
from .diff_page import DiffPage
from .download_verify import DownloadVerifyPanel
from .environments_page import EnvironmentsPage
from .icons import IconSet, app_icon
from .keys_page import KeysPage
from .lineage_loader import LineageLoader
from .lineage_page import LineagePage
from .pages import PLANNED_PAGES, PlaceholderPage
from .promote_actions import PromoteActions
from .promote_dialog import APPROVE
from .status_bar import TaskStatus
from .tasks import TaskRunner
from .verify_page import VerifyPage

logger = logging.getLogger(__name__)

KEYS_PAGE = "Keys & Trust"
_PLANNED = {p.name: p for p in PLANNED_PAGES}
#: UX.md's sidebar order: Keys & Trust sits between Audit and Settings; Diff beside Environments.
PAGE_NAMES = (
    "Verify",
    *(n for n in _PLANNED if n != "Settings"),
    "Diff",
    "Registry",
    "Approvals",
    "Audit",
    KEYS_PAGE,
    "Settings",
)


class MainWindow(QMainWindow):
    """relman's one window. ``runner`` is shared with whatever else the app runs."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.icons = IconSet(self.palette())
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon(self.palette()))
        self.setAccessibleName("relman main window")
        self.resize(1280, 800)
        self.about_dialog: AboutDialog | None = None

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName("Navigation")
        self.navigation.setIconSize(QSize(16, 16))
        self.navigation.setMinimumWidth(150)
        self.navigation.setMaximumWidth(220)
        self.pages = QStackedWidget()
        self.pages.setAccessibleName("Pages")

        self.verify_page = VerifyPage(runner, self.icons)
        self._add_page("Verify", self.verify_page)
        self.keys_page = KeysPage(runner, self.icons)
        #: The one lineage the Builds and Environments pages share.
        self.loader = LineageLoader(runner, self)
        self.builds_page = BuildsPage(self.loader, self.icons)
        self.environments_page = EnvironmentsPage(self.loader, self.icons)
        self.lineage_page = LineagePage(self.loader, self.icons)
        self.diff_page = DiffPage(self.loader, runner, self.icons)
        self.audit_page = AuditPage(runner, self.icons)
        self.approvals_page = ApprovalsPage(runner, self.loader, self.icons)
        #: Promote… / Roll back… / Approve… on the selected build, hidden for an auditor.
        self.promote_actions = PromoteActions(runner, self.loader, self.icons, self)
        for page in (self.builds_page, self.environments_page, self.lineage_page):
            toolbar = self.promote_actions.toolbar(page.accessibleName().removesuffix(" page"))
            page.add_build_actions(toolbar, self.promote_actions.actions)
        #: The registry browser (repositories, folders, files), read when first shown.
        self.browser_page = BrowserPage(runner, self.loader, self.icons)
        built = {
            "Registry": self.browser_page,
            "Approvals": self.approvals_page,
            "Diff": self.diff_page,
            "Audit": self.audit_page,
            KEYS_PAGE: self.keys_page,
            "Builds": self.builds_page,
            "Lineage": self.lineage_page,
            "Environments": self.environments_page,
        }
        for name in PAGE_NAMES[1:]:
            page = built.get(name) or PlaceholderPage(_PLANNED[name])
            self._add_page(name, page)
        self.navigation.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.navigation.setCurrentRow(0)

        splitter = QSplitter()
        splitter.setAccessibleName("Main area")
        splitter.addWidget(self.navigation)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([170, 1110])
        self.setCentralWidget(splitter)

        self.details = DetailsPanel(self.icons)
        self.details_dock = QDockWidget("Details", self)
        self.details_dock.setObjectName("detailsDock")
        self.details_dock.setAccessibleName("Details dock")
        # The dock shows the file details (Verify) or the build details (Builds, Environments).
        self.details_stack = QStackedWidget()
        self.details_stack.setAccessibleName("Details")
        self.details_stack.addWidget(self.details)
        self.details_stack.addWidget(self.builds_page.details)
        self.details_stack.addWidget(self.lineage_page.details)
        self.details_stack.addWidget(self.audit_page.details)
        self.details_stack.addWidget(self.browser_page.details)
        # "Download and verify" under the build or artifact details of these pages.
        self.artifact_verify = DownloadVerifyPanel(runner, self.icons)
        dock_body = QWidget()
        dock_body.setAccessibleName("Details dock body")
        dock_layout = QVBoxLayout(dock_body)
        dock_layout.setContentsMargins(0, 0, 0, 0)
        dock_layout.addWidget(self.details_stack, 1)
        dock_layout.addWidget(self.artifact_verify)
        self.details_dock.setWidget(dock_body)
        self.details_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.details_dock)
        self.resizeDocks([self.details_dock], [320], Qt.Orientation.Horizontal)
        self.verify_page.row_selected.connect(self.details.show_row)
        self.builds_page.build_selected.connect(self._show_build)
        self.environments_page.build_selected.connect(self._show_build)
        self.lineage_page.build_selected.connect(self._show_build)
        self.diff_page.build_selected.connect(self._show_build)
        self.lineage_page.artifact_selected.connect(self._show_artifact)
        self.lineage_page.artifact_selected.connect(
            lambda build, _art: self.promote_actions.set_build(build)
        )
        self.approvals_page.approve_requested.connect(
            lambda node, target: self.promote_actions.open_dialog(node, target, mode=APPROVE)
        )
        self.approvals_page.promote_requested.connect(self.promote_actions.open_dialog)
        self.approvals_page.count_changed.connect(self._show_approvals_count)
        self.promote_actions.registry_changed.connect(self.loader.reload)
        self.environments_page.compare_requested.connect(self._compare)
        # The Audit page checks the log against the current profile's promotion records.
        self.loader.changed.connect(
            lambda: setattr(self.audit_page, "profile", self.loader.profile)
        )
        self.promote_actions.refused.connect(lambda why: self.statusBar().showMessage(why, 8000))
        self.builds_page.table.doubleClicked.connect(self._open_lineage)
        self.pages.currentChanged.connect(self._page_changed)
        self.artifact_verify.follow(
            self.loader,
            self.pages,
            {
                "builds": (self.builds_page, self.environments_page, self.diff_page),
                "lineage": (self.lineage_page,),
            },
        )

        self.task_status = TaskStatus(runner)
        self.statusBar().addPermanentWidget(self.task_status)
        self.statusBar().setAccessibleName("Status bar")
        self._build_actions()
        self._build_profile_bar()
        self.loader.reload()

    def _build_profile_bar(self) -> None:
        bar = QToolBar("Profile")
        bar.setObjectName("profileBar")
        bar.setAccessibleName("Profile toolbar")
        bar.setMovable(False)
        label = QLabel("Profile: ")
        label.setAccessibleName("Profile label")
        self.profile_combo = QComboBox()
        self.profile_combo.setAccessibleName("Registry profile")
        self.profile_combo.view().setAccessibleName("Registry profile choices")
        self.profile_combo.setMinimumContentsLength(24)
        self.profile_combo.setToolTip("The registry the Builds and Environments pages read")
        bar.addWidget(label)
        bar.addWidget(self.profile_combo)
        bar.addAction(self.reload_action)
        bar.widgetForAction(self.reload_action).setAccessibleName("Reload")
        #: "Add registry…" and "Edit…": the connection dialog.
        self.profile_actions = ProfileActions(self.runner, self.loader, self.icons, self)
        for action in self.profile_actions.actions:
            bar.addAction(action)
            bar.widgetForAction(action).setAccessibleName(action.text().rstrip("…"))
        # Auditor mode: an icon and words, never colour alone.
        self.auditor_badge = QLabel()
        self.auditor_badge.setObjectName("auditorBadge")
        self.auditor_badge.setAccessibleName("Auditor mode")
        self.auditor_badge.setText("Auditor (read-only)")
        self.auditor_badge.setToolTip(
            "This profile is read-only (relman profile add --read-only): relman offers no "
            "promote, approve or rollback action on it"
        )
        self.auditor_badge.setStyleSheet(
            "QLabel#auditorBadge { border: 1px solid palette(text); border-radius: 4px;"
            " padding: 2px 6px; font-weight: bold; }"
        )
        self.auditor_action = bar.addWidget(self.auditor_badge)
        self.auditor_action.setVisible(False)
        # Ctrl+K: a build, an identity, a commit, a SHA-256 or an artifact name -> its lineage.
        self.search_field = QLineEdit()
        self.search_field.setAccessibleName("Search builds")
        self.search_field.setPlaceholderText("Search: identity, commit, SHA-256, artifact (Ctrl+K)")
        self.search_field.setToolTip(
            "A build (NAME/NUMBER), a build identity, a commit (7+ hex digits), a SHA-256 "
            "(8+ hex digits) or an artifact's file name: Enter shows its lineage"
        )
        self.search_field.setClearButtonEnabled(True)
        for button in self.search_field.findChildren(QToolButton):
            button.setAccessibleName("Clear search")
        self.search_field.setMinimumWidth(320)
        self.search_field.returnPressed.connect(lambda: self.search(self.search_field.text()))
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addWidget(self.search_field)
        focus = QShortcut(QKeySequence("Ctrl+K"), self)
        focus.activated.connect(self._focus_search)
        self.addToolBar(bar)
        self.loader.changed.connect(self._show_auditor_mode)
        self.loader.profiles_changed.connect(self._fill_profiles)
        self.profile_combo.activated.connect(
            lambda i: self.loader.select(self.profile_combo.itemData(i))
        )

    def _compare(self, a: str, b: str) -> None:
        """Two environments picked on the board: the Diff page compares them."""
        self.diff_page.choose(a, b)
        self.show_page("Diff")

    def _focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def search(self, query: str) -> bool:
        """Show the lineage of the newest build ``query`` names (see :func:`find_builds`);
        say in the status bar what was found, or that nothing was."""
        text = query.strip()
        if not text:
            return False
        lineage = self.loader.lineage
        found = find_builds(lineage, text) if lineage is not None else []
        if not found:
            why = "no lineage loaded yet" if lineage is None else "no build, commit or artifact"
            self.statusBar().showMessage(f"{why} matches {text!r}", 8000)
            return False
        self.show_page("Lineage")  # first: the graph fits the view it is drawn in
        self.lineage_page.show_build(found[0].label)
        more = f" (and {len(found) - 1} more: the newest is shown)" if len(found) > 1 else ""
        self.statusBar().showMessage(f"{found[0].label} matches {text!r}{more}", 8000)
        return True

    def _fill_profiles(self) -> None:
        combo = self.profile_combo
        combo.blockSignals(True)
        combo.clear()
        for name, profile in self.loader.profiles.items():
            combo.addItem(f"{name} ({profile.kind}: {profile.url})", name)
        if not self.loader.profiles:
            combo.addItem("no profile — run relman demo", "")
        current = self.loader.profile.name if self.loader.profile else ""
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)

    def _show_auditor_mode(self) -> None:
        profile = self.loader.profile
        read_only = profile is not None and profile.read_only
        self.auditor_action.setVisible(read_only)
        self.setWindowTitle(f"{APP_NAME} — auditor (read-only)" if read_only else APP_NAME)

    def _show_approvals_count(self, waiting: int) -> None:
        item = self.navigation.item(PAGE_NAMES.index("Approvals"))
        item.setText(f"Approvals ({waiting})" if waiting else "Approvals")
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"Approvals, {waiting} waiting")

    def _show_build(self, node: object) -> None:
        # A selection made while another page is shown (a reload selects the first build)
        # updates the panel but does not take the dock away from that page.
        self.builds_page.details.show_build(node, self.loader.lineage)  # type: ignore[arg-type]
        self.promote_actions.set_build(node)
        if self.pages.currentWidget() in (
            self.builds_page,
            self.environments_page,
            self.lineage_page,
            self.diff_page,
        ):
            self.details_stack.setCurrentWidget(self.builds_page.details)

    def _show_artifact(self, _build: object, _artifact: object) -> None:
        if self.pages.currentWidget() is self.lineage_page:
            self.details_stack.setCurrentWidget(self.lineage_page.details)

    def _open_lineage(self) -> None:
        """Double-click on a build: its lineage."""
        node = self.builds_page.details.node
        if node is not None and self.lineage_page.show_build(node.label):
            self.show_page("Lineage")

    def _page_changed(self, index: int) -> None:
        page = self.pages.widget(index)
        if page in (self.lineage_page, self.audit_page, self.browser_page):
            self.details_stack.setCurrentWidget(page.details)  # type: ignore[attr-defined]
            return
        builds = page in (self.builds_page, self.environments_page, self.diff_page)
        self.details_stack.setCurrentIndex(1 if builds else 0)

    def _add_page(self, name: str, page: QWidget) -> None:
        item = QListWidgetItem(name)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, name)
        self.navigation.addItem(item)
        self.pages.addWidget(page)

    def _build_actions(self) -> None:
        self.open_action = QAction("&Open files to verify…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_files)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        self.about_action = QAction("&About relman", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.reload_action = QAction("&Reload builds and environments", self)
        self.reload_action.setToolTip(
            "Read the registry of the selected profile again (F5 on Builds and Environments)"
        )
        self.reload_action.triggered.connect(self.loader.reload)
        # F5 belongs to the page shown (Keys & Trust refreshes its own lists).
        self.reload_shortcuts = []
        for page in (self.builds_page, self.environments_page, self.diff_page):
            shortcut = QShortcut(QKeySequence(Qt.Key.Key_F5), page)
            shortcut.activated.connect(self.loader.reload)
            self.reload_shortcuts.append(shortcut)
        self.details_action = self.details_dock.toggleViewAction()
        self.details_action.setText("&Details panel")

        menu_bar = self.menuBar()
        menu_bar.setAccessibleName("Menu bar")
        file_menu = menu_bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = menu_bar.addMenu("&View")
        view_menu.addAction(self.reload_action)
        view_menu.addAction(self.details_action)
        release_menu = menu_bar.addMenu("&Release")
        release_menu.addActions(list(self.promote_actions.actions))
        help_menu = menu_bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        self.cancel_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.cancel_shortcut.activated.connect(self.cancel_verification)

    # -- actions -----------------------------------------------------------------------------

    def show_page(self, name: str) -> None:
        self.navigation.setCurrentRow(PAGE_NAMES.index(name))

    def current_page_name(self) -> str:
        return PAGE_NAMES[self.navigation.currentRow()]

    def open_files(self) -> None:
        self.show_page("Verify")
        self.verify_page.choose_files()

    def cancel_verification(self) -> None:
        """Esc: stop the work the page in front is waiting for (verifying files, the audit
        chain, a comparison), else the loading of the registry."""
        page = self.pages.currentWidget()
        if page is self.audit_page and self.audit_page.cancel():
            self.statusBar().showMessage("Audit verification cancelled", 4000)
        elif page is self.diff_page and self.diff_page.cancel():
            self.statusBar().showMessage("Comparison cancelled", 4000)
        elif self.verify_page.cancel():
            self.statusBar().showMessage("Verification cancelled", 4000)
        elif self.loader.cancel():
            self.statusBar().showMessage("Loading cancelled", 4000)

    def show_about(self) -> AboutDialog:
        if self.about_dialog is None:
            self.about_dialog = AboutDialog(app_icon(self.palette()), self)
        self.about_dialog.open()
        return self.about_dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        self.runner.cancel_all()
        super().closeEvent(event)
