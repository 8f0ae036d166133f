"""The Builds page on the demo registry: listing, search, filters, sorting, details, loading."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from relman.gui import lineage_loader
from relman.gui.builds_model import (
    COL_COMMIT,
    COL_FINDINGS,
    COL_NUMBER,
    COL_STARTED,
    BuildsProxyModel,
    BuildsTableModel,
    make_rows,
)
from relman.gui.lineage_loader import NO_PROFILE_TEXT

ObjectRole = Qt.ItemDataRole.UserRole + 2


def make_demo(base: Path) -> Path:
    """The demo registry in ``base/registry`` and a RELMAN_HOME in ``base/home`` that has its
    profile and trusted keys; fsync is skipped (test data, made once per module)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RELMAN_HOME", str(base / "home"))
        mp.setattr(os, "fsync", lambda fd: None)
        from relman import demo

        demo.create(base / "registry")
    return base / "home"


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def demo_home(relman_home: Path, demo_source: Path) -> Path:
    shutil.copytree(demo_source, relman_home, dirs_exist_ok=True)
    return relman_home


def wait_loaded(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)


@pytest.fixture
def loaded(qtbot, demo_home, window):
    wait_loaded(qtbot, window)
    window.show_page("Builds")
    return window


def label_of(page, row: int = 0) -> str:
    return page.visible_rows()[row].node.label


def search(qtbot, page, text: str) -> list[str]:
    page.search.setText(text)
    page.apply_search()
    return [r.node.label for r in page.visible_rows()]


def test_lists_the_40_demo_builds(loaded) -> None:
    page = loaded.builds_page
    assert page.stack.currentWidget() is page.table
    assert page.proxy.rowCount() == 40
    assert page.count.text() == "40 builds"
    apps = [page.apps.itemText(i) for i in range(page.apps.count())]
    assert apps[1:] == ["ledger-worker", "payments-api", "web-frontend"]
    assert loaded.builds_page.model.rowCount() == 40
    # every build shows its branch and furthest environment
    rows = page.visible_rows()
    assert all(r.branch for r in rows)
    assert {r.furthest for r in rows} <= {"dev", "qa", "staging", "prod"}


def test_search_by_commit_prefix_and_sha256_prefix(qtbot, loaded) -> None:
    page = loaded.builds_page
    lineage = loaded.loader.lineage
    node = next(b for b in lineage.builds if b.label == "web-frontend/7")
    assert search(qtbot, page, node.commit[:8].upper()) == ["web-frontend/7"]
    sha = node.artifacts[-1].sha256
    assert search(qtbot, page, sha[:10]) == ["web-frontend/7"]
    assert search(qtbot, page, node.artifacts[0].name)  # artifact name: every build of it
    assert "web-frontend/7" in search(qtbot, page, node.artifacts[0].name)
    assert search(qtbot, page, str(node.identity)) == ["web-frontend/7"]
    assert search(qtbot, page, "0" * 12) == []
    assert page.count.text() == "0 of 40 builds"
    page.clear_filters()
    assert page.proxy.rowCount() == 40


def test_findings_filter_shows_the_planted_problems(loaded) -> None:
    page = loaded.builds_page
    page.findings_only.setChecked(True)
    kinds = {k for r in page.visible_rows() for k in r.kinds}
    labels = {r.node.label for r in page.visible_rows()}
    assert kinds == {
        "rebuilt",
        "overwritten",
        "unsigned",
        "bad-signature",
        "skipped-stage",
        "unverified-promotion",
    }
    assert {
        "payments-api/9",
        "payments-api/10",
        "payments-api/11",
        "payments-api/12",
        "ledger-worker/5",
        "ledger-worker/6",
        "ledger-worker/9",
    } == labels
    page.apps.setCurrentIndex(page.apps.findData("ledger-worker"))
    assert {r.node.label for r in page.visible_rows()} == {
        "ledger-worker/5",
        "ledger-worker/6",
        "ledger-worker/9",
    }
    page.envs.setCurrentIndex(page.envs.findData("prod"))
    assert [r.node.label for r in page.visible_rows()] == ["ledger-worker/5"]
    index = page.proxy.index(0, COL_FINDINGS)
    assert "skipped-stage" in index.data()


