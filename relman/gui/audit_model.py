"""The Audit page's data: the log read and verified in a worker, and the entries table.

:func:`read_audit` is what the page submits to the task runner: it reads the log
(:meth:`~relman.release.audit.AuditLog.scan`), checks the chain, every signature and the head
(:meth:`~relman.release.audit.AuditLog.verify`), finds the promotions that began and never
ended (:meth:`~relman.release.audit.AuditLog.pending`) and makes every table row, so the GUI
thread only receives an immutable :class:`AuditSnapshot`. A 10,000-entry log takes about a
second to verify; none of it runs on the GUI thread.

The chain's state is said in words (:func:`chain_headline`), and each row carries the problems
:meth:`verify` named on its line: status is never a colour alone.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont, QFontDatabase

from relman.errors import RelmanError
from relman.model import CancelToken, Profile, ProgressCallback
from relman.registry import opened
from relman.release.anchors import check_anchors
from relman.release.audit import AuditLog, ChainReport, Entry, Problem
from relman.release.gc_pause import gc_paused

from .builds_model import exact
from .icons import IconSet
from .keys_models import parse_utc, relative_time, shorten_middle
from .qtcompat import emit
from .table_base import ObjectRole, RowsTableModel, SearchProxyModel, SortRole

logger = logging.getLogger(__name__)

COL_STATUS, COL_SEQ, COL_TIME, COL_EVENT, COL_KEY, COL_FINGERPRINT, COL_SUMMARY = range(7)
HEADERS = ("Chain", "Seq", "Time", "Event", "Key", "Fingerprint", "Summary")
MONO = frozenset({COL_SEQ, COL_FINGERPRINT})

#: Problem kinds that concern an entry's signature rather than its place in the chain.
SIGNATURE_KINDS = frozenset({"signature", "unknown-key"})
#: The steps :func:`read_audit` reports as progress.
STEPS = 3


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One entry as the table shows it, with the problems named on its line."""

    entry: Entry
    problems: tuple[Problem, ...]
    time_text: str
    time_exact: str
    fingerprint_short: str
    summary: str
    #: Lower-case text the search box matches: every column and the body as JSON.
    blob: str

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status_word(self) -> str:
        return "ok" if self.ok else "problem"

    @property
    def signature_status(self) -> tuple[bool, str]:
        """(verified, what the check of this entry's signature found)."""
        for problem in self.problems:
            if problem.kind == "unknown-key":
                return False, "not verified: signed by a key relman does not know"
            if problem.kind == "signature":
                return False, "does not verify: the entry or its signature was changed"
        return True, f"verified with {self.entry.key} ({self.fingerprint_short})"


@dataclass(frozen=True, slots=True)
class AuditSnapshot:
    """The log as read and verified at ``checked`` (UTC)."""

    path: Path
    rows: tuple[AuditRow, ...]
    report: ChainReport
    pending: tuple[Entry, ...]
    #: Why the pending promotions could not be listed (a line that is not an entry), or "".
    pending_error: str
    checked: datetime

    @property
    def events(self) -> list[str]:
        return sorted({row.entry.event for row in self.rows})

    @property
    def last(self) -> Entry | None:
        return self.rows[-1].entry if self.rows else None

    def to_json(self) -> dict[str, Any]:
        """The exported report: ``relman audit verify --json`` plus the pending promotions."""
        return {
            **self.report.to_json(),
            "path": str(self.path),
            "checked": self.checked.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "pending": [entry.to_json() for entry in self.pending],
            "pending_error": self.pending_error or None,
        }


def make_row(entry: Entry, problems: tuple[Problem, ...], now: datetime) -> AuditRow:
    summary = entry.summary()
    fingerprint = shorten_middle(entry.fingerprint, 4)
    when = parse_utc(entry.time)
    return AuditRow(
        entry=entry,
        problems=problems,
        time_text=relative_time(entry.time, now),
        time_exact=exact(when) if when else entry.time,
        fingerprint_short=fingerprint,
        summary=summary,
        blob="\n".join(
            (
                str(entry.seq),
                entry.time,
                entry.event,
                entry.key,
                entry.fingerprint,
                summary,
                json.dumps(entry.body, ensure_ascii=False),
                "ok" if not problems else "problem",
            )
        ).lower(),
    )


