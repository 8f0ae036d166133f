"""The Lineage graph as QGraphicsScene items: nodes, edges with labels, and the layout.

Columns left to right: the commit, the builds of that commit (stacked; a "rebuilt" badge when
there are two or more), each build's artifacts, then one column per environment in profile
order. An artifact points at the first environment it reached; environments of one build are
chained by promotion edges labelled "who, when" with a seal (verified record) or a warning.
Every colour comes from the palette; every status is an icon and a word.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
    QWidget,
)

from relman.release.lineage import BuildNode, Finding, Lineage, Promotion

from .builds_model import SEVERE, exact
from .icons import IconSet

logger = logging.getLogger(__name__)

NODE_WIDTH = 220
COLUMN_GAP = 60
ROW_GAP = 18
PAD = 8
LINE = 17
BADGE = 22
HEADER = 34
ENV_WIDTH = 110
ENV_STEP = ENV_WIDTH + 190

SIGNATURE_BADGES = {
    "verified": ("verified", "signature verified"),
    "failed": ("failed", "signature failed"),
    "not-checked": ("not-verified", "signature not checked"),
    "none": ("not-verified", "unsigned"),
}


@dataclass(frozen=True, slots=True)
class Badge:
    icon: str
    word: str


def artifact_signature(statuses: set[str]) -> str:
    """One word for an artifact's signatures: failed beats not checked beats verified."""
    for status in ("failed", "not-checked", "verified"):
        if status in statuses:
            return status
    return "none"


def finding_badge(finding: Finding) -> Badge:
    return Badge("failed" if finding.kind in SEVERE else "not-verified", finding.kind)


def mono_font() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class NodeItem(QGraphicsItem):
    """A selectable card: a bold title, lines of text (some monospace), a row of badges."""

    def __init__(
        self,
        kind: str,
        key: tuple[str, ...],
        title: str,
        lines: list[tuple[str, bool]],
        badges: list[Badge],
        payload: object,
        icons: IconSet,
        palette: QPalette,
        width: float = NODE_WIDTH,
    ) -> None:
        super().__init__()
        self.width = width
        self.kind, self.key, self.title, self.lines = kind, key, title, lines
        self.badges, self.payload = badges, payload
        self._icons, self._palette = icons, palette
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self._height = PAD * 2 + LINE + LINE * len(lines) + self._badge_rows() * BADGE

    def _badge_width(self, badge: Badge) -> float:
        return 16 + 4 + QFontMetricsF(QFont()).horizontalAdvance(badge.word) + 10

    def _badge_rects(self) -> list[tuple[Badge, QRectF]]:
        x, y = PAD, PAD + LINE * (1 + len(self.lines)) + 2
        rects = []
        for badge in self.badges:
            width = self._badge_width(badge)
            if x + width > self.width - PAD and x > PAD:
                x, y = PAD, y + BADGE
            rects.append((badge, QRectF(x, y, width, BADGE - 4)))
            x += width + 4
        return rects

    def _badge_rows(self) -> int:
        rects = self._badge_rects()
        return len({r.top() for _, r in rects})

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, self.width + 4, self._height + 4)

    def height(self) -> float:
        return self._height

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pal = self._palette
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        border = pal.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Mid)
        painter.setPen(QPen(border, 2.5 if selected else 1.0))
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(QRectF(0, 0, self.width, self._height), 6, 6)
        text = pal.color(QPalette.ColorRole.Text)
        painter.setPen(text)
        bold = QFont()
        bold.setBold(True)
        width = self.width - 2 * PAD
        painter.setFont(bold)
        title = QFontMetricsF(bold).elidedText(self.title, Qt.TextElideMode.ElideMiddle, width)
        painter.drawText(QRectF(PAD, PAD, width, LINE), Qt.AlignmentFlag.AlignVCenter, title)
        y = PAD + LINE
        for line, mono in self.lines:
            font = mono_font() if mono else QFont()
            painter.setFont(font)
            shown = QFontMetricsF(font).elidedText(line, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRectF(PAD, y, width, LINE), Qt.AlignmentFlag.AlignVCenter, shown)
            y += LINE
        painter.setFont(QFont())
        for badge, rect in self._badge_rects():
            painter.setPen(pal.color(QPalette.ColorRole.Mid))
            painter.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(rect, 4, 4)
            icon_rect = QRectF(rect.left() + 4, rect.center().y() - 8, 16, 16).toRect()
            self._icons.icon(badge.icon).paint(painter, icon_rect)
            painter.setPen(text)
            painter.drawText(rect.adjusted(24, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, badge.word)

    def words(self) -> str:
        """Everything the card says (tests, tooltips)."""
        return " ".join([self.title, *(t for t, _ in self.lines), *(b.word for b in self.badges)])


class EdgeLabel(QGraphicsItem):
    """An icon and words on an edge, on a base-coloured plate so the line does not cross it."""

    def __init__(self, badge: Badge, text: str, icons: IconSet, palette: QPalette) -> None:
        super().__init__()
        self.badge, self.text = badge, text
        self._icons, self._palette = icons, palette
        metrics = QFontMetricsF(QFont())
        self._width = (
            16 + 6 + max(metrics.horizontalAdvance(text), metrics.horizontalAdvance(badge.word)) + 8
        )
        self.setZValue(2)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._width, 2 * LINE + 4)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pal = self._palette
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pal.color(QPalette.ColorRole.Mid))
        painter.setBrush(pal.color(QPalette.ColorRole.Window))
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        self._icons.icon(self.badge.icon).paint(painter, QRectF(4, 4, 16, 16).toRect())
        painter.setPen(pal.color(QPalette.ColorRole.WindowText))
        painter.drawText(QRectF(24, 2, self._width, LINE), Qt.AlignmentFlag.AlignVCenter, self.text)
        painter.drawText(
            QRectF(24, 2 + LINE, self._width, LINE), Qt.AlignmentFlag.AlignVCenter, self.badge.word
        )


