"""The Verify page end to end: drops, folders, verdicts, signatures, provenance, the Sigstore
policy, details, cancel, 10,000 files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QGroupBox, QLabel

from relman import paths
from relman.gui.verify_model import COL_CHECKS, COL_RESULT, ChecksRole
from relman.sign import cosign_signature
from relman.verify import truststore

from .conftest import all_finished, final_statuses

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SLSA = SHARED / "vectors" / "slsa"
RULES_LINT = SLSA / "rules_lint-v1.3.1.tar.gz"
RULES_LINT_IDENTITY = "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@refs/tags/v7.1.0"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def drag_enter(x: int, y: int, mime: QMimeData) -> QDragEnterEvent:
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:  # PySide6 >= 6.12 takes a QPointF (the QPoint overload is deprecated there)
        return QDragEnterEvent(QPointF(x, y), *args)
    except TypeError:
        return QDragEnterEvent(QPoint(x, y), *args)


EXPECTED = {
    "good.tar.gz": "verified",
    "tampered.bin": "failed",
    "notes.txt": "not-verified",
    "loop": "error",
}


def test_empty_state_is_a_drop_zone(window) -> None:
    page = window.verify_page
    assert page.stack.currentWidget() is page.drop_zone
    texts = " ".join(label.text() for label in page.drop_zone.findChildren(type(page.summary)))
    assert "Drop downloaded files or folders here" in texts


def test_folder_gives_every_verdict_with_reasons(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    page.add_paths([sample_tree])
    qtbot.waitUntil(lambda: all_finished(page), timeout=15_000)
    assert final_statuses(page) == EXPECTED
    assert page.stack.currentIndex() == 1
    rows = {row.path.name: row for row in page.model.rows()}
    assert "1 check passed" in rows["good.tar.gz"].reason
    assert "mismatch" in rows["tampered.bin"].reason
    assert "no digest to compare against" in rows["notes.txt"].reason
    assert "symbolic link loop" in rows["loop"].reason
    good = hashlib.sha256((sample_tree / "good.tar.gz").read_bytes()).hexdigest()
    assert rows["good.tar.gz"].sha256 == good
    # the words shown, not only the status codes
    words = sorted(page.model.index(r, COL_RESULT).data() for r in range(page.model.rowCount()))
    assert words == ["FAILED", "error", "not verified", "verified"]
    assert "1 verified" in page.summary.text() and "1 FAILED" in page.summary.text()
    assert page.progress.value() == 100
    assert not page.cancel_button.isEnabled()


def test_real_drop_event_with_urls(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_tree / "good.tar.gz"))])
    enter = drag_enter(10, 10, mime)
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    assert page.drop_zone.property("dragActive") is True
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(page, drop)
    assert drop.isAccepted()
    assert page.drop_zone.property("dragActive") is False
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    assert final_statuses(page) == {"good.tar.gz": "verified"}


def test_drop_without_local_files_is_refused(qtbot, window) -> None:
    mime = QMimeData()
    mime.setText("not a file")
    enter = drag_enter(5, 5, mime)
    QApplication.sendEvent(window.verify_page, enter)
    assert not enter.isAccepted()
    assert window.verify_page.model.rowCount() == 0


def test_selecting_a_row_shows_checks_and_digests(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    page.add_paths([sample_tree / "tampered.bin"])
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    page.select_source_row(0)
    details = window.details
    assert details.row is page.model.row(0)
    labels = details.widget().findChildren(type(page.summary))
    texts = " ".join(label.text() for label in labels).replace("\u200b", "")
    assert "FAILED" in texts and "checksum" in texts and "tampered.bin.sha256" in texts
    copies = details.copy_buttons()
    assert copies and all(b.accessibleName().startswith("Copy ") for b in copies)
    copies[0].click()
    assert QGuiApplication.clipboard().text() == page.model.row(0).sha256
    page.clear()
    assert details.row is None
    assert page.stack.currentWidget() is page.drop_zone


def test_search_filters_the_table(qtbot, window, sample_tree: Path) -> None:
    page = window.verify_page
    page.add_paths([sample_tree])
    qtbot.waitUntil(lambda: all_finished(page), timeout=15_000)
    qtbot.keyClicks(page.search, "tampered")
    assert page.proxy.rowCount() == 1
    page.search.clear()
    assert page.proxy.rowCount() == 4


def test_missing_path_is_an_error_row(qtbot, window, tmp_path: Path) -> None:
    page = window.verify_page
    page.add_paths([tmp_path / "does-not-exist.iso"])
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    (row,) = page.model.rows()
    assert row.status == "error" and "no such file" in row.reason


@pytest.fixture
def large_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.iso"
    with path.open("wb") as handle:  # sparse: costs no disk, still takes seconds to hash
        handle.truncate(3 * 1024**3)
    return path


def test_cancel_while_hashing(qtbot, window, runner, large_file: Path) -> None:
    page = window.verify_page
    page.add_paths([large_file])
    qtbot.waitUntil(
        lambda: page.model.rowCount() == 1 and page.model.row(0).status == "hashing", timeout=10_000
    )
    assert page.cancel_button.isEnabled()
    assert window.task_status.cancel_button.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc cancels the running verification
    qtbot.waitUntil(lambda: not page.controller.running, timeout=10_000)
    row = page.model.row(0)
    assert row.status == "cancelled"
    assert page.model.index(0, COL_RESULT).data() == "cancelled"
    assert runner.parallel_pool.waitForDone(10_000)
    assert runner.running == 0
    assert window.task_status.label.text() == "No tasks running"


def test_new_drop_after_cancel_starts_a_new_session(qtbot, window, large_file, sample_tree) -> None:
    page = window.verify_page
    page.add_paths([large_file])
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert page.cancel()
    page.add_paths([sample_tree / "good.tar.gz"])
    qtbot.waitUntil(lambda: all_finished(page), timeout=15_000)
    assert [row.status for row in page.model.rows()] == ["cancelled", "verified"]
    assert not page.cancel()


def test_ten_thousand_files_all_verified(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    lines = []
    for i in range(10_000):
        data = f"file {i}\n".encode()
        name = f"f{i:05d}.txt"
        (folder / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines))
    page = window.verify_page
    inserts: list[int] = []
    page.model.rowsInserted.connect(lambda parent, first, last: inserts.append(last - first + 1))
    page.add_paths([folder])
    qtbot.waitUntil(lambda: all_finished(page), timeout=60_000)
    counts = page.model.counts()
    assert page.model.rowCount() == 10_000
    assert counts["verified"] == 10_000, counts
    assert len(inserts) < 1000  # appended in batches, not row by row
    assert "10,000 verified" in page.summary.text()


def test_unreadable_file_is_an_error(qtbot, window, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")
    path.chmod(0)
    page = window.verify_page
    page.add_paths([path])
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    assert page.model.row(0).status == "error"


# -- signatures, provenance and the Sigstore policy ---------------------------------------------


def texts_of(panel) -> str:
    labels = panel.widget().findChildren(QLabel)
    return " ".join(label.text() for label in labels).replace("\u200b", "")


@pytest.fixture
def trusted_key() -> ec.EllipticCurvePrivateKey:
    """A P-256 key whose public half is in the trust store as ``ci-release``."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    truststore.add("ci-release", pem, origin="test")
    return key


