"""The Diff page on real local registries (the lineage test world and the demo): what one
environment holds and the other does not, the commit range, selection, states, and the work
done on the task runner."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPalette

from relman import settings
from relman.errors import Cancelled
from relman.gui import diff_model
from relman.gui.builds_model import shorten_middle
from relman.gui.diff_model import (
    COL_COMMIT,
    COL_DIGEST,
    COL_ITEM,
    COL_NUMBER,
    COL_STARTED,
    HEADERS,
    DiffNode,
    DiffTreeModel,
    compare,
)
from relman.gui.diff_page import DiffPage
from relman.gui.icons import IconSet
from relman.gui.table_base import ObjectRole
from relman.model import CancelToken, Profile, RepoPath
from relman.release.diff import diff_environments
from tests.unit.release.lineage_support import ENVIRONMENTS, World, commit_of

from .test_builds_page import make_demo


@pytest.fixture
def world(relman_home: Path, tmp_path: Path) -> World:
    """acme 1 in dev, qa, prod; acme 2 in dev; acme 3 in dev and qa; tools 1 everywhere."""
    world = World.create(tmp_path / "registry")
    settings.add_profile(
        Profile("small", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    first = world.build("acme", 1, {"app.tgz": b"one"}, commit=commit_of("a1"))
    world.promote_all(first)
    world.build("acme", 2, {"app.tgz": b"two"}, commit=commit_of("a2"), hours=1)
    third = world.build("acme", 3, {"app.tgz": b"three"}, commit=commit_of("a3"), hours=2)
    world.copy(third, "dev", "qa")
    world.promote_all(world.build("tools", 1, {"t.tgz": b"t"}, commit=commit_of("t1")))
    return world


def settle(qtbot, window) -> DiffPage:
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)
    page = window.diff_page
    qtbot.waitUntil(lambda: not page.busy, timeout=15_000)
    return page


@pytest.fixture
def shown(qtbot, world, window) -> DiffPage:
    window.loader.reload()
    window.show_page("Diff")
    return settle(qtbot, window)


def titles(window) -> list[str]:
    """The activities the status bar shows (other pages may have their own)."""
    return [a.title for a in window.runner.activities]


def node_texts(node: DiffNode) -> list[str]:
    return [node.texts[COL_ITEM], *(child.texts[COL_ITEM] for child in node.children)]


def find(nodes: list[DiffNode], item: str) -> DiffNode:
    for node in nodes:
        for found in node.walk():
            if found.texts[COL_ITEM] == item:
                return found
    raise AssertionError(f"no row {item!r}")


# -- the comparison ----------------------------------------------------------------------------


def test_the_last_two_environments_by_default(shown: DiffPage, world: World) -> None:
    page = shown
    assert page.environments() == ("qa", "prod")
    assert page.stack.currentWidget() is page.tree
    assert page.summary.text() == "Profile small: qa against prod — 1 of 2 applications differ."
    acme, tools = page.model.roots()
    assert node_texts(acme) == [
        "acme: differs — qa is 2 builds ahead of prod",
        "newest in qa: acme/3",
        "newest in prod: acme/1",
        "in qa, not in prod: 1 build, 1 artifact",
        "commit range: qa is 2 builds ahead of prod, from acme/1 to acme/3",
    ]
    assert node_texts(tools) == [
        "tools: same builds and artifacts in qa and prod",
        "newest in qa: tools/1",
        "newest in prod: tools/1",
    ]
    assert tools.same and not acme.same
    only = acme.children[2]
    build, artifact = only.children
    assert build.texts[COL_ITEM] == "build acme/3" and build.texts[COL_NUMBER] == "3"
    assert build.texts[COL_COMMIT] == commit_of("a3")[:12]
    assert build.tips[COL_COMMIT] == commit_of("a3")
    assert build.tips[COL_DIGEST].startswith("20250302T121000Z.3.")
    assert "…" in build.texts[COL_DIGEST]
    assert build.tips[COL_STARTED] == "2025-03-02 12:10:00 UTC"
    assert build.build is not None and build.build.label == "acme/3"
    sha = hashlib.sha256(b"three").hexdigest()
    assert artifact.texts[COL_ITEM] == "artifact app.tgz"
    assert artifact.tips[COL_ITEM] == "app.tgz, listed by build acme/3"
    assert artifact.texts[COL_DIGEST] == shorten_middle(sha, 8) and artifact.tips[COL_DIGEST] == sha
    assert artifact.texts[COL_NUMBER] == "3"
    between = acme.children[3].children
    assert [(n.texts[COL_ITEM], n.tips[COL_COMMIT]) for n in between] == [
        ("acme/2", commit_of("a2")),
        ("acme/3", commit_of("a3")),
    ]
    # Titles span the row; everything is expanded and read as words by screen readers.
    view = page.tree
    assert view.isFirstColumnSpanned(0, QModelIndex())
    assert view.isExpanded(page.model.index(0, 0))
    first = page.model.index(0, 0)
    assert first.data(Qt.ItemDataRole.AccessibleTextRole) == acme.text
    assert first.data(Qt.ItemDataRole.DecorationRole) is not None
    assert first.data(Qt.ItemDataRole.FontRole).bold()


def test_swap_and_another_pair(qtbot, shown: DiffPage, window) -> None:
    page = shown
    page.swap()
    page = settle(qtbot, window)
    assert page.environments() == ("prod", "qa")
    acme = page.model.roots()[0]
    assert acme.texts[COL_ITEM] == "acme: differs — qa is 2 builds ahead of prod"
    assert acme.children[2].texts[COL_ITEM] == "in qa, not in prod: 1 build, 1 artifact"
    page.choose("dev", "qa")
    page = settle(qtbot, window)
    acme, tools = page.model.roots()
    assert node_texts(acme) == [
        "acme: differs — 1 build only in dev",
        "newest in dev: acme/3",
        "newest in qa: acme/3",
        "in dev, not in qa: 1 build, 1 artifact",
    ]
    assert acme.children[2].children[0].texts[COL_ITEM] == "build acme/2"
    assert tools.same
    page.choose("qa", "qa")
    assert page.stack.currentWidget() is page.message
    assert "compare two different environments, not qa with itself" in page.message.text()


def test_a_side_without_a_build(qtbot, shown: DiffPage, world: World, window) -> None:
    world.build("solo", 1, {"s.tgz": b"s"}, commit=commit_of("s1"))
    window.loader.reload()
    page = settle(qtbot, window)
    page.choose("dev", "prod")
    page = settle(qtbot, window)
    solo = find(page.model.roots(), "solo: differs — 1 build only in dev")
    assert node_texts(solo)[1:] == [
        "newest in dev: solo/1",
        "newest in prod: no build",
        "in dev, not in prod: 1 build, 1 artifact",
    ]
    row = solo.position
    assert page.tree.isFirstColumnSpanned(1, page.model.index(row, 0))


def test_selecting_a_build_shows_it_in_the_details_dock(qtbot, shown: DiffPage, window) -> None:
    page = shown
    assert window.details_stack.currentWidget() is window.builds_page.details
    acme = page.model.index(0, 0)
    section = page.model.index(2, 0, acme)
    page.tree.setCurrentIndex(page.model.index(0, 0, section))
    assert page.selected_node().texts[COL_ITEM] == "build acme/3"
    details = window.builds_page.details
    assert details.node is not None and details.node.label == "acme/3"
    assert "Artifacts" in details.toPlainText()
    page.tree.setCurrentIndex(section)  # a title: no build
    assert details.node is None


def test_the_demo_registry(qtbot, relman_home: Path, tmp_path_factory, window) -> None:
    shutil.copytree(make_demo(tmp_path_factory.mktemp("demo")), relman_home, dirs_exist_ok=True)
    window.loader.reload()
    window.show_page("Diff")
    page = settle(qtbot, window)
    assert page.environments() == ("staging", "prod")
    expected = diff_environments(window.loader.lineage, "staging", "prod")
    roots = page.model.roots()
    assert [r.texts[COL_ITEM].partition(":")[0] for r in roots] == [
        app.name for app in expected.applications
    ]
    for root, app in zip(roots, expected.applications, strict=True):
        shown_builds = {
            n.build.label for n in root.walk() if n.kind == "build" and n.build is not None
        }
        assert shown_builds == {b.label for b in (*app.only_a.builds, *app.only_b.builds)}
        artifacts = [n for n in root.walk() if n.kind == "artifact"]
        assert len(artifacts) == len(app.only_a.artifacts) + len(app.only_b.artifacts)
        if app.range is not None:
            assert len(find([root], root.children[-1].texts[COL_ITEM]).children) == len(
                app.range.builds
            )
    assert page.summary.text().startswith("Profile demo: staging against prod — ")


# -- states ------------------------------------------------------------------------------------


def test_without_a_profile_it_says_what_to_do(window) -> None:
    window.show_page("Diff")
    page = window.diff_page
    assert page.stack.currentWidget() is page.message
    assert "relman demo" in page.message.text()
    assert page.run() is None


def test_a_profile_with_one_environment(qtbot, world: World, window) -> None:
    settings.add_profile(
        Profile("one", "local", str(world.registry.root), environments=ENVIRONMENTS[:1])
    )
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)
    window.loader.select("one")
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)
    window.show_page("Diff")
    page = window.diff_page
    assert page.stack.currentWidget() is page.message
    assert "Profile one has 1 environment(s): there is nothing to compare" in page.message.text()


def test_no_build_in_either_environment(qtbot, relman_home: Path, tmp_path: Path, window) -> None:
    world = World.create(tmp_path / "empty")
    settings.add_profile(
        Profile("empty", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    window.loader.reload()
    window.show_page("Diff")
    page = settle(qtbot, window)
    assert page.stack.currentWidget() is page.message
    assert page.message.text().startswith("No build is in qa or prod yet")


# -- off the GUI thread ------------------------------------------------------------------------


def test_compared_on_the_task_runner_and_stale_results_dropped(
    qtbot, world: World, window, monkeypatch
) -> None:
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)
    on_gui: list[bool] = []
    gate = threading.Event()
    real = diff_model.diff_environments

    def slow(lineage: Any, a: str, b: str) -> Any:
        on_gui.append(threading.current_thread() is threading.main_thread())
        gate.wait(10)
        return real(lineage, a, b)

    monkeypatch.setattr(diff_model, "diff_environments", slow)
    window.show_page("Diff")
    page = window.diff_page
    assert page.busy
    assert "Comparing qa with prod" in titles(window)
    assert page.message.text() == "Comparing qa with prod…"
    qtbot.waitUntil(lambda: on_gui == [False], timeout=5_000)  # in the worker, held there
    page.choose("dev", "prod")  # replaces the comparison in progress
    assert titles(window)[-1] == "Comparing dev with prod"
    gate.set()
    page = settle(qtbot, window)
    assert on_gui == [False, False]
    assert page.result is not None and (page.result.diff.a, page.result.diff.b) == ("dev", "prod")
    assert page.run() is None  # already shown: nothing recomputed
    qtbot.waitUntil(lambda: not any(t.startswith("Comparing") for t in titles(window)))


def test_worker_progress_and_cancel(world: World) -> None:
    from relman.registry.local import LocalRegistry
    from relman.release.lineage import build_lineage

    lineage = build_lineage(LocalRegistry(world.registry.root), ENVIRONMENTS, world.context)
    steps: list[tuple[int, int]] = []
    result = compare(lineage, "qa", "prod", lambda d, t: steps.append((d, t)), CancelToken())
    assert steps == [(0, 2), (1, 2), (2, 2)] and result.differing == 1
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        compare(lineage, "qa", "prod", lambda d, t: None, token)


def test_a_failed_comparison_is_one_line(qtbot, world: World, window, monkeypatch) -> None:
    def broken(lineage: Any, a: str, b: str) -> Any:
        raise OSError("disk on fire")

    monkeypatch.setattr(diff_model, "diff_environments", broken)
    window.loader.reload()
    window.show_page("Diff")
    page = settle(qtbot, window)
    assert page.message.text() == "Cannot compare: disk on fire"


# -- the model ---------------------------------------------------------------------------------


def test_model_passes_the_model_tester(qtmodeltester, world: World) -> None:
    from relman.registry.local import LocalRegistry
    from relman.release.lineage import build_lineage

    lineage = build_lineage(LocalRegistry(world.registry.root), ENVIRONMENTS, world.context)
    model = DiffTreeModel(IconSet(QPalette()))
    model.set_roots(compare(lineage, "qa", "prod", lambda d, t: None, CancelToken()).roots)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2 and model.columnCount() == len(HEADERS)
    acme = model.index(0, 0)
    assert model.rowCount(acme) == 4 and model.rowCount(model.index(0, 1)) == 0
    child = model.index(2, COL_DIGEST, acme)
    assert model.parent(child) == acme and model.parent() is None  # QObject.parent()
    assert child.data(ObjectRole).kind == "section"
    assert model.index(9, 0).isValid() is False and model.data(QModelIndex()) is None
    assert model.headerData(COL_DIGEST, Qt.Orientation.Horizontal) == "Identity / SHA-256"
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    model.set_roots(compare(lineage, "dev", "qa", lambda d, t: None, CancelToken()).roots)
    model.set_roots([])
    assert model.rowCount() == 0


def test_same_environments_and_artifacts_only_differences(
    qtbot, relman_home: Path, tmp_path: Path, window
) -> None:
    world = World.create(tmp_path / "registry")
    settings.add_profile(
        Profile("pair", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    world.promote_all(world.build("tools", 1, {"t.tgz": b"t"}, commit=commit_of("t1")))
    window.loader.reload()
    window.show_page("Diff")
    page = settle(qtbot, window)
    assert page.summary.text() == (
        "Profile pair: qa against prod — qa and prod hold the same builds and artifacts."
    )
    world.build("lib", 1, {"a.tgz": b"a", "b.tgz": b"b"}, commit=commit_of("l1"))
    world.registry.copy(RepoPath("libs-dev", "lib/1/a.tgz"), RepoPath("libs-qa", "lib/1/a.tgz"))
    window.loader.reload()
    page = settle(qtbot, window)
    page.choose("dev", "qa")
    page = settle(qtbot, window)
    lib_node = page.model.roots()[0]
    assert node_texts(lib_node) == [
        "lib: differs — 1 artifact only in dev",
        "newest in dev: lib/1",
        "newest in qa: lib/1",
        "in dev, not in qa: 1 artifact",
    ]
    assert lib_node.children[2].children[0].texts[COL_ITEM] == "artifact b.tgz"


def test_cancelled_from_the_status_bar(qtbot, world: World, window, monkeypatch) -> None:
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)
    gate = threading.Event()
    real = diff_model.diff_environments

    def held(lineage: Any, a: str, b: str) -> Any:
        gate.wait(10)
        return real(lineage, a, b)

    monkeypatch.setattr(diff_model, "diff_environments", held)
    window.show_page("Diff")
    page = window.diff_page
    # what the status bar's Cancel does to the activity it shows
    activity = next(a for a in window.runner.activities if a.title == "Comparing qa with prod")
    activity.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not page.busy, timeout=5_000)
    assert page.message.text().startswith("Comparison cancelled")
    assert page.stack.currentWidget() is page.message


def test_f5_on_the_diff_page_reads_the_registry_again(qtbot, shown: DiffPage, window) -> None:
    first = window.loader.lineage
    window.activateWindow()
    qtbot.keyClick(shown.tree, Qt.Key.Key_F5)
    assert window.loader.state == "loading"
    page = settle(qtbot, window)
    assert window.loader.lineage is not first
    assert page.result is not None and page.stack.currentWidget() is page.tree


def test_esc_cancels_the_comparison(qtbot, world: World, window, monkeypatch) -> None:
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)
    gate = threading.Event()
    real = diff_model.diff_environments

    def held(lineage: Any, a: str, b: str) -> Any:
        gate.wait(10)
        return real(lineage, a, b)

    monkeypatch.setattr(diff_model, "diff_environments", held)
    window.show_page("Diff")
    page = window.diff_page
    assert page.busy
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    gate.set()
    qtbot.waitUntil(lambda: not page.busy, timeout=5_000)
    assert page.message.text().startswith("Comparison cancelled")
    assert window.statusBar().currentMessage() == "Comparison cancelled"
    assert not page.cancel()  # nothing left to cancel
