"""Builds, Lineage and Environments on an Artifactory profile (the emulator), and the Builds
view's first screen from the build runs alone while the lineage is still being read."""

from __future__ import annotations

import pytest

from relman.gui.builds_model import COL_COMMIT, COL_FURTHEST, COL_IDENTITY
from tests.emulators.artifactory import ArtifactoryEmulator, Fault

from .artifactory_world import Served, make_served


@pytest.fixture
def served(artifactory: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch) -> Served:
    return make_served(artifactory, monkeypatch)


@pytest.fixture
def loaded(qtbot, window, served: Served):
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=20_000)
    return window


def test_builds_lineage_and_environments_read_artifactory(loaded, served: Served) -> None:
    window = loaded
    assert window.loader.profile.name == "acme-rt"
    assert "acme-rt (artifactory:" in window.profile_combo.currentText()
    page = window.builds_page
    window.show_page("Builds")
    assert page.stack.currentWidget() is page.table
    rows = {r.node.label: r for r in page.model.all_rows()}
    assert set(rows) == {"acme/1", "acme/2", "tool/4"}
    assert rows["acme/1"].commit == served.builds["acme/1"].vcs_revision
    assert rows["acme/1"].furthest == "prod"
    assert "rebuilt" in rows["acme/2"].kinds and "overwritten" in rows["tool/4"].kinds
    assert page.count.text() == "3 builds"

    board = window.environments_page.model
    assert board.envs == ["dev", "qa", "prod"]
    assert board.card("acme", "prod").node.label == "acme/1"
    assert board.card("acme", "dev").node.label == "acme/2"
    assert board.card("tool", "prod").node is None

    lineage = window.lineage_page
    window.show_page("Lineage")
    assert lineage.show_build("acme/1")
    assert ("artifact", "acme/1", "app.tgz") in lineage.scene.nodes
    assert ("environment", "acme/1", "prod") in lineage.scene.nodes


def test_the_builds_view_shows_the_runs_before_the_lineage(
    qtbot, window, served: Served, artifactory: ArtifactoryEmulator
) -> None:
    # Every build-info answer waits: the runs list (one request a build name) does not.
    artifactory.inject(Fault(path=r"^/api/build/[^/]+/[^/]+$", kind="slow", delay=0.4, times=6))
    window.show_page("Builds")
    page = window.builds_page
    window.loader.reload()
    qtbot.waitUntil(lambda: page.model.total() == 3, timeout=10_000)
    assert window.loader.state == "loading"
    assert page.stack.currentWidget() is page.table
    assert "reading commits, environments and findings" in page.count.text()
    rows = {r.node.label: r for r in page.model.all_rows()}
    assert set(rows) == {"acme/1", "acme/2", "tool/4"}
    assert rows["acme/2"].node.started is not None
    index = page.proxy.mapFromSource(page.model.index(page.model.row_of("acme/1"), COL_IDENTITY))
    assert index.data() == "loading…"
    assert page.proxy.index(index.row(), COL_COMMIT).data() == "…"
    with qtbot.waitSignal(page.build_selected) as selected:
        assert page.select_label("acme/1")
    assert selected.args == [None]  # nothing to promote or verify until it is known
    assert "arrive with the lineage" in page.details.toPlainText()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=20_000)
    assert page.count.text() == "3 builds"
    assert page._selected_label() == "acme/1"  # the selection survives the new rows
    row = page.proxy.mapFromSource(page.model.index(page.model.row_of("acme/1"), COL_FURTHEST))
    assert row.data() == "prod"


def test_a_local_profile_has_no_preview(qtbot, window, tmp_path) -> None:
    from relman import settings
    from relman.model import Profile
    from relman.registry.local import LocalRegistry

    LocalRegistry(tmp_path / "reg", create=True)
    settings.add_profile(Profile("here", "local", str(tmp_path / "reg")))
    window.loader.reload()
    assert window.loader.preview is None
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=10_000)
    assert window.loader.preview is None
