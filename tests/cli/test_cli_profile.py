"""relman profile add / list / remove; tokens in the real Secret Service, never in a file."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest

from tests.keyring_support import needs_keyring

TOKEN = "cmVmdGtuOjAxOjE3NjQ0MjA4MDA6c2VjcmV0LXZhbHVlLTQy"


def profiles_file(home: Path) -> Path:
    return home / "config" / "profiles.toml"


def test_add_list_remove_local_and_servers(relman_cli, relman_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    run = relman_cli(
        "profile", "add", "here", "--kind", "local", "--url", folder,
        "--env", "dev=repo:libs-dev", "--env", "qa=label", "--env", "prod=label:acme.stage",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert run.out == f"added profile here (local, {folder})\n"
    assert folder.is_dir()  # created for a local profile
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    run = relman_cli(
        "profile", "add", "rt", "--kind", "artifactory", "--url", "https://rt.example.com/artifactory/",
        "--user", "release-bot", "--env", "staging=repo:libs-staging", "--ca-bundle", ca,
    )  # fmt: skip
    assert run.code == 0, run.err
    data = json.loads(relman_cli("profile", "list", "--json").out)
    assert data == {
        "ok": True,
        "profiles": [
            {
                "name": "here",
                "kind": "local",
                "url": str(folder),
                "user": None,
                "ca_bundle": None,
                "environments": [
                    {"name": "dev", "mode": "repository", "repository": "libs-dev"},
                    {"name": "qa", "mode": "label", "label": "relman.environment"},
                    {"name": "prod", "mode": "label", "label": "acme.stage"},
                ],
            },
            {
                "name": "rt",
                "kind": "artifactory",
                "url": "https://rt.example.com/artifactory",
                "user": "release-bot",
                "ca_bundle": str(ca),
                "environments": [
                    {"name": "staging", "mode": "repository", "repository": "libs-staging"}
                ],
            },
        ],
    }
    text = relman_cli("profile", "list").out.splitlines()
    assert text == [
        f"here  local  {folder}  environments: dev repo:libs-dev -> qa label -> prod label:acme.stage",
        "rt  artifactory  https://rt.example.com/artifactory  user release-bot  "
        "environments: staging repo:libs-staging",
    ]
    stored = tomllib.loads(profiles_file(relman_home).read_text())
    assert stored["schema"] == 1 and list(stored["profiles"]) == ["here", "rt"]
    assert profiles_file(relman_home).stat().st_mode & 0o777 == 0o600
    assert relman_cli("profile", "remove", "here").out == "removed profile here\n"
    assert [
        p["name"] for p in json.loads(relman_cli("profile", "list", "--json").out)["profiles"]
    ] == ["rt"]


def test_empty_list(relman_cli) -> None:
    assert relman_cli("profile", "list").out == (
        "no profiles (relman profile add NAME --kind KIND --url URL)\n"
    )
    assert json.loads(relman_cli("profile", "list", "--json").out) == {"ok": True, "profiles": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "gitlab", "--url", "https://x"], "unknown profile kind 'gitlab'"),
        (
            ["--kind", "artifactory", "--url", "ftp://rt"],
            "artifactory URL 'ftp://rt' is not an http(s) URL",
        ),
        (["--kind", "nexus", "--url", "rt.example.com"], "is not an http(s) URL"),
        (["--kind", "nexus", "--url", "https://"], "is not an http(s) URL"),
        (["--kind", "nexus", "--url", " "], "a nexus profile needs a URL"),
        (
            ["--kind", "nexus", "--url", "https://bob:hunter2@nx"],
            "nexus URL must not carry a user or password",
        ),
        (
            ["--kind", "nexus", "--url", "https://nx", "--env", "qa"],
            "--env 'qa': expected NAME=repo:REPOKEY",
        ),
        (
            ["--kind", "nexus", "--url", "https://nx", "--env", "qa=tag"],
            "is neither repo:REPOKEY nor label",
        ),
        (
            ["--kind", "nexus", "--url", "https://nx", "--env", "qa=repo:"],
            "'' is not a repository key",
        ),
        (
            ["--kind", "nexus", "--url", "https://nx", "--env", "qa=label:a b"],
            "'a b' is not a property name",
        ),
        (
            ["--kind", "nexus", "--url", "https://nx", "--env=-x=label"],
            "environment name '-x' is not allowed",
        ),
        (
            ["--kind", "nexus", "--url", "https://nx", "--env", "qa=label", "--env", "qa=repo:r"],
            "environment 'qa' is given twice",
        ),
        (
            ["--kind", "nexus", "--url", "https://nx", "--ca-bundle", "/nonexistent/ca.pem"],
            "no such CA bundle file",
        ),
        (
            ["--kind", "local", "--url", "reg", "--ca-bundle", "/etc/hostname"],
            "a CA bundle applies to",
        ),
        (["--kind", "nexus", "--url", "https://nx", "--user", " "], "--user is empty"),
        (["--kind", "local", "--url", "reg", "--token-stdin"], "a local profile takes no token"),
    ],
)
def test_bad_usage_is_one_line_exit_2(
    relman_cli, relman_home: Path, args: list[str], message: str
) -> None:
    run = relman_cli("profile", "add", "p1", *args)
    assert run.code == 2
    assert run.err.startswith("relman: ") and message in run.err
    assert run.err.count("\n") == 1 and run.out == ""
    assert not profiles_file(relman_home).exists()


def test_bad_names_duplicates_and_unknown(relman_cli, tmp_path: Path) -> None:
    run = relman_cli("profile", "add", "../x", "--kind", "local", "--url", tmp_path / "r")
    assert run.code == 2 and "profile name '../x' is not allowed" in run.err
    assert relman_cli("profile", "add", "p", "--kind", "local", "--url", tmp_path / "r").code == 0
    run = relman_cli("profile", "add", "p", "--kind", "local", "--url", tmp_path / "r")
    assert run.code == 2
    assert run.err == "relman: profile 'p' already exists (relman profile remove p first)\n"
    run = relman_cli("profile", "remove", "nope")
    assert (run.code, run.err) == (2, "relman: no profile named 'nope'\n")
    run = relman_cli("profile", "add", "q", "--url", "x")
    assert run.code == 2 and "--kind" in run.err


def test_unreadable_or_newer_file(relman_cli, relman_home: Path) -> None:
    path = profiles_file(relman_home)
    path.parent.mkdir(parents=True)
    path.write_text("schema = 2\n")
    run = relman_cli("profile", "list")
    assert run.code == 2 and "schema 2 is newer than this relman understands (1)" in run.err
    path.write_text("[profiles\n")
    run = relman_cli("profile", "list")
    assert run.code == 2 and "cannot be read as relman profiles" in run.err
    path.write_text('profiles = "x"\n')
    assert "'profiles' is not a table" in relman_cli("profile", "list").err
    path.write_text('[profiles]\np = "x"\n')
    assert "profile 'p' is not a table" in relman_cli("profile", "list").err
    path.write_text('[profiles.p]\nkind = "local"\n')
    assert "profile 'p' is malformed ('url')" in relman_cli("profile", "list").err
    path.write_text('[profiles.p]\nkind = 3\nurl = "x"\n')
    assert "profile 'p' is malformed (kind is not a string)" in relman_cli("profile", "list").err


def test_token_for_local_profile_read_nothing(
    relman_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--token-stdin on a local profile is refused before standard input is read."""
    stdin = io.StringIO(TOKEN + "\n")
    monkeypatch.setattr("sys.stdin", stdin)
    run = relman_cli("profile", "add", "p", "--kind", "local", "--url", tmp_path, "--token-stdin")
    assert run.code == 2 and stdin.tell() == 0


