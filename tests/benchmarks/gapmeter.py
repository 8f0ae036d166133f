"""How long the Qt event loop goes without running: a 5 ms timer records the gaps between
its ticks while the GUI works (the GUI benchmarks' one measure of a stall)."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

TICK_MS = 5


class GapMeter:
    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.gaps.clear()
        self.timer.start()

    def stop(self) -> float:
        """Stop measuring; the largest gap in seconds."""
        self.timer.stop()
        return max(self.gaps, default=0.0)

    @property
    def max_ms(self) -> float:
        return max(self.gaps) * 1000 if self.gaps else 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.gaps)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0
