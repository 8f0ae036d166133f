"""The Environments board on the demo registry: 3 applications x 4 environments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QAbstractItemModelTester

from relman.gui.environments_model import Card, CardRole, EnvironmentsModel

from .test_builds_page import make_demo


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def board(qtbot, relman_home, demo_source, window):
    shutil.copytree(demo_source, relman_home, dirs_exist_ok=True)
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=15_000)
    window.show_page("Environments")
    return window


def newest_in(lineage, app: str, env: str):
    nodes = [b for b in lineage.builds if b.name == app and env in b.environments]
    return max(nodes, key=lambda b: (b.started, int(b.number))) if nodes else None


def test_board_is_apps_by_environments_with_the_newest_build(board) -> None:
    page = board.environments_page
    model = page.model
    assert page.stack.currentWidget() is page.board
    assert model.apps == ["ledger-worker", "payments-api", "web-frontend"]
    assert model.envs == ["dev", "qa", "staging", "prod"]
    assert model.rowCount() == 3 and model.columnCount() == 4
    lineage = board.loader.lineage
    for app in model.apps:
        for env in model.envs:
            card = model.card(app, env)
            assert card.node is newest_in(lineage, app, env), (app, env)
    assert "3 applications × 4 environments" in page.summary.text()


def test_cards_say_promote_or_why_not_in_words(board) -> None:
    model = board.environments_page.model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            card: Card = model.index(row, column).data(CardRole)
            text = model.index(row, column).data()
            if card.node is None:
                assert "no build in" in text
                continue
            assert card.identity and card.age and card.commit
            assert ("signed" in text) and ("verified" in text)  # words, not colour alone
            if column == 3:
                assert "last environment" in card.verdict and not card.may_promote
            elif card.findings:
                assert "finding" in card.verdict and not card.may_promote
            elif card.may_promote:
                assert card.verdict == f"Promote to {model.envs[column + 1]}"
    dev = model.card("payments-api", "dev")
    assert dev.verdict == "Promote to qa" and dev.may_promote


def test_card_with_findings_says_why(board) -> None:
    lineage = board.loader.lineage
    lineage_with = {b.label for b in lineage.builds if lineage.findings_of(b)}
    model = board.environments_page.model
    cards = [model.card(a, e) for a in model.apps for e in model.envs[:-1]]
    flagged = [c for c in cards if c.node is not None and c.node.label in lineage_with]
    for card in flagged:
        assert "finding" in card.verdict
    # a card built directly over a finding of the demo: payments-api 11 in qa, no record
    from relman.gui.environments_model import make_card

    node = next(b for b in lineage.builds if b.label == "payments-api/11")
    card = make_card("payments-api", model.envs, 1, node, lineage, node.started)
    assert card.verdict == "1 finding: unverified-promotion"
    assert not card.may_promote


def test_selecting_a_card_shows_its_build(qtbot, board) -> None:
    page = board.environments_page
    page.board.setCurrentIndex(page.model.index(1, 0))
    details = board.builds_page.details
    assert details.node is page.model.card("payments-api", "dev").node
    assert board.details_stack.currentWidget() is details
    assert "Artifacts" in details.toPlainText()


def test_model_passes_the_model_tester(qtbot, board) -> None:
    model = EnvironmentsModel()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_lineage(board.loader.lineage)
    assert model.rowCount() == 3
    model.set_lineage(None)
    assert model.rowCount() == 0 and tester is not None


def test_empty_state_without_a_profile(window) -> None:
    window.show_page("Environments")
    page = window.environments_page
    assert page.stack.currentWidget() is page.message
    assert "relman demo" in page.message.text()


def test_two_headers_clicked_show_their_diff(qtbot, board) -> None:
    page = board.environments_page
    header = page.board.horizontalHeader()
    envs = page.model.envs
    assert len(envs) >= 3

    def click(column: int) -> None:
        rect = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect, 5))

    click(1)
    assert board.current_page_name() == "Environments"
    assert page.summary.text().startswith(f"Compare {envs[1]} with")
    click(1)  # the same header again: no comparison
    assert page.summary.text() == "Comparison cancelled"
    click(0)
    click(2)
    assert board.current_page_name() == "Diff"
    assert board.diff_page.environments() == (envs[0], envs[2])
