"""The AQL subset of the Artifactory emulator (reference §7): parser and evaluator.

A query is ``<domain>.find(<criteria>)`` followed, in this order, by optional
``.include(...)``, ``.sort({"$asc"|"$desc": [...]})``, ``.offset(n)``, ``.limit(n)`` and
``.distinct(true|false)``. Domains: ``items`` (files and folders) and ``builds`` (build runs).

Criteria are JSON, read with a real JSON parser: a value is always a literal (``*`` is a
wildcard only under ``$match``/``$nmatch``), so a string that carries quotes, braces or
parentheses cannot become another criterion, and text that escapes its string leaves a query
that does not parse (400). Keys that repeat in one object all apply (AND), so a smuggled
duplicate cannot replace a criterion. Supported: ``$and``, ``$or``, ``$msp``, ``$eq``,
``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$match``, ``$nmatch``, ``$last``, ``$before``;
item fields of §7.2, ``@key`` / ``@*`` / ``property.key`` / ``property.value``, and the build
relations ``artifact.module.build.*`` / ``dependency.module.build.*`` (items) and
``module.artifact[.item].*`` / ``module.dependency.*`` / ``promotion.*`` (builds). Criteria on
one relation inside one AND hold for the same related build (or artifact), as in SQL joins.

Semantics kept from the server: without a ``type`` criterion only files match; an absent value
(an old item's sha256) matches no comparison; ``range.total`` counts the rows returned. When
properties are included together with ``offset``/``limit``, paging applies to item x property
rows, as the documented limitation says ("sort, limit and offset will not work"): a page can
hold fewer items than the limit and an item's properties can be split over two pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.emulators.artifactory_store import (
    BUILD_INFO_REPO,
    BuildRun,
    Item,
    Store,
    StoredFile,
    aql_time,
    build_entries,
    parse_time,
)

ITEM_FIELDS = {
    "repo": "str",
    "path": "str",
    "name": "str",
    "type": "str",
    "size": "int",
    "depth": "int",
    "created": "date",
    "created_by": "str",
    "modified": "date",
    "modified_by": "str",
    "updated": "date",
    "actual_sha1": "str",
    "actual_md5": "str",
    "original_sha1": "str",
    "original_md5": "str",
    "sha256": "str",
}
DEFAULT_ITEM_FIELDS = (
    "repo", "path", "name", "type", "size", "created", "created_by", "modified", "modified_by", "updated",
)  # fmt: skip
BUILD_FIELDS = {
    "name": "str",
    "number": "str",
    "started": "date",
    "created": "date",
    "created_by": "str",
    "url": "str",
    "repo": "str",
}
DEFAULT_BUILD_FIELDS = ("name", "number", "started", "created", "created_by", "url", "repo")
_RUN_FIELDS = {key: kind for key, kind in BUILD_FIELDS.items() if key != "repo"}
_STR = "str"
#: Relation prefix -> its fields, per primary domain (longest prefix first).
RELATIONS: dict[str, dict[str, dict[str, str]]] = {
    "items": {
        "artifact.module.build.": _RUN_FIELDS,
        "dependency.module.build.": _RUN_FIELDS,
    },
    "builds": {
        "module.artifact.item.": ITEM_FIELDS,
        "module.artifact.": dict.fromkeys(("name", "type", "sha1", "md5", "sha256"), _STR),
        "module.dependency.": dict.fromkeys(("id", "type", "scope", "sha1", "md5", "sha256"), _STR),
        "module.": {"name": _STR},
        "promotion.": {
            "status": _STR,
            "repo": _STR,
            "user": _STR,
            "comment": _STR,
            "created": "date",
            "created_by": _STR,
        },
    },
}
_COMPARE = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "mi": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "d": timedelta(days=1),
    "days": timedelta(days=1),
    "w": timedelta(weeks=1),
    "weeks": timedelta(weeks=1),
    "mo": timedelta(days=30),
    "months": timedelta(days=30),
    "y": timedelta(days=365),
    "years": timedelta(days=365),
}
_DURATION = re.compile(r"\s*(\d+)\s*([a-z]+)\s*")
_CHAIN = ("include", "sort", "offset", "limit", "distinct")


class AqlError(ValueError):
    """A query the server refuses with 400: the message is the server's text."""

    def __init__(self, query: str, near: str) -> None:
        super().__init__(
            f"Failed to parse query: {query}, it looks like there is syntax error near "
            f"the following sub-query: {near}"
        )