def test_sorting_by_columns(loaded) -> None:
    page = loaded.builds_page
    started = [r.node.started for r in page.visible_rows()]
    assert started == sorted(started, reverse=True)  # newest first by default
    page.table.sortByColumn(COL_NUMBER, Qt.SortOrder.AscendingOrder)
    numbers = [int(r.node.number) for r in page.visible_rows()]
    assert numbers == sorted(numbers)
    page.table.sortByColumn(COL_COMMIT, Qt.SortOrder.DescendingOrder)
    commits = [r.commit for r in page.visible_rows()]
    assert commits == sorted(commits, reverse=True)
    page.table.sortByColumn(COL_FINDINGS, Qt.SortOrder.DescendingOrder)
    assert page.visible_rows()[0].kinds
    # a filter stays applied through a sort, and the selection follows its row
    page.findings_only.setChecked(True)
    assert page.select_label("ledger-worker/6")
    page.table.sortByColumn(COL_STARTED, Qt.SortOrder.AscendingOrder)
    assert page.proxy.rowCount() == 7
    selected = page.table.selectionModel().selectedRows()
    assert selected[0].data(ObjectRole).node.label == "ledger-worker/6"


def test_details_show_artifacts_promotions_and_findings(loaded) -> None:
    page = loaded.builds_page
    assert page.select_label("payments-api/10")
    details = loaded.builds_page.details
    assert loaded.details_stack.currentWidget() is details
    text = details.toPlainText()
    node = details.node
    assert node is not None and node.label == "payments-api/10"
    for art in node.artifacts:
        assert art.name in text and art.sha256 in text
    assert "dev-local/payments-api/" in text
    assert "rebuilt" in text and "Findings (1)" in text
    assert "Promotions (1)" in text and "→ qa by demo-rm-" in text and "ok" in text
    page.table.clearSelection()
    assert details.node is None


def test_models_pass_the_model_tester(qtbot, loaded) -> None:
    rows = make_rows(loaded.loader.lineage)
    model = BuildsTableModel(loaded.icons)
    proxy = BuildsProxyModel()
    proxy.setSourceModel(model)
    mode = QAbstractItemModelTester.FailureReportingMode.Fatal
    testers = [QAbstractItemModelTester(m, mode) for m in (model, proxy)]
    model.set_rows(rows)
    proxy.set_filters(search="main", findings_only=True)
    proxy.sort(COL_NUMBER, Qt.SortOrder.AscendingOrder)
    proxy.set_filters(search="")
    model.set_rows(rows[:5])
    assert len(testers) == 2 and proxy.rowCount() <= 5


def test_no_profile_says_what_to_do(qtbot, window) -> None:
    assert window.loader.state == "empty"
    window.show_page("Builds")
    page = window.builds_page
    assert page.stack.currentWidget() is page.message
    assert page.message.text() == NO_PROFILE_TEXT
    assert "relman demo" in page.message.text()
    assert window.environments_page.message.text() == NO_PROFILE_TEXT
    assert window.profile_combo.itemText(0).startswith("no profile")


def test_loading_runs_off_the_gui_thread_and_reloads_on_f5(
    qtbot, demo_home, window, monkeypatch
) -> None:
    wait_loaded(qtbot, window)
    threads = []
    real = lineage_loader.build_lineage

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(lineage_loader, "build_lineage", spy)
    first = window.loader.lineage
    window.reload_action.trigger()
    assert window.loader.state == "loading"
    wait_loaded(qtbot, window)
    assert threads and threads[0] is not threading.main_thread()
    assert window.loader.lineage is not first
    assert window.builds_page.proxy.rowCount() == 40
    assert [s.key().toString() for s in window.reload_shortcuts] == ["F5", "F5"]
    window.show_page("Builds")
    window.activateWindow()
    qtbot.keyClick(window.builds_page.table, Qt.Key.Key_F5)
    assert window.loader.state == "loading" and len(threads) >= 1
    wait_loaded(qtbot, window)
    assert len(threads) == 2


def test_cancel_stops_the_load(qtbot, demo_home, window, monkeypatch) -> None:
    wait_loaded(qtbot, window)
    gate = threading.Event()
    real = lineage_loader.build_lineage

    def slow(*args, **kwargs):
        gate.wait(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(lineage_loader, "build_lineage", slow)
    task = window.loader.load()
    assert task is not None and window.runner.activities
    window.cancel_shortcut.activated.emit()
    assert window.loader.state == "cancelled"
    assert "F5" in window.loader.message
    gate.set()
    qtbot.waitUntil(lambda: task.finished, timeout=10_000)
    assert task.cancelled
    assert window.loader.state == "cancelled"
    assert window.builds_page.proxy.rowCount() == 40  # the previous lineage stays
