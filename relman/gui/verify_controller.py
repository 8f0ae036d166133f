"""What happens when files are dropped on the Verify page, all of it off the GUI thread.

1. One *discover* task per drop builds (once per session and Sigstore policy) the session's
   :class:`~relman.verify.files.Planner` over the trust store's keys, walks the dropped paths
   (:func:`relman.verify.discover.expand`) and sends the found files to the GUI thread in
   batches (at most ``BATCH_FILES`` files or ``BATCH_BYTES`` bytes; a large file travels
   alone), as ready-made rows, through the runner's inbox (in order with task results).
2. The GUI thread appends each batch with one insert and submits *one* task for it. That task
   plans and verifies its files one after the other (the cancel token is checked between
   files), reports finished files at most every ``REPORT_SECONDS`` and, for a large file, its
   progress at most every ``PROGRESS_SECONDS``.
3. The model records results and tells the view on its own timer. Cancel sets the session's
   token and marks every unfinished row cancelled at once.

Small files are interpreter-bound work, and while a worker thread runs Python the GUI thread
waits for the interpreter lock on *every* call into Python (each ``data()`` of a repaint). So
Python-heavy work goes through a :class:`Pacer`: one worker at a time, in slices of
``WORK_SLICE`` seconds with a pause between them in which the GUI thread runs unopposed.
Hashing a large file releases the lock in C and is not paced.

The whole session is one :class:`Activity` in the status bar.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from relman.errors import Cancelled, RelmanError
from relman.model import CancelToken, ProgressCallback
from relman.verify import files
from relman.verify.discover import expand
from relman.verify.files import ChecksumIndex, FileResult, Planner, verify_job

from .qtcompat import emit
from .tasks import Activity, TaskRunner
from .verify_model import VerifyRow, VerifyTableModel

logger = logging.getLogger(__name__)

#: A batch (one insert, one task) holds at most this many files or bytes.
BATCH_FILES = 200
BATCH_BYTES = 64 << 20
#: Discovery sends what it has found at least this often.
BATCH_SECONDS = 0.1
#: A batch task reports its finished files at least this often.
REPORT_SECONDS = 0.1
#: Files at least this large show their own progress (and are hashed unpaced).
LARGE_FILE = 4 << 20
PROGRESS_SECONDS = 0.1
#: Python-heavy worker work runs in slices this long with a pause between them.
WORK_SLICE = 0.004
PAUSE = 0.002
#: A new session's workers wait at most this long for the results page's first paint.
STARTUP_HOLD_MS = 300


@dataclass(frozen=True, slots=True)
class Policy:
    """The Sigstore policy of a drop: expected certificate identity and OIDC issuer."""

    identity: str | None = None
    issuer: str | None = None

    @classmethod
    def of(cls, identity: str | None, issuer: str | None) -> Policy:
        return cls((identity or "").strip() or None, (issuer or "").strip() or None)


class Pacer:
    """Lets Python-heavy work of worker threads leave the GUI thread room to run.

    ``with pacer:`` around a unit of work (one small file) holds the pacer's lock, so only one
    paced worker runs Python at a time; after ``work`` seconds of units it sleeps ``pause``
    seconds without the interpreter lock (still holding its own, so no other paced worker
    fills the pause), which is when the GUI thread gets on with its events.

    A repaint of the table calls into Python a few thousand times, and each call waits for the
    interpreter lock while a worker holds it: the view paints inside ``with pacer.gui_first():``,
    which holds paced workers at their next unit until the paint is done.
    """

    def __init__(self, work: float = WORK_SLICE, pause: float = PAUSE) -> None:
        self.work = work
        self.pause = pause
        self._lock = threading.Lock()
        self._slice_started = 0.0
        self._go = threading.Event()
        self._go.set()
        self._holds = 0
        self._until_paint = False

    def hold(self) -> None:
        """GUI thread: paced workers wait at their next unit until :meth:`release`."""
        self._holds += 1
        self._go.clear()

    def release(self) -> None:
        self._holds -= 1
        if self._holds <= 0:
            self._holds = 0
            self._go.set()

    @contextmanager
    def gui_first(self) -> Iterator[None]:
        """GUI thread: keep paced workers waiting while the body runs (re-entrant)."""
        self.hold()
        try:
            yield
        finally:
            self.release()
        if self._until_paint:  # the page has painted its new state: let the workers go
            self._until_paint = False
            self.release()

    def hold_until_painted(self, timeout_ms: int) -> None:
        """GUI thread: hold the workers until the view's next paint (or ``timeout_ms``),
        so a page that just changed lays itself out and paints without waiting for them."""
        if self._until_paint:
            return
        self._until_paint = True
        self.hold()

        def expire() -> None:
            if self._until_paint:
                self._until_paint = False
                self.release()

        QTimer.singleShot(timeout_ms, expire)

    def __enter__(self) -> Pacer:
        self._go.wait()
        self._lock.acquire()
        if not self._slice_started:
            self._slice_started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if time.perf_counter() - self._slice_started >= self.work:
            # Sleep holding the lock: another paced worker must not fill the pause.
            time.sleep(self.pause)
            self._slice_started = 0.0
        self._lock.release()


class _Session:
    """One verification session: its activity, planners, pending tasks and pacer."""

    def __init__(self, activity: Activity, pacer: Pacer) -> None:
        self.activity = activity
        self.pending = 0
        self.pacer = pacer
        self._planners: dict[Policy, Planner] = {}
        self._lock = threading.Lock()

    @property
    def token(self) -> CancelToken:
        return self.activity.token

    def planner(self, policy: Policy) -> Planner:
        """Worker thread: the session's planner for ``policy`` (reads the trust store once)."""
        with self._lock:
            planner = self._planners.get(policy)
            if planner is None:
                context = dataclasses.replace(
                    files.default_context(), identity=policy.identity, issuer=policy.issuer
                )
                planner = self._planners[policy] = Planner(index=ChecksumIndex(context))
            return planner