class _Pairs(list[tuple[str, Any]]):
    """A JSON object kept as its key/value pairs, duplicates included."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_Pairs, parse_constant=_reject_constant)


# -- the query tree -------------------------------------------------------------------------


@dataclass
class Crit:
    """``field op operand``; ``relation`` is the related-domain prefix, if any."""

    relation: str | None
    name: str
    kind: str
    op: str
    operand: Any


@dataclass
class And:
    plain: list[Node]
    groups: dict[str, list[Crit]]


@dataclass
class Or:
    children: list[Node]


@dataclass
class Msp:
    crits: list[Crit]


Node = Crit | And | Or | Msp


@dataclass
class Query:
    text: str
    domain: str
    criteria: Node
    include: list[str] | None = None
    sort: tuple[str, list[str]] | None = None
    offset: int = 0
    limit: int | None = None
    distinct: bool | None = None
    mentions_type: bool = False
    fields: list[str] = field(default_factory=list)
    properties: str | set[str] | None = None


# -- parsing --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self) -> AqlError:
        near = self.text[self.pos : self.pos + 60].strip() or "end of query"
        return AqlError(self.text, near)

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, token: str) -> bool:
        self.ws()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.take(token):
            raise self.fail()

    def regex(self, pattern: str) -> str:
        self.ws()
        found = re.compile(pattern).match(self.text, self.pos)
        if not found:
            raise self.fail()
        self.pos = found.end()
        return found.group(0)

    def json(self) -> Any:
        self.ws()
        try:
            value, self.pos = _DECODER.raw_decode(self.text, self.pos)
        except ValueError:
            raise self.fail() from None
        return value


def parse(text: str) -> Query:
    """Parse a query, or raise :class:`AqlError` with the server's message."""
    parser = _Parser(text)
    domain = parser.regex(r"(items|builds)\b")
    parser.expect(".")
    parser.expect("find")
    parser.expect("(")
    if parser.take(")"):
        raw: Any = _Pairs()
    else:
        raw = parser.json()
        if not isinstance(raw, _Pairs):
            raise parser.fail()
        parser.expect(")")
    query = Query(text, domain, And([], {}))
    query.criteria = _Compiler(query).object(raw)
    stage = -1
    while True:
        parser.ws()
        if parser.pos == len(text):
            break
        parser.expect(".")
        name = parser.regex(r"[a-z]+")
        if name not in _CHAIN or _CHAIN.index(name) <= stage:
            raise parser.fail()
        stage = _CHAIN.index(name)
        parser.expect("(")
        if name == "include":
            query.include = [_string(parser)]
            while parser.take(","):
                query.include.append(_string(parser))
        elif name == "sort":
            query.sort = _sort(parser, ITEM_FIELDS if domain == "items" else BUILD_FIELDS)
        elif name in ("offset", "limit"):
            setattr(query, name, int(parser.regex(r"\d+")))
        else:
            query.distinct = parser.regex(r'"?(true|false)"?').strip('"') == "true"
        parser.expect(")")
    _resolve_output(query, parser)
    return query


def _string(parser: _Parser) -> str:
    value = parser.json()
    if not isinstance(value, str):
        raise parser.fail()
    return value


def _sort(parser: _Parser, fields: dict[str, str]) -> tuple[str, list[str]]:
    start = parser.pos
    value = parser.json()
    if not (isinstance(value, _Pairs) and len(value) == 1 and value[0][0] in ("$asc", "$desc")):
        parser.pos = start
        raise parser.fail()
    direction, names = value[0]
    if not (isinstance(names, list) and names and all(name in fields for name in names)):
        parser.pos = start
        raise parser.fail()
    return direction, names


