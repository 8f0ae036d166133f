"""The ``relman`` entry point: no arguments (or ``gui``) opens the app, anything else is the CLI.

Kept tiny so that ``relman verify --help`` never pays for importing Qt.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] == "gui":
        try:
            from relman.gui.app import main as gui_main
        except ImportError as exc:
            print(
                f"relman: cannot open the desktop app: {exc} "
                "(install PySide6, or use a command such as 'relman verify')",
                file=sys.stderr,
            )
            return 2
        return int(gui_main(args[1:]))
    from relman.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
