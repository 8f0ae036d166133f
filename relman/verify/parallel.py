"""Run one function over many items on a few worker threads, results as they finish.

Workers take the next item themselves and hand results back on one queue: no future and no
``wait()`` per item, so thousands of small files cost little beyond their own work. The
work itself (hashing, reading) releases the GIL; planning a file on one worker overlaps with
hashing on another.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from relman.errors import Cancelled, RelmanError
from relman.model import CancelToken

T = TypeVar("T")


def run_parallel(
    count: int,
    work: Callable[[int], T],
    *,
    workers: int,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[int, T | RelmanError]]:
    """Yield ``(index, work(index))`` for ``index`` in ``range(count)``, in completion order.

    A :class:`RelmanError` raised by ``work`` is yielded as that item's outcome; anything
    else (a bug, :class:`Cancelled`) stops the run and is raised in the caller.
    """
    if workers <= 1 or count <= 1:
        for index in range(count):
            if cancel is not None:
                cancel.raise_if_cancelled()
            yield index, _call(work, index)
        return
    results: queue.SimpleQueue[tuple[int, T | BaseException] | None] = queue.SimpleQueue()
    lock = threading.Lock()
    position = [0]
    stop = threading.Event()

    def worker() -> None:
        try:
            while not stop.is_set() and not (cancel is not None and cancel.cancelled):
                with lock:
                    index = position[0]
                    if index >= count:
                        return
                    position[0] = index + 1
                try:
                    results.put((index, _call(work, index)))
                except BaseException as exc:  # handed to the caller's thread
                    results.put((index, exc))
                    return
        finally:
            results.put(None)

    threads = [
        threading.Thread(target=worker, name="relman-worker", daemon=True)
        for _ in range(min(workers, count))
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            item = results.get()
            if item is None:
                running -= 1
                continue
            if cancel is not None:
                cancel.raise_if_cancelled()
            index, outcome = item
            if isinstance(outcome, BaseException) and not isinstance(outcome, RelmanError):
                raise outcome
            yield index, outcome
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _call(work: Callable[[int], T], index: int) -> T | RelmanError:
    try:
        return work(index)
    except Cancelled:
        raise
    except RelmanError as exc:
        return exc


def run_all(
    count: int,
    work: Callable[[int], T],
    *,
    workers: int,
    cancel: CancelToken | None = None,
) -> list[T | RelmanError]:
    """``[work(0), work(1), ...]`` computed on ``workers`` threads, in index order.

    Unlike :func:`run_parallel` the caller does not wake up per item: workers write each
    outcome into its slot and the caller waits for the threads once. For thousands of small
    files this saves a lock hand-over per file.
    """
    if workers <= 1 or count <= 1:
        return [outcome for _, outcome in run_parallel(count, work, workers=1, cancel=cancel)]
    slots: list[T | RelmanError | None] = [None] * count
    lock = threading.Lock()
    position = [0]
    failure: list[BaseException] = []

    def worker() -> None:
        while not failure and not (cancel is not None and cancel.cancelled):
            with lock:
                index = position[0]
                if index >= count:
                    return
                position[0] = index + 1
            try:
                slots[index] = _call(work, index)
            except BaseException as exc:  # handed to the caller's thread
                failure.append(exc)
                return

    threads = [
        threading.Thread(target=worker, name="relman-worker", daemon=True)
        for _ in range(min(workers, count))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failure:
        raise failure[0]
    if cancel is not None:
        cancel.raise_if_cancelled()
    return [slot for slot in slots if slot is not None]
