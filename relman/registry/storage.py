"""File primitives of the local registry: path checks, the lock, streamed atomic writes.

Kept apart from :mod:`relman.registry.local` so the registry reads as registry logic; the
functions here know nothing of repositories or builds.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from relman.errors import InputError, UsageError
from relman.model import CancelToken, Digests, ProgressCallback
from relman.paths import ensure_dir
from relman.registry.base import DIGESTS, Conflict

BLOCK_SIZE = 1 << 20
REPO_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_DRIVE = re.compile(r"[A-Za-z]:")

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

else:
    import fcntl

    def lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)


def check_repo_key(key: str) -> str:
    if not isinstance(key, str) or not REPO_KEY.fullmatch(key):
        raise UsageError(
            f"{key!r} is not a repository key (letters, digits, '.', '_', '-'; "
            "starting with a letter or digit)"
        )
    return key


def check_item_path(path: str) -> str:
    """A repository-relative path, or a one-line :class:`UsageError` saying what is wrong."""
    if not isinstance(path, str) or not path:
        raise UsageError("an empty path names no item")
    shown = path.replace("\x00", "\\x00")
    if "\x00" in path:
        raise UsageError(f"path {shown!r} contains a NUL character")
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise UsageError(f"path {shown!r} is absolute; give it relative to its repository")
    if "\\" in path:
        raise UsageError(f"path {shown!r} contains a backslash; separate folders with '/'")
    for part in path.split("/"):
        if part == "..":
            raise UsageError(f"path {shown!r} climbs out of its repository with '..'")
        if part in ("", "."):
            raise UsageError(f"path {shown!r} has an empty or '.' segment")
    return path


def check_build_key(what: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise UsageError(f"build {what} {value!r} is empty or contains NUL")
    if value.startswith("."):
        raise UsageError(f"build {what} {value!r} starts with '.'")
    return value


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable registry metadata ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: registry metadata is not a JSON object")
    return data


@contextlib.contextmanager
def temporary(folder: Path, name: str) -> Iterator[Path]:
    """A temporary file in ``folder`` that is gone afterwards unless renamed away."""
    ensure_dir(folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def link_new(tmp: Path, target: Path) -> None:
    """Give ``tmp``'s bytes the name ``target``; never replaces an existing file."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise Conflict(f"{target}: appeared while relman was writing it; nothing changed") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # A file system without hard links: the caller holds the lock and has checked that
        # the path is free, so a rename is as safe among relman processes.
        if target.exists():
            raise Conflict(f"{target}: appeared while relman was writing it") from None
        os.replace(tmp, target)


def stream(
    source: Path,
    dest: Path | None,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> Digests:
    """Read ``source`` once in blocks, hashing (and writing to ``dest``) as it goes."""
    hashes = {name: hashlib.new(name) for name in DIGESTS}
    total = source.stat().st_size
    done = 0
    buf = bytearray(BLOCK_SIZE)
    view = memoryview(buf)
    with contextlib.ExitStack() as stack:
        reader = stack.enter_context(source.open("rb", buffering=0))
        writer = stack.enter_context(dest.open("wb")) if dest is not None else None
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            n = reader.readinto(buf)
            if not n:
                break
            chunk = view[:n]
            for h in hashes.values():
                h.update(chunk)
            if writer is not None:
                writer.write(chunk)
            done += n
            if progress is not None:
                progress(done, total)
        if writer is not None:
            writer.flush()
            os.fsync(writer.fileno())
    digests = {name: h.hexdigest() for name, h in hashes.items()}
    return Digests(done, digests["sha256"], digests["sha1"], digests["md5"])


def hash_bytes(dest: Path, data: bytes, progress: ProgressCallback | None) -> Digests:
    digests = {name: hashlib.new(name) for name in DIGESTS}
    for h in digests.values():
        h.update(data)
    with dest.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if progress is not None:
        progress(len(data), len(data))
    hexes = {name: h.hexdigest() for name, h in digests.items()}
    return Digests(len(data), hexes["sha256"], hexes["sha1"], hexes["md5"])