def read_audit(
    log: AuditLog,
    progress: ProgressCallback,
    cancel: CancelToken,
    now: datetime | None = None,
    profile: Profile | None = None,
) -> AuditSnapshot:
    """The worker's body: read, verify and list the pending promotions of ``log``.

    The cyclic garbage collector is paused meanwhile (:func:`gc_paused`): the entries are
    many small objects that all stay alive, and a full collection, run in this thread with
    the GIL held, stalled the GUI thread for ~100 ms on 10,000 entries."""
    with gc_paused():
        progress(0, STEPS)
        scan = log.scan()
        cancel.raise_if_cancelled()
        progress(1, STEPS)
        report = log.verify()
        cancel.raise_if_cancelled()
        if profile is not None:
            report = _with_anchors(report, log, profile, cancel)
        progress(2, STEPS)
        try:
            pending, pending_error = tuple(log.pending()), ""
        except RelmanError as exc:
            pending, pending_error = (), str(exc)
    by_line: dict[int, list[Problem]] = {}
    for problem in report.issues:
        if problem.line is not None:
            by_line.setdefault(problem.line, []).append(problem)
    moment = now or datetime.now(UTC)
    rows = tuple(
        make_row(entry, tuple(by_line.get(entry.line, ())), moment) for entry in scan.entries
    )
    progress(STEPS, STEPS)
    return AuditSnapshot(log.path, rows, report, pending, pending_error, moment)


def _with_anchors(
    report: ChainReport, log: AuditLog, profile: Profile, cancel: CancelToken
) -> ChainReport:
    """``report`` with what the promotion records in ``profile``'s registry say of the log
    (:func:`relman.release.anchors.check_anchors`): a log cut back below a promotion, or
    written over it, is broken even when its own chain and head agree. A registry that
    cannot be read is a problem of its own, named, not a silent pass."""
    try:
        with opened(profile) as registry:
            anchors = check_anchors(log, registry, cancel=cancel)
    except RelmanError as exc:
        why = f"the promotion records of profile {profile.name} could not be read: {exc}"
        problem = Problem(None, "anchor", why)
        return dataclasses.replace(report, issues=(*report.issues, problem))
    return dataclasses.replace(report, issues=(*report.issues, *anchors.issues))


def chain_headline(snapshot: AuditSnapshot) -> str:
    """The chain's state in one plain sentence."""
    report = snapshot.report
    entries = _plural(report.entries, "entry", "entries")
    if not report.ok:
        count = _plural(len(report.issues), "problem", "problems")
        return f"Chain BROKEN: {count} found in {entries}"
    last = snapshot.last
    if last is None:
        return "Chain intact: the audit log is empty"
    return f"Chain intact: {entries}, the last one {relative_time(last.time, snapshot.checked)}"


def chain_details(snapshot: AuditSnapshot) -> list[str]:
    """What goes under the headline: each problem, or who signed and where the head is."""
    report = snapshot.report
    if not report.ok:
        return report.problems
    if report.entries == 0:
        return [
            "relman records every promotion's intent and outcome, approvals and rollbacks here "
            "as they happen."
        ]
    last = snapshot.last
    said = [
        f"Last entry written {last.time if last else 'never'}. Every entry is signed and "
        f"chained to the one before; head at entry {report.head}."
    ]
    if report.signers:
        said.append(f"Signed by {', '.join(report.signers)}.")
    return said


def pending_text(entry: Entry) -> str:
    """One interrupted promotion in words, with the commands that finish or revert it."""
    body = entry.body
    build = body.get("build", "a build")
    source, target = body.get("from"), body.get("to", "?")
    route = f"{source} → {target}" if source else f"to {target}"
    kind = "rollback" if body.get("rollback") else "promotion"
    profile = body.get("profile")
    promoter = body.get("promoter")
    who = promoter.get("key") if isinstance(promoter, dict) else entry.key
    how = (
        f"finish it with relman promote --profile {profile} --resume, or revert it with --undo"
        if profile
        else "finish it with relman promote --resume, or revert it with --undo"
    )
    when = f"{relative_time(entry.time)} ({entry.time})"
    return f"{kind} of {build} {route} by {who}, {when}, began and never ended; {how}"


