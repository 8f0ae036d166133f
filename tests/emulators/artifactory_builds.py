"""Build endpoints of the Artifactory emulator: build-info (§4), promotion (§5), copy/move (§6).

Build-info documents are kept as given (legacy ``vcsRevision``, a number that is a JSON number,
missing ``modules``): a run is identified by name, number and ``started``. Promotion finds the
build's artifacts by checksum, preferring copies that carry the build's ``build.name`` and
``build.number`` properties (as the official client does), copies or moves them, sets the
requested properties and appends a status row to the newest run.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import urllib.parse
from dataclasses import replace
from datetime import UTC
from typing import TYPE_CHECKING, Any

from tests.emulators.artifactory_http import Request, Response, error, json_response, messages
from tests.emulators.artifactory_store import (
    BUILD_INFO_REPO,
    BuildRun,
    Folder,
    StoredFile,
    build_entries,
    build_time,
    clean_path,
    millis,
    parse_time,
)

if TYPE_CHECKING:
    from tests.emulators.artifactory import ArtifactoryEmulator

VND = "application/vnd.org.jfrog."
PRO_ONLY = "This REST API is available only in Artifactory Pro"


def _name(raw: str) -> str:
    return urllib.parse.unquote(raw)


def _utc(run: BuildRun) -> str:
    return build_time(run.started.astimezone(UTC))


def list_builds(emu: ArtifactoryEmulator, req: Request) -> Response:
    """§4.1: names with their newest start (UTC), oldest first; none -> 404."""
    newest: dict[str, BuildRun] = {}
    for run in emu.store.all_runs():
        if run.name not in newest or run.started > newest[run.name].started:
            newest[run.name] = run
    if not newest:
        return error(404, "No builds were found")
    entries = [
        {"uri": "/" + urllib.parse.quote(name, safe=""), "lastStarted": _utc(run)}
        for name, run in sorted(newest.items(), key=lambda item: item[1].started)
    ]
    body = {"uri": f"{emu.url}/api/build?buildRepo={BUILD_INFO_REPO}", "builds": entries}
    return json_response(200, body, VND + "build.Builds+json")


def runs(emu: ArtifactoryEmulator, req: Request, name_raw: str) -> Response:
    """§4.2: ``buildsNumbers`` (sic), newest first."""
    name = _name(name_raw)
    found = [run for run in emu.store.all_runs() if run.name == name]
    if not found:
        return error(404, f"No build was found for build name: {name}")
    found.sort(key=lambda run: run.started, reverse=True)
    body = {
        "uri": f"{emu.url}/api/build/{name_raw}?buildRepo={BUILD_INFO_REPO}",
        "buildsNumbers": [
            {"uri": "/" + urllib.parse.quote(run.number, safe=""), "started": _utc(run)}
            for run in found
        ],
    }
    return json_response(200, body, VND + "build.BuildsByName+json")


def build_info(emu: ArtifactoryEmulator, req: Request, name_raw: str, number_raw: str) -> Response:
    """§4.3: ``{"uri", "buildInfo"}``; ``?started=`` picks one of several runs of a number."""
    name, number = _name(name_raw), _name(number_raw)
    candidates = list(emu.store.runs.get((name, number), []))
    started = req.arg("started")
    if started:
        try:
            when = parse_time(started)
        except ValueError:
            return error(400, f"Invalid started date: {started}")
        candidates = [run for run in candidates if run.started == when]
    if not candidates:
        return error(404, f"No build was found for build name: {name}, build number: {number} ")
    info = dict(candidates[-1].info)
    info.setdefault("durationMillis", 0)
    body = {"uri": f"{emu.url}/api/build/{name_raw}/{number_raw}", "buildInfo": info}
    return json_response(200, body, VND + "build.BuildInfo+json")


def publish(emu: ArtifactoryEmulator, req: Request) -> Response:
    """§4.4: the bare build-info object; 204 with the document's X-Checksum-Sha256."""
    try:
        info = json.loads(req.body)
    except ValueError:
        return error(400, "Could not parse build-info: not JSON")
    if not isinstance(info, dict):
        return error(400, "Could not parse build-info: not a JSON object")
    name, number = info.get("name"), info.get("number")
    if not isinstance(name, str) or not name or number is None or str(number) == "":
        return error(400, "Build name and number are required")
    if name.startswith(".") or str(number).startswith("."):
        return error(400, "Build name and number cannot start with '.'")
    info["artifactoryPrincipal"] = req.user
    try:
        emu.publish_build(info, user=req.user or "anonymous")
    except ValueError as exc:
        return error(400, str(exc))
    return Response(204, [("X-Checksum-Sha256", hashlib.sha256(req.body).hexdigest())])


