"""Start the desktop app: QApplication, logging, the exception hook, the main window.

``relman`` with no arguments (or ``relman gui``) calls :func:`main` with parsed options; the
``relman-gui`` script calls it with none, and the options are parsed from ``sys.argv`` here.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from PySide6.QtGui import QStyleHints
from PySide6.QtWidgets import QApplication

from relman import APP_ID, APP_NAME, __version__
from relman.errors import RelmanError
from relman.paths import ensure_dir, resolve

from .crash import ExceptionHook
from .icons import app_icon, style_sheet
from .main_window import MainWindow
from .qtcompat import EMIT_DROPS_TRUE
from .tasks import TaskRunner

logger = logging.getLogger(__name__)

LOG_BYTES = 2 * 1024 * 1024
LOG_BACKUPS = 3


def setup_logging(log_file: Path) -> logging.Handler:
    """A rotating log file for the whole process; returns the handler (tests remove it)."""
    ensure_dir(log_file.parent)
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication with relman's identity, icon and style (reused if one exists)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv or [APP_NAME]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName(APP_NAME)
    QApplication.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon(app.palette()))
    app.setStyleSheet(style_sheet())
    return app


def _follow_color_scheme(app: QApplication, window: MainWindow) -> None:
    """Re-tint icons when the system switches between light and dark."""

    def changed(*_: object) -> None:
        window.icons.retint(app.palette())
        app.setWindowIcon(app_icon(app.palette()))
        window.update()

    hints: QStyleHints = app.styleHints()
    hints.colorSchemeChanged.connect(changed)


def parse_args(argv: list[str]) -> argparse.Namespace | int:
    """``relman [gui] [--profile P]``; an exit status on a usage error (one line, like the CLI)."""

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")

    parser = _Parser(prog="relman gui", description="open the relman desktop app")
    parser.add_argument("--profile", help="registry profile to open")
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def main(argv: list[str] | None = None) -> int:
    """Run the app until its window closes; returns the exit status."""
    parsed = parse_args(sys.argv[1:] if argv is None else argv)
    if isinstance(parsed, int):
        return parsed
    options = parsed
    paths = resolve()
    try:
        handler = setup_logging(paths.log_file)
    except RelmanError as exc:
        print(f"relman: {exc}", file=sys.stderr)
        return 2
    logger.info("relman %s starting (profile %s)", __version__, getattr(options, "profile", None))
    if EMIT_DROPS_TRUE:
        logger.warning(
            "this PySide6 build mis-counts references on CPython %s; use PySide6 < 6.12 here",
            sys.version.split()[0],
        )
    app = create_application(sys.argv[:1])
    hook = ExceptionHook(paths.log_file)
    hook.install()
    runner = TaskRunner()
    window = MainWindow(runner)
    _follow_color_scheme(app, window)
    window.show()
    try:
        status = app.exec()
    finally:
        runner.shutdown()
        hook.uninstall()
        logger.info("relman exiting")
        logging.getLogger().removeHandler(handler)
        handler.close()
    return int(status)