@pytest.fixture
def signed_tree(tmp_path: Path, trusted_key: ec.EllipticCurvePrivateKey) -> Path:
    """cosign signatures only (no checksums): good, tampered after signing, untrusted key."""
    root = tmp_path / "signed"
    root.mkdir()
    for name, key, tamper in (
        ("app.tar.gz", trusted_key, False),
        ("tampered.tar.gz", trusted_key, True),
        ("untrusted.tar.gz", ec.generate_private_key(ec.SECP256R1()), False),
    ):
        path = root / name
        path.write_bytes(f"release {name}\n".encode() * 200)
        (root / f"{name}.sig").write_bytes(cosign_signature(path, key))
        if tamper:
            path.write_bytes(f"release {name}!\n".encode() * 200)
    return root


def test_signed_folder_shows_signers_and_reasons(
    qtbot, window, signed_tree: Path, trusted_key
) -> None:
    page = window.verify_page
    page.add_paths([signed_tree])
    qtbot.waitUntil(lambda: all_finished(page), timeout=15_000)
    assert final_statuses(page) == {
        "app.tar.gz": "verified",
        "tampered.tar.gz": "failed",
        "untrusted.tar.gz": "failed",
    }
    rows = {row.path.name: (n, row) for n, row in enumerate(page.model.rows())}
    fingerprint = truststore.trusted_keys()[0].fingerprint

    # verified by a signature alone: the word, and who signed it, in the table
    n, good = rows["app.tar.gz"]
    assert page.model.index(n, COL_RESULT).data() == "verified"
    assert good.reason.startswith("signed by ci-release (SHA256:")
    checks = page.model.index(n, COL_CHECKS)
    assert checks.data() == "signature ok"
    assert [(k.kind, k.ok) for k in checks.data(ChecksRole)] == [("signature", True)]
    assert "signature (cosign) ok: app.tar.gz.sig" in checks.data(Qt.ItemDataRole.ToolTipRole)

    page.select_source_row(n)
    details = window.details
    assert details.row is good
    text = texts_of(details)
    assert "signature ok" in text and "cosign" in text and "app.tar.gz.sig" in text
    assert "ci-release" in text
    values = details.values()
    assert values["Check 1 fingerprint"] == fingerprint
    copy = next(b for b in details.copy_buttons() if b.accessibleName() == "Copy fingerprint")
    copy.click()
    assert QGuiApplication.clipboard().text() == fingerprint

    # tampered and untrusted: FAILED with the plain reason, in the table and the details
    for name in ("tampered.tar.gz", "untrusted.tar.gz"):
        n, row = rows[name]
        assert page.model.index(n, COL_CHECKS).data() == "signature FAILED"
        assert "signature does not match" in row.reason
        page.select_source_row(n)
        text = texts_of(window.details)
        assert "signature FAILED" in text and "Reason:" in text
        assert "wrong key or the file was modified" in text


