""" "Download and verify" for the artifact shown in the Details dock (Registry, Builds, Lineage).

The panel downloads the chosen artifact into relman's content-addressed cache on the task
runner (progress and Cancel here and in the status bar), hashes it again there and compares
the SHA-256 with the registry's, the deployer's and the build record's
(:func:`relman.release.artifact_check.download_and_verify`). The result is a verdict line and
one line per comparison, each with an icon and a word. Results are remembered per artifact, so
going back to one shows its last result; a cancel leaves no partial file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from relman.errors import Cancelled, RelmanError
from relman.model import CancelToken, Profile, ProgressCallback
from relman.registry import opened
from relman.release.artifact_check import ArtifactCheck, download_and_verify
from relman.release.lineage import ArtifactNode, BuildNode

from .details import breakable
from .evidence import artifact_check_lines
from .icons import IconSet
from .lineage_loader import LineageLoader
from .qtcompat import emit
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)

INTRO = (
    "Downloads the bytes into relman's cache, hashes them and compares the SHA-256 with the "
    "registry's and the build record's."
)

#: The word that goes with each line's icon (status is never an icon alone).
WORDS = {"verified": "ok", "failed": "FAILED", "not-verified": "not recorded"}


@dataclass(frozen=True, slots=True)
class Target:
    """An artifact that can be downloaded: where it is and the SHA-256 its build recorded."""

    label: str
    repo: str
    path: str
    record_sha256: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.repo, self.path, self.record_sha256)


def artifact_targets(art: ArtifactNode) -> list[Target]:
    """Every place the registry holds ``art``, each with the build record's SHA-256."""
    many = len(art.locations) > 1
    return [
        Target(f"{art.name} in {loc.repo}" if many else art.name, loc.repo, loc.path, art.sha256)
        for loc in art.locations
    ]


def build_targets(node: BuildNode | None) -> list[Target]:
    """Every artifact of the build ``node`` (None: none), at each place it is held."""
    if node is None:
        return []
    return [target for art in node.artifacts for target in artifact_targets(art)]


def run_check(
    profile: Profile, target: Target, progress: ProgressCallback, cancel: CancelToken
) -> ArtifactCheck:
    """The worker's body: open the profile's registry, download and verify, close it."""
    with opened(profile) as registry:
        return download_and_verify(
            registry,
            target.repo,
            target.path,
            record_sha256=target.record_sha256,
            progress=progress,
            cancel=cancel,
        )


