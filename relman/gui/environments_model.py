"""The Environments board: applications x the profile's environments, one card per cell.

A card is the newest build of the application in that environment (by start time, then
number): its short identity, age and commit, whether its artifacts are signed and verified,
its findings, and whether it may move on to the next environment ("Promote to qa") or, in one
line, why not. Promotion itself is issue 6; the board only says it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QFont, QFontDatabase, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from relman.release.lineage import BuildNode, Lineage

from .builds_model import exact, relative, shorten_middle
from .icons import IconSet

CardRole = Qt.ItemDataRole.UserRole + 1
NodeRole = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True, slots=True)
class Card:
    app: str
    environment: str
    node: BuildNode | None
    identity: str = ""
    identity_full: str = ""
    age: str = ""
    started: str = ""
    commit: str = ""
    signed: bool = False
    verified: bool = False
    findings: tuple[str, ...] = ()
    #: "Promote to qa", or why not, or "" (last environment / empty cell).
    verdict: str = ""
    may_promote: bool = False

    @property
    def text(self) -> str:
        """The card in words (screen readers, tests, the cell's display text)."""
        if self.node is None:
            return f"{self.app}: no build in {self.environment}"
        marks = [
            "signed" if self.signed else "unsigned",
            "verified" if self.verified else "not verified",
            f"{len(self.findings)} findings" if self.findings else "no findings",
        ]
        verdict = f"; {self.verdict}" if self.verdict else ""
        return f"{self.identity}, {self.age}, commit {self.commit}; {', '.join(marks)}{verdict}"


def _signed(node: BuildNode) -> bool:
    return bool(node.artifacts) and all(a.signatures for a in node.artifacts)


def _verified(node: BuildNode) -> bool:
    return _signed(node) and all(
        any(s.status == "verified" for s in a.signatures)
        and not any(s.status == "failed" for s in a.signatures)
        for a in node.artifacts
    )


def _newest(nodes: list[BuildNode]) -> BuildNode:
    def key(n: BuildNode) -> tuple[float, int]:
        stamp = n.started.timestamp() if n.started else float("-inf")
        return (stamp, int(n.number) if n.number.isdigit() else -1)

    return max(nodes, key=key)


def make_card(
    app: str, envs: list[str], column: int, node: BuildNode | None, lineage: Lineage, now: datetime
) -> Card:
    env = envs[column]
    if node is None:
        return Card(app, env, None)
    findings = tuple(f.kind for f in lineage.findings_of(node))
    signed, verified = _signed(node), _verified(node)
    may = False
    if column + 1 >= len(envs):
        verdict = f"in {env}, the last environment"
    else:
        nxt = envs[column + 1]
        into = node.promotions_to(env)
        if findings:
            kinds = ", ".join(dict.fromkeys(findings))
            n = len(findings)
            verdict = f"{n} finding{'s' if n != 1 else ''}: {kinds}"
        elif not signed:
            verdict = "not signed"
        elif not verified:
            verdict = "not signed by a trusted key"
        elif column > 0 and not any(p.ok for p in into):
            verdict = f"no valid promotion record to {env}"
        elif nxt in node.environments:
            verdict = f"already in {nxt}"
        else:
            verdict, may = f"Promote to {nxt}", True
    ident = node.identity
    return Card(
        app,
        env,
        node,
        identity=shorten_middle(str(ident), 7) if ident else "untraceable",
        identity_full=ident.full if ident else node.label,
        age=relative(node.started, now),
        started=exact(node.started),
        commit=(node.commit or "—")[:12],
        signed=signed,
        verified=verified,
        findings=findings,
        verdict=verdict,
        may_promote=may,
    )


def make_board(
    lineage: Lineage, now: datetime | None = None
) -> tuple[list[str], list[str], list[list[Card]]]:
    now = now or datetime.now(UTC)
    envs = [e.name for e in lineage.environments]
    apps = sorted({b.name for b in lineage.builds})
    where: dict[tuple[str, str], list[BuildNode]] = {}
    for node in lineage.builds:
        for env in node.environments:
            where.setdefault((node.name, env), []).append(node)
    cards = []
    for app in apps:
        row = []
        for column, env in enumerate(envs):
            nodes = where.get((app, env))
            row.append(
                make_card(app, envs, column, _newest(nodes) if nodes else None, lineage, now)
            )
        cards.append(row)
    return apps, envs, cards


class EnvironmentsModel(QAbstractTableModel):
    """Rows: applications; columns: environments in profile order; data: :class:`Card`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.apps: list[str] = []
        self.envs: list[str] = []
        self._cards: list[list[Card]] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.apps)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.envs)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        names = self.envs if orientation == Qt.Orientation.Horizontal else self.apps
        return names[section] if 0 <= section < len(names) else None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._cards):
            return None
        row = self._cards[index.row()]
        if index.column() >= len(row):
            return None
        card = row[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return card.text
        if role == CardRole:
            return card
        if role == NodeRole:
            return card.node
        if role == Qt.ItemDataRole.ToolTipRole:
            if card.node is None:
                return card.text
            return f"{card.identity_full}\nstarted {card.started}\n{card.verdict}"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def set_lineage(self, lineage: Lineage | None) -> None:
        self.beginResetModel()
        if lineage is None:
            self.apps, self.envs, self._cards = [], [], []
        else:
            self.apps, self.envs, self._cards = make_board(lineage)
        self.endResetModel()

    def card(self, app: str, env: str) -> Card:
        return self._cards[self.apps.index(app)][self.envs.index(env)]


CARD_WIDTH = 160
CARD_HEIGHT = 128


class CardDelegate(QStyledItemDelegate):
    """Paints a :class:`Card`: identity, age and commit, icon + word marks, the verdict."""

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self._mono = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(CARD_WIDTH, CARD_HEIGHT)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        card = index.data(CardRole)
        if not isinstance(card, Card):
            super().paint(painter, option, index)
            return
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        rect: QRect = option.rect.adjusted(6, 6, -6, -6)  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = palette.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Mid)
        painter.setPen(border)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 6, 6)
        if selected:
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 5, 5)
        inner = rect.adjusted(10, 6, -10, -6)
        line = max(18, option.fontMetrics.height() + 3)  # type: ignore[attr-defined]
        text = palette.color(QPalette.ColorRole.Text)
        hint = palette.color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(text)
        if card.node is None:
            painter.setPen(hint)
            painter.drawText(inner, Qt.AlignmentFlag.AlignCenter, f"no build in {card.environment}")
            painter.restore()
            return
        y = inner.top()
        mono = QFont(self._mono)
        mono.setBold(True)
        painter.setFont(mono)
        painter.drawText(
            QRect(inner.left(), y, inner.width(), line),
            Qt.AlignmentFlag.AlignVCenter,
            card.identity,
        )
        painter.setFont(option.font)  # type: ignore[attr-defined]
        y += line
        painter.setPen(hint)
        painter.drawText(
            QRect(inner.left(), y, inner.width(), line),
            Qt.AlignmentFlag.AlignVCenter,
            f"{card.age} · {card.commit[:8]}",
        )
        y += line
        painter.setPen(text)
        x = inner.left()
        marks = (
            ("verified" if card.signed else "failed", "signed" if card.signed else "unsigned"),
            (
                "verified" if card.verified else "not-verified",
                "verified" if card.verified else "not verified",
            ),
            (
                "failed" if card.findings else "verified",
                f"{len(card.findings)} findings" if card.findings else "no findings",
            ),
        )
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        for number, (icon, word) in enumerate(marks):
            if number == 2:  # findings on a line of their own
                x = inner.left()
                y += line
            self._icons.icon(icon).paint(painter, QRect(x, y + (line - 14) // 2, 14, 14))
            x += 17
            width = metrics.horizontalAdvance(word)
            painter.drawText(QRect(x, y, width + 2, line), Qt.AlignmentFlag.AlignVCenter, word)
            x += width + 10
        y += line
        if card.verdict:
            icon = "verified" if card.may_promote else "not-verified"
            if card.verdict.startswith(("in ", "already")):
                icon = "queued"
            self._icons.icon(icon).paint(painter, QRect(inner.left(), y + (line - 14) // 2, 14, 14))
            verdict_font = QFont(option.font)  # type: ignore[attr-defined]
            verdict_font.setBold(card.may_promote)
            painter.setFont(verdict_font)
            area = QRect(inner.left() + 17, y, inner.width() - 17, line)
            elided = metrics.elidedText(card.verdict, Qt.TextElideMode.ElideRight, area.width())
            painter.drawText(area, Qt.AlignmentFlag.AlignVCenter, elided)
        painter.restore()
