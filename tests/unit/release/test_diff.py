"""Environment diff on real local registries: builds by identity, artifacts by digest, range."""

from __future__ import annotations

from pathlib import Path

import pytest

from relman.errors import UsageError
from relman.model import BuildRecord
from relman.release.diff import (
    ArtifactRef,
    BuildRef,
    EnvDiff,
    check_environments,
    diff_environments,
)
from relman.release.lineage import build_lineage
from tests.unit.release.lineage_support import ENVIRONMENTS, World, commit_of


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World.create(tmp_path / "registry")


def diff(world: World, a: str, b: str) -> EnvDiff:
    lineage = build_lineage(world.registry, ENVIRONMENTS, world.context, verification_cache=False)
    return diff_environments(lineage, a, b)


def build(
    world: World, name: str, number: int, hours: int, data: bytes | None = None
) -> BuildRecord:
    files = {f"{name}.tgz": data if data is not None else f"{name} {number}".encode()}
    return world.build(name, number, files, commit=commit_of(f"{name}{number}"), hours=hours)


def labels(refs: tuple[BuildRef, ...]) -> list[str]:
    return [r.label for r in refs]


def artifacts(refs: tuple[ArtifactRef, ...]) -> list[str]:
    return [f"{r.build}:{r.name}" for r in refs]


def test_qa_ahead_of_prod(world: World) -> None:
    first = build(world, "acme", 1, 0)
    world.promote_all(first)
    build(world, "acme", 2, 1)
    third = build(world, "acme", 3, 2)
    world.copy(third, "dev", "qa")
    build(world, "acme", 4, 3)
    result = diff(world, "qa", "prod")
    assert [app.name for app in result.applications] == ["acme"]
    app = result.applications[0]
    assert app.newest_a is not None and app.newest_a.label == "acme/3"
    assert app.newest_b is not None and app.newest_b.label == "acme/1"
    assert labels(app.only_a.builds) == ["acme/3"]
    assert artifacts(app.only_a.artifacts) == ["acme/3:acme.tgz"]
    assert app.only_a.artifacts[0].sha256 == third.artifacts[0].sha256
    assert not app.only_b and not app.same and not result.same
    assert app.range is not None
    assert (app.range.older.label, app.range.newer.label, app.range.ahead) == (
        "acme/1",
        "acme/3",
        "qa",
    )
    assert labels(app.range.builds) == ["acme/2", "acme/3"]
    assert app.range.builds[0].commit == commit_of("acme2")
    assert app.newest_a.identity == str(third.identity)

    mirrored = diff(world, "prod", "qa").applications[0]
    assert labels(mirrored.only_b.builds) == ["acme/3"] and not mirrored.only_a
    assert mirrored.range is not None and mirrored.range.ahead == "qa"
    assert labels(mirrored.range.builds) == ["acme/2", "acme/3"]


def test_the_same_in_both_and_absent_from_one(world: World) -> None:
    world.promote_all(build(world, "gamma", 1, 0))
    build(world, "beta", 1, 0)
    result = diff(world, "qa", "prod")
    assert [(app.name, app.same) for app in result.applications] == [("gamma", True)]
    assert result.same and result.applications[0].range is None
    dev_qa = {app.name: app for app in diff(world, "dev", "qa").applications}
    beta = dev_qa["beta"]
    assert beta.newest_b is None and beta.range is None
    assert labels(beta.only_a.builds) == ["beta/1"] and not beta.only_b


def test_artifacts_are_compared_by_digest(world: World) -> None:
    old = build(world, "delta", 1, 0, data=b"identical bytes")
    new = build(world, "delta", 2, 1, data=b"identical bytes")
    world.copy(old, "dev", "qa")
    world.label(old, "libs-qa", "prod")
    world.copy(new, "dev", "qa")
    app = diff(world, "qa", "prod").applications[0]
    assert labels(app.only_a.builds) == ["delta/2"]
    assert app.only_a.artifacts == () and not app.only_b
    assert not app.same  # a build differs, even though its bytes do not


