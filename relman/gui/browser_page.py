"""The Registry page: browse the selected profile's repositories, folders and files.

The tree (:class:`~.browser_model.BrowserModel`) lists a folder only when it is opened, on the
task runner. Selecting a file reads its storage info and properties on the task runner too
(:func:`relman.registry.browse.describe`) and shows them in :class:`ItemDetails`, which the
main window puts in its Details dock: size, SHA-256 (and SHA-1, MD5) in monospace with a copy
button, created and modified (relative, the exact UTC time on hover), who deployed it, what the
deployer declared when that differs, every property, and "Download and verify".
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from relman.errors import RelmanError
from relman.model import Profile
from relman.registry import open_registry
from relman.registry.base import Registry
from relman.registry.browse import ItemDetails as RegistryItem
from relman.registry.browse import describe

from .browser_model import COL_MODIFIED, COL_NAME, COL_SHA256, COL_SIZE, BrowserModel, Node
from .builds_model import exact, relative
from .builds_page import StateMessage
from .details import ElidedLabel, breakable
from .download_verify import DownloadVerifyPanel, Target
from .icons import IconSet
from .lineage_loader import LineageLoader
from .qtcompat import emit
from .tasks import Task, TaskRunner
from .verify_model import human_size

logger = logging.getLogger(__name__)

EMPTY_DETAILS = "Select a file in the Registry page to see its digests, properties and dates."


def _when(moment: datetime | None) -> tuple[str, str]:
    """``3 h ago`` and the exact UTC time (the tooltip)."""
    if moment is None:
        return "unknown", ""
    return relative(moment, datetime.now(UTC)), exact(moment)


class ItemDetails(QScrollArea):
    """One registry file's facts (the Details dock shows it) and "Download and verify"."""

    def __init__(self, runner: TaskRunner, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self.setAccessibleName("Registry item details")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(300)
        self.item: RegistryItem | None = None
        self.verify = DownloadVerifyPanel(runner, icons)
        body = QWidget()
        self.body_layout = layout = QVBoxLayout(body)
        self.facts = QWidget()
        self.facts_layout = QVBoxLayout(self.facts)
        layout.addWidget(self.facts)
        layout.addWidget(self.verify)
        layout.addStretch(1)
        self.setWidget(body)
        self.show_message(EMPTY_DETAILS)

    def values(self) -> dict[str, str]:
        """Accessible name -> full value of every monospace value shown (tests, a11y)."""
        return {v.accessibleName(): v.full_text for v in self.findChildren(ElidedLabel)}

    def texts(self) -> str:
        """Every text shown, one a line (tests, a11y)."""
        return "\n".join(label.text() for label in self.facts.findChildren(QLabel))

    def _clear(self) -> None:
        """A new, empty facts widget in place of the old one (and all it holds)."""
        old, self.facts = self.facts, QWidget()
        self.facts_layout = QVBoxLayout(self.facts)
        self.facts_layout.setContentsMargins(0, 0, 0, 0)
        self.body_layout.replaceWidget(old, self.facts)
        old.hide()  # at once: the deferred delete waits for the event loop
        old.deleteLater()

    def show_message(self, text: str) -> None:
        """A hint or an error instead of an item; nothing to download."""
        self.item = None
        self._clear()
        hint = QLabel(breakable(text))
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        hint.setAccessibleName("Registry item hint")
        self.facts_layout.addWidget(hint)
        self.verify.set_targets(None, ())

    def show_item(self, profile: Profile, item: RegistryItem) -> None:
        self.item = item
        self._clear()
        loc = item.location
        title = QLabel(loc.name)
        title.setObjectName("pageTitle")
        title.setWordWrap(True)
        title.setAccessibleName("Item name")
        self.facts_layout.addWidget(title)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Where:", self._text(f"{loc.repo}/{loc.path}", "Item location"))
        size = f"{human_size(loc.size)} ({loc.size:,} bytes)" if loc.size is not None else "unknown"
        form.addRow("Size:", self._text(size, "Item size"))
        for name, value in (("SHA-256", loc.sha256), ("SHA-1", loc.sha1), ("MD5", loc.md5)):
            if value:
                form.addRow(f"{name}:", self._value(value, f"{name} digest"))
            else:
                form.addRow(
                    f"{name}:", self._text("not recorded by the registry", f"{name} digest")
                )
        declared = item.declared.get("sha256")
        if declared and declared != loc.sha256:
            warning = QHBoxLayout()
            mark = QLabel()
            mark.setPixmap(self._icons.status("failed").pixmap(16, 16))
            mark.setAccessibleName("Declared SHA-256 differs")
            warning.addWidget(mark)
            warning.addWidget(
                self._text(
                    "the deployer declared another SHA-256: these are not the bytes deployed",
                    "Declared SHA-256 warning",
                ),
                1,
            )
            form.addRow("Declared:", warning)
            form.addRow("", self._value(declared, "Declared SHA-256"))
        for what, moment, who in (
            ("Created", loc.created, item.created_by),
            ("Modified", item.modified, item.modified_by),
        ):
            ago, full = _when(moment)
            label = self._text(f"{ago}{f' by {who}' if who else ''}", f"Item {what.lower()}")
            label.setToolTip(full)
            form.addRow(f"{what}:", label)
        self.facts_layout.addLayout(form)
        props = QGroupBox(f"Properties ({len(loc.properties)})")
        props.setAccessibleName("Item properties")
        props_layout = QFormLayout(props)
        props_layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for key, values in sorted(loc.properties.items()):
            props_layout.addRow(f"{key}:", self._text(", ".join(values), f"Property {key}"))
        if not loc.properties:
            props_layout.addRow(self._text("none", "No properties"))
        self.facts_layout.addWidget(props)
        self.verify.set_targets(profile, [Target(f"{loc.repo}/{loc.path}", loc.repo, loc.path)])

    def _text(self, text: str, name: str) -> QLabel:
        label = QLabel(breakable(text))
        label.setWordWrap(True)
        label.setAccessibleName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _value(self, value: str, name: str) -> QHBoxLayout:
        line = QHBoxLayout()
        line.setSpacing(4)
        line.addWidget(ElidedLabel(value, name), 1)
        copy = QToolButton()
        copy.setObjectName("copyValue")
        copy.setIcon(self._icons.icon("copy"))
        copy.setAutoRaise(True)
        copy.setToolTip(f"Copy the {name}")
        copy.setAccessibleName(f"Copy {name}")
        copy.clicked.connect(lambda _=False, v=value: QGuiApplication.clipboard().setText(v))
        line.addWidget(copy)
        return line


def _describe(profile: Profile, registry: Registry | None, repo: str, path: str) -> RegistryItem:
    if registry is not None:
        return describe(registry, repo, path)
    opened = open_registry(profile)
    try:
        return describe(opened, repo, path)
    finally:
        close = getattr(opened, "close", None)
        if close is not None:
            close()


class BrowserPage(QWidget):
    """The registry of the loader's profile as a tree; emits ``item_selected`` (a Node or
    None) and fills :attr:`details`. The repositories are read when the page is first shown
    (or the profile changes while it is), never before."""

    item_selected = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        loader: LineageLoader,
        icons: IconSet,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.loader = loader
        self.setAccessibleName("Registry page")
        self.model = BrowserModel(runner, icons, self)
        self.details = ItemDetails(runner, icons)
        self.describe_task: Task | None = None

        self.title = QLabel()
        self.title.setAccessibleName("Registry browsed")
        self.reload_button = QPushButton("Reload")
        self.reload_button.setAccessibleName("Reload the registry")
        self.reload_button.setToolTip("Read the repositories again (F5)")
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setAccessibleName("Registry notice")
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        bar.addWidget(self.reload_button)

        self.tree = QTreeView()
        self.tree.setAccessibleName("Registry tree")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_SIZE, 90), (COL_SHA256, 170), (COL_MODIFIED, 110)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.message = StateMessage("Registry status")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.tree)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.notice)

        self.reload_button.clicked.connect(self.reload)
        self.reload_shortcut = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        self.reload_shortcut.activated.connect(self.reload)
        self.model.source_changed.connect(self.refresh)
        self.model.listing_failed.connect(self.notice.setText)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)
        loader.changed.connect(self._profile_changed)
        self.refresh()

    # -- source ----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._profile_changed()

    def _profile_changed(self) -> None:
        profile = self.loader.profile
        if self.isVisible() and profile != self.model.profile:
            self.browse(profile)

    def browse(self, profile: Profile | None) -> Task | None:
        """Show ``profile``'s registry from its repositories down."""
        self.details.show_message(EMPTY_DETAILS)
        self.notice.clear()
        return self.model.set_source(profile)

    def reload(self) -> Task | None:
        """F5: read the repositories again (folders are listed again when opened)."""
        return self.browse(self.model.profile or self.loader.profile)

    def refresh(self) -> None:
        model = self.model
        profile = model.profile
        self.title.setText(
            f"Repositories of profile {profile.name} ({profile.kind}: {profile.url})"
            if profile is not None
            else "No registry profile"
        )
        if model.state == "loaded" and model.rowCount() > 0:
            self.stack.setCurrentWidget(self.tree)
        else:
            self.message.setText(model.message or "This registry shows no repository.")
            self.stack.setCurrentWidget(self.message)

    # -- selection -------------------------------------------------------------------------

    def select_path(self, *names: str) -> QModelIndex:
        """The index of ``repo``, ``folder``, …, ``file`` as already listed (tests, a11y)."""
        parent = QModelIndex()
        for name in names:
            match = next(
                (
                    self.model.index(row, 0, parent)
                    for row in range(self.model.rowCount(parent))
                    if self.model.node(self.model.index(row, 0, parent)).name == name
                ),
                None,
            )
            if match is None:
                return QModelIndex()
            parent = match
        return parent

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.tree.selectionModel().selectedRows()
        node = self.model.node(rows[0]) if rows else None
        emit(self.item_selected, node)
        if node is None or not node.is_file:
            self.describe_task = None
            where = f" {node.repo}/{node.path}".rstrip("/") if node is not None else ""
            self.details.show_message(
                f"Folder{where}: open it to list what it holds." if node else EMPTY_DETAILS
            )
            return
        self.show_file(node)

    def show_file(self, node: Node) -> Task | None:
        """Read the file's details on the task runner, then show them in :attr:`details`."""
        profile = self.model.profile
        if profile is None:
            return None
        registry = self.model.registry
        self.details.show_message(f"Reading the details of {node.repo}/{node.path}…")
        task = self.runner.submit(
            lambda _progress, _cancel: _describe(profile, registry, node.repo, node.path),
            title=f"Reading {node.repo}/{node.path}",
        )
        self.describe_task = task
        task.connect(
            on_result=lambda item: self._described(task, profile, item),
            on_error=lambda exc: self._describe_failed(task, node, exc),
        )
        return task

    def _described(self, task: Task, profile: Profile, item: RegistryItem) -> None:
        if task is self.describe_task:
            self.describe_task = None
            self.details.show_item(profile, item)

    def _describe_failed(self, task: Task, node: Node, exc: BaseException) -> None:
        if task is not self.describe_task:
            return
        self.describe_task = None
        self.details.show_message(f"Cannot read {node.repo}/{node.path}: {exc}")
        if not isinstance(exc, RelmanError | OSError):
            logger.error("describing %s failed", node, exc_info=exc)
