"""Item delegates: a progress bar drawn inside a table cell; the row of check icons."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QIcon, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QWidget,
)

from .icons import IconSet
from .verify_model import ChecksRole, ProgressRole

#: Size of a check icon, of its ok/failed badge, and the gap between two icons.
ICON = 16
BADGE = 10
GAP = 6


class ProgressDelegate(QStyledItemDelegate):
    """Paints :data:`ProgressRole` (0-100) as a progress bar with its percentage as text."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        text = index.data()
        if not text:
            super().paint(painter, option, index)
            return
        percent = int(index.data(ProgressRole) or 0)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)  # type: ignore[attr-defined]
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = percent
        bar.text = str(text)
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state | QStyle.StateFlag.State_Horizontal  # type: ignore[attr-defined]
        bar.palette = option.palette  # type: ignore[attr-defined]
        widget = option.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else QApplication.style()
        if option.state & QStyle.StateFlag.State_Selected:  # type: ignore[attr-defined]
            painter.fillRect(option.rect, option.palette.highlight())  # type: ignore[attr-defined]
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


class ChecksDelegate(QStyledItemDelegate):
    """Paints :data:`ChecksRole` as one icon per check kind (checksum, signature, provenance),
    each with a small ok or failed badge. The words are the cell's text (tooltip, screen
    readers, search): status is never an icon or a colour alone."""

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons

    def kind_icon(self, kind: str) -> QIcon:
        return self._icons.icon(f"check-{kind}")

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        kinds = index.data(ChecksRole) or ()
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # type: ignore[attr-defined]
        widget = opt.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect  # type: ignore[attr-defined]
        x = rect.x() + 4
        y = rect.y() + (rect.height() - ICON) // 2
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        mode = QIcon.Mode.Selected if selected else QIcon.Mode.Normal
        for summary in kinds:
            if x + ICON + BADGE // 2 > rect.right():
                break
            self.kind_icon(summary.kind).paint(painter, QRect(x, y, ICON, ICON), mode=mode)
            badge = self._icons.status("verified" if summary.ok else "failed")
            corner = QRect(x + ICON - BADGE + 3, y + ICON - BADGE + 3, BADGE, BADGE)
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(opt.palette.base())  # type: ignore[attr-defined]
            painter.drawEllipse(corner.adjusted(-1, -1, 1, 1))
            painter.restore()
            badge.paint(painter, corner, mode=mode)
            x += ICON + GAP + 3

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        count = len(index.data(ChecksRole) or ()) or 1
        return QSize(8 + count * (ICON + GAP + 3), ICON + 6)
