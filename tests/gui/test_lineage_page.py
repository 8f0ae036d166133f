"""The Lineage page on the demo registry: columns, promotion edges, the rebuilt commit,
findings (badges, list, selection), zoom/fit, export, artifact details, the empty state."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent

from relman.gui.lineage_page import FindingRole, FindingsModel
from relman.gui.lineage_scene import NodeItem

from .test_builds_page import demo_home, demo_source, wait_loaded  # noqa: F401


@pytest.fixture
def page(qtbot, demo_home, window):  # noqa: F811
    wait_loaded(qtbot, window)
    window.show_page("Lineage")
    return window.lineage_page


def promoted_build(lineage):
    return next(
        b
        for b in lineage.builds
        if b.furthest == "prod" and any(p.ok and p.promoter for p in b.promotions)
    )


def nodes_of(page, kind: str) -> list[NodeItem]:
    return [n for n in page.scene.nodes.values() if n.kind == kind]


def test_promoted_build_columns_and_labelled_promotions(page) -> None:
    build = promoted_build(page.loader.lineage)
    assert page.show_build(build.label)
    assert page.stack.currentIndex() == 1
    commit = nodes_of(page, "commit")
    assert len(commit) == 1 and build.commit[:12] in commit[0].words()
    assert ("build", build.label) in page.scene.nodes
    assert page.selected_node() is page.scene.nodes[("build", build.label)]
    arts = {n.key[2] for n in nodes_of(page, "artifact") if n.key[1] == build.label}
    assert arts == {a.name for a in build.artifacts}
    envs = [n.title for n in nodes_of(page, "environment") if n.key[1] == build.label]
    assert envs == list(build.environments) and envs[-1] == "prod"
    # environment columns in profile order, left to right
    xs = [page.scene.nodes[("environment", build.label, e)].pos().x() for e in envs]
    assert xs == sorted(xs)
    labels = [e.label for e in page.scene.edges if e.label is not None]
    promoters = {p.promoter for p in build.promotions if p.ok}
    assert labels and all(any(who in lab.text for who in promoters) for lab in labels)
    assert all(lab.badge.word.startswith("sealed") for lab in labels)
    assert page.findings.rowCount() == 0
    assert "none" in page.findings_label.text()


def test_rebuilt_commit_shows_two_stacked_builds_with_badge(page) -> None:
    assert page.show_commit("EB23FCA88E38")
    builds = nodes_of(page, "build")
    assert sorted(n.title for n in builds) == ["payments-api/10", "payments-api/9"]
    assert all("rebuilt" in [b.word for b in n.badges] for n in builds)
    assert builds[0].pos().x() == builds[1].pos().x()
    assert builds[0].pos().y() != builds[1].pos().y()
    kinds = {page.findings.index(r).data(FindingRole).kind for r in range(page.findings.rowCount())}
    assert "rebuilt" in kinds


def test_findings_badges_list_and_click_selects_node(qtbot, page) -> None:
    assert page.show_build("payments-api/12")
    art = next(n for n in nodes_of(page, "artifact") if "bad-signature" in n.words())
    assert "signature failed" in art.words()
    assert page.findings.rowCount() >= 1
    row = next(
        r
        for r in range(page.findings.rowCount())
        if page.findings.index(r).data(FindingRole).kind == "bad-signature"
    )
    index = page.findings.index(row)
    rect = page.findings_view.visualRect(index)
    qtbot.mouseClick(page.findings_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.selected_node() is art
    assert page.details.artifact is art.payload[1]
    # a build-level finding selects the build card
    assert page.show_build("payments-api/11")
    row = next(
        r
        for r in range(page.findings.rowCount())
        if page.findings.index(r).data(FindingRole).kind == "unverified-promotion"
    )
    page.select_finding(page.findings.index(row))
    assert page.selected_node() is page.scene.nodes[("build", "payments-api/11")]
    assert "unverified-promotion" in page.selected_node().words()


def test_zoom_and_fit_change_the_transform(qtbot, page) -> None:
    page.show_build(promoted_build(page.loader.lineage).label)
    view = page.view
    start = view.transform().m11()
    page.buttons["zoom_in"].click()
    assert view.transform().m11() == pytest.approx(start * 1.25)
    page.buttons["zoom_out"].click()
    page.buttons["zoom_out"].click()
    assert view.transform().m11() == pytest.approx(start / 1.25)
    event = QWheelEvent(
        QPointF(50, 50),
        QPointF(view.mapToGlobal(QPoint(50, 50))),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)
    assert view.transform().m11() == pytest.approx(start)
    view.zoom(3)
    page.buttons["fit"].click()
    fitted = view.transform().m11()
    assert fitted != pytest.approx(start * 3)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(page.scene.sceneRect().center())


def test_export_png_and_svg(page, tmp_path: Path, monkeypatch) -> None:
    page.show_commit("eb23fca88e38")
    monkeypatch.setattr(page, "ask_export_target", lambda: str(tmp_path / "graph.png"))
    written = page.export_dialog()
    assert written == tmp_path / "graph.png"
    image = QImage(str(written))
    assert not image.isNull() and image.width() > 500
    monkeypatch.setattr(page, "ask_export_target", lambda: str(tmp_path / "graph.svg"))
    svg = page.export_dialog()
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "payments-api/9" in text
    monkeypatch.setattr(page, "ask_export_target", lambda: "")
    assert page.export_dialog() is None


def test_artifact_selection_fills_the_details_dock(page, window) -> None:
    build = next(b for b in page.loader.lineage.builds if b.label == "payments-api/9")
    page.show_build(build.label)
    art = build.artifacts[0]
    page.select_node(page.scene.nodes[("artifact", build.label, art.name)])
    assert window.details_stack.currentWidget() is page.details
    text = page.details.toPlainText()
    assert art.sha256 in text
    assert str(art.locations[0]) in text and "build.number = 9" in text
    assert "cosign" in text and "verified" in text and "demo-ci" in text
    assert "Provenance" in text and "builder" in text


def test_builds_page_double_click_opens_the_lineage(qtbot, page, window) -> None:
    window.show_page("Builds")
    assert window.builds_page.select_label("web-frontend/7")
    index = window.builds_page.table.currentIndex()
    window.builds_page.table.doubleClicked.emit(index)
    assert window.current_page_name() == "Lineage"
    assert page.build_combo.currentData() == "web-frontend/7"
    assert page.selected_node().title == "web-frontend/7"


def test_empty_state_says_what_to_do(window) -> None:
    window.show_page("Lineage")
    page = window.lineage_page
    assert page.stack.currentIndex() == 0
    assert "relman demo" in page.message.text()
    assert page.scene.nodes == {}
    assert page.show_build("nothing/1") is False


def test_findings_model_passes_the_model_tester(qtmodeltester, page) -> None:
    page.show_commit("eb23fca88e38")
    model = FindingsModel(page.scene.icons)
    model.set_findings(page.loader.lineage.findings)
    qtmodeltester.check(model, force_py=True)
    model.set_findings(())
    qtmodeltester.check(model, force_py=True)


def test_ctrl_k_search_jumps_to_the_lineage_of_what_it_names(qtbot, demo_home, window) -> None:  # noqa: F811
    wait_loaded(qtbot, window)
    window.show_page("Builds")
    build = promoted_build(window.loader.lineage)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search_field.hasFocus()
    artifact = build.artifacts[0]
    for query in (build.label, build.commit[:9], artifact.sha256[:10], str(build.identity)):
        window.show_page("Builds")
        window.search_field.setText(query)
        qtbot.keyClick(window.search_field, Qt.Key.Key_Return)
        assert window.current_page_name() == "Lineage", query
        node = window.lineage_page.selected_node()
        assert node is not None and node.key[0] == "build"
        assert node.key[1] in {
            b.label for b in window.loader.lineage.builds if b.commit == build.commit
        }
        assert "matches" in window.statusBar().currentMessage()
    window.show_page("Builds")
    assert not window.search("no-such-thing")
    assert window.current_page_name() == "Builds"
    assert (
        window.statusBar().currentMessage()
        == "no build, commit or artifact matches 'no-such-thing'"
    )
