"""relman promote / approve / policy show: the guarded promotion from the command line, with
signing keys in the real Secret Service (a private D-Bus session, see tests/keyring_support)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relman import settings
from relman.model import Profile
from relman.release.audit import AuditLog
from relman.release.execution import Executor
from relman.release.promotion import CHECKS, Engine, Promoter, PromotionInterrupted, Request
from relman.verify import truststore
from tests.keyring_support import needs_keyring
from tests.unit.release.lineage_support import ENVIRONMENTS, World
from tests.unit.release.promotion_support import PROD, Faulty, pem, snapshot

PROMOTE = ("promote", "--profile", "acme", "--build", "acme/1")


def with_keyring(test):
    for mark in needs_keyring:
        test = mark(test)
    return test


@pytest.fixture
def world(tmp_path: Path) -> World:
    world = World.create(tmp_path / "registry")
    settings.add_profile(
        Profile("acme", "local", str(world.registry.root), environments=ENVIRONMENTS)
    )
    truststore.add("ci", pem(world.ci), origin="ci.pem")
    world.build("acme", 1, {"app.tgz": b"app", "lib.jar": b"lib"})
    return world


@pytest.fixture
def keys(relman_cli, world: World, tmp_path: Path) -> World:
    """rm-anna (promoter) and rm-ben (approver): generated in the keyring, trusted."""
    for name in ("rm-anna", "rm-ben"):
        assert relman_cli("keys", "generate", name).code == 0
        public = tmp_path / f"{name}.pem"
        public.write_text(relman_cli("keys", "export", name).out)
        assert relman_cli("trust", "add", name, public).code == 0
    return world


@with_keyring
def test_dry_run_json_writes_nothing(relman_cli, keys: World) -> None:
    before = snapshot(keys.registry.root)
    run = relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna", "--dry-run", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["ok"] is True and doc["executed"] is False
    assert (doc["plan"]["build"], doc["plan"]["from"], doc["plan"]["to"]) == ("acme/1", "dev", "qa")
    assert [w["action"] for w in doc["plan"]["writes"]] == ["copy"] * 4 + [
        "build-status",
        "put-record",
    ]
    assert doc["plan"]["writes"][0]["target"] == "libs-qa/acme/1/app.tgz"
    assert doc["plan"]["writes"][-2] == {
        "action": "build-status",
        "target": "build acme/1",
        "detail": "status qa",
    }
    assert [c["name"] for c in doc["checks"]] == list(CHECKS)
    assert all(set(c) == {"name", "ok", "detail"} and c["ok"] for c in doc["checks"])
    assert snapshot(keys.registry.root) == before
    assert not AuditLog().path.exists()


@with_keyring
def test_promote_approve_promote(relman_cli, keys: World) -> None:
    run = relman_cli(*PROMOTE, "--to", "qa", "--yes")  # the only key? no: two; --key is needed
    assert run.code == 1 and "FAIL  promoter" in run.out and "no promoter key" in run.out
    run = relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna", "--yes")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("promote acme/1 (") and lines[0].endswith(" from dev to qa")
    assert "checks:" in lines and any(ln.startswith("  ok    bytes") for ln in lines)
    assert "writes (dry run, nothing written):" in lines
    assert "  would build-status build acme/1: status qa" in lines
    assert "promoted acme/1 to qa: 6 writes" in lines
    assert "  build-status build acme/1: status qa" in lines
    assert any("2 artifacts read back from qa" in ln for ln in lines)
    assert lines[-1].startswith("  record sha256 ") and lines[-1].endswith("(audit entries 1, 2)")

    before = snapshot(keys.registry.root)
    run = relman_cli(*PROMOTE, "--to", "prod", "--key", "rm-anna", "--yes")
    assert run.code == 1
    assert "  FAIL  approvals          0 of 1 required approvals (none)" in run.out
    assert run.out.splitlines()[-1] == "refused: 1 of 10 checks failed (approvals)"
    assert snapshot(keys.registry.root) == before

    run = relman_cli(
        "approve", "--profile", "acme", "--build", "acme/1", "--to", "prod", "--key", "rm-anna"
    )
    assert run.code == 0 and "approved by rm-anna: plan " in run.out  # counts nowhere: self
    run = relman_cli(
        "approve",
        "--profile",
        "acme",
        "--build",
        "acme/1",
        "--to",
        "prod",
        "--key",
        "rm-ben",
        "--json",
    )
    assert run.code == 0, run.err
    approval = json.loads(run.out)
    assert approval["ok"] and approval["trusted_here"] is True
    assert approval["stored"].startswith("approvals/acme/1/prod/")

    run = relman_cli(*PROMOTE, "--to", "prod", "--key", "rm-anna", "--yes", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["ok"] is True and doc["executed"] is True
    approvals = next(c for c in doc["checks"] if c["name"] == "approvals")["detail"]
    assert approvals.startswith("1 of 1 required approvals (rm-ben (SHA256:")
    assert "rm-anna (SHA256:" in approvals and "no self-approval" in approvals
    outcome = doc["outcome"]
    assert outcome["readback"]["ok"] and outcome["audit"] == {"intent": 5, "outcome": 6}
    assert outcome["record"]["payloadType"] == "application/vnd.in-toto+json"
    assert keys.registry.properties("libs-qa", "acme/1/app.tgz")[PROD] == ("prod",)

    assert relman_cli("lineage", "--profile", "acme", "--build", "acme/1").code == 0
    run = relman_cli("audit", "verify", "--json")
    assert run.code == 0 and json.loads(run.out)["entries"] == 6


@with_keyring
def test_confirmation(relman_cli, keys: World, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(keys.registry.root)
    run = relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna")
    assert run.code == 2
    assert run.err == "relman: not confirmed: standard input is not a terminal; add --yes\n"
    assert snapshot(keys.registry.root) == before
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: answers.append(prompt) or "n")
    run = relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna")
    assert run.code == 1 and run.err == "relman: not confirmed; nothing was written\n"
    assert answers == ["promote acme/1 to qa? [y/N] "]
    assert snapshot(keys.registry.root) == before
    monkeypatch.setattr("builtins.input", lambda prompt: answers.append(prompt) or "Y")
    assert relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna").code == 0
    relman_cli(
        "approve", "--profile", "acme", "--build", "acme/1", "--to", "prod", "--key", "rm-ben"
    )
    identity = str(keys.registry.build_record("acme", "1").identity)
    monkeypatch.setattr("builtins.input", lambda prompt: answers.append(prompt) or "yes")
    assert relman_cli(*PROMOTE, "--to", "prod", "--key", "rm-anna").code == 1
    assert answers[-1] == f"type the build identity {identity} to promote it to prod: "
    monkeypatch.setattr("builtins.input", lambda prompt: identity)
    assert relman_cli(*PROMOTE, "--to", "prod", "--key", "rm-anna").code == 0


@with_keyring
def test_resume_and_undo(relman_cli, keys: World) -> None:
    profile = settings.get_profile("acme")
    anna = Promoter.from_keystore("rm-anna")
    for fail_at in (2, 3):
        engine = Engine(Faulty(keys.registry, fail_at=fail_at), profile, promoter=anna)
        with pytest.raises(PromotionInterrupted):
            engine.execute(engine.plan(Request("acme", "1", "qa")))
        if fail_at == 2:
            # nothing starts again before the interrupted one is dealt with (half of it is in qa)
            engine = Engine(keys.registry, profile, promoter=anna)
            assert [
                c.name for c in engine.preflight(engine.plan(Request("acme", "1", "qa"))).failed
            ] == ["interrupted", "environment-order"]
            relman_cli("promote", "--profile", "acme", "--undo", "--key", "rm-anna", "--yes")
    run = relman_cli("promote", "--profile", "acme", "--resume", "--key", "rm-anna", "--yes")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "resume acme/1 to qa (audit entry 3): 5 planned writes"
    assert "resumed: 4 writes" in run.out
    run = relman_cli("promote", "--profile", "acme", "--resume", "--key", "rm-anna", "--yes")
    assert run.code == 2 and "no interrupted promotion in profile acme to act on" in run.err
    entries = AuditLog().entries()
    assert [(e.event, e.body.get("result")) for e in entries] == [
        ("promotion-intent", None),
        ("promotion-outcome", "undone"),
        ("promotion-intent", None),
        ("promotion-outcome", "done"),
    ]


@with_keyring
def test_several_interrupted_and_undo_json(relman_cli, keys: World) -> None:
    keys.build("other", 1, {"o.bin": b"o"})
    profile = settings.get_profile("acme")
    anna = Promoter.from_keystore("rm-anna")
    # Two promotions checked at the same moment (two processes): both pass, both stop midway.
    engines = [Engine(Faulty(keys.registry, fail_at=2), profile, promoter=anna) for _ in "ab"]
    plans = [
        e.plan(Request(name, "1", "qa")) for e, name in zip(engines, ("acme", "other"), strict=True)
    ]
    results = [e.preflight(p) for e, p in zip(engines, plans, strict=True)]
    for engine, plan, result in zip(engines, plans, results, strict=True):
        with pytest.raises(PromotionInterrupted):
            Executor(engine.registry, profile, engine.log, anna).run(plan, result)
    run = relman_cli("promote", "--profile", "acme", "--undo", "--key", "rm-anna", "--yes")
    assert (
        run.code == 2
        and "several interrupted promotions (acme/1 to qa (audit entry 1); other/1" in run.err
    )
    run = relman_cli(
        "promote",
        "--profile",
        "acme",
        "--undo",
        "--build",
        "other/1",
        "--to",
        "qa",
        "--key",
        "rm-anna",
        "--yes",
        "--json",
    )
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["ok"] and doc["undone"] == 2 and [w["action"] for w in doc["writes"]] == ["delete"]
    run = relman_cli(
        "promote", "--profile", "acme", "--resume", "--key", "rm-anna", "--yes", "--json"
    )
    doc = json.loads(run.out)
    assert doc["resumed"] == 1 and doc["readback"]["ok"]


@with_keyring
def test_rollback_from_the_command_line(relman_cli, keys: World) -> None:
    from tests.unit.release.lineage_support import commit_of

    keys.build("acme", 2, {"app.tgz": b"two"}, commit=commit_of("two"), hours=1)
    for number in ("1", "2"):
        run = relman_cli(
            "promote",
            "--profile",
            "acme",
            "--build",
            f"acme/{number}",
            "--to",
            "qa",
            "--key",
            "rm-anna",
            "--yes",
        )
        assert run.code == 0, run.err
    run = relman_cli(*PROMOTE, "--to", "qa", "--rollback", "--key", "rm-anna", "--yes")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0].startswith("roll back acme/1 (")
    assert "  replaces acme/2 in qa" in run.out
    assert {loc.path for loc in keys.registry.items("libs-qa")} == {
        "acme/1/app.tgz",
        "acme/1/app.tgz.sig",
        "acme/1/lib.jar",
        "acme/1/lib.jar.sig",
    }


@with_keyring
def test_the_only_key_is_the_default(relman_cli, world: World, tmp_path: Path) -> None:
    run = relman_cli(*PROMOTE, "--to", "qa", "--dry-run")
    assert run.code == 1 and "no promoter key" in run.out
    assert relman_cli("keys", "generate", "solo").code == 0
    public = tmp_path / "solo.pem"
    public.write_text(relman_cli("keys", "export", "solo").out)
    relman_cli("trust", "add", "solo", public)
    before = snapshot(world.registry.root)
    run = relman_cli(*PROMOTE, "--to", "qa", "--dry-run")
    assert run.code == 0 and "solo (SHA256:" in run.out
    writes = run.out.split("writes (dry run, nothing written):\n", 1)[1].splitlines()
    assert writes[4:6] == [
        "  would build-status build acme/1: status qa",
        "  would put-record records/acme/1/qa.dsse.json: the signed promotion record",
    ]
    assert snapshot(world.registry.root) == before
    assert world.registry.build_record("acme", "1").statuses == ()
    assert run.out.splitlines()[-1] == "every check passed; run without --dry-run to promote"


def test_policy_show(relman_cli, world: World, relman_home: Path) -> None:
    run = relman_cli("policy", "show", "--profile", "acme")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        f"promotion policy of profile acme, defaults ({relman_home}/config/policy.toml has no rules)",
        "  dev   first environment: builds arrive by deployment",
        "  qa    from dev; a trusted signature required; no approval; promoters: any trusted key",
        "  prod  from qa; a trusted signature required; 1 approval; promoters: any trusted key",
        "a build moves one environment at a time; a rollback is explicit (promote --rollback)",
    ]
    (relman_home / "config" / "policy.toml").write_text(
        '[profiles.acme.environments.prod]\napprovals = 2\npromoters = ["rm-anna"]\n'
    )
    run = relman_cli("policy", "show", "--profile", "acme", "--json")
    doc = json.loads(run.out)
    assert doc["ok"] and doc["environments"][2] == {
        "name": "prod",
        "from": "qa",
        "require_signature": True,
        "approvals": 2,
        "promoters": ["rm-anna"],
        "configured": True,
    }
    run = relman_cli("policy", "show", "--profile", "acme")
    assert run.out.startswith(
        f"promotion policy of profile acme, from {relman_home}/config/policy.toml"
    )
    assert (
        "  prod  from qa; a trusted signature required; 2 approvals; promoters: rm-anna" in run.out
    )
    (relman_home / "config" / "policy.toml").write_text("[profiles.acme.environments.uat]\n")
    run = relman_cli("policy", "show", "--profile", "acme")
    assert run.code == 2 and run.err.count("\n") == 1
    assert "'uat' is not one of the profile's environments (dev, qa, prod)" in run.err
    settings.add_profile(Profile("bare", "local", str(world.registry.root)))
    assert (
        "  the profile has no environments" in relman_cli("policy", "show", "--profile", "bare").out
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["promote", "--profile", "acme", "--build", "acme", "--to", "qa"],
            "--build 'acme': expected NAME/NUMBER",
        ),
        (
            ["promote", "--profile", "acme", "--build", "acme/1"],
            "--build NAME/NUMBER and --to ENV are required",
        ),
        (
            ["promote", "--profile", "nobody", "--build", "a/1", "--to", "qa"],
            "no profile named 'nobody'",
        ),
        (
            ["promote", "--profile", "acme", "--build", "acme/1", "--to", "uat"],
            "'uat' is not an environment of profile acme",
        ),
        (["promote", "--profile", "acme", "--build", "acme/7", "--to", "qa"], "no build acme/7"),
        (
            ["promote", "--profile", "acme", "--build", "a/1", "--to", "qa", "--key", "who"],
            "no signing key named 'who'",
        ),
        (["promote", "--profile", "acme", "--resume", "--undo"], "not allowed with argument"),
        (
            ["promote", "--profile", "remote", "--build", "a/1", "--to", "qa"],
            "the Nexus backend is not supported yet",
        ),
        (
            ["approve", "--profile", "acme", "--build", "acme/1", "--to", "qa"],
            "the following arguments are required: --key",
        ),
    ],
)
def test_bad_usage(relman_cli, world: World, args: list[str], message: str) -> None:
    settings.add_profile(Profile("remote", "nexus", "https://nexus.example.com"))
    run = relman_cli(*args)
    assert run.code == 2, run.out
    assert message in run.err and run.err.count("\n") == 1 and "Traceback" not in run.err


@with_keyring
def test_an_approval_by_a_key_not_trusted_here(relman_cli, world: World) -> None:
    assert relman_cli("keys", "generate", "rm-carol").code == 0
    run = relman_cli(
        "approve", "--profile", "acme", "--build", "acme/1", "--to", "qa", "--key", "rm-carol"
    )
    assert run.code == 0, run.err
    assert run.out.splitlines()[-1] == (
        "  note: rm-carol is not in this machine's trust store; the approval counts where the "
        "promoter trusts it"
    )
    [(target, _)] = world.registry.approvals("acme", "1")
    assert target == "qa"
    assert [e.event for e in AuditLog().entries()] == ["approval"]


@with_keyring
def test_approve_shows_the_checks_and_refuses_what_cannot_be_promoted(
    relman_cli, keys: World
) -> None:
    assert relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna", "--yes").code == 0
    approve = ("approve", "--profile", "acme", "--build", "acme/1", "--to", "prod")
    (keys.registry.root / "repos" / "libs-qa" / "acme" / "1" / "app.tgz").write_bytes(b"evil")
    before = snapshot(keys.registry.root)
    run = relman_cli(*approve, "--key", "rm-ben")
    assert run.code == 1, run.err
    assert "  FAIL  bytes" in run.out
    assert run.out.splitlines()[-1].startswith("not approved: ")
    assert "(bytes, signatures); nothing was written" in run.out.splitlines()[-1]
    run = relman_cli(*approve, "--key", "rm-ben", "--json")
    doc = json.loads(run.out)
    assert run.code == 1 and doc["ok"] is False and doc["executed"] is False
    assert {c["name"] for c in doc["checks"] if not c["ok"]} >= {"bytes", "approvals"}
    assert snapshot(keys.registry.root) == before
    assert keys.registry.approvals("acme", "1") == []


@with_keyring
def test_yes_checks_once_so_every_artifact_is_downloaded_once(
    relman_cli, keys: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman.registry.local import LocalRegistry

    downloads: list[str] = []
    real = LocalRegistry.download

    def counting(self: LocalRegistry, repo: str, path: str, *args: Any, **kwargs: Any) -> Any:
        downloads.append(f"{repo}/{path}")
        return real(self, repo, path, *args, **kwargs)

    monkeypatch.setattr(LocalRegistry, "download", counting)
    run = relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna", "--yes")
    assert run.code == 0, run.err
    artifacts = {"libs-dev/acme/1/app.tgz", "libs-dev/acme/1/lib.jar"}
    checked = [d for d in downloads if d in artifacts]
    assert sorted(checked) == sorted(artifacts)  # once each (then the read-back reads qa)
    lines = run.out.splitlines()
    assert lines.index("writes (dry run, nothing written):") < lines.index("checks:")
    assert "promoted acme/1 to qa: 6 writes" in lines
    # Refused with --yes: the same report as without it, nothing written.
    before = snapshot(keys.registry.root)
    run = relman_cli(*PROMOTE, "--to", "prod", "--key", "rm-anna", "--yes", "--json")
    doc = json.loads(run.out)
    assert run.code == 1 and doc["ok"] is False and doc["executed"] is False
    assert [c["name"] for c in doc["checks"] if not c["ok"]] == ["approvals"]
    assert snapshot(keys.registry.root) == before


@with_keyring
def test_json_without_yes_asks_and_a_plan_overtaken_is_one_line(
    relman_cli, keys: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman.release.promotion import Engine, PromotionRefused

    run = relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna", "--json")
    assert run.code == 2 and "not confirmed: standard input is not a terminal" in run.err

    def overtaken(self: Engine, plan: Any, **kwargs: Any) -> Any:
        raise PromotionRefused("the registry changed since the plan was made; nothing written")

    monkeypatch.setattr(Engine, "execute", overtaken)
    run = relman_cli(*PROMOTE, "--to", "qa", "--key", "rm-anna", "--yes")
    assert run.code == 1 and run.err.strip().endswith("nothing written")
    assert len(run.err.strip().splitlines()) == 1
