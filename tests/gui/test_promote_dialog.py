"""The guarded Promote dialog on a real local registry, with signing keys in the real keyring.

Tests marked ``with_keyring`` generate rm-anna (the promoter) and rm-ben (an approver) in the
real Secret Service of the private D-Bus session (tests/keyring_support) and trust them; the
others need no private key (the checks run, the promoter check fails for want of a key). The
dialog drives the engine on the task runner; a test only clicks and waits.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QDialog

from relman import keystore, settings
from relman.errors import UsageError
from relman.gui import promote_session as work
from relman.gui.icons import IconSet
from relman.gui.promote_dialog import APPROVE, BUSY, PromoteDialog
from relman.model import Profile
from relman.registry import open_registry
from relman.registry.local import LocalRegistry
from relman.release.audit import AuditLog
from relman.release.promotion import CHECKS, Engine, Promoter, Request
from relman.verify import truststore
from tests.keyring_support import needs_keyring
from tests.unit.release.lineage_support import ENVIRONMENTS, World
from tests.unit.release.promotion_support import PROD, Faulty, pem, snapshot


def with_keyring(test):
    for mark in needs_keyring:
        test = mark(test)
    return test


@pytest.fixture
def world(tmp_path: Path) -> World:
    world = World.create(tmp_path / "registry")
    settings.add_profile(
        Profile("acme", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    truststore.add("ci", pem(world.ci), origin="ci.pem")
    world.build("acme", 1, {"app.tgz": b"app", "lib.jar": b"lib"})
    return world


@pytest.fixture
def keys(world: World) -> World:
    """rm-anna and rm-ben: generated in the real keyring, their public halves trusted."""
    for name in ("rm-anna", "rm-ben"):
        key = keystore.generate(name)
        truststore.add(name, key.public_pem.encode(), origin=f"{name}.pem")
    return world


def make_dialog(qtbot, runner, request: Request, **kwargs: Any) -> PromoteDialog:
    profile = settings.get_profile(kwargs.pop("profile", "acme"))
    dialog = PromoteDialog(runner, profile, request, IconSet(QApplication.palette()), **kwargs)
    qtbot.addWidget(dialog)
    return dialog


def settled(qtbot, dialog: PromoteDialog, timeout: int = 30_000) -> PromoteDialog:
    qtbot.waitUntil(lambda: dialog.state not in BUSY, timeout=timeout)
    return dialog


def states(dialog: PromoteDialog) -> dict[str, str]:
    return {row.name: row.state for row in dialog.checks.rows()}


def promote_to_qa(world: World) -> None:
    """acme/1 into qa with rm-anna's key from the keyring (the engine, as the CLI does)."""
    engine = Engine(
        world.registry, settings.get_profile("acme"), promoter=Promoter.from_keystore("rm-anna")
    )
    engine.execute(engine.plan(Request("acme", "1", "qa")))


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# -- a clean promotion ---------------------------------------------------------------------


