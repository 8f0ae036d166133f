"""GUI responsiveness while the Verify page works (not part of the default run).

Run: ``QT_QPA_PLATFORM=offscreen python -m pytest tests/benchmarks/bench_gui.py -s -p no:cacheprovider``

A 5 ms QTimer records the gap between its ticks while verification runs; the largest gap is
the longest the event loop was blocked (a stall the user would feel). Figures are printed
beside a reference gap measured in the same run with nothing running, since these machines
are shared and noisy.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")


from gapmeter import GapMeter

from relman.gui.main_window import MainWindow
from relman.gui.tasks import TaskRunner


@pytest.fixture(autouse=True)
def relman_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELMAN_HOME", str(tmp_path / "home"))


@pytest.fixture
def window(qtbot):
    runner = TaskRunner()
    win = MainWindow(runner)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.verify_page.cancel()
    runner.shutdown()


def idle_reference(qtbot) -> float:
    meter = GapMeter()
    meter.start()
    qtbot.wait(500)
    meter.stop()
    return meter.max_ms


def finished(page) -> bool:
    rows = page.model.rows()
    return bool(rows) and all(r.finished for r in rows) and not page.controller.running


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_event_loop_while_hashing_one_gib(qtbot, window, tmp_path: Path) -> None:
    path = tmp_path / "one-gib.bin"
    block = os.urandom(64 * 1024 * 1024)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for _ in range(16):
            handle.write(block)
            digest.update(block)
    (tmp_path / "one-gib.bin.sha256").write_text(f"{digest.hexdigest()}  one-gib.bin\n")
    reference = idle_reference(qtbot)
    meter = GapMeter()
    page = window.verify_page
    meter.start()
    started = time.perf_counter()
    page.add_paths([path])
    qtbot.waitUntil(lambda: finished(page), timeout=120_000)
    elapsed = time.perf_counter() - started
    meter.stop()
    assert page.model.row(0).status == "verified"
    print(
        f"\n1 GiB verify: {elapsed:.2f} s ({1024 / elapsed:.0f} MiB/s); event loop max gap "
        f"{meter.max_ms:.1f} ms, p99 {meter.percentile_ms(0.99):.1f} ms over {len(meter.gaps)} "
        f"ticks; idle reference max gap {reference:.1f} ms; ratio {meter.max_ms / max(reference, 1):.1f}x"
    )
    assert meter.max_ms < 50


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_event_loop_while_queueing_ten_thousand_files(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    lines = []
    for i in range(10_000):
        data = f"file {i}\n".encode()
        name = f"f{i:05d}.txt"
        (folder / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines))
    reference = idle_reference(qtbot)
    meter = GapMeter()
    page = window.verify_page
    meter.start()
    started = time.perf_counter()
    page.add_paths([folder])
    qtbot.waitUntil(lambda: finished(page), timeout=120_000)
    elapsed = time.perf_counter() - started
    meter.stop()
    assert page.model.counts()["verified"] == 10_000
    print(
        f"\n10,000 files: {elapsed:.2f} s ({10_000 / elapsed:.0f} files/s); event loop max gap "
        f"{meter.max_ms:.1f} ms, p99 {meter.percentile_ms(0.99):.1f} ms over {len(meter.gaps)} "
        f"ticks; idle reference max gap {reference:.1f} ms; ratio {meter.max_ms / max(reference, 1):.1f}x"
    )
    assert meter.max_ms < 100
