"""The Builds page: every build of the loaded lineage, searchable, filterable, sortable.

Selecting a build shows its evidence (artifacts with SHA-256, locations, environments,
promotions with who/when/ok, findings) in :class:`BuildDetails`, which the main window puts in
its Details dock.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relman.release.lineage import BuildNode, Lineage

from .builds_model import (
    COL_APP,
    COL_BRANCH,
    COL_COMMIT,
    COL_FINDINGS,
    COL_FURTHEST,
    COL_IDENTITY,
    COL_NUMBER,
    COL_STARTED,
    SEVERE,
    BuildRow,
    BuildsProxyModel,
    BuildsTableModel,
    FindingsDelegate,
    exact,
    make_rows,
)
from .icons import IconSet
from .lineage_loader import LineageLoader
from .qtcompat import emit
from .table_base import rows_view

logger = logging.getLogger(__name__)

SEARCH_DELAY_MS = 120
ALL_APPS = "All applications"
ALL_ENVS = "Any environment"


def _mono(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def build_html(node: BuildNode, lineage: Lineage | None) -> str:
    """The evidence of one build as rich text (also what tests and screen readers read)."""
    e = html.escape
    rec = node.record
    ident = node.identity
    parts = [f"<h3>{e(node.label)}</h3>"]
    facts = [
        ("Identity", _mono(ident.full) if ident else "none (untraceable)"),
        ("Commit", _mono(node.commit or "—")),
        ("Branch", e(rec.vcs_branch or "—")),
        ("Message", e(rec.vcs_message or "—")),
        ("Started", e(exact(node.started))),
        ("Environments", e(" → ".join(node.environments) or "none")),
    ]
    parts.append("<table>")
    for key, value in facts:
        parts.append(f"<tr><td><b>{key}</b>&nbsp;</td><td>{value}</td></tr>")
    parts.append("</table>")
    findings = lineage.findings_of(node) if lineage is not None else ()
    parts.append(f"<h4>Findings ({len(findings)})</h4>")
    if findings:
        parts.append("<ul>")
        for f in findings:
            word = "problem" if f.kind in SEVERE else "warning"
            what = f" {e(f.artifact)}" if f.artifact else ""
            parts.append(f"<li><b>{e(f.kind)}</b> ({word}){what}: {e(f.detail)}</li>")
        parts.append("</ul>")
    else:
        parts.append("<p>✓ none</p>")
    parts.append(f"<h4>Artifacts ({len(node.artifacts)})</h4>")
    for art in node.artifacts:
        parts.append(f"<p><b>{e(art.name)}</b><br>SHA-256 {_mono(art.sha256 or 'unknown')}")
        for loc, envs in zip(art.locations, art.location_environments, strict=False):
            where = f" ({e(', '.join(envs))})" if envs else ""
            parts.append(f"<br>at {_mono(str(loc))}{where}")
        if art.signatures:
            words = sorted({f"{s.format} {s.status}" for s in art.signatures})
            parts.append(f"<br>signatures: {e(', '.join(words))}")
        else:
            parts.append("<br>signatures: none")
        parts.append("</p>")
    parts.append(f"<h4>Promotions ({len(node.promotions)})</h4>")
    if node.promotions:
        parts.append("<ul>")
        for p in node.promotions:
            mark = "✓ ok" if p.ok else "✗ not valid"
            who = e(p.promoter or p.signer or "unknown")
            when = e(exact(p.time))
            src = f"{e(p.source)} → " if p.source else ""
            parts.append(
                f"<li>{src}<b>{e(p.environment)}</b> by {who}, {when}: {mark} — {e(p.detail)}</li>"
            )
        parts.append("</ul>")
    else:
        parts.append("<p>none recorded</p>")
    return "".join(parts)


class BuildDetails(QTextBrowser):
    """A build's full evidence, read-only and selectable (the Details dock shows it)."""

    EMPTY = "Select a build or an environment card to see its artifacts, promotions and findings."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Build details")
        self.setOpenLinks(False)
        self.node: BuildNode | None = None
        self.show_build(None, None)

    def show_build(self, node: BuildNode | None, lineage: Lineage | None) -> None:
        self.node = node
        if node is None:
            self.setHtml(f"<p>{html.escape(self.EMPTY)}</p>")
        else:
            self.setHtml(build_html(node, lineage))