@with_keyring
def test_clean_promotion_through_the_dialog(qtbot, runner, keys: World) -> None:
    root = keys.registry.root
    before = snapshot(root)
    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa")))
    assert dialog.state == "ready"
    assert [r.name for r in dialog.checks.rows()] == list(CHECKS)
    assert set(states(dialog).values()) == {"passed"}, dialog.checks.rows()
    assert dialog.current_key().name == "rm-anna"  # the trusted key the policy allows
    assert dialog.route.text() == "dev → qa"
    identity = str(keys.registry.build_record("acme", "1").identity)
    assert dialog.identity.value == identity and identity in dialog.heading.text()
    assert [w.action for w in dialog.writes.writes()] == ["copy"] * 4 + [
        "build-status",
        "put-record",
    ]
    assert dialog.writes.writes()[0].target == "libs-qa/acme/1/app.tgz"
    art = dialog.artifacts.index(0, 1)
    assert art.data(Qt.ItemDataRole.ToolTipRole) == hashlib.sha256(b"app").hexdigest()
    assert not dialog.needs_identity  # qa is not the last environment
    assert dialog.action_button.isEnabled() and dialog.action_button.text() == "Promote"
    assert dialog.reason.text().startswith("Ready: every check passed")
    assert snapshot(root) == before  # planning and checking wrote nothing

    with qtbot.waitSignal(dialog.promoted, timeout=30_000) as promoted:
        click(qtbot, dialog.action_button)
    assert dialog.state == "done"
    outcome = promoted.args[0]
    [(target, data)] = keys.registry.promotion_records("acme", "1")
    assert target == "qa" and outcome.record == data
    assert dialog.record.digest.value == hashlib.sha256(data).hexdigest()
    assert dialog.record.fingerprint.value == keystore.get_key("rm-anna").fingerprint
    assert dialog.record.signer.text().startswith("rm-anna (ed25519)")
    text = dialog.record.json.toPlainText()
    statement, envelope = text.split("\n\n// the DSSE envelope, as stored:\n")
    assert json.loads(envelope) == json.loads(data)
    statement = json.loads(statement.split("\n", 1)[1])  # the payload, decoded
    assert statement["predicateType"] == "https://relman.dev/promotion/v1"
    assert statement["predicate"]["promoter"]["key"] == "rm-anna"
    assert "entry 1 (intent) and entry 2 (outcome)" in dialog.record.audit.text()
    assert "2 artifacts read back from qa" in dialog.record.readback.text()
    assert [e.event for e in AuditLog().entries()] == ["promotion-intent", "promotion-outcome"]
    assert {loc.path for loc in keys.registry.items("libs-qa")} == {
        "acme/1/app.tgz",
        "acme/1/app.tgz.sig",
        "acme/1/lib.jar",
        "acme/1/lib.jar.sig",
    }
    assert dialog.writes.made() == 6
    assert set(states(dialog).values()) == {"passed"}  # checked again, live, before writing
    assert not dialog.action_button.isVisible() and dialog.cancel_button.text() == "Close"
    click(qtbot, dialog.record.copy_json)
    assert QApplication.clipboard().text() == data.decode()


