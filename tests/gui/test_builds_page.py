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
    HEADERS,
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
    assert [s.key().toString() for s in window.reload_shortcuts] == ["F5"] * 3  # + Diff
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


# -- sorting and filtering done by the model (issue 4: 50,000 rows without stalling) ------------


def old_filter(row, search: str = "", app: str = "", env: str = "", only: bool = False) -> bool:
    """The proxy's per-row filter as it was before the model took filtering over."""
    needle = search.strip().lower()
    return (
        (not needle or needle in row.text_blob or "\n" + needle in row.prefix_blob)
        and (not app or row.node.name == app)
        and (not env or env in row.node.environments)
        and (not only or bool(row.kinds))
    )


def test_sorting_by_every_column_both_ways(loaded) -> None:
    page = loaded.builds_page
    for column in range(len(HEADERS)):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            page.table.sortByColumn(column, order)
            keys = [r.keys[column] for r in page.visible_rows()]
            descending = order == Qt.SortOrder.DescendingOrder
            assert keys == sorted(keys, reverse=descending), (HEADERS[column], order)
            assert len(keys) == 40
            assert page.model.sort_state == (column, order)


def test_sorting_a_filtered_view_keeps_the_filter(loaded) -> None:
    page = loaded.builds_page
    search(None, page, "payments")
    expected = {r.node.label for r in page.model.all_rows() if old_filter(r, "payments")}
    for column in range(len(HEADERS)):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            page.table.sortByColumn(column, order)
            rows = page.visible_rows()
            assert {r.node.label for r in rows} == expected
            keys = [r.keys[column] for r in rows]
            assert keys == sorted(keys, reverse=order == Qt.SortOrder.DescendingOrder)


def test_selection_survives_every_sort(loaded) -> None:
    page = loaded.builds_page
    assert page.select_label("payments-api/10")
    for column in range(len(HEADERS)):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            page.table.sortByColumn(column, order)
            selected = page.table.selectionModel().selectedRows()
            assert [i.data(ObjectRole).node.label for i in selected] == ["payments-api/10"]
            current = page.table.currentIndex()
            assert current.data(ObjectRole).node.label == "payments-api/10"
    assert page.details.node is not None and page.details.node.label == "payments-api/10"


def test_filter_results_equal_the_old_filter_on_the_demo_data(loaded) -> None:
    page = loaded.builds_page
    every = page.model.all_rows()
    lineage = loaded.loader.lineage
    node = next(b for b in lineage.builds if b.label == "web-frontend/7")
    searches = ["", "w", "we", "web", "web-", "pay", "PAYMENTS", "main", node.commit[:6]]
    searches += [node.artifacts[0].sha256[:8], node.artifacts[0].name, "zzz", " 1 "]
    combos = [
        (app, env, only)
        for app in ("", "payments-api", "ledger-worker")
        for env in ("", "dev", "prod")
        for only in (False, True)
    ]
    for app, env, only in combos:
        for text in searches:  # typed one after the other: the narrowing path too
            page.proxy.set_filters(
                search=text, application=app, environment=env, findings_only=only
            )
            shown = [r.node.label for r in page.visible_rows()]
            order = {id(r): i for i, r in enumerate(page.model.all_rows())}
            expected = [r for r in every if old_filter(r, text, app, env, only)]
            assert sorted(shown) == sorted(r.node.label for r in expected), (text, app, env, only)
            assert len(shown) == len(set(shown))
            # still in the current sort order (newest first)
            started = [r.keys[COL_STARTED] for r in page.visible_rows()]
            assert started == sorted(started, reverse=True)
            assert len(order) == 40
    page.proxy.set_filters(search="", application="", environment="", findings_only=False)
    assert page.proxy.rowCount() == 40


def test_count_says_shown_of_total(loaded) -> None:
    page = loaded.builds_page
    page.findings_only.setChecked(True)
    assert page.count.text() == "7 of 40 builds"
    assert page.model.total() == 40 and page.model.rowCount() == 7


def test_filter_that_hides_the_selection_clears_it(loaded) -> None:
    page = loaded.builds_page
    assert page.select_label("web-frontend/7")
    search(None, page, "payments")
    assert page.table.selectionModel().selectedRows() == []
    assert not page.select_label("web-frontend/7")
    assert page.select_label("payments-api/10")
    search(None, page, "payments-api")  # narrowing keeps a row that still matches selected
    selected = page.table.selectionModel().selectedRows()
    assert [i.data(ObjectRole).node.label for i in selected] == ["payments-api/10"]


def test_every_column_order_is_computed_after_the_rows_arrive(qtbot, loaded) -> None:
    model = BuildsTableModel(loaded.icons)
    model.set_rows(make_rows(loaded.loader.lineage))
    assert set(model._orders) == {COL_STARTED}
    qtbot.waitUntil(lambda: set(range(len(HEADERS))) <= set(model._orders), timeout=5_000)


def test_model_tester_through_filters_and_sorts(qtbot, loaded) -> None:
    rows = make_rows(loaded.loader.lineage)
    model = BuildsTableModel(loaded.icons)
    proxy = BuildsProxyModel()
    proxy.setSourceModel(model)
    mode = QAbstractItemModelTester.FailureReportingMode.Fatal
    testers = [QAbstractItemModelTester(m, mode) for m in (model, proxy)]
    model.set_rows(rows)
    for text in ("p", "pa", "pay", "", "zzz", "web"):
        proxy.set_filters(search=text)
        for column in (COL_NUMBER, COL_COMMIT, COL_FINDINGS):
            for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                proxy.sort(column, order)
                assert proxy.rowCount() == model.rowCount()
    proxy.set_filters(search="", findings_only=True)
    model.set_rows([])
    proxy.set_filters(findings_only=False)
    assert len(testers) == 2 and proxy.rowCount() == 0


def test_rows_are_made_in_the_worker_not_on_the_gui_thread(qtbot, demo_home, monkeypatch) -> None:
    """A 50,000-build registry takes ~1.4 s to turn into rows: never on the GUI thread."""
    from relman.gui import builds_model, builds_page

    threads: list[bool] = []
    real = builds_model.make_rows

    def spy(lineage, now=None):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread() is threading.main_thread())
        return real(lineage, now)

    monkeypatch.setattr(lineage_loader, "make_rows", spy)
    monkeypatch.setattr(builds_page, "make_rows", spy)
    from relman.gui.main_window import MainWindow
    from relman.gui.tasks import TaskRunner

    runner = TaskRunner()
    win = MainWindow(runner)
    qtbot.addWidget(win)
    try:
        wait_loaded(qtbot, win)
        assert win.builds_page.model.total() == 40
        assert threads and not any(threads)  # made once, in a worker thread
    finally:
        runner.shutdown()
