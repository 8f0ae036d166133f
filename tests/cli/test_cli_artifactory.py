"""``relman profile add --kind artifactory`` and ``relman lineage`` against the Artifactory
emulator: the same JSON as a local registry holding the same data, tokens from RELMAN_TOKEN or
the OS keyring, TLS with a CA bundle, and every failure one line with exit 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.emulators.artifactory import ArtifactoryEmulator, Fault
from tests.emulators.fixtures import ARTIFACTORY_TOKEN
from tests.keyring_support import needs_keyring
from tests.unit.registry.test_artifactory_lineage import scenario
from tests.unit.release.lineage_support import World

ENVS = ("--env", "dev=repo:libs-dev", "--env", "qa=repo:libs-qa", "--env", "prod=label")


def add_profile(relman_cli, name: str, url: str, *extra: str) -> None:
    run = relman_cli("profile", "add", name, "--kind", "artifactory", "--url", url, *ENVS, *extra)
    assert run.code == 0, run.err


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RELMAN_TOKEN", ARTIFACTORY_TOKEN)
    return ARTIFACTORY_TOKEN


def trust(relman_cli, tmp_path: Path, world: World) -> None:
    for name, key in (("ci", world.ci), ("rm-anna", world.promoter)):
        pem = tmp_path / f"{name}.pem"
        pem.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        assert relman_cli("trust", "add", name, pem).code == 0


def test_lineage_json_is_the_same_as_for_a_local_registry(
    artifactory: ArtifactoryEmulator, relman_cli, tmp_path: Path, token: str
) -> None:
    from relman.registry.artifactory import ArtifactoryRegistry

    artifactory.add_repo("scratch")
    local = World.create(tmp_path / "local")
    with ArtifactoryRegistry(artifactory.url, token=token, records_repo="libs-dev") as remote:
        served = World(remote, ci=local.ci, promoter=local.promoter)
        stranger = ec.generate_private_key(ec.SECP256R1())
        for world in (local, served):
            scenario(world, stranger)
    trust(relman_cli, tmp_path, local)
    add_profile(relman_cli, "rt", artifactory.url)
    run = relman_cli(
        "profile", "add", "here", "--kind", "local", "--url", local.registry.root, *ENVS
    )
    assert run.code == 0, run.err
    from_server = relman_cli("lineage", "--profile", "rt", "--json")
    from_disk = relman_cli("lineage", "--profile", "here", "--json")
    assert from_server.code == from_disk.code == 1  # findings
    assert json.loads(from_server.out) == json.loads(from_disk.out)
    assert from_server.err == ""
    doc = json.loads(from_server.out)
    assert doc["ok"] is False and len(doc["builds"]) == 5
    text = relman_cli("lineage", "--profile", "rt", "--build", "acme/1")
    assert text.code == 1 and "promoted to prod" in text.out
    assert "1 findings:\n  rebuilt  acme/1 app.tgz: commit" in text.out
    assert "      libs-qa/acme/1/app.tgz  [qa, prod]" in text.out.splitlines()
    assert token not in from_server.out + text.out


def test_profile_add_stores_records_repo_and_ca_bundle(
    artifactory_tls: tuple[ArtifactoryEmulator, Path], relman_cli, token: str
) -> None:
    emu, bundle = artifactory_tls
    add_profile(relman_cli, "tls", emu.url, "--ca-bundle", bundle, "--records-repo", "libs-prod")
    listed = json.loads(relman_cli("profile", "list", "--json").out)["profiles"][0]
    assert listed["ca_bundle"] == str(bundle) and listed["records_repo"] == "libs-prod"
    run = relman_cli("lineage", "--profile", "tls", "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out) == {
        "ok": True,
        "environments": ["dev", "qa", "prod"],
        "builds": [],
        "findings": [],
    }


def test_tls_without_the_ca_bundle_is_one_line(
    artifactory_tls: tuple[ArtifactoryEmulator, Path], relman_cli, token: str
) -> None:
    emu, _bundle = artifactory_tls
    add_profile(relman_cli, "tls", emu.url)
    run = relman_cli("lineage", "--profile", "tls")
    assert run.code == 2 and run.out == ""
    assert "TLS: the certificate of 127.0.0.1 is not trusted" in run.err
    assert "--ca-bundle" in run.err and len(run.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("setup", "text"),
    [
        ("no-token", "Artifactory wants a token (HTTP 401"),
        ("bad-token", "refused the credentials (HTTP 401: Bad Credentials)"),
        ("expired", "the token has expired (HTTP 401: Token is expired)"),
        (
            "proxy",
            "answered with an HTML page (HTTP 502), not Artifactory JSON: a proxy in between?",
        ),
        ("garbage", "not Artifactory JSON"),
    ],
)
def test_server_failures_are_one_line(
    artifactory: ArtifactoryEmulator,
    relman_cli,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    setup: str,
    text: str,
) -> None:
    monkeypatch.setenv("RELMAN_TOKEN", "bad-token" if setup == "bad-token" else ARTIFACTORY_TOKEN)
    # No keyring: the backend swapped for this test only (an environment variable would be
    # read once, by the first test to touch keyring, and stay for every later test).
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    request.addfinalizer(lambda: keyring.set_keyring(previous))
    if setup == "no-token":
        monkeypatch.delenv("RELMAN_TOKEN")
    if setup == "expired":
        artifactory.expire_token()
    if setup == "proxy":
        artifactory.inject(Fault(path="^/api/", kind="html", status=502, times=None))
    if setup == "garbage":
        artifactory.inject(Fault(path="^/api/build", kind="garbage-json", times=None))
    add_profile(relman_cli, "rt", artifactory.url)
    run = relman_cli("lineage", "--profile", "rt", "--json")
    assert run.code == 2 and run.out == ""
    assert text in run.err and len(run.err.strip().splitlines()) == 1
    assert ARTIFACTORY_TOKEN not in run.err and "Traceback" not in run.err


def test_nexus_and_bad_profile_options_are_refused(relman_cli, tmp_path: Path) -> None:
    run = relman_cli(
        "profile", "add", "nx", "--kind", "nexus", "--url", "https://nexus.example.com"
    )
    assert run.code == 0, run.err
    run = relman_cli("lineage", "--profile", "nx")
    assert run.code == 2 and "Nexus backend is not supported yet" in run.err
    run = relman_cli(
        "profile", "add", "l", "--kind", "local", "--url", tmp_path, "--records-repo", "x"
    )
    assert run.code == 2 and "records repository applies to artifactory" in run.err
    run = relman_cli(
        "profile", "add", "rt", "--kind", "artifactory", "--url", "https://rt.example/artifactory",
        "--records-repo", "../etc",
    )  # fmt: skip
    assert run.code == 2 and "is not a repository key" in run.err


def _with_keyring(test):  # type: ignore[no-untyped-def]
    for mark in needs_keyring:
        test = mark(test)
    return test


@_with_keyring
def test_token_stdin_goes_to_the_keyring_and_lineage_uses_it(
    artifactory: ArtifactoryEmulator,
    relman_cli,
    relman_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RELMAN_TOKEN", raising=False)
    artifactory.add_build({"name": "app", "number": "1", "started": "2025-01-01T00:00:00.000Z"})
    monkeypatch.setattr("sys.stdin", io.StringIO(ARTIFACTORY_TOKEN + "\n"))
    add_profile(relman_cli, "rt", artifactory.url, "--token-stdin")
    run = relman_cli("lineage", "--profile", "rt", "--json")
    assert run.code == 1, run.err  # the build has no commit: untraceable
    assert [b["name"] for b in json.loads(run.out)["builds"]] == ["app"]
    assert {r.user for r in artifactory.requests} == {"admin"}
    for path in relman_home.rglob("*"):
        if path.is_file():
            assert ARTIFACTORY_TOKEN.encode() not in path.read_bytes(), path