def _resolve_output(query: Query, parser: _Parser) -> None:
    """Which primary fields and which properties the answer carries."""
    primary = ITEM_FIELDS if query.domain == "items" else BUILD_FIELDS
    if query.include is None:
        query.fields = list(
            DEFAULT_ITEM_FIELDS if query.domain == "items" else DEFAULT_BUILD_FIELDS
        )
        return
    chosen: set[str] = set()
    keys: set[str] = set()
    for name in query.include:
        bare = name.removeprefix("build.") if query.domain == "builds" else name
        if name == "*":
            chosen.update(primary)
        elif bare in primary:
            chosen.add(bare)
        elif query.domain == "items" and name in ("property", "@", "property.*", "property.value"):
            query.properties = "all"
        elif query.domain == "items" and name == "property.key":
            query.properties = query.properties or "keys"
        elif query.domain == "items" and name.startswith("@") and len(name) > 1:
            keys.add(name[1:])
        else:
            parser.pos = parser.text.find(name)
            raise parser.fail()
    if keys and query.properties is None:
        query.properties = keys
    if not chosen:
        chosen = {"repo", "path", "name"} if query.domain == "items" else {"name", "number"}
    query.fields = [name for name in primary if name in chosen]


class _Compiler:
    def __init__(self, query: Query) -> None:
        self.query = query
        self.fields = ITEM_FIELDS if query.domain == "items" else BUILD_FIELDS

    def fail(self, near: str) -> AqlError:
        return AqlError(self.query.text, near)

    def object(self, pairs: _Pairs) -> And:
        node = And([], {})
        for key, value in pairs:
            self.add(node, self.pair(key, value))
        return node

    def add(self, node: And, child: Node) -> None:
        if isinstance(child, Crit) and child.relation:
            node.groups.setdefault(child.relation, []).append(child)
        elif isinstance(child, And):
            node.plain.extend(child.plain)
            for relation, crits in child.groups.items():
                node.groups.setdefault(relation, []).extend(crits)
        else:
            node.plain.append(child)

    def objects(self, key: str, value: Any) -> list[And]:
        items = [value] if isinstance(value, _Pairs) else value
        if not (isinstance(items, list) and all(isinstance(item, _Pairs) for item in items)):
            raise self.fail(key)
        return [self.object(item) for item in items]

    def pair(self, key: str, value: Any) -> Node:
        if key == "$and":
            node = And([], {})
            for child in self.objects(key, value):
                self.add(node, child)
            return node
        if key == "$or":
            return Or(list(self.objects(key, value)))
        if key == "$msp":
            crits: list[Crit] = []
            for child in self.objects(key, value):
                flat = [*child.plain, *(c for group in child.groups.values() for c in group)]
                if not all(isinstance(c, Crit) and c.kind.startswith("prop") for c in flat):
                    raise self.fail(key)
                crits.extend(c for c in flat if isinstance(c, Crit))
            return Msp(crits)
        relation, name, kind = self.field(key)
        if isinstance(value, _Pairs):
            if not value:
                raise self.fail(key)
            node = And([], {})
            for op, operand in value:
                self.add(node, self.crit(key, relation, name, kind, op, operand))
            return node.plain[0] if len(node.plain) == 1 and not node.groups else node
        return self.crit(key, relation, name, kind, "$eq", value)

    def field(self, key: str) -> tuple[str | None, str, str]:
        if key == "type" and self.query.domain == "items":
            self.query.mentions_type = True
        if self.query.domain == "items":
            if key.startswith("@") and len(key) > 1:
                return None, key[1:], "prop"
            if key == "property.key":
                return None, key, "propkey"
            if key == "property.value":
                return None, key, "propvalue"
        bare = key.removeprefix("build.") if self.query.domain == "builds" else key
        if bare in self.fields:
            return None, bare, self.fields[bare]
        for prefix, fields in RELATIONS[self.query.domain].items():
            rest = key.removeprefix(prefix)
            if key.startswith(prefix) and rest in fields:
                return prefix, rest, fields[rest]
        raise self.fail(key)

    def crit(
        self, key: str, relation: str | None, name: str, kind: str, op: str, operand: Any
    ) -> Crit:
        if isinstance(operand, bool) or operand is None or isinstance(operand, list | _Pairs):
            raise self.fail(f"{key} {op}")
        if op in ("$match", "$nmatch"):
            if kind in ("int", "date") or not isinstance(operand, str):
                raise self.fail(f"{key} {op}")
            return Crit(relation, name, kind, op, _wildcard(operand))
        if op in ("$last", "$before"):
            found = _DURATION.fullmatch(str(operand))
            if kind != "date" or not found or found.group(2) not in _UNITS:
                raise self.fail(f"{key} {op}")
            return Crit(relation, name, kind, op, int(found.group(1)) * _UNITS[found.group(2)])
        if op not in _COMPARE:
            raise self.fail(op)
        try:
            if kind == "int":
                value: Any = int(operand)
            elif kind == "date":
                value = parse_time(str(operand))
            else:
                value = operand if isinstance(operand, str) else json.dumps(operand)
        except ValueError:
            raise self.fail(f"{key} {operand}") from None
        return Crit(relation, name, kind, op, value)


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


