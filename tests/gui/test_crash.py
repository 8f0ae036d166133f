"""The global exception hook: logged, shown with a copyable traceback, never recursive."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from PySide6.QtGui import QGuiApplication

from relman.gui.app import setup_logging
from relman.gui.crash import ExceptionHook
from relman.paths import resolve


def raised(message: str) -> BaseException:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def test_hook_writes_the_log_and_shows_the_dialog(qtbot, relman_home: Path) -> None:
    log_file = resolve().log_file
    hook = ExceptionHook(log_file)
    exc = raised("boom in a slot")
    hook.handle(type(exc), exc, exc.__traceback__)
    assert "boom in a slot" in log_file.read_text()
    assert "Traceback" in log_file.read_text()
    dialog = hook.dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    view = dialog.traceback_view
    assert view.isReadOnly()
    assert "RuntimeError: boom in a slot" in view.toPlainText()
    dialog.copy_button.click()
    assert "boom in a slot" in QGuiApplication.clipboard().text()
    assert any(
        str(log_file) in label.text()
        for label in dialog.findChildren(type(dialog.children()[1]))
        if hasattr(label, "text")
    )
    dialog.reject()
    assert not dialog.isVisible()


def test_second_exception_while_open_joins_the_same_dialog(qtbot, relman_home: Path) -> None:
    hook = ExceptionHook(resolve().log_file)
    first, second = raised("first"), raised("second")
    hook.handle(type(first), first, first.__traceback__)
    dialog = hook.dialog
    qtbot.addWidget(dialog)
    hook.handle(type(second), second, second.__traceback__)
    assert hook.dialog is dialog
    text = dialog.traceback_view.toPlainText()
    assert "first" in text and "second" in text
    dialog.reject()


def test_hook_failure_falls_back_without_recursing(
    qtbot, relman_home: Path, monkeypatch, capsys
) -> None:
    hook = ExceptionHook(resolve().log_file)

    def broken(text: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(hook, "write_log", broken)
    exc = raised("original")
    hook.handle(type(exc), exc, exc.__traceback__)  # must not raise
    err = capsys.readouterr().err
    assert "original" in err and "disk full" in err
    assert hook.dialog is None


def test_reentry_uses_the_default_hook(qtbot, relman_home: Path, capsys) -> None:
    hook = ExceptionHook(resolve().log_file)
    hook._busy = True  # as if the hook itself raised while handling
    exc = raised("inner")
    hook.handle(type(exc), exc, exc.__traceback__)
    assert "inner" in capsys.readouterr().err
    assert hook.dialog is None


def test_thread_exception_reaches_the_gui_thread(qtbot, relman_home: Path) -> None:
    hook = ExceptionHook(resolve().log_file)
    hook.install()
    try:
        assert sys.excepthook == hook.handle
        thread = threading.Thread(target=lambda: 1 / 0)
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: hook.dialog is not None, timeout=5000)
        qtbot.addWidget(hook.dialog)
        assert "ZeroDivisionError" in hook.dialog.traceback_view.toPlainText()
        hook.dialog.reject()
    finally:
        hook.uninstall()
    assert sys.excepthook is not hook.handle


def test_log_goes_through_logging_when_configured(qtbot, relman_home: Path) -> None:
    log_file = resolve().log_file
    handler = setup_logging(log_file)
    try:
        hook = ExceptionHook(log_file)
        exc = raised("via logging")
        hook.handle(type(exc), exc, exc.__traceback__)
        qtbot.addWidget(hook.dialog)
        handler.flush()
        assert log_file.read_text().count("via logging") == 1
        hook.dialog.reject()
    finally:
        import logging

        logging.getLogger().removeHandler(handler)
        handler.close()


def test_keyboard_interrupt_is_not_shown(qtbot, relman_home: Path, capsys) -> None:
    hook = ExceptionHook(resolve().log_file)
    exc = KeyboardInterrupt()
    hook.handle(KeyboardInterrupt, exc, None)
    assert hook.dialog is None