# -- promotion (§5) -------------------------------------------------------------------------


def _locate(
    emu: ArtifactoryEmulator, run: BuildRun, entry: dict[str, Any], source_repo: str | None
) -> StoredFile | None:
    """The stored copy of a build artifact: by checksum, preferring the build's properties."""
    sha1, sha256 = entry.get("sha1"), entry.get("sha256")
    pool: set[StoredFile] = set()
    if isinstance(sha1, str) and sha1:
        pool = set(emu.store.by_sha1.get(sha1, ()))
    elif isinstance(sha256, str) and sha256:
        pool = set(emu.store.by_sha256.get(sha256, ()))
    pool = {f for f in pool if f.repo != BUILD_INFO_REPO}
    if source_repo:
        pool = {f for f in pool if f.repo == source_repo}
    tagged = {
        f
        for f in pool
        if run.name in f.properties.get("build.name", [])
        and run.number in f.properties.get("build.number", [])
    }
    chosen = tagged or pool
    return min(chosen, key=lambda f: f.seq) if chosen else None


def promote(emu: ArtifactoryEmulator, req: Request, name_raw: str, number_raw: str) -> Response:
    """§5: dry run, status row, properties, copy or move to ``targetRepo``, failFast."""
    if not emu.capabilities["build_promotion"]:
        return error(400, PRO_ONLY)
    name, number = _name(name_raw), _name(number_raw)
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        return error(400, "Could not parse the promotion request: not JSON")
    if not isinstance(body, dict):
        return error(400, "Could not parse the promotion request: not a JSON object")
    run = emu.store.newest_run(name, number)
    if run is None:
        return error(
            404,
            f"Cannot find a build by the name: {name}, number: {number}, repo: {BUILD_INFO_REPO}",
        )
    target = body.get("targetRepo")
    if target:
        repo = emu.store.repo(str(target))
        if repo is None or repo.rclass != "local":
            return error(404, f"Cannot find target repository by the key '{target}'")
    dry = bool(body.get("dryRun", False))
    fail_fast = bool(body.get("failFast", True))
    source_repo = body.get("sourceRepo") or None
    entries: list[dict[str, Any]] = []
    if body.get("artifacts", True):
        entries.extend(build_entries(run.info, "artifacts"))
    if body.get("dependencies", False):
        scopes = set(body.get("scopes") or [])
        entries.extend(
            e
            for e in build_entries(run.info, "dependencies")
            if not scopes or scopes & set(e.get("scopes") or [])
        )
    found: list[StoredFile] = []
    missing: list[str] = []
    for entry in entries:
        stored = _locate(emu, run, entry, source_repo)
        if stored is None:
            missing.append(str(entry.get("name") or entry.get("id") or entry.get("sha1")))
        elif stored not in found:
            found.append(stored)
    notes: list[dict[str, str]] = []
    if missing:
        if fail_fast:
            return error(
                400,
                f"Unable to find artifacts of build '{name}' #{number} from {BUILD_INFO_REPO} "
                "repo: aborting promotion.",
            )
        notes.append(
            {
                "level": "WARNING",
                "message": f"Unable to find the following artifacts of build '{name}' "
                f"#{number}: {', '.join(missing)}",
            }
        )
    user = req.user or "anonymous"
    promoted = found
    if not target:
        notes.append(
            {
                "level": "INFO",
                "message": "Skipping build item relocation: no target repository selected.",
            }
        )
    elif not dry:
        promoted = [
            _relocate(emu, f, str(target), f.path, user, bool(body.get("copy", False)))
            for f in found
        ]
    props = body.get("properties") or {}
    if isinstance(props, dict) and props and not dry:
        changes = {
            str(k): [str(v) for v in (vs if isinstance(vs, list) else [vs])]
            for k, vs in props.items()
        }
        for stored in promoted:
            emu.store.set_properties(stored, changes)
    status = body.get("status")
    if not status:
        notes.append(
            {"level": "INFO", "message": "Skipping promotion status update: no status received."}
        )
    elif missing:
        notes.append(
            {
                "level": "INFO",
                "message": "Skipping promotion status update: item promotion was completed "
                "with errors and warnings.",
            }
        )
    else:
        stamp = body.get("timestamp")
        try:
            when = parse_time(str(stamp)) if stamp else emu.now()
        except ValueError:
            notes.append(
                {
                    "level": "WARNING",
                    "message": f"Skipping promotion status update: invalid\\unparsable timestamp {stamp}.",
                }
            )
        else:
            if not dry:
                row: dict[str, Any] = {
                    "status": str(status),
                    "comment": str(body.get("comment") or ""),
                    "timestamp": build_time(when),
                    "timestampDate": millis(when),
                    "user": user,
                }
                if target:
                    row["repository"] = str(target)
                if body.get("ciUser"):
                    row["ciUser"] = str(body["ciUser"])
                run.info.setdefault("statuses", []).append(row)
    return json_response(200, {"messages": notes})


