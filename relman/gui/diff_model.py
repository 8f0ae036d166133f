"""The environment diff as a tree: application -> what only each side holds -> builds, artifacts.

:func:`compare` is what the Diff page submits to the task runner: it runs
:func:`~relman.release.diff.diff_environments` on the loaded lineage and turns the result into
:class:`DiffNode` trees, every text computed there, so the GUI thread only shows them.

Per application (a top-level row, "same" or "differs" in words) the children are its newest
build on each side, then "in A, not in B" and "in B, not in A" with their builds (identity,
number, commit) and artifacts (name, short SHA-256, the build that lists them), then the commit
range between the newest builds: every build in between with its commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QFontDatabase

from relman.model import CancelToken, ProgressCallback
from relman.release.diff import AppDiff, ArtifactRef, BuildRef, EnvDiff, Only, diff_environments
from relman.release.lineage import BuildNode, Lineage

from .builds_model import exact, relative, shorten_middle
from .icons import IconSet
from .table_base import ObjectRole

logger = logging.getLogger(__name__)

COL_ITEM, COL_NUMBER, COL_DIGEST, COL_COMMIT, COL_STARTED = range(5)
#: A build's identity and an artifact's SHA-256 share a column: a row is one or the other.
HEADERS = ("Item", "Number", "Identity / SHA-256", "Commit", "Started")
MONO = frozenset({COL_DIGEST, COL_COMMIT})
#: Rows whose one text spans every column (applications, section titles).
SPANNED = frozenset({"app", "section", "range"})


class DiffNode:
    """One row of the tree: its kind, column texts, tooltips, children, and the build it is
    about (for the Details dock) when it is one."""

    __slots__ = ("build", "children", "kind", "parent", "position", "same", "texts", "tips")

    def __init__(
        self,
        kind: str,
        texts: tuple[str, ...],
        tips: tuple[str, ...] = (),
        build: BuildNode | None = None,
        *,
        same: bool = False,
    ) -> None:
        self.kind = kind
        #: An application whose two sides hold the same builds and artifacts.
        self.same = same
        self.texts = texts + ("",) * (len(HEADERS) - len(texts))
        self.tips = tips + ("",) * (len(HEADERS) - len(tips))
        self.build = build
        self.children: list[DiffNode] = []
        self.parent: DiffNode | None = None
        self.position = 0

    def add(self, child: DiffNode) -> DiffNode:
        child.parent = self
        child.position = len(self.children)
        self.children.append(child)
        return child

    @property
    def text(self) -> str:
        """The row in words: every non-empty column (screen readers, tests)."""
        return ", ".join(t for t in self.texts if t)

    def walk(self) -> list[DiffNode]:
        found = [self]
        for child in self.children:
            found.extend(child.walk())
        return found


@dataclass(frozen=True, slots=True)
class DiffResult:
    """What the worker hands to the GUI thread."""

    diff: EnvDiff
    roots: tuple[DiffNode, ...]

    @property
    def differing(self) -> int:
        return sum(not app.same for app in self.diff.applications)


def _build_node(
    kind: str, item: str, ref: BuildRef, node: BuildNode | None, now: datetime
) -> DiffNode:
    identity = ref.identity or "no identity"
    return DiffNode(
        kind,
        (
            item,
            ref.number,
            shorten_middle(identity, 11) if ref.identity else identity,
            (ref.commit or "no commit")[:12],
            relative(ref.started, now),
        ),
        ("", "", identity, ref.commit or "", exact(ref.started)),
        node,
    )


def _artifact_node(art: ArtifactRef, node: BuildNode | None) -> DiffNode:
    number = art.build.rpartition("/")[2]
    sha = art.sha256 or ""
    return DiffNode(
        "artifact",
        (f"artifact {art.name}", number, shorten_middle(sha, 8) or "no SHA-256"),
        (f"{art.name}, listed by build {art.build}", "", sha or "no SHA-256 recorded"),
        node,
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _only(title: str, only: Only, nodes: dict[str, BuildNode], now: datetime) -> DiffNode:
    said = [_plural(len(only.builds), "build", "builds")] if only.builds else []
    said += [_plural(len(only.artifacts), "artifact", "artifacts")] if only.artifacts else []
    section = DiffNode("section", (f"{title}: {', '.join(said)}",))
    for ref in only.builds:
        section.add(_build_node("build", f"build {ref.label}", ref, nodes.get(ref.label), now))
    for art in only.artifacts:
        section.add(_artifact_node(art, nodes.get(art.build)))
    return section


def app_summary(app: AppDiff, a: str, b: str) -> str:
    if app.same:
        return f"{app.name}: same builds and artifacts in {a} and {b}"
    span = app.range
    if span is not None:
        behind = b if span.ahead == a else a
        count = _plural(len(span.builds), "build", "builds")
        return f"{app.name}: differs — {span.ahead} is {count} ahead of {behind}"
    said = [
        f"{_plural(len(only.builds), 'build', 'builds')} only in {env}"
        for env, only in ((a, app.only_a), (b, app.only_b))
        if only.builds
    ] or [
        f"{_plural(len(only.artifacts), 'artifact', 'artifacts')} only in {env}"
        for env, only in ((a, app.only_a), (b, app.only_b))
        if only.artifacts
    ]
    return f"{app.name}: differs — {', '.join(said)}"


def make_tree(diff: EnvDiff, lineage: Lineage, now: datetime | None = None) -> tuple[DiffNode, ...]:
    moment = now or datetime.now(UTC)
    nodes = {node.label: node for node in lineage.builds}
    a, b = diff.a, diff.b
    roots = []
    for app in diff.applications:
        root = DiffNode("app", (app_summary(app, a, b),), same=app.same)
        for env, newest in ((a, app.newest_a), (b, app.newest_b)):
            if newest is None:
                root.add(DiffNode("newest", (f"newest in {env}: no build",)))
            else:
                item = f"newest in {env}: {newest.label}"
                root.add(_build_node("newest", item, newest, nodes.get(newest.label), moment))
        for env, other, only in ((a, b, app.only_a), (b, a, app.only_b)):
            if only:
                root.add(_only(f"in {env}, not in {other}", only, nodes, moment))
        span = app.range
        if span is not None:
            behind = b if span.ahead == a else a
            title = (
                f"commit range: {span.ahead} is {_plural(len(span.builds), 'build', 'builds')} "
                f"ahead of {behind}, from {span.older.label} to {span.newer.label}"
            )
            section = root.add(DiffNode("range", (title,)))
            for ref in span.builds:
                section.add(
                    _build_node("range-build", ref.label, ref, nodes.get(ref.label), moment)
                )
        roots.append(root)
    return tuple(roots)


#: The steps :func:`compare` reports as progress.
STEPS = 2


def compare(
    lineage: Lineage, a: str, b: str, progress: ProgressCallback, cancel: CancelToken
) -> DiffResult:
    """The worker's body: environment ``a`` against ``b`` in ``lineage``, as trees."""
    progress(0, STEPS)
    diff = diff_environments(lineage, a, b)
    cancel.raise_if_cancelled()
    progress(1, STEPS)
    roots = make_tree(diff, lineage)
    progress(STEPS, STEPS)
    return DiffResult(diff, roots)


