"""The registry connection dialog against the Artifactory emulator: "Test connection" says what
works and what does not, step by step (401, 403, TLS without its CA, refused, DNS), never shows
the token; Save writes the profile and, with the real keyring, the token only there."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QDialog, QLabel, QLineEdit, QWidget

from relman import secrets, settings
from relman.gui.connection_dialog import TLS_HINT, ConnectionDialog
from relman.gui.connection_widgets import EnvironmentsModel
from relman.gui.icons import IconSet
from relman.model import Environment, Profile
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN, ARTIFACTORY_USERS
from tests.keyring_support import needs_keyring

ENVS = (("dev", "repo:libs-dev"), ("qa", "repo:libs-qa"), ("prod", "label"))


def make_dialog(qtbot, runner, profile: Profile | None = None) -> ConnectionDialog:
    icons = IconSet(QWidget().palette())
    dialog = ConnectionDialog(runner, icons, profile)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fill(
    dialog: ConnectionDialog, url: str, token: str | None = ARTIFACTORY_TOKEN, **extra
) -> None:
    dialog.name_edit.setText(extra.get("name", "acme"))
    dialog.url_edit.setText(url)
    if token is not None:
        dialog.token_edit.setText(token)
    dialog.records_edit.setText(extra.get("records", "libs-dev"))
    if "ca" in extra:
        dialog.ca_edit.setText(str(extra["ca"]))
    for name, where in ENVS:
        dialog.environments.add(name, where)


def run_test(qtbot, dialog: ConnectionDialog) -> dict[str, tuple[str, str]]:
    assert dialog.test_button.isEnabled(), dialog.hint.text()
    dialog.test_button.click()
    assert dialog.test_task is not None
    assert not dialog.test_button.isEnabled()  # one test at a time
    qtbot.waitUntil(lambda: dialog.test_task is None, timeout=20_000)
    return dialog.results()


def every_text(root: QWidget) -> str:
    """Everything the dialog shows or tells a screen reader, except the token field's input."""
    parts = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        parts += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription()]
        if isinstance(widget, QLabel | QAbstractButton):
            parts.append(widget.text())
        if isinstance(widget, QLineEdit) and widget.echoMode() == QLineEdit.EchoMode.Normal:
            parts += [widget.text(), widget.placeholderText()]
    return "\n".join(parts)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the environments table --------------------------------------------------------------------


def test_environments_model_edits_in_order(qtmodeltester) -> None:
    model = EnvironmentsModel()
    model.set_environments(
        (
            Environment("dev", "repository", repo="libs-dev"),
            Environment("qa", "label", label="relman.environment"),
            Environment("prod", "label", label="deploy.env"),
        )
    )
    qtmodeltester.check(model)
    assert model.texts() == ["dev=repo:libs-dev", "qa=label", "prod=label:deploy.env"]
    assert model.move(2, -1) == 1 and model.texts()[1] == "prod=label:deploy.env"
    assert model.move(0, 1) == 1 and model.texts()[:2] == [
        "prod=label:deploy.env",
        "dev=repo:libs-dev",
    ]
    assert model.move(0, -1) == 0  # already first
    row = model.add("staging", "somewhere")
    assert "row 4" in model.problem(row) and "neither repo:REPOKEY nor label" in model.problem(row)
    assert model.setData(model.index(row, 1), " repo:libs-staging ")
    assert model.problem(row) == "" and model.texts()[row] == "staging=repo:libs-staging"
    model.remove(0)
    assert model.rowCount() == 3
    qtmodeltester.check(model)


def test_the_form_says_what_is_missing(qtbot, runner) -> None:
    dialog = make_dialog(qtbot, runner)
    assert not dialog.save_button.isEnabled() and "name" in dialog.hint.text()
    dialog.name_edit.setText("bad name!")
    dialog.url_edit.setText("https://rt.example.com/artifactory")
    assert "profile name 'bad name!' is not allowed" in dialog.hint.text()
    assert not dialog.test_button.isEnabled()
    dialog.name_edit.setText("acme")
    dialog.url_edit.setText("https://user:pw@rt.example.com/artifactory")
    assert "must not carry a user or password" in dialog.hint.text()
    dialog.url_edit.setText("https://rt.example.com/artifactory")
    dialog.environments.add("qa", "repo:")
    assert "row 1" in dialog.hint.text() and not dialog.save_button.isEnabled()
    dialog.environments.setData(dialog.environments.index(0, 1), "repo:libs-qa")
    assert dialog.save_button.isEnabled() and dialog.test_button.isEnabled()
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("local"))
    assert not dialog.token_edit.isEnabled() and not dialog.ca_button.isEnabled()


