"""The Lineage page: the graph of a build's commit (see :mod:`.lineage_scene`), its findings.

A build selector (newest first) or a commit field chooses what is drawn; zoom with Ctrl+wheel
or the +/- buttons, pan by dragging, Fit; export the picture as PNG or SVG. Selecting an
artifact card shows its evidence in :class:`ArtifactDetails` (the main window's Details dock);
selecting a build card emits ``build_selected`` like the Builds page does.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QImage, QPainter, QPalette, QWheelEvent
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from relman.release.lineage import ArtifactNode, BuildNode, Finding, Lineage

from .builds_model import SEVERE
from .builds_page import StateMessage
from .icons import IconSet
from .lineage_loader import LineageLoader
from .lineage_scene import LineageScene, NodeItem
from .qtcompat import emit

logger = logging.getLogger(__name__)

FindingRole = Qt.ItemDataRole.UserRole + 1
ZOOM_STEP = 1.25
#: The smallest scale a graph is first drawn at (smaller is unreadable; Fit goes below).
MIN_DEFAULT_SCALE = 0.62
_OLD = datetime.min.replace(tzinfo=UTC)


class FindingsModel(QAbstractListModel):
    """The findings of the builds drawn, one a row; :data:`FindingRole` holds the Finding."""

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self._findings: tuple[Finding, ...] = ()

    def set_findings(self, findings: tuple[Finding, ...]) -> None:
        self.beginResetModel()
        self._findings = findings
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._findings)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._findings):
            return None
        f = self._findings[index.row()]
        severe = f.kind in SEVERE
        if role == Qt.ItemDataRole.DisplayRole:
            where = " ".join(x for x in (f.build, f.artifact) if x)
            word = "problem" if severe else "warning"
            return f"{f.kind} ({word}) — {where}: {f.detail}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.icon("failed" if severe else "not-verified")
        if role == Qt.ItemDataRole.ToolTipRole:
            return f.detail
        if role == FindingRole:
            return f
        return None


def artifact_html(build: BuildNode, art: ArtifactNode) -> str:
    """An artifact's evidence: digests, locations with properties, signatures, provenance."""
    e = html.escape
    parts = [f"<h3>{e(art.name)}</h3><p>of build {e(build.label)}</p><table>"]
    facts = [("SHA-256", art.sha256 or "unknown"), ("Path", art.path or "—")]
    if art.locations:
        first = art.locations[0]
        facts += [("SHA-1", first.sha1 or "—"), ("MD5", first.md5 or "—")]
        facts.append(("Size", f"{first.size} bytes" if first.size is not None else "unknown"))
    for key, value in facts:
        parts.append(f"<tr><td><b>{key}</b>&nbsp;</td><td><code>{e(value)}</code></td></tr>")
    parts.append("</table>")
    parts.append(f"<h4>Locations ({len(art.locations)})</h4>")
    for loc, envs in zip(art.locations, art.location_environments, strict=False):
        where = f" — in {e(', '.join(envs))}" if envs else ""
        parts.append(f"<p><code>{e(str(loc))}</code>{where}<br>")
        props = "; ".join(f"{e(k)} = {e(', '.join(v))}" for k, v in sorted(loc.properties.items()))
        parts.append(f"properties: {props or 'none'}</p>")
    # The same sidecar is copied beside each location: list each distinct check once.
    checks = list({(s.format, s.status, s.signer, s.detail): s for s in art.signatures}.values())
    parts.append(f"<h4>Signatures ({len(checks)})</h4>")
    if checks:
        parts.append("<ul>")
        for s in checks:
            mark = {"verified": "✓ verified", "failed": "✗ failed"}.get(s.status, "? not checked")
            signer = e(s.signer or "unknown signer")
            parts.append(f"<li><b>{e(s.format)}</b>: {mark} — {signer}<br>{e(s.detail)}</li>")
        parts.append("</ul>")
    else:
        parts.append("<p>✗ none (unsigned)</p>")
    provenance = [s for s in checks if s.format in ("dsse", "in-toto")]
    if provenance:
        parts.append("<h4>Provenance</h4><ul>")
        parts.extend(f"<li>{e(s.detail)}</li>" for s in provenance)
        parts.append("</ul>")
    return "".join(parts)


class ArtifactDetails(QTextBrowser):
    """The selected artifact's evidence (the Details dock shows it)."""

    EMPTY = "Select an artifact in the lineage graph to see its digests, locations and signatures."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Artifact details")
        self.setOpenLinks(False)
        self.artifact: ArtifactNode | None = None
        self.show_artifact(None, None)

    def show_artifact(self, build: BuildNode | None, art: ArtifactNode | None) -> None:
        self.artifact = art
        if build is None or art is None:
            self.setHtml(f"<p>{html.escape(self.EMPTY)}</p>")
        else:
            self.setHtml(artifact_html(build, art))


