"""The task runner: results on the GUI thread, serial order, errors, progress, cancel."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from relman.errors import Cancelled
from relman.gui.tasks import Activity, TaskRunner


def test_result_arrives_on_gui_thread(qtbot, runner: TaskRunner) -> None:
    seen: dict[str, object] = {}

    def work(progress, cancel):
        seen["worker"] = threading.current_thread() is not threading.main_thread()
        return 42

    task = runner.submit(work, title="answer")

    def on_result(value: object) -> None:
        seen["value"] = value
        seen["gui"] = QThread.currentThread() is QApplication.instance().thread()

    task.connect(on_result=on_result)
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert seen == {"worker": True, "value": 42, "gui": True}
    assert runner.running == 0


def test_serial_tasks_run_one_at_a_time_in_order(qtbot, runner: TaskRunner) -> None:
    lock = threading.Lock()
    active = [0]
    overlap = [False]
    order: list[int] = []

    def make(n: int):
        def work(progress, cancel):
            with lock:
                active[0] += 1
                overlap[0] |= active[0] > 1
            time.sleep(0.01)
            order.append(n)
            with lock:
                active[0] -= 1
            return n

        return work

    tasks = [runner.submit(make(n), serial=True) for n in range(12)]
    delivered: list[int] = []
    for task in tasks:
        task.connect(on_result=delivered.append)
    qtbot.waitUntil(lambda: len(delivered) == 12, timeout=10_000)
    assert order == list(range(12))
    assert delivered == list(range(12))
    assert not overlap[0]


def test_parallel_pool_uses_several_threads(runner: TaskRunner) -> None:
    assert runner.parallel_pool.maxThreadCount() >= 1
    assert runner.serial_pool.maxThreadCount() == 1


def test_errors_are_delivered_not_raised(qtbot, runner: TaskRunner) -> None:
    def work(progress, cancel):
        raise ValueError("broken input")

    task = runner.submit(work)
    errors: list[BaseException] = []
    order: list[str] = []
    task.connect(
        on_error=lambda exc: (errors.append(exc), order.append("error")),
        on_result=lambda value: order.append("result"),
        on_finished=lambda: order.append("finished"),
    )
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert isinstance(errors[0], ValueError)
    assert task.error is errors[0]
    assert order == ["error", "finished"]
    assert not task.cancelled


def test_progress_is_throttled(qtbot, runner: TaskRunner) -> None:
    def work(progress, cancel):
        for i in range(200_000):
            progress(i, 200_000)
        time.sleep(0.12)  # let the last interval pass so at least one emission happens
        progress(200_000, 200_000)
        return None

    task = runner.submit(work)
    emissions: list[tuple[int, int]] = []
    task.connect(on_progress=lambda d, t: emissions.append((d, t)))
    qtbot.waitUntil(lambda: task.finished, timeout=10_000)
    assert 1 <= len(emissions) < 200
    assert task.total == 200_000


def test_cancel_reaches_the_worker(qtbot, runner: TaskRunner) -> None:
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while not cancel.cancelled:
            time.sleep(0.005)
        cancel.raise_if_cancelled()

    task = runner.submit(work, track=True)
    assert task.activity in runner.activities
    assert started.wait(5)
    task.cancel()
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert task.cancelled
    assert isinstance(task.error, Cancelled)
    assert runner.activities == []


def test_task_cancelled_before_it_starts_never_runs(qtbot, runner: TaskRunner) -> None:
    ran = []
    gate = threading.Event()
    blocker = runner.submit(lambda p, c: gate.wait(5), serial=True)
    queued = runner.submit(lambda p, c: ran.append(1), serial=True)
    queued.cancel()
    gate.set()
    qtbot.waitUntil(lambda: queued.finished, timeout=5000)
    assert blocker.error is None
    assert ran == []
    assert queued.cancelled


def test_activity_cancel_emits_once(qtbot) -> None:
    activity = Activity("something")
    with qtbot.waitSignal(activity.cancel_requested, timeout=1000):
        activity.cancel()
    with qtbot.assertNotEmitted(activity.cancel_requested):
        activity.cancel()
    assert activity.token.cancelled


def test_shutdown_waits_for_workers(qtbot) -> None:
    runner = TaskRunner(parallel_threads=2)
    for _ in range(4):
        runner.submit(lambda p, c: [time.sleep(0.01) for _ in range(50) if not c.cancelled])
    assert runner.shutdown(timeout_ms=5000)


@pytest.mark.parametrize("serial", [False, True])
def test_activities_are_tracked_until_they_end(qtbot, runner: TaskRunner, serial: bool) -> None:
    started: list[object] = []
    runner.activity_started.connect(started.append)
    task = runner.submit(lambda p, c: None, serial=serial, track=True, title="tracked")
    assert started == [task.activity]
    assert task.activity.title == "tracked"
    with qtbot.waitSignal(task.activity.ended, timeout=5000):
        pass
    assert runner.activities == []
