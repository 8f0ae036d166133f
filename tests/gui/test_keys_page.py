"""The Keys & Trust page: models, keyring status, every action, and where the work runs.

Tests marked with ``needs_keyring`` use the real Secret Service of scripts/test.sh's private
D-Bus session; the rest run anywhere (the trust store needs no keyring). Dialogs are never
shown: the page's ``ask_*`` / ``confirm`` methods are replaced per test.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit, QTableView

from relman import keystore, secrets
from relman.gui import keys_page as keys_page_module
from relman.gui.icons import IconSet
from relman.gui.keys_dialogs import KeyNameDialog, NewKeyDialog, PassphraseDialog
from relman.gui.keys_models import (
    COL_CREATED,
    COL_FINGERPRINT,
    COL_KEY_ID,
    COL_KIND,
    COL_NAME,
    KeysProxyModel,
    ObjectRole,
    SigningKeyModel,
    SortRole,
    TrustedKeyModel,
    relative_time,
    shorten_middle,
    suggested_name,
)
from relman.gui.keys_page import KeysPage
from relman.gui.main_window import PAGE_NAMES
from relman.verify import truststore
from relman.verify.signatures.base import TrustedKey
from tests.keyring_support import needs_keyring

FP = "SHA256:" + "2c4f91ab" + "0" * 48 + "0e7d3c55"


def fingerprint_of(name: str) -> str:
    return "SHA256:" + hashlib.sha256(name.encode()).hexdigest()


def with_keyring(test):
    for mark in needs_keyring:
        test = mark(test)
    return test


def public_pem(kind: str = "ed25519") -> bytes:
    key = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else ec.generate_private_key(ec.SECP256R1())
    )
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signing_record(name: str, kind: str = "ed25519", created: str = "2026-01-02T03:04:05Z"):
    return keystore.SigningKey(name, kind, fingerprint_of(name), "", created)


@pytest.fixture
def page(qtbot, runner):
    widget = KeysPage(runner, IconSet(QApplication.palette()))
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    settle(qtbot, widget)
    yield widget
    settle(qtbot, widget)


@pytest.fixture
def no_keyring():
    before = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(before)


def settle(qtbot, page: KeysPage) -> None:
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)


def controls(widget, *types):
    """Our controls of these types (not Qt's internal ones, such as a table's corner button)."""
    found = [child for kind in types for child in widget.findChildren(kind)]
    return [child for child in found if not child.objectName().startswith("qt_")]


def names(model) -> list[str]:
    return [record.name for record in model.records()]


# -- models ---------------------------------------------------------------------------------


def test_models_pass_the_model_tester(qtmodeltester) -> None:
    signing = SigningKeyModel()
    signing.set_records([signing_record("rm-anna"), signing_record("ci", "ecdsa-p256")])
    trusted = TrustedKeyModel()
    trusted.set_records(
        [
            TrustedKey("ci-release", "ecdsa-p256", FP, b"pem"),
            TrustedKey("upstream", "minisign", FP, b"pub", key_id="A1B2C3D4E5F60718"),
        ]
    )
    for model in (signing, trusted):
        qtmodeltester.check(model)
        proxy = KeysProxyModel()
        proxy.setSourceModel(model)
        proxy.sort(COL_NAME)
        qtmodeltester.check(proxy)
        model.set_records([])
        qtmodeltester.check(model)


def test_model_roles_and_columns() -> None:
    model = SigningKeyModel()
    record = signing_record("rm-anna")
    model.set_records([record])
    fingerprint = model.index(0, COL_FINGERPRINT)
    digest = record.fingerprint.removeprefix("SHA256:")
    assert fingerprint.data() == f"SHA256:{digest[:8]}…{digest[-8:]}"
    assert fingerprint.data(Qt.ItemDataRole.ToolTipRole) == record.fingerprint
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    assert fingerprint.data(Qt.ItemDataRole.FontRole).family() == fixed.family()
    assert model.index(0, COL_NAME).data(Qt.ItemDataRole.FontRole) is None
    assert model.index(0, COL_NAME).data(ObjectRole) is record
    assert model.index(0, COL_KIND).data() == "Ed25519"
    assert model.index(0, COL_CREATED).data(SortRole) == record.created
    assert (
        model.index(0, COL_CREATED).data(Qt.ItemDataRole.ToolTipRole) == "2026-01-02 03:04:05 UTC"
    )
    assert model.headerData(COL_CREATED, Qt.Orientation.Horizontal) == "Created"

    trusted = TrustedKeyModel()
    trusted.set_records([TrustedKey("ci", "ecdsa-p384", FP, b"")])
    assert trusted.index(0, COL_KIND).data() == "ECDSA P-384"
    assert trusted.index(0, COL_KEY_ID).data() == "—"
    assert trusted.headerData(COL_KEY_ID, Qt.Orientation.Horizontal) == "Key ID"
    assert trusted.row_of("ci") == 0 and trusted.row_of("nope") is None


def test_display_helpers() -> None:
    assert shorten_middle("SHA256:" + "a" * 64) == "SHA256:aaaaaaaa…aaaaaaaa"
    assert shorten_middle("SHA256:abc") == "SHA256:abc"
    assert shorten_middle("0123456789ABCDEF" * 2 + "01234567") == "01234567…01234567"
    now = datetime(2026, 1, 2, 6, 4, 5, tzinfo=UTC)
    assert relative_time("2026-01-02T03:04:05Z", now) == "3 h ago"
    assert relative_time("2026-01-02T06:04:00Z", now) == "just now"
    assert relative_time("2025-12-30T06:04:05Z", now) == "3 d ago"
    assert relative_time("2025-01-02T06:04:05Z", now) == "2025-01-02"
    assert relative_time("yesterday", now) == "yesterday"
    assert suggested_name("/tmp/rm-anna.key.pem") == "rm-anna"
    assert suggested_name("/tmp/my key!.pem") == "my-key"
    assert suggested_name("/tmp/.pem") == "imported-key"


# -- dialogs ----------------------------------------------------------------------------------


def test_dialogs_validate_and_name_every_control(qtbot) -> None:
    new = NewKeyDialog()
    qtbot.addWidget(new)
    new.name_edit.setText("bad name!")
    assert not new.ok_button.isEnabled() and "not allowed" in new.hint.text()
    new.name_edit.setText("rm-anna")
    new.kind_combo.setCurrentIndex(new.kind_combo.findData("ecdsa-p384"))
    assert new.ok_button.isEnabled() and new.values() == ("rm-anna", "ecdsa-p384")
    secret = PassphraseDialog("key.pem", "not a private key, or the passphrase is wrong")
    qtbot.addWidget(secret)
    assert secret.passphrase_edit.echoMode() == QLineEdit.EchoMode.Password
    assert not secret.ok_button.isEnabled()
    secret.passphrase_edit.setText("s3cret")
    assert secret.ok_button.isEnabled() and secret.passphrase() == b"s3cret"
    assert "passphrase is wrong" in secret.hint.text()
    named = KeyNameDialog("Trust a public key", "Trust", "ci-release")
    qtbot.addWidget(named)
    assert named.ok_button.isEnabled() and named.name() == "ci-release"
    for dialog in (new, secret, named):
        for control in controls(dialog, QAbstractButton, QLineEdit, QComboBox):
            assert control.accessibleName(), control


# -- the page without a keyring -----------------------------------------------------------------


def test_no_keyring_says_so_and_disables_signing_keys_but_not_trust(
    qtbot, page, no_keyring, tmp_path: Path
) -> None:
    page.refresh()
    settle(qtbot, page)
    assert page.status is not None and page.status.state == "missing"
    text = page.status_label.text()
    assert "no OS keyring" in text and "secrets are never written to a file" in text
    assert not page.status_icon.pixmap().isNull()  # an icon and words, not colour alone
    for action in (page.generate_action, page.import_action):
        button = page.signing.buttons[action]
        assert not action.isEnabled() and not button.isEnabled()
        assert "no OS keyring" in button.toolTip()
    assert page.signing.stack.currentWidget() is page.signing.empty
    assert "Generate one" in page.signing.empty.text()

    key_file = tmp_path / "ci-release.pem"
    key_file.write_bytes(public_pem("ecdsa-p256"))
    assert page.trusted.buttons[page.trust_action].isEnabled()
    page.ask_open_file = lambda *_: str(key_file)
    page.ask_key_name = lambda _title, _ok, default: default
    page.trusted.buttons[page.trust_action].click()
    settle(qtbot, page)
    assert names(page.trusted_model) == ["ci-release"]
    assert page.message_bar.kind == "ok"


def test_a_locked_keyring_says_how_to_unlock_it(qtbot, runner, monkeypatch) -> None:
    locked = secrets.KeyringStatus(
        "Secret Service", "locked", "locked: unlock it (log in again, or open Passwords and Keys)"
    )
    monkeypatch.setattr(secrets, "status", lambda: locked)
    page = KeysPage(runner, IconSet(QApplication.palette()))
    qtbot.addWidget(page)
    assert page.status_label.text() == "Keyring: checking…"
    assert not page.generate_action.isEnabled()  # not before the keyring's state is known
    page.show()
    settle(qtbot, page)
    assert page.status_label.text().startswith("Keyring: Secret Service — locked: unlock it")
    assert not page.generate_action.isEnabled() and not page.import_action.isEnabled()
    assert "is locked: unlock it" in page.signing.buttons[page.import_action].toolTip()
    assert page.trust_action.isEnabled()
    assert not page.export_action.isEnabled()  # nothing selected
    assert page.export_action.toolTip() == "Select a signing key first"


def test_trust_add_and_remove_with_confirmation(qtbot, page, tmp_path: Path) -> None:
    for name, kind in (("ci-release", "ecdsa-p256"), ("upstream", "ed25519")):
        path = tmp_path / f"{name}.pem"
        path.write_bytes(public_pem(kind))
        page.ask_open_file = lambda *_, p=path: str(p)
        page.ask_key_name = lambda *_, n=name: n
        page.trust_action.trigger()
        settle(qtbot, page)
    assert names(page.trusted_model) == ["ci-release", "upstream"]
    assert page.trusted.stack.currentWidget() is page.trusted.table
    assert page.selected_trusted_key().name == "upstream"  # what was just added is selected
    fingerprint = page.selected_trusted_key().fingerprint

    asked: list[tuple[str, ...]] = []
    page.confirm = lambda *args: asked.append(args) or False
    page.untrust_action.trigger()
    settle(qtbot, page)
    assert len(asked) == 1 and "upstream" in asked[0][1] and fingerprint in asked[0][3]
    assert [k.name for k in truststore.trusted_keys()] == ["ci-release", "upstream"]

    page.confirm = lambda *args: True
    page.trusted.buttons[page.untrust_action].click()
    settle(qtbot, page)
    assert names(page.trusted_model) == ["ci-release"]
    assert [k.name for k in truststore.trusted_keys()] == ["ci-release"]
    assert "no longer trusting upstream" in page.message_bar.message()


def test_errors_are_one_line_in_the_page(qtbot, page, tmp_path: Path, monkeypatch) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a key at all\n")
    page.ask_open_file = lambda *_: str(junk)
    page.ask_key_name = lambda *_: "junk"
    page.trust_action.trigger()
    settle(qtbot, page)
    assert page.message_bar.isVisible() and page.message_bar.kind == "error"
    message = page.message_bar.message()
    assert "junk.pem" in message and "\n" not in message and "Traceback" not in message
    assert page.trusted_model.rowCount() == 0

    page.ask_open_file = lambda *_: str(tmp_path / "missing.pem")
    page.trust_action.trigger()
    settle(qtbot, page)
    assert "missing.pem" in page.message_bar.message()

    def broken(_path, _name):
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(keys_page_module, "trust_key_file", broken)
    page.trust_action.trigger()
    settle(qtbot, page)
    assert page.message_bar.message() == "unexpected error: ValueError: boom second line"
    page.message_bar.close_button.click()
    assert not page.message_bar.isVisible()


def test_keyring_and_disk_work_never_runs_on_the_gui_thread(qtbot, runner, monkeypatch) -> None:
    calls: list[tuple[str, bool]] = []
    stored: dict[str, keystore.SigningKey] = {}

    def spy(name, result):
        def call(*args, **kwargs):
            calls.append((name, threading.current_thread() is threading.main_thread()))
            return result(*args, **kwargs)

        return call

    monkeypatch.setattr(
        secrets,
        "status",
        spy("status", lambda: secrets.KeyringStatus("Secret Service", "ok", "unlocked")),
    )
    monkeypatch.setattr(keystore, "list_keys", spy("list_keys", lambda: list(stored.values())))
    monkeypatch.setattr(truststore, "trusted_keys", spy("trusted_keys", lambda: []))

    def generate(name, kind):
        stored[name] = signing_record(name, kind)
        return stored[name]

    monkeypatch.setattr(keystore, "generate", spy("generate", generate))
    monkeypatch.setattr(keystore, "delete", spy("delete", lambda name: bool(stored.pop(name))))

    page = KeysPage(runner, IconSet(QApplication.palette()))
    qtbot.addWidget(page)
    assert calls == []  # nothing is read before the page is shown
    page.show()
    settle(qtbot, page)
    assert page.status_label.text() == "Keyring: Secret Service — unlocked"
    assert page.generate_action.isEnabled()
    page.ask_new_key = lambda: ("rm-anna", "ecdsa-p256")
    page.generate_action.trigger()
    settle(qtbot, page)
    assert names(page.signing_model) == ["rm-anna"]
    page.confirm = lambda *_: True
    page.delete_action.trigger()
    settle(qtbot, page)
    assert page.signing_model.rowCount() == 0
    called = {name for name, _ in calls}
    assert called == {"status", "list_keys", "trusted_keys", "generate", "delete"}
    assert not any(on_gui for _, on_gui in calls), calls


def test_f5_refreshes_only_the_page_shown_and_menus_name_their_actions(
    qtbot, window, monkeypatch
) -> None:
    names_in_sidebar = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert names_in_sidebar == list(PAGE_NAMES)
    assert PAGE_NAMES.index("Keys & Trust") == PAGE_NAMES.index("Audit") + 1
    assert PAGE_NAMES[-1] == "Settings"
    page = window.keys_page
    loads = []
    real = keys_page_module.load_snapshot
    monkeypatch.setattr(keys_page_module, "load_snapshot", lambda: loads.append(1) or real())
    window.activateWindow()
    qtbot.keyClick(window.navigation, Qt.Key.Key_F5)  # Verify is shown: not ours
    assert loads == []
    window.show_page("Keys & Trust")
    assert window.pages.currentWidget() is page
    settle(qtbot, page)
    assert len(loads) == 1  # loaded when first shown
    qtbot.keyClick(window.navigation, Qt.Key.Key_F5)
    settle(qtbot, page)
    assert len(loads) == 2

    for section in (page.signing, page.trusted):
        menu = section.context_menu()
        assert [a.text() for a in menu.actions()] == [a.text() for a in section.actions_]
        assert menu.accessibleName()
        menu.deleteLater()
    for control in controls(page, QAbstractButton, QTableView, QLineEdit):
        assert control.accessibleName(), control


# -- with the real Secret Service -----------------------------------------------------------


@with_keyring
def test_generate_export_and_delete(qtbot, page, tmp_path: Path) -> None:
    assert page.status_label.text() == "Keyring: Secret Service — unlocked"
    for name, kind in (("rm-anna", "ed25519"), ("rm-bob", "ecdsa-p256")):
        page.ask_new_key = lambda n=name, k=kind: (n, k)
        page.signing.buttons[page.generate_action].click()
        settle(qtbot, page)
    assert names(page.signing_model) == ["rm-anna", "rm-bob"]
    assert page.selected_signing_key().name == "rm-bob"
    assert page.message_bar.kind == "ok" and "generated rm-bob" in page.message_bar.message()

    page.select_key(page.signing, "rm-anna")
    record = page.selected_signing_key()
    target = tmp_path / "out" / "rm-anna.pem"
    page.ask_export_target = lambda _record: (str(target), "pem")
    page.export_action.trigger()
    settle(qtbot, page)
    assert target.read_text() == record.public_pem
    minisign = tmp_path / "rm-anna.pub"
    page.ask_export_target = lambda _record: (str(minisign), "minisign")
    page.export_action.trigger()
    settle(qtbot, page)
    assert minisign.read_text().startswith("untrusted comment: minisign public key")

    asked = []
    page.confirm = lambda *args: asked.append(args) or True
    page.delete_action.trigger()
    settle(qtbot, page)
    assert "rm-anna" in asked[0][1] and record.fingerprint in asked[0][3]
    assert names(page.signing_model) == ["rm-bob"]
    assert secrets.get_secret("signing-key:rm-anna") is None
    page.select_key(page.signing, "rm-bob")
    page.delete_action.trigger()
    settle(qtbot, page)
    assert page.signing.stack.currentWidget() is page.signing.empty


@with_keyring
def test_import_an_encrypted_key_asks_for_its_passphrase(qtbot, page, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "release.key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    answers = [b"wrong", b"s3cret"]
    problems: list[str] = []

    def ask_passphrase(origin, problem):
        assert "release.key.pem" in origin
        problems.append(problem)
        return answers.pop(0)

    page.ask_open_file = lambda *_: str(path)
    page.ask_key_name = lambda _title, _ok, default: default
    page.ask_passphrase = ask_passphrase
    page.import_action.trigger()
    settle(qtbot, page)
    assert problems[0] == "" and "passphrase is wrong" in problems[1]
    assert names(page.signing_model) == ["release"]
    record = page.selected_signing_key()
    assert record.kind == "ecdsa-p256"
    assert record.public_pem.encode() == key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keystore.delete("release")
