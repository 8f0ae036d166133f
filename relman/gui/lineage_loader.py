"""The one loaded lineage the Builds and Environments pages share.

The main window owns one :class:`LineageLoader`; the pages subscribe to ``changed``. Loading
reads the selected profile's registry with :func:`~relman.release.lineage.build_lineage` on the
task runner's parallel pool (tracked: progress and cancel in the status bar); the GUI thread
only receives the finished, immutable :class:`~relman.release.lineage.Lineage`.

A server's lineage takes seconds (2,000 runs of a build: one build-info each), so for a
registry that lists its build runs with their start times (Artifactory: one request a build
name) the worker first sends :attr:`LineageLoader.preview`, rows of name, number and start
time only, which the Builds page shows at once; commit, branch, environments and findings
fill in when the lineage arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from relman import settings
from relman.errors import Cancelled, RelmanError
from relman.model import BuildRecord, CancelToken, Profile, ProgressCallback
from relman.registry import opened
from relman.registry.base import Registry
from relman.release.lineage import BuildNode, Lineage, build_lineage
from relman.verify.files import default_context

from .builds_model import BuildRow, make_rows
from .qtcompat import emit
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)

NO_PROFILE_TEXT = (
    "No registry profile yet — run `relman demo` or `relman profile add …`, then press F5."
)


Preview = Callable[[list[BuildRow]], None]


def preview_rows(registry: Registry, profile: Profile) -> list[BuildRow] | None:
    """Rows of every build run with only its name, number and start time (the rest says
    "…"), for a registry that lists runs with their start times; None for one that does not."""
    runs_of = getattr(registry, "build_runs", None)
    if runs_of is None:
        return None
    nodes = [
        BuildNode(BuildRecord(name, number, started=started))
        for name in registry.build_names()
        for number, started in runs_of(name)
    ]
    rows = make_rows(Lineage(profile.environments, tuple(nodes), ()))
    for row in rows:
        row.identity = f"{row.node.label}: its identity comes with the lineage"
        row.identity_short = "loading…"
        row.commit = row.branch = row.furthest = "…"
        row.findings_text = "loading…"
        row.extra["preview"] = True
    return rows


def read_lineage(
    profile: Profile,
    progress: ProgressCallback,
    cancel: CancelToken,
    *,
    preview: Preview | None = None,
) -> Lineage:
    """The worker's body: open the profile's registry and build its lineage; with
    ``preview``, first hand it :func:`preview_rows` (when the registry has them)."""
    with opened(profile) as registry:
        if preview is not None:
            rows = preview_rows(registry, profile)
            cancel.raise_if_cancelled()
            if rows is not None:
                preview(rows)
        return build_lineage(registry, profile, default_context(), progress=progress, cancel=cancel)


def _read_with_rows(
    profile: Profile,
    progress: ProgressCallback,
    cancel: CancelToken,
    preview: Preview | None = None,
) -> tuple[Lineage, list[BuildRow]]:
    lineage = read_lineage(profile, progress, cancel, preview=preview)
    cancel.raise_if_cancelled()
    return lineage, make_rows(lineage)


def available_profiles() -> tuple[dict[str, Profile], str | None]:
    """The configured profiles plus the embedded local registry when it exists, and an error
    text when the profiles file cannot be read."""
    error = None
    try:
        profiles = dict(settings.load_profiles())
    except RelmanError as exc:
        profiles, error = {}, str(exc)
    default = settings.default_profile()
    if default.name not in profiles and Path(default.url).is_dir():
        profiles = {default.name: default, **profiles}
    return profiles, error


class LineageLoader(QObject):
    """Selected profile + its loaded lineage. ``state``: ``empty`` (no profile), ``loading``,
    ``loaded``, ``error`` or ``cancelled`` (the previous lineage, if any, stays)."""

    #: The state, the profile list, the preview or the lineage changed.
    changed = Signal()
    profiles_changed = Signal()
    #: (builds done, builds) of the load in progress.
    progressed = Signal(int, int)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.profiles: dict[str, Profile] = {}
        self.profile: Profile | None = None
        self.lineage: Lineage | None = None
        #: The Builds table's rows of ``lineage``, made in the worker with it: for a large
        #: registry (50,000 builds) making them takes ~1.4 s, which must not block the GUI.
        self.rows: list[BuildRow] | None = None
        #: While loading: rows of the build runs alone (see the module doc), else None.
        self.preview: list[BuildRow] | None = None
        self.progress = (0, 0)
        self.state = "empty"
        self.message = NO_PROFILE_TEXT
        self.task: Task | None = None

    # -- profiles --------------------------------------------------------------------------

    def refresh_profiles(self) -> None:
        """Re-read the profiles; keep the selection when it still exists."""
        self.profiles, error = available_profiles()
        current = self.profile.name if self.profile is not None else None
        if current in self.profiles:
            self.profile = self.profiles[current]
        else:
            default = settings.default_profile().name
            name = default if default in self.profiles else next(iter(self.profiles), None)
            self.profile = self.profiles.get(name) if name else None
        if self.profile is None:
            self.lineage, self.rows = None, None
            self.state = "empty" if error is None else "error"
            self.message = NO_PROFILE_TEXT if error is None else error
            emit(self.changed)
        emit(self.profiles_changed)

    def select(self, name: str) -> None:
        profile = self.profiles.get(name)
        if profile is None or profile == self.profile:
            return
        self.profile = profile
        self.lineage, self.rows = None, None
        self.load()

    # -- loading ---------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self.task is not None

    def reload(self) -> None:
        """F5: re-read the profiles and load the selected one again."""
        self.refresh_profiles()
        if self.profile is not None:
            self.load()

    def load(self) -> Task | None:
        self.cancel()
        profile = self.profile
        if profile is None:
            return None
        self.state = "loading"
        self.message = f"Reading the registry of profile {profile.name}…"
        self.preview, self.progress = None, (0, 0)
        box: list[Task] = []

        def preview(rows: list[BuildRow]) -> None:
            self.runner.post_to_gui(self._previewed, box[0], rows)

        task = self.runner.submit(
            lambda progress, cancel: _read_with_rows(profile, progress, cancel, preview),
            title=f"Reading lineage of profile {profile.name}",
            track=True,
        )
        box.append(task)
        self.task = task
        task.connect(
            on_progress=lambda done, total: self._progressed(task, done, total),
            on_result=lambda value: self._loaded(task, value),
            on_error=lambda exc: self._failed(task, exc),
        )
        emit(self.changed)
        return task

    def cancel(self) -> bool:
        """Cancel the load in progress (Esc); True when there was one."""
        task, self.task = self.task, None
        if task is None:
            return False
        task.cancel()
        self.preview = None
        self.state = "cancelled"
        self.message = "Loading cancelled — press F5 to load again."
        emit(self.changed)
        return True

    def _previewed(self, task: Task, rows: list[BuildRow]) -> None:
        if task is self.task and self.lineage is None:
            self.preview = rows
            emit(self.changed)

    def _progressed(self, task: Task, done: int, total: int) -> None:
        if task is self.task:
            self.progress = (done, total)
            emit(self.progressed, done, total)

    def _loaded(self, task: Task, value: tuple[Lineage, list[BuildRow]]) -> None:
        if task is not self.task:
            return  # a load that was cancelled or replaced
        self.task = None
        self.preview = None
        self.lineage, self.rows = value
        self.state = "loaded"
        self.message = ""
        emit(self.changed)

    def _failed(self, task: Task, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.task = None
        self.preview = None
        if isinstance(exc, Cancelled):
            self.state, self.message = "cancelled", "Loading cancelled — press F5 to load again."
        else:
            name = self.profile.name if self.profile else "?"
            self.state, self.message = "error", f"Cannot read profile {name}: {exc}"
            if not isinstance(exc, RelmanError | OSError):
                logger.error("lineage load failed", exc_info=exc)
        emit(self.changed)
