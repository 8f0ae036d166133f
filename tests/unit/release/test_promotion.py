"""The guarded promotion engine end to end on a real local registry: a clean promotion, then
every check failing on its own, with no registry write in any refused case."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from relman.errors import Cancelled, UsageError
from relman.model import CancelToken, Capabilities, RepoPath
from relman.paths import atomic_write
from relman.registry import storage
from relman.registry.base import NotFound
from relman.release import records
from relman.release.lineage import build_lineage
from relman.release.policy import load_policy
from relman.release.promotion import CHECKS, PromotionRefused, Request
from relman.verify.files import default_context
from tests.unit.release.promotion_support import PROD, Faulty, Setup, promoter, snapshot


@pytest.fixture
def setup(relman_home: Path) -> Setup:
    return Setup.create(relman_home)


def test_a_clean_promotion_through_every_environment(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app", "lib.jar": b"lib"})
    engine = setup.engine()
    started: list[str] = []
    seen: list[str] = []
    progress: list[tuple[int, int]] = []
    plan = engine.plan(Request("acme", "1", "qa"))
    assert (plan.source, plan.target, plan.present) == ("dev", "qa", ("dev",))
    app_sha = hashlib.sha256(b"app").hexdigest()
    assert str(plan.writes[0]) == (
        f"would copy libs-qa/acme/1/app.tgz: from libs-dev/acme/1/app.tgz (sha256 {app_sha})"
    )
    assert str(plan.writes[-1]) == (
        "would put-record records/acme/1/qa.dsse.json: the signed promotion record"
    )
    assert [w.action for w in plan.writes] == ["copy"] * 4 + ["build-status", "put-record"]
    assert str(plan.writes[-2]) == "would build-status build acme/1: status qa"
    assert {w.target for w in plan.writes[:4]} == {
        "libs-qa/acme/1/app.tgz",
        "libs-qa/acme/1/app.tgz.sig",
        "libs-qa/acme/1/lib.jar",
        "libs-qa/acme/1/lib.jar.sig",
    }
    before = snapshot(setup.root)
    result = engine.preflight(
        plan,
        on_start=started.append,
        on_check=lambda c: seen.append(c.name),
        progress=lambda d, t: progress.append((d, t)),
    )
    assert snapshot(setup.root) == before, "a preflight writes nothing"
    assert result.ok, result.failed
    assert started == seen == list(CHECKS)
    assert progress[-1] == (6, 6)
    details = {c.name: c.detail for c in result.checks}
    assert details["bytes"].startswith("2 artifacts downloaded again and re-hashed")
    assert details["signatures"].startswith("verified against the re-hashed bytes; signed by ci")
    assert details["approvals"] == "no approval required; 0 valid (none)"
    writes = []
    outcome = engine.execute(plan, on_write=writes.append)
    assert [w.target for w in outcome.writes] == [w.target for w in plan.writes]
    assert writes == list(outcome.writes[:-1])
    assert outcome.readback.ok and "2 artifacts read back from qa" in outcome.readback.detail
    assert {loc.path for loc in setup.registry.items("libs-qa")} == {
        "acme/1/app.tgz",
        "acme/1/app.tgz.sig",
        "acme/1/lib.jar",
        "acme/1/lib.jar.sig",
    }

    # qa -> prod: a label, and one approval by another trusted key.
    plan = engine.plan(Request("acme", "1", "prod"))
    assert [w.action for w in plan.writes] == [
        "set-properties",
        "set-properties",
        "build-status",
        "put-record",
    ]
    refused = engine.preflight(plan)
    assert [c.name for c in refused.failed] == ["approvals"]
    approved = engine.approve(plan, setup.approver("ben"))
    assert approved.digest == plan.digest
    outcome = engine.execute(plan)
    assert setup.registry.properties("libs-qa", "acme/1/app.tgz")[PROD] == ("prod",)

    record = records.read(outcome.record, default_context().keys, source="prod record")
    assert record.ok and record.signer is not None and record.signer.startswith("rm-anna")
    assert (record.source, record.target, dict(record.subjects)) == (
        "qa",
        "prod",
        {a.name: a.sha256 for a in build.artifacts},
    )
    predicate = json.loads(base64.b64decode(json.loads(outcome.record)["payload"]))["predicate"]
    assert predicate["plan"] == {"sha256": plan.digest}
    assert predicate["approvals"] == [
        {"sha256": approved.sha256, "key": predicate["approvals"][0]["key"]}
    ]
    assert predicate["approvals"][0]["key"].startswith("rm-ben")
    assert [c["name"] for c in predicate["checks"]] == [*CHECKS, "read-back"]
    assert all(c["ok"] for c in predicate["checks"])
    assert predicate["promoter"]["fingerprint"] == setup.anna.fingerprint

    stored = setup.registry.promotion_records("acme", "1")
    assert [t for t, _ in stored] == ["qa", "prod"] and stored[1][1] == outcome.record

    log = setup.log
    events = [(e.event, e.body.get("to"), e.body.get("intent")) for e in log.entries()]
    assert events == [
        ("promotion-intent", "qa", None),
        ("promotion-outcome", None, 1),
        ("approval", "prod", None),
        ("promotion-intent", "prod", None),
        ("promotion-outcome", None, 4),
    ]
    outcome_entry = log.entries()[-1]
    assert outcome_entry.body["result"] == "done"
    assert outcome_entry.body["record_sha256"] == hashlib.sha256(outcome.record).hexdigest()
    assert log.pending() == [] and log.verify().ok

    lineage = build_lineage(setup.registry, setup.profile, default_context(), build="acme")
    assert lineage.ok, lineage.findings
    assert lineage.builds[0].environments == ("dev", "qa", "prod")
    assert all(p.ok for p in lineage.builds[0].promotions)

    again = engine.plan(Request("acme", "1", "prod"))
    assert [w.action for w in again.writes] == ["build-status", "put-record"]
    assert engine.preflight(again).failed[0].detail == "acme/1 is in prod already"


def test_promotion_to_a_label_after_a_label_keeps_the_values(setup: Setup) -> None:
    """Two label environments on one property: the new value is added to the old."""
    from relman.model import Environment, Profile

    setup.world.build("acme", 1, {"app.tgz": b"app"})
    profile = Profile(
        "acme",
        "local",
        str(setup.root),
        environments=(
            Environment("dev", "repository", repo="libs-dev"),
            Environment("qa", "label", label=PROD),
            Environment("prod", "label", label=PROD),
        ),
    )
    from relman.release.promotion import Engine

    engine = Engine(setup.registry, profile, promoter=setup.anna, log=setup.log)
    engine.execute(engine.plan(Request("acme", "1", "qa")))
    plan = engine.plan(Request("acme", "1", "prod"))
    engine.approve(plan, setup.approver("chen"))
    engine.execute(plan)
    assert setup.registry.properties("libs-dev", "acme/1/app.tgz")[PROD] == ("qa", "prod")


# -- refused: every check on its own, and nothing written -------------------------------------


def refused(setup: Setup, request: Request, *failing: str, engine=None, contains: str = "") -> str:
    """Plan and check ``request``; exactly ``failing`` fail; execute is refused and the
    registry is unchanged. Returns the failing checks' details."""
    engine = engine or setup.engine()
    before = snapshot(setup.root)
    logged = setup.log.entries()
    plan = engine.plan(request)
    result = engine.preflight(plan)
    assert [c.name for c in result.failed] == list(failing), result.failed
    with pytest.raises(PromotionRefused) as caught:
        engine.execute(plan)
    assert "nothing was written" in str(caught.value)
    assert [c.name for c in caught.value.checks if not c.ok] == list(failing)
    assert snapshot(setup.root) == before
    assert setup.log.entries() == logged
    detail = "; ".join(c.detail for c in result.failed)
    assert contains in detail
    return detail


