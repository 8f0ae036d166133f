"""relman lineage: text, --json, filters, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relman import settings
from relman.model import Profile
from tests.unit.release.lineage_support import ENVIRONMENTS, World


@pytest.fixture
def world(tmp_path: Path, relman_cli) -> World:
    world = World.create(tmp_path / "registry")
    settings.add_profile(
        Profile("demo", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    for name, key in (("ci", world.ci), ("rm-anna", world.promoter)):
        from cryptography.hazmat.primitives import serialization

        pem = tmp_path / f"{name}.pem"
        pem.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        assert relman_cli("trust", "add", name, pem).code == 0
    return world


def test_clean_lineage_prints_the_tree(world: World, relman_cli) -> None:
    world.promote_all(world.build("acme", 1, {"app.tgz": b"app"}))
    world.build("acme/web", 2, {"web.tgz": b"web"}, commit=None, sign=False)
    run = relman_cli("lineage", "--profile", "demo", "--build", "acme/1")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert (
        lines[0].startswith("commit ") and "acme/1" in lines[1] and "dev -> qa -> prod" in lines[1]
    )
    assert "      libs-qa/acme/1/app.tgz  [qa, prod]" in lines
    assert any("promoted to prod" in line and ": ok" in line for line in lines)
    assert lines[-1] == "no findings"
    run = relman_cli("lineage", "--profile", "demo", "--build", "acme/web")
    assert run.code == 1 and run.out.startswith("no commit")
    assert "untraceable  acme/web/2" in run.out and "unsigned  acme/web/2 web.tgz" in run.out


def test_findings_exit_1_and_json(world: World, relman_cli) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa")
    world.registry.put_promotion_record("acme", "1", "qa", b"garbage")
    run = relman_cli("lineage", "--profile", "demo", "--json")
    assert run.code == 1
    doc = json.loads(run.out)
    assert doc["ok"] is False
    assert [f["kind"] for f in doc["findings"]] == ["unverified-promotion"]
    assert doc["builds"][0]["artifacts"][0]["locations"][0]["environment"] == "dev"
    text = relman_cli("lineage", "--profile", "demo")
    assert "NOT VALID" in text.out and "1 findings:" in text.out


def test_filters_on_the_command_line(world: World, relman_cli) -> None:
    one = world.build("acme", 1, {"app.tgz": b"1"})
    world.build("acme", 2, {"app.tgz": b"2"}, hours=1)
    assert relman_cli("lineage", "--profile", "demo").code == 1  # rebuilt
    run = relman_cli("lineage", "--profile", "demo", "--commit", one.vcs_revision[:10], "--json")
    assert [b["number"] for b in json.loads(run.out)["builds"]] == ["2", "1"]
    run = relman_cli("lineage", "--profile", "demo", "--build", "acme/2", "--json")
    assert [f["build"] for f in json.loads(run.out)["findings"]] == ["acme/2"]


def test_an_empty_registry(world: World, relman_cli) -> None:
    run = relman_cli("lineage", "--profile", "demo")
    assert run.code == 0 and run.out.splitlines() == ["no builds", "", "no findings"]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--profile", "nope"], "no profile named 'nope'"),
        (["--profile", "demo", "--build", "ghost"], "no build named 'ghost'"),
        (["--profile", "demo", "--build", "acme/9"], "no build acme/9"),
        (["--profile", "demo", "--build", "acme/"], "expected NAME or NAME/NUMBER"),
        (["--profile", "demo", "--commit", "zz"], "is not a commit"),
        (["--profile", "art"], "cannot resolve host example.invalid (DNS)"),
        (["--profile", "empty"], "no relman local registry here"),
        (["--build", "x"], "required: --profile"),
    ],
)
def test_bad_usage_is_one_line(world: World, relman_cli, tmp_path: Path, args, text) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    settings.add_profile(Profile("art", "artifactory", "https://example.invalid/artifactory"))
    settings.add_profile(Profile("empty", "local", str(tmp_path / "empty")))
    run = relman_cli("lineage", *args)
    assert run.code == 2 and run.out == ""
    assert text in run.err and len(run.err.strip().splitlines()) == 1
