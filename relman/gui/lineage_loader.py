"""The one loaded lineage the Builds and Environments pages share.

The main window owns one :class:`LineageLoader`; the pages subscribe to ``changed``. Loading
reads the selected profile's registry with :func:`~relman.release.lineage.build_lineage` on the
task runner's parallel pool (tracked: progress and cancel in the status bar); the GUI thread
only receives the finished, immutable :class:`~relman.release.lineage.Lineage`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from relman import settings
from relman.errors import Cancelled, RelmanError
from relman.model import CancelToken, Profile, ProgressCallback
from relman.registry import open_registry
from relman.release.lineage import Lineage, build_lineage
from relman.verify.files import default_context

from .builds_model import BuildRow, make_rows
from .qtcompat import emit
from .tasks import Task, TaskRunner

logger = logging.getLogger(__name__)

NO_PROFILE_TEXT = (
    "No registry profile yet — run `relman demo` or `relman profile add …`, then press F5."
)


def read_lineage(profile: Profile, progress: ProgressCallback, cancel: CancelToken) -> Lineage:
    """The worker's body: open the profile's registry and build its lineage."""
    registry = open_registry(profile)
    try:
        return build_lineage(registry, profile, default_context(), progress=progress, cancel=cancel)
    finally:
        close = getattr(registry, "close", None)
        if close is not None:
            close()


def _read_with_rows(
    profile: Profile, progress: ProgressCallback, cancel: CancelToken
) -> tuple[Lineage, list[BuildRow]]:
    lineage = read_lineage(profile, progress, cancel)
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

    #: The state, the profile list or the lineage changed.
    changed = Signal()
    profiles_changed = Signal()

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.profiles: dict[str, Profile] = {}
        self.profile: Profile | None = None
        self.lineage: Lineage | None = None
        #: The Builds table's rows of ``lineage``, made in the worker with it: for a large
        #: registry (50,000 builds) making them takes ~1.4 s, which must not block the GUI.
        self.rows: list[BuildRow] | None = None
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
        task = self.runner.submit(
            lambda progress, cancel: _read_with_rows(profile, progress, cancel),
            title=f"Reading lineage of profile {profile.name}",
            track=True,
        )
        self.task = task
        task.connect(
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
        self.state = "cancelled"
        self.message = "Loading cancelled — press F5 to load again."
        emit(self.changed)
        return True

    def _loaded(self, task: Task, value: tuple[Lineage, list[BuildRow]]) -> None:
        if task is not self.task:
            return  # a load that was cancelled or replaced
        self.task = None
        self.lineage, self.rows = value
        self.state = "loaded"
        self.message = ""
        emit(self.changed)

    def _failed(self, task: Task, exc: BaseException) -> None:
        if task is not self.task:
            return
        self.task = None
        if isinstance(exc, Cancelled):
            self.state, self.message = "cancelled", "Loading cancelled — press F5 to load again."
        else:
            name = self.profile.name if self.profile else "?"
            self.state, self.message = "error", f"Cannot read profile {name}: {exc}"
            if not isinstance(exc, RelmanError | OSError):
                logger.error("lineage load failed", exc_info=exc)
        emit(self.changed)
