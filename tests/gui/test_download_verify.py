""" "Download and verify" in the Details dock against the Artifactory emulator: verified bytes
in the cache, bytes unlike what was deployed or built shown as a failure in words, a cancel
that leaves no partial file, and the offer following the Builds, Lineage and Registry pages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from relman import settings
from relman.gui.download_verify import DownloadVerifyPanel, Target, build_targets
from relman.gui.icons import IconSet
from relman.model import Profile
from relman.registry import download
from tests.emulators.artifactory import ArtifactoryEmulator
from tests.emulators.fixtures import ARTIFACTORY_TOKEN

from .artifactory_world import Served, make_served

DATA = b"the release that was tested\n" * 1000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_files() -> list[Path]:
    root = download.cache_root()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def profile(artifactory: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch) -> Profile:
    monkeypatch.setenv(settings.TOKEN_VARIABLE, ARTIFACTORY_TOKEN)
    return Profile("acme", "artifactory", artifactory.url)


@pytest.fixture
def panel(qtbot, runner) -> DownloadVerifyPanel:
    widget = DownloadVerifyPanel(runner, IconSet(QWidget().palette()))
    qtbot.addWidget(widget)
    widget.show()
    return widget


def run(qtbot, panel: DownloadVerifyPanel) -> list[tuple[str, str]]:
    assert panel.start_button.isEnabled()
    panel.start_button.click()
    assert panel.task is not None and not panel.start_button.isEnabled()
    assert panel.cancel_button.isVisibleTo(panel) and panel.progress.isVisibleTo(panel)
    qtbot.waitUntil(lambda: panel.task is None, timeout=20_000)
    assert not panel.cancel_button.isVisibleTo(panel)
    return panel.result_lines()


def test_verified_bytes_are_kept_in_the_cache(
    qtbot, panel: DownloadVerifyPanel, profile: Profile, artifactory: ArtifactoryEmulator
) -> None:
    artifactory.deploy("libs-dev", "app/1/app.tgz", DATA)
    panel.set_targets(profile, [Target("app.tgz", "libs-dev", "app/1/app.tgz", sha256(DATA))])
    assert panel.isVisibleTo(panel.parentWidget() or panel) and not panel.choice.isVisibleTo(panel)
    assert panel.status.text() == "Not checked yet."
    with qtbot.waitSignal(panel.checked, timeout=20_000) as checked:
        panel.start_button.click()
    assert checked.args[0].ok
    lines = panel.result_lines()
    assert lines[0][0] == "verified"
    assert lines[0][1].startswith("libs-dev/app/1/app.tgz: verified: the SHA-256 of the bytes")
    words = [text for _status, text in lines]
    assert any("the build record's SHA-256: equal" in t for t in words)
    assert any(
        "the registry's SHA-256 (computed when the bytes arrived): equal" in t for t in words
    )
    assert cache_files() == [download.cache_path(sha256(DATA))]
    assert download.cache_path(sha256(DATA)).read_bytes() == DATA


def test_bytes_unlike_the_deployed_ones_fail_in_words(
    qtbot, panel: DownloadVerifyPanel, profile: Profile, artifactory: ArtifactoryEmulator
) -> None:
    artifactory.deploy(
        "libs-dev", "app/1/app.tgz", DATA, original_checksums={"sha256": sha256(b"deployed")}
    )
    panel.set_targets(profile, [Target("app.tgz", "libs-dev", "app/1/app.tgz")])
    lines = run(qtbot, panel)
    assert lines[0][0] == "failed" and "FAILED" in lines[0][1]
    assert "the SHA-256 the deployer declared with the bytes" in lines[0][1]
    statuses = {text.split(":")[0]: status for status, text in lines[2:]}
    assert statuses["the registry's SHA-256 (computed when the bytes arrived)"] == "verified"
    assert statuses["the SHA-256 the deployer declared with the bytes"] == "failed"
    assert statuses["the build record's SHA-256"] == "not-verified"
    icons = [w.accessibleName() for w in panel.lines.findChildren(QWidget) if w.accessibleName()]
    assert "FAILED" in icons and "not recorded" in icons  # a word with every icon


def test_a_cancel_keeps_nothing(
    qtbot, panel: DownloadVerifyPanel, profile: Profile, artifactory: ArtifactoryEmulator, tmp_path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        for _ in range(64):
            out.write(DATA * 40)
    artifactory.deploy_file("libs-dev", "big.bin", big)
    panel.set_targets(profile, [Target("big.bin", "libs-dev", "big.bin")])
    panel.start_button.click()
    panel.task.connect(on_progress=lambda done, _total: done and panel.cancel())
    qtbot.waitUntil(lambda: panel.task is None, timeout=20_000)
    lines = panel.result_lines()
    assert lines == [("cancelled", "Cancelled: nothing of libs-dev/big.bin was kept.")]
    assert cache_files() == []
    assert panel.start_button.isEnabled()


def test_a_missing_item_is_one_line(qtbot, panel: DownloadVerifyPanel, profile: Profile) -> None:
    panel.set_targets(profile, [Target("gone.bin", "libs-dev", "gone.bin")])
    (status, text), *_rest = run(qtbot, panel)
    assert status == "failed" and text.startswith("libs-dev/gone.bin: not verified: ")
    assert "no such item" in text and "\n" not in text


def test_the_offer_follows_the_pages(
    qtbot, window, artifactory: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: Served = make_served(artifactory, monkeypatch)
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.state == "loaded", timeout=20_000)
    panel = window.artifact_verify
    window.show_page("Builds")
    assert window.builds_page.select_label("tool/4")
    node = window.builds_page.details.node
    assert [t.label for t in panel.targets] == [t.label for t in build_targets(node)]
    assert [t.label for t in panel.targets] == ["tool.bin in libs-dev", "tool.bin in libs-qa"]
    assert panel.isVisibleTo(window) and panel.choice.isVisibleTo(window)
    panel.choice.setCurrentIndex(1)  # the copy in qa, whose bytes were replaced
    lines = run(qtbot, panel)
    assert lines[0][0] == "failed" and "the build record's SHA-256" in lines[0][1]
    panel.choice.setCurrentIndex(0)
    assert panel.result_lines() == [] and panel.status.text() == "Not checked yet."
    assert run(qtbot, panel)[0][0] == "verified"

    window.show_page("Verify")
    assert not panel.isVisibleTo(window)
    window.show_page("Lineage")
    lineage = window.lineage_page
    assert lineage.show_build("acme/1")
    lineage.select_node(lineage.scene.nodes[("artifact", "acme/1", "lib.jar")])
    assert [t.label for t in panel.targets] == ["lib.jar in libs-dev", "lib.jar in libs-qa"]
    wanted = next(a.sha256 for a in served.builds["acme/1"].artifacts if a.name == "lib.jar")
    assert all(t.record_sha256 == wanted for t in panel.targets)
    assert run(qtbot, panel)[0][0] == "verified"
    window.show_page("Builds")
    assert [t.label for t in panel.targets][:1] == ["tool.bin in libs-dev"]


def test_the_registry_page_offers_the_selected_file(
    qtbot, window, artifactory: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_served(artifactory, monkeypatch)
    window.loader.reload()
    window.show_page("Registry")
    page = window.browser_page
    qtbot.waitUntil(lambda: page.model.state == "loaded" and page.model.busy == 0)
    page.tree.expand(page.select_path("libs-qa"))
    qtbot.waitUntil(lambda: page.model.busy == 0)
    for folder in (("libs-qa", "tool"), ("libs-qa", "tool", "4")):
        page.tree.expand(page.select_path(*folder))
        qtbot.waitUntil(lambda: page.model.busy == 0)
    page.tree.setCurrentIndex(page.select_path("libs-qa", "tool", "4", "tool.bin"))
    qtbot.waitUntil(lambda: page.details.item is not None, timeout=10_000)
    verify = page.details.verify
    assert [t.path for t in verify.targets] == ["tool/4/tool.bin"]
    lines = run(qtbot, verify)
    assert lines[0][0] == "verified"  # the registry's own SHA-256: no build record here
    assert not window.artifact_verify.isVisibleTo(window)
    qtbot.waitUntil(lambda: not window.loader.loading, timeout=20_000)