class EdgeItem(QGraphicsPathItem):
    """A curve from the right side of ``source`` to the left side of ``target``."""

    def __init__(self, source: NodeItem, target: NodeItem, palette: QPalette, *, dashed: bool):
        super().__init__()
        self.source, self.target = source, target
        self.label: EdgeLabel | None = None
        start = source.pos() + QPointF(source.width, min(source.height() / 2, 24))
        end = target.pos() + QPointF(0, min(target.height() / 2, 24))
        path = QPainterPath(start)
        bend = max(40.0, (end.x() - start.x()) / 2)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
        self.setPath(path)
        pen = QPen(palette.color(QPalette.ColorRole.Dark), 1.4)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setZValue(-1)


def promotion_text(promotion: Promotion) -> str:
    who = promotion.promoter or promotion.signer or "unknown"
    when = exact(promotion.time).replace(" UTC", "").rsplit(":", 1)[0] if promotion.time else "?"
    return f"{who}, {when}"


class LineageScene(QGraphicsScene):
    """The graph of one commit's builds; ``nodes`` maps a key to its card."""

    def __init__(self, icons: IconSet, palette: QPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icons, self.palette_ = icons, palette
        self.nodes: dict[tuple[str, ...], NodeItem] = {}
        self.edges: list[EdgeItem] = []

    def show_builds(self, lineage: Lineage, builds: tuple[BuildNode, ...]) -> None:
        self.clear()
        self.nodes, self.edges = {}, []
        if not builds:
            return
        envs = [e.name for e in lineage.environments]
        column = [i * (NODE_WIDTH + COLUMN_GAP) for i in range(3)]
        column += [column[2] + NODE_WIDTH + COLUMN_GAP + i * ENV_STEP for i in range(len(envs))]
        self._headers(["Commit", "Builds", "Artifacts", *envs], column)
        y = float(HEADER)
        build_items = []
        for build in builds:
            band_top = y
            item = self._build_node(lineage, build, stacked=len(builds) > 1)
            item.setPos(column[1], band_top)
            build_items.append(item)
            art_y = band_top
            for art in build.artifacts:
                node = self._artifact_node(lineage, build, art)
                node.setPos(column[2], art_y)
                art_y += node.height() + ROW_GAP
                self._edge(item, node)
            env_y = band_top
            for env in build.environments:
                index = envs.index(env) if env in envs else len(envs) - 1
                node = self._add(
                    "environment",
                    ("environment", build.label, env),
                    env,
                    [(f"build {build.number}", False)],
                    [],
                    build,
                    width=ENV_WIDTH,
                )
                node.setPos(column[3 + index], env_y)
            self._environment_edges(build)
            y = max(art_y, item.pos().y() + item.height() + ROW_GAP, env_y + 90) + ROW_GAP
        first = builds[0]
        commit = first.commit or "unknown"
        record = first.record
        lines = [(commit[:12], True), (record.vcs_message or "(no message)", False)]
        lines.append((f"branch {record.vcs_branch or '—'}", False))
        commit_item = self._add("commit", ("commit", commit), "Commit", lines, [], commit)
        commit_item.setToolTip(commit)
        top, bottom = build_items[0].pos().y(), build_items[-1].pos().y() + build_items[-1].height()
        commit_item.setPos(column[0], (top + bottom - commit_item.height()) / 2)
        for item in build_items:
            self._edge(commit_item, item)
        self.setSceneRect(self.itemsBoundingRect().adjusted(-24, -24, 24, 24))

    # -- nodes ---------------------------------------------------------------------------

    def _add(self, kind, key, title, lines, badges, payload, width=NODE_WIDTH) -> NodeItem:  # type: ignore[no-untyped-def]
        item = NodeItem(kind, key, title, lines, badges, payload, self.icons, self.palette_, width)
        self.addItem(item)
        self.nodes[key] = item
        return item

    def _headers(self, names: list[str], column: list[int]) -> None:
        bold = QFont()
        bold.setBold(True)
        for name, x in zip(names, column, strict=False):
            text = self.addSimpleText(name, bold)
            text.setBrush(self.palette_.color(QPalette.ColorRole.PlaceholderText))
            text.setPos(x + PAD, 0)

    def _build_node(self, lineage: Lineage, build: BuildNode, *, stacked: bool) -> NodeItem:
        ident = build.identity
        lines = [
            (str(ident) if ident else "no identity (untraceable)", True),
            (f"number {build.number}", False),
            (f"started {exact(build.started)}", False),
        ]
        badges = [Badge("failed", "rebuilt")] if stacked else []
        badges += [finding_badge(f) for f in lineage.findings_of(build) if not f.artifact]
        item = self._add("build", ("build", build.label), build.label, lines, badges, build)
        item.setToolTip(ident.full if ident else build.label)
        return item

    def _artifact_node(self, lineage: Lineage, build: BuildNode, art) -> NodeItem:  # type: ignore[no-untyped-def]
        sha = art.sha256 or "unknown"
        lines = [(f"sha256 {sha[:12]}…" if art.sha256 else "sha256 unknown", True)]
        icon, word = SIGNATURE_BADGES[artifact_signature({s.status for s in art.signatures})]
        badges = [Badge(icon, word)]
        badges += [
            finding_badge(f)
            for f in lineage.findings_of(build)
            if f.artifact == art.name and f.kind != "unsigned"
        ]
        key = ("artifact", build.label, art.name)
        item = self._add("artifact", key, art.name, lines, badges, (build, art))
        item.setToolTip(f"{art.name}\nSHA-256 {sha}")
        return item

    # -- edges ---------------------------------------------------------------------------

    def _edge(self, source: NodeItem, target: NodeItem, *, dashed: bool = False) -> EdgeItem:
        edge = EdgeItem(source, target, self.palette_, dashed=dashed)
        self.addItem(edge)
        self.edges.append(edge)
        return edge

    def _environment_edges(self, build: BuildNode) -> None:
        label = build.label
        for art in build.artifacts:
            if art.environments and ("environment", label, art.environments[0]) in self.nodes:
                source = self.nodes[("artifact", label, art.name)]
                self._edge(source, self.nodes[("environment", label, art.environments[0])])
        for previous, env in zip(build.environments, build.environments[1:], strict=False):
            promotions = build.promotions_to(env)
            promotion = promotions[-1] if promotions else None
            source_env = promotion.source if promotion and promotion.source else previous
            source = (
                self.nodes.get(("environment", label, source_env))
                or self.nodes[("environment", label, previous)]
            )
            target = self.nodes[("environment", label, env)]
            if promotion is None:
                badge, text = Badge("not-verified", "warning: no promotion record"), "promoted"
            elif promotion.ok:
                badge, text = (
                    Badge("verified", "sealed: record verified"),
                    promotion_text(promotion),
                )
            else:
                badge, text = (
                    Badge("failed", "warning: record not verified"),
                    promotion_text(promotion),
                )
            edge = self._edge(source, target, dashed=promotion is None or not promotion.ok)
            edge.label = EdgeLabel(badge, text, self.icons, self.palette_)
            edge.label.setToolTip(promotion.detail if promotion else "no promotion record")
            self.addItem(edge.label)
            # Under the two cards, centred on the gap: wider than the gap, it overlaps no card.
            mid = edge.path().pointAtPercent(0.5)
            rect = edge.label.boundingRect()
            below = max(source.pos().y() + source.height(), target.pos().y() + target.height())
            edge.label.setPos(mid.x() - rect.width() / 2, below + 6)

    def node_for(self, finding: Finding) -> NodeItem | None:
        """The card a finding concerns: its artifact's, else its build's."""
        if finding.build is None:
            return None
        if finding.artifact:
            found = self.nodes.get(("artifact", finding.build, finding.artifact))
            if found is not None:
                return found
        return self.nodes.get(("build", finding.build))
