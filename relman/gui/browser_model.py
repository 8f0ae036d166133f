"""The registry browser's tree: repositories, their folders and files, listed when opened.

A :class:`BrowserModel` over one profile's registry. The repositories are read when the source
is set; a repository or folder is listed only when a view asks for its children
(``canFetchMore``/``fetchMore``), one request on the task runner's parallel pool
(:func:`relman.registry.browse.list_folder`), never on the GUI thread. Until the answer comes
the node says "listing…"; a listing that fails says why on the node (and in
``listing_failed``), and F5 (:meth:`BrowserModel.set_source` again) reads everything afresh.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from relman.errors import RelmanError
from relman.model import Profile, Repository
from relman.registry import close_registry, open_registry
from relman.registry.base import Registry
from relman.registry.browse import Entry, list_folder

from .builds_model import exact, relative, shorten_middle
from .icons import IconSet
from .qtcompat import emit
from .table_base import ObjectRole, SortRole
from .tasks import Task, TaskRunner
from .verify_model import human_size

logger = logging.getLogger(__name__)

COL_NAME, COL_SIZE, COL_SHA256, COL_MODIFIED = range(4)
HEADERS = ("Name", "Size", "SHA-256", "Modified")
#: A node's kind: ``repository``, ``folder`` or ``file``.
KindRole = Qt.ItemDataRole.UserRole + 3


class Node:
    """One row of the tree. ``state`` of a repository or folder: ``unlisted``, ``listing``,
    ``listed`` or ``failed`` (``error`` says why)."""

    __slots__ = (
        "children",
        "entry",
        "error",
        "kind",
        "parent",
        "path",
        "repo",
        "repository",
        "row",
        "state",
    )

    def __init__(
        self,
        kind: str,
        repo: str,
        path: str = "",
        *,
        parent: Node | None = None,
        entry: Entry | None = None,
        repository: Repository | None = None,
        row: int = 0,
    ) -> None:
        self.kind = kind
        self.repo = repo
        self.path = path
        self.parent = parent
        self.entry = entry
        self.repository = repository
        self.row = row
        self.children: list[Node] = []
        self.state = "listed" if kind == "file" else "unlisted"
        self.error = ""

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1] if self.path else self.repo

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    def __repr__(self) -> str:
        return f"Node({self.kind} {self.repo}/{self.path})"


def _open_and_list(profile: Profile) -> tuple[Registry, list[Repository]]:
    registry = open_registry(profile)
    try:
        return registry, list(registry.repositories())
    except BaseException:
        close_registry(registry)
        raise


class BrowserModel(QAbstractItemModel):
    """Repositories -> folders -> files of one profile's registry (see the module doc).

    ``state``: ``empty`` (no profile), ``loading``, ``loaded`` or ``error`` (``message``)."""

    #: The repositories arrived, or could not be read (``state`` says which).
    source_changed = Signal()
    #: A folder could not be listed: one line saying which and why.
    listing_failed = Signal(str)

    def __init__(self, runner: TaskRunner, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._icons = icons
        self._root = Node("root", "")
        self.profile: Profile | None = None
        self.registry: Registry | None = None
        self.state = "empty"
        self.message = "No registry profile: add one with “Add registry…” on the toolbar."
        self._generation = 0
        self._tasks: set[Task] = set()
        self._mono = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        style = QApplication.style()
        self._folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self._file_icon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        self._repo_icon = style.standardIcon(QStyle.StandardPixmap.SP_DriveNetIcon)

    # -- the source ------------------------------------------------------------------------

    def set_source(self, profile: Profile | None) -> Task | None:
        """Browse ``profile``'s registry (None: nothing); everything is read afresh."""
        self._generation += 1
        generation = self._generation
        old, self.registry = self.registry, None
        if old is not None:
            self.runner.submit(lambda _p, _c: close_registry(old), title="Closing a registry")
        self.beginResetModel()
        self._root = Node("root", "")
        self.profile = profile
        self.endResetModel()
        if profile is None:
            self.state = "empty"
            self.message = "No registry profile: add one with “Add registry…” on the toolbar."
            emit(self.source_changed)
            return None
        self.state = "loading"
        self.message = f"Reading the repositories of profile {profile.name}…"
        task = self._submit(
            lambda _progress, _cancel: _open_and_list(profile),
            f"Reading the repositories of profile {profile.name}",
        )
        task.connect(
            on_result=lambda value: self._repositories(generation, value),
            on_error=lambda exc: self._source_failed(generation, profile, exc),
        )
        emit(self.source_changed)
        return task

    def close(self) -> None:
        """Forget the source and release its registry (at shutdown)."""
        self.set_source(None)

    def _submit(self, fn: Any, title: str) -> Task:
        task = self.runner.submit(fn, title=title)
        self._tasks.add(task)
        task.connect(on_finished=lambda: self._tasks.discard(task))
        return task

    @property
    def busy(self) -> int:
        """Reads in flight (repositories and folder listings)."""
        return len(self._tasks)

    def _repositories(self, generation: int, value: tuple[Registry, list[Repository]]) -> None:
        registry, repositories = value
        if generation != self._generation:
            self.runner.submit(lambda _p, _c: close_registry(registry), title="Closing a registry")
            return
        self.registry = registry
        self.state = "loaded"
        self.message = "" if repositories else "This registry shows no repository to this user."
        if repositories:
            self.beginInsertRows(QModelIndex(), 0, len(repositories) - 1)
            self._root.children = [
                Node("repository", r.key, parent=self._root, repository=r, row=i)
                for i, r in enumerate(repositories)
            ]
            self.endInsertRows()
        emit(self.source_changed)

    def _source_failed(self, generation: int, profile: Profile, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.state = "error"
        self.message = f"Cannot read the repositories of profile {profile.name}: {exc}"
        if not isinstance(exc, RelmanError | OSError):
            logger.error("listing repositories failed", exc_info=exc)
        emit(self.source_changed)

    # -- lazy listing ----------------------------------------------------------------------

    def node(self, index: QModelIndex | QPersistentModelIndex) -> Node:
        if index.isValid():
            found = index.internalPointer()
            if isinstance(found, Node):
                return found
        return self._root

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        node = self.node(parent)
        if node.kind == "root":
            return bool(node.children)
        if node.is_file:
            return False
        return node.state in ("unlisted", "listing") or bool(node.children)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        node = self.node(parent)
        return node.kind in ("repository", "folder") and node.state == "unlisted"

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        """List the folder on the task runner; its rows arrive with the answer."""
        node = self.node(parent)
        registry = self.registry
        if not self.canFetchMore(parent) or registry is None:
            return
        node.state = "listing"
        self._changed(node)
        generation = self._generation
        repo, path = node.repo, node.path
        task = self._submit(
            lambda _progress, _cancel: list_folder(registry, repo, path),
            f"Listing {repo}/{path}".rstrip("/"),
        )
        task.connect(
            on_result=lambda entries: self._listed(generation, node, entries),
            on_error=lambda exc: self._listing_failed(generation, node, exc),
        )

    def _listed(self, generation: int, node: Node, entries: list[Entry]) -> None:
        if generation != self._generation:
            return
        node.state = "listed"
        if entries:
            self.beginInsertRows(self._index_of(node), 0, len(entries) - 1)
            node.children = [
                Node(
                    "folder" if e.folder else "file",
                    e.repo,
                    e.path,
                    parent=node,
                    entry=e,
                    row=i,
                )
                for i, e in enumerate(entries)
            ]
            self.endInsertRows()
        self._changed(node)

    def _listing_failed(self, generation: int, node: Node, exc: BaseException) -> None:
        if generation != self._generation:
            return
        node.state, node.error = "failed", str(exc)
        if not isinstance(exc, RelmanError | OSError):
            logger.error("listing %s failed", node, exc_info=exc)
        self._changed(node)
        emit(self.listing_failed, f"Cannot list {node.repo}/{node.path}".rstrip("/") + f": {exc}")

    def _index_of(self, node: Node, column: int = 0) -> QModelIndex:
        if node.kind == "root":
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def _changed(self, node: Node) -> None:
        if node.kind != "root":
            first, last = self._index_of(node), self._index_of(node, len(HEADERS) - 1)
            emit(self.dataChanged, first, last)

    # -- Qt model API ----------------------------------------------------------------------

    def index(
        self,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
    ) -> QModelIndex:
        node = self.node(parent)
        if not (0 <= row < len(node.children) and 0 <= column < len(HEADERS)):
            return QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:  # type: ignore[override]
        node = self.node(index)
        if node.kind == "root" or node.parent is None or node.parent.kind == "root":
            return QModelIndex()
        return self._index_of(node.parent)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.node(index).is_file:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        node = self.node(index)
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(node, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COL_NAME:
            return self._icon(node)
        if role == Qt.ItemDataRole.FontRole and column == COL_SHA256:
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ObjectRole:
            return node
        if role == KindRole:
            return node.kind
        if role == SortRole:
            entry = node.entry
            if column == COL_SIZE:
                return entry.size if entry is not None and entry.size is not None else -1
            return self._display(node, column)
        return None

    def _display(self, node: Node, column: int) -> str:
        entry = node.entry
        if column == COL_NAME:
            name = node.name
            if node.repository is not None and node.repository.kind != "local":
                name = f"{name} ({node.repository.kind})"
            if node.state == "listing":
                return f"{name} — listing…"
            if node.state == "failed":
                return f"{name} — cannot list"
            if node.state == "listed" and not node.is_file and not node.children:
                return f"{name} — empty"
            return name
        if entry is None or entry.folder:
            return ""
        if column == COL_SIZE:
            return human_size(entry.size) if entry.size is not None else "—"
        if column == COL_SHA256:
            return shorten_middle(entry.sha256, 8) if entry.sha256 else "—"
        if column == COL_MODIFIED:
            return relative(entry.modified, datetime.now(UTC)) if entry.modified else "—"
        return ""

    def _tooltip(self, node: Node, column: int) -> str | None:
        entry = node.entry
        if column == COL_NAME:
            if node.state == "failed":
                return node.error
            return f"{node.repo}/{node.path}".rstrip("/")
        if entry is None or entry.folder:
            return None
        if column == COL_SIZE and entry.size is not None:
            return f"{entry.size:,} bytes"
        if column == COL_SHA256:
            return entry.sha256 or "the listing gives no SHA-256; select the file for its details"
        if column == COL_MODIFIED:
            return exact(entry.modified)
        return None

    def _icon(self, node: Node) -> QIcon:
        if node.state == "failed":
            return self._icons.icon("failed")
        if node.kind == "repository":
            return self._repo_icon
        return self._file_icon if node.is_file else self._folder_icon
