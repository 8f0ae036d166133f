"""The Verify page end to end: drops, folders, verdicts, details, cancel, 10,000 files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from relman.gui.verify_model import COL_RESULT

from .conftest import all_finished, final_statuses


def drag_enter(x: int, y: int, mime: QMimeData) -> QDragEnterEvent:
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:  # PySide6 >= 6.12 takes a QPointF (the QPoint overload is deprecated there)
        return QDragEnterEvent(QPointF(x, y), *args)
    except TypeError:
        return QDragEnterEvent(QPoint(x, y), *args)


EXPECTED = {
    "good.tar.gz": "verified",
    "tampered.bin": "failed",
    "notes.txt": "not-verified",
    "loop": "error",
}


def test_empty_state_is_a_drop_zone(window) -> None:
    page = window.verify_page
    assert page.stack.currentWidget() is page.drop_zone
    texts = " ".join(label.text() for label in page.drop_zone.findChildren(type(page.summary)))
    assert "Drop downloaded files or folders here" in texts


def test_folder_gives_every_verdict_with_reasons(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    page.add_paths([sample_tree])
    qtbot.waitUntil(lambda: all_finished(page), timeout=15_000)
    assert final_statuses(page) == EXPECTED
    assert page.stack.currentIndex() == 1
    rows = {row.path.name: row for row in page.model.rows()}
    assert "1 check passed" in rows["good.tar.gz"].reason
    assert "mismatch" in rows["tampered.bin"].reason
    assert "no digest to compare against" in rows["notes.txt"].reason
    assert "symbolic link loop" in rows["loop"].reason
    good = hashlib.sha256((sample_tree / "good.tar.gz").read_bytes()).hexdigest()
    assert rows["good.tar.gz"].sha256 == good
    # the words shown, not only the status codes
    words = sorted(page.model.index(r, COL_RESULT).data() for r in range(page.model.rowCount()))
    assert words == ["FAILED", "error", "not verified", "verified"]
    assert "1 verified" in page.summary.text() and "1 FAILED" in page.summary.text()
    assert page.progress.value() == 100
    assert not page.cancel_button.isEnabled()


def test_real_drop_event_with_urls(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_tree / "good.tar.gz"))])
    enter = drag_enter(10, 10, mime)
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    assert page.drop_zone.property("dragActive") is True
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(page, drop)
    assert drop.isAccepted()
    assert page.drop_zone.property("dragActive") is False
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    assert final_statuses(page) == {"good.tar.gz": "verified"}


def test_drop_without_local_files_is_refused(qtbot, window) -> None:
    mime = QMimeData()
    mime.setText("not a file")
    enter = drag_enter(5, 5, mime)
    QApplication.sendEvent(window.verify_page, enter)
    assert not enter.isAccepted()
    assert window.verify_page.model.rowCount() == 0


def test_selecting_a_row_shows_checks_and_digests(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    page.add_paths([sample_tree / "tampered.bin"])
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    page.select_source_row(0)
    details = window.details
    assert details.row is page.model.row(0)
    labels = details.widget().findChildren(type(page.summary))
    texts = " ".join(label.text() for label in labels).replace("\u200b", "")
    assert "FAILED" in texts and "checksum" in texts and "tampered.bin.sha256" in texts
    copies = details.copy_buttons()
    assert copies and all(b.accessibleName().startswith("Copy ") for b in copies)
    copies[0].click()
    assert QGuiApplication.clipboard().text() == page.model.row(0).sha256
    page.clear()
    assert details.row is None
    assert page.stack.currentWidget() is page.drop_zone


def test_search_filters_the_table(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    page.add_paths([sample_tree])
    qtbot.waitUntil(lambda: all_finished(page), timeout=15_000)
    qtbot.keyClicks(page.search, "tampered")
    assert page.proxy.rowCount() == 1
    page.search.clear()
    assert page.proxy.rowCount() == 4


def test_missing_path_is_an_error_row(qtbot, window, tmp_path: Path) -> None:
    page = window.verify_page
    page.add_paths([tmp_path / "does-not-exist.iso"])
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    (row,) = page.model.rows()
    assert row.status == "error" and "no such file" in row.reason


@pytest.fixture
def large_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.iso"
    with path.open("wb") as handle:  # sparse: costs no disk, still takes seconds to hash
        handle.truncate(3 * 1024**3)
    return path


def test_cancel_while_hashing(qtbot, window, runner, large_file: Path) -> None:
    page = window.verify_page
    page.add_paths([large_file])
    qtbot.waitUntil(
        lambda: page.model.rowCount() == 1 and page.model.row(0).status == "hashing", timeout=10_000
    )
    assert page.cancel_button.isEnabled()
    assert window.task_status.cancel_button.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc cancels the running verification
    qtbot.waitUntil(lambda: not page.controller.running, timeout=10_000)
    row = page.model.row(0)
    assert row.status == "cancelled"
    assert page.model.index(0, COL_RESULT).data() == "cancelled"
    assert runner.parallel_pool.waitForDone(10_000)
    assert runner.running == 0
    assert window.task_status.label.text() == "No tasks running"


def test_new_drop_after_cancel_starts_a_new_session(qtbot, window, large_file, sample_tree) -> None:
    page = window.verify_page
    page.add_paths([large_file])
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert page.cancel()
    page.add_paths([sample_tree / "good.tar.gz"])
    qtbot.waitUntil(lambda: all_finished(page), timeout=15_000)
    assert [row.status for row in page.model.rows()] == ["cancelled", "verified"]
    assert not page.cancel()


def test_ten_thousand_files_all_verified(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    lines = []
    for i in range(10_000):
        data = f"file {i}\n".encode()
        name = f"f{i:05d}.txt"
        (folder / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines))
    page = window.verify_page
    inserts: list[int] = []
    page.model.rowsInserted.connect(lambda parent, first, last: inserts.append(last - first + 1))
    page.add_paths([folder])
    qtbot.waitUntil(lambda: all_finished(page), timeout=60_000)
    counts = page.model.counts()
    assert page.model.rowCount() == 10_000
    assert counts["verified"] == 10_000, counts
    assert len(inserts) < 1000  # appended in batches, not row by row
    assert "10,000 verified" in page.summary.text()


def test_unreadable_file_is_an_error(qtbot, window, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")
    path.chmod(0)
    page = window.verify_page
    page.add_paths([path])
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    assert page.model.row(0).status == "error"