def test_group_boxes_per_kind(qtbot, window, tmp_path: Path, trusted_key) -> None:
    """A file with a checksum and a signature lists them under their own headings."""
    path = tmp_path / "both.bin"
    path.write_bytes(b"both kinds of evidence\n" * 50)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "both.bin.sha256").write_text(f"{digest}  both.bin\n")
    (tmp_path / "both.bin.sig").write_bytes(cosign_signature(path, trusted_key))
    page = window.verify_page
    page.add_paths([path])
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
    assert page.model.index(0, COL_CHECKS).data() == "checksum ok, signature ok"
    page.select_source_row(0)
    titles = [box.title() for box in window.details.widget().findChildren(QGroupBox)]
    assert titles == ["Checksums (1)", "Signatures (1)", "Digests"]


@pytest.mark.skipif(not RULES_LINT.is_file(), reason=f"shared SLSA vectors not found at {SLSA}")
def test_provenance_facts_with_the_sigstore_policy(qtbot, window) -> None:
    page = window.verify_page
    assert page.identity_edit.accessibleName() == "Signer identity"
    assert page.issuer_edit.accessibleName() == "OIDC issuer"
    assert page.identity_edit.placeholderText() and page.issuer_edit.placeholderText()
    qtbot.keyClicks(page.identity_edit, RULES_LINT_IDENTITY)
    qtbot.keyClicks(page.issuer_edit, GITHUB_ISSUER)
    page.add_paths([RULES_LINT])
    qtbot.waitUntil(lambda: all_finished(page), timeout=30_000)
    row = page.model.row(0)
    assert row.status == "verified", row.reason
    assert page.model.index(0, COL_CHECKS).data() == "provenance ok"
    page.select_source_row(0)
    details = window.details
    values = details.values()
    assert values["Check 1 commit"] == "8f70009fde0c94ade6ce2a054b94718c819126ec"
    assert values["Check 1 identity"] == RULES_LINT_IDENTITY
    text = texts_of(details)
    assert "provenance ok" in text and "rules_lint-v1.3.1.tar.gz.intoto.jsonl" in text
    assert "git+https://github.com/aspect-build/rules_lint@refs/heads/publish-to-bcr" in text
    assert "release_ruleset.yaml@refs/tags/v7.1.0" in text  # the builder
    assert GITHUB_ISSUER in text
    assert "refs/heads/publish-to-bcr" in text and "2025-03-26T23:47:15Z" in text


@pytest.mark.skipif(not RULES_LINT.is_file(), reason=f"shared SLSA vectors not found at {SLSA}")
def test_keyless_provenance_without_a_policy_fails_with_the_fix(qtbot, window) -> None:
    page = window.verify_page
    page.add_paths([RULES_LINT])
    qtbot.waitUntil(lambda: all_finished(page), timeout=30_000)
    row = page.model.row(0)
    assert row.status == "failed"
    assert "Signer identity" in row.reason and "OIDC issuer" in row.reason
    page.select_source_row(0)
    assert "provenance FAILED" in texts_of(window.details)


def test_unreadable_trust_store_is_one_line(qtbot, window, tmp_path: Path) -> None:
    index = paths.resolve().config / "trust.toml"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text("this is [not toml\n")
    path = tmp_path / "file.bin"
    path.write_bytes(b"x")
    page = window.verify_page
    page.add_paths([path])
    qtbot.waitUntil(lambda: not page.controller.running, timeout=10_000)
    assert page.notice.isVisible()
    message = page.notice.text()
    assert "trust store" in message and "\n" not in message
    assert "Traceback" not in message and "error" in message
    assert page.model.rowCount() == 0
    index.unlink()
    page.add_paths([path])  # the next drop clears the message
    assert not page.notice.isVisible()
    qtbot.waitUntil(lambda: all_finished(page), timeout=10_000)
