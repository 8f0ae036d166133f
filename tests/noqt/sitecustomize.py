"""Make PySide6 unimportable in this interpreter (used by the no-Qt test run).

Put this folder on PYTHONPATH with RELMAN_BLOCK_QT=1: any import of PySide6 or shiboken6
then fails exactly as it would on a machine without Qt.
"""

import os
import sys

if os.environ.get("RELMAN_BLOCK_QT") == "1":
    from importlib.abc import MetaPathFinder

    class _BlockQt(MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] in {"PySide6", "shiboken6"}:
                raise ModuleNotFoundError(
                    f"No module named {fullname!r} (blocked for this test run)"
                )
            return None

    sys.meta_path.insert(0, _BlockQt())