# -- tokens in the real keyring ----------------------------------------------------------


def with_keyring(test):  # type: ignore[no-untyped-def]
    for mark in needs_keyring:
        test = mark(test)
    return test


@with_keyring
def test_token_goes_to_the_keyring_only(
    relman_cli,
    relman_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from relman import secrets, settings

    monkeypatch.delenv("RELMAN_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    run = relman_cli(
        "profile", "add", "nx", "--kind", "nexus", "--url", "https://nexus.example.com",
        "--user", "ci", "--token-stdin", "--env", "qa=repo:maven-qa",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert (
        run.out == "added profile nx (nexus, https://nexus.example.com) (token in the OS keyring)\n"
    )
    assert secrets.get_secret("token:nx") == TOKEN
    profile = settings.get_profile("nx")
    assert settings.token_for(profile) == TOKEN
    # RELMAN_TOKEN, when set, stands in for the stored one; it is never written anywhere.
    assert settings.token_for(profile, {"RELMAN_TOKEN": " from-env "}) == "from-env"
    outputs = [run.out, run.err]
    for args in (("profile", "list"), ("profile", "list", "--json")):
        listed = relman_cli(*args)
        outputs += [listed.out, listed.err]
    for path in relman_home.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert all(TOKEN not in text for text in outputs)
    run = relman_cli("profile", "remove", "nx")
    assert run.out == "removed profile nx and its token in the OS keyring\n"
    assert secrets.get_secret("token:nx") is None
    assert TOKEN not in run.out + run.err


def test_empty_token_is_refused(
    relman_cli, relman_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    run = relman_cli(
        "profile", "add", "nx", "--kind", "nexus", "--url", "https://nx", "--token-stdin"
    )
    assert (run.code, run.err) == (2, "relman: the token read from standard input is empty\n")
    assert not profiles_file(relman_home).exists()
