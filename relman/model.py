"""Plain, immutable data shared by every layer. No I/O here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from relman.errors import Cancelled

#: ``progress(done, total)`` in bytes (or items); total may be 0 when unknown.
ProgressCallback = Callable[[int, int], None]


class CancelToken:
    """A cancel flag shared between a caller and a long-running operation.

    It wraps :class:`threading.Event` so the GUI can cancel from its own thread.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass(frozen=True, slots=True)
class BuildIdentity:
    """Start time (UTC, whole seconds) + sequential build number + git commit.

    ``commit`` is lower-case hex: the full 40 (or 64, SHA-256 repositories) digits when known,
    otherwise the 12-digit prefix that the short form carries.
    """

    started: datetime
    number: int
    commit: str

    def __str__(self) -> str:
        return f"{self.started.strftime('%Y%m%dT%H%M%SZ')}.{self.number}.{self.commit[:12]}"

    @property
    def full(self) -> str:
        """The identity with the whole commit, for records that must not be ambiguous."""
        return f"{self.started.strftime('%Y%m%dT%H%M%SZ')}.{self.number}.{self.commit}"
