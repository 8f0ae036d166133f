"""Work-arounds for defects of the installed Qt binding, each detected rather than assumed.

PySide6 6.12.0 on CPython 3.11 returns ``True`` from ``SignalInstance.emit()`` without taking
a reference, so every emission made from Python drops one reference to ``True``; after a few
hundred emissions the interpreter aborts with "bool_dealloc: deallocating True or False".
(From CPython 3.12 on ``True`` is immortal and nothing happens.) Every emission in
``relman.gui`` goes through :func:`emit`, which probes the binding once and gives the reference
back when it is taken.

That build also drops a reference to ``None`` on calls of some void methods (``QTimer.stop``,
``QTimer.start``), which no wrapper here can repair: with CPython 3.11 the project needs
PySide6 < 6.12 (6.11.3 is clean); the app logs a warning when it detects the defect.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

logger = logging.getLogger(__name__)

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    probed = Signal(int)


def _emit_drops_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.probed.emit(0)
    after = sys.getrefcount(True)
    if after < before:
        _incref(True)  # give back the reference the probe itself took
        return True
    return False


#: Whether ``SignalInstance.emit`` drops a reference to ``True`` in this interpreter.
EMIT_DROPS_TRUE = _emit_drops_true()
if EMIT_DROPS_TRUE:
    logger.debug("this PySide6 drops a reference to True on emit(); compensating")


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, safe on every PySide6 version (any thread)."""
    signal.emit(*args)
    if EMIT_DROPS_TRUE:
        _incref(True)