@with_keyring
def test_clean_promotion_on_the_artifactory_emulator(
    qtbot, runner, artifactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same dialog on a server profile (real HTTP on 127.0.0.1), token from RELMAN_TOKEN."""
    from relman.registry.artifactory import ArtifactoryRegistry
    from tests.emulators.fixtures import ARTIFACTORY_TOKEN

    monkeypatch.setenv("RELMAN_TOKEN", ARTIFACTORY_TOKEN)
    remote = ArtifactoryRegistry(artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev")
    server = World(remote)
    settings.add_profile(
        Profile(
            "rt", "artifactory", artifactory.url, environments=ENVIRONMENTS, records_repo="libs-dev"
        )
    )
    truststore.add("ci", pem(server.ci), origin="ci.pem")
    for name in ("rm-anna", "rm-ben"):
        key = keystore.generate(name)
        truststore.add(name, key.public_pem.encode(), origin=f"{name}.pem")
    server.build("acme", 1, {"app.tgz": b"app"})
    dialog = make_dialog(qtbot, runner, Request("acme", "1", "qa"), profile="rt")
    settled(qtbot, dialog)
    assert set(states(dialog).values()) == {"passed"}, dialog.checks.rows()
    assert dialog.registry_label.text().startswith("Artifactory (artifactory profile rt)")
    with qtbot.waitSignal(dialog.promoted, timeout=30_000):
        click(qtbot, dialog.action_button)
    assert {loc.path for loc in remote.items("libs-qa")} == {"acme/1/app.tgz", "acme/1/app.tgz.sig"}
    [(target, data)] = remote.promotion_records("acme", "1")
    assert target == "qa" and dialog.record.digest.value == hashlib.sha256(data).hexdigest()
    dialog.done(QDialog.DialogCode.Accepted)
    remote.close()


# -- refusals ------------------------------------------------------------------------------


@with_keyring
def test_tampered_artifact_keeps_promote_disabled(qtbot, runner, keys: World) -> None:
    root = keys.registry.root
    (root / "repos" / "libs-dev" / "acme" / "1" / "app.tgz").write_bytes(b"evil")
    before = snapshot(root)
    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa")))
    found = states(dialog)
    assert found.pop("bytes") == "failed" and found.pop("signatures") == "failed"
    assert set(found.values()) == {"passed"}
    detail = dialog.checks.row("bytes").detail
    assert detail.startswith("app.tgz: ") and "sha256" in detail
    assert dialog.checks.index(4, 0).data() == "FAILED"  # a word, not colour alone
    assert not dialog.action_button.isEnabled()
    assert "2 check(s) not passed: bytes, signatures" in dialog.reason.text()
    assert dialog.action_button.toolTip().startswith("Disabled: 2 check(s) not passed")
    assert dialog.promote() is None  # the entry point refuses too
    assert snapshot(root) == before
    assert not AuditLog().path.exists()


@with_keyring
def test_execute_checks_again_and_refuses_in_plain_words(qtbot, runner, keys: World) -> None:
    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa")))
    assert dialog.action_button.isEnabled()
    # Between the checks and the click, someone replaces the bytes in the registry.
    (keys.registry.root / "repos" / "libs-dev" / "acme" / "1" / "lib.jar").write_bytes(b"evil")
    before = snapshot(keys.registry.root)
    click(qtbot, dialog.action_button)
    settled(qtbot, dialog)
    assert dialog.state == "refused"
    assert dialog.problem.kind == "error"
    message = dialog.problem.message()
    assert message.startswith("promotion of acme/1 to qa refused: bytes, signatures failed")
    assert "(nothing was written)" in message and "What to do:" in message
    assert states(dialog)["bytes"] == "failed"
    assert not dialog.action_button.isEnabled()
    assert snapshot(keys.registry.root) == before
    assert not AuditLog().path.exists()


# -- the last environment ------------------------------------------------------------------


@with_keyring
def test_last_environment_needs_the_identity_typed(qtbot, runner, keys: World) -> None:
    promote_to_qa(keys)
    engine = Engine(keys.registry, settings.get_profile("acme"))
    engine.approve(engine.plan(Request("acme", "1", "prod")), Promoter.from_keystore("rm-ben"))
    dialog = make_dialog(qtbot, runner, Request("acme", "1", "prod"), key="rm-anna")
    settled(qtbot, dialog)
    assert set(states(dialog).values()) == {"passed"}, dialog.checks.rows()
    assert dialog.approvals_label.text().startswith("✓ 1 of 1 required approvals (rm-ben")
    assert dialog.needs_identity
    identity = dialog.plan.identity
    assert not dialog.action_button.isEnabled()
    assert "type the build identity exactly: prod is the last environment" in dialog.reason.text()
    qtbot.keyClicks(dialog.confirm_edit, identity[:-1])
    assert not dialog.action_button.isEnabled()
    qtbot.keyClicks(dialog.confirm_edit, identity[-1] + " ")
    assert not dialog.action_button.isEnabled()  # exactly, no extra space
    dialog.confirm_edit.setText(identity)
    assert dialog.action_button.isEnabled()
    with qtbot.waitSignal(dialog.promoted, timeout=30_000):
        click(qtbot, dialog.action_button)
    assert keys.registry.properties("libs-qa", "acme/1/app.tgz")[PROD] == ("prod",)


# -- approve mode --------------------------------------------------------------------------


@with_keyring
def test_approve_mode_signs_the_plan_digest(qtbot, runner, keys: World) -> None:
    promote_to_qa(keys)
    dialog = make_dialog(qtbot, runner, Request("acme", "1", "prod"), mode=APPROVE, key="rm-ben")
    settled(qtbot, dialog)
    assert dialog.windowTitle() == "Approve the promotion of acme/1 to prod"
    assert dialog.action_button.text() == "Approve"
    promoter = dialog.checks.row("promoter")
    assert promoter.state == "skipped" and "not needed to approve" in promoter.detail
    assert dialog.checks.row("approvals").state == "failed"  # what the approval is for
    assert dialog.approvals_label.text().startswith("✗ 0 of 1 required approvals")
    assert not dialog.needs_identity
    assert dialog.action_button.isEnabled()
    with qtbot.waitSignal(dialog.approved, timeout=30_000) as approved:
        click(qtbot, dialog.action_button)
    assert dialog.state == "approved"
    [(target, data)] = keys.registry.approvals("acme", "1")
    assert target == "prod"
    assert approved.args[0].digest == dialog.plan.digest
    assert dialog.record.digest.value == hashlib.sha256(data).hexdigest()
    assert dialog.record.title() == "Signed approval"
    assert AuditLog().entries()[-1].event == "approval"
    assert dialog.approvals_label.text().startswith("✓ your approval (rm-ben) is stored as ")

    # The promoter's dialog now counts it; rm-ben's own key would not.
    promote = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "prod")))
    assert promote.current_key().name == "rm-anna"
    assert promote.checks.row("approvals").state == "passed"
    index = promote.key_combo.findData("rm-ben")
    promote.key_combo.setCurrentIndex(index)  # the approver as promoter: checks run again
    settled(qtbot, promote)
    approvals = promote.checks.row("approvals")
    assert approvals.state == "failed" and "no self-approval" in approvals.detail


def test_approve_mode_with_tampered_bytes_keeps_approve_disabled(
    qtbot, runner, world: World
) -> None:
    (world.registry.root / "repos" / "libs-dev" / "acme" / "1" / "app.tgz").write_bytes(b"x")
    dialog = make_dialog(qtbot, runner, Request("acme", "1", "qa"), mode=APPROVE)
    settled(qtbot, dialog)
    assert not dialog.action_button.isEnabled()
    assert "no signing key chosen" in dialog.reason.text()  # no key on this machine
    assert dialog.key_combo.currentText().startswith("no signing key on this machine")
    assert dialog.blocking() == ["bytes", "signatures"]
    assert dialog.approve() is None


# -- an interrupted promotion --------------------------------------------------------------


def faulty(fail_at: int):
    return lambda profile: Faulty(LocalRegistry(Path(profile.url)), fail_at=fail_at)


@with_keyring
def test_interrupted_promotion_offers_undo_then_promotes(qtbot, runner, keys: World) -> None:
    dialog = settled(
        qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa"), opener=faulty(2))
    )
    click(qtbot, dialog.action_button)
    settled(qtbot, dialog)
    assert dialog.state == "interrupted"
    message = dialog.problem.message()
    assert message.startswith("promotion of acme/1 to qa stopped after 1 of 5 writes")
    assert "Resume finishes it" in message and "Undo reverts" in message
    qtbot.waitUntil(lambda: dialog.problem.entry is not None)
    assert dialog.problem.undo_button.isVisibleTo(dialog)
    assert dialog.writes.made() == 1
    assert {loc.path for loc in keys.registry.items("libs-qa")} == {"acme/1/app.tgz"}

    with qtbot.waitSignal(dialog.registry_changed, timeout=30_000):
        click(qtbot, dialog.problem.undo_button)
    assert dialog.problem.message().startswith("1 writes of audit entry 1 reverted")
    settled(qtbot, dialog)
    assert list(keys.registry.items("libs-qa")) == []
    assert dialog.state == "ready" and dialog.action_button.isEnabled()
    with qtbot.waitSignal(dialog.promoted, timeout=30_000):
        click(qtbot, dialog.action_button)
    events = [(e.event, e.body.get("result")) for e in AuditLog().entries()]
    assert events == [
        ("promotion-intent", None),
        ("promotion-outcome", "undone"),
        ("promotion-intent", None),
        ("promotion-outcome", "done"),
    ]


@with_keyring
def test_interrupted_promotion_resumed_from_a_new_dialog(qtbot, runner, keys: World) -> None:
    first = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa"), opener=faulty(3)))
    click(qtbot, first.action_button)
    settled(qtbot, first)
    assert first.state == "interrupted"
    first.done(QDialog.DialogCode.Rejected)

    # An approver sees it, in words, but finishing or reverting it is the promoter's to do.
    approver = make_dialog(qtbot, runner, Request("acme", "1", "qa"), mode=APPROVE, key="rm-ben")
    settled(qtbot, approver)
    assert approver.problem.kind == "warning" and approver.problem.entry is None
    assert "stopped midway (audit entry 1" in approver.problem.message()
    assert not approver.problem.resume_button.isVisibleTo(approver)
    approver.done(QDialog.DialogCode.Rejected)

    # The next dialog finds the intent in the audit log: its interrupted check fails.
    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa")))
    assert dialog.checks.row("interrupted").state == "failed"
    assert not dialog.action_button.isEnabled()
    assert dialog.problem.entry is not None and dialog.problem.resume_button.isVisibleTo(dialog)
    with qtbot.waitSignal(dialog.promoted, timeout=30_000):
        click(qtbot, dialog.problem.resume_button)
    assert dialog.state == "done"
    assert "resumed and finished" in dialog.record.headline.text()
    assert len(list(keys.registry.items("libs-qa"))) == 4
    [(_target, data)] = keys.registry.promotion_records("acme", "1")
    assert dialog.record.digest.value == hashlib.sha256(data).hexdigest()


@with_keyring
def test_rollback_through_the_dialog(qtbot, runner, keys: World) -> None:
    from tests.unit.release.lineage_support import commit_of

    keys.build("acme", 2, {"app.tgz": b"two"}, commit=commit_of("two"), hours=1)
    promote_to_qa(keys)
    engine = Engine(
        keys.registry, settings.get_profile("acme"), promoter=Promoter.from_keystore("rm-anna")
    )
    engine.execute(engine.plan(Request("acme", "2", "qa")))
    request = Request("acme", "1", "qa", rollback=True)
    dialog = settled(qtbot, make_dialog(qtbot, runner, request))
    assert dialog.action_button.text() == "Roll back" and dialog.state == "ready"
    assert dialog.route.text() == "qa: acme/2 → acme/1"
    assert set(states(dialog).values()) == {"passed"}, dialog.checks.rows()
    assert [w.action for w in dialog.writes.writes()] == [
        "delete",
        "delete",
        "build-status",
        "put-record",
    ]
    with qtbot.waitSignal(dialog.promoted, timeout=30_000):
        click(qtbot, dialog.action_button)
    assert {loc.path for loc in keys.registry.items("libs-qa")} == {
        "acme/1/app.tgz",
        "acme/1/app.tgz.sig",
        "acme/1/lib.jar",
        "acme/1/lib.jar.sig",
    }
    statement = json.loads(dialog.record.json.toPlainText().split("\n\n//")[0].split("\n", 1)[1])
    assert statement["predicate"]["rollback"] == {"replaces": ["acme/2"]}


@with_keyring
def test_resuming_another_builds_promotion_then_checking_again(qtbot, runner, keys: World) -> None:
    from tests.unit.release.lineage_support import commit_of

    keys.build("other", 1, {"o.bin": b"o"}, commit=commit_of("other"))
    broken = settled(
        qtbot, make_dialog(qtbot, runner, Request("other", "1", "qa"), opener=faulty(2))
    )
    click(qtbot, broken.action_button)
    settled(qtbot, broken)
    assert broken.state == "interrupted"
    broken.done(QDialog.DialogCode.Rejected)

    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa")))
    assert dialog.problem.entry is not None and dialog.problem.entry.body["build"] == "other/1"
    with qtbot.waitSignal(dialog.registry_changed, timeout=30_000):
        click(qtbot, dialog.problem.resume_button)
    assert dialog.problem.kind == "ok"
    assert dialog.problem.message().startswith("the promotion of other/1 to qa (audit entry 1)")
    settled(qtbot, dialog)
    assert dialog.state == "ready" and dialog.action_button.isEnabled()
    assert {loc.path for loc in keys.registry.items("libs-qa")} == {
        "other/1/o.bin",
        "other/1/o.bin.sig",
    }


@with_keyring
def test_the_key_the_policy_allows_is_chosen(qtbot, runner, keys: World) -> None:
    from relman.release.policy import policy_path

    keystore.generate("untrusted")  # in the keyring, not in the trust store
    policy_path().parent.mkdir(parents=True, exist_ok=True)
    policy_path().write_text('[profiles.acme.environments.qa]\npromoters = ["rm-ben"]\n')
    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa")))
    assert dialog.current_key().name == "rm-ben"
    assert [dialog.key_combo.itemData(i) for i in range(dialog.key_combo.count())] == [
        "rm-anna",
        "rm-ben",
        "untrusted",
    ]
    assert dialog.action_button.isEnabled()
    dialog.key_combo.setCurrentIndex(0)  # rm-anna: the policy does not let her promote here
    settled(qtbot, dialog)
    promoter = dialog.checks.row("promoter")
    assert promoter.state == "failed" and "lets rm-ben promote" in promoter.detail
    assert not dialog.action_button.isEnabled()
    dialog.key_combo.setCurrentIndex(2)
    settled(qtbot, dialog)
    assert "not in the trust store" in dialog.checks.row("promoter").detail


# -- what the dialog says without keys, and while it works -----------------------------------


class Slow:
    """The local registry with slow downloads that remember the thread they ran on."""

    def __init__(self, inner: LocalRegistry, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.threads: list[threading.Thread] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def download(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.current_thread())
        deadline = time.monotonic() + self.delay
        cancel = kwargs.get("cancel")
        while time.monotonic() < deadline:
            if cancel is not None:
                cancel.raise_if_cancelled()
            time.sleep(0.01)
        return self.inner.download(*args, **kwargs)


def test_event_loop_keeps_turning_while_checks_run(qtbot, runner, world: World) -> None:
    opened: list[Slow] = []

    def opener(profile: Profile) -> Slow:
        opened.append(Slow(LocalRegistry(Path(profile.url)), delay=0.4))
        return opened[-1]

    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    seen: set[tuple[str, str]] = set()
    start = time.monotonic()
    dialog = make_dialog(qtbot, runner, Request("acme", "1", "qa"), opener=opener)
    dialog.checks.dataChanged.connect(
        lambda *_: seen.update((r.name, r.state) for r in dialog.checks.rows())
    )
    settled(qtbot, dialog)
    elapsed = time.monotonic() - start
    timer.stop()
    assert elapsed >= 0.8  # two artifacts, 0.4 s each
    assert len(ticks) >= elapsed * 100 * 0.5, (len(ticks), elapsed)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.25, max(gaps)
    assert ("bytes", "running") in seen and ("bytes", "passed") in seen
    assert opened[0].threads and threading.main_thread() not in opened[0].threads
    # No key on this machine: the promoter check says so, and Promote is disabled.
    promoter = dialog.checks.row("promoter")
    assert promoter.state == "failed" and "no promoter key" in promoter.detail
    assert not dialog.action_button.isEnabled()


def test_cancel_while_checking_closes_and_stops_the_work(qtbot, runner, world: World) -> None:
    dialog = make_dialog(
        qtbot,
        runner,
        Request("acme", "1", "qa"),
        opener=lambda p: Slow(LocalRegistry(Path(p.url)), delay=5),
    )
    qtbot.waitUntil(lambda: dialog.checks.row("bytes").state == "running", timeout=20_000)
    task = dialog.task
    with qtbot.waitSignal(dialog.rejected):
        click(qtbot, dialog.cancel_button)
    qtbot.waitUntil(lambda: task.finished, timeout=5_000)
    assert task.cancelled


def test_a_build_that_is_not_there_is_said_in_plain_words(qtbot, runner, world: World) -> None:
    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "9", "qa")))
    assert dialog.state == "failed"
    assert dialog.problem.message().startswith("no build acme/9 in ")
    assert "What to do" in dialog.problem.message()
    assert {r.state for r in dialog.checks.rows()} == {"skipped"}
    assert dialog.check_button.isEnabled() and not dialog.action_button.isEnabled()


@with_keyring
def test_stop_while_promoting_stops_before_any_write(qtbot, runner, keys: World) -> None:
    dialog = make_dialog(
        qtbot,
        runner,
        Request("acme", "1", "qa"),
        opener=lambda p: Slow(LocalRegistry(Path(p.url)), delay=0.3),
    )
    settled(qtbot, dialog)
    before = snapshot(keys.registry.root)
    click(qtbot, dialog.action_button)
    qtbot.waitUntil(lambda: dialog.checks.row("bytes").state == "running", timeout=20_000)
    assert "promoting" in dialog.reason.text()
    click(qtbot, dialog.cancel_button)  # stops the re-checks; the dialog stays to say so
    settled(qtbot, dialog)
    assert dialog.state == "stopped" and dialog.result() == 0 and not dialog.writing
    assert dialog.problem.message().startswith("you stopped the promotion while it was checking")
    assert dialog.checks.row("approvals").state == "skipped"
    assert snapshot(keys.registry.root) == before
    assert not AuditLog().path.exists()
    click(qtbot, dialog.check_button)
    settled(qtbot, dialog)
    assert dialog.state == "ready" and dialog.action_button.isEnabled()


def test_an_unexpected_error_is_said_and_logged(qtbot, runner, world: World, caplog) -> None:
    def broken(_profile: Profile) -> LocalRegistry:
        raise RuntimeError("the disk went away")

    dialog = settled(qtbot, make_dialog(qtbot, runner, Request("acme", "1", "qa"), opener=broken))
    assert dialog.state == "failed" and dialog.problem.kind == "error"
    assert dialog.problem.message().startswith("RuntimeError: the disk went away (the log file")
    assert "plan failed" in caplog.text
    assert dialog.check_button.isEnabled()


# -- auditor mode --------------------------------------------------------------------------


def test_read_only_profile_refuses_every_entry_point(qtbot, runner, world: World) -> None:
    profile = Profile(
        "audit", "local", str(world.registry.root), environments=ENVIRONMENTS, read_only=True
    )
    settings.add_profile(profile)
    for mode in ("promote", APPROVE):
        with pytest.raises(UsageError, match=r"profile audit is read-only \(auditor mode\)"):
            make_dialog(qtbot, runner, Request("acme", "1", "qa"), profile="audit", mode=mode)
    session = work.open_session(profile, open_registry)
    plan = work.plan(session, Request("acme", "1", "qa"), lambda d, t: None, None)
    calls = [
        lambda: work.promote(
            session, None, plan, on_start=print, on_check=print, on_write=print,
            progress=lambda d, t: None, cancel=None,
        ),
        lambda: work.approve(session, None, plan),
        lambda: work.resume(session, None, None, print),
        lambda: work.undo(session, None, None, print),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(UsageError, match="read-only"):
            call()


# -- the models ----------------------------------------------------------------------------


def test_models_pass_the_model_tester(qtbot, world: World) -> None:
    from relman.gui.promote_model import ArtifactsModel, ChecksModel, WritesModel
    from relman.release.promotion import Check

    icons = IconSet(QApplication.palette())
    fatal = QAbstractItemModelTester.FailureReportingMode.Fatal
    checks = ChecksModel(icons)
    testers = [QAbstractItemModelTester(checks, fatal)]
    checks.start("identity")
    checks.progress(41)
    assert checks.row("identity").word == "running (41%)"
    checks.finish(Check("identity", True, "traceable"))
    checks.finish(Check("something-new", False, "a check this dialog does not know"))
    checks.skip_open("stopped")
    assert checks.counts() == {"pending": 0, "running": 0, "passed": 1, "failed": 1,
                               "skipped": len(CHECKS) - 1}  # fmt: skip
    assert (
        checks.index(0, 0)
        .data(Qt.ItemDataRole.AccessibleTextRole)
        .startswith("no interrupted promotion — skipped: stopped")
    )
    engine = Engine(world.registry, settings.get_profile("acme"))
    plan = engine.plan(Request("acme", "1", "qa"))
    writes = WritesModel(icons)
    artifacts = ArtifactsModel()
    testers += [QAbstractItemModelTester(m, fatal) for m in (writes, artifacts)]
    writes.set_writes(plan.writes)
    artifacts.set_artifacts(plan.artifacts)
    writes.mark_made(plan.writes[1])
    assert writes.made() == 1 and writes.index(1, 0).data() == "copy (done)"
    assert artifacts.rowCount() == 2 and artifacts.index(0, 2).data() == "libs-dev/acme/1/app.tgz"
    checks.reset()
    writes.set_writes(())
    assert checks.counts()["pending"] == len(CHECKS) and writes.rowCount() == 0
    assert len(testers) == 3


def test_enter_cancels_and_never_promotes(qtbot, runner, world: World) -> None:
    dialog = make_dialog(qtbot, runner, Request("acme", "1", "qa"))
    dialog.show()
    qtbot.waitExposed(dialog)
    settled(qtbot, dialog)
    assert dialog.cancel_button.isDefault() and not dialog.action_button.isDefault()
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert list(world.registry.items("libs-qa")) == []


def test_readable_record_of_odd_bytes() -> None:
    from relman.gui.promote_widgets import readable_record

    assert readable_record(b"not json") == "not json"
    envelope = json.dumps({"payload": "%%%", "payloadType": "x", "signatures": []}).encode()
    text = readable_record(envelope)
    assert text.startswith("// the DSSE envelope, as stored:\n{") and "decoded" not in text