def _relocate(
    emu: ArtifactoryEmulator, stored: StoredFile, repo: str, path: str, user: str, copy: bool
) -> StoredFile:
    """Copy (or move) one file; properties travel with it, the bytes are shared."""
    now = emu.now()
    moved = replace(
        stored,
        repo=repo,
        path=path,
        properties={k: list(v) for k, v in stored.properties.items()},
        created=now,
        created_by=user,
        modified=now,
        modified_by=user,
        updated=None,
    )
    if not copy and (stored.repo, stored.path) != (repo, path):
        emu.store.delete(stored)
    return emu.store.put_file(moved)


# -- copy and move (§6) ---------------------------------------------------------------------


def copy_move(
    emu: ArtifactoryEmulator, req: Request, op: str, repo_raw: str, path_raw: str | None
) -> Response:
    """§6: ``?to=/repo/path&dry=1``; ``{"messages": [...]}``, 409 when nothing else fits."""
    verb = "copy" if op == "copy" else "move"
    if not emu.capabilities["copy_move"]:
        return error(400, PRO_ONLY)
    src_repo, src_path = _name(repo_raw), clean_path(_name(path_raw or ""))
    to = req.arg("to")
    if not to:
        return messages(400, "ERROR", "The 'to' parameter is required")
    dst_repo, _, dst_path = to.lstrip("/").partition("/")
    dst_path = clean_path(dst_path)
    if req.user in emu.readonly_users:
        return messages(
            403,
            "ERROR",
            f"User doesn't have permissions to {verb} '{src_repo}:{src_path}' to "
            f"'{dst_repo}:{dst_path}'. Needs deploy permissions.",
        )
    item = emu.store.item(src_repo, src_path)
    if item is None:
        return messages(404, "ERROR", f"Could not find item at '{src_repo}:{src_path}'")
    target = emu.store.repo(dst_repo)
    if target is None:
        return messages(404, "ERROR", f"Cannot find target repository by the key '{dst_repo}'")
    if target.rclass != "local":
        return messages(400, "ERROR", f"Target repository '{dst_repo}' is not a local repository")
    if isinstance(emu.store.item(dst_repo, dst_path), Folder) and (dst_repo, dst_path) != (
        src_repo,
        src_path,
    ):
        dst_path = posixpath.join(dst_path, item.name) if dst_path else item.name
    if (dst_repo, dst_path) == (src_repo, src_path):
        return messages(
            400,
            "ERROR",
            f"Skipping {verb} {src_repo}:{src_path}: Destination and source are the same",
        )
    if isinstance(item, StoredFile):
        pairs = [(item, dst_path)]
        folders = 0
    else:
        prefix = len(item.path) + 1 if item.path else 0
        pairs = [
            (f, posixpath.join(dst_path, f.path[prefix:]))
            for f in emu.store.files_under(item.repo, item.path)
        ]
        folders = 1 + sum(1 for _ in emu.store.folders_under(item.repo, item.path))
    dry = req.flag("dry")
    if not dry:
        user = req.user or "anonymous"
        for stored, path in pairs:
            _relocate(emu, stored, dst_repo, path, user, verb == "copy")
        if verb == "move" and isinstance(item, Folder):
            emu.store.delete(item)
    done = "copied" if verb == "copy" else "moved"
    prefix_text = "Dry run for " if dry else ""
    message = (
        f"{prefix_text}{'copying' if verb == 'copy' else 'moving'} {src_repo}:{src_path} to "
        f"{dst_repo}:{dst_path} completed successfully, {len(pairs)} artifacts and "
        f"{folders} folders were {done}"
    )
    return messages(200, "INFO", message)
