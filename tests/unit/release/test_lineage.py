"""Lineage on real local registries: one clean case, then each finding on its own."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from relman.errors import Cancelled, UsageError
from relman.model import CancelToken, Environment, Profile
from relman.registry import buildinfo
from relman.registry.base import NotFound
from relman.registry.local import LocalRegistry
from relman.release.lineage import FINDING_KINDS, Lineage, build_lineage, find_builds
from relman.verify.signatures.base import Context
from tests.fast_registry import DirectWriter
from tests.unit.release.lineage_support import ENVIRONMENTS, World, commit_of, cosign, public
from tests.unit.release.lineage_support import T0 as START

FILES = {"app.tgz": b"app bytes", "app.sbom.json": b"{}"}


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World.create(tmp_path / "registry")


def lineage(world: World, **kwargs: object) -> Lineage:
    return build_lineage(world.registry, ENVIRONMENTS, world.context, **kwargs)  # type: ignore[arg-type]


def kinds(result: Lineage) -> Counter[str]:
    return Counter(f.kind for f in result.findings)


# -- the clean case -----------------------------------------------------------------------


def test_a_clean_build_promoted_to_prod_has_no_findings(world: World) -> None:
    build = world.build("acme", 1, FILES)
    world.promote_all(build)
    result = lineage(world)
    assert result.ok and result.findings == () and result.untraceable == ()
    (node,) = result.builds
    assert node.environments == ("dev", "qa", "prod") and node.furthest == "prod"
    assert node.label == "acme/1" and node.identity == build.identity
    assert node.commit == build.vcs_revision and node.started == build.started
    app = node.artifacts[0]
    assert [str(loc) for loc in app.locations] == [
        "libs-dev/acme/1/app.tgz",
        "libs-qa/acme/1/app.tgz",
    ]
    assert app.location_environments == (("dev",), ("qa", "prod"))
    assert [s.status for s in app.signatures] == ["verified", "verified"]
    assert app.signatures[1].sidecar == "libs-qa/acme/1/app.tgz.sig"
    assert app.signatures[0].signer is not None and app.signatures[0].signer.startswith("ci")
    assert [(p.environment, p.source, p.ok) for p in node.promotions] == [
        ("qa", "dev", True),
        ("prod", "qa", True),
    ]
    assert node.promotions_to("prod")[0].signer.startswith("rm-anna")
    assert result.commits() == [(build.vcs_revision, (node,))]
    assert result.findings_of(node) == ()


def test_a_profile_gives_the_environments(world: World) -> None:
    world.promote_all(world.build("acme", 1, FILES))
    profile = Profile("p", "local", str(world.registry.root), environments=ENVIRONMENTS)
    assert build_lineage(world.registry, profile, world.context).builds[0].furthest == "prod"


def test_json_shape(world: World) -> None:
    build = world.build("acme", 1, FILES)
    world.copy(build, "dev", "qa")
    doc = json.loads(json.dumps(lineage(world).to_json()))
    assert set(doc) == {"ok", "environments", "builds", "findings"}
    assert doc["ok"] is False and doc["environments"] == ["dev", "qa", "prod"]
    (b,) = doc["builds"]
    assert {"name", "number", "id", "commit", "started", "artifacts", "environments"} <= set(b)
    assert b["id"] == str(build.identity) and b["started"] == "2025-03-02T10:10:00Z"
    art = b["artifacts"][0]
    assert {"name", "sha256", "locations"} <= set(art)
    assert art["locations"][1] == {
        "repo": "libs-qa",
        "path": "acme/1/app.tgz",
        "environment": "qa",
        "environments": ["qa"],
        "sha256": hashlib.sha256(b"app bytes").hexdigest(),
    }
    finding = doc["findings"][0]
    assert {"kind", "build", "artifact", "detail"} <= set(finding)
    assert finding["kind"] == "unverified-promotion" and finding["build"] == "acme/1"


# -- one finding at a time ------------------------------------------------------------------


def test_rebuilt_reports_both_builds(world: World) -> None:
    first = world.build("acme", 1, {"app.tgz": b"one"})
    world.build("acme", 2, {"app.tgz": b"two"}, hours=1)
    world.build("acme", 3, {"app.tgz": b"three"}, commit=commit_of("other"), hours=2)
    world.build("other", 1, {"app.tgz": b"four"}, commit=first.vcs_revision)
    result = lineage(world)
    rebuilt = [f for f in result.findings if f.kind == "rebuilt"]
    assert sorted(f.build for f in rebuilt) == ["acme/1", "acme/2"]
    assert all(f.artifact == "app.tgz" and "built more than once" in f.detail for f in rebuilt)
    assert kinds(result) == {"rebuilt": 2}


def test_a_commit_built_many_times_names_a_few_variants_in_one_shared_detail(
    world: World,
) -> None:
    for n in range(1, 8):
        world.build("acme", n, {"app.tgz": f"bytes {n}".encode()}, hours=n)
    world.build("acme", 8, {"app.tgz": b"bytes 1"}, hours=8)  # the same bytes as build 1
    result = lineage(world)
    rebuilt = [f for f in result.findings if f.kind == "rebuilt"]
    assert len(rebuilt) == 8 and len({id(f.detail) for f in rebuilt}) == 1
    detail = rebuilt[0].detail
    assert detail.count("sha256 ") == 4 and detail.endswith("; 3 more")
    assert "in build 8/1;" in detail  # one variant, the builds that made it


def test_the_same_bytes_built_twice_are_not_rebuilt(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"same"})
    world.registry.publish_build(
        buildinfo.make_record(
            "acme",
            2,
            started=world.registry.build_record("acme", "1").started,
            commit=commit_of("acme"),
            artifacts=world.registry.build_record("acme", "1").artifacts,
        )
    )
    assert lineage(world).ok


def _rewrite_meta(world: World, repo: str, path: str, **checksums: str) -> None:
    meta_path = world.registry.root / ".relman/items" / repo / (path + ".json")
    meta = json.loads(meta_path.read_text())
    meta["checksums"].update(checksums)
    meta_path.write_text(json.dumps(meta))


def test_overwritten_by_a_claimed_item(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    _rewrite_meta(world, "libs-dev", "acme/1/app.tgz", sha256="ee" * 32)
    result = lineage(world)
    assert kinds(result) == {"overwritten": 1, "unsigned": 1}
    finding = next(f for f in result.findings if f.kind == "overwritten")
    assert finding.location == "libs-dev/acme/1/app.tgz" and "ee" * 32 in finding.detail


def test_overwritten_by_a_file_put_there_by_hand(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa")
    world.record(build, "qa", "dev")
    hand = world.registry.root / "repos/libs-qa/acme/1/app.tgz"
    (world.registry.root / ".relman/items/libs-qa/acme/1/app.tgz.json").unlink()
    hand.unlink()
    hand.write_bytes(b"patched by hand")
    result = lineage(world)
    assert kinds(result) == {"overwritten": 1}
    (finding,) = result.findings
    assert "no sha256" in finding.detail and finding.build == "acme/1"
    sig = result.builds[0].artifacts[0].signatures[1]
    assert sig.status == "not-checked" and "records no sha256" in sig.detail


def test_overwritten_by_name_when_the_path_moved(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    world.registry.deploy(
        "libs-dev", "elsewhere/app.tgz", b"other", {"build.name": "acme", "build.number": "1"}
    )
    assert kinds(lineage(world)) == {"overwritten": 1, "unsigned": 1}


def test_untraceable_items_in_environments(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa")
    world.record(build, "qa", "dev")
    world.registry.deploy("libs-qa", "loose/tool.bin", b"nobody's")
    world.registry.deploy(
        "libs-qa", "ghost/app.tgz", b"ghost", {"build.name": "ghost", "build.number": "9"}
    )
    world.registry.deploy(
        "libs-qa", "acme/1/extra.bin", b"extra", {"build.name": "acme", "build.number": "1"}
    )
    world.registry.deploy("scratch", "loose/tool.bin", b"not in any environment")
    world.registry.deploy("scratch", "labelled.bin", b"labelled", {"relman.environment": "prod"})
    result = lineage(world)
    assert kinds(result) == {"untraceable": 4}
    details = sorted(f.detail for f in result.findings)
    assert any("no build record lists its sha256" in d for d in details)
    assert any("names build ghost/9, which has no build record" in d for d in details)
    assert any("build acme/1 does not list it" in d for d in details)
    assert any(d.startswith("scratch/labelled.bin is in prod") for d in details)
    assert {str(loc) for loc in result.untraceable} == {
        "libs-qa/loose/tool.bin",
        "libs-qa/ghost/app.tgz",
        "libs-qa/acme/1/extra.bin",
        "scratch/labelled.bin",
    }
    assert all(f.build is None for f in result.findings if "ghost" in f.detail)


def test_an_unclaimed_copy_of_a_builds_bytes_is_traced(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    world.registry.deploy("libs-dev", "mirror/app.tgz", b"app")
    world.registry.deploy("libs-dev", "mirror/app.tgz.sig", b"garbage")
    result = lineage(world)
    art = result.builds[0].artifacts[0]
    assert len(art.locations) == 2
    assert kinds(result) == {"bad-signature": 1}


@pytest.mark.parametrize(
    ("number", "commit", "started", "why"),
    [
        ("1", None, True, "no commit"),
        ("1", "abc123", True, "'abc123' is not a full commit id"),
        ("1", "default", False, "no start time"),
        ("1.0-rc", "default", True, "'1.0-rc' is not a whole number >= 1"),
        ("0", "default", True, "'0' is not a whole number >= 1"),
    ],
)
def test_untraceable_builds(
    world: World, number: str, commit: str | None, started: bool, why: str
) -> None:
    world.build(
        "acme", number, {"app.tgz": b"app"}, commit=commit, started=None if not started else START
    )
    result = lineage(world)
    assert kinds(result) == {"untraceable": 1}
    assert why in result.findings[0].detail and result.builds[0].identity is None


def test_unsigned(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    (finding,) = lineage(world).findings
    assert finding.kind == "unsigned" and finding.artifact == "app.tgz"
    assert "libs-dev/acme/1/app.tgz" in finding.detail


def test_an_artifact_missing_from_the_registry_is_not_called_unsigned(world: World) -> None:
    record = buildinfo.make_record(
        "acme",
        1,
        started=START,
        commit=commit_of("x"),
        artifacts=[
            buildinfo.parse(
                {
                    "name": "acme",
                    "number": "1",
                    "modules": [{"id": "m", "artifacts": [{"name": "gone.bin"}]}],
                }
            ).artifacts[0]
        ],
    )
    world.registry.publish_build(record)
    result = lineage(world)
    assert result.ok and result.builds[0].artifacts[0].locations == ()
    assert result.builds[0].artifacts[0].sha256 is None


def test_bad_signature_by_an_untrusted_key(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    stranger = Context(keys=(public(ec.generate_private_key(ec.SECP256R1()), "x"),))
    result = build_lineage(world.registry, ENVIRONMENTS, stranger)
    assert kinds(result) == {"bad-signature": 1}
    assert result.findings[0].location == "libs-dev/acme/1/app.tgz.sig"


def test_bad_signature_over_other_bytes_and_garbage(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    world.registry.deploy("libs-dev", "acme/1/app.tgz.sig", cosign(world.ci, b"other"))
    world.registry.deploy("libs-dev", "acme/1/app.tgz.asc", b"not a signature at all")
    result = lineage(world)
    assert kinds(result) == {"bad-signature": 2}
    statuses = {s.sidecar: s.status for s in result.builds[0].artifacts[0].signatures}
    assert set(statuses.values()) == {"failed"}


def test_signatures_that_need_the_bytes_are_not_checked(world: World) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    world.ci = p384
    world.build("acme", 1, {"app.tgz": b"app"})
    result = build_lineage(world.registry, ENVIRONMENTS, Context(keys=(public(p384, "ci384"),)))
    assert result.ok
    (sig,) = result.builds[0].artifacts[0].signatures
    assert sig.status == "not-checked" and "not checked without the bytes" in sig.detail
    assert "sha384" in sig.detail


def test_a_sidecar_that_cannot_be_read_fails_closed(world: World) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})

    class Vanishing(LocalRegistry):
        def sidecars(self, repo: str, path: str) -> dict[str, bytes]:
            if path.endswith("app.tgz"):
                raise NotFound(f"{repo}/{path}: gone")
            return {}

    class Emptied(LocalRegistry):
        def sidecars(self, repo: str, path: str) -> dict[str, bytes]:
            return {}

    for cls, text in ((Vanishing, "gone"), (Emptied, "is gone")):
        result = build_lineage(cls(world.registry.root), ENVIRONMENTS, world.context)
        assert kinds(result) == {"bad-signature": 1}
        assert text in result.findings[0].detail


def test_skipped_stage(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.label(build, "libs-dev", "prod")
    world.record(build, "prod", "dev")
    result = lineage(world)
    assert kinds(result) == {"skipped-stage": 1}
    assert result.findings[0].detail == "in prod without having been in qa"
    assert result.builds[0].environments == ("dev", "prod")


def test_a_promotion_by_move_is_not_a_skipped_stage(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa", move=True)
    world.record(build, "qa", "dev")
    result = lineage(world)
    assert result.ok and result.builds[0].environments == ("qa",)


def test_a_build_only_in_a_later_stage_skipped_the_one_before(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa", move=True)
    assert kinds(lineage(world)) == {"skipped-stage": 1, "unverified-promotion": 1}


def test_unverified_promotion_without_a_record(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa")
    (finding,) = lineage(world).findings
    assert finding.kind == "unverified-promotion"
    assert finding.detail == "in qa without a valid promotion record"


@pytest.mark.parametrize(
    ("how", "expect"),
    [
        ({"key": "stranger"}, "no signature"),
        ({"artifacts": []}, "does not cover app.tgz"),
        ({"artifacts": [("app.tgz", "ab" * 32)]}, "names other bytes: app.tgz"),
        ({"build_number": "7"}, "it is the record of build acme/7"),
        ({"filed_under": "qa", "target": "prod"}, "it records a promotion to prod"),
    ],
)
def test_unverified_promotion_with_a_record_that_does_not_hold(
    world: World, how: dict[str, object], expect: str
) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa")
    if how.get("key") == "stranger":
        how = {"key": ed25519.Ed25519PrivateKey.generate()}
    claims = {"target": "qa", **how}
    target = claims.pop("target")
    world.record(build, target, "dev", **claims)  # type: ignore[arg-type]
    result = lineage(world)
    assert kinds(result) == {"unverified-promotion": 1}
    (promotion,) = result.builds[0].promotions
    assert not promotion.ok
    assert expect in result.findings[0].detail or expect.lower() in promotion.detail.lower()


def test_an_unreadable_record_is_listed_and_not_trusted(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.copy(build, "dev", "qa")
    world.registry.put_promotion_record("acme", "1", "qa", b"not json")
    result = lineage(world)
    (promotion,) = result.builds[0].promotions
    assert not promotion.ok and "not a promotion record" in promotion.detail
    assert kinds(result) == {"unverified-promotion": 1}


def test_label_mode_environments(world: World) -> None:
    envs = (
        Environment("dev", "label", label="stage"),
        Environment("qa", "label", label="stage"),
        Environment("prod", "label"),
    )
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.registry.set_properties(
        "libs-dev", "acme/1/app.tgz", {"stage": ["dev", "qa"], "relman.environment": "prod"}
    )
    world.record(build, "qa", "dev")
    world.record(build, "prod", "qa")
    result = build_lineage(world.registry, envs, world.context)
    assert result.ok and result.builds[0].environments == ("dev", "qa", "prod")
    assert result.builds[0].artifacts[0].location_environments == (("dev", "qa", "prod"),)
    world.registry.deploy("scratch", "x.bin", b"x", {"stage": "qa"})
    assert kinds(build_lineage(world.registry, envs, world.context)) == {"untraceable": 1}


# -- filters, progress, cancel --------------------------------------------------------------


@pytest.fixture
def three(world: World) -> World:
    world.build("acme", 1, {"app.tgz": b"1"}, sign=False)
    world.build("acme", 2, {"app.tgz": b"2"}, commit=commit_of("second"), hours=1, sign=False)
    world.build("web", 1, {"web.tgz": b"3"}, commit=commit_of("acme"), sign=False)
    world.registry.deploy("libs-qa", "loose.bin", b"loose")
    return world


def test_filters(three: World) -> None:
    everything = lineage(three)
    assert [b.label for b in everything.builds] == ["acme/2", "acme/1", "web/1"]
    assert kinds(everything) == {"unsigned": 3, "untraceable": 1}
    by_name = lineage(three, build="acme")
    assert [b.label for b in by_name.builds] == ["acme/2", "acme/1"]
    assert kinds(by_name) == {"unsigned": 2}
    assert [b.label for b in lineage(three, build="acme", number="1").builds] == ["acme/1"]
    by_commit = lineage(three, commit=commit_of("acme")[:9].upper())
    assert [b.label for b in by_commit.builds] == ["acme/1", "web/1"]
    assert len(by_commit.commits()) == 1
    assert by_commit.findings_of("web/1")[0].kind == "unsigned"


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"build": "nope"}, NotFound, "no build named 'nope'"),
        ({"build": "acme", "number": "9"}, NotFound, "no build acme/9"),
        ({"commit": "0" * 40}, NotFound, "no build of commit"),
        ({"commit": "abc"}, UsageError, "7 hex digits"),
        ({"commit": "xyzxyzxyz"}, UsageError, "is not a commit"),
        ({"number": "1"}, UsageError, "needs a build name"),
    ],
)
def test_bad_filters(three: World, kwargs: dict[str, str], error: type, text: str) -> None:
    with pytest.raises(error, match=text):
        lineage(three, **kwargs)


def test_progress_and_cancel(three: World) -> None:
    seen: list[tuple[int, int]] = []
    lineage(three, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        lineage(three, cancel=token)
    assert lineage(three, cancel=CancelToken()).builds


def test_finding_text() -> None:
    from relman.release.lineage import Finding

    assert (
        str(Finding("unsigned", "a/1", "x.bin", "no signature"))
        == "unsigned  a/1 x.bin: no signature"
    )
    assert str(Finding("untraceable", None, None, "odd")) == "untraceable: odd"
    assert "unverified-promotion" in FINDING_KINDS


# -- the benchmark's direct writer writes what LocalRegistry writes ---------------------------


def _normalised(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if not path.is_file() or rel.startswith((".relman/tmp", ".relman/lock")):
            continue
        data = path.read_bytes()
        if rel.startswith(".relman/items/"):
            meta = json.loads(data)
            meta.pop("created")
            out[rel] = (list(meta), meta)  # key order too
        else:
            out[rel] = data
    return out


def test_the_direct_writer_writes_what_the_registry_writes(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    slow = World(LocalRegistry(tmp_path / "slow", create=True), promoter=key)
    fast = DirectWriter(tmp_path / "fast", ["libs-dev", "libs-qa"])
    for repo in ("libs-dev", "libs-qa"):
        slow.registry.create_repository(repo)
    record = slow.build("acme", 1, {"app.tgz": b"app", "lib.jar": b"lib"}, sign=False)
    slow.copy(record, "dev", "qa")
    slow.label(record, "libs-qa", "prod")
    slow.record(record, "qa", "dev")
    for a in record.artifacts:
        assert a.path is not None
        props = {"build.name": "acme", "build.number": "1", "vcs.revision": record.vcs_revision}
        fast.deploy("libs-dev", a.path, {"app.tgz": b"app", "lib.jar": b"lib"}[a.name], props)
        fast.copy(("libs-dev", a.path), ("libs-qa", a.path))
        fast.set_properties("libs-qa", a.path, {"relman.environment": ["prod"]})
    fast.publish_build(record)
    fast.put_promotion_record("acme", "1", "qa", slow.registry.promotion_records("acme", "1")[0][1])
    assert _normalised(tmp_path / "fast") == _normalised(tmp_path / "slow")
    again = lineage(World(LocalRegistry(tmp_path / "fast"), promoter=key, ci=slow.ci))
    assert [b.environments for b in again.builds] == [("dev", "qa", "prod")]


def test_odd_corners(world: World) -> None:
    """Orphan and checksum sidecars, rebuilt groups with partial artifacts, extra subjects."""
    first = world.build("acme", 1, {"app.tgz": b"one", "notes.txt": b"n"})
    world.registry.deploy("libs-dev", "acme/1/app.tgz.sha256", b"ab" * 32)
    world.registry.deploy("scratch", "orphan.sig", b"sig of nothing")
    no_sha = buildinfo.parse(
        {"name": "acme", "number": "2", "modules": [{"id": "m", "artifacts": [{"name": "x"}]}]}
    ).artifacts[0]
    world.registry.publish_build(
        buildinfo.make_record(
            "acme", 2, started=START, commit=first.vcs_revision, artifacts=[no_sha]
        )
    )
    world.build("acme", 3, {"app.tgz": b"three"}, hours=2)
    world.copy(first, "dev", "qa")
    world.record(
        first,
        "qa",
        "dev",
        artifacts=[*((a.name, a.sha256) for a in first.artifacts), ("more.bin", "cd" * 32)],
    )
    result = lineage(world)
    assert kinds(result) == {"rebuilt": 2, "unverified-promotion": 1}
    assert sorted(f.build for f in result.findings if f.kind == "rebuilt") == ["acme/1", "acme/3"]
    assert "names other bytes: more.bin" in result.builds[-1].promotions[0].detail
    assert [s.sidecar for s in result.builds[-1].artifacts[0].signatures] == [
        "libs-dev/acme/1/app.tgz.sig",
        "libs-qa/acme/1/app.tgz.sig",
    ]


def test_find_builds_by_label_identity_commit_digest_or_artifact_name(world: World) -> None:
    one = world.build("acme", 1, {"app.tgz": b"one"})
    two = world.build("acme", 2, {"app.tgz": b"two", "lib.so": b"lib"}, hours=1)
    other = world.build("other", 1, {"tool.bin": b"tool"}, commit=commit_of("x"), hours=2)
    result = lineage(world)

    def labels(query: str) -> list[str]:
        return [b.label for b in find_builds(result, query)]

    assert labels("acme/2") == ["acme/2"] and labels(" ACME/1 ") == ["acme/1"]
    assert labels(str(two.identity)) == ["acme/2"]
    assert labels(str(one.identity)[:16]) == ["acme/1"]  # its start time: a prefix
    assert labels(one.vcs_revision[:7]) == ["acme/2", "acme/1"]  # one commit, newest first
    assert labels(other.vcs_revision[:12].upper()) == ["other/1"]
    assert labels(one.vcs_revision[:6]) == []  # a commit needs 7 digits
    sha = hashlib.sha256(b"lib").hexdigest()
    assert labels(sha[:8]) == ["acme/2"] and labels(sha[:7]) == []
    assert labels("app.tgz") == ["acme/2", "acme/1"] and labels("TOOL.BIN") == ["other/1"]
    assert labels("") == [] and labels("nothing-like-it") == []
