"""The one task runner of the GUI: a serial executor for state changes, a parallel pool for I/O.

A task is a plain Python callable ``fn(progress, cancel)`` that runs on a worker thread with the
core's :class:`~relman.model.CancelToken`; it never touches widgets. What it reports comes back
to the GUI thread as Qt signals: the worker emits on a small bridge QObject that lives in the
GUI thread, Qt queues the emission, and the :class:`Task` (also in the GUI thread) re-emits
public signals there. Progress is throttled in the worker (at most one emission per
``PROGRESS_INTERVAL``), so a fast hash loop cannot flood the event queue.

Long-running work that the user should see (and be able to cancel) is an :class:`Activity`;
the status bar lists the activities the runner tracks.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from relman.errors import Cancelled
from relman.gui.qtcompat import emit
from relman.model import CancelToken, ProgressCallback

logger = logging.getLogger(__name__)

#: Seconds between two progress emissions of one task.
PROGRESS_INTERVAL = 0.05
#: Seconds of report delivery per event-loop turn.
DRAIN_BUDGET = 0.008

TaskFunction = Callable[[ProgressCallback, CancelToken], Any]


class Activity(QObject):
    """Something long that the status bar shows with progress and a cancel button."""

    changed = Signal()
    cancel_requested = Signal()
    ended = Signal()

    def __init__(self, title: str, token: CancelToken | None = None) -> None:
        super().__init__()
        self.title = title
        self.token = token or CancelToken()
        self.done = 0
        self.total = 0
        self.active = True

    def set_progress(self, done: int, total: int, title: str | None = None) -> None:
        self.done, self.total = done, total
        if title is not None:
            self.title = title
        emit(self.changed)

    def cancel(self) -> None:
        if not self.token.cancelled:
            self.token.cancel()
            emit(self.cancel_requested)

    def end(self) -> None:
        if self.active:
            self.active = False
            emit(self.ended)


class _Bridge(QObject):
    """One per runner, in the GUI thread; workers put reports in its inbox and emit ``wake``.

    One shared bridge (instead of a QObject and three connections per task) keeps submitting
    10,000 tasks cheap: a task itself is a plain Python object. Reports wait in a thread-safe
    inbox; ``wake`` is emitted (and queued by Qt to the GUI thread) only when the inbox was
    empty, and the GUI thread drains it in slices of ``DRAIN_BUDGET`` seconds, so a burst of
    thousands of finished tasks never blocks the event loop in one go.
    """

    wake = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._inbox: deque[tuple[str, Any, tuple[object, ...]]] = deque()
        self._scheduled = False

    def post(self, kind: str, task: Any, *args: object) -> None:
        """Any thread: queue a report for the GUI thread."""
        with self._lock:
            self._inbox.append((kind, task, args))
            if self._scheduled:
                return
            self._scheduled = True
        emit(self.wake)

    def take(self) -> tuple[str, Any, tuple[object, ...]] | None:
        """GUI thread: the next report, or None (and the next post wakes us again)."""
        with self._lock:
            if self._inbox:
                return self._inbox.popleft()
            self._scheduled = False
            return None


Callback = Callable[..., object]


class Task:
    """One submitted callable. Its callbacks always run in the GUI thread, in this order:
    ``on_progress`` (throttled, any number of times), ``on_result`` or ``on_error``, then
    ``on_finished``."""

    def __init__(self, title: str, fn: TaskFunction, token: CancelToken | None = None) -> None:
        self.title = title
        self.fn = fn
        self.token = token or CancelToken()
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished = False
        self.done = 0
        self.total = 0
        self.activity: Activity | None = None
        self._callbacks: dict[str, list[Callback]] = {}

    def connect(
        self,
        *,
        on_progress: Callback | None = None,
        on_result: Callback | None = None,
        on_error: Callback | None = None,
        on_finished: Callback | None = None,
    ) -> Task:
        """Add callbacks; safe right after ``submit`` (nothing is delivered before the GUI
        thread returns to its event loop)."""
        for name, callback in (
            ("progress", on_progress),
            ("result", on_result),
            ("error", on_error),
            ("finished", on_finished),
        ):
            if callback is not None:
                self._callbacks.setdefault(name, []).append(callback)
        return self

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, Cancelled)

    def cancel(self) -> None:
        if self.activity is not None:
            self.activity.cancel()
        else:
            self.token.cancel()

    def run_in_worker(self, bridge: _Bridge) -> None:
        """The body of the worker thread (called by :class:`_Runnable`)."""
        last = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL:
                last[0] = now
                bridge.post("progress", self, done, total)

        try:
            self.token.raise_if_cancelled()
            value = self.fn(progress, self.token)
        except BaseException as exc:  # delivered to the GUI thread, never lost
            if not isinstance(exc, Cancelled):
                logger.debug("task %r failed", self.title, exc_info=exc)
            bridge.post("error", self, exc)
        else:
            bridge.post("result", self, value)

    def _call(self, name: str, *args: object) -> None:
        for callback in self._callbacks.get(name, ()):
            callback(*args)

    def deliver_progress(self, done: int, total: int) -> None:
        if self.finished:
            return
        self.done, self.total = done, total
        if self.activity is not None:
            self.activity.set_progress(done, total)
        self._call("progress", done, total)

    def deliver_result(self, value: object) -> None:
        self.result = value
        self._call("result", value)
        self._finish()

    def deliver_error(self, exc: object) -> None:
        self.error = exc if isinstance(exc, BaseException) else RuntimeError(str(exc))
        self._call("error", self.error)
        self._finish()

    def _finish(self) -> None:
        self.finished = True
        self._call("finished")
        self._callbacks.clear()
        if self.activity is not None:
            self.activity.end()


class _Runnable(QRunnable):
    def __init__(self, task: Task, bridge: _Bridge) -> None:
        super().__init__()
        self.task = task
        self.bridge = bridge
        self.setAutoDelete(True)

    def run(self) -> None:
        self.task.run_in_worker(self.bridge)


class TaskRunner(QObject):
    """Runs tasks serially (state changes) or in parallel (I/O, hashing)."""

    activity_started = Signal(object)

    def __init__(self, parallel_threads: int | None = None) -> None:
        super().__init__()
        self.serial_pool = QThreadPool(self)
        self.serial_pool.setMaxThreadCount(1)
        self.parallel_pool = QThreadPool(self)
        self.parallel_pool.setMaxThreadCount(max(1, parallel_threads or os.cpu_count() or 2))
        self._bridge = _Bridge(self)
        # A bound method of a QObject in the GUI thread: the auto connection queues it there.
        self._bridge.wake.connect(self._drain)
        self._running: set[Task] = set()
        self._activities: list[Activity] = []

    # -- tasks ---------------------------------------------------------------------------

    def submit(
        self,
        fn: TaskFunction,
        *,
        title: str = "",
        serial: bool = False,
        token: CancelToken | None = None,
        track: bool = False,
    ) -> Task:
        """Queue ``fn(progress, cancel)``; add callbacks with :meth:`Task.connect`.

        ``track`` shows the task in the status bar (as an :class:`Activity`) until it ends.
        """
        task = Task(title or getattr(fn, "__name__", "task"), fn, token)
        self._running.add(task)
        if track:
            task.activity = Activity(task.title, task.token)
            self.track(task.activity)
        pool = self.serial_pool if serial else self.parallel_pool
        pool.start(_Runnable(task, self._bridge))
        return task

    def _drain(self) -> None:
        """Deliver waiting reports for at most ``DRAIN_BUDGET``; come back for the rest."""
        deadline = time.monotonic() + DRAIN_BUDGET
        while True:
            item = self._bridge.take()
            if item is None:
                return
            kind, task, args = item
            if kind == "call":
                task(*args)  # a callback posted with post_to_gui
            elif kind == "progress":
                task.deliver_progress(*args)  # type: ignore[arg-type]
            else:
                self._running.discard(task)
                if kind == "result":
                    task.deliver_result(args[0])
                else:
                    task.deliver_error(args[0])
            if time.monotonic() > deadline:
                # Let input and paint events in; the inbox stays "scheduled" until drained.
                QTimer.singleShot(0, self._drain)
                return

    def post_to_gui(self, callback: Callback, *args: object) -> None:
        """Any thread: call ``callback(*args)`` in the GUI thread, in order with task reports."""
        self._bridge.post("call", callback, *args)

    @property
    def running(self) -> int:
        """Tasks submitted whose results have not yet reached the GUI thread."""
        return len(self._running)

    # -- activities ----------------------------------------------------------------------

    def track(self, activity: Activity) -> None:
        """Show ``activity`` in the status bar until it ends."""
        if activity in self._activities:
            return
        self._activities.append(activity)
        activity.ended.connect(self._untrack)
        emit(self.activity_started, activity)

    def _untrack(self) -> None:
        activity = self.sender()
        if activity in self._activities:
            self._activities.remove(activity)  # type: ignore[arg-type]

    @property
    def activities(self) -> list[Activity]:
        return list(self._activities)

    # -- shutdown ------------------------------------------------------------------------

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel()
        for activity in self._activities:
            activity.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and wait for the workers (at exit only; tasks end quickly)."""
        self.cancel_all()
        self.serial_pool.clear()
        self.parallel_pool.clear()
        done = self.serial_pool.waitForDone(timeout_ms) and self.parallel_pool.waitForDone(
            timeout_ms
        )
        if not done:
            logger.warning("workers still running after %d ms", timeout_ms)
        return done
