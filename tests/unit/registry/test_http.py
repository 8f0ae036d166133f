"""The HTTP client of the server backends, against the Artifactory emulator on 127.0.0.1:
retries, auth, TLS, proxies and every failure as one line. Nothing is mocked."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest
import requests

from relman.errors import InputError, UsageError
from relman.registry.http import (
    AuthenticationError,
    ConnectionFailed,
    HttpClient,
    HttpError,
    HttpNotFound,
    PermissionDenied,
    ServerError,
    TokenAuth,
    server_message,
)
from tests.emulators.artifactory import ArtifactoryEmulator, Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN, ARTIFACTORY_USERS


def client(emu: ArtifactoryEmulator, **kwargs) -> HttpClient:
    options = {"token": ARTIFACTORY_TOKEN, "backoff": 0.01, "timeout": (2.0, 5.0)}
    options.update(kwargs)
    return HttpClient(emu.url, service="Artifactory", search_paths=("/api/search/",), **options)


def served(emu: ArtifactoryEmulator, method: str, pattern: str) -> list[int]:
    return [r.status for r in emu.requests if r.method == method and pattern in r.path]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- auth --------------------------------------------------------------------------------------


def test_bearer_and_basic_auth_are_accepted_and_never_shown(
    artifactory: ArtifactoryEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bearer = client(artifactory)
    assert bearer.get_json("/api/system/version")["version"] == "7.90.10"
    assert artifactory.requests[-1].user == "admin"
    basic = client(artifactory, token=ARTIFACTORY_USERS["deployer"], user="deployer")
    basic.get_json("/api/repositories")
    assert artifactory.requests[-1].user == "deployer"
    for shown in (repr(bearer), repr(basic), repr(bearer.session.auth), str(basic.session.auth)):
        assert ARTIFACTORY_TOKEN not in shown and ARTIFACTORY_USERS["deployer"] not in shown
    assert ARTIFACTORY_TOKEN not in caplog.text
    assert "Bearer" not in caplog.text and "Basic" not in caplog.text


def test_a_token_with_a_line_break_is_refused() -> None:
    with pytest.raises(UsageError, match="line break"):
        TokenAuth("abc\r\nX-Evil: 1")
    with pytest.raises(UsageError):
        TokenAuth("")


def test_401_403_and_an_expired_token_say_what_to_do(artifactory: ArtifactoryEmulator) -> None:
    anonymous = client(artifactory, token=None, hint="set RELMAN_TOKEN")
    with pytest.raises(AuthenticationError, match=r"wants a token \(HTTP 401.*set RELMAN_TOKEN"):
        anonymous.get_json("/api/repositories")
    wrong = client(artifactory, token="not-the-token")
    with pytest.raises(AuthenticationError, match="refused the credentials.*Bad Credentials"):
        wrong.get_json("/api/repositories")
    artifactory.expired_tokens.add(ARTIFACTORY_TOKEN)
    with pytest.raises(AuthenticationError, match="the token has expired.*new access token"):
        client(artifactory).get_json("/api/repositories")
    reader = client(artifactory, token=ARTIFACTORY_USERS["reader"])
    artifactory.deploy("libs-dev", "a.txt", b"a")
    with pytest.raises(PermissionDenied, match=r"permission denied \(HTTP 403.*administrator"):
        reader.send("PUT", "/api/storage/libs-dev/a.txt", query="properties=a=1", ok=(204,))


def test_anonymous_aql_is_refused_with_a_hint(artifactory: ArtifactoryEmulator) -> None:
    artifactory.anonymous_read = True
    anonymous = client(artifactory, token=None, hint="set RELMAN_TOKEN")
    assert anonymous.get_json("/api/repositories")
    with pytest.raises(PermissionDenied, match="anonymous users.*set RELMAN_TOKEN"):
        anonymous.send("POST", "/api/search/aql", data=b'items.find({"repo":"libs-dev"})')


# -- retries -----------------------------------------------------------------------------------


def test_idempotent_reads_are_retried_on_5xx_and_429_honouring_retry_after(
    artifactory: ArtifactoryEmulator,
) -> None:
    artifactory.inject(
        Fault(method="GET", path="^/api/repositories", status=503, headers={"Retry-After": "1"})
    )
    artifactory.inject(Fault(method="GET", path="^/api/repositories", status=429))
    artifactory.inject(Fault(method="GET", path="^/api/repositories", status=502))
    start = time.monotonic()
    assert isinstance(client(artifactory).get_json("/api/repositories"), list)
    assert time.monotonic() - start >= 0.9  # Retry-After: 1 was honoured
    assert served(artifactory, "GET", "/api/repositories") == [503, 429, 502, 200]


def test_retries_end_in_one_line_after_the_last_attempt(artifactory: ArtifactoryEmulator) -> None:
    artifactory.inject(Fault(method="GET", path="^/api/repositories", status=504, times=None))
    with pytest.raises(ServerError, match=r"answered HTTP 504.* after retries; try again later"):
        client(artifactory, attempts=2).get_json("/api/repositories")
    assert served(artifactory, "GET", "/api/repositories") == [504, 504, 504]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "POST"])
def test_writes_are_never_retried(artifactory: ArtifactoryEmulator, method: str) -> None:
    artifactory.deploy("libs-dev", "a.txt", b"a")
    artifactory.inject(Fault(method=method, path="^/api/", status=503, times=None))
    with pytest.raises(ServerError, match="HTTP 503"):
        client(artifactory).send(method, "/api/storage/libs-dev/a.txt", query="properties=a")
    assert served(artifactory, method, "/api/") == [503]


def test_searches_are_retried_although_they_are_posts(artifactory: ArtifactoryEmulator) -> None:
    artifactory.inject(Fault(method="POST", path="^/api/search/aql", status=503))
    answer = client(artifactory).send(
        "POST", "/api/search/aql", data=b'items.find({"repo":"libs-dev"})'
    )
    assert answer.status == 200
    assert served(artifactory, "POST", "/api/search/aql") == [503, 200]


def test_a_json_body_cut_short_is_read_again(artifactory: ArtifactoryEmulator) -> None:
    artifactory.inject(Fault(method="GET", path="^/api/repositories", kind="reset", after=5))
    assert len(client(artifactory).get_json("/api/repositories")) == 4
    artifactory.inject(
        Fault(method="GET", path="^/api/repositories", kind="short", after=5, times=None)
    )
    with pytest.raises(
        ConnectionFailed,
        match=r"cut short, the connection was broken before its end \(\d+ bytes were announced\)",
    ):
        client(artifactory, attempts=1).get_json("/api/repositories")


# -- what comes back ---------------------------------------------------------------------------


def test_a_proxy_html_page_is_named_as_such(artifactory: ArtifactoryEmulator) -> None:
    artifactory.inject(Fault(path="^/api/repositories", kind="html", status=502, times=None))
    with pytest.raises(
        HttpError,
        match=r"answered with an HTML page \(HTTP 502\), not Artifactory JSON: a proxy in between\?",
    ):
        client(artifactory, attempts=0).get_json("/api/repositories")


def test_an_html_page_with_200_asks_whether_the_url_is_right() -> None:
    answer = _answer(200, {"Content-Type": "text/html"}, b"<html><body>login</body></html>")
    with pytest.raises(HttpError, match="HTML page .* is https://rt.example/artifactory the"):
        HttpClient("https://rt.example/artifactory", service="Artifactory").json_of(answer)


def _answer(status: int, headers: dict[str, str], body: bytes):
    from relman.registry.http import Answer

    return Answer(status, headers, body, "https://rt.example/artifactory/api/x")


def test_truncated_garbage_and_empty_json_are_one_line(artifactory: ArtifactoryEmulator) -> None:
    http = client(artifactory, attempts=0)
    artifactory.inject(Fault(path="^/api/repositories", kind="truncated-json"))
    with pytest.raises(HttpError, match="stops in the middle of the document.*truncated JSON"):
        http.get_json("/api/repositories")
    artifactory.inject(Fault(path="^/api/repositories", kind="garbage-json"))
    with pytest.raises(HttpError, match="a body that is not JSON"):
        http.get_json("/api/repositories")
    with pytest.raises(HttpError, match="an empty body"):
        http.json_of(_answer(200, {}, b""))


def test_a_huge_answer_is_refused_not_parsed(artifactory: ArtifactoryEmulator) -> None:
    for index in range(50):
        artifactory.add_repo(f"repo-{index:03d}")
    small = client(artifactory, max_json=2048)
    with pytest.raises(HttpError, match="larger than 0 MiB .*too large .*refused"):
        small.get_json("/api/repositories")


def test_404_keeps_the_server_message(artifactory: ArtifactoryEmulator) -> None:
    artifactory.deploy("libs-dev", "a.txt", b"a")
    http = client(artifactory)
    with pytest.raises(HttpNotFound) as none:
        http.get_json("/api/storage/libs-dev/a.txt", query="properties")
    assert none.value.server_message == "No properties could be found."
    with pytest.raises(HttpNotFound) as missing:
        http.get_json("/api/storage/libs-dev/b.txt", query="properties")
    assert missing.value.server_message == "Unable to find item"


def test_server_message_reads_both_error_forms() -> None:
    assert server_message(b'{"errors":[{"status":404,"message":"File not found."}]}') == (
        "File not found."
    )
    copy_failure = (
        b'{"messages":[{"level":"INFO","message":"ok"},{"level":"ERROR","message":"no"}]}'
    )
    assert server_message(copy_failure) == "no"
    assert server_message(b"Sorting is not supported\nmore") == "Sorting is not supported"
    assert server_message(b"x" * 5000).endswith("…")


# -- connections -------------------------------------------------------------------------------


def test_a_slow_server_is_a_timeout(artifactory: ArtifactoryEmulator) -> None:
    artifactory.inject(Fault(path="^/api/repositories", kind="slow", delay=1.5, times=None))
    with pytest.raises(ConnectionFailed, match=r"sent no answer within 0.5 s") as failed:
        client(artifactory, timeout=(2.0, 0.5), attempts=0).get_json("/api/repositories")
    assert failed.value.kind == "timeout"


def test_refused_dns_and_invalid_urls_are_named() -> None:
    port = free_port()
    http = HttpClient(f"http://127.0.0.1:{port}/artifactory", service="Artifactory", attempts=0)
    with pytest.raises(ConnectionFailed, match=r"connection refused by 127.0.0.1") as refused:
        http.get_json("/api/system/version")
    assert refused.value.kind == "refused"
    dns = HttpClient("http://relman-test.invalid/artifactory", service="Artifactory", attempts=0)
    with pytest.raises(ConnectionFailed, match=r"cannot resolve host relman-test.invalid \(DNS\)"):
        dns.get_json("/api/system/version")
    with pytest.raises(UsageError, match="not an http"):
        HttpClient("ftp://x/artifactory", service="Artifactory")
    with pytest.raises(UsageError, match="must not carry a user"):
        HttpClient("https://bob:pw@x/artifactory", service="Artifactory")


def test_proxies_come_from_the_environment(
    artifactory: ArtifactoryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(ConnectionFailed, match="the proxy .* failed") as failed:
        client(artifactory, attempts=0).get_json("/api/repositories")
    assert failed.value.kind == "proxy"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert client(artifactory).get_json("/api/repositories")


def test_tls_is_verified_against_the_profile_ca_bundle(
    artifactory_tls: tuple[ArtifactoryEmulator, Path],
) -> None:
    emu, bundle = artifactory_tls
    assert emu.url.startswith("https://")
    trusted = client(emu, ca_bundle=str(bundle))
    assert trusted.get_json("/api/system/version")["version"]
    untrusted = client(emu, attempts=0)
    with pytest.raises(ConnectionFailed, match="TLS: the certificate of 127.0.0.1 is not trusted"):
        untrusted.get_json("/api/system/version")
    assert untrusted.session.verify is True


def test_a_ca_bundle_must_hold_certificates(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate")
    with pytest.raises(InputError, match="holds no PEM certificate"):
        HttpClient("https://x/artifactory", service="Artifactory", ca_bundle=str(junk))
    with pytest.raises(InputError, match="CA bundle .*missing.pem"):
        HttpClient(
            "https://x/artifactory", service="Artifactory", ca_bundle=str(tmp_path / "missing.pem")
        )


def test_there_is_no_switch_to_turn_verification_off() -> None:
    import inspect

    assert "verify" not in inspect.signature(HttpClient).parameters
    http = HttpClient("https://x/artifactory", service="Artifactory")
    assert isinstance(http.session, requests.Session) and http.session.verify is True


def test_platform_paths_leave_the_artifactory_prefix() -> None:
    http = HttpClient("https://rt.example/jfrog/artifactory/", service="Artifactory")
    assert http.url("/api/x", "a=1") == "https://rt.example/jfrog/artifactory/api/x?a=1"
    assert http.url("//access/api/v1/environments") == (
        "https://rt.example/jfrog/access/api/v1/environments"
    )
