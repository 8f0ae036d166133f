"""The status bar's task area: how many tasks run, the first one's progress, and Cancel."""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from .tasks import Activity, TaskRunner

logger = logging.getLogger(__name__)

REFRESH_MS = 250


class TaskStatus(QWidget):
    """Follows the activities a :class:`TaskRunner` tracks."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._shown: Activity | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("No tasks running")
        self.label.setMinimumWidth(320)
        self.label.setAccessibleName("Task status")
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Task progress")
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setAccessibleName("Cancel task")
        self.cancel_button.setToolTip("Cancel the task shown here (Esc on the Verify page)")
        self.cancel_button.clicked.connect(self.cancel_shown)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        # Progress changes are coalesced: a progress bar repaints synchronously, and the
        # status bar's relayout is not free either.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh)
        runner.activity_started.connect(self._on_started)
        self._refresh()

    def _on_started(self, activity: Activity) -> None:
        activity.changed.connect(self._refresh_soon)
        activity.cancel_requested.connect(self._refresh)
        activity.ended.connect(self._refresh)
        self._refresh()

    def _refresh_soon(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def cancel_shown(self) -> None:
        if self._shown is not None:
            self._shown.cancel()

    def _refresh(self) -> None:
        self._timer.stop()
        activities = self._runner.activities
        self._shown = activities[0] if activities else None
        busy = self._shown is not None
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if self._shown is None:
            self.label.setText("No tasks running")
            return
        shown = self._shown
        count = len(activities)
        prefix = f"{count} tasks: " if count > 1 else ""
        state = " (cancelling…)" if shown.token.cancelled else ""
        self.label.setText(f"{prefix}{shown.title}{state}")
        if shown.total > 0:
            self.bar.setRange(0, 100)
            value = min(100, shown.done * 100 // shown.total)
            if value != self.bar.value():
                self.bar.setValue(value)
        else:
            self.bar.setRange(0, 0)  # busy indicator while the size is unknown
        self.cancel_button.setEnabled(not shown.token.cancelled)