class DiffTreeModel(QAbstractItemModel):
    """The trees of one :class:`DiffResult`; :data:`ObjectRole` is the :class:`DiffNode`."""

    def __init__(self, icons: IconSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self._roots: list[DiffNode] = []
        self._mono = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

    def set_roots(self, roots: tuple[DiffNode, ...] | list[DiffNode]) -> None:
        self.beginResetModel()
        self._roots = list(roots)
        for position, root in enumerate(self._roots):
            root.parent, root.position = None, position
        self.endResetModel()

    def roots(self) -> list[DiffNode]:
        return list(self._roots)

    def _node(self, index: QModelIndex | QPersistentModelIndex) -> DiffNode | None:
        node = index.internalPointer() if index.isValid() else None
        return node if isinstance(node, DiffNode) else None

    def _children(self, parent: QModelIndex | QPersistentModelIndex) -> list[DiffNode]:
        node = self._node(parent)
        return self._roots if node is None else node.children

    def index(
        self,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
    ) -> QModelIndex:
        children = self._children(parent)
        if not (0 <= row < len(children) and 0 <= column < len(HEADERS)):
            return QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, child: QModelIndex | QPersistentModelIndex | None = None) -> Any:  # type: ignore[override]
        if child is None:  # QObject.parent(), which the same name overloads
            return super().parent()
        node = self._node(child)
        if node is None or node.parent is None:
            return QModelIndex()
        owner = node.parent
        return self.createIndex(owner.position, 0, owner)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children(parent))

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        node = self._node(index)
        if node is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return node.texts[column]
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return node.text if column == COL_ITEM else node.texts[column]
        if role == ObjectRole:
            return node
        if role == Qt.ItemDataRole.ToolTipRole:
            return node.tips[column] or None
        if role == Qt.ItemDataRole.FontRole:
            if column in MONO:
                return self._mono
            if node.kind == "app":
                bold = QFont()
                bold.setBold(True)
                return bold
            return None
        if role == Qt.ItemDataRole.DecorationRole and column == COL_ITEM and node.kind == "app":
            return self._icons.status("verified" if node.same else "queued")
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
