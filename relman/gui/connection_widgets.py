"""The parts of the connection dialog: the editable environments table and a test step's row.

:class:`EnvironmentsModel` holds a profile's environments in promotion order as the user edits
them (name and ``repo:KEY`` or ``label[:PROPERTY]``, checked with the core's own parser);
:class:`CheckRow` shows one step of "Test connection" with an icon, a word and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from relman import settings
from relman.errors import RelmanError
from relman.model import DEFAULT_LABEL_PROPERTY, Environment
from relman.registry.connection import STEP_TITLES

from .icons import IconSet
from .qtcompat import emit

COL_ENV_NAME, COL_ENV_WHERE = range(2)


def environment_text(env: Environment) -> str:
    """``repo:KEY``, ``label`` or ``label:PROPERTY`` (what ``relman profile add --env`` takes)."""
    if env.mode == "repository":
        return f"repo:{env.repo}"
    return "label" if env.label in (None, DEFAULT_LABEL_PROPERTY) else f"label:{env.label}"


class EnvironmentsModel(QAbstractTableModel):
    """The profile's environments in promotion order: name and where (``repo:KEY`` or
    ``label[:PROPERTY]``), both editable; rows are added, removed and moved up or down."""

    HEADERS = ("Environment", "Repository or label")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[str]] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1) if 0 <= section < len(self._rows) else None
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            problem = self.problem(index.row())
            if problem:
                return problem
            if index.column() == COL_ENV_WHERE:
                return "repo:KEY (the environment is a repository) or label[:PROPERTY]"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def setData(
        self,
        index: QModelIndex | QPersistentModelIndex,
        value: Any,
        role: int = Qt.ItemDataRole.EditRole,
    ) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        self._rows[index.row()][index.column()] = str(value).strip()
        emit(self.dataChanged, index, index, [Qt.ItemDataRole.DisplayRole])
        return True

    # -- editing ---------------------------------------------------------------------------

    def set_environments(self, environments: Sequence[Environment]) -> None:
        self.beginResetModel()
        self._rows = [[e.name, environment_text(e)] for e in environments]
        self.endResetModel()

    def add(self, name: str = "", where: str = "") -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append([name, where])
        self.endInsertRows()
        return row

    def remove(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def move(self, row: int, step: int) -> int:
        """Move ``row`` up (-1) or down (+1); the row's new position."""
        target = row + step
        if not (0 <= row < len(self._rows) and 0 <= target < len(self._rows)):
            return row
        # Qt's destination is the row *before which* the moved row lands.
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), target + (step > 0))
        self._rows.insert(target, self._rows.pop(row))
        self.endMoveRows()
        return target

    def texts(self) -> list[str]:
        """``NAME=WHERE`` of every row, in order."""
        return [f"{name}={where}" for name, where in self._rows]

    def problem(self, row: int) -> str:
        """Why row ``row`` is not an environment (the core's message), or ""."""
        try:
            settings.parse_environment(self.texts()[row])
        except RelmanError as exc:
            return f"row {row + 1}: {exc}".replace("--env ", "")
        return ""


class CheckRow(QWidget):
    """One step of a connection test: an icon, the step, a word and the reason."""

    def __init__(self, icons: IconSet, step: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        self._icons = icons
        self.icon = QLabel()
        self.icon.setFixedWidth(20)
        self.title = QLabel(STEP_TITLES.get(step, step))
        self.title.setObjectName("checkTitle")
        self.word = QLabel()
        self.word.setMinimumWidth(64)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName(f"Check {self.title.text()}")
        self.detail.setAccessibleName(f"{self.title.text()} result")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.icon, 0, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.title, 0, 1, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.word, 0, 2, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.detail, 0, 3)
        layout.setColumnMinimumWidth(1, 230)
        layout.setColumnStretch(3, 1)
        self.show_state("queued", "…", "")

    def show_state(self, status: str, word: str, detail: str) -> None:
        self.icon.setPixmap(self._icons.status(status).pixmap(16, 16))
        self.icon.setAccessibleName(f"{self.title.text()} {word}")
        self.word.setText(word)
        self.detail.setText(detail)

    @property
    def outcome(self) -> str:
        return self.word.text()
