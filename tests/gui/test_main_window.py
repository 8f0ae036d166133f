"""The main window: sidebar order, placeholder pages, About, shortcuts, accessible names."""

from __future__ import annotations

import platform

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QWidget,
)

from relman import __version__
from relman.gui.main_window import PAGE_NAMES
from relman.gui.pages import PlaceholderPage

ORDER = [
    "Verify",
    "Builds",
    "Lineage",
    "Environments",
    "Diff",
    "Registry",
    "Approvals",
    "Audit",
    "Keys & Trust",
    "Settings",
]


def test_sidebar_pages_in_order_verify_first(window) -> None:
    nav: QListWidget = window.navigation
    assert [nav.item(i).text() for i in range(nav.count())] == ORDER
    assert list(PAGE_NAMES) == ORDER
    assert window.current_page_name() == "Verify"
    assert window.pages.currentWidget() is window.verify_page


def test_every_placeholder_page_says_what_comes(qtbot, window) -> None:
    window.show_page("Settings")
    page = window.pages.currentWidget()
    assert isinstance(page, PlaceholderPage)
    assert page.page.name == "Settings"
    assert len(page.summary.text()) > 40
    assert "Arrives with" in page.text()
    window.show_page("Audit")
    assert window.pages.currentWidget() is window.audit_page
    window.show_page("Diff")
    assert window.pages.currentWidget() is window.diff_page
    window.show_page("Builds")
    assert window.pages.currentWidget() is window.builds_page
    window.show_page("Environments")
    assert window.pages.currentWidget() is window.environments_page
    window.show_page("Lineage")
    assert window.pages.currentWidget() is window.lineage_page
    assert "relman demo" in window.lineage_page.message.text()


def test_about_shows_versions(qtbot, window) -> None:
    window.about_action.trigger()
    dialog = window.about_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.text()
    assert __version__ in text
    assert qVersion() in text
    assert platform.python_version() in text
    dialog.reject()
    assert not dialog.isVisible()


def test_shortcuts(window) -> None:
    assert window.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert window.open_action.shortcut().toString() == "Ctrl+O"
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    assert window.cancel_shortcut.key() == QKeySequence(Qt.Key.Key_Escape)


def test_ctrl_q_closes_the_window(qtbot, window) -> None:
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def test_every_control_has_an_accessible_name(qtbot, window, sample_tree) -> None:
    window.verify_page.add_paths([sample_tree])
    qtbot.waitUntil(lambda: not window.verify_page.controller.running, timeout=10_000)
    window.verify_page.select_source_row(0)
    controls = (QAbstractButton, QLineEdit, QAbstractItemView, QProgressBar)
    missing = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, controls):
            continue
        if widget.parent() is not None and widget.parent().inherits("QAbstractScrollArea"):
            continue  # scroll bars and viewports belong to their view
        if type(widget).__name__ in {"QDockWidgetTitleButton", "QLineEditIconButton"}:
            continue  # Qt's private sub-controls, named by Qt's accessibility plugin
        if widget.objectName().startswith("qt_"):
            continue  # Qt's own private helpers (the menu bar's overflow button)
        if not widget.accessibleName():
            parent = widget.parentWidget()
            missing.append(f"{type(widget).__name__} in {type(parent).__name__}")
    assert missing == []


def test_details_dock_starts_with_a_hint(window) -> None:
    assert window.details_dock.windowTitle() == "Details"
    assert window.details.row is None
    assert window.details_dock.isVisible()


def test_status_bar_is_idle_at_start(window) -> None:
    assert window.task_status.label.text() == "No tasks running"
    assert not window.task_status.cancel_button.isVisible()


def test_a_build_selected_elsewhere_does_not_take_the_dock_from_verify(
    qtbot, window, monkeypatch
) -> None:
    shown: list[object] = []
    monkeypatch.setattr(window.builds_page.details, "show_build", lambda n, _l: shown.append(n))
    window.show_page("Verify")
    node = object()
    window._show_build(node)  # what a reload's first selection does
    assert shown == [node]
    assert window.details_stack.currentWidget() is window.details
    window.show_page("Builds")
    assert window.details_stack.currentWidget() is window.builds_page.details
    window._show_build(node)
    assert window.details_stack.currentWidget() is window.builds_page.details