@dataclass(frozen=True, slots=True)
class Batch:
    """Files found by discovery: the rows to show, and what the batch task verifies."""

    rows: list[VerifyRow]
    #: (offset in ``rows``, path, size) of every file to verify
    work: list[tuple[int, Path, int | None]]
    planner: Planner


Report = list[tuple[int, FileResult]]


def discover(
    paths: Sequence[Path],
    planner: Planner,
    send: Callable[[Batch], None],
    cancel: CancelToken,
    pacer: Pacer,
) -> int:
    """Worker body: walk ``paths`` and send the files in batches. Returns how many were sent."""
    rows: list[VerifyRow] = []
    work: list[tuple[int, Path, int | None]] = []
    batch_bytes = 0
    sent = 0
    last = time.monotonic()

    def flush() -> None:
        nonlocal rows, work, batch_bytes, sent, last
        if rows:
            send(Batch(rows, work, planner))
            sent += len(rows)
        rows, work, batch_bytes = [], [], 0
        last = time.monotonic()

    found_all = iter(expand(paths, cancel=cancel))
    folder = None
    while True:
        with pacer:
            found = next(found_all, None)
            if found is None:
                break
            if found.problem is not None:
                rows.append(VerifyRow(found.path, None, "error", reason=found.problem))
                continue
            try:
                size: int | None = os.stat(found.path).st_size
            except OSError:
                size = None  # verifying it says why
        if found.path.parent != folder:
            # Read the folder's checksum lists now, before its rows reach the view: parsing
            # a long SHA256SUMS cannot be paced, so it had better not overlap a repaint.
            folder = found.path.parent
            with pacer:
                _prime(planner, found.path)
        if (size is not None and size >= BATCH_BYTES) or batch_bytes + (size or 0) > BATCH_BYTES:
            flush()  # a large file travels alone, so it hashes beside the others
        work.append((len(rows), found.path, size))
        rows.append(VerifyRow(found.path, size))
        batch_bytes += size or 0
        if (
            len(rows) >= BATCH_FILES
            or batch_bytes >= BATCH_BYTES
            or time.monotonic() - last >= BATCH_SECONDS
        ):
            flush()
    cancel.raise_if_cancelled()
    flush()
    return sent


