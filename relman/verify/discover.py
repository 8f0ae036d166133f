"""Expand dropped files and folders into the files to verify.

Folders are walked recursively; symbolic links to folders are followed once, and a link that
leads back into a folder already on the way is reported as a loop instead of being walked for
ever. Checksum lists and sidecars inside a folder are evidence, not artifacts, so they are not
queued themselves. Every path that cannot be used is reported with a reason; the walk goes on.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from relman.model import CancelToken
from relman.verify.files import is_checksum_file
from relman.verify.hashing import describe_os_error, display_path
from relman.verify.signatures.dispatch import LIST_SIGNATURE_SUFFIXES, SIDECAR_SUFFIXES

#: Signature and provenance sidecars: evidence found beside an artifact, never queued.
EVIDENCE_SUFFIXES = tuple(dict.fromkeys((*SIDECAR_SUFFIXES, *LIST_SIGNATURE_SUFFIXES)))


@dataclass(frozen=True, slots=True)
class Found:
    """A file to verify (``problem`` None) or a path that cannot be used, and why."""

    path: Path
    problem: str | None = None


def is_evidence(path: Path) -> bool:
    return is_checksum_file(path) or path.name.endswith(EVIDENCE_SUFFIXES)


def expand(paths: Iterable[Path], *, cancel: CancelToken | None = None) -> Iterator[Found]:
    """Yield every file under ``paths`` (files given directly are always yielded)."""
    for path in paths:
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            st = os.stat(path)
        except OSError as exc:
            yield Found(path, str(describe_os_error(path, exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(path, [(st.st_dev, st.st_ino)], cancel)
        else:
            yield Found(path)


def _walk(
    folder: Path, ancestors: list[tuple[int, int]], cancel: CancelToken | None
) -> Iterator[Found]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Found(folder, str(describe_os_error(folder, exc)))
        return
    for entry in entries:
        if cancel is not None:
            cancel.raise_if_cancelled()
        path = Path(entry.path)
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError as exc:
            if exc.errno == errno.ELOOP or entry.is_symlink():
                why = "symbolic link loop" if exc.errno == errno.ELOOP else "broken symbolic link"
                yield Found(path, f"{display_path(path)}: {why}")
            else:
                yield Found(path, str(describe_os_error(path, exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                yield Found(
                    path,
                    f"{display_path(path)}: symbolic link loop (leads back to a folder above it); "
                    "not followed",
                )
                continue
            yield from _walk(path, [*ancestors, key], cancel)
        elif stat.S_ISREG(st.st_mode):
            if not is_evidence(path):
                yield Found(path)
        else:
            yield Found(path, f"{display_path(path)}: is not a regular file")
