"""What the Artifactory backend's writes share: how properties are written into a URL, how
the copy/move/promote answers are read, and how an uncertain write is settled.

Never a blind retry of a write: when a write gets no clear answer (a reset connection, a
timeout, a 5xx or a proxy's HTML page) :func:`settle` reads the state back and decides: the
change is there (done), or it is not (the error says nothing changed and it is safe to try
again), or the state cannot be read (the error says so, and what to check by hand).
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from relman.errors import InputError, RelmanError
from relman.registry.base import Write
from relman.registry.http import ConnectionFailed, HttpError, PermissionDenied, ServerError

logger = logging.getLogger(__name__)

#: Characters escaped with a backslash inside property keys and values (reference §2.2).
_ESCAPED = ",\\|="


def escape(text: str) -> str:
    """A key or value as the ``properties=`` syntax needs it: ``, \\ | =`` prefixed with a
    backslash (sent URL-encoded as ``%5C``)."""
    return "".join("\\" + c if c in _ESCAPED else c for c in text)


def encode_properties(properties: Mapping[str, Sequence[str]], separator: str = ";") -> str:
    """``k1=v1,v2;k2=v3`` with every key and value escaped and URL-encoded, values joined by
    an encoded ``,`` and properties by a literal ``separator`` (what jfrog-client-go sends;
    ``;`` for ``?properties=``, and the deploy's matrix parameters)."""
    comma = urllib.parse.quote(",", safe="")
    parts = []
    for key in sorted(properties):
        values = comma.join(urllib.parse.quote(escape(v), safe="") for v in properties[key])
        parts.append(f"{urllib.parse.quote(escape(key), safe='')}={values}")
    return separator.join(parts)


def needs_patch(properties: Mapping[str, Sequence[str]]) -> bool:
    """A ``;`` in a value cannot be written with ``?properties=`` (it separates properties
    and has no escape); such values go through the JSON ``PATCH /api/metadata`` instead."""
    return any(";" in v for values in properties.values() for v in values)


def messages(doc: Any) -> list[tuple[str, str]]:
    """``[(LEVEL, message)]`` of a copy/move/promote answer (``{"messages": [...]}``)."""
    if not isinstance(doc, Mapping):
        return []
    raw = doc.get("messages")
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw:
        if isinstance(item, Mapping):
            out.append((str(item.get("level", "INFO")).upper(), str(item.get("message", ""))))
    return out


def errors_in(found: Sequence[tuple[str, str]]) -> list[str]:
    return [text for level, text in found if level in ("ERROR", "WARN", "WARNING")]


def uncertain(exc: RelmanError) -> bool:
    """True when a write may or may not have happened: no answer, or one that says nothing
    (5xx, a proxy's page, a body cut short)."""
    if isinstance(exc, ConnectionFailed | ServerError):
        return True
    return (
        isinstance(exc, HttpError)
        and not isinstance(exc, PermissionDenied)
        and (exc.status is None or exc.status >= 500)
    )


def settle(write: Write, exc: RelmanError, done: Callable[[], bool]) -> Write:
    """After ``exc`` on ``write``: read the state back (``done()``) and decide."""
    if not uncertain(exc):
        raise exc
    logger.warning("%s: no clear answer (%s); reading the state back", write, exc)
    try:
        happened = done()
    except RelmanError as again:
        raise InputError(
            f"{write.action} {write.target}: no clear answer ({exc}) and the state cannot be "
            f"read back ({again}); check it on the server before trying again"
        ) from None
    if happened:
        logger.info("%s: the change is there after all", write)
        return write
    raise InputError(
        f"{write.action} {write.target} did not happen ({exc}); nothing changed, it is safe to "
        "try again"
    )
