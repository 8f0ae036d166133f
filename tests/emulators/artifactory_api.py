"""Endpoints of the Artifactory emulator: routing, auth, storage, properties, content, search.

Each endpoint takes the emulator and a parsed :class:`Request` and returns a
:class:`Response`; the emulator calls :func:`handle` with its lock held. Field names, types,
status codes and messages follow ``../shared/reference/artifactory.md`` (section numbers in
the docstrings). Builds, promotion and copy/move live in :mod:`artifactory_builds`.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
import urllib.parse
from collections.abc import Callable
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from tests.emulators import artifactory_aql as aql
from tests.emulators import artifactory_builds as builds
from tests.emulators.artifactory_http import (
    Request,
    Response,
    error,
    json_response,
    text,
)
from tests.emulators.artifactory_store import (
    BUILD_INFO_REPO,
    Folder,
    Item,
    PropertySyntaxError,
    StoredFile,
    check_property_key,
    clean_path,
    digests,
    matrix_properties,
    parse_property_string,
    split_escaped,
    storage_time,
)

if TYPE_CHECKING:
    from tests.emulators.artifactory import ArtifactoryEmulator

VND = "application/vnd.org.jfrog.artifactory."
REALM = ("WWW-Authenticate", 'Basic realm="Artifactory Realm"')
_HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
_PACKAGE_NAMES = {"buildinfo": "BuildInfo", "npm": "Npm", "pypi": "Pypi", "go": "Go"}
Endpoint = Callable[..., Response]
Route = tuple[str, re.Pattern[str], str, Endpoint]


# -- urls -----------------------------------------------------------------------------------


def quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def storage_uri(emu: ArtifactoryEmulator, repo: str, path: str) -> str:
    return f"{emu.url}/api/storage/{quote(repo)}" + (f"/{quote(path)}" if path else "")


def download_uri(emu: ArtifactoryEmulator, repo: str, path: str) -> str:
    return f"{emu.url}/{quote(repo)}/{quote(path)}"


def _repo_path(repo_raw: str, path_raw: str | None) -> tuple[str, str]:
    return urllib.parse.unquote(repo_raw), clean_path(urllib.parse.unquote(path_raw or ""))


# -- auth and routing -----------------------------------------------------------------------


def unauthorized(message: str) -> Response:
    return error(401, message, [REALM])


def authenticate(emu: ArtifactoryEmulator, req: Request) -> tuple[str | None, Response | None]:
    """The user a request authenticates as (``None`` = anonymous), or the 401 to answer."""
    header = req.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    secret: str | None = None
    claimed: str | None = None
    if scheme.lower() == "bearer":
        secret = credential.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, unauthorized("Bad Credentials")
        claimed, _, secret = decoded.partition(":")
    elif req.headers.get("X-JFrog-Art-Api"):
        secret = req.headers["X-JFrog-Art-Api"].strip()
    elif header:
        return None, unauthorized("Bad Credentials")
    if secret is None:
        return None, None
    user = emu.token_owner(secret)
    if user is None or (claimed is not None and claimed != user):
        return None, unauthorized("Bad Credentials")
    if secret in emu.expired_tokens:
        return None, unauthorized("Token is expired")
    return user, None


def handle(emu: ArtifactoryEmulator, req: Request) -> Response:
    """Route, authenticate, authorise and answer one request (HEAD is GET without a body)."""
    routes = _ROUTES if req.prefixed else _PLATFORM_ROUTES
    matching: list[tuple[Route, re.Match[str]]] = []
    for route in routes:
        found = route[1].fullmatch(req.raw_path)
        if found:
            matching.append((route, found))
    method = "GET" if req.method == "HEAD" else req.method
    chosen = next(((r, f) for r, f in matching if r[0] == method), None)
    if chosen is None:
        return error(405, "Method Not Allowed") if matching else error(404, "Not Found")
    (_methods, _pattern, kind, endpoint), found = chosen
    user, failure = authenticate(emu, req)
    if failure is not None:
        return failure
    req.user = user
    if kind != "public" and user is None:
        if kind == "aql" and emu.anonymous_read:
            return error(403, "Only non-anonymous users are allowed to access AQL queries")
        if kind in ("write", "copy", "aql") or not emu.anonymous_read:
            return unauthorized("Authentication is required")
    if kind == "write" and user in emu.readonly_users:
        return error(403, f"User '{user}' has no permission for {req.method} {req.path}")
    return endpoint(emu, req, *found.groups())


def not_found(emu: ArtifactoryEmulator, req: Request) -> Response:
    return error(404, "Not Found")


# -- system (§10, §11, §9.1) ----------------------------------------------------------------


def ping(emu: ArtifactoryEmulator, req: Request) -> Response:
    return text(200, "OK")


def readiness(emu: ArtifactoryEmulator, req: Request) -> Response:
    return json_response(200, {"code": "OK"})


def version(emu: ArtifactoryEmulator, req: Request) -> Response:
    parts = [int(p) for p in re.findall(r"\d+", emu.version)[:3]] + [0, 0, 0]
    revision = f"{parts[0]}{parts[1]:02d}{parts[2]:02d}900"
    pro = emu.capabilities["build_promotion"] or emu.capabilities["copy_move"]
    addons = ["aql", "build", "docker", "ldap", "properties", "rest", "search"] if pro else ["aql"]
    body = {
        "version": emu.version,
        "revision": revision,
        "addons": addons,
        "license": "Enterprise+" if pro else "OSS",
    }
    return json_response(200, body, VND + "system.Version+json")


def _package_type(name: str) -> str:
    return _PACKAGE_NAMES.get(name.lower(), name.capitalize())


def repositories(emu: ArtifactoryEmulator, req: Request) -> Response:
    wanted_type = (req.arg("type") or "").upper()
    wanted_package = (req.arg("packageType") or "").lower()
    out = []
    for repo in emu.store.repos.values():
        if repo.key == BUILD_INFO_REPO and not emu.list_build_info_repo:
            continue
        if wanted_type and repo.rclass.upper() != wanted_type:
            continue
        if wanted_package and repo.package_type.lower() != wanted_package:
            continue
        out.append(
            {
                "key": repo.key,
                "type": repo.rclass.upper(),
                "description": repo.description,
                "url": repo.url or f"{emu.url}/{quote(repo.key)}",
                "packageType": _package_type(repo.package_type),
            }
        )
    return json_response(200, out, VND + "repositories.RepositoryDetailsList+json")


def repository_config(emu: ArtifactoryEmulator, req: Request, key_raw: str) -> Response:
    key = urllib.parse.unquote(key_raw)
    repo = emu.store.repo(key)
    if repo is None:
        return error(404, f"The repository {key} was not found")
    body: dict[str, Any] = {
        "key": repo.key,
        "rclass": repo.rclass,
        "packageType": repo.package_type.lower(),
        "description": repo.description,
        "environments": list(repo.environments),
    }
    if repo.rclass == "local":
        body["checksumPolicyType"] = "client-checksums"
    if repo.rclass == "remote":
        body["url"] = repo.url
    if repo.rclass == "virtual":
        body["repositories"] = list(repo.members)
    return json_response(200, body)


def environments(emu: ArtifactoryEmulator, req: Request) -> Response:
    if emu.environments is None:
        return error(404, "Not Found")
    return json_response(200, [{"name": name} for name in emu.environments])


def lifecycle(emu: ArtifactoryEmulator, req: Request, rest: str) -> Response:
    """Only enough of RLM v2 for a client to see that it is there (``features(rlm=True)``)."""
    if not emu.capabilities["rlm"]:
        return error(404, "Not Found")
    if rest == "release_bundle/names":
        return json_response(200, {"release_bundles": []})
    if rest.startswith("release_bundle/records/") and rest.count("/") == 2:
        return json_response(200, {"release_bundles": [], "total": 0, "limit": 1000, "offset": 0})
    return error(404, "Release bundle not found")


# -- storage info, file list and properties (§1, §2) ----------------------------------------


def file_info(emu: ArtifactoryEmulator, stored: StoredFile) -> dict[str, Any]:
    return {
        "uri": storage_uri(emu, stored.repo, stored.path),
        "downloadUri": download_uri(emu, stored.repo, stored.path),
        "repo": stored.repo,
        "path": "/" + stored.path,
        "created": storage_time(stored.created),
        "createdBy": stored.created_by,
        "lastModified": storage_time(stored.modified),
        "modifiedBy": stored.modified_by,
        "lastUpdated": storage_time(stored.last_updated),
        "size": str(stored.size),
        "mimeType": stored.mime_type,
        "checksums": stored.checksums,
        "originalChecksums": dict(stored.original_checksums),
    }


def folder_info(emu: ArtifactoryEmulator, folder: Folder) -> dict[str, Any]:
    return {
        "uri": storage_uri(emu, folder.repo, folder.path),
        "repo": folder.repo,
        "path": "/" + folder.path,
        "created": storage_time(folder.created),
        "createdBy": folder.created_by,
        "lastModified": storage_time(folder.modified),
        "modifiedBy": folder.modified_by,
        "lastUpdated": storage_time(folder.modified),
        "children": [
            {"uri": "/" + name, "folder": is_folder}
            for name, is_folder in sorted(folder.children.items())
        ],
    }


def storage_get(
    emu: ArtifactoryEmulator, req: Request, repo_raw: str, path_raw: str | None
) -> Response:
    repo, path = _repo_path(repo_raw, path_raw)
    if "properties" in req.query:
        return get_properties(emu, req, repo, path)
    if "list" in req.query:
        return file_list(emu, req, repo, path)
    item = emu.store.item(repo, path)
    if item is None:
        return error(404, "Unable to find item")
    if isinstance(item, StoredFile):
        return json_response(200, file_info(emu, item), VND + "storage.FileInfo+json")
    return json_response(200, folder_info(emu, item), VND + "storage.FolderInfo+json")


def file_list(emu: ArtifactoryEmulator, req: Request, repo: str, path: str) -> Response:
    """§1.4: ``?list&deep=1&depth=N&listFolders=1&mdTimestamps=1``."""
    if req.user is None:
        return unauthorized("Authentication is required")
    flags: dict[str, int] = {}
    for name in ("deep", "depth", "listFolders", "mdTimestamps", "includeRootPath"):
        value = req.arg(name)
        if value is None:
            continue
        if not re.fullmatch(r"-?\d+", value):
            return error(400, f'For input string: "{value}"')
        flags[name] = int(value)
    item = emu.store.item(repo, path)
    if item is None:
        return error(404, "Unable to find item")
    if isinstance(item, StoredFile):
        return error(400, f"Expected a folder but found a file, at: {repo}:{path}")
    deep = flags.get("deep", 0) == 1
    max_depth = flags.get("depth") if deep and flags.get("depth", 0) > 0 else None
    base = len(path.split("/")) if path else 0

    def wanted(node: Item) -> bool:
        depth = len(node.path.split("/")) - base
        return depth <= (max_depth or depth) if deep else depth == 1

    entries: list[dict[str, Any]] = []
    prefix_len = len(path) + 1 if path else 0
    for stored in emu.store.files_under(item.repo, item.path):
        if wanted(stored):
            entry: dict[str, Any] = {
                "uri": "/" + stored.path[prefix_len:],
                "size": stored.size,
                "lastModified": storage_time(stored.modified),
                "folder": False,
                "sha1": stored.sha1,
            }
            if stored.sha256:
                entry["sha2"] = stored.sha256
            if flags.get("mdTimestamps") == 1 and stored.properties:
                changed = stored.properties_modified or stored.created
                entry["mdTimestamps"] = {"properties": storage_time(changed)}
            entries.append(entry)
    if flags.get("listFolders") == 1:
        for node in emu.store.folders_under(item.repo, item.path):
            if wanted(node):
                entries.append(
                    {
                        "uri": "/" + node.path[prefix_len:],
                        "size": -1,
                        "lastModified": storage_time(node.modified),
                        "folder": True,
                    }
                )
    entries.sort(key=lambda e: e["uri"])
    body = {
        "uri": storage_uri(emu, item.repo, item.path),
        "created": storage_time(emu.now()),
        "files": entries,
    }
    return json_response(200, body, VND + "storage.FileList+json")


def get_properties(emu: ArtifactoryEmulator, req: Request, repo: str, path: str) -> Response:
    """§2.1: 404 ``No properties could be found.`` means "none", unlike a missing item."""
    item = emu.store.item(repo, path)
    if item is None:
        return error(404, "Unable to find item")
    names = [n for n in (req.arg("properties") or "").split(",") if n]
    props = {
        key: list(values)
        for key, values in item.properties.items()
        if not names or any(fnmatch.fnmatchcase(key, name) for name in names)
    }
    if not props:
        return error(404, "No properties could be found.")
    body = {"uri": storage_uri(emu, item.repo, item.path), "properties": props}
    return json_response(200, body, VND + "storage.ItemProperties+json")


def _writable(emu: ArtifactoryEmulator, repo: str, path: str) -> Item | Response:
    local = emu.store.repo(repo)
    if local is None or local.rclass != "local":
        return error(404, "Not Found")
    item = emu.store.item(repo, path)
    return error(404, "Unable to find item") if item is None else item


def _targets(emu: ArtifactoryEmulator, item: Item, recursive: bool) -> list[Item]:
    if isinstance(item, StoredFile) or not recursive:
        return [item]
    return [
        item,
        *emu.store.folders_under(item.repo, item.path),
        *emu.store.files_under(item.repo, item.path),
    ]


def properties_put(
    emu: ArtifactoryEmulator, req: Request, repo_raw: str, path_raw: str | None
) -> Response:
    """§2.2: ``?properties=k=v1,v2;k2=v3`` with ``%5C`` escaping ``, \\ | =``; 204."""
    repo, path = _repo_path(repo_raw, path_raw)
    raw = req.raw_arg("properties")
    try:
        props = parse_property_string(urllib.parse.unquote_plus(raw or ""))
    except PropertySyntaxError as exc:
        return error(400, str(exc))
    if not props:
        return error(400, "Properties value cannot be empty.")
    item = _writable(emu, repo, path)
    if isinstance(item, Response):
        return item
    for target in _targets(emu, item, req.arg("recursive", "1") != "0"):
        emu.store.set_properties(target, dict(props))
    return Response(204)


def properties_delete(
    emu: ArtifactoryEmulator, req: Request, repo_raw: str, path_raw: str | None
) -> Response:
    """§2.3: ``?properties=k1,k2``; 204."""
    repo, path = _repo_path(repo_raw, path_raw)
    keys = split_escaped(urllib.parse.unquote_plus(req.raw_arg("properties") or ""))
    if not keys:
        return error(400, "Unspecified properties to delete.")
    item = _writable(emu, repo, path)
    if isinstance(item, Response):
        return item
    for target in _targets(emu, item, req.arg("recursive", "1") != "0"):
        emu.store.set_properties(target, dict.fromkeys(keys))
    return Response(204)


def metadata_patch(
    emu: ArtifactoryEmulator, req: Request, repo_raw: str, path_raw: str | None
) -> Response:
    """§2.4: ``{"props": {"k": "v" | ["v1", "v2"] | null}}``; errors are 400 envelopes."""
    repo, path = _repo_path(repo_raw, path_raw)
    try:
        doc = json.loads(req.body or b"null")
    except ValueError:
        return error(400, "Could not parse the request body as JSON")
    props = doc.get("props") if isinstance(doc, dict) else None
    if not isinstance(props, dict):
        return error(400, "props or stats fields required")
    where = f"Failed to set properties on {repo}:{path}"
    local = emu.store.repo(repo)
    if local is None or local.rclass != "local":
        return error(400, f"{where}: Repository '{repo}' is not a local repository")
    item = emu.store.item(repo, path)
    if item is None:
        return error(400, f"{where}: Item {repo}:{path} does not exist")
    changes: dict[str, list[str] | None] = {}
    for key, value in props.items():
        if value is None:
            changes[key] = None
        elif isinstance(value, str):
            changes[key] = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            changes[key] = list(value)
        else:
            return error(400, f"{where}: the value of '{key}' is not a string or a string list")
        try:
            check_property_key(key)
        except PropertySyntaxError as exc:
            return error(400, f"{where}: {exc}")
    for target in _targets(emu, item, req.arg("recursiveProperties", "0") == "1"):
        emu.store.set_properties(target, changes)
    return Response(204)


# -- content: download, deploy, delete (§3) -------------------------------------------------


def _content_headers(emu: ArtifactoryEmulator, stored: StoredFile) -> list[tuple[str, str]]:
    name = urllib.parse.quote(stored.name)
    headers = [
        ("Content-Type", stored.mime_type),
        ("Last-Modified", format_datetime(stored.modified.astimezone(UTC), usegmt=True)),
        ("ETag", stored.sha1),
        ("X-Checksum-Sha1", stored.sha1),
        ("X-Checksum-Md5", stored.md5),
        ("Accept-Ranges", "bytes"),
        ("X-Artifactory-Filename", name),
        ("X-Artifactory-Id", "emulator-0"),
        ("X-JFrog-Version", f"Artifactory/{emu.version}"),
        ("Content-Disposition", f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"),
    ]
    if stored.sha256:
        headers.insert(3, ("X-Checksum-Sha256", stored.sha256))
    return headers


def _not_modified(req: Request, stored: StoredFile) -> bool:
    tag = req.headers.get("If-None-Match")
    if tag is not None:
        return tag.strip().strip('"') == stored.sha1
    since = req.headers.get("If-Modified-Since")
    if since:
        try:
            return stored.modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def download(
    emu: ArtifactoryEmulator, req: Request, repo_raw: str, path_raw: str | None
) -> Response:
    """§3.1: bytes with X-Checksum-* headers, Range (206/416), If-None-Match (304)."""
    repo, path = _repo_path(repo_raw, (path_raw or "").split(";")[0])
    if "properties" in req.query:
        return get_properties(emu, req, repo, path)
    item = emu.store.item(repo, path)
    if item is None:
        return _sidecar(emu, repo, path)
    if isinstance(item, Folder):
        return _listing(item)
    headers = _content_headers(emu, item)
    if _not_modified(req, item):
        return Response(304, [h for h in headers if h[0] in ("ETag", "Last-Modified")])
    start, end, status = 0, item.size - 1, 200
    found = re.fullmatch(r"bytes=(\d*)-(\d*)", (req.headers.get("Range") or "").strip())
    if found and (found.group(1) or found.group(2)):
        first, last = found.groups()
        if first:
            start, end = int(first), int(last) if last else item.size - 1
        else:
            start, end = max(0, item.size - int(last)), item.size - 1
        if start >= item.size or end < start or (not first and int(last) == 0):
            headers = [("Content-Range", f"bytes */{item.size}")]
            return error(416, "Requested Range Not Satisfiable", headers)
        end = min(end, item.size - 1)
        status = 206
        headers.append(("Content-Range", f"bytes {start}-{end}/{item.size}"))
    if item.content is not None:
        return Response(status, headers, memoryview(item.content)[start : end + 1])
    return Response(status, headers, file=item.source, offset=start, length=end - start + 1)


def _sidecar(emu: ArtifactoryEmulator, repo: str, path: str) -> Response:
    """``GET <path>.sha256|.sha1|.md5`` answers the checksum of ``<path>`` as text."""
    base, dot, algorithm = path.rpartition(".")
    stored = emu.store.item(repo, base) if dot else None
    if isinstance(stored, StoredFile):
        value = stored.checksums.get(algorithm)
        if value:
            return text(200, value)
    return error(404, "File not found.")


def _listing(folder: Folder) -> Response:
    rows = "".join(
        f'<a href="{urllib.parse.quote(n)}{"/" if d else ""}">{n}{"/" if d else ""}</a>\n'
        for n, d in sorted(folder.children.items())
    )
    page = f"<html><head><title>Index of {folder.repo}/{folder.path}</title></head>\n"
    return text(200, page + f"<body><pre>{rows}</pre></body></html>\n", "text/html")


def _declared(req: Request) -> dict[str, str]:
    out = {}
    for algorithm, header in (("sha1", "Sha1"), ("sha256", "Sha256"), ("md5", "Md5")):
        value = req.headers.get(f"X-Checksum-{header}")
        if value:
            out[algorithm] = value.strip().lower()
    generic = (req.headers.get("X-Checksum") or "").strip().lower()
    by_length = {length: name for name, length in _HEX_LENGTHS.items()}
    if len(generic) in by_length:
        out.setdefault(by_length[len(generic)], generic)
    return out


def deploy(emu: ArtifactoryEmulator, req: Request, repo_raw: str, path_raw: str | None) -> Response:
    """§3.2/§3.3: 201 ItemCreated; 409 when declared checksums differ; checksum deploy."""
    segments = (path_raw or "").split(";")
    key, path = _repo_path(repo_raw, segments[0])
    try:
        props = matrix_properties(segments[1:])
    except PropertySyntaxError as exc:
        return error(400, str(exc))
    repo = emu.store.repo(key)
    if repo is None:
        return error(404, f"Repository {key} not found")
    if repo.rclass != "local":
        message = f"Repository {key} is a {repo.rclass} repository and cannot be deployed to"
        return error(405, message, [("Allow", "GET")])
    now = emu.now()
    user = req.user or "anonymous"
    if not path or segments[0].endswith("/"):
        folder = emu.store.make_folder(repo, path, user, now)
        body = {
            "repo": key,
            "path": f"/{path}/" if path else "/",
            "created": storage_time(folder.created),
            "createdBy": folder.created_by,
            "uri": download_uri(emu, key, path + "/"),
        }
        return json_response(201, body, VND + "storage.ItemCreated+json")
    parts = path.split("/")
    if path in repo.folders or any("/".join(parts[:i]) in repo.files for i in range(1, len(parts))):
        return error(409, f"Cannot deploy file '{key}:{path}': a folder or file is in the way")
    declared = _declared(req)
    source: StoredFile | None = None
    if (req.headers.get("X-Checksum-Deploy") or "").lower() == "true":
        if "sha1" not in declared and "sha256" not in declared:
            return error(400, "Checksum values not provided")
        pool = emu.store.by_sha256.get(declared.get("sha256", ""), set()) or emu.store.by_sha1.get(
            declared.get("sha1", ""), set()
        )
        if not pool:
            return error(404, f"Checksum deploy failed: no content with checksum of {key}:{path}")
        source = min(pool, key=lambda f: f.seq)
        sha256, sha1, md5 = source.sha256, source.sha1, source.md5
    else:
        sha256, sha1, md5 = digests(req.body)
        actual = {"sha256": sha256, "sha1": sha1, "md5": md5}
        for algorithm, value in declared.items():
            if actual[algorithm] != value:
                return error(
                    409,
                    f"Checksum error for '{key}:{path}': received '{value}' but actually "
                    f"was '{actual[algorithm]}'",
                )
    old = repo.files.get(path)
    stored = StoredFile(
        repo=key,
        path=path,
        size=source.size if source else len(req.body),
        sha1=sha1,
        md5=md5,
        sha256=sha256,
        properties={**(old.properties if old else {}), **props},
        created=old.created if old else now,
        created_by=old.created_by if old else user,
        modified=now,
        modified_by=user,
        original_checksums=declared,
        content=source.content if source else req.body,
        source=source.source if source else None,
    )
    emu.store.put_file(stored)
    return item_created(emu, stored)


def item_created(emu: ArtifactoryEmulator, stored: StoredFile) -> Response:
    uri = download_uri(emu, stored.repo, stored.path)
    body = {
        "repo": stored.repo,
        "path": "/" + stored.path,
        "created": storage_time(stored.created),
        "createdBy": stored.created_by,
        "downloadUri": uri,
        "mimeType": stored.mime_type,
        "size": str(stored.size),
        "checksums": stored.checksums,
        "originalChecksums": dict(stored.original_checksums),
        "uri": uri,
    }
    response = json_response(201, body, VND + "storage.ItemCreated+json")
    response.headers.append(("Location", uri))
    if stored.sha256:
        response.headers.append(("X-Checksum-Sha256", stored.sha256))
    return response


def delete_item(
    emu: ArtifactoryEmulator, req: Request, repo_raw: str, path_raw: str | None
) -> Response:
    repo, path = _repo_path(repo_raw, path_raw)
    item = _writable(emu, repo, path)
    if isinstance(item, Response):
        return item
    emu.store.delete(item)
    return Response(204)


# -- search (§7, §8) ------------------------------------------------------------------------


def run_aql(emu: ArtifactoryEmulator, req: Request) -> Response:
    if not emu.capabilities["aql"]:
        return error(404, "Not Found")
    try:
        query_text = req.body.decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "The AQL query is not UTF-8 text")
    if emu.aql_max_chars is not None and len(query_text) > emu.aql_max_chars:
        return error(400, f"AQL query is longer than {emu.aql_max_chars} characters")
    try:
        query = aql.parse(query_text.strip())
    except aql.AqlError as exc:
        return error(400, str(exc))
    return json_response(200, aql.run(query, emu.store, emu.now()))


def checksum_search(emu: ArtifactoryEmulator, req: Request) -> Response:
    """§8: exactly one of ``md5``/``sha1``/``sha256``; ``X-Result-Detail: info, properties``."""
    given = [name for name in _HEX_LENGTHS if name in req.query]
    if len(given) != 1:
        return error(400, "Exactly one of the md5, sha1 or sha256 parameters is required")
    algorithm = given[0]
    value = (req.arg(algorithm) or "").lower()
    if not re.fullmatch(f"[0-9a-f]{{{_HEX_LENGTHS[algorithm]}}}", value):
        return error(400, f"Invalid {algorithm} checksum: '{value}'")
    repos: set[str] | None = None
    if req.arg("repos"):
        repos = set()
        for key in (req.arg("repos") or "").split(","):
            repo = emu.store.repo(key)
            repos.update([key, *(repo.members if repo else ())])
    if algorithm == "md5":
        hits = [f for f in emu.store.all_files() if f.md5 == value]
    else:
        index = emu.store.by_sha256 if algorithm == "sha256" else emu.store.by_sha1
        hits = list(index.get(value, ()))
    hits.sort(key=lambda f: (f.repo, f.path))
    detail = {part.strip() for part in (req.headers.get("X-Result-Detail") or "").split(",")}
    results: list[dict[str, Any]] = []
    for stored in hits:
        if repos is not None and stored.repo not in repos:
            continue
        entry: dict[str, Any] = (
            file_info(emu, stored)
            if "info" in detail
            else {"uri": storage_uri(emu, stored.repo, stored.path)}
        )
        if "properties" in detail and stored.properties:
            entry["properties"] = {k: list(v) for k, v in stored.properties.items()}
        results.append(entry)
    return json_response(200, {"results": results}, VND + "search.ChecksumSearchResult+json")


# -- the route table (matched against the still-encoded path, in order) ---------------------

_ROUTES: list[Route] = [
    (m, re.compile(p), kind, fn)
    for m, p, kind, fn in (
        ("GET", r"/api/system/ping", "public", ping),
        ("GET", r"/api/v1/system/readiness", "public", readiness),
        ("GET", r"/api/system/version", "read", version),
        ("GET", r"/api/repositories", "read", repositories),
        ("GET", r"/api/repositories/([^/]+)", "read", repository_config),
        ("GET", r"/api/storage/([^/]+)(/.*)?", "read", storage_get),
        ("PUT", r"/api/storage/([^/]+)(/.*)?", "write", properties_put),
        ("DELETE", r"/api/storage/([^/]+)(/.*)?", "write", properties_delete),
        ("PATCH", r"/api/metadata/([^/]+)(/.*)?", "write", metadata_patch),
        ("GET", r"/api/build", "read", builds.list_builds),
        ("PUT", r"/api/build", "write", builds.publish),
        ("POST", r"/api/build/promote/([^/]+)/([^/]+)", "write", builds.promote),
        ("GET", r"/api/build/([^/]+)", "read", builds.runs),
        ("GET", r"/api/build/([^/]+)/([^/]+)", "read", builds.build_info),
        ("POST", r"/api/(copy|move)/([^/]+)(/.*)?", "copy", builds.copy_move),
        ("POST", r"/api/search/aql", "aql", run_aql),
        ("GET", r"/api/search/checksum", "read", checksum_search),
        ("GET", r"/api/.*", "read", not_found),
        ("GET", r"/([^/]+)(/.*)?", "read", download),
        ("PUT", r"/([^/]+)(/.*)?", "write", deploy),
        ("DELETE", r"/([^/]+)(/.*)?", "write", delete_item),
    )
]
_PLATFORM_ROUTES: list[Route] = [
    ("GET", re.compile(r"/access/api/v1/environments"), "read", environments),
    ("GET", re.compile(r"/lifecycle/api/v2/(.*)"), "read", lifecycle),
]
