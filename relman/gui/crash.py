"""The last line of defence: unhandled exceptions are logged and shown, never lost.

:class:`ExceptionHook` replaces ``sys.excepthook`` and ``threading.excepthook``. Every
exception is written to the log file with its traceback first (that cannot fail silently:
when no logging handler writes to the log file, the hook appends to it itself), then shown in a
dialog with the traceback in a read-only, copyable text box and the log path. An exception raised
while the dialog is open is added to the open dialog instead of opening another; one raised by
the hook itself falls back to Python's default hook, so the hook can never recurse.
Exceptions of worker threads reach the GUI thread by a queued signal; no widget is ever created
off the GUI thread.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from relman.gui.qtcompat import emit
from relman.paths import ensure_dir

logger = logging.getLogger(__name__)


class CrashDialog(QDialog):
    """Says something went wrong, with the traceback to copy and the log path."""

    def __init__(self, log_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("relman: unexpected error")
        self.setAccessibleName("Unexpected error")
        self.resize(720, 420)
        intro = QLabel(
            "Something went wrong inside relman. Your data is unchanged. The details below are "
            f"also in the log file:\n{log_file}"
        )
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        intro.setAccessibleName("Error explanation")
        self.traceback_view = QPlainTextEdit()
        self.traceback_view.setReadOnly(True)
        self.traceback_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.traceback_view.setAccessibleName("Traceback")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.setAccessibleName("Error dialog buttons")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAccessibleName("Copy traceback")
        self.copy_button.clicked.connect(self.copy)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        close.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.traceback_view, 1)
        layout.addWidget(buttons)

    def add_report(self, text: str) -> None:
        if self.traceback_view.toPlainText():
            self.traceback_view.appendPlainText("\n" + "-" * 60 + "\n")
        self.traceback_view.appendPlainText(text)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.traceback_view.toPlainText())


class ExceptionHook(QObject):
    """Install with :meth:`install`, remove with :meth:`uninstall` (tests do both)."""

    _from_thread = Signal(str)

    def __init__(self, log_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.dialog: CrashDialog | None = None
        self._busy = False
        self._saved: tuple[object, object] | None = None
        self._from_thread.connect(self._show)

    def install(self) -> None:
        self._saved = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.handle
        threading.excepthook = self.handle_thread

    def uninstall(self) -> None:
        if self._saved is not None:
            sys.excepthook, threading.excepthook = self._saved  # type: ignore[assignment]
            self._saved = None

    # -- hooks -------------------------------------------------------------------------------

    def handle(
        self,
        exc_type: type[BaseException],
        exc_value: BaseException,
        exc_tb: TracebackType | None,
    ) -> None:
        """``sys.excepthook``: log, then show (or hand over to the GUI thread)."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc_value, exc_tb)
            return
        if self._busy:  # raised by the hook itself: never recurse
            sys.__excepthook__(exc_type, exc_value, exc_tb)
            return
        self._busy = True
        try:
            text = self.report(exc_type, exc_value, exc_tb)
            self.write_log(text)
            if _on_gui_thread():
                self._show(text)
            else:
                emit(self._from_thread, text)
        except Exception:  # the hook must not fail; say so where Python would have
            sys.__excepthook__(exc_type, exc_value, exc_tb)
            traceback.print_exc()
        finally:
            self._busy = False

    def handle_thread(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``."""
        if args.exc_value is None:
            return
        self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    # -- parts -------------------------------------------------------------------------------

    @staticmethod
    def report(
        exc_type: type[BaseException], exc_value: BaseException, exc_tb: TracebackType | None
    ) -> str:
        lines = traceback.format_exception(exc_type, exc_value, exc_tb)
        return "".join(lines).rstrip()

    def write_log(self, text: str) -> None:
        """Log the report; append it to the log file directly when no handler writes there."""
        logger.critical("unhandled exception\n%s", text)
        if _has_handler_for(self.log_file):
            return
        ensure_dir(self.log_file.parent)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} CRITICAL {__name__}: unhandled exception\n{text}\n")

    def _show(self, text: str) -> None:
        if QApplication.instance() is None:
            return
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.add_report(text)
            return
        parent = QApplication.activeWindow()
        self.dialog = CrashDialog(self.log_file, parent)
        self.dialog.add_report(text)
        self.dialog.setModal(True)
        self.dialog.show()  # not exec(): the hook returns, the event loop keeps running


def _on_gui_thread() -> bool:
    app = QApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


def _has_handler_for(log_file: Path) -> bool:
    target = str(log_file.absolute())
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and handler.baseFilename == target:
            return True
    return False
