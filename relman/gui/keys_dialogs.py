"""The widgets of the Keys & Trust page: its dialogs, a table section and the message bar.

The page never opens these directly in its actions: it calls its own ``ask_*`` / ``confirm``
methods, which build them here, so tests replace those methods and no modal loop runs.
Every field has an accessible name; names are checked as they are typed with the core's rule.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QPoint, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from relman import keystore
from relman.errors import RelmanError
from relman.secrets import KeyringStatus

from .icons import IconSet
from .keys_models import COL_FINGERPRINT, COL_KIND, COL_NAME, ObjectRole, keyring_line, kind_label
from .qtcompat import emit

logger = logging.getLogger(__name__)


def name_problem(name: str) -> str:
    """Why ``name`` cannot be used as a key name (the core's message), or ""."""
    try:
        keystore.check_name(name)
    except RelmanError as exc:
        return str(exc)
    return ""


class _FormDialog(QDialog):
    """A form with a hint line and OK/Cancel; OK stays disabled while the input is invalid."""

    def __init__(self, title: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.form = QFormLayout()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")
        self.hint.setAccessibleName("Hint")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setAccessibleName(ok_text.rstrip("…"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)


class KeyNameDialog(_FormDialog):
    """Asks for a key name (generate, import, trust)."""

    def __init__(
        self,
        title: str,
        ok_text: str,
        default: str = "",
        explanation: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, ok_text, parent)
        if explanation:
            text = QLabel(explanation)
            text.setWordWrap(True)
            text.setAccessibleName("Explanation")
            self.form.addRow(text)
        self.name_edit = QLineEdit(default)
        self.name_edit.setAccessibleName("Key name")
        self.name_edit.setPlaceholderText("e.g. rm-anna")
        self.name_edit.setMaxLength(64)
        self.form.addRow("&Name:", self.name_edit)
        self.name_edit.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        problem = name_problem(self.name_edit.text()) if self.name_edit.text() else ""
        self.hint.setText(problem or "1-64 letters, digits, '.', '_' or '-'.")
        self.ok_button.setEnabled(bool(self.name_edit.text()) and not problem)

    def name(self) -> str:
        return self.name_edit.text().strip()


class NewKeyDialog(KeyNameDialog):
    """Name and type of a new signing key."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Generate signing key",
            "Generate",
            explanation="The private key is created in the OS keyring and never written to a "
            "file; only its public half and fingerprint are kept in relman's config.",
            parent=parent,
        )
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Key type")
        for kind in keystore.KEY_TYPES:
            self.kind_combo.addItem(kind_label(kind), kind)
        self.form.addRow("&Type:", self.kind_combo)

    def values(self) -> tuple[str, str]:
        return self.name(), str(self.kind_combo.currentData())


class PassphraseDialog(_FormDialog):
    """The passphrase of an encrypted private key file, in a password field."""

    def __init__(self, origin: str, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__("Passphrase needed", "Import", parent)
        text = QLabel(f"{origin} is encrypted. Enter its passphrase to import it.")
        text.setWordWrap(True)
        text.setAccessibleName("Explanation")
        self.form.addRow(text)
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName("Passphrase")
        self.form.addRow("&Passphrase:", self.passphrase_edit)
        self.hint.setText(problem)
        self.hint.setVisible(bool(problem))
        self.passphrase_edit.textChanged.connect(lambda text: self.ok_button.setEnabled(bool(text)))
        self.ok_button.setEnabled(False)

    def passphrase(self) -> bytes:
        return self.passphrase_edit.text().encode("utf-8")


def confirm(parent: QWidget, title: str, text: str, action: str, details: str = "") -> bool:
    """A window-modal question whose default (and Esc) answer is Cancel."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setAccessibleName(title)
    box.setText(text)
    if details:
        box.setInformativeText(details)
    go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    go.setAccessibleName(action)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel.setAccessibleName("Cancel")
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is go


class KeyringStatusLine(QWidget):
    """Which OS keyring is in use and its state: an icon and words, never colour alone."""

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.icon = QLabel()
        self.icon.setAccessibleName("Keyring status icon")
        layout.addWidget(self.icon)
        self.text = QLabel()
        self.text.setObjectName("keyringStatus")
        self.text.setAccessibleName("Keyring status")
        self.text.setWordWrap(True)
        layout.addWidget(self.text, 1)
        self.show_status(None)

    def show_status(self, status: KeyringStatus | None) -> None:
        icon, text, _reason = keyring_line(status)
        self.icon.setPixmap(self._icons.icon(icon).pixmap(16, 16))
        self.text.setText(text)
        self.text.setToolTip(status.detail if status is not None else "")


class MessageBar(QFrame):
    """A dismissable line at the top of the page: an icon, a word and a one-line message."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setAccessibleName("Message")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Palette colours only, so light and dark both work.
        self.setStyleSheet(
            "QFrame#messageBar { border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(alternate-base); }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.icon = QLabel()
        self.icon.setAccessibleName("Message icon")
        layout.addWidget(self.icon)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAccessibleName("Message text")
        layout.addWidget(self.text, 1)
        self.close_button = QPushButton("Dismiss")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.setFlat(True)
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.close_button)
        self.kind = ""
        self.hide()

    def show_message(self, kind: str, word: str, message: str, icon: QIcon) -> None:
        """``kind`` is ``error`` or ``ok``; the word says it too, never the colour alone."""
        self.kind = kind
        self.setProperty("kind", kind)
        self.icon.setPixmap(icon.pixmap(16, 16))
        self.text.setText(f"<b>{word}:</b> {_escape(message)}")
        self.text.setToolTip(message)
        self.setAccessibleDescription(f"{word}: {message}")
        self.show()

    def message(self) -> str:
        return self.text.toolTip()

    def dismiss(self) -> None:
        self.kind = ""
        self.hide()
        emit(self.dismissed)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def action_button(action: QAction, accessible: str) -> QPushButton:
    """A push button that triggers ``action`` and follows its enabled state and tooltip."""
    button = QPushButton(action.text())
    button.setAccessibleName(accessible)
    button.setObjectName(f"{action.objectName()}Button")
    button.clicked.connect(action.trigger)

    def follow() -> None:
        button.setEnabled(action.isEnabled())
        button.setToolTip(action.toolTip())

    action.changed.connect(follow)
    follow()
    return button


class KeyTableSection(QWidget):
    """A heading with its action buttons, a hint, and a table (or what to do when empty)."""

    def __init__(
        self,
        heading: str,
        hint: str,
        proxy: QSortFilterProxyModel,
        actions: tuple[QAction, ...],
        empty_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName(f"{heading} section")
        self.actions_ = actions
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        row = QHBoxLayout()
        label = QLabel(heading)
        label.setAccessibleName(heading)
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        label.setFont(font)
        row.addWidget(label)
        row.addStretch(1)
        self.buttons = {a: action_button(a, a.text().rstrip("…")) for a in actions}
        for button in self.buttons.values():
            row.addWidget(button)
        layout.addLayout(row)
        hint_label = QLabel(hint)
        hint_label.setProperty("role", "hint")
        hint_label.setWordWrap(True)
        hint_label.setAccessibleName(f"{heading} hint")
        layout.addWidget(hint_label)

        self.table = table = QTableView()
        table.setAccessibleName(heading)
        table.setModel(proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        table.setWordWrap(False)
        table.setAlternatingRowColors(True)
        table.setSortingEnabled(True)
        table.sortByColumn(COL_NAME, Qt.SortOrder.AscendingOrder)
        table.verticalHeader().setVisible(False)
        table.setCornerButtonEnabled(False)  # "select all" means nothing with single selection
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((COL_NAME, 200), (COL_KIND, 130), (COL_FINGERPRINT, 240)):
            table.setColumnWidth(column, width)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._show_context_menu)

        self.empty = QLabel(empty_text)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setProperty("role", "hint")
        self.empty.setAccessibleName(f"{heading}: empty")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(table)
        layout.addWidget(self.stack, 1)

    def set_has_rows(self, has_rows: bool) -> None:
        self.stack.setCurrentWidget(self.table if has_rows else self.empty)

    def selected(self) -> object | None:
        """The record of the selected row (its :data:`ObjectRole`), or None."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ObjectRole) if rows else None

    def select_source_row(self, source_row: int) -> None:
        proxy = self.table.model()
        assert isinstance(proxy, QSortFilterProxyModel)
        index = proxy.mapFromSource(proxy.sourceModel().index(source_row, 0))
        self.table.selectRow(index.row())

    def context_menu(self) -> QMenu:
        """The table's context menu: the section's actions, in their current state."""
        menu = QMenu(self)
        menu.setAccessibleName(f"{self.table.accessibleName()} actions")
        for action in self.actions_:
            menu.addAction(action)
        return menu

    def _show_context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            self.table.selectRow(index.row())
        menu = self.context_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.viewport().mapToGlobal(pos))