# -- evaluation -----------------------------------------------------------------------------


def _test(crit: Crit, value: Any, now: datetime) -> bool:
    if value is None:
        return False
    op, operand = crit.op, crit.operand
    if op == "$eq":
        return bool(value == operand or (crit.name == "type" and operand == "any"))
    if op == "$ne":
        return bool(value != operand)
    if op == "$match":
        return operand.fullmatch(value) is not None
    if op == "$nmatch":
        return operand.fullmatch(value) is None
    if op == "$last":
        return bool(value >= now - operand)
    if op == "$before":
        return bool(value < now - operand)
    if op == "$gt":
        return bool(value > operand)
    if op == "$gte":
        return bool(value >= operand)
    if op == "$lt":
        return bool(value < operand)
    return bool(value <= operand)


def _item_getters() -> dict[str, Callable[[Item], Any]]:
    def original(algorithm: str) -> Callable[[Item], Any]:
        return lambda i: i.original_checksums.get(algorithm) if isinstance(i, StoredFile) else None

    def checksum(attr: str) -> Callable[[Item], Any]:
        return lambda i: getattr(i, attr) if isinstance(i, StoredFile) else None

    return {
        "repo": lambda i: i.repo,
        "path": lambda i: i.parent or ".",
        "name": lambda i: i.name or ".",
        "type": lambda i: "file" if isinstance(i, StoredFile) else "folder",
        "size": lambda i: i.size if isinstance(i, StoredFile) else 0,
        "depth": lambda i: i.path.count("/") + 1 if i.path else 0,
        "created": lambda i: i.created,
        "created_by": lambda i: i.created_by,
        "modified": lambda i: i.modified,
        "modified_by": lambda i: i.modified_by,
        "updated": lambda i: i.last_updated if isinstance(i, StoredFile) else i.created,
        "actual_sha1": checksum("sha1"),
        "actual_md5": checksum("md5"),
        "original_sha1": original("sha1"),
        "original_md5": original("md5"),
        "sha256": checksum("sha256"),
    }


ITEM_GETTERS = _item_getters()
BUILD_GETTERS: dict[str, Callable[[BuildRun], Any]] = {
    "name": lambda r: r.name,
    "number": lambda r: r.number,
    "started": lambda r: r.started,
    "created": lambda r: r.created,
    "created_by": lambda r: r.created_by,
    "url": lambda r: r.info.get("url") if isinstance(r.info.get("url"), str) else None,
    "repo": lambda r: BUILD_INFO_REPO,
}


