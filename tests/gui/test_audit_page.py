"""The Audit page on real, signed audit logs: intact, tampered, cut, unreadable lines, pending
promotions, search and event filter, the entry details, export, and 10,000 entries verified
while the event loop keeps turning."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtTest import QAbstractItemModelTester

from relman import keystore
from relman.errors import Cancelled
from relman.gui.audit_model import (
    COL_EVENT,
    COL_FINGERPRINT,
    COL_KEY,
    COL_SEQ,
    COL_STATUS,
    COL_SUMMARY,
    COL_TIME,
    HEADERS,
    AuditProxyModel,
    AuditTableModel,
    read_audit,
)
from relman.gui.audit_page import AuditPage
from relman.gui.audit_widgets import alert_colour
from relman.gui.icons import IconSet
from relman.gui.keys_models import shorten_middle
from relman.gui.table_base import SortRole
from relman.model import CancelToken
from relman.release import audit, audit_lines
from relman.release.audit import AuditLog
from relman.verify import truststore
from tests.keyring_support import needs_keyring

INTENT = {
    "profile": "demo",
    "build": "payments-api/238",
    "from": "staging",
    "to": "prod",
    "rollback": False,
    "plan": {"writes": ["copy"]},
    "promoter": {"key": "alice", "fingerprint": "SHA256:x"},
}


def pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def alice() -> ed25519.Ed25519PrivateKey:
    key = ed25519.Ed25519PrivateKey.generate()
    truststore.add("alice", pem(key), origin="alice.pem")
    return key


@pytest.fixture
def log(relman_home: Path) -> AuditLog:
    return AuditLog()  # the data dir's log: the one the window's page reads


def add(log: AuditLog, key: Any, event: str, body: dict[str, Any]) -> audit.Entry:
    return log.append(event, body, key_name="alice", private_key=key)


def fill(log: AuditLog, key: Any) -> None:
    """Two finished promotions and one approval: 5 entries, nothing pending."""
    for number in (1, 2):
        intent = add(log, key, "promotion-intent", {**INTENT, "build": f"app/{number}"})
        add(log, key, "promotion-outcome", {"intent": intent.seq, "result": "done"})
    add(log, key, "approval", {"build": "app/2", "plan": "ab" * 32})


def lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def edit(raw: bytes, **changes: Any) -> bytes:
    doc = json.loads(raw)
    doc.update(changes)
    return rfc8785.dumps(doc) + b"\n"


def settle(qtbot, page: AuditPage) -> None:
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)


@pytest.fixture
def open_page(qtbot, window):
    def show() -> AuditPage:
        window.show_page("Audit")
        page = window.audit_page
        settle(qtbot, page)
        return page

    return show


def texts(page: AuditPage, row: int) -> list[str]:
    return [page.proxy.index(row, c).data() for c in range(len(HEADERS))]


# -- an intact chain ---------------------------------------------------------------------------


def test_an_intact_chain_in_words_with_its_entries(open_page, window, log, alice) -> None:
    fill(log, alice)
    page = open_page()
    entries = log.entries()
    banner = page.banner
    assert banner.outcome == "intact"
    assert banner.headline.text() == "Chain intact: 5 entries, the last one just now"
    assert f"Last entry written {entries[-1].time}." in banner.text()
    assert "head at entry 5" in banner.text() and "Signed by alice (SHA256:" in banner.text()
    assert not banner.icon.pixmap().isNull()
    assert page.stack.currentWidget() is page.table
    assert page.count.text() == "5 entries"
    assert page.path_label.text() == str(log.path)
    first = texts(page, 0)
    assert first[COL_STATUS] == "ok" and first[COL_SEQ] == "1"
    assert first[COL_EVENT] == "promotion-intent"
    assert first[COL_FINGERPRINT].startswith("SHA256:") and "…" in first[COL_FINGERPRINT]
    assert page.proxy.index(0, COL_FINGERPRINT).data(Qt.ItemDataRole.ToolTipRole) == (
        entries[0].fingerprint
    )
    assert "build=app/1" in first[COL_SUMMARY] and "to=prod" in first[COL_SUMMARY]
    assert [r.entry.seq for r in page.visible_rows()] == [1, 2, 3, 4, 5]
    assert not page.pending_panel.isVisible()
    assert page.export_action.isEnabled()


def test_selected_entry_details_in_the_dock(qtbot, open_page, window, log, alice) -> None:
    fill(log, alice)
    page = open_page()
    assert window.details_stack.currentWidget() is page.details
    assert "Select an audit entry" in page.details.toPlainText()
    page.table.selectRow(1)
    second = log.entries()[1]
    text = page.details.toPlainText()
    assert "Entry 2: promotion-outcome" in text
    assert second.prev in text and second.fingerprint in text and second.signature in text
    assert f"✓ verified with alice ({shorten_middle(second.fingerprint, 4)})" in text
    assert '"intent": 1' in text and '"result": "done"' in text  # the body, indented JSON
    assert "No problem found on this line" in text
    page.table.selectRow(0)
    assert "(the first entry: nothing before it)" in page.details.toPlainText()
    assert page.details.row is not None and page.details.row.entry.seq == 1


def test_an_empty_log_says_what_comes_there(open_page, log) -> None:
    page = open_page()
    assert page.banner.outcome == "intact"
    assert page.banner.headline.text() == "Chain intact: the audit log is empty"
    assert page.stack.currentWidget() is page.message
    assert "No entries yet" in page.message.text() and "relman promote" in page.message.text()
    assert page.count.text() == "0 entries"


def test_a_page_never_shown_reads_nothing_and_says_how_to_start(qtbot, runner) -> None:
    page = AuditPage(runner, IconSet(QPalette()))
    qtbot.addWidget(page)
    assert page.snapshot is None and not page.busy
    assert page.banner.headline.text() == "The chain has not been checked yet"
    assert "Verify chain" in page.message.text()
    assert not page.export_action.isEnabled()


# -- broken chains -----------------------------------------------------------------------------


def test_a_tampered_line_is_shown_broken_with_the_line_named(qtbot, open_page, log, alice) -> None:
    fill(log, alice)
    raw = lines(log)
    raw[2] = edit(raw[2], body={"build": "app/999", "intent": 1})  # entry 3, re-canonicalised
    log.path.write_bytes(b"".join(raw))
    page = open_page()
    banner = page.banner
    assert banner.outcome == "broken"
    assert banner.headline.text() == "Chain BROKEN: 2 problems found in 5 entries"
    said = banner.text()
    assert "line 3: entry 3 has a signature that does not verify" in said
    assert "line 4: entry 4's prev is not the SHA-256 of line 3" in said
    assert "line 3: entry 3 is not the line" not in said  # the head records entry 5
    # red, and never only red: an icon and the word BROKEN go with it
    red = alert_colour(banner.palette())
    assert banner.headline.palette().color(QPalette.ColorRole.WindowText) == red
    assert banner.details.palette().color(QPalette.ColorRole.WindowText) == red
    assert not banner.icon.pixmap().isNull() and banner.icon.toolTip() == "broken"
    statuses = [texts(page, r)[COL_STATUS] for r in range(5)]
    assert statuses == ["ok", "ok", "problem", "problem", "ok"]
    tip = page.proxy.index(2, COL_STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("line 3: entry 3 has a signature that does not verify")
    # the problem's line is a link: it selects the entry and shows why
    banner.details.linkActivated.emit("line:4")
    assert page.selected_row() is not None and page.selected_row().entry.seq == 4
    text = page.details.toPlainText()
    assert "✗ Problems on line 4 (1)" in text and "prev is not the SHA-256 of line 3" in text
    page.select_seq(3)
    assert "✗ does not verify: the entry or its signature was changed" in (
        page.details.toPlainText()
    )


def test_deleted_and_cut_lines_and_an_unknown_signer(qtbot, open_page, log, alice) -> None:
    fill(log, alice)
    raw = lines(log)
    log.path.write_bytes(b"".join([raw[0], raw[2], raw[3]]))  # entry 2 deleted, 5 cut off
    page = open_page()
    said = page.banner.text()
    assert page.banner.outcome == "broken"
    assert "line 2: entry 2 is missing before it (deleted)" in said
    assert "entry 5 were removed" not in said and "1 entry at the end was removed" in said
    assert [r.entry.seq for r in page.visible_rows()] == [1, 3, 4]
    truststore.remove("alice")  # the signer is no longer known: nothing proves the entries
    page.verify_action.trigger()
    settle(qtbot, page)
    assert page.banner.outcome == "broken"
    assert "which is neither a relman signing key nor in the trust store" in page.banner.text()
    page.select_seq(1)
    assert "✗ not verified: signed by a key relman does not know" in page.details.toPlainText()


def test_lines_that_are_not_entries_and_pending_that_cannot_be_listed(
    qtbot, open_page, log, alice
) -> None:
    fill(log, alice)
    with open(log.path, "ab") as handle:
        handle.write(b'not json at all\n{"seq": 7')  # a garbage line, then half a line
    page = open_page()
    said = page.banner.text()
    assert "line 6: not an audit entry (not JSON)" in said
    assert "line 7: incomplete (9 bytes without a line end)" in said
    assert page.model.rowCount() == 5
    panel = page.pending_panel
    assert panel.isVisible()
    assert "interrupted promotions cannot be listed" in panel.text.text()
    assert "line 6" in panel.text.text()


def test_many_problems_are_counted_in_the_banner_and_all_exported(
    qtbot, open_page, log, alice, tmp_path
) -> None:
    for number in range(12):
        add(log, alice, "approval", {"n": number})
    raw = lines(log)
    log.path.write_bytes(b"".join(edit(r, time="2000-01-01T00:00:00Z") for r in raw))
    page = open_page()
    report = log.verify()
    assert len(report.issues) > 8
    assert f"… and {len(report.issues) - 8} more" in page.banner.details.text()
    target = tmp_path / "report.json"
    page.ask_export_path = lambda suggested: str(target)
    task = page.export_report()
    qtbot.waitUntil(lambda: task.finished, timeout=10_000)
    document = json.loads(target.read_text())
    assert document["ok"] is False
    assert len(document["problems"]) == len(report.issues)


# -- pending promotions ------------------------------------------------------------------------


def test_pending_promotions_are_shown_prominently(qtbot, open_page, log, alice) -> None:
    fill(log, alice)
    stuck = add(log, alice, "promotion-intent", INTENT)
    add(log, alice, "approval", {"build": "other/1"})
    page = open_page()
    panel = page.pending_panel
    assert panel.isVisible() and page.banner.outcome == "intact"
    text = panel.text.text()
    assert "Warning: 1 promotion was interrupted and never finished" in text
    assert f"entry {stuck.seq}" in text
    assert f"promotion of payments-api/238 staging → prod by alice, just now ({stuck.time})" in text
    assert "began and never ended" in text
    assert "relman promote --profile demo --resume" in text and "--undo" in text
    assert f"Warning: 1 promotion was interrupted and never finished. entry {stuck.seq}: " in (
        panel.accessibleDescription()
    )
    panel.text.linkActivated.emit(f"seq:{stuck.seq}")
    assert page.selected_row().entry.seq == stuck.seq


def test_a_pending_entry_hidden_by_a_filter_is_still_selectable(
    qtbot, open_page, log, alice
) -> None:
    add(log, alice, "promotion-intent", {**INTENT, "rollback": True, "profile": None})
    add(log, alice, "approval", {"build": "x/1"})
    page = open_page()
    assert "rollback of payments-api/238" in page.pending_panel.text.text()
    assert "relman promote --resume" in page.pending_panel.text.text()
    page.set_event_filter("approval")
    assert page.proxy.rowCount() == 1
    assert page.select_seq(1)
    assert page.events.currentIndex() == 0 and page.proxy.rowCount() == 2
    assert not page.select_seq(99) and not page.select_line(99)


# -- search, filter, selection kept ------------------------------------------------------------


def test_search_and_event_filter(qtbot, open_page, log, alice) -> None:
    fill(log, alice)
    page = open_page()
    events = [page.events.itemText(i) for i in range(page.events.count())]
    assert events == ["All events", "approval", "promotion-intent", "promotion-outcome"]
    page.set_event_filter("promotion-outcome")
    assert [r.entry.seq for r in page.visible_rows()] == [2, 4]
    assert page.count.text() == "2 of 5 entries"
    page.set_event_filter("")
    page.search.setText("APP/2")  # the body is searched too, case-insensitively
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 2, timeout=2_000)
    assert [r.entry.seq for r in page.visible_rows()] == [3, 5]
    page.search.setText("abab")  # inside the approval's plan digest
    page.apply_search()
    assert [r.entry.seq for r in page.visible_rows()] == [5]
    page.search.clear()
    page.apply_search()
    assert page.proxy.rowCount() == 5


def test_verify_again_keeps_the_selection_and_sorts(qtbot, open_page, log, alice) -> None:
    fill(log, alice)
    page = open_page()
    page.select_seq(3)
    add(log, alice, "approval", {"build": "app/3"})
    page.verify_action.trigger()
    assert not page.verify_action.isEnabled()  # one verification at a time
    settle(qtbot, page)
    assert page.model.rowCount() == 6 and page.selected_row().entry.seq == 3
    page.table.sortByColumn(COL_SEQ, Qt.SortOrder.DescendingOrder)
    assert [r.entry.seq for r in page.visible_rows()] == [6, 5, 4, 3, 2, 1]
    assert page.selected_row().entry.seq == 3  # the selection follows its row
    page.table.sortByColumn(COL_EVENT, Qt.SortOrder.AscendingOrder)
    assert [r.entry.event for r in page.visible_rows()] == [
        "approval",
        "approval",
        "promotion-intent",
        "promotion-intent",
        "promotion-outcome",
        "promotion-outcome",
    ]
    assert page.selected_row().entry.seq == 3
    page.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # back to file order
    assert [r.entry.seq for r in page.visible_rows()] == [1, 2, 3, 4, 5, 6]


# -- off the GUI thread, cancel, errors --------------------------------------------------------


def test_verify_runs_on_the_task_runner_and_can_be_cancelled(
    qtbot, open_page, window, log, alice, monkeypatch
) -> None:
    fill(log, alice)
    threads: list[bool] = []
    gate = threading.Event()
    real = AuditLog.verify

    def verify(self: AuditLog, keys: Any = None) -> audit.ChainReport:
        threads.append(threading.current_thread() is threading.main_thread())
        gate.wait(10)
        return real(self, keys)

    monkeypatch.setattr(AuditLog, "verify", verify)
    window.show_page("Audit")
    page = window.audit_page
    assert page.busy and page.banner.headline.text() == "Verifying the chain…"
    assert "Verifying the audit log" in [a.title for a in window.runner.activities]
    qtbot.waitUntil(lambda: threads == [False], timeout=5_000)
    assert page.cancel()
    gate.set()
    assert page.banner.headline.text() == "Verification cancelled"
    assert page.verify_action.isEnabled() and not page.cancel()
    qtbot.waitUntil(
        lambda: "Verifying the audit log" not in [a.title for a in window.runner.activities]
    )
    assert page.snapshot is None  # the cancelled result never lands
    page.verify()
    settle(qtbot, page)
    assert page.banner.outcome == "intact" and threads == [False, False]


def test_cancelled_from_the_status_bar(qtbot, window, log, alice, monkeypatch) -> None:
    fill(log, alice)
    gate = threading.Event()
    real = AuditLog.verify

    def held(self: AuditLog, keys: Any = None) -> audit.ChainReport:
        gate.wait(10)
        return real(self, keys)

    monkeypatch.setattr(AuditLog, "verify", held)
    window.show_page("Audit")
    page = window.audit_page
    # what the status bar's Cancel does to the activity it shows (not the page's cancel)
    next(a for a in window.runner.activities if a.title == "Verifying the audit log").cancel()
    gate.set()
    settle(qtbot, page)
    assert page.banner.headline.text() == "Verification cancelled"
    assert page.snapshot is None and page.verify_action.isEnabled()


def test_an_unreadable_log_is_one_line(qtbot, open_page, log) -> None:
    log.path.mkdir(parents=True)  # where the file should be (the tests may run as root)
    page = open_page()
    assert page.banner.outcome == "error"
    assert page.banner.headline.text() == "The audit log cannot be read"
    assert f"{log.path}: cannot be read: Is a directory" in page.banner.text()
    assert "Traceback" not in page.banner.text()
    assert "cannot be read" in page.message.text()


def test_worker_reports_progress_and_stops_when_cancelled(log, alice) -> None:
    fill(log, alice)
    steps: list[tuple[int, int]] = []
    snapshot = read_audit(log, lambda d, t: steps.append((d, t)), CancelToken())
    assert steps == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert snapshot.report.ok and len(snapshot.rows) == 5 and snapshot.pending == ()
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        read_audit(log, lambda d, t: None, token)


# -- export ------------------------------------------------------------------------------------


def test_export_writes_the_report_as_json(qtbot, open_page, log, alice, tmp_path) -> None:
    fill(log, alice)
    stuck = add(log, alice, "promotion-intent", INTENT)
    page = open_page()
    asked: list[str] = []
    target = tmp_path / "out" / "audit.json"
    page.ask_export_path = lambda suggested: asked.append(suggested) or str(target)
    task = page.export_report()
    qtbot.waitUntil(lambda: task.finished, timeout=10_000)
    assert asked[0].startswith("audit-report-") and asked[0].endswith("Z.json")
    document = json.loads(target.read_text())
    report = log.verify()
    assert {k: document[k] for k in ("ok", "entries", "head", "signers", "problems")} == (
        report.to_json()
    )
    assert document["path"] == str(log.path)
    assert [e["seq"] for e in document["pending"]] == [stuck.seq]
    assert document["pending"][0]["body"]["build"] == "payments-api/238"
    assert page.message_bar.kind == "ok" and str(target) in page.message_bar.message()
    page.ask_export_path = lambda suggested: None
    assert page.export_report() is None


def test_export_to_a_place_that_cannot_be_written_says_why(
    qtbot, open_page, log, alice, tmp_path
) -> None:
    fill(log, alice)
    page = open_page()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    page.ask_export_path = lambda suggested: str(blocker / "report.json")
    task = page.export_report()
    qtbot.waitUntil(lambda: task.finished, timeout=10_000)
    assert page.message_bar.kind == "error"
    assert page.message_bar.message() == f"cannot create folder {blocker}: File exists"
    assert "\n" not in page.message_bar.message()


# -- the models --------------------------------------------------------------------------------


def test_models_pass_the_model_tester(qtmodeltester, log, alice) -> None:
    fill(log, alice)
    raw = lines(log)
    raw[1] = edit(raw[1], event="approval")
    log.path.write_bytes(b"".join(raw))
    snapshot = read_audit(log, lambda d, t: None, CancelToken())
    model = AuditTableModel(IconSet(QPalette()))
    model.set_rows(snapshot.rows)
    qtmodeltester.check(model, force_py=True)
    proxy = AuditProxyModel()
    proxy.setSourceModel(model)
    # pytest-qt's fixture holds one tester; Qt's own tester (fatal) watches the proxy.
    fatal = QAbstractItemModelTester.FailureReportingMode.Fatal
    proxy_tester = QAbstractItemModelTester(proxy, fatal)
    proxy.set_filters(search="app", event="promotion-intent")
    assert proxy.rowCount() == 2
    for column in (-1, *range(len(HEADERS))):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            proxy.sort(column, order)
    proxy.sort(COL_SEQ, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, COL_SEQ).data() for r in range(2)] == ["3", "1"]
    assert model.data(model.index(1, COL_STATUS), Qt.ItemDataRole.DecorationRole) is not None
    assert model.data(model.index(9, 0)) is None and model.row_at(9) is None
    first = model.row_at(0)
    assert model.index(0, COL_TIME).data(Qt.ItemDataRole.ToolTipRole) == first.time_exact
    assert model.index(0, COL_SEQ).data(SortRole) == first.entry.seq
    assert model.index(0, COL_SUMMARY).data(Qt.ItemDataRole.ToolTipRole).startswith("build=")
    assert model.index(0, COL_KEY).data(Qt.ItemDataRole.ToolTipRole) is None
    assert model.index(0, COL_FINGERPRINT).data(Qt.ItemDataRole.FontRole) is not None
    bare = AuditProxyModel()  # without an audit model under it: nothing to sort or match
    bare.sort(0)
    bare.set_search("x")
    assert bare.filterAcceptsRow(0, QModelIndex()) is False
    model.set_rows([])
    assert proxy.rowCount() == 0 and proxy_tester is not None


# -- 10,000 entries ----------------------------------------------------------------------------


def write_signed_log(log: AuditLog, key: Any, count: int) -> None:
    """``count`` entries written the way AuditLog writes them (canonical JSON, each signed and
    chained, the head signed), without one locked and fsynced append per entry."""
    fingerprint = audit.spki_fingerprint(key.public_key())
    start = datetime(2026, 1, 5, tzinfo=UTC)
    prev, parts = audit.GENESIS, []
    for seq in range(1, count + 1):
        fields: dict[str, Any] = {
            "seq": seq,
            "time": (start + timedelta(minutes=seq)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event": "promotion-intent" if seq % 2 else "promotion-outcome",
            "body": {"build": f"app/{seq}", "intent": seq - 1} if seq % 2 == 0 else INTENT,
            "prev": prev,
            "key": "alice",
            "fingerprint": fingerprint,
        }
        fields["signature"] = audit_lines.sign(audit.PAYLOAD_TYPE, fields, key)
        line = rfc8785.dumps(fields) + b"\n"
        prev = hashlib.sha256(line).hexdigest()
        parts.append(line)
    log.path.parent.mkdir(parents=True, exist_ok=True)
    log.path.write_bytes(b"".join(parts))
    head: dict[str, Any] = {"seq": count, "sha256": prev, "key": "alice"}
    head["fingerprint"] = fingerprint
    head["signature"] = audit_lines.sign(audit.HEAD_PAYLOAD_TYPE, head, key)
    log.head_path.write_bytes(rfc8785.dumps(head) + b"\n")


def test_ten_thousand_entries_verify_while_the_event_loop_turns(
    qtbot, open_page, log, alice
) -> None:
    page = open_page()  # shown and laid out on an empty log first: only the verify is measured
    write_signed_log(log, alice, 10_000)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    page.verify_action.trigger()
    settle(qtbot, page)
    elapsed = time.perf_counter() - started
    timer.stop()
    assert page.banner.outcome == "intact", page.banner.text()
    assert page.banner.headline.text().startswith("Chain intact: 10000 entries")
    assert page.model.rowCount() == 10_000
    gaps = [b - a for a, b in zip([started, *ticks], ticks, strict=False)]
    largest = max(gaps)
    # The timer kept firing the whole time: the GUI thread never waited for the verification.
    assert len(ticks) >= elapsed / 0.005 / 4, (len(ticks), elapsed)
    print(f"largest event-loop gap {largest * 1000:.0f} ms, {len(ticks)} ticks in {elapsed:.1f} s")
    assert largest < 0.25, f"largest event-loop gap {largest * 1000:.0f} ms over {elapsed:.1f} s"
    page.search.setText("app/9998")
    page.apply_search()
    assert [r.entry.seq for r in page.visible_rows()] == [9998]


# -- the OS keyring ----------------------------------------------------------------------------


def with_keyring(test: Any) -> Any:
    for mark in needs_keyring:
        test = mark(test)
    return test


@with_keyring
def test_entries_signed_with_a_key_from_the_keyring(qtbot, open_page, log) -> None:
    record = keystore.generate("rm-anna", "ed25519")
    log.append("promotion-intent", INTENT, key_name="rm-anna")
    log.append("promotion-outcome", {"intent": 1, "result": "done"}, key_name="rm-anna")
    page = open_page()
    assert page.banner.outcome == "intact"
    assert f"Signed by rm-anna ({record.fingerprint[:19]}…)" in page.banner.text()
    page.select_seq(2)
    assert "✓ verified with rm-anna" in page.details.toPlainText()
    assert "PRIVATE" not in page.details.toPlainText()


def test_esc_cancels_the_verification_of_the_page_in_front(
    qtbot, window, log, alice, monkeypatch
) -> None:
    fill(log, alice)
    gate = threading.Event()
    real = AuditLog.verify

    def held(self: AuditLog, keys: Any = None) -> audit.ChainReport:
        gate.wait(10)
        return real(self, keys)

    monkeypatch.setattr(AuditLog, "verify", held)
    window.show_page("Audit")
    page = window.audit_page
    assert page.busy
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    gate.set()
    settle(qtbot, page)
    assert page.banner.headline.text() == "Verification cancelled"
    assert window.statusBar().currentMessage() == "Audit verification cancelled"


def test_the_log_is_checked_against_the_profiles_promotion_records(
    relman_home: Path, tmp_path: Path
) -> None:
    from relman.gui.audit_model import read_audit
    from relman.model import CancelToken, Profile
    from relman.release.promotion import Engine, Request
    from tests.unit.release.promotion_support import Setup

    setup = Setup.create(relman_home)
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    engine = Engine(setup.registry, setup.profile, promoter=setup.anna, log=setup.log)
    engine.execute(engine.plan(Request("acme", "1", "qa")))
    saved = (setup.log.path.read_bytes(), setup.log.head_path.read_bytes())
    plan = engine.plan(Request("acme", "1", "prod"))
    engine.approve(plan, setup.approver("ben"))
    engine.execute(plan)

    def read(profile: Profile | None) -> audit.ChainReport:
        return read_audit(setup.log, lambda *_: None, CancelToken(), profile=profile).report

    assert read(setup.profile).ok
    setup.log.path.write_bytes(saved[0])  # cut back, its old head put back with it
    setup.log.head_path.write_bytes(saved[1])
    assert read(None).ok  # the log alone cannot tell
    [problem] = read(setup.profile).issues
    assert problem.kind == "anchor" and "no longer holds (cut back?)" in str(problem)
    gone = Profile(
        "gone", "local", str(tmp_path / "nowhere"), environments=setup.profile.environments
    )
    [problem] = read(gone).issues
    assert str(problem).startswith("the promotion records of profile gone could not be read: ")


def test_the_window_gives_the_audit_page_the_current_profile(window) -> None:
    assert window.audit_page.profile is window.loader.profile
    window.loader.changed.emit()
    assert window.audit_page.profile is window.loader.profile
