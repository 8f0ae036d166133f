"""AQL for the Artifactory backend: queries made from data, and the rows they return.

A query is never assembled by pasting text: criteria are Python dicts that :func:`query`
serialises with :func:`json.dumps`, so a value typed into a search box is always one JSON
string (its quotes and backslashes escaped) and cannot end the criteria, add an
``.include()`` or reach another repository. Values are checked first (no control characters,
a bounded length); wildcards are used only with ``$match`` on values relman made itself (a
hex commit prefix, percent-encoded record folders), never on what a person typed.

Paging (``reference/artifactory.md`` §7.1, §7.3): ``.sort().offset().limit()`` only work when
``.include()`` names fields of the items domain alone. :class:`Pager` therefore reads a page
of items (sorted by repository, path, name), then the properties of that page in one more
query bounded by the page's first and last (path, name) in the server's own order; the rare
item that bounded query misses (a server that compares text differently) is asked for by its
exact path and name. Requests grow with pages, never with items: two per page.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from relman.errors import InputError, UsageError
from relman.model import Location
from relman.registry import buildinfo

logger = logging.getLogger(__name__)

#: Fields of the items domain every item query returns (what a :class:`Location` holds).
ITEM_FIELDS = ("repo", "path", "name", "size", "created", "sha256", "actual_sha1", "actual_md5")
PROPERTY_FIELDS = ("repo", "path", "name", "property.*")
#: AQL refuses queries over 6,000 characters; criteria lists are cut to stay below this.
MAX_QUERY = 5000
MAX_VALUE = 1024
DEFAULT_PAGE = 5000
_HEX = re.compile(r"[0-9a-f]+")
_HEX_LENGTHS = {"sha256": 64, "actual_sha1": 40, "actual_md5": 32, "sha1": 40, "md5": 32}
_NO_SORT = "sorting is not supported"

Criteria = Mapping[str, Any]
#: ``run(query text) -> decoded JSON answer`` (a POST to /api/search/aql).
Runner = Callable[[str], Any]


def value(text: str, what: str = "search value") -> str:
    """A value for a criterion, checked: text, at most 1,024 characters, no control
    characters (a one-line :class:`UsageError` otherwise)."""
    if not isinstance(text, str):
        raise UsageError(f"{what} {text!r} is not text")
    if len(text) > MAX_VALUE:
        raise UsageError(f"{what} is longer than {MAX_VALUE} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise UsageError(f"{what} {text!r} contains a control character")
    return text


def hex_value(text: str, what: str, lengths: Sequence[int]) -> str:
    """Lower-case hex of one of ``lengths`` digits (a digest), or a :class:`UsageError`."""
    clean = value(text, what).strip().lower()
    if not _HEX.fullmatch(clean) or len(clean) not in lengths:
        digits = " or ".join(str(n) for n in lengths)
        raise UsageError(f"{what} {text!r} is not {digits} hex digits")
    return clean


def commit_prefix(text: str) -> str:
    """A commit or its prefix (7 to 64 hex digits), for a ``$match`` with ``*`` after it."""
    clean = value(text, "commit").strip().lower()
    if not 7 <= len(clean) <= 64 or not _HEX.fullmatch(clean):
        raise UsageError(f"commit {text!r} is not a commit (7 to 64 hex digits)")
    return clean


def property_key(name: str) -> str:
    """``@name`` for a property criterion; the name as Artifactory allows it (no
    ``)(}{][*+^$\\/~`!@#%&<>;=,`` and no space)."""
    value(name, "property name")
    if not name or re.search(r"[)(}{\]\[*+^$\\/~`!@#%&<>;=,±§\s|\"']", name):
        raise UsageError(f"{name!r} is not a property name Artifactory accepts")
    return "@" + name


def query(
    criteria: Criteria,
    *,
    include: Sequence[str] = ITEM_FIELDS,
    sort: bool = False,
    offset: int | None = None,
    limit: int | None = None,
) -> str:
    """``items.find(criteria).include(...)[.sort(...)][.offset(n)][.limit(n)]``."""
    _check_strings(criteria)
    text = "items.find(" + json.dumps(criteria, ensure_ascii=False, separators=(",", ":")) + ")"
    text += ".include(" + ",".join(json.dumps(f) for f in include) + ")"
    if sort:
        text += '.sort({"$asc":["repo","path","name"]})'
    if offset is not None:
        text += f".offset({int(offset)})"
    if limit is not None:
        text += f".limit({int(limit)})"
    return text


def _check_strings(node: Any) -> None:
    if isinstance(node, str):
        value(node)
    elif isinstance(node, Mapping):
        for key, item in node.items():
            value(str(key), "criterion")
            _check_strings(item)
    elif isinstance(node, list | tuple):
        for item in node:
            _check_strings(item)
    elif not isinstance(node, int | float | bool) or node is None:
        raise UsageError(f"AQL criterion {node!r} is neither text nor a number")


def any_of(criteria: Sequence[Criteria], base: Criteria | None = None) -> Iterator[Criteria]:
    """``{"$or": [...]}`` of ``criteria`` (and-ed with ``base``), cut into as few queries as
    keep each below :data:`MAX_QUERY` characters."""
    chunk: list[Criteria] = []
    size = 0
    for item in criteria:
        cost = len(json.dumps(item, ensure_ascii=False)) + 1
        if chunk and size + cost > MAX_QUERY:
            yield _and(base, {"$or": chunk})
            chunk, size = [], 0
        chunk.append(item)
        size += cost
    if chunk:
        yield _and(base, {"$or": chunk})


def _and(base: Criteria | None, extra: Criteria) -> Criteria:
    return extra if not base else {"$and": [dict(base), dict(extra)]}


# -- rows ------------------------------------------------------------------------------------


def results(doc: Any, source: str) -> list[Mapping[str, Any]]:
    """The ``results`` rows of an AQL answer, checked to be objects."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), list):
        raise InputError(f"{source}: the AQL answer has no 'results' list")
    rows: list[Mapping[str, Any]] = []
    for index, row in enumerate(doc["results"]):
        if not isinstance(row, Mapping):
            raise InputError(f"{source}: AQL result {index} is not an object")
        rows.append(row)
    return rows


def item_path(row: Mapping[str, Any], source: str) -> tuple[str, str]:
    """``(repo, path)`` of a row; a root-level item has ``path`` ``"."``."""
    repo, folder, name = row.get("repo"), row.get("path"), row.get("name")
    if not all(isinstance(x, str) and x for x in (repo, folder, name)):
        raise InputError(f"{source}: an AQL result lacks its repo, path or name")
    assert isinstance(repo, str) and isinstance(folder, str) and isinstance(name, str)
    if "/" in name or name in (".", ".."):
        raise InputError(f"{source}: AQL result {repo}/{folder} has the name {name!r}")
    return repo, name if folder in (".", "") else f"{folder}/{name}"


def properties_of(row: Mapping[str, Any], source: str) -> dict[str, tuple[str, ...]]:
    """``properties: [{key, value}, ...]`` (one element per value) -> ``{key: values}``."""
    raw = row.get("properties")
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise InputError(f"{source}: 'properties' of an AQL result is not a list")
    out: dict[str, list[str]] = {}
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            raise InputError(f"{source}: an AQL property has no 'key'")
        values = out.setdefault(entry["key"], [])
        item = entry.get("value", "")
        if item is None:
            continue
        if not isinstance(item, str | int | float):
            raise InputError(f"{source}: property {entry['key']!r} has a non-text value")
        if str(item) not in values:
            values.append(str(item))
    return {k: tuple(v) for k, v in out.items()}


def location_of(
    row: Mapping[str, Any],
    source: str,
    properties: Mapping[str, tuple[str, ...]] | None = None,
) -> Location:
    """A :class:`Location` from an AQL item row (``size`` a number, as AQL gives it, or a
    numeric string; digests lower-case hex or absent)."""
    repo, path = item_path(row, source)
    where = f"{source}: {repo}/{path}"
    return Location(
        repo=repo,
        path=path,
        size=size_of(row.get("size"), where),
        sha256=digest_of(row, "sha256", where),
        sha1=digest_of(row, "actual_sha1", where),
        md5=digest_of(row, "actual_md5", where),
        created=time_of(row.get("created"), where),
        properties=MappingProxyType(dict(properties or {})),
    )


def size_of(raw: Any, where: str) -> int | None:
    """A size given as a number or a string of digits (the storage API's habit)."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InputError(f"{where}: size {raw!r} is not a number")
    if isinstance(raw, str):
        if not raw.strip().isdigit():
            raise InputError(f"{where}: size {raw!r} is not a number")
        return int(raw.strip())
    if raw < 0:
        raise InputError(f"{where}: size {raw} is negative")
    return int(raw)


def digest_of(row: Mapping[str, Any], field: str, where: str) -> str | None:
    raw = row.get(field)
    if raw in (None, ""):
        return None
    length = _HEX_LENGTHS[field]
    if not isinstance(raw, str) or len(raw) != length or not _HEX.fullmatch(raw.lower()):
        raise InputError(f"{where}: {field} {raw!r} is not {length} hex digits")
    return raw.lower()


def time_of(raw: Any, where: str) -> datetime | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise InputError(f"{where}: time {raw!r} is not text")
    return buildinfo.parse_time(raw, what=where)


# -- paging ----------------------------------------------------------------------------------


class Pager:
    """Items matching criteria, page by page, with their properties (two queries a page).

    ``run`` posts one query and returns the decoded answer; ``source`` names the server in
    errors. When the server refuses ``.sort()`` (the open-source edition), everything is read
    in one unpaged query instead.
    """

    def __init__(self, run: Runner, source: str, page_size: int = DEFAULT_PAGE) -> None:
        if page_size < 1:
            raise UsageError("an AQL page holds at least one item")
        self.run = run
        self.source = source
        self.page_size = page_size
        self.sortable = True

    def items(
        self, criteria: Criteria, *, properties: bool = True, dense: bool = False
    ) -> Iterator[Location]:
        """The items matching ``criteria``, sorted by repository, path and name, with their
        properties unless ``properties`` is False. ``dense``: the criteria select every item
        of a stretch of a repository (a listing, not a search), so a page's properties are
        asked for by its first and last item rather than item by item."""
        offset = 0
        previous: tuple[str, str] | None = None
        while True:
            rows = self._page(criteria, offset)
            if not rows:
                return
            first = item_path(rows[0], self.source)
            if offset and first == previous:
                raise InputError(
                    f"{self.source}: AQL ignored .offset({offset}): the same page came back"
                )
            previous = first
            props = self._properties(rows, dense and self.sortable) if properties else {}
            for row in rows:
                key = item_path(row, self.source)
                yield location_of(row, self.source, props.get(key))
            if not self.sortable or len(rows) < self.page_size:
                return
            offset += len(rows)

    def _page(self, criteria: Criteria, offset: int) -> list[Mapping[str, Any]]:
        if self.sortable:
            text = query(criteria, sort=True, offset=offset, limit=self.page_size)
            try:
                return results(self.run(text), self.source)
            except InputError as exc:
                if _NO_SORT not in str(exc).lower():
                    raise
                logger.info("%s: AQL cannot sort; reading unpaged", self.source)
                self.sortable = False
                if offset:
                    return []
        return results(self.run(query(criteria)), self.source)

    def _properties(
        self, rows: Sequence[Mapping[str, Any]], ranged: bool
    ) -> dict[tuple[str, str], Any]:
        """The properties of a page's items: with ``ranged``, one query over the page's
        stretch of each repository, then the items it missed by name; else by name only,
        grouped by folder."""
        wanted = [item_path(row, self.source) for row in rows]
        found: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}
        by_repo: dict[str, list[Mapping[str, Any]]] = {}
        for row in rows:
            by_repo.setdefault(row["repo"], []).append(row)
        for repo, members in by_repo.items() if ranged else ():
            if len(members) == 1:
                continue  # one item is cheapest asked for by name, below
            bounded = _range(repo, members[0], members[-1])
            try:
                answer = results(self.run(query(bounded, include=PROPERTY_FIELDS)), self.source)
            except InputError as exc:
                logger.info("%s: AQL range query refused (%s); asking item by item", repo, exc)
                continue
            for row in answer:
                found[item_path(row, self.source)] = properties_of(row, self.source)
        missing = [key for key in wanted if key not in found]
        for criteria in _by_name(missing):
            answer = results(self.run(query(criteria, include=PROPERTY_FIELDS)), self.source)
            for row in answer:
                found[item_path(row, self.source)] = properties_of(row, self.source)
        return found


def _split(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row["path"]), str(row["name"])


def _range(repo: str, first: Mapping[str, Any], last: Mapping[str, Any]) -> Criteria:
    """Items of ``repo`` from ``first`` to ``last`` (path, name) in the server's order."""
    first_path, first_name = _split(first)
    last_path, last_name = _split(last)
    if first_path == last_path:
        return {
            "$and": [
                {"repo": repo},
                {"path": first_path},
                {"name": {"$gte": first_name}},
                {"name": {"$lte": last_name}},
            ]
        }
    return {
        "$and": [
            {"repo": repo},
            {
                "$or": [
                    {"$and": [{"path": first_path}, {"name": {"$gte": first_name}}]},
                    {"$and": [{"path": {"$gt": first_path}}, {"path": {"$lt": last_path}}]},
                    {"$and": [{"path": last_path}, {"name": {"$lte": last_name}}]},
                ]
            },
        ]
    }


def _by_name(keys: Sequence[tuple[str, str]]) -> Iterator[Criteria]:
    """Criteria for exactly these ``(repo, path)`` items, one ``$or`` of names a folder, cut
    into queries below :data:`MAX_QUERY` characters."""
    folders: dict[tuple[str, str], list[str]] = {}
    for repo, path in keys:
        folder, _, name = path.rpartition("/")
        folders.setdefault((repo, folder or "."), []).append(name)
    groups: list[Criteria] = []
    for (repo, folder), names in folders.items():
        step = max(1, MAX_QUERY // 2 // max(len(json.dumps(n)) + 12 for n in names))
        for start in range(0, len(names), step):
            chunk = names[start : start + step]
            groups.append(
                {"$and": [{"repo": repo}, {"path": folder}, {"$or": [{"name": n} for n in chunk]}]}
            )
    yield from any_of(groups)