class AuditTableModel(RowsTableModel):
    """The entries, in file order until sorted; :data:`ObjectRole` is the :class:`AuditRow`.

    The model sorts itself (one Python sort by a key, reported as a layout change): a
    QSortFilterProxyModel sort would call :meth:`data` twice per comparison, about a second
    for 10,000 entries on the GUI thread."""

    HEADERS = HEADERS

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self._rows: list[AuditRow] = []
        self._mono = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        #: The sort column (-1: file order) and order.
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    def set_rows(self, rows: list[AuditRow] | tuple[AuditRow, ...]) -> None:
        self.beginResetModel()
        self._rows = self._sorted(list(rows))
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column`` (-1: back to file order), keeping the selection."""
        self._sort = (column, order)
        emit(self.layoutAboutToBeChanged)
        before = self.persistentIndexList()
        held = [self._rows[index.row()] for index in before]
        self._rows = self._sorted(self._rows)
        position = {id(row): number for number, row in enumerate(self._rows)}
        after = [
            self.index(position[id(row)], index.column())
            for row, index in zip(held, before, strict=True)
        ]
        self.changePersistentIndexList(before, after)
        emit(self.layoutChanged)

    def _sorted(self, rows: list[AuditRow]) -> list[AuditRow]:
        column, order = self._sort
        descending = order == Qt.SortOrder.DescendingOrder
        if not 0 <= column < len(HEADERS):
            return sorted(rows, key=lambda row: row.entry.line)
        return sorted(
            rows,
            key=lambda row: (self._sort_key(row, column), row.entry.line),
            reverse=descending,
        )

    def rows(self) -> list[AuditRow]:
        return list(self._rows)

    def row_at(self, position: int) -> AuditRow | None:
        return self._rows[position] if 0 <= position < len(self._rows) else None

    def row_of(self, seq: int) -> int | None:
        """The position of the first row holding entry ``seq``."""
        for number, row in enumerate(self._rows):
            if row.entry.seq == seq:
                return number
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(row, column)
        if role == SortRole:
            return self._sort_key(row, column)
        if role == ObjectRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COL_STATUS:
            return self._icons.status("verified" if row.ok else "failed")
        if role == Qt.ItemDataRole.FontRole and column in MONO:
            return self._mono
        return None

    @staticmethod
    def _text(row: AuditRow, column: int) -> str:
        entry = row.entry
        return (
            row.status_word,
            str(entry.seq),
            row.time_text,
            entry.event,
            entry.key,
            row.fingerprint_short,
            row.summary,
        )[column]

    @staticmethod
    def _sort_key(row: AuditRow, column: int) -> Any:
        entry = row.entry
        if column == COL_STATUS:
            return int(row.ok)
        if column in (COL_SEQ, COL_TIME):
            # Time stamps sort as text; the line breaks a tie (or a reordered log).
            return entry.seq if column == COL_SEQ else f"{entry.time}\0{entry.line:09d}"
        return (entry.event, entry.key, entry.fingerprint, "", row.summary)[column - COL_EVENT]

    @staticmethod
    def _tooltip(row: AuditRow, column: int) -> str | None:
        entry = row.entry
        if column == COL_STATUS:
            if row.ok:
                return f"line {entry.line}: no problem found"
            return "\n".join(str(p) for p in row.problems)
        if column == COL_TIME:
            return row.time_exact
        if column == COL_FINGERPRINT:
            return entry.fingerprint
        if column == COL_SUMMARY:
            return entry.summary(width=400)
        return None


class AuditProxyModel(SearchProxyModel):
    """Search (every column and the body) and the event filter, over each row's text blob;
    sorting is the source model's (see :class:`AuditTableModel`)."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        if isinstance(model, AuditTableModel):
            model.sort(column, order)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.search = ""
        self.event = ""

    def set_search(self, text: str) -> None:
        self.set_filters(search=text)

    def set_filters(self, *, search: str | None = None, event: str | None = None) -> None:
        self.beginFilterChange()
        if search is not None:
            self.search = search.strip().lower()
        if event is not None:
            self.event = event
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self,
        source_row: int,
        source_parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if not (self.search or self.event):
            return True
        model = self.sourceModel()
        row = model.row_at(source_row) if isinstance(model, AuditTableModel) else None
        if row is None:
            return False
        if self.event and row.entry.event != self.event:
            return False
        return self.search in row.blob
