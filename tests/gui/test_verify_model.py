"""The Verify table model and its proxy: model tester, roles, batches, coalesced flushes."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from relman.gui.icons import IconSet
from relman.gui.verify_model import (
    COL_FILE,
    COL_PROGRESS,
    COL_RESULT,
    COL_SHA256,
    COL_SIZE,
    HEADERS,
    ObjectRole,
    SortRole,
    VerifyProxyModel,
    VerifyRow,
    VerifyTableModel,
    human_size,
)
from relman.verify.files import Check, FileResult

SHA = "ab" * 32


def result(path: str, ok: bool | None, *, error: str | None = None) -> FileResult:
    if error is not None:
        return FileResult(path=Path(path), error=error)
    checks = () if ok is None else (Check("checksum", ok, f"{path}.sha256", "sha256 matches"),)
    return FileResult(
        path=Path(path), checks=checks, digests=MappingProxyType({"sha256": SHA}), size=10
    )


@pytest.fixture
def model(qtbot) -> VerifyTableModel:
    model = VerifyTableModel(IconSet(QApplication.instance().palette()))
    model.append_rows([VerifyRow(Path(f"/data/file{i}.bin"), size=10 * i) for i in range(7)])
    model.set_result(0, result("/data/file0.bin", True))
    model.set_result(1, result("/data/file1.bin", False))
    model.set_result(2, result("/data/file2.bin", None))
    model.set_result(3, result("/data/file3.bin", None, error="file3.bin: permission denied"))
    model.set_progress(4, 20, 40)
    model.set_status(5, "cancelled", "cancelled before it was verified")
    model.flush()
    return model


def test_model_tester_on_model(qtmodeltester, model: VerifyTableModel) -> None:
    qtmodeltester.check(model, force_py=True)


def test_model_tester_on_proxy(qtmodeltester, model: VerifyTableModel) -> None:
    proxy = VerifyProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(COL_RESULT, Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(proxy, force_py=True)
    proxy.set_search("file1")
    qtmodeltester.check(proxy, force_py=True)


def test_every_status_has_an_icon_and_a_word(model: VerifyTableModel) -> None:
    words = [model.index(r, COL_RESULT).data() for r in range(model.rowCount())]
    assert words == [
        "verified",
        "FAILED",
        "not verified",
        "error",
        "hashing",
        "cancelled",
        "queued",
    ]
    for r in range(model.rowCount()):
        icon = model.index(r, COL_RESULT).data(Qt.ItemDataRole.DecorationRole)
        assert not icon.isNull()


def test_roles_and_columns(model: VerifyTableModel) -> None:
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(HEADERS))] == list(
        HEADERS
    )
    sha = model.index(0, COL_SHA256)
    assert sha.data() == SHA
    assert sha.data(Qt.ItemDataRole.ToolTipRole) == SHA
    assert (
        sha.data(Qt.ItemDataRole.FontRole).fixedPitch()
        or sha.data(Qt.ItemDataRole.FontRole).family()
    )
    assert isinstance(model.index(0, COL_FILE).data(ObjectRole), VerifyRow)
    assert model.index(4, COL_PROGRESS).data() == "50%"
    assert model.index(4, COL_SIZE).data(SortRole) == 40
    assert model.index(3, COL_PROGRESS).data() == ""
    assert model.index(0, COL_FILE).data(Qt.ItemDataRole.AccessibleTextRole) == "/data/file0.bin"
    assert model.data(QModelIndex()) is None
    assert model.rowCount(model.index(0, 0)) == 0


def test_sort_by_result_puts_problems_first(model: VerifyTableModel) -> None:
    proxy = VerifyProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(COL_RESULT, Qt.SortOrder.AscendingOrder)
    first = [proxy.index(r, COL_RESULT).data() for r in range(3)]
    assert first == ["FAILED", "error", "not verified"]


def test_search_matches_any_column_case_insensitively(model: VerifyTableModel) -> None:
    proxy = VerifyProxyModel()
    proxy.setSourceModel(model)
    proxy.set_search("FILE2")
    assert proxy.rowCount() == 1
    proxy.set_search("failed")
    assert proxy.index(0, COL_FILE).data() == "/data/file1.bin"
    proxy.set_search(SHA[:10])
    assert proxy.rowCount() == 3  # the error row has no digest
    proxy.set_search("  ")
    assert proxy.rowCount() == model.rowCount()


def test_one_insert_per_batch(qtbot, model: VerifyTableModel) -> None:
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    first = model.append_rows([VerifyRow(Path(f"/x/{i}")) for i in range(500)])
    assert first == 7
    assert inserted == [(7, 506)]
    assert model.append_rows([]) == 507
    assert inserted == [(7, 506)]


def test_changes_are_coalesced_into_one_data_changed(qtbot, model: VerifyTableModel) -> None:
    model.append_rows([VerifyRow(Path(f"/x/{i}"), size=100) for i in range(1000)])
    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles=(): changes.append((a.row(), b.row())))
    for i in range(7, 1007):
        for done in (10, 20, 30):
            model.set_progress(i, done, 100)
    assert changes == []  # nothing is emitted per callback
    qtbot.waitUntil(lambda: bool(changes), timeout=2000)
    assert changes == [(7, 1006)]


def test_cancel_unfinished_keeps_finished_rows(model: VerifyTableModel) -> None:
    assert model.cancel_unfinished() == 2  # the hashing row and the queued one
    statuses = [row.status for row in model.rows()]
    assert statuses.count("cancelled") == 3
    assert statuses[:4] == ["verified", "failed", "not-verified", "error"]
    # a result that arrives after cancel does not resurrect the row
    model.set_result(6, result("/data/file6.bin", True))
    assert model.row(6).status == "cancelled"
    # progress on a finished row is ignored
    model.set_progress(0, 1, 10)
    assert model.row(0).status == "verified"


def test_totals(model: VerifyTableModel) -> None:
    counts = model.counts()
    assert counts["verified"] == 1 and counts["failed"] == 1 and counts["queued"] == 1
    done, total = model.byte_progress()
    assert 0 < done <= total
    model.clear()
    assert model.rowCount() == 0
    assert model.byte_progress() == (0, 0)


@pytest.mark.parametrize(
    ("size", "text"),
    [(None, ""), (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 * 2**30, "5.0 GiB")],
)
def test_human_size(size: int | None, text: str) -> None:
    assert human_size(size) == text