class _Evaluator:
    """Matches rows of one domain against a compiled criteria tree."""

    def __init__(self, store: Store, domain: str, now: datetime) -> None:
        self.store = store
        self.domain = domain
        self.now = now
        self.getters: dict[str, Callable[[Any], Any]] = (
            ITEM_GETTERS if domain == "items" else BUILD_GETTERS
        )

    def matches(self, node: Node, row: Any) -> bool:
        if isinstance(node, Crit):
            if node.relation:
                return any(self.on_entity(node, e) for e in self.related(row, node.relation))
            return any(_test(node, value, self.now) for value in self.values(node, row))
        if isinstance(node, And):
            return all(self.matches(child, row) for child in node.plain) and all(
                any(all(self.on_entity(c, e) for c in crits) for e in self.related(row, relation))
                for relation, crits in node.groups.items()
            )
        if isinstance(node, Or):
            return any(self.matches(child, row) for child in node.children)
        return any(
            all(self.on_instance(crit, key, value) for crit in node.crits)
            for key, values in row.properties.items()
            for value in values
        )

    def values(self, crit: Crit, row: Any) -> Iterable[Any]:
        if crit.kind == "prop":
            if crit.name == "*":
                return (value for values in row.properties.values() for value in values)
            props: dict[str, list[str]] = row.properties
            return props.get(crit.name, ())
        if crit.kind == "propkey":
            return row.properties.keys()  # type: ignore[no-any-return]
        if crit.kind == "propvalue":
            return (value for values in row.properties.values() for value in values)
        value = self.getters[crit.name](row)
        return () if value is None else (value,)

    def on_instance(self, crit: Crit, key: str, value: str) -> bool:
        if crit.kind == "prop":
            return (crit.name in ("*", key)) and _test(crit, value, self.now)
        return _test(crit, key if crit.kind == "propkey" else value, self.now)

    def on_entity(self, crit: Crit, entity: dict[str, Any]) -> bool:
        value = entity.get(crit.name)
        values = value if isinstance(value, list) else [value]
        return any(_test(crit, v, self.now) for v in values)

    def related(self, row: Any, relation: str) -> Iterator[dict[str, Any]]:
        if self.domain == "items":
            if not isinstance(row, StoredFile):
                return
            kind = "artifact" if relation.startswith("artifact.") else "dependency"
            for run in self.store.builds_with(kind, row.sha1):
                yield {name: getter(run) for name, getter in BUILD_GETTERS.items()}
            return
        info = row.info
        if relation == "module.artifact.item.":
            for entry in build_entries(info, "artifacts"):
                for stored in self.store.by_sha1.get(str(entry.get("sha1")), ()):
                    yield {name: getter(stored) for name, getter in ITEM_GETTERS.items()}
        elif relation == "module.artifact.":
            yield from build_entries(info, "artifacts")
        elif relation == "module.dependency.":
            for entry in build_entries(info, "dependencies"):
                yield {**entry, "scope": entry.get("scopes") or []}
        elif relation == "module.":
            for module in info.get("modules") or []:
                if isinstance(module, dict):
                    yield {"name": module.get("id")}
        else:
            for status in info.get("statuses") or []:
                if isinstance(status, dict):
                    created = status.get("timestamp")
                    try:
                        when = parse_time(created) if isinstance(created, str) else None
                    except ValueError:
                        when = None
                    yield {
                        "status": status.get("status"),
                        "repo": status.get("repository"),
                        "user": status.get("user"),
                        "comment": status.get("comment"),
                        "created": when,
                        "created_by": status.get("user"),
                    }

    def candidates(self, node: Node) -> set[StoredFile] | None:
        """Files that can match, from the indexes; ``None`` when every file must be tried."""
        if isinstance(node, Crit):
            return self.crit_candidates(node)
        if isinstance(node, And):
            found = [
                c
                for c in (
                    *(self.candidates(child) for child in node.plain),
                    *(self.crit_candidates(c) for crits in node.groups.values() for c in crits),
                )
                if c is not None
            ]
            return min(found, key=len) if found else None
        if isinstance(node, Or):
            union: set[StoredFile] = set()
            for child in node.children:
                found_child = self.candidates(child)
                if found_child is None:
                    return None
                union |= found_child
            return union
        return None

    def crit_candidates(self, crit: Crit) -> set[StoredFile] | None:
        if crit.op != "$eq":
            return None
        store = self.store
        if crit.kind == "prop" and crit.name != "*":
            return store.by_property.get((crit.name, crit.operand), set())
        if crit.relation and crit.name in ("name", "number"):
            kind = "artifacts" if crit.relation.startswith("artifact.") else "dependencies"
            getter = BUILD_GETTERS[crit.name]
            out: set[StoredFile] = set()
            for run in store.all_runs():
                if getter(run) == crit.operand:
                    for entry in build_entries(run.info, kind):
                        out |= store.by_sha1.get(str(entry.get("sha1")), set())
            return out
        if crit.relation is None and crit.name == "sha256":
            return store.by_sha256.get(crit.operand, set())
        if crit.relation is None and crit.name == "actual_sha1":
            return store.by_sha1.get(crit.operand, set())
        if crit.relation is None and crit.name == "repo":
            repo = store.repos.get(crit.operand)
            return set(repo.files.values()) if repo else set()
        return None


