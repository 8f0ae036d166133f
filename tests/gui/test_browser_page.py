"""The Registry page against the Artifactory emulator: repositories, folders and files listed
only when opened (requests counted), on the task runner (the event loop keeps turning while a
slow listing waits), a file's details in the dock, failures said on the node."""

from __future__ import annotations

import hashlib
import itertools
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from relman import settings
from relman.gui.browser_model import COL_SHA256, COL_SIZE, BrowserModel
from relman.gui.browser_page import EMPTY_DETAILS, BrowserPage
from relman.gui.icons import IconSet
from relman.gui.lineage_loader import LineageLoader
from relman.model import Environment, Profile
from tests.emulators.artifactory import ArtifactoryEmulator, Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN

ENVS = (
    Environment("dev", "repository", repo="libs-dev"),
    Environment("qa", "repository", repo="libs-qa"),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seed(emu: ArtifactoryEmulator) -> None:
    emu.deploy(
        "libs-dev", "app/1.0/app.tgz", b"app one", {"build.name": "app", "build.number": "1"}
    )
    emu.deploy("libs-dev", "app/1.0/app.tgz.sig", b"signature")
    emu.deploy("libs-dev", "app/2.0/app.tgz", b"app two")
    emu.deploy("libs-dev", "notes.txt", b"notes", created="2025-03-02T10:10:00.000+03:00")
    emu.deploy("libs-qa", "app/1.0/app.tgz", b"app one")


@pytest.fixture
def profile(artifactory: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch) -> Profile:
    seed(artifactory)
    monkeypatch.setenv(settings.TOKEN_VARIABLE, ARTIFACTORY_TOKEN)
    return Profile("acme", "artifactory", artifactory.url, environments=ENVS)


@pytest.fixture
def page(qtbot, runner):
    loader = LineageLoader(runner)
    widget = BrowserPage(runner, loader, IconSet(QWidget().palette()))
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.model.close()


def idle(qtbot, model: BrowserModel) -> None:
    qtbot.waitUntil(lambda: model.busy == 0, timeout=10_000)


def names(model: BrowserModel, parent) -> list[str]:
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_folders_are_listed_only_when_opened(
    qtbot, page: BrowserPage, profile: Profile, artifactory: ArtifactoryEmulator
) -> None:
    artifactory.reset_log()
    page.browse(profile)
    assert page.model.state == "loading" and "Reading the repositories" in page.message.text()
    idle(qtbot, page.model)
    assert page.stack.currentWidget() is page.tree
    model = page.model
    assert names(model, page.select_path()) == ["libs-dev", "libs-prod", "libs-qa", "libs-staging"]
    assert [r.path for r in artifactory.requests] == ["/api/repositories"]
    dev = page.select_path("libs-dev")
    assert model.hasChildren(dev) and model.canFetchMore(dev) and model.rowCount(dev) == 0
    page.tree.expand(dev)
    idle(qtbot, model)
    assert names(model, dev) == ["app", "notes.txt"]
    assert not model.canFetchMore(dev)
    notes = page.select_path("libs-dev", "notes.txt")
    assert model.index(notes.row(), COL_SIZE, dev).data() == "5 B"
    assert model.index(notes.row(), COL_SHA256, dev).data(3) == sha256(b"notes")  # tooltip
    assert len(artifactory.requests) == 2  # one listing, nothing for unopened repositories
    app = page.select_path("libs-dev", "app")
    page.tree.expand(app)
    idle(qtbot, model)
    page.tree.expand(page.select_path("libs-dev", "app", "1.0"))
    idle(qtbot, model)
    assert names(model, page.select_path("libs-dev", "app", "1.0")) == [
        "app.tgz",
        "app.tgz.sig",
    ]
    assert len(artifactory.requests) == 4
    assert all(r.path.startswith("/api/storage/libs-dev") for r in artifactory.requests[1:])


def test_the_model_passes_the_model_tester(
    qtbot, qtmodeltester, page: BrowserPage, profile: Profile
) -> None:
    page.browse(profile)
    idle(qtbot, page.model)
    page.tree.expand(page.select_path("libs-dev"))
    idle(qtbot, page.model)
    qtmodeltester.check(page.model)  # it fetches what it may itself
    idle(qtbot, page.model)
    qtmodeltester.check(page.model)


def test_a_slow_listing_never_blocks(
    qtbot, page: BrowserPage, profile: Profile, artifactory: ArtifactoryEmulator
) -> None:
    page.browse(profile)
    idle(qtbot, page.model)
    artifactory.inject(Fault(path=r"^/api/storage/libs-qa$", kind="slow", delay=1.5))
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    qa = page.select_path("libs-qa")
    start = time.monotonic()
    page.tree.expand(qa)
    assert time.monotonic() - start < 0.2
    assert page.model.index(qa.row(), 0).data() == "libs-qa — listing…"
    idle(qtbot, page.model)
    timer.stop()
    assert names(page.model, qa) == ["app"]
    waited = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 30 and max(waited) < 0.3


def test_a_failed_listing_says_why_on_the_node(
    qtbot, page: BrowserPage, profile: Profile, artifactory: ArtifactoryEmulator
) -> None:
    page.browse(profile)
    idle(qtbot, page.model)
    artifactory.inject(Fault(path=r"^/api/storage/libs-staging$", status=500, times=None))
    staging = page.select_path("libs-staging")
    page.tree.expand(staging)
    idle(qtbot, page.model)
    assert page.model.index(staging.row(), 0).data() == "libs-staging — cannot list"
    assert not page.model.canFetchMore(staging)
    assert "HTTP 500" in page.model.index(staging.row(), 0).data(3)
    assert page.notice.text().startswith("Cannot list libs-staging: ")
    artifactory.clear_faults()
    page.reload()
    idle(qtbot, page.model)
    assert page.model.canFetchMore(page.select_path("libs-staging"))
    assert page.notice.text() == ""


def test_selecting_a_file_shows_its_details(
    qtbot, page: BrowserPage, profile: Profile, artifactory: ArtifactoryEmulator
) -> None:
    artifactory.deploy(
        "libs-dev",
        "swapped.bin",
        b"new bytes",
        {"build.name": "app"},
        original_checksums={"sha256": sha256(b"old bytes")},
    )
    page.browse(profile)
    idle(qtbot, page.model)
    page.tree.expand(page.select_path("libs-dev"))
    idle(qtbot, page.model)
    artifactory.reset_log()
    page.tree.setCurrentIndex(page.select_path("libs-dev", "notes.txt"))
    qtbot.waitUntil(lambda: page.details.item is not None, timeout=10_000)
    details = page.details
    assert details.values()["SHA-256 digest"] == sha256(b"notes")
    text = details.texts()
    assert "5 B (5 bytes)" in text and "2025-03-02 by ci-deployer" in text and "none" in text
    created = next(w for w in details.findChildren(QLabel) if w.accessibleName() == "Item created")
    assert created.toolTip() == "2025-03-02 07:10:00 UTC"
    assert details.verify.isVisibleTo(details) and details.verify.targets[0].path == "notes.txt"
    assert len(artifactory.requests) == 2  # storage info and properties
    page.tree.setCurrentIndex(page.select_path("libs-dev", "swapped.bin"))
    qtbot.waitUntil(lambda: details.item is not None and details.item.location.size == 9)
    assert details.values()["Declared SHA-256"] == sha256(b"old bytes")
    assert "these are not the bytes deployed" in details.texts()
    page.tree.setCurrentIndex(page.select_path("libs-dev", "app"))
    assert details.item is None and "open it to list" in details.texts()
    assert not details.verify.isVisibleTo(details)


def test_without_a_profile_the_page_says_what_to_do(qtbot, page: BrowserPage) -> None:
    page.browse(None)
    assert "Add registry" in page.message.text()
    assert page.stack.currentWidget() is page.message
    assert EMPTY_DETAILS in page.details.texts()


def test_an_unreachable_registry_is_one_line(qtbot, page: BrowserPage) -> None:
    page.browse(Profile("gone", "artifactory", "http://relman-test.invalid/artifactory"))
    idle(qtbot, page.model)
    assert page.model.state == "error"
    assert "Cannot read the repositories of profile gone:" in page.message.text()
    assert "DNS" in page.message.text() and "\n" not in page.message.text()


def test_the_page_in_the_window_follows_the_profile(
    qtbot, window, profile: Profile, artifactory: ArtifactoryEmulator
) -> None:
    settings.add_profile(profile)
    window.loader.reload()
    qtbot.wait(50)
    assert window.browser_page.model.state == "empty"  # not read before it is shown
    window.show_page("Registry")
    assert window.details_stack.currentWidget() is window.browser_page.details
    idle(qtbot, window.browser_page.model)
    assert "Repositories of profile acme" in window.browser_page.title.text()
    assert window.browser_page.model.rowCount() == 4
    qtbot.waitUntil(lambda: not window.loader.loading, timeout=20_000)
