"""relman.demo: the demo registry, its evidence, its promotions and its planted problems."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from relman import demo, settings
from relman.demo import plan
from relman.errors import UsageError
from relman.registry.local import LocalRegistry
from relman.release import records
from relman.verify import truststore
from relman.verify.files import Planner, verify_files

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
ENVS = ("dev", "qa", "staging", "prod")
KINDS = {
    "rebuilt",
    "overwritten",
    "untraceable",
    "unsigned",
    "bad-signature",
    "skipped-stage",
    "unverified-promotion",
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, demo.Demo, float]]:
    """One demo for the module (it takes a few seconds), in its own RELMAN_HOME."""
    home = tmp_path_factory.mktemp("demo-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RELMAN_HOME", str(home))
        start = time.monotonic()
        result = demo.create(now=NOW)
        yield home, result, time.monotonic() - start


@pytest.fixture
def home(made: tuple[Path, demo.Demo, float], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RELMAN_HOME", str(made[0]))
    return made[0]


@pytest.fixture
def reg(made: tuple[Path, demo.Demo, float]) -> LocalRegistry:
    return LocalRegistry(made[1].dir)


def planted(result: demo.Demo, kind: str) -> demo.Planted:
    (found,) = [p for p in result.planted if p.kind == kind]
    return found


def test_runtime_folder_and_counts(made: tuple[Path, demo.Demo, float], reg: LocalRegistry) -> None:
    home, result, seconds = made
    assert seconds < 10
    assert result.dir == home / "data" / "demo-registry"
    assert [r.key for r in reg.repositories()] == sorted(f"{e}-local" for e in ENVS)
    assert list(reg.build_names()) == sorted(a.name for a in plan.APPS)
    assert result.apps == 3
    assert 35 <= result.builds <= 45
    numbers = {name: reg.build_numbers(name) for name in reg.build_names()}
    assert sum(len(n) for n in numbers.values()) == result.builds
    assert result.artifacts == sum(
        len(reg.build_record(name, n).artifacts) for name, ns in numbers.items() for n in ns
    )
    assert result.promotions > result.records > 20


def test_every_build_has_an_identity_and_a_story(reg: LocalRegistry) -> None:
    branches = set()
    for name in reg.build_names():
        recs = [reg.build_record(name, n) for n in reg.build_numbers(name)]
        assert sorted(int(r.number) for r in recs) == list(range(1, len(recs) + 1))
        by_number = sorted(recs, key=lambda r: int(r.number))
        starts = [r.started for r in by_number]
        assert starts == sorted(starts)  # numbers follow time
        for r in recs:
            assert r.identity is not None, r
            assert r.started is not None and NOW - timedelta(weeks=6) <= r.started < NOW
            assert r.vcs_url == f"https://git.example.com/acme/{name}.git"
            assert r.vcs_message and r.vcs_branch
            assert r.agent is not None and r.agent.name == "relman-demo-ci"
            assert 2 <= len(r.artifacts) <= 4
            branches.add(r.vcs_branch.split("/")[0])
    assert branches == {"main", "release", "feature"}
    assert max(starts) > NOW - timedelta(days=3)  # the six weeks end now
    assert min(starts) < NOW - timedelta(weeks=5)


def test_artifacts_match_the_registry_and_the_build_record_but_the_overwritten_one(
    made: tuple[Path, demo.Demo, float], reg: LocalRegistry
) -> None:
    overwritten = planted(made[1], "overwritten").path
    checked = 0
    for name in reg.build_names():
        for number in reg.build_numbers(name):
            record = reg.build_record(name, number)
            for art in record.artifacts:
                assert art.path is not None
                loc = reg.location("dev-local", art.path)
                data = (made[1].dir / "repos" / "dev-local" / art.path).read_bytes()
                assert 50 < len(data) < 8000
                assert loc.sha256 == hashlib.sha256(data).hexdigest()
                assert loc.properties["build.name"] == (name,)
                assert loc.properties["build.number"] == (number,)
                assert loc.properties["vcs.revision"] == (record.vcs_revision,)
                assert loc.properties["vcs.branch"] == (record.vcs_branch,)
                assert loc.properties["build.timestamp"][0].isdigit()
                if str(loc) == overwritten:
                    assert art.sha256 != loc.sha256
                else:
                    assert (art.sha256, art.sha1, art.md5) == (loc.sha256, loc.sha1, loc.md5)
                checked += 1
    assert checked == made[1].artifacts


def test_sidecars_verify_with_the_trust_store_and_the_bad_one_fails(
    made: tuple[Path, demo.Demo, float], home: Path
) -> None:
    repos = made[1].dir / "repos"
    normal = next((repos / "prod-local" / "web-frontend").glob("*/web-frontend-*.tar.gz"))
    bad = repos / planted(made[1], "bad-signature").path.removesuffix(".sig")
    over = repos / planted(made[1], "overwritten").path
    report = verify_files([normal, bad, over], Planner(require_signature=True))
    good, failed, rewritten = report.files
    assert good.ok and {c.kind for c in good.checks} == {"signature", "provenance"}
    assert all(c.signer and c.signer.startswith("demo-ci ") for c in good.checks)
    provenance = next(c for c in good.checks if c.kind == "provenance")
    assert provenance.facts["builder"] == "https://ci.example.com/relman-demo"
    assert provenance.facts["predicate_type"] == "https://slsa.dev/provenance/v1"
    assert len(provenance.facts["commit"]) == 40
    assert not failed.ok
    sig = next(c for c in failed.checks if c.source.endswith(".sig"))
    assert not sig.ok and "does not match" in sig.detail
    assert rewritten.ok  # the re-upload came with signatures of its own


def test_promotions_are_copies_with_signed_records_in_order(
    made: tuple[Path, demo.Demo, float], reg: LocalRegistry, home: Path
) -> None:
    keys = truststore.trusted_keys()
    skipped = planted(made[1], "skipped-stage").build
    unverified = planted(made[1], "unverified-promotion").build
    newest_prod: dict[str, datetime] = {}
    copies = signed = 0
    for name in reg.build_names():
        for number in reg.build_numbers(name):
            record = reg.build_record(name, number)
            label = f"{name}/{number}"
            subjects = {a.name: a.sha256 for a in record.artifacts}
            folder = record.artifacts[0].path.rsplit("/", 1)[0]  # type: ignore[union-attr]
            present = [e for e in ENVS if (made[1].dir / "repos" / f"{e}-local" / folder).is_dir()]
            copies += len(present) - 1
            reads = [
                records.read(data, keys, source=f"{label}/{target}")
                for target, data in reg.promotion_records(name, number)
            ]
            signed += len(reads)
            assert all(r.ok for r in reads), [r.detail for r in reads]
            previous = record.started
            for r in reads:
                assert r.build_name == name and r.build_number == number
                assert dict(r.subjects) == subjects
                assert r.promoter in ("demo-rm-anna", "demo-rm-ben")
                assert r.checks and all(c["ok"] for c in r.checks)
                assert r.time is not None and previous < r.time < NOW
                previous = r.time
            expected = ["dev", "qa", "prod"] if label == skipped else list(ENVS[: len(present)])
            assert present == expected, label
            steps = [
                (s, t) for s, t in pairwise(present) if not (label == unverified and t == "qa")
            ]
            assert [(r.source, r.target) for r in reads] == steps
            if "prod" in present:
                assert reads[-1].time is not None
                newest_prod[name] = max(newest_prod.get(name, reads[-1].time), reads[-1].time)
    assert copies == made[1].promotions and signed == made[1].records
    assert set(newest_prod) == {a.name for a in plan.APPS}
    assert all(NOW - t < timedelta(days=8) for t in newest_prod.values()), newest_prod
    counts = Counter(
        max(
            (e for e in ENVS if (made[1].dir / "repos" / f"{e}-local" / a.name).is_dir()),
            key=ENVS.index,
        )
        for a in plan.APPS
    )
    assert counts == {"prod": 3}


def test_one_of_each_planted_problem(
    made: tuple[Path, demo.Demo, float], reg: LocalRegistry
) -> None:
    result = made[1]
    assert Counter(p.kind for p in result.planted) == dict.fromkeys(KINDS, 1)
    # rebuilt: two builds of one commit, one file name, two SHA-256
    rebuilt = planted(result, "rebuilt")
    name, number = rebuilt.build.split("/")  # type: ignore[union-attr]
    second = reg.build_record(name, number)
    first = reg.build_record(name, str(int(number) - 1))
    assert first.vcs_revision == second.vcs_revision
    a, b = first.artifacts[0], second.artifacts[0]
    assert a.name == b.name and a.sha256 != b.sha256
    assert [x.sha256 for x in first.artifacts[1:]] == [x.sha256 for x in second.artifacts[1:]]
    # untraceable: no properties, no build record lists it
    repo, path = planted(result, "untraceable").path.split("/", 1)
    loc = reg.location(repo, path)
    assert repo == "qa-local" and not loc.properties
    assert not list(reg.find_by_property("build.name", "payments-api-hotfix"))
    assert all(
        loc.sha256 not in {x.sha256 for x in reg.build_record(n, k).artifacts}
        for n in reg.build_names()
        for k in reg.build_numbers(n)
    )
    # unsigned: no signature sidecar at all
    repo, path = planted(result, "unsigned").path.split("/", 1)
    assert reg.sidecars(repo, path) == {}
    # skipped-stage and unverified-promotion: where the records say
    assert not (result.dir / "repos" / planted(result, "skipped-stage").path.replace(
        "prod-local", "staging-local")).exists()  # fmt: skip
    name, number = planted(result, "unverified-promotion").build.split("/")  # type: ignore[union-attr]
    assert reg.promotion_records(name, number) == []
    assert (result.dir / "repos" / planted(result, "unverified-promotion").path).is_dir()


def test_profile_and_trust_store(made: tuple[Path, demo.Demo, float], home: Path) -> None:
    profile = settings.get_profile("demo")
    assert profile == made[1].profile
    assert (profile.kind, profile.url) == ("local", str(made[1].dir))
    assert [str(e) for e in profile.environments] == [f"{e}=repo:{e}-local" for e in ENVS]
    keys = {k.name: k for k in truststore.trusted_keys()}
    assert set(keys) == set(demo.TRUST_NAMES)
    assert keys["demo-ci"].kind == "ecdsa-p256"
    assert dict(made[1].trusted) == {n: k.fingerprint for n, k in keys.items()}
    # nothing private was written anywhere under RELMAN_HOME
    for dirpath, _, files in os.walk(home):
        for f in files:
            assert b"PRIVATE KEY" not in (Path(dirpath) / f).read_bytes()


def test_the_plan_is_reproducible() -> None:
    one, two = plan.builds(NOW), plan.builds(NOW - timedelta(days=3))
    assert [(b.commit, b.branch, b.version) for b in one] == [
        (b.commit, b.branch, b.version) for b in two
    ]
    assert [a.data for b in one for a in plan.artifacts(b)] == [
        a.data for b in two for a in plan.artifacts(b)
    ]
    assert all(len(b.commit) == 40 for b in one)


# -- refusals and re-runs ----------------------------------------------------------------------


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        demo.create(tmp_path, now=NOW)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert settings.load_profiles() == {}


def test_refuses_a_demo_profile_elsewhere_and_a_clashing_trust_name(tmp_path: Path) -> None:
    first = demo.create(tmp_path / "one", now=NOW)
    with pytest.raises(UsageError, match="profile 'demo' exists already"):
        demo.create(tmp_path / "two", now=NOW)
    # Same folder, emptied: the profile is replaced, but the old demo's keys are in the way.
    for item in first.dir.iterdir():
        shutil.rmtree(item)
    with pytest.raises(UsageError, match="demo-ci, demo-rm-anna, demo-rm-ben"):
        demo.create(first.dir, now=NOW)
    assert not any(first.dir.iterdir())  # refused before writing anything
    for name in demo.TRUST_NAMES:
        truststore.remove(name)
    again = demo.create(first.dir, now=NOW)
    assert again.builds == first.builds and settings.get_profile("demo").url == str(first.dir)
    # And into a fresh folder once the old profile and keys are gone.
    settings.remove_profile("demo")
    for name in demo.TRUST_NAMES:
        truststore.remove(name)
    third = demo.create(tmp_path / "three", now=NOW)
    assert third.planted == first.planted
    assert settings.get_profile("demo").url == str(tmp_path / "three")


def test_a_failure_leaves_no_half_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from relman.demo import make

    def boom(self: make.Maker) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(make.Maker, "_untraceable", boom)
    with pytest.raises(RuntimeError):
        demo.create(tmp_path / "demo", now=NOW)
    assert not (tmp_path / "demo").exists()
    assert settings.load_profiles() == {} and truststore.trusted_keys() == []


def test_a_demo_trust_name_that_holds_the_same_key_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman.demo import evidence

    signers = evidence.new_signers()
    monkeypatch.setattr(demo, "new_signers", lambda: signers)
    truststore.add("demo-ci", signers[0].public_pem, origin="an earlier run")
    result = demo.create(tmp_path / "demo", now=NOW)
    assert [name for name, _ in result.trusted] == ["demo-rm-anna", "demo-rm-ben"]
    assert {k.name for k in truststore.trusted_keys()} == set(demo.TRUST_NAMES)
