"""The Verify table model and its proxy: model tester, roles, batches, coalesced flushes; the
evidence helpers; the controller's batch worker and pacer."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest
from PySide6.QtCore import QModelIndex, QModelRoleData, QModelRoleDataSpan, Qt
from PySide6.QtWidgets import QApplication

from relman.gui import evidence
from relman.gui.icons import IconSet
from relman.gui.verify_controller import Pacer, Policy, verify_batch
from relman.gui.verify_model import (
    COL_CHECKS,
    COL_FILE,
    COL_PROGRESS,
    COL_RESULT,
    COL_SHA256,
    COL_SIZE,
    HEADERS,
    ChecksRole,
    ObjectRole,
    SortRole,
    VerifyProxyModel,
    VerifyRow,
    VerifyTableModel,
    human_size,
)
from relman.model import CancelToken
from relman.verify.files import Check, FileResult, Planner
from relman.verify.index import ChecksumIndex
from relman.verify.signatures.base import Context

SHA = "ab" * 32
FINGERPRINT = "SHA256:" + "3f" * 32
SIGNED = Check(
    "signature",
    True,
    "app.tar.gz.sig",
    "cosign signature by ci-release (SHA256:3f3f3f3f3f3f…)",
    format="cosign",
    signer="ci-release (SHA256:3f3f3f3f3f3f…)",
    fingerprint=FINGERPRINT,
)
KEYLESS = Check(
    "provenance",
    False,
    "app.tar.gz.intoto.jsonl",
    "keyless Sigstore signature by https://ci.example/wf@refs/tags/v1 (https://issuer.example)"
    " — give --identity and --issuer to trust it",
    format="sigstore",
    signer="https://ci.example/wf@refs/tags/v1 (https://issuer.example)",
    facts=MappingProxyType(
        {"identity": "https://ci.example/wf@refs/tags/v1", "issuer": "https://issuer.example"}
    ),
)


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
    model.append_rows([VerifyRow(Path("/data/signed.tar.gz"), size=10)])
    model.set_result(
        7,
        FileResult(
            path=Path("/data/signed.tar.gz"),
            checks=(Check("checksum", True, "SHA256SUMS:1", "sha256 matches"), SIGNED, KEYLESS),
            digests=MappingProxyType({"sha256": SHA}),
            size=10,
        ),
    )
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
        "FAILED",
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
    first = [proxy.index(r, COL_RESULT).data() for r in range(4)]
    assert first == ["FAILED", "FAILED", "error", "not verified"]


def test_search_matches_any_column_case_insensitively(model: VerifyTableModel) -> None:
    proxy = VerifyProxyModel()
    proxy.setSourceModel(model)
    proxy.set_search("FILE2")
    assert proxy.rowCount() == 1
    proxy.set_search("failed")
    assert proxy.index(0, COL_FILE).data() == "/data/file1.bin"
    proxy.set_search(SHA[:10])
    assert proxy.rowCount() == 4  # the error row has no digest
    proxy.set_search("  ")
    assert proxy.rowCount() == model.rowCount()


def test_one_insert_per_batch(qtbot, model: VerifyTableModel) -> None:
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    first = model.append_rows([VerifyRow(Path(f"/x/{i}")) for i in range(500)])
    assert first == 8
    assert inserted == [(8, 507)]
    assert model.append_rows([]) == 508
    assert inserted == [(8, 507)]


def test_changes_are_coalesced_into_one_data_changed(qtbot, model: VerifyTableModel) -> None:
    model.append_rows([VerifyRow(Path(f"/x/{i}"), size=100) for i in range(1000)])
    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles=(): changes.append((a.row(), b.row())))
    for i in range(8, 1008):
        for done in (10, 20, 30):
            model.set_progress(i, done, 100)
    assert changes == []  # nothing is emitted per callback
    qtbot.waitUntil(lambda: bool(changes), timeout=2000)
    assert changes == [(8, 1007)]


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
    assert counts["verified"] == 1 and counts["failed"] == 2 and counts["queued"] == 1
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


# -- the Checks column and multiData -----------------------------------------------------------


def test_checks_column_icons_words_and_tooltip(model: VerifyTableModel) -> None:
    signed = model.index(7, COL_CHECKS)
    assert signed.data() == "checksum ok, signature ok, provenance FAILED"
    kinds = signed.data(ChecksRole)
    assert [(k.kind, k.ok, k.word) for k in kinds] == [
        ("checksum", True, "ok"),
        ("signature", True, "ok"),
        ("provenance", False, "FAILED"),
    ]
    tip = signed.data(Qt.ItemDataRole.ToolTipRole)
    assert "signature (cosign) ok: app.tar.gz.sig" in tip
    assert "provenance (sigstore) FAILED" in tip and "OIDC issuer" in tip
    assert model.index(0, COL_CHECKS).data() == "checksum ok"
    assert model.index(2, COL_CHECKS).data() == "no checks"
    assert model.index(6, COL_CHECKS).data() == ""  # still queued
    assert model.index(7, COL_CHECKS).data(Qt.ItemDataRole.AccessibleTextRole) == signed.data()


def test_sort_by_checks_puts_failures_first(model: VerifyTableModel) -> None:
    proxy = VerifyProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(COL_CHECKS, Qt.SortOrder.AscendingOrder)
    first = [proxy.index(r, COL_FILE).data() for r in range(2)]
    assert first == ["/data/signed.tar.gz", "/data/file1.bin"]


def test_multi_data_matches_data(model: VerifyTableModel) -> None:
    roles = [
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.TextAlignmentRole,
    ]
    proxy = VerifyProxyModel()
    proxy.setSourceModel(model)
    for source in (model, proxy):
        for column in (COL_FILE, COL_SIZE, COL_RESULT):
            index = source.index(1, column)
            for role in roles:
                item = QModelRoleData(role)
                source.multiData(index, QModelRoleDataSpan(item))
                expected = index.data(role)
                if role == Qt.ItemDataRole.DecorationRole:
                    assert (item.data() is None) == (expected is None)
                else:
                    assert item.data() == expected


# -- evidence helpers -------------------------------------------------------------------------


def test_signer_of_key_and_sigstore_identity() -> None:
    key = evidence.signer_of(SIGNED)
    assert key == evidence.Signer(name="ci-release", fingerprint=FINGERPRINT)
    keyless = evidence.signer_of(KEYLESS)
    assert keyless == evidence.Signer(
        identity="https://ci.example/wf@refs/tags/v1", issuer="https://issuer.example"
    )
    assert evidence.signer_of(Check("checksum", True, "x.sha256", "sha256 matches")) is None


def test_verdict_names_the_signer_and_the_gui_fix() -> None:
    signed = FileResult(path=Path("a"), checks=(SIGNED,), digests=MappingProxyType({}), size=1)
    assert evidence.verdict(signed).startswith("signed by ci-release (SHA256:3f3f")
    assert evidence.verdict(signed).endswith("; 1 check passed")
    keyless = FileResult(path=Path("a"), checks=(KEYLESS,), size=1)
    assert evidence.GUI_POLICY_HINT in evidence.verdict(keyless)
    plain = FileResult(path=Path("a"), checks=(Check("checksum", True, "s", "ok"),), size=1)
    assert evidence.verdict(plain) == plain.summary
    broken = FileResult(path=Path("a"), error="a: permission denied")
    assert evidence.verdict(broken) == "a: permission denied"


@pytest.mark.parametrize(
    ("stamp", "text"),
    [
        ("2026-01-01T11:59:30Z", "30 s ago"),
        ("2026-01-01T11:00:00Z", "1 h ago"),
        ("2025-12-30T12:00:00Z", "2 days ago"),
        ("2025-03-26T23:47:15Z", "9 months ago"),
        ("2020-01-01T00:00:00Z", "6 years ago"),
        ("2027-01-01T00:00:00Z", "in the future"),
        ("not a time", None),
    ],
)
def test_relative_time(stamp: str, text: str | None) -> None:
    assert evidence.relative_time(stamp, now=datetime(2026, 1, 1, 12, tzinfo=UTC)) == text


# -- the batch worker and the pacer -------------------------------------------------------------


def test_policy_of_blank_fields_is_none() -> None:
    assert Policy.of("  ", "") == Policy(None, None)
    assert Policy.of(" id ", "iss") == Policy("id", "iss")


def test_verify_batch_reports_and_stops_between_files(tmp_path: Path) -> None:
    files = []
    for i in range(5):
        path = tmp_path / f"f{i}"
        path.write_bytes(b"x" * i)
        files.append((10 + i, path, i))
    planner = Planner(index=ChecksumIndex(Context()))
    token = CancelToken()
    reports: list[list[tuple[int, FileResult]]] = []

    def report(done: list[tuple[int, FileResult]]) -> None:
        reports.append(done)
        token.cancel()  # cancelled after the first report: the rest is not verified

    import relman.gui.verify_controller as controller

    saved = controller.REPORT_SECONDS
    controller.REPORT_SECONDS = 0.0
    try:
        rest = verify_batch(
            planner,
            files,
            report=report,
            file_progress=lambda *a: None,
            cancel=token,
            pacer=Pacer(),
        )
    finally:
        controller.REPORT_SECONDS = saved
    assert [row for row, _ in reports[0]] == [10]
    assert rest == []
    assert reports[0][0][1].status == "not-verified"


def test_verify_batch_turns_a_failure_into_that_files_error(tmp_path: Path) -> None:
    planner = Planner(index=ChecksumIndex(Context()))
    done = verify_batch(
        planner,
        [(0, tmp_path / "missing", None), (1, tmp_path, None)],
        report=lambda done: None,
        file_progress=lambda *a: None,
        cancel=CancelToken(),
        pacer=Pacer(),
    )
    assert [(row, result.status) for row, result in done] == [(0, "error"), (1, "error")]
    assert "no such file" in (done[0][1].error or "")


def test_pacer_holds_workers_while_the_gui_paints() -> None:
    pacer = Pacer(work=0.0, pause=0.0)
    entered = threading.Event()

    def worker() -> None:
        with pacer:
            entered.set()

    with pacer.gui_first():
        thread = threading.Thread(target=worker)
        thread.start()
        time.sleep(0.05)
        assert not entered.is_set()  # held until the paint is done
    assert entered.wait(2)
    thread.join()