def verify_batch(
    planner: Planner,
    work: Sequence[tuple[int, Path, int | None]],
    *,
    report: Callable[[Report], None],
    file_progress: Callable[[int, int, int], None],
    cancel: CancelToken,
    pacer: Pacer,
) -> Report:
    """Worker body: plan and verify each file; returns the results not yet reported.

    ``work`` holds (row, path, size); ``report`` gets finished (row, result) pairs every
    ``REPORT_SECONDS``; ``file_progress(row, done, total)`` follows large files. Stops between
    files when ``cancel`` is set (the page has marked the rest cancelled already).
    """
    done: Report = []
    last_report = time.monotonic()
    for row, path, size in work:
        if cancel.cancelled:
            break
        large = size is not None and size >= LARGE_FILE
        try:
            if large:
                result = _verify_one(planner, path, _progress_of(row, file_progress), cancel)
            else:
                with pacer:
                    result = _verify_one(planner, path, None, cancel)
        except Cancelled:
            break
        done.append((row, result))
        if time.monotonic() - last_report >= REPORT_SECONDS:
            report(done)
            done = []
            last_report = time.monotonic()
    return done


def _prime(planner: Planner, path: Path) -> None:
    try:
        planner.plan(path)  # cached by the planner's index; the batch task plans it again
    except Exception:
        logger.debug("planning %s ahead failed", path, exc_info=True)


def _progress_of(row: int, file_progress: Callable[[int, int, int], None]) -> ProgressCallback:
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS:
            last = now
            file_progress(row, done, total)

    return progress


def _verify_one(
    planner: Planner, path: Path, progress: ProgressCallback | None, cancel: CancelToken
) -> FileResult:
    """Plan and verify one file; a failure is that file's result, never the batch's end."""
    try:
        return verify_job(planner.plan(path), progress=progress, cancel=cancel)
    except Cancelled:
        raise
    except RelmanError as exc:
        return FileResult(path=path, error=str(exc))
    except Exception as exc:  # a bug, not a verdict on the file: say so, keep the traceback
        logger.error("verifying %s failed unexpectedly", path, exc_info=exc)
        return FileResult(path=path, error=f"internal error: {exc}")


