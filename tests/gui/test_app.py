"""Application start-up, resources, packaging metadata and the emit() work-around."""

from __future__ import annotations

import configparser
import logging
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from relman import APP_ID, APP_NAME
from relman.gui import app as gui_app
from relman.gui.icons import STATUS_ICONS, IconSet, app_icon, read_resource, style_sheet
from relman.gui.qtcompat import emit
from relman.paths import resolve

REPO = Path(__file__).resolve().parents[2]


def test_create_application_sets_identity(qapp) -> None:
    app = gui_app.create_application()
    try:
        assert app is qapp
        assert app.applicationName() == "relman"
        assert app.organizationName() == "relman"
        assert QGuiApplication.desktopFileName() == APP_ID
        assert not app.windowIcon().isNull()
        assert "dropZone" in app.styleSheet()
    finally:
        app.setStyleSheet("")


def test_main_without_options_parses_argv(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["relman-gui", "--no-such-option"])
    assert gui_app.main() == 2


def test_main_runs_and_quits(qtbot, qapp, monkeypatch, relman_home: Path) -> None:
    """main() builds everything and tears it down; exec() is replaced so no nested loop runs."""
    monkeypatch.setattr(sys, "argv", ["relman-gui", "--profile", "demo"])
    hook_before = sys.excepthook
    seen: dict[str, object] = {}

    def fake_exec() -> int:
        windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        seen["titles"] = [w.windowTitle() for w in windows]
        seen["hooked"] = sys.excepthook is not hook_before
        for widget in windows:
            widget.close()
            widget.deleteLater()
        return 0

    monkeypatch.setattr(qapp, "exec", fake_exec)
    try:
        assert gui_app.main() == 0
    finally:
        qapp.setStyleSheet("")
    assert "relman" in seen["titles"]
    assert seen["hooked"] is True
    assert sys.excepthook is hook_before
    log = resolve().log_file.read_text()
    assert "starting (profile demo)" in log and "exiting" in log
    assert not any(
        getattr(h, "baseFilename", None) == str(resolve().log_file)
        for h in logging.getLogger().handlers
    )


def test_every_icon_renders(qapp) -> None:
    icons = IconSet(qapp.palette())
    for name in {*STATUS_ICONS.values(), "copy", "drop", "app"}:
        assert not icons.icon(name).isNull(), name
    assert not app_icon().isNull()
    icons.retint(qapp.palette())
    assert not icons.status("no-such-status").isNull()  # falls back to the error icon
    assert read_resource("icons/app.svg").startswith(b"<svg")
    assert "palette(" in style_sheet()


def test_desktop_file_matches_app_id() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep key case
    parser.read(REPO / "packaging" / "relman.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Exec"] == "relman"
    assert entry["Icon"] == APP_ID
    assert entry["Categories"] == "Development;"
    assert entry["Name"] == APP_NAME


def test_metainfo_matches_app_id() -> None:
    root = ET.parse(REPO / "packaging" / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    assert root.findtext("metadata_license") and root.findtext("summary")


class _Emitter(QObject):
    fired = Signal(int)


def test_emit_keeps_true_alive(qapp) -> None:
    """Thousands of emissions must not drop references to True (PySide6 6.12 on 3.11)."""
    emitter = _Emitter()
    got: list[int] = []
    emitter.fired.connect(got.append)
    before = sys.getrefcount(True)
    for i in range(5000):
        emit(emitter.fired, i)
    assert len(got) == 5000
    assert sys.getrefcount(True) >= before - 5
