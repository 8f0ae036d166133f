"""Icons and styles read from package data, tinted with the palette.

The SVGs are monochrome: drawn in ``currentColor`` (tinted with the palette's text colour) with
``#ffffff`` cut-outs (tinted with the base colour), so they read well in light and dark schemes.
An :class:`IconSet` is created per window and rebuilt when the colour scheme changes; nothing
here is a global cache.
"""

from __future__ import annotations

import logging
from importlib.resources import files

from PySide6.QtCore import QBuffer, QByteArray, QSize
from PySide6.QtGui import QColor, QIcon, QImageReader, QPalette, QPixmap

logger = logging.getLogger(__name__)

RESOURCES = "relman.gui.resources"
ICON_SIZES = (16, 24, 32, 48, 64, 128)

#: Every status a verify row can have, with the icon drawn for it.
STATUS_ICONS = {
    "verified": "verified",
    "failed": "failed",
    "not-verified": "not-verified",
    "error": "error",
    "queued": "queued",
    "hashing": "hashing",
    "cancelled": "cancelled",
}


def read_resource(name: str) -> bytes:
    """The bytes of a package-data file such as ``icons/app.svg`` or ``style.qss``."""
    return files(RESOURCES).joinpath(name).read_bytes()


def style_sheet() -> str:
    return read_resource("style.qss").decode("utf-8")


def svg_icon(name: str, foreground: QColor, background: QColor) -> QIcon:
    """``icons/<name>.svg`` rendered at the usual sizes in the given colours."""
    svg = read_resource(f"icons/{name}.svg").decode("utf-8")
    svg = svg.replace("currentColor", foreground.name()).replace("#ffffff", background.name())
    data = QByteArray(svg.encode("utf-8"))
    icon = QIcon()
    for size in ICON_SIZES:
        buffer = QBuffer()
        buffer.setData(data)
        reader = QImageReader(buffer, QByteArray(b"svg"))
        reader.setScaledSize(QSize(size, size))
        image = reader.read()
        if image.isNull():
            logger.error("cannot render icon %s: %s", name, reader.errorString())
            return QIcon()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon


def app_icon(palette: QPalette | None = None) -> QIcon:
    """The app icon; dark ink unless a palette says otherwise."""
    if palette is None:
        return svg_icon("app", QColor("#1f2a37"), QColor("#ffffff"))
    return svg_icon(
        "app", palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Base)
    )


class IconSet:
    """The icons one window uses, tinted for its palette."""

    def __init__(self, palette: QPalette) -> None:
        self._palette = QPalette(palette)
        self._icons: dict[str, QIcon] = {}

    def icon(self, name: str) -> QIcon:
        found = self._icons.get(name)
        if found is None:
            found = svg_icon(
                name,
                self._palette.color(QPalette.ColorRole.Text),
                self._palette.color(QPalette.ColorRole.Base),
            )
            self._icons[name] = found
        return found

    def status(self, status: str) -> QIcon:
        return self.icon(STATUS_ICONS.get(status, "error"))

    def retint(self, palette: QPalette) -> None:
        """Forget the rendered icons; the next call renders them in the new colours."""
        self._palette = QPalette(palette)
        self._icons.clear()