def one_line(exc: object) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class VerifyController(QObject):
    """Runs verification sessions for one :class:`VerifyTableModel`."""

    #: A session started (the page leaves its empty state) / ended (all results in).
    session_started = Signal()
    session_finished = Signal()
    #: A drop could not be verified at all (the trust store cannot be read ...): one line.
    problem = Signal(str)

    def __init__(
        self, runner: TaskRunner, model: VerifyTableModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._model = model
        self._session: _Session | None = None
        #: Shared by every session's workers and the results view (see :class:`Pacer`).
        self.pacer = Pacer()
        model.totals_changed.connect(self._update_activity)

    @property
    def running(self) -> bool:
        return self._session is not None

    @property
    def activity(self) -> Activity | None:
        return self._session.activity if self._session is not None else None

    def add_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        identity: str | None = None,
        issuer: str | None = None,
    ) -> None:
        """Verify ``paths`` (files and folders) with the trust store's keys and, for keyless
        Sigstore signatures, the expected ``identity`` and ``issuer``."""
        chosen = [Path(p) for p in paths]
        if not chosen:
            return
        session = self._ensure_session()
        policy = Policy.of(identity, issuer)
        runner = self._runner

        def send(batch: Batch) -> None:  # worker thread -> GUI thread, in order
            runner.post_to_gui(self._on_batch, session, batch)

        def run(progress: ProgressCallback, cancel: CancelToken) -> int:
            planner = session.planner(policy)
            return discover(chosen, planner, send, cancel, session.pacer)

        task = runner.submit(run, title="finding files", token=session.token)
        session.pending += 1
        task.connect(
            on_error=lambda exc: self._on_discover_failed(session, exc),
            on_finished=lambda: self._on_task_finished(session),
        )

    def cancel(self) -> bool:
        """Cancel the running session; returns False when nothing was running."""
        if self._session is None:
            return False
        self._session.activity.cancel()  # -> _mark_cancelled
        return True

    def _mark_cancelled(self) -> None:
        count = self._model.cancel_unfinished()
        logger.info("verification cancelled (%d files not verified)", count)

    def clear(self) -> None:
        self.cancel()
        self._end_session()
        self._model.clear()

    # -- session ---------------------------------------------------------------------------

    def _ensure_session(self) -> _Session:
        session = self._session
        if session is None or session.token.cancelled:
            if session is not None:
                self._end_session()
            activity = Activity("Verifying files")
            activity.cancel_requested.connect(self._mark_cancelled)
            session = self._session = _Session(activity, self.pacer)
            self._runner.track(activity)
            self.pacer.hold_until_painted(STARTUP_HOLD_MS)
            emit(self.session_started)
        return session

    def _end_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.activity.end()
            emit(self.session_finished)

    def _current(self, session: _Session) -> bool:
        return session is self._session and not session.token.cancelled

    def _on_task_finished(self, session: _Session) -> None:
        session.pending -= 1
        if session.pending == 0 and session is self._session:
            self._model.flush()
            self._end_session()

    def _on_discover_failed(self, session: _Session, exc: object) -> None:
        if isinstance(exc, Cancelled) or session is not self._session:
            return
        if isinstance(exc, RelmanError):  # the trust store cannot be read, for one
            logger.warning("cannot verify the dropped files: %s", exc)
            emit(self.problem, f"Cannot verify: {one_line(exc)}")
        else:
            logger.error("finding files failed", exc_info=exc)  # type: ignore[arg-type]
            emit(self.problem, f"Finding files failed: {one_line(exc)}")

    def _on_batch(self, session: _Session, batch: Batch) -> None:
        if not self._current(session):
            return
        model = self._model
        first = model.append_rows(batch.rows)
        if not batch.work:
            return
        work = [(first + offset, path, size) for offset, path, size in batch.work]
        runner = self._runner

        def report(done: Report) -> None:  # worker thread
            runner.post_to_gui(self._on_results, session, done)

        def file_progress(row: int, done: int, total: int) -> None:  # worker thread
            runner.post_to_gui(self._on_progress, session, row, done, total)

        def run(progress: ProgressCallback, cancel: CancelToken) -> Report:
            return verify_batch(
                batch.planner,
                work,
                report=report,
                file_progress=file_progress,
                cancel=cancel,
                pacer=session.pacer,
            )

        title = work[0][1].name if len(work) == 1 else f"{len(work)} files"
        task = runner.submit(run, title=title, token=session.token)
        session.pending += 1
        task.connect(
            on_result=lambda done: self._on_results(session, done),
            on_error=lambda exc: self._on_batch_failed(session, work, exc),
            on_finished=lambda: self._on_task_finished(session),
        )

    def _on_results(self, session: _Session, done: Report) -> None:
        if session is self._session:
            self._model.set_results(done)

    def _on_progress(self, session: _Session, row: int, done: int, total: int) -> None:
        if session is self._session:
            self._model.set_progress(row, done, total)

    def _on_batch_failed(
        self, session: _Session, work: list[tuple[int, Path, int | None]], exc: object
    ) -> None:
        if isinstance(exc, Cancelled) or session is not self._session:
            return  # cancelled rows were marked when cancel was asked for
        logger.error("a verification batch failed unexpectedly", exc_info=exc)  # type: ignore[arg-type]
        for row, _path, _size in work:
            if not self._model.row(row).finished:
                self._model.set_status(row, "error", f"internal error: {exc}")

    def _update_activity(self) -> None:
        session = self._session
        if session is None:
            return
        counts = self._model.counts()
        total = self._model.rowCount()
        finished = total - counts["queued"] - counts["hashing"]
        done, size = self._model.byte_progress()
        title = f"Verifying files: {finished:,} of {total:,} done"
        session.activity.set_progress(done, size, title)