# -- test connection ---------------------------------------------------------------------------


def test_a_good_connection_passes_every_step(
    qtbot, runner, artifactory: ArtifactoryEmulator
) -> None:
    dialog = make_dialog(qtbot, runner)
    fill(dialog, artifactory.url)
    results = run_test(qtbot, dialog)
    assert list(results) == [
        "server",
        "version",
        "token",
        "repositories",
        "records",
        "environments",
        "permissions",
    ]
    assert all(word == "ok" for word, _ in results.values()), results
    assert "Artifactory 7.90.10" in results["version"][1]
    assert "dev → qa → prod" in results["environments"][1]
    assert dialog.summary.text().startswith("✓ Every step works")
    assert ARTIFACTORY_TOKEN not in every_text(dialog)
    assert dialog.check_rows[0].icon.accessibleName() == "Server (DNS, TLS, connection) ok"


def test_a_wrong_token_is_named_as_such(qtbot, runner, artifactory: ArtifactoryEmulator) -> None:
    dialog = make_dialog(qtbot, runner)
    fill(dialog, artifactory.url, token="wrong-token-123456")
    results = run_test(qtbot, dialog)
    assert results["server"][0] == "ok"
    word, why = results["token"]
    assert word == "FAILED" and "HTTP 401" in why and "refused the credentials" in why
    assert results["records"] == ("not tried", "not reached: an earlier step failed")
    assert dialog.summary.text().startswith("✗ 3 steps failed, the first: Version")
    assert "wrong-token-123456" not in every_text(dialog)


def test_an_expired_token_says_so(qtbot, runner, artifactory: ArtifactoryEmulator) -> None:
    artifactory.expire_token()
    dialog = make_dialog(qtbot, runner)
    fill(dialog, artifactory.url)
    word, why = run_test(qtbot, dialog)["token"]
    assert word == "FAILED" and "the token has expired" in why
    assert ARTIFACTORY_TOKEN not in every_text(dialog)


def test_a_read_only_token_cannot_promote(qtbot, runner, artifactory: ArtifactoryEmulator) -> None:
    reader = ARTIFACTORY_USERS["reader"]
    dialog = make_dialog(qtbot, runner)
    fill(dialog, artifactory.url, token=reader)
    results = run_test(qtbot, dialog)
    assert [w for w, _ in results.values()][:-1] == ["ok"] * 6
    word, why = results["permissions"]
    assert word == "FAILED" and "read-only (HTTP 403" in why and "deploy permission" in why
    dialog.read_only_box.setChecked(True)
    word, why = run_test(qtbot, dialog)["permissions"]
    assert word == "ok" and "auditor" in why
    assert reader not in every_text(dialog)


def test_tls_without_the_ca_bundle_says_to_choose_one(
    qtbot, runner, artifactory_tls: tuple[ArtifactoryEmulator, Path]
) -> None:
    emu, bundle = artifactory_tls
    dialog = make_dialog(qtbot, runner)
    fill(dialog, emu.url)
    results = run_test(qtbot, dialog)
    word, why = results["server"]
    assert word == "FAILED" and "TLS: the certificate of 127.0.0.1 is not trusted" in why
    assert TLS_HINT in why
    assert [w for w, _ in results.values()][1:] == ["not tried"] * 6
    dialog.ask_ca_bundle = lambda: str(bundle)
    dialog.ca_button.click()
    assert dialog.ca_edit.text() == str(bundle)
    results = run_test(qtbot, dialog)
    assert all(word == "ok" for word, _ in results.values()), results
    assert ARTIFACTORY_TOKEN not in every_text(dialog)


def test_a_refused_connection_and_an_unknown_host(qtbot, runner) -> None:
    dialog = make_dialog(qtbot, runner)
    fill(dialog, f"http://127.0.0.1:{closed_port()}/artifactory")
    word, why = run_test(qtbot, dialog)["server"]
    assert word == "FAILED" and "connection refused by 127.0.0.1" in why
    dialog.url_edit.setText("http://relman-test.invalid/artifactory")
    word, why = run_test(qtbot, dialog)["server"]
    assert word == "FAILED" and "cannot resolve host relman-test.invalid (DNS)" in why
    assert dialog.summary.text() == "✗ 1 step failed, the first: Server (DNS, TLS, connection)."