# -- running --------------------------------------------------------------------------------


def run(query: Query, store: Store, now: datetime) -> dict[str, Any]:
    """The answer body ``{"results": [...], "range": {...}}``."""
    evaluator = _Evaluator(store, query.domain, now)
    rows: list[Any]
    if query.domain == "items":
        found = evaluator.candidates(query.criteria)
        pool: list[Item] = list(store.all_files()) if found is None else list(found)
        if query.mentions_type:
            pool.extend(store.all_folders())
        pool.sort(key=lambda item: item.seq)
        rows = [item for item in pool if evaluator.matches(query.criteria, item)]
    else:
        runs = sorted(store.all_runs(), key=lambda r: r.seq)
        rows = [r for r in runs if evaluator.matches(query.criteria, r)]
    if query.sort:
        direction, names = query.sort
        getters = evaluator.getters
        rows.sort(
            key=lambda row: [(v is not None, v) for v in (getters[n](row) for n in names)],
            reverse=direction == "$desc",
        )
    results = _page(query, rows, evaluator)
    window: dict[str, Any] = {
        "start_pos": query.offset,
        "end_pos": query.offset + len(results),
        "total": len(results),
    }
    if query.limit is not None:
        window["limit"] = query.limit
    return {"results": results, "range": window}


def _page(query: Query, rows: list[Any], evaluator: _Evaluator) -> list[dict[str, Any]]:
    end = None if query.limit is None else query.offset + query.limit
    if query.properties is None or (query.offset == 0 and query.limit is None):
        return [_render(query, row, evaluator, None) for row in rows[query.offset : end]]
    # Paging over item x property rows (the documented include + limit limitation).
    expanded: list[tuple[Item, tuple[str, str] | None]] = []
    for row in rows:
        pairs = _property_pairs(query, row)
        if pairs:
            expanded.extend((row, pair) for pair in pairs)
        else:
            expanded.append((row, None))
    out: list[dict[str, Any]] = []
    last: Item | None = None
    chunk: list[tuple[str, str]] = []
    for row, pair in [*expanded[query.offset : end], (None, None)]:
        if row is not last and last is not None:
            out.append(_render(query, last, evaluator, chunk))
            chunk = []
        last = row
        if pair is not None:
            chunk.append(pair)
    return out


def _property_pairs(query: Query, item: Item) -> list[tuple[str, str]]:
    wanted = query.properties
    return [
        (key, value)
        for key, values in item.properties.items()
        if not isinstance(wanted, set) or key in wanted
        for value in values
    ]


def _render(
    query: Query, row: Any, evaluator: _Evaluator, pairs: list[tuple[str, str]] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    prefix = "build." if query.domain == "builds" else ""
    for name in query.fields:
        value = evaluator.getters[name](row)
        if value is None:
            continue
        out[prefix + name] = aql_time(value) if isinstance(value, datetime) else value
    if query.properties is not None:
        if pairs is None:
            pairs = _property_pairs(query, row)
        if pairs and query.properties == "keys":
            out["properties"] = [{"key": key} for key in dict.fromkeys(k for k, _ in pairs)]
        elif pairs:
            out["properties"] = [{"key": key, "value": value} for key, value in pairs]
    return out
