"""What the Promote dialog lists: the checks as they run, the dry-run writes, the artifacts.

Three flat table models over the engine's own values (:class:`~relman.release.promotion.Check`,
:class:`~relman.registry.base.Write`, :class:`~relman.release.plan.PlannedArtifact`), and the
two questions the pages ask of a build before offering an action: into which environment it
would be promoted next, and which environments could be rolled back to it.

A check row is in one of five states, each shown as an icon *and* a word, never colour alone:
pending, running, passed, failed, skipped (not run, or not what this dialog decides on: the
promoter's key when approving).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from relman.registry.base import Write
from relman.release.lineage import BuildNode, Lineage
from relman.release.plan import PlannedArtifact
from relman.release.promotion import CHECKS, Check

from .builds_model import shorten_middle
from .icons import IconSet
from .qtcompat import emit
from .table_base import ObjectRole, RowsTableModel, SortRole

PENDING, RUNNING, PASSED, FAILED, SKIPPED = "pending", "running", "passed", "failed", "skipped"
#: The word and the icon of each state.
STATES = {
    PENDING: ("pending", "queued"),
    RUNNING: ("running", "hashing"),
    PASSED: ("passed", "verified"),
    FAILED: ("FAILED", "failed"),
    SKIPPED: ("skipped", "cancelled"),
}
#: What each preflight check proves, in a few words.
TITLES = {
    "interrupted": "no interrupted promotion",
    "identity": "identity traceable",
    "environment-order": "environment order",
    "promoter": "promoter's key",
    "bytes": "bytes downloaded again and re-hashed",
    "signatures": "signatures by trusted keys",
    "build-once": "built once (not rebuilt, not overwritten)",
    "target": "nothing else at the target",
    "writes": "writes the registry can make",
    "approvals": "approvals",
}


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One check as the dialog shows it; ``percent`` while a long check runs."""

    name: str
    state: str = PENDING
    detail: str = ""
    percent: int | None = None

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)

    @property
    def word(self) -> str:
        word = STATES[self.state][0]
        return f"{word} ({self.percent}%)" if self.state == RUNNING and self.percent else word

    @property
    def text(self) -> str:
        """The row in words (screen readers, tests)."""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.title} — {self.word}{detail}"


class ChecksModel(RowsTableModel):
    """The checks of :data:`~relman.release.promotion.CHECKS`, in order, as they run."""

    HEADERS = ("Result", "Check", "Reason")
    COL_RESULT, COL_CHECK, COL_REASON = range(3)

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self.reset()

    def rows(self) -> list[CheckRow]:
        return list(self._rows)

    def row(self, name: str) -> CheckRow:
        return self._rows[self._index(name)]

    def reset(self, names: Sequence[str] = CHECKS) -> None:
        """Every check pending again (a new run)."""
        self.beginResetModel()
        self._rows = [CheckRow(name) for name in names]
        self.endResetModel()

    def start(self, name: str) -> None:
        self._set(name, state=RUNNING, detail="", percent=None)

    def progress(self, percent: int) -> None:
        """The running check's progress (the bytes check reports it)."""
        for row in self._rows:
            if row.state == RUNNING:
                self._set(row.name, percent=max(0, min(100, percent)))

    def finish(self, check: Check) -> None:
        self._set(check.name, state=PASSED if check.ok else FAILED, detail=check.detail)

    def skip(self, name: str, reason: str) -> None:
        self._set(name, state=SKIPPED, detail=reason, percent=None)

    def skip_open(self, reason: str) -> None:
        """Mark every check that did not finish as skipped, saying why (cancelled, an error)."""
        for row in self._rows:
            if row.state in (PENDING, RUNNING):
                self.skip(row.name, reason)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for row in self._rows:
            counts[row.state] += 1
        return counts

    def _index(self, name: str) -> int:
        for number, row in enumerate(self._rows):
            if row.name == name:
                return number
        raise KeyError(name)

    def _set(self, name: str, **changes: Any) -> None:
        try:
            number = self._index(name)
        except KeyError:  # a check this relman does not know: show it at the end
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
            self._rows.append(CheckRow(name))
            self.endInsertRows()
            number = len(self._rows) - 1
        self._rows[number] = replace(self._rows[number], **changes)
        emit(self.dataChanged, self.index(number, 0), self.index(number, len(self.HEADERS) - 1))

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row: CheckRow = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.word, row.title, row.detail)[column]
        if role == Qt.ItemDataRole.DecorationRole and column == self.COL_RESULT:
            return self._icons.icon(STATES[row.state][1])
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return row.text
        if role == SortRole:
            return index.row()
        if role == ObjectRole:
            return row
        return None


