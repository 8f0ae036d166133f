"""Fixtures of the GUI tests: a private RELMAN_HOME, a task runner, the main window, sample trees.

The whole folder is skipped when PySide6 is not installed (the no-Qt run of the suite).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from relman.gui.main_window import MainWindow
from relman.gui.tasks import TaskRunner

#: The offscreen platform plugin warns when a top-level window's size constraints change
#: (it has no window manager to tell); that is the platform's limit, not a bug of ours.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def relman_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "relman-home"
    monkeypatch.setenv("RELMAN_HOME", str(home))
    return home


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    runner.shutdown()


@pytest.fixture
def window(qtbot, runner):
    win = MainWindow(runner)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.verify_page.cancel()
    runner.shutdown()


@pytest.fixture
def sample_tree(tmp_path: Path) -> Path:
    """good (with a .sha256 sidecar), tampered, no checksum, and a symbolic link loop."""
    root = tmp_path / "downloads"
    (root / "nested").mkdir(parents=True)
    good = root / "good.tar.gz"
    good.write_bytes(b"the release that was tested\n" * 100)
    digest = hashlib.sha256(good.read_bytes()).hexdigest()
    (root / "good.tar.gz.sha256").write_text(f"{digest}  good.tar.gz\n")
    tampered = root / "tampered.bin"
    tampered.write_bytes(b"original bytes")
    original = hashlib.sha256(b"original bytes").hexdigest()
    (root / "tampered.bin.sha256").write_text(f"{original}  tampered.bin\n")
    tampered.write_bytes(b"0riginal bytes")  # one byte changed after publishing
    (root / "nested" / "notes.txt").write_text("no checksum anywhere\n")
    os.symlink("..", root / "nested" / "loop")
    return root


def final_statuses(page) -> dict[str, str]:
    return {row.path.name: row.status for row in page.model.rows()}


def all_finished(page) -> bool:
    rows = page.model.rows()
    return bool(rows) and all(row.finished for row in rows) and not page.controller.running
