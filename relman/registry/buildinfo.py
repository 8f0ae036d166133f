"""JFrog build-info JSON <-> :class:`~relman.model.BuildRecord`.

Build-info is the interchange format of a build record: Artifactory serves it, the local
registry stores it, export and import use it. The reader is tolerant of what real servers and
old records hold (see ``reference/artifactory.md`` §4.3):

- the ``{"uri", "buildInfo": {...}}`` envelope of ``GET /api/build/NAME/NUMBER`` or the bare
  object of ``PUT /api/build``;
- ``number`` as a JSON number or a string such as ``1.0.0-rc+1``;
- ``started`` with ``Z``, ``+HH:MM`` or ``+HHMM`` (``2014-09-30T12:00:19.893+0300``);
- the legacy top-level ``vcsRevision``/``vcsUrl`` when ``vcs`` is absent or empty;
- ``modules``, ``artifacts``, ``statuses`` and ``properties`` omitted; old artifacts without
  ``sha256``; empty strings where a value is unknown.

It is strict on garbage: anything that is not JSON, not an object where one is needed, a
time that is not a time or a digest that is not hex raises one :class:`InputError` line that
names what is wrong and where. No I/O here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from relman.errors import InputError
from relman.model import Agent, ArtifactRecord, BuildRecord, BuildStatus

#: The build-info schema version relman writes.
SCHEMA_VERSION = "1.0.1"
_HEX_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32}
_HEX = re.compile(r"[0-9a-fA-F]+")
_MAX_BYTES = 64 << 20


def parse(data: bytes | str | Mapping[str, Any], *, source: str = "build-info") -> BuildRecord:
    """Read a build-info document (bytes, text or an already decoded object)."""
    if isinstance(data, bytes | str):
        raw_text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if len(raw_text) > _MAX_BYTES:
            raise InputError(f"{source}: larger than {_MAX_BYTES >> 20} MiB, not a build-info")
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{source}: not JSON ({_short(str(exc))})") from None
    else:
        doc = data
        raw_text = ""
    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: not a build-info object (a JSON {_kind(doc)})")
    if "buildInfo" in doc and "name" not in doc:
        doc = doc["buildInfo"]
        if not isinstance(doc, Mapping):
            raise InputError(f"{source}: 'buildInfo' is a JSON {_kind(doc)}, not an object")
    if not raw_text:
        raw_text = json.dumps(doc, ensure_ascii=False)
    return _Reader(source).record(doc, raw_text)


def dump(record: BuildRecord) -> dict[str, Any]:
    """The build-info object of ``record`` (the bare form ``PUT /api/build`` takes).

    Keys relman does not model (dependencies, durationMillis, issues ...) are kept from
    ``record.raw`` when there is one; what relman models is written from the record itself.
    """
    base: dict[str, Any] = {}
    if record.raw:
        loaded = json.loads(record.raw)
        if isinstance(loaded, dict):
            base = loaded.get("buildInfo", loaded) if "name" not in loaded else loaded
            base = dict(base) if isinstance(base, dict) else {}
    out: dict[str, Any] = {"version": base.get("version", SCHEMA_VERSION)}
    out["name"] = record.name
    out["number"] = record.number
    for key, value in base.items():
        out.setdefault(key, value)
    _set_or_drop(out, "started", record.started_raw or _format_time(record.started))
    _set_or_drop(out, "agent", _agent_json(record.agent))
    _set_or_drop(out, "buildAgent", _agent_json(record.build_agent))
    _set_or_drop(out, "vcs", _vcs_json(record))
    if record.vcs_revision is None:
        out.pop("vcsRevision", None)
        out.pop("vcsUrl", None)
    else:
        for legacy, value in (("vcsRevision", record.vcs_revision), ("vcsUrl", record.vcs_url)):
            if legacy in out:
                out[legacy] = value or ""
    _set_or_drop(out, "properties", dict(record.properties))
    _set_or_drop(out, "modules", _modules_json(record.artifacts, base.get("modules")))
    _set_or_drop(out, "statuses", [_status_json(s) for s in record.statuses])
    return out


def dumps(record: BuildRecord) -> bytes:
    """``dump`` as UTF-8 JSON text, indented the way Artifactory indents it."""
    return (json.dumps(dump(record), indent=2, ensure_ascii=False) + "\n").encode()


def make_record(
    name: str,
    number: str | int,
    *,
    started: datetime | None = None,
    commit: str | None = None,
    vcs_url: str | None = None,
    branch: str | None = None,
    message: str | None = None,
    artifacts: Iterable[ArtifactRecord] = (),
    properties: Mapping[str, str] | None = None,
    statuses: Iterable[BuildStatus] = (),
    agent: Agent | None = None,
    build_agent: Agent | None = None,
) -> BuildRecord:
    """A new build record, with ``started_raw`` written the way build-info writes it.

    The record is normalised by a round trip through :func:`dump` and :func:`parse`, so it
    compares equal to what a registry gives back after publishing it.
    """
    if started is not None and started.tzinfo is None:
        raise InputError(f"build {name}/{number}: start time has no UTC offset")
    record = BuildRecord(
        name=name,
        number=str(number),
        started=started,
        started_raw=_format_time(started) or "",
        vcs_revision=commit,
        vcs_url=vcs_url,
        vcs_branch=branch,
        vcs_message=message,
        agent=agent,
        build_agent=build_agent,
        artifacts=tuple(artifacts),
        properties=MappingProxyType(dict(properties or {})),
        statuses=tuple(statuses),
    )
    return parse(dump(record), source=f"build {name}/{number}")


def format_time(value: datetime) -> str:
    """A time as build-info writes it: ``2025-03-02T10:10:00.000+0000`` (milliseconds, UTC)."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_time(text: str, *, what: str) -> datetime:
    """``Z``, ``+HH:MM`` or ``+HHMM``, with or without milliseconds -> an aware UTC time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {_short(text)!r} is not an ISO 8601 time") from None
    if value.utcoffset() is None:
        raise InputError(f"{what} {_short(text)!r} has no UTC offset")
    return value.astimezone(UTC)


# -- reading ------------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, why: str) -> InputError:
        return InputError(f"{self.source}: {where} {why}")

    def record(self, doc: Mapping[str, Any], raw: str) -> BuildRecord:
        name = self.text(doc, "name", "name", required=True)
        number = doc.get("number")
        if isinstance(number, bool) or not isinstance(number, str | int):
            if number is None:
                raise self.fail("'number'", "is missing")
            raise self.fail("'number'", f"is a JSON {_kind(number)}, not a string")
        number_text = str(number).strip()
        if not number_text:
            raise self.fail("'number'", "is empty")
        assert name is not None
        started_raw = self.text(doc, "started", "started") or ""
        started = parse_time(started_raw, what=f"{self.source}: 'started'") if started_raw else None
        revision, url, branch, message = self.vcs(doc)
        return BuildRecord(
            name=name,
            number=number_text,
            started=started,
            started_raw=started_raw,
            vcs_revision=revision,
            vcs_url=url,
            vcs_branch=branch,
            vcs_message=message,
            agent=self.agent(doc, "agent"),
            build_agent=self.agent(doc, "buildAgent"),
            artifacts=tuple(self.artifacts(doc)),
            properties=MappingProxyType(self.properties(doc.get("properties"), "'properties'")),
            statuses=tuple(self.statuses(doc)),
            raw=raw,
        )

    def text(
        self, obj: Mapping[str, Any], key: str, where: str, *, required: bool = False
    ) -> str | None:
        value = obj.get(key)
        if value is None or (value == "" and not required):
            if required:
                raise self.fail(f"'{where}'", "is missing")
            return None
        if not isinstance(value, str):
            raise self.fail(f"'{where}'", f"is a JSON {_kind(value)}, not a string")
        if required and not value.strip():
            raise self.fail(f"'{where}'", "is empty")
        return value

    def objects(self, value: Any, where: str) -> Sequence[Mapping[str, Any]]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(f"'{where}'", f"is a JSON {_kind(value)}, not a list")
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.fail(f"'{where}[{i}]'", f"is a JSON {_kind(item)}, not an object")
        return value

    def vcs(self, doc: Mapping[str, Any]) -> tuple[str | None, ...]:
        for i, entry in enumerate(self.objects(doc.get("vcs"), "vcs")):
            revision = self.text(entry, "revision", f"vcs[{i}].revision")
            if revision:
                return (
                    _commit(revision),
                    self.text(entry, "url", f"vcs[{i}].url"),
                    self.text(entry, "branch", f"vcs[{i}].branch"),
                    self.text(entry, "message", f"vcs[{i}].message"),
                )
        revision = self.text(doc, "vcsRevision", "vcsRevision")
        if revision:
            return _commit(revision), self.text(doc, "vcsUrl", "vcsUrl"), None, None
        return None, None, None, None

    def agent(self, doc: Mapping[str, Any], key: str) -> Agent | None:
        value = doc.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(f"'{key}'", f"is a JSON {_kind(value)}, not an object")
        name = self.text(value, "name", f"{key}.name")
        if not name:
            return None
        return Agent(name, self.text(value, "version", f"{key}.version") or "")

    def properties(self, value: Any, where: str) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(where, f"is a JSON {_kind(value)}, not an object")
        out: dict[str, str] = {}
        for key, item in value.items():
            if isinstance(item, Mapping | list):
                raise self.fail(f"{where[:-1]}.{key}'", f"is a JSON {_kind(item)}, not a string")
            out[str(key)] = "" if item is None else _scalar(item)
        return out

    def artifacts(self, doc: Mapping[str, Any]) -> Iterable[ArtifactRecord]:
        for m, module in enumerate(self.objects(doc.get("modules"), "modules")):
            module_id = self.text(module, "id", f"modules[{m}].id") or ""
            where = f"modules[{m}].artifacts"
            for a, item in enumerate(self.objects(module.get("artifacts"), where)):
                at = f"{where}[{a}]"
                name = self.text(item, "name", f"{at}.name")
                path = self.text(item, "path", f"{at}.path")
                if not name:
                    if not path:
                        raise self.fail(f"'{at}'", "has neither a name nor a path")
                    name = path.rsplit("/", 1)[-1]
                yield ArtifactRecord(
                    name=name,
                    sha256=self.digest(item, "sha256", at),
                    sha1=self.digest(item, "sha1", at),
                    md5=self.digest(item, "md5", at),
                    type=self.text(item, "type", f"{at}.type"),
                    path=path,
                    module=module_id,
                )

    def digest(self, item: Mapping[str, Any], algorithm: str, at: str) -> str | None:
        value = self.text(item, algorithm, f"{at}.{algorithm}")
        if value is None:
            return None
        value = value.strip()
        if len(value) != _HEX_LENGTHS[algorithm] or not _HEX.fullmatch(value):
            raise self.fail(
                f"'{at}.{algorithm}'",
                f"{_short(value)!r} is not {_HEX_LENGTHS[algorithm]} hex digits",
            )
        return value.lower()

    def statuses(self, doc: Mapping[str, Any]) -> Iterable[BuildStatus]:
        for i, item in enumerate(self.objects(doc.get("statuses"), "statuses")):
            at = f"statuses[{i}]"
            status = self.text(item, "status", f"{at}.status", required=True)
            assert status is not None
            stamp = self.text(item, "timestamp", f"{at}.timestamp") or ""
            yield BuildStatus(
                status=status,
                repository=self.text(item, "repository", f"{at}.repository"),
                timestamp=parse_time(stamp, what=f"{self.source}: '{at}.timestamp'")
                if stamp
                else None,
                timestamp_raw=stamp,
                user=self.text(item, "user", f"{at}.user"),
                comment=self.text(item, "comment", f"{at}.comment"),
            )


# -- writing ------------------------------------------------------------------------------


def _format_time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def _set_or_drop(out: dict[str, Any], key: str, value: Any) -> None:
    if value:
        out[key] = value
    else:
        out.pop(key, None)


def _agent_json(agent: Agent | None) -> dict[str, str] | None:
    return None if agent is None else {"name": agent.name, "version": agent.version}


def _vcs_json(record: BuildRecord) -> list[dict[str, str]] | None:
    if record.vcs_revision is None:
        return None
    entry = {"revision": record.vcs_revision}
    for key, value in (
        ("url", record.vcs_url),
        ("branch", record.vcs_branch),
        ("message", record.vcs_message),
    ):
        if value is not None:
            entry[key] = value
    return [entry]


def _modules_json(artifacts: Sequence[ArtifactRecord], old: Any) -> list[dict[str, Any]]:
    """Artifacts grouped by module id, in first-seen order; other module keys kept from ``old``."""
    previous: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    if isinstance(old, list):
        for module in old:
            if isinstance(module, dict):
                key = str(module.get("id") or "")
                if key not in previous:
                    previous[key] = {k: v for k, v in module.items() if k != "artifacts"}
                    order.append(key)
    grouped: dict[str, list[dict[str, str]]] = {}
    for artifact in artifacts:
        if artifact.module not in previous and artifact.module not in grouped:
            order.append(artifact.module)
        grouped.setdefault(artifact.module, []).append(_artifact_json(artifact))
    modules = []
    for key in order:
        module = dict(previous.get(key) or {"type": "generic", "id": key})
        if key in grouped:
            module["artifacts"] = grouped[key]
        modules.append(module)
    return modules


def _artifact_json(artifact: ArtifactRecord) -> dict[str, str]:
    out = {}
    for key in ("type", "name", "path", "sha1", "sha256", "md5"):
        value = getattr(artifact, key)
        if value is not None:
            out[key] = value
    return out


def _status_json(status: BuildStatus) -> dict[str, str]:
    out = {"status": status.status}
    for key, value in (
        ("comment", status.comment),
        ("repository", status.repository),
        ("timestamp", status.timestamp_raw or _format_time(status.timestamp)),
        ("user", status.user),
    ):
        if value is not None:
            out[key] = value
    return out


# -- helpers ------------------------------------------------------------------------------


def _commit(value: str) -> str:
    """Commits are compared in lower case; anything that is not hex is kept as written."""
    stripped = value.strip()
    return stripped.lower() if _HEX.fullmatch(stripped) else stripped


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null"


def _short(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 60 else one_line[:57] + "..."