class WritesModel(RowsTableModel):
    """The exact registry writes of the plan (the dry run); each marked once it is made."""

    HEADERS = ("Write", "What changes")

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self._made: set[int] = set()

    def set_writes(self, writes: Sequence[Write]) -> None:
        self.beginResetModel()
        self._rows = list(writes)
        self._made = set()
        self.endResetModel()

    def writes(self) -> list[Write]:
        return list(self._rows)

    def mark_made(self, write: Write) -> None:
        """Mark the planned write ``write`` describes (same action and target) as made."""
        for number, planned in enumerate(self._rows):
            if number not in self._made and (planned.action, planned.target) == (
                write.action,
                write.target,
            ):
                self._made.add(number)
                emit(self.dataChanged, self.index(number, 0), self.index(number, 1))
                return

    def made(self) -> int:
        return len(self._made)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        write: Write = self._rows[index.row()]
        made = index.row() in self._made
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return f"{write.action} (done)" if made else write.action
            return f"{write.target}\n{write.detail}" if write.detail else write.target
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return self._icons.icon("verified" if made else "queued")
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            state = "made" if made else "not written yet"
            return f"{write.action} {write.target}: {write.detail} ({state})"
        if role == SortRole:
            return index.row()
        if role == ObjectRole:
            return write
        return None


class ArtifactsModel(RowsTableModel):
    """What is promoted: each artifact with its SHA-256 (as the build record has it), where
    its bytes are read from and where they go."""

    HEADERS = ("Artifact", "SHA-256", "From", "To")

    def set_artifacts(self, artifacts: Sequence[PlannedArtifact]) -> None:
        self.beginResetModel()
        self._rows = list(artifacts)
        self.endResetModel()

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        art: PlannedArtifact = self._rows[index.row()]
        sha = art.sha256 or "no sha256 in the build record"
        source = str(art.source) if art.source is not None else "not found"
        target = str(art.target) if art.target is not None else "—"
        if role == Qt.ItemDataRole.DisplayRole:
            return (art.name, shorten_middle(sha, 12), source, target)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (art.name, sha, source, target)[index.column()]
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{art.name}, sha256 {sha}, from {source} to {target}"
        if role == SortRole:
            return art.name
        if role == ObjectRole:
            return art
        return None


# -- which action a build offers -------------------------------------------------------------


def next_environment(environments: Sequence[str], node: BuildNode) -> str | None:
    """The environment ``node`` would be promoted into: the one after the furthest it is in
    (None when it is in none, or in the last)."""
    present = [e for e in environments if e in node.environments]
    if not present:
        return None
    k = list(environments).index(present[-1])
    return environments[k + 1] if k + 1 < len(environments) else None


def rollback_targets(lineage: Lineage, node: BuildNode) -> list[str]:
    """The environments that could be returned to ``node``: each (not the first) held it, with
    a valid promotion record or still, and holds a newer build of the same name now."""
    envs = [e.name for e in lineage.environments]
    targets = []
    for env in envs[1:]:
        held = env in node.environments or any(p.ok for p in node.promotions_to(env))
        newer = any(
            _order(other) > _order(node) and env in other.environments
            for other in lineage.builds
            if other.name == node.name and other.number != node.number
        )
        if held and newer:
            targets.append(env)
    return targets


def _order(node: BuildNode) -> tuple[datetime, int]:
    """Newer by start time, then number (the engine's own order for a rollback)."""
    started = node.started or datetime.min.replace(tzinfo=UTC)
    return started, int(node.number) if node.number.isdigit() else -1
