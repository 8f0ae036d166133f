"""The Approvals inbox, the Promote… / Roll back… / Approve… actions, and auditor mode.

A real local registry: acme/1 promoted dev -> qa (its record signed by rm-anna's key, kept in
memory: no keyring needed here), acme/2 newer and in qa too; rm-ben's approval of acme/1 into
prod is signed with the engine's own Engine.approve. The main window reads it through the
loader, as a user's would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QToolBar

from relman import settings
from relman.gui.approvals_page import ApprovalsModel, ApprovalsPage, find_waiting
from relman.gui.icons import IconSet
from relman.gui.promote_dialog import APPROVE, PROMOTE, PromoteDialog
from relman.gui.promote_model import next_environment, rollback_targets
from relman.model import CancelToken, Profile
from relman.release import approvals, records
from relman.release.policy import policy_path
from relman.release.promotion import Engine, Request
from relman.verify import truststore
from relman.verify.signatures.keys import spki_fingerprint
from tests.unit.release.lineage_support import ENVIRONMENTS, World, commit_of
from tests.unit.release.promotion_support import pem, promoter

BEN = ed25519.Ed25519PrivateKey.generate()


@pytest.fixture
def world(tmp_path: Path) -> World:
    world = World.create(tmp_path / "registry")
    settings.add_profile(
        Profile("acme", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    truststore.add("ci", pem(world.ci), origin="ci.pem")
    truststore.add("rm-anna", pem(world.promoter), origin="rm-anna.pem")
    truststore.add("rm-ben", pem(BEN), origin="rm-ben.pem")
    one = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(one, "dev", "qa")
    world.record(one, "qa", "dev")
    two = world.build("acme", 2, {"app.tgz": b"two"}, commit=commit_of("two"), hours=1)
    world.copy(two, "dev", "qa")
    world.record(two, "qa", "dev")
    world.build("acme", 3, {"app.tgz": b"three"}, commit=commit_of("three"), hours=2)
    return world


def approve(world: World, number: str, key=BEN, name: str = "rm-ben") -> str:
    engine = Engine(world.registry, settings.get_profile("acme"))
    plan = engine.plan(Request("acme", number, "prod"))
    engine.approve(plan, promoter(name, key))
    return plan.digest


def stranger(world: World, number: str, key: ed25519.Ed25519PrivateKey) -> None:
    """An approval of the plan by a key this machine does not trust, stored in the registry."""
    plan = Engine(world.registry, settings.get_profile("acme")).plan(
        Request("acme", number, "prod")
    )
    statement = approvals.statement(
        digest=plan.digest,
        build_name="acme",
        build_number=number,
        identity=plan.identity,
        artifacts=[(a.name, a.sha256 or "") for a in plan.artifacts],
        source=plan.source,
        target="prod",
        rollback=False,
        approver="mallory",
        fingerprint=spki_fingerprint(key.public_key()),
    )
    world.registry.put_approval("acme", number, "prod", records.sign(statement, key))


def loaded(qtbot, window, profile: str = "acme"):
    window.loader.reload()
    window.loader.select(profile)
    qtbot.waitUntil(
        lambda: window.loader.state == "loaded" and window.loader.profile.name == profile,
        timeout=20_000,
    )
    page = window.approvals_page
    qtbot.waitUntil(lambda: page.task is None, timeout=20_000)
    return window


def test_inbox_lists_what_waits_with_its_approvals(qtbot, window, world: World) -> None:
    digest = approve(world, "1")
    mallory = ed25519.Ed25519PrivateKey.generate()
    stranger(world, "2", mallory)  # not in the trust store: not counted
    loaded(qtbot, window)
    page = window.approvals_page
    rows = {r.node.label: r for r in page.model.rows()}
    assert set(rows) == {"acme/1", "acme/2"}  # acme/3 is in dev: qa needs no approval
    one, two = rows["acme/1"], rows["acme/2"]
    assert (one.source, one.target, one.count, one.approved) == ("qa", "prod", "1 of 1", True)
    assert one.digest == digest  # the very plan an approver signs
    assert one.approvers.startswith("rm-ben (SHA256:")
    assert (two.count, two.approved, two.approvers) == ("0 of 1", False, "nobody yet")
    assert "not counted" in two.tally.detail and "mallory" not in two.approvers
    assert page.model.rows()[0] is two  # waiting first
    status = page.model.index(0, 0)
    assert status.data() == "waiting for approval"  # a word beside the icon
    assert status.data(Qt.ItemDataRole.DecorationRole) is not None
    assert "1 waiting for approval, 1 approved" in page.summary.text()
    nav = window.navigation.item(window.pages.indexOf(page))
    assert nav.text() == "Approvals (1)"


def test_policy_asking_for_two_approvals(qtbot, window, world: World) -> None:
    policy_path().parent.mkdir(parents=True, exist_ok=True)
    policy_path().write_text("[profiles.acme.environments.prod]\napprovals = 2\n")
    approve(world, "1")
    loaded(qtbot, window)
    rows = {r.node.label: r for r in window.approvals_page.model.rows()}
    assert rows["acme/1"].count == "1 of 2" and not rows["acme/1"].approved


def test_approve_opens_the_dialog_in_approve_mode(qtbot, window, world: World) -> None:
    loaded(qtbot, window)
    window.show_page("Approvals")
    page = window.approvals_page
    assert not page.approve_action.isEnabled()  # nothing selected
    page.table.selectRow(0)
    assert page.approve_action.isEnabled() and not page.promote_action.isEnabled()
    assert page.promote_action.toolTip() == (
        "acme/2 has 0 of 1 required approvals: it needs approving first"
    )
    assert page.detail.text().startswith("plan ")
    page.approve_action.trigger()
    dialog = window.promote_actions.dialog
    assert isinstance(dialog, PromoteDialog) and dialog.mode == APPROVE
    assert dialog.request.target == "prod" and dialog.isVisible()
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    assert dialog.cancel_button.isDefault()
    qtbot.waitUntil(lambda: dialog.state == "ready", timeout=20_000)
    dialog.reject()
    qtbot.waitUntil(lambda: window.promote_actions.dialog is None)


def test_actions_follow_the_selected_build(qtbot, window, world: World) -> None:
    loaded(qtbot, window)
    actions = window.promote_actions
    window.show_page("Builds")
    assert window.builds_page.select_label("acme/3")
    assert actions.promote_action.text() == "Promote acme/3 to qa…"
    assert actions.promote_action.isEnabled() and not actions.rollback_action.isEnabled()
    assert window.builds_page.select_label("acme/1")
    assert actions.promote_action.text() == "Promote acme/1 to prod…"
    assert actions.approve_action.text() == "Approve acme/1 to prod…"
    assert actions.rollback_action.isEnabled()  # acme/2 is newer in qa
    assert actions.rollback_action.text() == "Roll back qa to acme/1…"
    assert set(window.builds_page.table.actions()) >= set(actions.actions)  # context menu
    actions.rollback_action.trigger()
    dialog = actions.dialog
    assert dialog.request == Request("acme", "1", "qa", rollback=True)
    assert dialog.windowTitle() == "Roll back qa to acme/1" and dialog.mode == PROMOTE
    qtbot.waitUntil(lambda: dialog.state not in ("loading", "checking"), timeout=20_000)
    assert dialog.route.text() == "qa: acme/2 → acme/1"
    dialog.reject()


def test_auditor_mode_hides_every_promote_approve_and_rollback(qtbot, window, world: World) -> None:
    settings.add_profile(
        Profile(
            "audit", "local", str(world.registry.root), environments=ENVIRONMENTS, read_only=True
        )
    )
    loaded(qtbot, window)
    assert not window.auditor_action.isVisible()
    assert window.promote_actions.promote_action.isVisible()
    loaded(qtbot, window, "audit")
    assert window.auditor_action.isVisible()
    assert window.auditor_badge.text() == "Auditor (read-only)"
    assert "auditor" in window.windowTitle()
    window.show_page("Builds")
    window.builds_page.select_label("acme/1")
    hidden = [*window.promote_actions.actions]
    hidden += [window.approvals_page.approve_action, window.approvals_page.promote_action]
    assert all(not a.isVisible() for a in hidden)
    bars = [bar for bar in window.findChildren(QToolBar) if bar.objectName().endswith("Actions")]
    assert len(bars) == 3  # Builds, Environments, Lineage
    for bar in bars:
        assert all(not bar.widgetForAction(a).isVisible() for a in window.promote_actions.actions)
    for view in (window.builds_page.table, window.environments_page.board):
        assert view.actions() and not any(a.isVisible() for a in view.actions())
    menu = window.menuBar().actions()
    release = next(a.menu() for a in menu if a.text() == "&Release")
    assert not any(a.isVisible() for a in release.actions())
    # Asked anyway (a stale button, a script): refused in words, no dialog.
    messages: list[str] = []
    window.promote_actions.refused.connect(messages.append)
    node = window.builds_page.details.node
    assert window.promote_actions.open_dialog(node, "prod") is None
    assert messages and "read-only (auditor mode)" in messages[0]
    assert "read-only" in window.statusBar().currentMessage()
    # The inbox still lists what waits: an auditor reads it.
    assert {r.node.label for r in window.approvals_page.model.rows()} == {"acme/1", "acme/2"}


def test_models_and_targets(qtbot, window, world: World) -> None:
    loaded(qtbot, window)
    lineage = window.loader.lineage
    nodes = {b.label: b for b in lineage.builds}
    envs = [e.name for e in lineage.environments]
    assert next_environment(envs, nodes["acme/3"]) == "qa"
    assert next_environment(envs, nodes["acme/1"]) == "prod"
    assert rollback_targets(lineage, nodes["acme/1"]) == ["qa"]
    assert rollback_targets(lineage, nodes["acme/2"]) == []
    model = ApprovalsModel(IconSet(QApplication.palette()))
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    profile = settings.get_profile("acme")
    rows = find_waiting(profile, lineage, lambda d, t: None, CancelToken())
    model.set_rows(rows)
    assert model.rowCount() == 2 and model.columnCount() == 6
    model.set_rows([])
    assert tester is not None


def test_page_without_a_profile_says_what_to_do(qtbot, runner) -> None:
    from relman.gui.lineage_loader import LineageLoader

    loader = LineageLoader(runner)
    page = ApprovalsPage(runner, loader, IconSet(QApplication.palette()))
    qtbot.addWidget(page)
    assert page.reload() is None
    assert page.stack.currentWidget() is page.message
    assert "relman demo" in page.message.text()


def test_unreadable_approvals_and_builds_without_a_next_step(qtbot, window, world: World) -> None:
    from relman.errors import InputError

    one = world.registry.build_record("acme", "1")
    world.label(one, "libs-qa", "prod")
    world.record(one, "prod", "qa")
    loaded(qtbot, window)
    actions = window.promote_actions
    window.show_page("Builds")
    assert window.builds_page.select_label("acme/1")  # in prod, the last environment
    assert not actions.promote_action.isEnabled() and not actions.approve_action.isEnabled()
    assert "there is no next environment" in actions.promote_action.toolTip()
    actions.set_build(None)
    assert actions.promote_action.toolTip() == "Promote: select a build first"

    def unreadable(_profile: Profile):
        raise InputError("the registry folder cannot be read")

    page = window.approvals_page
    page.opener = unreadable
    task = page.reload()
    qtbot.waitUntil(lambda: task.finished, timeout=10_000)
    assert page.stack.currentWidget() is page.message
    assert page.message.text() == "Cannot read the approvals: the registry folder cannot be read"


def test_an_approved_promotion_can_be_promoted_from_the_inbox(qtbot, window, world: World) -> None:
    digest = approve(world, "1")
    loaded(qtbot, window)
    window.show_page("Approvals")
    page = window.approvals_page
    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # approved first
    page.table.selectRow(0)
    row = page.selected()
    assert row.node.label == "acme/1" and row.approved
    model = page.model
    source = page.proxy.mapToSource(page.table.currentIndex()).row()
    ident = str(row.node.identity)
    assert model.index(source, 2).data(Qt.ItemDataRole.ToolTipRole) == ident
    assert (
        model.index(source, 4)
        .data(Qt.ItemDataRole.ToolTipRole)
        .startswith(f"plan {digest[:12]}…: 1 of 1 required approvals (rm-ben")
    )
    assert model.index(source, 1).data(Qt.ItemDataRole.AccessibleTextRole) == (
        "acme/1 to prod: approved: ready to promote, 1 of 1 approvals"
    )
    assert page.promote_action.isEnabled()
    assert page.promote_action.toolTip() == "Check and promote acme/1 into prod"
    page.promote_action.trigger()
    dialog = window.promote_actions.dialog
    assert dialog.mode == PROMOTE and dialog.request == Request("acme", "1", "prod")
    qtbot.waitUntil(lambda: dialog.state == "ready", timeout=20_000)
    assert dialog.plan.digest == digest
    assert dialog.checks.row("approvals").state == "passed"
    dialog.reject()