class DownloadVerifyPanel(QGroupBox):
    """The "Download and verify" box; emits ``checked`` with each :class:`ArtifactCheck`."""

    checked = Signal(object)

    def __init__(self, runner: TaskRunner, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__("Download and verify", parent)
        self.setAccessibleName("Download and verify")
        self.runner = runner
        self.icons = icons
        self.profile: Profile | None = None
        self.targets: list[Target] = []
        self.task: Task | None = None
        self.running: Target | None = None
        #: Target key -> the ``(status, text)`` lines of its last outcome.
        self.outcomes: dict[tuple[str, str, str | None], list[tuple[str, str]]] = {}

        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        intro.setAccessibleName("Download and verify explanation")
        self.choice = QComboBox()
        self.choice.setAccessibleName("Artifact to download")
        self.choice.view().setAccessibleName("Artifact to download choices")
        self.choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.choice.setMinimumContentsLength(16)
        self.start_button = QPushButton(icons.icon("check-checksum"), "Download and verify")
        self.start_button.setAccessibleName("Download and verify")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the download")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Download status")
        self.lines = QWidget()
        self.lines.setAccessibleName("Download and verify result")
        self.lines_layout = QGridLayout(self.lines)
        self.lines_layout.setContentsMargins(0, 0, 0, 0)
        self.lines_layout.setColumnStretch(1, 1)

        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.choice)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.lines)

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.choice.currentIndexChanged.connect(lambda _i: self._show())
        self.set_targets(None, ())

    # -- what can be downloaded --------------------------------------------------------------

    def set_targets(self, profile: Profile | None, targets: Sequence[Target]) -> None:
        """Offer ``targets`` of ``profile``'s registry (none: the panel hides)."""
        self.profile = profile
        self.targets = list(targets) if profile is not None else []
        self.choice.blockSignals(True)
        self.choice.clear()
        for target in self.targets:
            self.choice.addItem(target.label, target.key)
            self.choice.setItemData(
                self.choice.count() - 1, f"{target.repo}/{target.path}", Qt.ItemDataRole.ToolTipRole
            )
        self.choice.blockSignals(False)
        self.choice.setVisible(len(self.targets) > 1)
        self.setVisible(bool(self.targets))
        self._show()

    def current(self) -> Target | None:
        index = self.choice.currentIndex()
        return self.targets[index] if 0 <= index < len(self.targets) else None

    def follow(
        self, loader: LineageLoader, pages: QStackedWidget, groups: Mapping[str, Sequence[QWidget]]
    ) -> None:
        """Offer what is selected on the pages of each group (their ``build_selected`` and
        ``artifact_selected``) while one of those pages is shown, and nothing elsewhere."""
        self._loader = loader
        self._groups = {page: group for group, members in groups.items() for page in members}
        self._offers: dict[str, list[Target]] = {}
        for page, group in self._groups.items():
            built = getattr(page, "build_selected", None)
            if built is not None:
                built.connect(lambda node, g=group: self._offer(g, build_targets(node)))
            picked = getattr(page, "artifact_selected", None)
            if picked is not None:
                picked.connect(lambda _build, art, g=group: self._offer(g, artifact_targets(art)))
        self._pages = pages
        pages.currentChanged.connect(lambda _index: self._offer(None, None))
        self._offer(None, None)

    def _offer(self, group: str | None, targets: list[Target] | None) -> None:
        if group is not None and targets is not None:
            self._offers[group] = targets
        shown = self._groups.get(self._pages.currentWidget())
        self.set_targets(self._loader.profile, self._offers.get(shown, []) if shown else [])

    # -- running ---------------------------------------------------------------------------

    def start(self) -> Task | None:
        """Download and verify the chosen artifact on the task runner (one at a time)."""
        target, profile = self.current(), self.profile
        if target is None or profile is None or self.task is not None:
            return None
        task = self.runner.submit(
            lambda progress, cancel: run_check(profile, target, progress, cancel),
            title=f"Downloading and verifying {target.repo}/{target.path}",
            track=True,
        )
        self.task, self.running = task, target
        self.outcomes.pop(target.key, None)
        task.connect(
            on_progress=self._progress,
            on_result=lambda check: self._done(task, target, check),
            on_error=lambda exc: self._failed(task, target, exc),
        )
        self.progress.setValue(0)
        self._show()
        return task

    def cancel(self) -> bool:
        """Cancel the download in progress; True when there was one."""
        if self.task is None:
            return False
        self.task.cancel()
        self.status.setText("Cancelling…")
        return True

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setValue(int(1000 * min(done, total) / total))

    def _done(self, task: Task, target: Target, check: ArtifactCheck) -> None:
        if task is not self.task:
            return
        self.task, self.running = None, None
        self.outcomes[target.key] = artifact_check_lines(check)
        emit(self.checked, check)
        self._show()

    def _failed(self, task: Task, target: Target, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.task, self.running = None, None
        if isinstance(exc, Cancelled):
            line = ("cancelled", f"Cancelled: nothing of {target.repo}/{target.path} was kept.")
        else:
            line = ("failed", f"{target.repo}/{target.path}: not verified: {exc}")
            if not isinstance(exc, RelmanError | OSError):
                logger.error("download and verify failed", exc_info=exc)
        self.outcomes[target.key] = [line]
        self._show()

    # -- showing ---------------------------------------------------------------------------

    def result_lines(self) -> list[tuple[str, str]]:
        """The ``(status, text)`` lines shown for the chosen artifact."""
        target = self.current()
        return list(self.outcomes.get(target.key, [])) if target is not None else []

    def _show(self) -> None:
        target = self.current()
        busy = self.task is not None
        self.start_button.setEnabled(target is not None and not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)
        if busy and self.running is not None:
            other = "" if self.running == target else " (another artifact)"
            self.status.setText(
                f"Downloading and verifying {self.running.repo}/{self.running.path}{other}…"
            )
        elif target is not None and target.key not in self.outcomes:
            self.status.setText("Not checked yet.")
        else:
            self.status.setText("")
        while self.lines_layout.count():
            item = self.lines_layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()  # at once: the deferred delete waits for the event loop
                widget.deleteLater()
        for row, (status, text) in enumerate(self.result_lines()):
            icon = QLabel()
            icon.setPixmap(self.icons.icon(status).pixmap(16, 16))
            word = {"verified": "ok", "failed": "FAILED", "not-verified": "not recorded"}.get(
                status
            )
            icon.setAccessibleName(word or status)
            label = QLabel(breakable(text))
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAccessibleName(f"Result line {row + 1}")
            label.setAccessibleDescription(text)
            if row == 0:
                label.setObjectName("checkTitle")
            self.lines_layout.addWidget(icon, row, 0, Qt.AlignmentFlag.AlignTop)
            self.lines_layout.addWidget(label, row, 1)
