"""What happens when files are dropped on the Verify page, all of it off the GUI thread.

1. One *discover* task per drop walks the dropped paths (:func:`relman.verify.discover.expand`),
   plans each batch of found files (:func:`relman.verify.files.plan`, one shared
   :class:`ChecksumIndex`, so every SHA256SUMS is parsed once) and streams the batches to the GUI
   thread through the runner's inbox (in order with task results).
2. The GUI thread appends each batch to the model with one insert and submits one
   ``verify_job`` task per file to the parallel pool.
3. Results and progress come back as task signals; the model records them and flushes on its
   timer. Cancel sets the session's token and marks every unfinished row cancelled.

The whole session is one :class:`Activity` in the status bar.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from relman.errors import Cancelled
from relman.model import CancelToken, ProgressCallback
from relman.verify.discover import Found, expand
from relman.verify.files import ChecksumIndex, FileJob, plan, verify_job

from .qtcompat import emit
from .tasks import Activity, TaskRunner
from .verify_model import VerifyRow, VerifyTableModel

logger = logging.getLogger(__name__)

#: A batch goes to the GUI thread when it holds this many files or is this old.
BATCH_FILES = 256
BATCH_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """A found file with its plan, or a problem found on the way (``job`` None)."""

    path: Path
    job: FileJob | None
    size: int | None
    problem: str | None = None


def _discover_and_plan(
    paths: Sequence[Path],
    index: ChecksumIndex,
    lock: threading.Lock,
    send: Callable[[list[PlannedFile]], None],
    cancel: CancelToken,
) -> int:
    """Worker body: walk, plan in batches, emit each batch. Returns how many entries were sent."""
    pending: list[Found] = []
    sent = 0
    last = time.monotonic()

    def flush() -> None:
        nonlocal pending, sent, last
        if pending:
            batch = _plan_batch(pending, index, lock)
            send(batch)
            sent += len(batch)
        pending = []
        last = time.monotonic()

    for found in expand(paths, cancel=cancel):
        pending.append(found)
        if len(pending) >= BATCH_FILES or time.monotonic() - last >= BATCH_SECONDS:
            flush()
    cancel.raise_if_cancelled()
    flush()
    return sent


def _plan_batch(
    found: Iterable[Found], index: ChecksumIndex, lock: threading.Lock
) -> list[PlannedFile]:
    items = list(found)
    files = [f.path for f in items if f.problem is None]
    with lock:  # ChecksumIndex is shared by every drop of the session and is not thread-safe
        jobs = iter(plan(files, index=index))
    out = []
    for item in items:
        if item.problem is not None:
            out.append(PlannedFile(item.path, None, None, item.problem))
            continue
        job = next(jobs)
        try:
            size: int | None = os.stat(item.path).st_size
        except OSError:
            size = None  # verify_job reports why
        out.append(PlannedFile(item.path, job, size))
    return out


def _verify_task(job: FileJob):  # type: ignore[no-untyped-def]
    def run(progress: ProgressCallback, cancel: CancelToken) -> object:
        return verify_job(job, progress=progress, cancel=cancel)

    return run


class VerifyController(QObject):
    """Runs verification sessions for one :class:`VerifyTableModel`."""

    #: A session started (the page leaves its empty state) / ended (all results in).
    session_started = Signal()
    session_finished = Signal()

    def __init__(
        self, runner: TaskRunner, model: VerifyTableModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._model = model
        self._index = ChecksumIndex()
        self._lock = threading.Lock()
        self._activity: Activity | None = None
        self._pending = 0
        model.totals_changed.connect(self._update_activity)

    @property
    def running(self) -> bool:
        return self._activity is not None

    @property
    def activity(self) -> Activity | None:
        return self._activity

    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Verify ``paths`` (files and folders); folders are expanded off the GUI thread."""
        chosen = [Path(p) for p in paths]
        if not chosen:
            return
        activity = self._ensure_session()
        lock, index, runner = self._lock, self._index, self._runner

        def send(batch: list[PlannedFile]) -> None:  # worker thread -> GUI thread, in order
            runner.post_to_gui(self._on_batch, batch)

        def discover(progress: ProgressCallback, cancel: CancelToken) -> int:
            return _discover_and_plan(chosen, index, lock, send, cancel)

        task = self._runner.submit(discover, title="finding files", token=activity.token)
        self._pending += 1
        task.connect(on_error=self._on_discover_failed, on_finished=self._on_task_finished)

    def cancel(self) -> bool:
        """Cancel the running session; returns False when nothing was running."""
        if self._activity is None:
            return False
        self._activity.cancel()  # -> _mark_cancelled
        return True

    def _mark_cancelled(self) -> None:
        count = self._model.cancel_unfinished()
        logger.info("verification cancelled (%d files not verified)", count)

    def clear(self) -> None:
        self.cancel()
        self._end_session()
        self._model.clear()
        self._index = ChecksumIndex()  # a new drop re-reads lists that may have changed

    # -- session ---------------------------------------------------------------------------

    def _ensure_session(self) -> Activity:
        if self._activity is None or self._activity.token.cancelled:
            if self._activity is not None:
                self._end_session()
            self._activity = Activity("Verifying files")
            self._activity.cancel_requested.connect(self._mark_cancelled)
            self._runner.track(self._activity)
            emit(self.session_started)
        return self._activity

    def _end_session(self) -> None:
        activity, self._activity = self._activity, None
        if activity is not None:
            activity.end()
            emit(self.session_finished)

    def _on_task_finished(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._model.flush()
            self._end_session()

    def _on_discover_failed(self, exc: object) -> None:
        if not isinstance(exc, Cancelled):
            logger.error("finding files failed: %s", exc)

    def _on_batch(self, batch: list[PlannedFile]) -> None:
        activity = self._activity
        if activity is None or activity.token.cancelled:
            return
        rows = [
            VerifyRow(
                item.path,
                item.size,
                "error" if item.problem else "queued",
                reason=item.problem or "",
            )
            for item in batch
        ]
        first = self._model.append_rows(rows)
        model = self._model
        for offset, item in enumerate(batch):
            if item.job is None:
                continue
            row = first + offset
            task = self._runner.submit(
                _verify_task(item.job), title=item.path.name, token=activity.token
            )
            self._pending += 1
            task.connect(
                on_progress=lambda done, total, row=row: model.set_progress(row, done, total),
                on_result=lambda result, row=row: model.set_result(row, result),
                on_error=lambda exc, row=row: self._on_failed(row, exc),
                on_finished=self._on_task_finished,
            )

    def _on_failed(self, row: int, exc: object) -> None:
        if isinstance(exc, Cancelled):
            self._model.set_status(row, "cancelled", "cancelled before it was verified")
        else:  # a bug, not a verdict on the file: say so and keep the traceback in the log
            display = self._model.row(row).display
            logger.error("verifying %s failed unexpectedly", display, exc_info=exc)  # type: ignore[arg-type]
            self._model.set_status(row, "error", f"internal error: {exc}")

    def _update_activity(self) -> None:
        activity = self._activity
        if activity is None:
            return
        counts = self._model.counts()
        total = self._model.rowCount()
        finished = total - counts["queued"] - counts["hashing"]
        done, size = self._model.byte_progress()
        activity.set_progress(done, size, f"Verifying files: {finished:,} of {total:,} done")