def test_the_stored_token_is_used_when_none_is_typed(
    qtbot, runner, artifactory: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.TOKEN_VARIABLE, ARTIFACTORY_TOKEN)
    saved = settings.make_profile(
        "acme", "artifactory", artifactory.url, environments=[f"{n}={w}" for n, w in ENVS]
    )
    dialog = make_dialog(qtbot, runner, saved)
    assert dialog.name_edit.isReadOnly() and not dialog.kind_combo.isEnabled()
    assert "leave empty to keep it" in dialog.token_edit.placeholderText()
    assert dialog.environments.texts() == [f"{n}={w}" for n, w in ENVS]
    assert all(word == "ok" for word, _ in run_test(qtbot, dialog).values())


# -- save --------------------------------------------------------------------------------------


def test_saving_a_profile_without_a_token(qtbot, runner, artifactory: ArtifactoryEmulator) -> None:
    dialog = make_dialog(qtbot, runner)
    fill(dialog, artifactory.url, token=None)
    dialog.user_edit.setText("release-bot")
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        dialog.save_button.click()
    profile = saved.args[0]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert settings.load_profiles() == {"acme": profile}
    assert profile.user == "release-bot" and profile.records_repo == "libs-dev"
    assert [e.name for e in profile.environments] == ["dev", "qa", "prod"]
    again = make_dialog(qtbot, runner)
    fill(again, artifactory.url, token=None)
    again.save_button.click()
    qtbot.waitUntil(lambda: again.save_task is None, timeout=10_000)
    assert "Not saved: profile 'acme' already exists" in again.hint.text()
    assert again.isVisible()


def with_keyring(test):
    for mark in needs_keyring:
        test = mark(test)
    return test


@with_keyring
def test_the_token_goes_to_the_keyring_only(
    qtbot, runner, artifactory: ArtifactoryEmulator
) -> None:
    dialog = make_dialog(qtbot, runner)
    fill(dialog, artifactory.url)
    with qtbot.waitSignal(dialog.saved, timeout=20_000):
        dialog.save_button.click()
    assert secrets.get_secret(settings.token_account("acme")) == ARTIFACTORY_TOKEN
    assert ARTIFACTORY_TOKEN not in settings.profiles_path().read_text()
    saved = settings.get_profile("acme")
    edit = make_dialog(qtbot, runner, saved)
    edit.url_edit.setText(artifactory.url + "/")
    assert all(word == "ok" for word, _ in run_test(qtbot, edit).values())
    with qtbot.waitSignal(edit.saved, timeout=20_000):
        edit.save_button.click()
    assert secrets.get_secret(settings.token_account("acme")) == ARTIFACTORY_TOKEN
    newer = make_dialog(qtbot, runner, settings.get_profile("acme"))
    newer.token_edit.setText(ARTIFACTORY_USERS["deployer"])
    with qtbot.waitSignal(newer.saved, timeout=20_000):
        newer.save_button.click()
    assert secrets.get_secret(settings.token_account("acme")) == ARTIFACTORY_USERS["deployer"]
    text = settings.profiles_path().read_text()
    assert ARTIFACTORY_USERS["deployer"] not in text and ARTIFACTORY_TOKEN not in text


def test_the_toolbar_adds_and_edits_profiles(
    qtbot, window, artifactory: ArtifactoryEmulator
) -> None:
    actions = window.profile_actions
    bar = window.findChild(QWidget, "profileBar")
    names = {b.accessibleName() for b in bar.findChildren(QAbstractButton)}
    assert names >= {"Add registry", "Edit"}
    assert not actions.edit_action.isEnabled()  # no saved profile yet
    actions.add_action.trigger()
    dialog = actions.dialog
    assert dialog is not None and dialog.isVisible() and dialog.editing is None
    fill(dialog, artifactory.url, token=None)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.save_button.click()
    qtbot.waitUntil(lambda: window.loader.profile is not None, timeout=10_000)
    assert window.loader.profile.name == "acme"
    assert window.profile_combo.currentData() == "acme"
    assert actions.edit_action.isEnabled()
    actions.edit_action.trigger()
    edit = actions.dialog
    assert edit is not dialog and edit.editing == window.loader.profile
    assert edit.url_edit.text() == artifactory.url
    edit.reject()
    qtbot.waitUntil(lambda: not window.loader.loading, timeout=20_000)