def test_no_range_without_start_times(world: World) -> None:
    first = world.build("eps", 1, {"e.tgz": b"1"}, commit=commit_of("e1"))
    world.promote_all(first)
    undated = world.build("eps", 2, {"e.tgz": b"2"}, commit=commit_of("e2"), started=None)
    world.copy(undated, "dev", "qa")
    app = diff(world, "qa", "prod").applications[0]
    assert app.newest_a is not None and app.newest_a.label == "eps/1"  # undated sorts first
    assert app.range is None
    assert labels(app.only_a.builds) == ["eps/2"]
    assert app.only_a.builds[0].identity is None and app.only_a.builds[0].key == "eps/2"
    dated = build(world, "eps", 3, 2)
    world.copy(dated, "dev", "qa")
    app = diff(world, "qa", "prod").applications[0]
    assert app.range is not None and labels(app.range.builds) == ["eps/3"]  # eps/2 is unplaced


def test_undated_newest_gives_no_range(world: World) -> None:
    undated = world.build("zeta", 1, {"z.tgz": b"1"}, commit=commit_of("z1"), started=None)
    world.promote_all(undated)
    newer = world.build("zeta", 2, {"z.tgz": b"2"}, commit=commit_of("z2"), started=None)
    world.copy(newer, "dev", "qa")
    app = diff(world, "qa", "prod").applications[0]
    assert app.newest_a is not None and app.newest_a.label == "zeta/2"  # by number
    assert app.range is None


def test_numbers_order_numerically_at_one_start_time(world: World) -> None:
    nine = build(world, "eta", 9, 0)
    world.promote_all(nine)
    ten = build(world, "eta", 10, 0)
    world.copy(ten, "dev", "qa")
    rc = world.build("eta", "10-rc", {"eta.tgz": b"rc"}, commit=commit_of("rc"))
    world.copy(rc, "dev", "qa")
    app = diff(world, "qa", "prod").applications[0]
    assert app.newest_a is not None and app.newest_a.label == "eta/10"
    assert labels(app.only_a.builds) == ["eta/10-rc", "eta/10"]
    assert app.range is not None and labels(app.range.builds) == ["eta/10"]


def test_json_document(world: World) -> None:
    world.promote_all(build(world, "acme", 1, 0))
    world.copy(build(world, "acme", 2, 1), "dev", "qa")
    document = diff(world, "qa", "prod").to_json()
    assert document["ok"] is True and (document["a"], document["b"]) == ("qa", "prod")
    assert document["same"] is False
    app = document["applications"][0]
    assert set(app) == {
        "name",
        "same",
        "newest_in_a",
        "newest_in_b",
        "only_in_a",
        "only_in_b",
        "range",
    }
    assert app["only_in_a"]["builds"][0] == {
        "name": "acme",
        "number": "2",
        "id": app["newest_in_a"]["id"],
        "commit": commit_of("acme2"),
        "started": "2025-03-02T11:10:00Z",
    }
    assert set(app["only_in_a"]["artifacts"][0]) == {"name", "sha256", "build"}
    assert app["only_in_b"] == {"builds": [], "artifacts": []}
    assert app["range"]["ahead"] == "qa" and app["range"]["from"]["number"] == "1"
    assert [b["number"] for b in app["range"]["builds"]] == ["2"]


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("qa", "staging", r"no environment 'staging' in this profile \(it has: dev, qa, prod\)"),
        ("nope", "qa", "no environment 'nope'"),
        ("qa", "qa", "compare two different environments, not qa with itself"),
    ],
)
def test_bad_environments(world: World, a: str, b: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        diff(world, a, b)


def test_a_profile_without_environments() -> None:
    with pytest.raises(UsageError, match=r"\(it has: none\)"):
        check_environments((), "qa", "prod")
