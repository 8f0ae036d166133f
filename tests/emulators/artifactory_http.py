"""The HTTP side of the Artifactory emulator: server, connection handler, faults, responses.

A :class:`ThreadingHTTPServer` on 127.0.0.1 (port 0) speaks HTTP/1.1 with keep-alive: every
answer has a Content-Length, bodies are streamed from memory or from a file on disk
(``socket.sendfile``, so a 1 GiB artifact is never held in memory). With TLS each connection is
wrapped in its worker thread, so a client that fails the handshake blocks nobody.

A :class:`Fault` replaces or damages the answers to matching requests; :class:`Response` is
what the endpoints return, before any fault.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import struct
import sys
import traceback
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock
from typing import Any

FAULT_KINDS = ("status", "html", "reset", "short", "slow", "truncated-json", "garbage-json")
#: Fault kinds that answer instead of the endpoint (unless ``commit``).
_REPLACING = ("status", "html", "garbage-json")
GARBAGE_JSON = b'{"results" : [ {"repo" : "libs-dev", "path" : \x00\xff <<garbage>> '
_CONNECTION_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, BrokenPipeError)


@dataclass
class Fault:
    """The next ``times`` requests matching ``method`` and ``path`` get this fault.

    ``path`` is a regex searched in the decoded path without the ``/artifactory`` prefix
    (``/api/storage/libs-dev/a.jar``, ``/libs-dev/a.jar``); ``method`` ``None`` matches any
    method; ``times`` ``None`` means every matching request. Kinds: ``status`` (``status``
    with the JSON error envelope), ``html`` (``status`` with a proxy's HTML page), ``reset``
    (headers and ``after`` body bytes, then a TCP reset), ``short`` (the full Content-Length,
    ``after`` bytes, then a clean close), ``slow`` (wait ``delay`` seconds, then answer),
    ``truncated-json`` (the body cut in half, Content-Length matching the cut body) and
    ``garbage-json`` (200, application/json, not JSON). ``delay`` applies to every kind.
    ``commit`` runs the endpoint first for the replacing kinds, so a write happens although
    the client sees an error (as behind a proxy that times out).
    """

    method: str | None = None
    path: str = ""
    kind: str = "status"
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1
    after: int = 0
    delay: float = 0.0
    message: str | None = None
    commit: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")
        self._regex = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and bool(
            self._regex.search(path)
        )


@dataclass(frozen=True)
class RequestLog:
    """One request served: the decoded path without the ``/artifactory`` prefix."""

    method: str
    path: str
    query: str
    status: int
    user: str | None = None
    fault: str | None = None


@dataclass
class Request:
    """A parsed request. ``raw_path`` is still percent-encoded; neither has the query."""

    method: str
    raw_path: str
    path: str
    raw_query: str
    headers: Message
    body: bytes
    prefixed: bool
    user: str | None = None

    def __post_init__(self) -> None:
        self.query = urllib.parse.parse_qs(self.raw_query, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def raw_arg(self, name: str) -> str | None:
        """A query parameter exactly as sent (still percent-encoded)."""
        for part in self.raw_query.split("&"):
            key, sep, value = part.partition("=")
            if urllib.parse.unquote_plus(key) == name:
                return value if sep else ""
        return None

    def flag(self, name: str) -> bool:
        return self.arg(name, "0") in ("1", "true")


@dataclass
class Response:
    """What an endpoint answers: a body in memory or a slice of a file on disk."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | memoryview = b""
    file: Path | None = None
    offset: int = 0
    length: int = 0

    @property
    def size(self) -> int:
        return self.length if self.file is not None else len(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def dump(value: Any) -> bytes:
    """JSON with Jackson's ``"key" : value`` spacing (one line: clients must not care)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", " : ")).encode()


def json_response(
    status: int, value: Any, content_type: str = "application/json", **extra: str
) -> Response:
    headers = [
        ("Content-Type", content_type),
        *((k.replace("_", "-"), v) for k, v in extra.items()),
    ]
    return Response(status, headers, dump(value))


def error(status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> Response:
    """The error envelope ``{"errors": [{"status", "message"}]}`` (reference §0.3)."""
    body = {"errors": [{"status": status, "message": message}]}
    return Response(status, [("Content-Type", "application/json"), *headers], dump(body))


def messages(status: int, level: str, text: str) -> Response:
    """The ``{"messages": [...]}`` body of copy, move and promotion (reference §5, §6)."""
    return json_response(status, {"messages": [{"level": level, "message": text}]})


def text(status: int, body: str, content_type: str = "text/plain") -> Response:
    return Response(status, [("Content-Type", content_type)], body.encode())


def proxy_page(status: int) -> Response:
    phrase = _phrase(status)
    page = (
        f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return text(status, page, "text/html")


def _phrase(status: int) -> str:
    with contextlib.suppress(ValueError):
        return HTTPStatus(status).phrase
    return "Error"


def apply_fault(fault: Fault, response: Response | None) -> Response:
    """The answer a replacing fault gives, or ``response`` damaged by a body fault."""
    if fault.kind == "status":
        response = error(fault.status, fault.message or _phrase(fault.status))
    elif fault.kind == "html":
        response = proxy_page(fault.status)
    elif fault.kind == "garbage-json":
        response = Response(200, [("Content-Type", "application/json")], GARBAGE_JSON)
    assert response is not None
    if fault.kind == "truncated-json" and response.file is None:
        response.body = bytes(response.body[: len(response.body) // 2])
    response.headers.extend(fault.headers.items())
    return response


# -- server ---------------------------------------------------------------------------------


class Server(ThreadingHTTPServer):
    """The listening socket, the open connections (closed on stop) and optional TLS."""

    daemon_threads = True
    #: A bounded pool of parallel clients must not overflow the listen backlog (default 5).
    request_queue_size = 128

    def __init__(
        self,
        handle: Callable[[Request], Response],
        take_fault: Callable[[str, str], Fault | None],
        record: Callable[[RequestLog], None],
        on_error: Callable[[str], None],
        wait: Callable[[float], None],
        tls: ssl.SSLContext | None,
    ) -> None:
        self.handle = handle
        self.take_fault = take_fault
        self.record = record
        self.on_error = on_error
        self.wait = wait
        self.tls = tls
        self.connections: set[socket.socket] = set()
        self.connections_lock = Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                request.close()
                return
        with self.connections_lock:
            self.connections.add(request)
        try:
            self.RequestHandlerClass(request, client_address, self)  # type: ignore[arg-type]
        finally:
            with self.connections_lock:
                self.connections.discard(request)
            if self.tls is not None:
                request.close()

    def close_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, _CONNECTION_ERRORS):
            return
        self.on_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Artifactory/7"
    sys_version = ""
    timeout = 60
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to ``emu.requests``, not to stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        method = self.command
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(error(400, "Malformed request body"), method, None)
            return
        raw, _, raw_query = self.path.partition("?")
        prefixed = raw == "/artifactory" or raw.startswith("/artifactory/")
        rel = raw[len("/artifactory") :] if prefixed else raw
        request = Request(
            method, rel, urllib.parse.unquote(rel), raw_query, self.headers, body, prefixed
        )
        fault = self.server.take_fault(method, request.path)
        if fault is not None and fault.delay > 0:
            self.server.wait(fault.delay)
        response: Response | None = None
        if fault is None or fault.kind not in _REPLACING or fault.commit:
            try:
                response = self.server.handle(request)
            except Exception:
                self.server.on_error(traceback.format_exc())
                response = error(500, "Emulator error (see emu.errors)")
        if fault is not None:
            response = apply_fault(fault, response)
        assert response is not None
        self.server.record(
            RequestLog(
                method,
                request.path,
                raw_query,
                response.status,
                request.user,
                fault.kind if fault else None,
            )
        )
        self._send(response, method, fault)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response, method: str, fault: Fault | None) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        no_body = response.status in (204, 304) or 100 <= response.status < 200
        if not no_body and response.header("Content-Length") is None:
            self.send_header("Content-Length", str(response.size))
        self.end_headers()
        cut = fault.after if fault is not None and fault.kind in ("reset", "short") else None
        if method != "HEAD" and not no_body:
            count = response.size if cut is None else min(cut, response.size)
            if response.file is not None:
                with response.file.open("rb") as fh:
                    if count:
                        self.connection.sendfile(fh, response.offset, count)
            elif count:
                self.connection.sendall(memoryview(response.body)[:count])
        if cut is None:
            return
        self.close_connection = True
        if fault is not None and fault.kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            self.connection.shutdown(socket.SHUT_WR)
        self.connection.close()
