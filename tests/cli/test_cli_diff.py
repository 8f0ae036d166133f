"""relman diff --profile P ENV_A ENV_B: text, --json, exit codes, on small and demo registries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relman import settings
from relman.model import Profile
from tests.unit.release.lineage_support import ENVIRONMENTS, World, commit_of


@pytest.fixture
def world(tmp_path: Path) -> World:
    world = World.create(tmp_path / "registry")
    settings.add_profile(
        Profile("small", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    first = world.build("acme", 1, {"app.tgz": b"one"}, commit=commit_of("a1"))
    world.promote_all(first)
    world.build("acme", 2, {"app.tgz": b"two"}, commit=commit_of("a2"), hours=1)
    third = world.build("acme", 3, {"app.tgz": b"three"}, commit=commit_of("a3"), hours=2)
    world.copy(third, "dev", "qa")
    world.promote_all(world.build("tools", 1, {"t.tgz": b"t"}, commit=commit_of("t1")))
    return world


def test_text(relman_cli, world: World) -> None:
    run = relman_cli("diff", "--profile", "small", "qa", "prod")
    assert run.code == 0 and run.err == ""
    rows = run.out.splitlines()
    assert rows[0] == "qa against prod (profile small)"
    assert rows[1] == "acme"
    assert rows[2].startswith("  newest in qa:    acme/3  20250302T121000Z.3.")
    assert rows[2].endswith(f"commit {commit_of('a3')[:12]}")
    assert rows[3].startswith("  newest in prod:  acme/1  20250302T101000Z.1.")
    assert rows[4] == "  in qa, not in prod:"
    assert rows[5].startswith("    build acme/3  ")
    assert rows[6].startswith("    artifact app.tgz  sha256:") and rows[6].endswith("…  (acme/3)")
    assert rows[7] == "  qa is 2 builds ahead of prod: from acme/1 to acme/3"
    assert rows[8] == f"    acme/2  2025-03-02 11:10:00Z  {commit_of('a2')[:12]}"
    assert rows[9] == f"    acme/3  2025-03-02 12:10:00Z  {commit_of('a3')[:12]}"
    assert rows[10] == "tools: the same builds and artifacts in qa and prod"
    assert len(rows) == 11
    run = relman_cli("diff", "--profile", "small", "prod", "qa")
    assert "  in qa, not in prod:" in run.out and "  qa is 2 builds ahead of prod:" in run.out


def test_one_build_ahead_and_no_build(relman_cli, world: World) -> None:
    rows = relman_cli("diff", "--profile", "small", "dev", "qa").out.splitlines()
    assert not any("ahead of" in row for row in rows)  # acme/3 is the newest in both
    assert "tools: the same builds and artifacts in dev and qa" in rows
    world.build("acme", 4, {"app.tgz": b"four"}, commit=commit_of("a4"), hours=3)
    world.build("solo", 1, {"s.tgz": b"s"}, commit=commit_of("s1"))
    rows = relman_cli("diff", "--profile", "small", "dev", "qa").out.splitlines()
    assert "  dev is 1 build ahead of qa: from acme/3 to acme/4" in rows
    at = rows.index("solo")
    assert rows[at + 2] == "  newest in qa:   no build"


def test_json(relman_cli, world: World) -> None:
    run = relman_cli("diff", "--profile", "small", "qa", "prod", "--json")
    assert run.code == 0
    document = json.loads(run.out)
    assert document["ok"] is True and document["profile"] == "small"
    assert (document["a"], document["b"], document["same"]) == ("qa", "prod", False)
    acme, tools = document["applications"]
    assert acme["name"] == "acme" and tools == {**tools, "name": "tools", "same": True}
    assert [b["number"] for b in acme["only_in_a"]["builds"]] == ["3"]
    assert acme["only_in_a"]["artifacts"][0]["name"] == "app.tgz"
    assert len(acme["only_in_a"]["artifacts"][0]["sha256"]) == 64
    assert acme["range"]["ahead"] == "qa"
    assert [(b["number"], b["commit"]) for b in acme["range"]["builds"]] == [
        ("2", commit_of("a2")),
        ("3", commit_of("a3")),
    ]


def test_empty_environments(relman_cli, tmp_path: Path) -> None:
    world = World.create(tmp_path / "empty")
    settings.add_profile(
        Profile("empty", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    run = relman_cli("diff", "--profile", "empty", "qa", "prod")
    assert run.code == 0 and run.out.splitlines()[1] == "no builds in qa or prod"
    assert (
        json.loads(relman_cli("diff", "--profile", "empty", "qa", "prod", "--json").out)[
            "applications"
        ]
        == []
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "nope", "qa", "prod"], "no profile named 'nope'"),
        (["--profile", "small", "qa", "staging"], "no environment 'staging' in this profile"),
        (["--profile", "small", "qa", "qa"], "compare two different environments"),
        (["--profile", "remote", "qa", "prod"], "the Nexus backend is not supported yet"),
        (["--profile", "small", "qa"], "the following arguments are required: ENV_B"),
    ],
)
def test_bad_usage_is_exit_2(relman_cli, world: World, args: list[str], message: str) -> None:
    settings.add_profile(
        Profile("remote", "nexus", "https://registry.example", environments=ENVIRONMENTS)
    )
    run = relman_cli("diff", *args)
    assert run.code == 2 and run.out == ""
    assert message in run.err and run.err.count("\n") == 1


def test_on_the_demo_registry(relman_cli, tmp_path: Path) -> None:
    assert relman_cli("demo", tmp_path / "demo").code == 0
    run = relman_cli("diff", "--profile", "demo", "staging", "prod", "--json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    apps = {app["name"]: app for app in document["applications"]}
    assert set(apps) == {"ledger-worker", "payments-api", "web-frontend"}
    # ledger-worker 5 went qa -> prod without staging (the demo's skipped stage)
    skipped = apps["ledger-worker"]["only_in_a"]
    assert "5" not in [b["number"] for b in skipped["builds"]]
    assert "5" in [b["number"] for b in apps["ledger-worker"]["only_in_b"]["builds"]]
    for app in apps.values():
        span = app["range"]
        if span is not None:
            times = [b["started"] for b in span["builds"]]
            assert times == sorted(times) and span["builds"][-1]["number"] == span["to"]["number"]
            assert all(len(b["commit"]) == 40 for b in span["builds"])
    text = relman_cli("diff", "--profile", "demo", "qa", "prod").out
    assert text.startswith("qa against prod (profile demo)\n")


def test_on_the_artifactory_emulator_as_on_a_local_registry(
    artifactory, relman_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from relman.registry.artifactory import ArtifactoryRegistry
    from tests.emulators.fixtures import ARTIFACTORY_TOKEN
    from tests.unit.registry.test_artifactory_lineage import scenario

    monkeypatch.setenv("RELMAN_TOKEN", ARTIFACTORY_TOKEN)
    artifactory.add_repo("scratch")
    local = World.create(tmp_path / "local")
    with ArtifactoryRegistry(
        artifactory.url, token=ARTIFACTORY_TOKEN, records_repo="libs-dev"
    ) as remote:
        served = World(remote, ci=local.ci, promoter=local.promoter)
        stranger = ec.generate_private_key(ec.SECP256R1())
        for world in (local, served):
            scenario(world, stranger)
    settings.add_profile(
        Profile("here", "local", str(local.registry.root), environments=ENVIRONMENTS)
    )
    settings.add_profile(Profile("rt", "artifactory", artifactory.url, environments=ENVIRONMENTS))
    from_server = relman_cli("diff", "--profile", "rt", "qa", "prod", "--json")
    from_disk = relman_cli("diff", "--profile", "here", "qa", "prod", "--json")
    assert from_server.code == from_disk.code == 0, from_server.err
    server, disk = json.loads(from_server.out), json.loads(from_disk.out)
    assert server.pop("profile") == "rt" and disk.pop("profile") == "here"
    assert server == disk
    acme = next(app for app in server["applications"] if app["name"] == "acme")
    assert [b["number"] for b in acme["only_in_a"]["builds"]] == ["2"]
    assert acme["range"]["ahead"] == "qa" and acme["range"]["to"]["number"] == "2"
    assert ARTIFACTORY_TOKEN not in from_server.out