class LineageView(QGraphicsView):
    """Drag to pan, Ctrl+wheel to zoom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Lineage graph")
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            event.accept()
        else:
            super().wheelEvent(event)

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.1 <= scale <= 5:
            self.scale(factor, factor)

    def fit(self) -> None:
        scene = self.scene()
        if scene is not None and not scene.sceneRect().isEmpty():
            self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)


class LineagePage(QWidget):
    """The graph of the chosen build's commit; emits ``build_selected`` and
    ``artifact_selected`` (BuildNode, ArtifactNode) when a card is selected."""

    build_selected = Signal(object)
    artifact_selected = Signal(object, object)

    def __init__(self, loader: LineageLoader, icons: IconSet, parent: QWidget | None = None):
        super().__init__(parent)
        self.loader = loader
        self.setAccessibleName("Lineage page")
        self.details = ArtifactDetails()
        self.scene = LineageScene(icons, self.palette(), self)
        self.findings = FindingsModel(icons, self)
        self.builds: tuple[BuildNode, ...] = ()

        self.build_combo = QComboBox()
        self.build_combo.setAccessibleName("Build to draw")
        self.build_combo.view().setAccessibleName("Build to draw choices")
        self.build_combo.setMinimumContentsLength(28)
        self.commit_field = QLineEdit()
        self.commit_field.setAccessibleName("Commit to draw")
        self.commit_field.setPlaceholderText("Commit (7+ hex digits), Enter")
        self.commit_field.setMaximumWidth(260)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Build:"))
        bar.addWidget(self.build_combo, 1)
        bar.addWidget(self.commit_field)
        self.buttons: dict[str, QPushButton] = {}
        for name, text, tip in (
            ("zoom_out", "−", "Zoom out (Ctrl+wheel)"),
            ("zoom_in", "+", "Zoom in (Ctrl+wheel)"),
            ("fit", "Fit", "Fit the graph in the view"),
            ("export", "Export…", "Save the picture as PNG or SVG"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setAccessibleName(tip.split(" (")[0])
            bar.addWidget(button)
            self.buttons[name] = button
        self.view = LineageView()
        self.view.setScene(self.scene)
        self.view.setBackgroundBrush(self.palette().color(QPalette.ColorRole.Window))
        self.findings_view = QListView()
        self.findings_view.setAccessibleName("Findings of the drawn builds")
        self.findings_view.setModel(self.findings)
        self.findings_view.setWordWrap(True)
        self.findings_view.setIconSize(QSize(16, 16))
        self.findings_label = QLabel()
        self.findings_label.setAccessibleName("Findings summary")
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.findings_label)
        lower_layout.addWidget(self.findings_view)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 130])
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(bar)
        content_layout.addWidget(self.splitter, 1)
        self.message = StateMessage("Lineage status")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(content)
        QVBoxLayout(self).addWidget(self.stack)

        self.buttons["zoom_in"].clicked.connect(lambda: self.view.zoom(ZOOM_STEP))
        self.buttons["zoom_out"].clicked.connect(lambda: self.view.zoom(1 / ZOOM_STEP))
        self.buttons["fit"].clicked.connect(self.view.fit)
        self.buttons["export"].clicked.connect(self.export_dialog)
        self.build_combo.activated.connect(
            lambda _i: self.show_build(self.build_combo.currentData())
        )
        self.commit_field.returnPressed.connect(lambda: self.show_commit(self.commit_field.text()))
        self.findings_view.clicked.connect(self.select_finding)
        self.scene.selectionChanged.connect(self._selection_changed)
        loader.changed.connect(self.refresh)
        self._shown: Lineage | None = None
        self.refresh()

    # -- contents --------------------------------------------------------------------------

    def refresh(self) -> None:
        lineage = self.loader.lineage
        if lineage is not self._shown:
            self._shown = lineage
            self._fill_builds(lineage)
            first = self.build_combo.itemData(0) if self.build_combo.count() else None
            self.show_build(first)
        if lineage is None:
            self.message.setText(self.loader.message or "Nothing loaded yet — press F5.")
            self.stack.setCurrentIndex(0)
        elif not lineage.builds:
            self.message.setText(
                "No build to draw yet: publish a build record (or run `relman demo`, or add a "
                "profile with `relman profile add …`), then press F5."
            )
            self.stack.setCurrentIndex(0)
        else:
            self.stack.setCurrentIndex(1)

    def _fill_builds(self, lineage: Lineage | None) -> None:
        builds = sorted(lineage.builds if lineage else (), key=lambda b: b.started or _OLD)
        self.build_combo.clear()
        for build in reversed(builds):
            ident = build.identity
            self.build_combo.addItem(f"{build.label}  ({ident or 'no identity'})", build.label)

    def show_build(self, label: str | None) -> bool:
        """Draw the builds of the commit of build ``label`` and select that build's card."""
        lineage = self.loader.lineage
        build = next((b for b in lineage.builds if b.label == label), None) if lineage else None
        if lineage is None or build is None:
            self._draw(lineage, ())
            return False
        siblings = (
            tuple(b for b in lineage.builds if b.commit == build.commit) if build.commit else ()
        )
        self._draw(lineage, siblings or (build,))
        self.build_combo.setCurrentIndex(max(0, self.build_combo.findData(label)))
        self.commit_field.setText(build.commit or "")
        self.commit_field.setCursorPosition(0)
        self.select_node(self.scene.nodes.get(("build", label)))
        return True

    def show_commit(self, prefix: str) -> bool:
        wanted = prefix.strip().lower()
        lineage = self.loader.lineage
        if lineage is None or len(wanted) < 7:
            return False
        found = [b for b in lineage.builds if (b.commit or "").startswith(wanted)]
        return self.show_build(found[0].label) if found else False

    def _draw(self, lineage: Lineage | None, builds: tuple[BuildNode, ...]) -> None:
        self.builds = builds
        if lineage is None:
            self.scene.clear()
            self.scene.nodes = {}
            self.findings.set_findings(())
        else:
            self.scene.show_builds(lineage, builds)
            self.findings.set_findings(tuple(f for b in builds for f in lineage.findings_of(b)))
        count = self.findings.rowCount()
        self.findings_label.setText(
            f"Findings ({count}) — click one to select its card" if count else "Findings: ✓ none"
        )
        # Fit when the graph is small; else a readable scale (Fit shows it all).
        self.view.resetTransform()
        self.view.fit()
        scale = self.view.transform().m11()
        if not MIN_DEFAULT_SCALE <= scale <= 1:
            self.view.resetTransform()
            if scale < MIN_DEFAULT_SCALE:
                self.view.scale(MIN_DEFAULT_SCALE, MIN_DEFAULT_SCALE)

    # -- selection -------------------------------------------------------------------------

    def select_node(self, node: NodeItem | None) -> None:
        if node is None:
            return
        self.scene.clearSelection()
        node.setSelected(True)
        self.view.centerOn(node)

    def select_finding(self, index: QModelIndex) -> None:
        finding = index.data(FindingRole)
        if isinstance(finding, Finding):
            self.select_node(self.scene.node_for(finding))

    def selected_node(self) -> NodeItem | None:
        items = [i for i in self.scene.selectedItems() if isinstance(i, NodeItem)]
        return items[0] if items else None

    def _selection_changed(self) -> None:
        node = self.selected_node()
        if node is None:
            return
        if node.kind == "artifact":
            build, art = node.payload  # type: ignore[misc]
            self.details.show_artifact(build, art)
            emit(self.artifact_selected, build, art)
        elif node.kind in ("build", "environment"):
            emit(self.build_selected, node.payload)

    def add_build_actions(self, toolbar: QToolBar, actions: Sequence[QAction]) -> None:
        """Promote / roll back / approve the selected build (issue 6): ``toolbar`` above the
        graph, ``actions`` in the graph's context menu."""
        self.layout().insertWidget(0, toolbar)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.view.addActions(list(actions))

    # -- export ----------------------------------------------------------------------------

    def ask_export_target(self) -> str:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export the lineage picture", "lineage.png", "PNG image (*.png);;SVG (*.svg)"
        )
        return path

    def export_dialog(self) -> Path | None:
        target = self.ask_export_target()
        return self.export(Path(target)) if target else None

    def export(self, path: Path) -> Path:
        """Write the whole graph to ``path`` (SVG when it ends in .svg, else PNG)."""
        rect = self.scene.sceneRect()
        background = self.palette().color(QPalette.ColorRole.Window)
        if path.suffix.lower() == ".svg":
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(int(rect.width()), int(rect.height())))
            generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
            generator.setTitle("relman lineage")
            painter = QPainter(generator)
        else:
            if path.suffix.lower() != ".png":
                path = path.with_suffix(".png")
            image = QImage(
                int(rect.width() * 2), int(rect.height() * 2), QImage.Format.Format_ARGB32
            )
            image.fill(background)
            painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if path.suffix.lower() == ".svg":
            painter.fillRect(QRectF(0, 0, rect.width(), rect.height()), background)
        self.scene.render(painter, source=rect)
        painter.end()
        if path.suffix.lower() == ".png" and not image.save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")
        return path
