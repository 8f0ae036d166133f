"""One configured HTTP session per registry server: timeouts, retries, auth, TLS, errors.

Every server backend (Artifactory, Nexus) talks through an :class:`HttpClient`:

- one :class:`requests.Session` (connection reuse; proxies from the environment, as requests
  does with ``trust_env``); connect and read timeouts on every request;
- urllib3 ``Retry`` with exponential backoff for idempotent methods (GET, HEAD, OPTIONS) on
  connection errors and HTTP 429/502/503/504, honouring ``Retry-After`` (capped). POST, PUT,
  DELETE and PATCH are never retried here: after a failed write the backend reads the state
  back and decides (a blind retry could do a promotion twice). A read that happens to be a
  POST (an AQL search) may opt in with ``idempotent=True``;
- TLS is always verified, against the system store or a CA bundle the profile names; there is
  no switch to turn verification off;
- the token goes into the ``Authorization`` header by an auth object that never shows it: not
  in a repr, a log line, an exception or a URL. Bearer for an access token, Basic for a user
  and token;
- every failure becomes one line naming the URL and the cause (DNS, TLS, refused connection,
  timeout, proxy, HTML error page, 401 vs 403 with what to do, expired token, server error,
  truncated or malformed JSON, an answer too large to be what was asked for).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from relman.errors import InputError, UsageError
from relman.registry.http_errors import (
    IDEMPOTENT,
    AuthenticationError,
    ConnectionFailed,
    HttpError,
    HttpNotFound,
    PermissionDenied,
    ServerError,
    connection_error,
    is_html,
    loggable,
    root_cause,
    server_message,
    snippet,
)

__all__ = [
    "DEFAULT_MAX_JSON",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT",
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "Answer",
    "AuthenticationError",
    "ConnectionFailed",
    "HttpClient",
    "HttpError",
    "HttpNotFound",
    "PermissionDenied",
    "ServerError",
    "TokenAuth",
    "make_retry",
    "server_message",
]

logger = logging.getLogger(__name__)

#: (connect, read) timeouts in seconds.
DEFAULT_TIMEOUT = (10.0, 60.0)
#: The most JSON read from one answer; a larger one is refused, not parsed.
DEFAULT_MAX_JSON = 64 << 20
#: The longest wait a ``Retry-After`` header can impose.
MAX_RETRY_AFTER = 30
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class TokenAuth(requests.auth.AuthBase):
    """``Authorization: Bearer TOKEN``, or Basic ``user:token`` when a user is given.

    The header value is built once; nothing about it appears in :func:`repr`.
    """

    __slots__ = ("_header", "user")

    def __init__(self, token: str, user: str | None = None) -> None:
        if not token or any(c in token for c in "\r\n\x00"):
            raise UsageError("the registry token is empty or holds a line break")
        self.user = user
        if user is None:
            self._header = f"Bearer {token}"
        else:
            pair = f"{user}:{token}".encode()
            self._header = "Basic " + base64.b64encode(pair).decode("ascii")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        scheme = "Bearer" if self.user is None else f"Basic user={self.user!r}"
        return f"TokenAuth({scheme}, token=<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenAuth) and other._header == self._header

    __hash__ = None  # type: ignore[assignment]


def make_retry(attempts: int, backoff: float, methods: frozenset[str]) -> Retry:
    return Retry(
        total=attempts,
        connect=attempts,
        read=attempts,
        status=attempts,
        other=0,
        redirect=5,
        allowed_methods=methods,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_max=MAX_RETRY_AFTER,
        retry_after_max=MAX_RETRY_AFTER,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer, read (capped) by :meth:`HttpClient.send`."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class HttpClient:
    """A server at ``base_url`` (``https://host/artifactory``) and one session to it.

    ``service`` names the server in messages (``Artifactory``). ``ca_bundle`` is a PEM file
    of CA certificates to trust instead of the system store. ``attempts`` is how many times
    an idempotent request is retried; POST requests below ``search_paths`` (searches, which
    change nothing) are retried like GETs. ``hint`` says how to store a token, for the 401
    messages. The client is safe to share between threads (the connection pool holds
    ``pool`` connections).
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        token: str | None = None,
        user: str | None = None,
        ca_bundle: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        attempts: int = 3,
        backoff: float = 0.5,
        max_json: int = DEFAULT_MAX_JSON,
        pool: int = 10,
        search_paths: tuple[str, ...] = (),
        hint: str = "",
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{service} URL {base_url!r} is not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise UsageError(f"{service} URL must not carry a user or password")
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname
        self.service = service
        self.timeout = timeout
        self.max_json = max_json
        self.hint = hint
        self.attempts = attempts
        self.backoff = backoff
        self.has_token = token is not None
        self.ca_bundle = ca_bundle
        self._verify: str | bool = True if ca_bundle is None else _check_ca_bundle(ca_bundle)
        self.session = requests.Session()
        self.session.trust_env = True  # proxies (and NO_PROXY) from the environment
        self.session.headers["User-Agent"] = _user_agent()
        self.session.auth = TokenAuth(token, user) if token is not None else None
        reads = HTTPAdapter(
            max_retries=make_retry(attempts, backoff, IDEMPOTENT), pool_maxsize=pool
        )
        self.session.mount("http://", reads)
        self.session.mount("https://", reads)
        searches = HTTPAdapter(
            max_retries=make_retry(attempts, backoff, IDEMPOTENT | {"POST"}), pool_maxsize=pool
        )
        for prefix in search_paths:
            self.session.mount(self.base_url + prefix, searches)

    def __repr__(self) -> str:
        auth = "token" if self.has_token else "anonymous"
        return f"HttpClient({self.base_url!r}, {auth})"

    def close(self) -> None:
        self.session.close()

    def url(self, path: str, query: str = "") -> str:
        """``base_url`` + ``path`` (already escaped) + ``?query`` (already encoded). A path
        starting with ``//`` is one of another service of the same platform: it is taken from
        ``base_url`` without its last segment (``https://host/access/api/...`` for
        ``//access/api/...`` and ``https://host/artifactory``)."""
        base = self.base_url
        if path.startswith("//"):
            parts = urllib.parse.urlsplit(base)
            parent = parts.path.rsplit("/", 1)[0]
            base, path = f"{parts.scheme}://{parts.netloc}{parent}", path[1:]
        return f"{base}{path}" + (f"?{query}" if query else "")

    # -- requests ----------------------------------------------------------------------------

    def open(
        self,
        method: str,
        path: str,
        *,
        query: str | Mapping[str, str] = "",
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        timeout: tuple[float, float] | None = None,
        what: str = "",
    ) -> requests.Response:
        """Send one request and return the response with its body unread (the caller
        closes it) when its status is in ``ok``; else raise the one-line error for it.
        ``path`` starts with ``/`` and is escaped by the caller."""
        if not isinstance(query, str):
            query = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        url = self.url(path, query)
        limits = timeout or self.timeout
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                headers=dict(headers or {}),
                timeout=limits,
                verify=self._verify,
                stream=True,
                allow_redirects=method in IDEMPOTENT,
            )
        except requests.RequestException as exc:
            raise connection_error(
                exc,
                service=self.service,
                host=self.host,
                ca_bundle=self.ca_bundle,
                method=method,
                url=url,
                timeout=limits,
            ) from None
        logger.debug(
            "%s %s -> %s in %.3f s",
            method,
            loggable(url),
            response.status_code,
            time.monotonic() - started,
        )
        if response.status_code in ok:
            return response
        try:
            body = self.read_body(response, limit=1 << 20, quiet=True)
        finally:
            response.close()
        raise self.status_error(response, body, what or f"{method} {loggable(url)}")

    def send(
        self,
        method: str,
        path: str,
        *,
        query: str | Mapping[str, str] = "",
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        timeout: tuple[float, float] | None = None,
        what: str = "",
    ) -> Answer:
        """:meth:`open`, then the whole body read (at most ``max_json`` bytes). A body cut
        short is read again for an idempotent request (urllib3 retries only up to the
        headers); a write's is reported, for the caller to read the state back."""
        tries = self.attempts + 1 if method in IDEMPOTENT else 1
        for attempt in range(1, tries + 1):
            response = self.open(
                method,
                path,
                query=query,
                data=data,
                headers=headers,
                ok=ok,
                timeout=timeout,
                what=what,
            )
            try:
                body = self.read_body(response)
            except ConnectionFailed as exc:
                if attempt == tries:
                    raise
                logger.info("%s; reading it again", exc)
                time.sleep(min(self.backoff * 2 ** (attempt - 1), MAX_RETRY_AFTER))
                continue
            finally:
                response.close()
            return Answer(response.status_code, response.headers, body, loggable(response.url))
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, path: str, *, query: str | Mapping[str, str] = "", what: str = "") -> Any:
        return self.json_of(self.send("GET", path, query=query, what=what))

    def json_of(self, answer: Answer) -> Any:
        """The JSON document of an answer, or a one-line error saying what it is instead."""
        body = answer.body
        if is_html(answer.headers, body):
            raise self.html_error(answer.status, answer.url)
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            if not body.strip():
                why = "an empty body"
            elif isinstance(exc, json.JSONDecodeError) and (
                exc.pos >= len(body.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
            ):
                why = "a body that stops in the middle of the document (truncated JSON)"
            else:
                why = f"a body that is not JSON ({snippet(str(exc))})"
            raise HttpError(
                f"{answer.url} answered HTTP {answer.status} with {why}, not {self.service} JSON",
                status=answer.status,
                url=answer.url,
            ) from None

    def read_body(
        self, response: requests.Response, *, limit: int | None = None, quiet: bool = False
    ) -> bytes:
        """The whole body, at most ``limit`` bytes (``max_json`` by default); ``quiet``
        returns what could be read instead of raising (for error bodies)."""
        cap = self.max_json if limit is None else limit
        url = loggable(response.url)
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > cap:
            if quiet:
                return b""
            raise self.too_large(url, int(length), cap)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if size > cap:
                    if quiet:
                        break
                    raise self.too_large(url, size, cap)
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if quiet:
                return b"".join(chunks)
            raise self.broken_body(exc, url, size, length) from None
        return b"".join(chunks)

    # -- errors ------------------------------------------------------------------------------

    def too_large(self, url: str, size: int, cap: int) -> HttpError:
        return HttpError(
            f"{url}: the answer is larger than {cap >> 20} MiB ({size} bytes or more), too "
            f"large to be what relman asked {self.service} for; refused",
            url=url,
        )

    def broken_body(self, exc: BaseException, url: str, size: int, length: str) -> ConnectionFailed:
        announced = f" ({length} bytes were announced)" if length else ""
        why = "reset" if isinstance(root_cause(exc), ConnectionResetError) else "broken"
        return ConnectionFailed(
            f"{url}: the answer was cut short, the connection was {why} before its end{announced}",
            kind="reset",
            url=url,
        )

    def html_error(self, status: int, url: str) -> HttpError:
        if 200 <= status < 300:
            advice = f"is {self.base_url} the {self.service} URL (it ends in /artifactory)?"
        else:
            advice = "a proxy in between?"
        return HttpError(
            f"{url} answered with an HTML page (HTTP {status}), not {self.service} JSON: {advice}",
            status=status,
            url=url,
        )

    def status_error(self, response: requests.Response, body: bytes, what: str) -> InputError:
        """The one-line error for an unexpected status."""
        status = response.status_code
        url = loggable(response.url)
        if is_html(response.headers, body):
            return self.html_error(status, url)
        message = server_message(body)
        said = f": {message}" if message else ""
        if status == 401:
            if "expired" in message.lower():
                return AuthenticationError(
                    f"{what}: the token has expired (HTTP 401{said}); create a new access "
                    f"token in {self.service} and store it{self._hint()}",
                    status=status,
                    url=url,
                )
            if not self.has_token:
                return AuthenticationError(
                    f"{what}: {self.service} wants a token (HTTP 401{said}); store one"
                    f"{self._hint()}",
                    status=status,
                    url=url,
                )
            return AuthenticationError(
                f"{what}: {self.service} refused the credentials (HTTP 401{said}); check the "
                f"token and user, or store a new token{self._hint()}",
                status=status,
                url=url,
            )
        if status == 403 and not self.has_token:
            return PermissionDenied(
                f"{what}: {self.service} refuses this to anonymous users (HTTP 403{said}); "
                f"store a token{self._hint()}",
                status=status,
                url=url,
            )
        if status == 403:
            return PermissionDenied(
                f"{what}: permission denied (HTTP 403{said}); the token is valid but its user "
                f"lacks the permission this needs: ask a {self.service} administrator",
                status=status,
                url=url,
            )
        if status == 404:
            return HttpNotFound(
                f"{what}: not found (HTTP 404{said})", server_message=message, url=url
            )
        if status >= 500 or status == 429:
            again = " after retries" if response.request.method in IDEMPOTENT else ""
            return ServerError(
                f"{what}: {self.service} answered HTTP {status}{said}{again}; try again later",
                status=status,
                url=url,
            )
        return HttpError(f"{what}: HTTP {status}{said}", status=status, url=url)

    def _hint(self) -> str:
        return f" ({self.hint})" if self.hint else ""


# -- helpers ---------------------------------------------------------------------------------


def _check_ca_bundle(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError as exc:
        raise InputError(f"CA bundle {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise InputError(f"CA bundle {path}: holds no PEM certificate")
    return path


def _user_agent() -> str:
    from relman import __version__

    return f"relman/{__version__} {requests.utils.default_user_agent()}"