def test_tampered_bytes_in_the_registry(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    (setup.root / "repos" / "libs-dev" / "acme" / "1" / "app.tgz").write_bytes(b"evil")
    detail = refused(setup, Request("acme", "1", "qa"), "bytes", "signatures")
    assert "the bytes read have sha256" in detail and "changed after they were deployed" in detail
    assert "not checked, its bytes could not be re-read" in detail


def test_untrusted_signature(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    mallory = ed25519.Ed25519PrivateKey.generate()
    sig = setup.root / "repos" / "libs-dev" / "acme" / "1" / "app.tgz.sig"
    sig.unlink()
    (setup.root / ".relman" / "items" / "libs-dev" / "acme" / "1" / "app.tgz.sig.json").unlink()
    setup.registry.deploy("libs-dev", "acme/1/app.tgz.sig", base64.b64encode(mallory.sign(b"app")))
    refused(setup, Request("acme", "1", "qa"), "signatures", contains="app.tgz: ")


def test_missing_signature(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    detail = refused(setup, Request("acme", "1", "qa"), "signatures")
    assert (
        "no signature by a trusted key beside libs-dev/acme/1/app.tgz (the policy for qa" in detail
    )


def test_a_signature_can_be_optional_by_policy(setup: Setup, relman_home: Path) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    path = relman_home / "config" / "policy.toml"
    atomic_write(path, b"[profiles.acme.environments.qa]\nrequire_signature = false\n")
    engine = setup.engine()
    result = engine.preflight(engine.plan(Request("acme", "1", "qa")))
    assert result.ok
    assert "app.tgz is not signed (qa does not require it)" in result.checks[5].detail
    assert result.checks[5].detail.startswith(
        "verified against the re-hashed bytes; signed by nobody"
    )


def test_skipped_stage(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    detail = refused(
        setup, Request("acme", "1", "prod"), "environment-order", "bytes", "signatures", "approvals"
    )
    assert "acme/1 is not in qa: a build reaches prod only from qa" in detail


def test_a_build_that_reached_an_environment_without_a_record(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.world.copy(build, "dev", "qa")  # by hand: no promotion record
    setup.world.record(build, "qa", "dev", key=ed25519.Ed25519PrivateKey.generate())
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "prod"))
    engine.approve(plan, setup.approver("ben"))
    detail = refused(setup, Request("acme", "1", "prod"), "environment-order")
    assert detail == "acme/1 is in qa without a valid promotion record"


def test_skipped_stage_in_the_history(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.world.label(build, "libs-dev", "prod")
    setup.world.record(build, "prod", "dev")
    detail = refused(setup, Request("acme", "1", "qa"), "environment-order")
    assert detail == "acme/1 reached prod without having been in qa"


def test_rebuilt(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.world.build("acme", 2, {"app.tgz": b"app, built again"}, hours=1)
    detail = refused(setup, Request("acme", "1", "qa"), "build-once")
    assert detail.startswith("rebuilt: app.tgz: commit ") and "was built more than once" in detail


def test_overwritten(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    path = setup.root / "repos" / "libs-dev" / "acme" / "1" / "app.tgz"
    meta_path = setup.root / ".relman" / "items" / "libs-dev" / "acme" / "1" / "app.tgz.json"
    path.unlink()
    path.write_bytes(b"new")
    meta = json.loads(meta_path.read_bytes())
    meta["checksums"] = {
        "sha256": hashlib.sha256(b"new").hexdigest(),
        "sha1": hashlib.sha1(b"new").hexdigest(),
        "md5": hashlib.md5(b"new").hexdigest(),
    }
    atomic_write(meta_path, storage.json_bytes(meta))
    detail = refused(setup, Request("acme", "1", "qa"), "bytes", "signatures", "build-once")
    assert "the registry records sha256" in detail and "overwritten: app.tgz: " in detail


def test_different_bytes_already_at_the_target(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.registry.deploy(
        "libs-qa", "acme/1/app.tgz", b"other", {"build.name": "other", "build.number": "3"}
    )
    detail = refused(setup, Request("acme", "1", "qa"), "target")
    assert detail == (
        f"libs-qa/acme/1/app.tgz already holds other bytes (sha256 "
        f"{hashlib.sha256(b'other').hexdigest()}), not sha256 {hashlib.sha256(b'app').hexdigest()}"
    )


def test_other_bytes_at_the_target_by_hand(setup: Setup) -> None:
    """Bytes put at the build's own path with no build properties are, to lineage, the build's
    artifact overwritten in qa: every check that sees it fails."""
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.registry.deploy("libs-qa", "acme/1/app.tgz", b"other")
    detail = refused(setup, Request("acme", "1", "qa"), "environment-order", "build-once", "target")
    assert "acme/1 is in qa already" in detail and "overwritten: app.tgz: libs-qa/" in detail


def test_a_target_sidecar_of_no_recorded_digest(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    folder = setup.root / "repos" / "libs-qa" / "acme" / "1"
    folder.mkdir(parents=True)
    (folder / "app.tgz.sig").write_bytes(b"by hand")
    detail = refused(setup, Request("acme", "1", "qa"), "target")
    assert (
        "libs-qa/acme/1/app.tgz.sig already holds other bytes (bytes of no recorded sha256)"
        in detail
    )


def test_too_few_approvals(setup: Setup, relman_home: Path) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.world.copy(build, "dev", "qa")
    setup.world.record(build, "qa", "dev")
    atomic_write(
        relman_home / "config" / "policy.toml",
        b"[profiles.acme.environments.prod]\napprovals = 2\n",
    )
    engine = setup.engine()
    engine.approve(engine.plan(Request("acme", "1", "prod")), setup.approver("ben"))
    detail = refused(setup, Request("acme", "1", "prod"), "approvals")
    assert detail.startswith("1 of 2 required approvals (rm-ben (SHA256:")
    assert "relman approve --profile acme --build acme/1 --to prod --key NAME" in detail


def test_self_approval_does_not_count(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    setup.world.copy(build, "dev", "qa")
    setup.world.record(build, "qa", "dev")
    engine = setup.engine()
    engine.approve(engine.plan(Request("acme", "1", "prod")), setup.anna)
    detail = refused(setup, Request("acme", "1", "prod"), "approvals")
    assert "is the promoter's own key (no self-approval)" in detail


def test_untraceable_build(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"}, commit=None)
    detail = refused(setup, Request("acme", "1", "qa"), "identity")
    assert detail == "acme/1: the build has no identity: no commit"


def test_the_promoter_key(setup: Setup, relman_home: Path) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    stranger = promoter("mallory", ed25519.Ed25519PrivateKey.generate())
    detail = refused(setup, Request("acme", "1", "qa"), "promoter", engine=setup.engine(stranger))
    assert "key mallory (SHA256:" in detail and "is not in the trust store" in detail
    atomic_write(
        relman_home / "config" / "policy.toml",
        b'[profiles.acme.environments.qa]\npromoters = ["rm-ben"]\n',
    )
    detail = refused(setup, Request("acme", "1", "qa"), "promoter")
    assert detail.startswith("the policy for qa lets rm-ben promote; key rm-anna (SHA256:")
    from relman.release.promotion import Engine

    keyless = Engine(setup.registry, setup.profile, log=setup.log)
    result = keyless.preflight(keyless.plan(Request("acme", "1", "qa")))
    assert [c.name for c in result.failed] == ["promoter"]
    assert result.failed[0].detail.startswith("no promoter key")
    with pytest.raises(PromotionRefused):
        keyless.execute(keyless.plan(Request("acme", "1", "qa")))


def test_a_backend_that_cannot_copy_or_set_properties(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    bare = Faulty(setup.registry, capabilities=Capabilities(name="a bare server"))
    detail = refused(
        setup, Request("acme", "1", "qa"), "writes", engine=setup.engine(registry=bare)
    )
    assert detail.startswith("a bare server cannot copy libs-dev/acme/1/app.tgz to libs-qa/")
    setup.world.copy(build, "dev", "qa")
    setup.world.record(build, "qa", "dev")
    detail = refused(
        setup,
        Request("acme", "1", "prod"),
        "writes",
        "approvals",
        engine=setup.engine(registry=bare),
    )
    assert "a bare server cannot set properties on libs-qa/acme/1/app.tgz" in detail


def test_a_write_the_backend_refuses_in_its_dry_run(setup: Setup) -> None:
    from relman.registry.base import Conflict

    setup.world.build("acme", 1, {"app.tgz": b"app"})

    class Picky(Faulty):
        def copy(self, src, dst, **kwargs):
            if dst.path.endswith(".sig"):
                raise Conflict(f"{dst}: the server refuses signatures in this repository")
            return self.inner.copy(src, dst, **kwargs)

    detail = refused(
        setup,
        Request("acme", "1", "qa"),
        "writes",
        engine=setup.engine(registry=Picky(setup.registry)),
    )
    assert detail == "libs-qa/acme/1/app.tgz.sig: the server refuses signatures in this repository"


def test_first_environment_and_unknown_names(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    detail = refused(setup, Request("acme", "1", "dev"), "environment-order", "bytes", "signatures")
    assert detail.startswith("dev is the first environment: builds arrive there by deployment")
    assert "app.tgz: not in dev, so there are no bytes to promote" in detail
    engine = setup.engine()
    with pytest.raises(UsageError, match="'uat' is not an environment of profile acme"):
        engine.plan(Request("acme", "1", "uat"))
    with pytest.raises(NotFound, match="no build acme/9"):
        engine.plan(Request("acme", "9", "qa"))
    with pytest.raises(NotFound):
        engine.plan(Request("nothing", "1", "qa"))
    with pytest.raises(NotFound, match="no build acme/9"):
        engine.plan(Request("acme", "9", "qa", rollback=True))


def test_an_artifact_without_a_recorded_digest(setup: Setup) -> None:
    build = setup.world.build("acme", 1, {"app.tgz": b"app"})
    meta_path = setup.root / ".relman" / "items" / "libs-dev" / "acme" / "1" / "app.tgz.json"
    meta = json.loads(meta_path.read_bytes())
    meta["checksums"] = {}
    atomic_write(meta_path, storage.json_bytes(meta))
    detail = refused(setup, Request("acme", "1", "qa"), "bytes", "signatures", "build-once")
    assert "app.tgz: the registry records no sha256 for libs-dev/acme/1/app.tgz" in detail
    assert build.artifacts[0].sha256


def test_the_build_record_without_a_digest(setup: Setup) -> None:
    from relman.registry import buildinfo

    setup.world.build("acme", 1, {"app.tgz": b"app"})
    record = setup.registry.build_record("acme", "1")
    doc = json.loads(record.raw)
    for module in doc["modules"]:
        for artifact in module["artifacts"]:
            del artifact["sha256"]
    path = setup.root / ".relman" / "builds" / "acme" / "1.json"
    atomic_write(path, json.dumps(doc).encode())
    assert buildinfo.parse(path.read_bytes()).artifacts[0].sha256 is None
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "qa"))
    result = engine.preflight(plan)
    assert "app.tgz: the build record gives no sha256" in result.checks[4].detail
    with pytest.raises(UsageError, match="gives no sha256 for app.tgz"):
        engine.approve(plan, setup.approver("ben"))


def test_a_download_that_fails_and_bytes_that_differ(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})

    class Lying(Faulty):
        def download(self, repo, path, dest, **kwargs):
            digests = self.inner.download(repo, path, dest, **kwargs)
            from dataclasses import replace

            return replace(digests, sha256="0" * 64)

    detail = refused(
        setup,
        Request("acme", "1", "qa"),
        "bytes",
        "signatures",
        engine=setup.engine(registry=Lying(setup.registry)),
    )
    assert "the bytes of libs-dev/acme/1/app.tgz have sha256 000000" in detail

    class Broken(Faulty):
        def sidecars(self, repo, path):
            raise NotFound(f"{repo}/{path}: gone")

        def approvals(self, name, number):
            raise NotFound("approvals: gone")

    engine = setup.engine(registry=Broken(setup.registry))
    result = engine.preflight(engine.plan(Request("acme", "1", "qa")))
    failed = {c.name: c.detail for c in result.failed}
    assert failed["writes"] == (
        "the files beside libs-dev/acme/1/app.tgz cannot be listed: libs-dev/acme/1/app.tgz: gone"
    )
    assert failed["signatures"] == "app.tgz: libs-dev/acme/1/app.tgz: gone"
    assert failed["approvals"] == "the approvals cannot be read: approvals: gone"


def test_the_plan_changed_before_execution(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "qa"))
    setup.registry.copy(
        RepoPath("libs-dev", "acme/1/app.tgz"), RepoPath("libs-qa", "acme/1/app.tgz")
    )
    before = snapshot(setup.root)
    with pytest.raises(PromotionRefused, match="the registry changed since the plan"):
        engine.execute(plan)
    assert snapshot(setup.root) == before


def test_cancel(setup: Setup) -> None:
    setup.world.build("acme", 1, {"app.tgz": b"app"})
    engine = setup.engine()
    plan = engine.plan(Request("acme", "1", "qa"))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        engine.preflight(plan, cancel=token)
    with pytest.raises(Cancelled):
        engine.execute(plan, cancel=token)
    token = CancelToken()
    calls = []

    def cancel_after_checks(check) -> None:
        calls.append(check.name)
        if check.name == "approvals":
            token.cancel()

    before = snapshot(setup.root)
    with pytest.raises(Cancelled):
        engine.execute(plan, on_check=cancel_after_checks, cancel=token)
    assert calls == list(CHECKS) and snapshot(setup.root) == before


def test_policy_and_context_default_to_the_config(setup: Setup) -> None:
    from relman.release.promotion import Engine

    engine = Engine(setup.registry, setup.profile, promoter=setup.anna)
    assert engine.policy == load_policy(setup.profile)
    assert {k.name for k in engine.context.keys} == {"ci", "rm-anna", "rm-ben", "rm-chen"}
    assert engine.log.path == setup.home / "data" / "audit.jsonl"


def test_signatures_over_other_digests_are_checked_on_the_bytes(setup: Setup) -> None:
    """A cosign signature with a P-384 key is over the SHA-384, which the download does not
    compute: preflight hashes the downloaded file again for it."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from relman.verify import truststore
    from tests.unit.release.lineage_support import cosign
    from tests.unit.release.promotion_support import pem

    big = ec.generate_private_key(ec.SECP384R1())
    truststore.add("ci-384", pem(big), origin="test")
    setup.world.build("acme", 1, {"app.tgz": b"app"}, sign=False)
    setup.registry.deploy("libs-dev", "acme/1/app.tgz.sig", cosign(big, b"app"))
    engine = setup.engine()
    result = engine.preflight(engine.plan(Request("acme", "1", "qa")))
    assert result.ok, result.failed
    assert "signed by ci-384 (SHA256:" in result.checks[5].detail