class StateMessage(QLabel):
    """What a page says instead of a blank pane (no profile, loading, error)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAccessibleName(name)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setMargin(48)


class BuildsPage(QWidget):
    """Builds of the shared lineage; emits ``build_selected`` (a BuildNode or None)."""

    build_selected = Signal(object)

    def __init__(self, loader: LineageLoader, icons: IconSet, parent: QWidget | None = None):
        super().__init__(parent)
        self.loader = loader
        self.setAccessibleName("Builds page")
        self.details = BuildDetails()
        self.model = BuildsTableModel(icons, self)
        self.proxy = BuildsProxyModel(self)
        self.proxy.setSourceModel(self.model)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search identity, commit, SHA-256, artifact")
        self.search.setAccessibleName("Search builds")
        self.search.setClearButtonEnabled(True)
        for button in self.search.findChildren(QToolButton):
            button.setAccessibleName("Clear search")
        self.apps = QComboBox()
        self.apps.setAccessibleName("Application filter")
        self.envs = QComboBox()
        self.envs.setAccessibleName("Environment filter")
        for combo in (self.apps, self.envs):
            combo.view().setAccessibleName(f"{combo.accessibleName()} choices")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.findings_only = QCheckBox("With findings only")
        self.findings_only.setAccessibleName("With findings only")
        self.count = QLabel()
        self.count.setAccessibleName("Build count")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.apps)
        bar.addWidget(self.envs)
        bar.addWidget(self.findings_only)
        bar.addWidget(self.count)

        self.table = rows_view("Builds table", self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setItemDelegateForColumn(COL_FINDINGS, FindingsDelegate(icons, self.table))
        header = self.table.horizontalHeader()
        header.setSortIndicator(COL_STARTED, Qt.SortOrder.DescendingOrder)
        header.setStretchLastSection(True)
        for column, width in (
            (COL_IDENTITY, 205),
            (COL_APP, 105),
            (COL_NUMBER, 62),
            (COL_STARTED, 80),
            (COL_COMMIT, 112),
            (COL_BRANCH, 120),
            (COL_FURTHEST, 72),
        ):
            header.resizeSection(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionsMovable(True)
        header.moveSection(COL_FINDINGS, COL_NUMBER)  # the problems at first glance
        header.resizeSection(COL_FINDINGS, 150)

        self.message = StateMessage("Builds status")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.table)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_search)
        self.apps.currentIndexChanged.connect(self._filters_changed)
        self.envs.currentIndexChanged.connect(self._filters_changed)
        self.findings_only.toggled.connect(self._filters_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        loader.changed.connect(self.refresh)
        loader.progressed.connect(lambda _done, _total: self._update_count())
        self._shown_lineage: Lineage | None = None
        self._shown_preview: list[BuildRow] | None = None
        self.refresh()

    # -- contents --------------------------------------------------------------------------

    def refresh(self) -> None:
        loader = self.loader
        lineage = loader.lineage
        # The build runs alone, while a server's lineage loads (see LineageLoader.preview).
        preview = loader.preview if lineage is None else None
        if lineage is not None and lineage is not self._shown_lineage:
            selected = self._selected_label()
            self._shown_lineage, self._shown_preview = lineage, None
            self._fill_filters(lineage)
            rows = loader.rows if loader.rows is not None else make_rows(lineage)
            self.model.set_rows(rows)
            self.proxy.refilter()
            self._show_selected(None)
            if selected:
                self.select_label(selected)
        elif preview is not None and preview is not self._shown_preview:
            self._shown_preview = preview
            self.model.set_rows(preview)
            self.proxy.refilter()
            self._show_selected(None)
        elif lineage is None and preview is None and (self._shown_lineage or self._shown_preview):
            self._shown_lineage = self._shown_preview = None
            self.model.set_lineage(None)
            self._show_selected(None)
        if preview:
            self.stack.setCurrentWidget(self.table)
        elif lineage is None:
            self.message.setText(loader.message or "Nothing loaded yet — press F5.")
            self.stack.setCurrentWidget(self.message)
        elif not lineage.builds:
            self.message.setText(
                f"Profile {loader.profile.name if loader.profile else ''} has no builds yet: "
                "publish a build record (or run `relman demo`), then press F5."
            )
            self.stack.setCurrentWidget(self.message)
        else:
            self.stack.setCurrentWidget(self.table)
        self._update_count()

    def _fill_filters(self, lineage: Lineage) -> None:
        for combo, first, values in (
            (self.apps, ALL_APPS, sorted({b.name for b in lineage.builds})),
            (self.envs, ALL_ENVS, [e.name for e in lineage.environments]),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(first, "")
            for value in values:
                combo.addItem(value if combo is self.apps else f"In {value}", value)
            index = combo.findData(current)
            combo.setCurrentIndex(max(0, index))
            combo.blockSignals(False)
        self.proxy.application = self.apps.currentData() or ""
        self.proxy.environment = self.envs.currentData() or ""

    def apply_search(self) -> None:
        self._search_timer.stop()
        self.proxy.set_filters(search=self.search.text())
        self._update_count()

    def _filters_changed(self) -> None:
        self.proxy.set_filters(
            application=self.apps.currentData() or "",
            environment=self.envs.currentData() or "",
            findings_only=self.findings_only.isChecked(),
        )
        self._update_count()

    def _update_count(self) -> None:
        total = self.model.total()
        shown = self.proxy.rowCount()
        text = f"{shown} of {total} builds" if shown != total else f"{total} builds"
        if self._shown_preview is not None:
            text += f" — reading commits, environments and findings…{self._percent()}"
        self.count.setText(text)

    def _percent(self) -> str:
        done, total = self.loader.progress
        return f" {100 * done // total}%" if total else ""

    # -- selection -------------------------------------------------------------------------

    def visible_rows(self) -> list[BuildRow]:
        return [
            self.proxy.data(self.proxy.index(r, 0), Qt.ItemDataRole.UserRole + 2)
            for r in range(self.proxy.rowCount())
        ]

    def select_label(self, label: str) -> bool:
        """Select the build ``NAME/NUMBER`` if it is shown."""
        row = self.model.row_of(label)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        index: QModelIndex | None = rows[0] if rows else None
        row = index.data(Qt.ItemDataRole.UserRole + 2) if index is not None else None
        if row is not None and row.extra.get("preview"):
            self._show_selected(None)
            self.details.setHtml(
                f"<p>{html.escape(row.node.label)}: its commit, artifacts, promotions and "
                f"findings arrive with the lineage, being read now{self._percent()}.</p>"
            )
            return
        self._show_selected(row.node if row is not None else None)

    def _selected_label(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].data(Qt.ItemDataRole.UserRole + 2) if rows else None
        return row.node.label if row is not None else None

    def _show_selected(self, node: BuildNode | None) -> None:
        self.details.show_build(node, self.loader.lineage)
        emit(self.build_selected, node)

    def add_build_actions(self, toolbar: QToolBar, actions: Sequence[QAction]) -> None:
        """Promote / roll back / approve the selected build (issue 6): ``toolbar`` above the
        filters, ``actions`` in the table's context menu."""
        self.layout().insertWidget(0, toolbar)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.addActions(list(actions))

    def clear_filters(self) -> None:
        self.search.clear()
        self.apps.setCurrentIndex(0)
        self.envs.setCurrentIndex(0)
        self.findings_only.setChecked(False)
        self.apply_search()


__all__ = ["COL_APP", "COL_BRANCH", "COL_COMMIT", "BuildDetails", "BuildsPage", "build_html"]
