"""The errors of the server backends' HTTP client, and how a failure becomes one line.

Every failure names the URL and the cause a person can act on: DNS, TLS (an untrusted
certificate: give a CA bundle), a refused or reset connection, a timeout, a proxy, a proxy's
HTML error page, 401 vs 403, an expired token, a server error, truncated or malformed JSON. The
exceptions are :class:`~relman.errors.InputError` (exit 2); none of them carries a token:
credentials travel in a header, never in a URL, and messages quote only the server's own words
(cut short and made printable).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import urllib.parse
from collections.abc import Iterator, Mapping

import requests
import urllib3

from relman.errors import InputError
from relman.registry.base import NotFound

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
_SNIPPET = 200
_BAD_LEVELS = ("ERROR", "WARN", "WARNING")


class HttpError(InputError):
    """The server answered, but not with what was asked for (exit 2)."""

    def __init__(self, message: str, *, status: int | None = None, url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class AuthenticationError(HttpError):
    """HTTP 401: no credentials, wrong credentials, or an expired token."""


class PermissionDenied(HttpError):
    """HTTP 403: the credentials are good but lack a permission."""


class ServerError(HttpError):
    """HTTP 5xx (after the retries an idempotent request gets)."""


class ConnectionFailed(HttpError):
    """No HTTP answer at all: DNS, TLS, a refused or reset connection, a timeout, a proxy.

    ``kind`` is one of ``dns``, ``tls``, ``refused``, ``reset``, ``timeout``, ``proxy``,
    ``connection``.
    """

    def __init__(self, message: str, *, kind: str, url: str = "") -> None:
        super().__init__(message, url=url)
        self.kind = kind


class HttpNotFound(NotFound):
    """HTTP 404, with the server's own message (``No properties could be found.``)."""

    def __init__(self, message: str, *, server_message: str, url: str) -> None:
        super().__init__(message)
        self.server_message = server_message
        self.url = url


def connection_error(
    exc: requests.RequestException,
    *,
    service: str,
    host: str,
    ca_bundle: str | None,
    method: str,
    url: str,
    timeout: tuple[float, float],
) -> ConnectionFailed:
    """One line for a request that got no HTTP answer."""
    shown = loggable(url)
    cause = root_cause(exc)
    tries = " (after retries)" if method in IDEMPOTENT else ""
    if isinstance(exc, requests.exceptions.SSLError) or isinstance(cause, ssl.SSLError):
        reason = ssl_reason(cause if isinstance(cause, ssl.SSLError) else exc)
        if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate verify failed" in reason:
            bundle = (
                f"the CA bundle {ca_bundle} does not vouch for it"
                if ca_bundle
                else "give the server's CA certificate with --ca-bundle"
            )
            return ConnectionFailed(
                f"{shown}: TLS: the certificate of {host} is not trusted ({reason}); {bundle}",
                kind="tls",
                url=shown,
            )
        return ConnectionFailed(
            f"{shown}: TLS handshake with {host} failed ({reason})", kind="tls", url=shown
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return ConnectionFailed(
            f"{shown}: the proxy (from the environment, HTTPS_PROXY/HTTP_PROXY) failed: "
            f"{snippet(str(cause))}{tries}",
            kind="proxy",
            url=shown,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ConnectionFailed(
            f"{shown}: no connection to {host} within {timeout[0]:g} s{tries}",
            kind="timeout",
            url=shown,
        )
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        cause, socket.timeout | TimeoutError
    ):
        return ConnectionFailed(
            f"{shown}: {service} sent no answer within {timeout[1]:g} s{tries}",
            kind="timeout",
            url=shown,
        )
    if isinstance(cause, urllib3.exceptions.NameResolutionError | socket.gaierror):
        return ConnectionFailed(
            f"{shown}: cannot resolve host {host} (DNS): check the URL and the network",
            kind="dns",
            url=shown,
        )
    if isinstance(cause, ConnectionRefusedError):
        return ConnectionFailed(
            f"{shown}: connection refused by {host} (is the server running, is the port "
            f"right?){tries}",
            kind="refused",
            url=shown,
        )
    if is_reset(cause):
        return ConnectionFailed(
            f"{shown}: the connection to {host} was reset before an answer{tries}",
            kind="reset",
            url=shown,
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ConnectionFailed(f"{shown}: not a valid URL", kind="connection", url=shown)
    return ConnectionFailed(
        f"{shown}: cannot reach {host}: {snippet(str(cause))}{tries}",
        kind="connection",
        url=shown,
    )


def server_message(body: bytes) -> str:
    """The server's own words: ``errors[0].message``, the first ERROR of ``messages``, or
    the first line of a text body; short, printable, never the whole body."""
    text = body[: _SNIPPET * 20].decode("utf-8", "replace")
    with contextlib.suppress(ValueError):
        doc = json.loads(body)
        if isinstance(doc, dict):
            errors = doc.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                return snippet(str(errors[0].get("message", "")))
            messages = doc.get("messages")
            if isinstance(messages, list):
                texts = [
                    str(m.get("message", ""))
                    for m in messages
                    if isinstance(m, dict)
                    and str(m.get("level", "")).upper() in ("ERROR", "WARN", "WARNING")
                ]
                if texts:
                    return snippet("; ".join(texts))
            for key in ("message", "error"):
                if isinstance(doc.get(key), str):
                    return snippet(doc[key])
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return snippet(first)


def snippet(text: str) -> str:
    clean = "".join(c if c.isprintable() else " " for c in text).strip()
    return clean if len(clean) <= _SNIPPET else clean[: _SNIPPET - 1] + "…"


def is_html(headers: Mapping[str, str], body: bytes) -> bool:
    kind = headers.get("Content-Type", "").lower()
    if "html" in kind:
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def loggable(url: str) -> str:
    """A URL as messages and logs show it: no user info, a long query cut short."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = parts.query if len(parts.query) <= 120 else parts.query[:119] + "…"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for attr in ("reason", "__cause__", "__context__"):
            nxt = getattr(current, attr, None)
            if isinstance(nxt, BaseException):
                todo.append(nxt)
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                todo.append(arg)


def root_cause(exc: BaseException) -> BaseException:
    """The most telling exception in the chain requests and urllib3 wrap around a failure."""
    chain = list(causes(exc))
    for kind in (
        ssl.SSLError,
        urllib3.exceptions.NameResolutionError,
        socket.gaierror,
        ConnectionRefusedError,
        ConnectionResetError,
        BrokenPipeError,
        socket.timeout,
        TimeoutError,
    ):
        for item in chain:
            if isinstance(item, kind):
                return item
    return chain[-1]


def is_reset(cause: BaseException) -> bool:
    if isinstance(cause, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return True
    text = str(cause).lower()
    return "reset" in text or "incompleteread" in text or "connection broken" in text


def ssl_reason(exc: BaseException) -> str:
    reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None)
    text = str(reason) if reason else str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in str(exc) and "CERTIFICATE_VERIFY_FAILED" not in text:
        text = f"CERTIFICATE_VERIFY_FAILED: {text}"
    return snippet(text)
