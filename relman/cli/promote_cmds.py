"""``relman promote``, ``relman approve`` and ``relman policy show``: the guarded promotion.

``promote`` plans, runs every check (printed as each finishes), and writes only when all of
them pass and the operator confirmed (``--yes``, or an answer on a terminal: for the last
environment, the build identity typed out). ``--dry-run`` prints the plan, the exact registry
writes and the checks, and writes nothing. ``--resume``/``--undo`` finish or revert a
promotion the audit log shows interrupted; ``--rollback`` returns an environment to an earlier
build, planned and checked like a promotion.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from relman.cli.common import Parser, print_json
from relman.errors import EXIT_FAILED

if TYPE_CHECKING:
    from relman.model import Profile
    from relman.registry.base import Registry
    from relman.release.audit import Entry
    from relman.release.promotion import Check, Engine, Outcome, Plan, Preflight, Promoter

_EPILOG = "exit status: 0 promoted (or a dry run whose checks all pass), 1 refused, 2 bad usage"


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``promote``, ``approve`` and ``policy`` to the top-level parser."""
    p = sub.add_parser(
        "promote",
        help="promote a build into the next environment, after every check has passed",
        description=(
            "Promote a build from the environment it is in to the next one of the profile. "
            "Before anything is written every check runs: traceable identity, environment "
            "order, the promoter's key, every artifact downloaded again and re-hashed, "
            "signatures against trusted keys, no rebuilt or overwritten artifact, nothing else "
            "at the target paths, the writes the registry can make, approvals. Only when all "
            "pass are the writes made; the registry is then read back and a promotion record, "
            "signed with the promoter's key, is stored in the registry and the audit log."
        ),
        epilog=_EPILOG,
    )
    p.add_argument("--profile", required=True, help="registry profile (relman profile list)")
    p.add_argument("--build", metavar="NAME/NUMBER", help="the build to promote")
    p.add_argument("--to", metavar="ENV", help="the environment to promote it into")
    p.add_argument("--key", metavar="NAME", help="the signing key (default: the only one)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and checks only")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--rollback",
        action="store_true",
        help="return --to to the earlier build --build (newer builds leave it)",
    )
    mode.add_argument(
        "--resume", action="store_true", help="finish a promotion the audit log shows interrupted"
    )
    mode.add_argument(
        "--undo", action="store_true", help="revert a promotion the audit log shows interrupted"
    )
    p.set_defaults(handler=cmd_promote)

    a = sub.add_parser(
        "approve",
        help="approve a promotion: sign its plan with your key",
        description=(
            "Compute the plan of a promotion exactly as 'relman promote' does and sign its "
            "digest with your key; the approval is stored in the registry beside the build. "
            "It counts towards the approvals the policy requires when your key is trusted and "
            "is not the promoter's."
        ),
        epilog="exit status: 0 approved, 1 the key cannot sign, 2 bad usage",
    )
    a.add_argument("--profile", required=True, help="registry profile (relman profile list)")
    a.add_argument("--build", required=True, metavar="NAME/NUMBER", help="the build")
    a.add_argument("--to", required=True, metavar="ENV", help="the target environment")
    a.add_argument("--key", required=True, metavar="NAME", help="your signing key")
    a.add_argument("--rollback", action="store_true", help="approve the rollback plan instead")
    a.add_argument("--json", action="store_true", help="print the result as JSON")
    a.set_defaults(handler=cmd_approve)

    pol = sub.add_parser("policy", help="the promotion policy of a profile")
    pol_sub = pol.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    show = pol_sub.add_parser(
        "show",
        help="print the rules of each environment",
        description="Print the promotion rules of each environment of a profile, from "
        "policy.toml in the config dir or the defaults.",
    )
    show.add_argument("--profile", required=True, help="registry profile")
    show.add_argument("--json", action="store_true", help="print the policy as JSON")
    show.set_defaults(handler=cmd_policy_show)


# -- promote -------------------------------------------------------------------------------


def cmd_promote(args: argparse.Namespace) -> int:
    from relman.errors import UsageError
    from relman.release.promotion import Engine, Request

    profile, registry = _open(args.profile)
    engine = Engine(registry, profile, promoter=_promoter(args.key))
    if args.resume or args.undo:
        return _recover(engine, args)
    if args.build is None or args.to is None:
        raise UsageError("relman promote: --build NAME/NUMBER and --to ENV are required")
    name, number = split_build(args.build)
    plan = engine.plan(Request(name, number, args.to, rollback=args.rollback))
    if not args.json:
        _print_plan(plan)
    if args.yes and not args.dry_run:
        return _promote_at_once(engine, plan, args.json)
    if not args.json:
        print("checks:")
    result = engine.preflight(plan, on_check=None if args.json else _print_check)
    if args.dry_run or not result.ok:
        if args.json:
            print_json(_document(plan, result, None))
        else:
            _print_writes(plan, dry_run=True)
            _print_verdict(result, dry_run=args.dry_run)
        return 0 if result.ok else 1
    if not args.json:
        _print_writes(plan, dry_run=True)
    _confirm(plan, engine, args.yes)
    outcome = engine.execute(plan)
    return _report(plan, result, outcome, args.json)


def _promote_at_once(engine: Engine, plan: Plan, as_json: bool) -> int:
    """``--yes``: nobody confirms between the checks and the writes, so the checks run once,
    inside :meth:`Engine.execute` (which always checks again before it writes), instead of a
    pass for display that would download every artifact a second time."""
    from relman.release.preflight import Preflight
    from relman.release.promotion import PromotionRefused

    if not as_json:
        _print_writes(plan, dry_run=True)
        print("checks:")
    try:
        outcome = engine.execute(plan, on_check=None if as_json else _print_check)
    except PromotionRefused as exc:
        if not exc.checks:  # the registry changed since the plan: one line, exit 1
            raise
        result = Preflight(exc.checks)
        if as_json:
            print_json(_document(plan, result, None))
        else:
            _print_verdict(result, dry_run=False)
        return 1
    return _report(plan, Preflight(outcome.checks), outcome, as_json)


def _report(plan: Plan, result: Preflight, outcome: Outcome, as_json: bool) -> int:
    if as_json:
        print_json(_document(plan, result, outcome.to_json()))
        return 0
    print(f"promoted {plan.build} to {plan.target}: {len(outcome.writes)} writes")
    for write in outcome.writes:
        print(f"  {write}")
    print(f"  {outcome.readback.detail}")
    audit = f"audit entries {outcome.intent}, {outcome.outcome}"
    print(f"  record sha256 {outcome.record_sha256} ({audit})")
    return 0


def _recover(engine: Engine, args: argparse.Namespace) -> int:
    """``--resume`` / ``--undo`` of the one interrupted promotion (``--build``/``--to``
    choose among several)."""
    from relman.errors import UsageError
    from relman.release.promotion import Steps

    pending = engine.interrupted()
    if args.build is not None:
        pending = [e for e in pending if e.body.get("build") == args.build]
    if args.to is not None:
        pending = [e for e in pending if e.body.get("to") == args.to]
    if not pending:
        raise UsageError(f"no interrupted promotion in profile {engine.profile.name} to act on")
    if len(pending) > 1:
        listed = "; ".join(_describe_intent(e) for e in pending)
        raise UsageError(f"several interrupted promotions ({listed}): choose with --build and --to")
    entry = pending[0]
    steps = Steps.from_intent(entry)
    action = "resume" if args.resume else "undo"
    if not args.json:
        print(f"{action} {_describe_intent(entry)}: {len(steps.operations)} planned writes")
    _ask(
        f"{action} the promotion of {steps.request.build} to {steps.request.target}? [y/N] ",
        ("y", "yes"),
        args.yes,
    )
    if args.resume:
        outcome = engine.resume(entry)
        document = {"ok": True, "resumed": entry.seq, **outcome.to_json()}
        text = [f"resumed: {len(outcome.writes)} writes", outcome.readback.detail]
        text.append(f"record sha256 {outcome.record_sha256}")
    else:
        undone = engine.undo(entry)
        document = {"ok": True, "undone": entry.seq, **undone.to_json()}
        text = [f"undone: {len(undone.writes)} writes", *undone.notes]
    if args.json:
        print_json(document)
    else:
        print("\n  ".join(text))
    return 0


def _describe_intent(entry: Entry) -> str:
    return (
        f"{entry.body.get('build', '?')} to {entry.body.get('to', '?')} (audit entry {entry.seq})"
    )


def _confirm(plan: Plan, engine: Engine, yes: bool) -> None:
    if plan.identity is not None and engine.policy.is_last(plan.target):
        prompt = f"type the build identity {plan.identity} to promote it to {plan.target}: "
        _ask(prompt, (plan.identity,), yes)
    else:
        _ask(f"promote {plan.build} to {plan.target}? [y/N] ", ("y", "yes"), yes)


def _ask(prompt: str, accepted: tuple[str, ...], yes: bool) -> None:
    from relman.errors import UsageError, VerificationError

    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("not confirmed: standard input is not a terminal; add --yes")
    answer = input(prompt).strip()
    if answer.lower() not in accepted and answer not in accepted:
        raise VerificationError("not confirmed; nothing was written")


def _print_plan(plan: Plan) -> None:
    print(plan.summary())
    if plan.replaces:
        print(f"  replaces {', '.join(plan.replaces)} in {plan.target}")
    print(f"  plan {plan.digest} on {plan.registry}")
    for art in plan.artifacts:
        sha = f"sha256 {art.sha256}" if art.sha256 else "no sha256"
        where = f"{art.source} -> {art.target}" if art.source is not None else "not found"
        print(f"  {art.name}  {sha}  {where}")


def _print_check(check: Check) -> None:
    print(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name:<17}  {check.detail}", flush=True)


def _print_writes(plan: Plan, *, dry_run: bool) -> None:
    print("writes (dry run, nothing written):" if dry_run else "writes:")
    for write in plan.writes:
        print(f"  {write}")


def _print_verdict(result: Preflight, *, dry_run: bool) -> None:
    if result.ok:
        print("every check passed" + ("; run without --dry-run to promote" if dry_run else ""))
        return
    names = ", ".join(c.name for c in result.failed)
    print(f"refused: {len(result.failed)} of {len(result.checks)} checks failed ({names})")


def _document(plan: Plan, result: Preflight, executed: dict[str, Any] | None) -> dict[str, Any]:
    """The ``--json`` document: ``ok``, the plan with its writes, the checks."""
    doc = plan.to_json()
    document: dict[str, Any] = {
        "ok": result.ok,
        "plan": {
            "build": doc["build"],
            "from": doc["from"],
            "to": doc["to"],
            "writes": doc["writes"],
            "identity": doc["identity"],
            "rollback": doc["rollback"],
            "replaces": doc["replaces"],
            "digest": doc["digest"],
            "artifacts": doc["artifacts"],
        },
        "checks": result.to_json(),
        "executed": executed is not None,
    }
    if executed is not None:
        document["outcome"] = executed
    return document


# -- approve -------------------------------------------------------------------------------

#: Checks an approval does not wait for: they pass only when the promoter promotes.
_WAIT_FOR_PROMOTER = frozenset({"promoter", "approvals"})


def cmd_approve(args: argparse.Namespace) -> int:
    from relman.release.promotion import Engine, Promoter, Request

    profile, registry = _open(args.profile)
    approver = Promoter.from_keystore(args.key)
    engine = Engine(registry, profile)
    name, number = split_build(args.build)
    plan = engine.plan(Request(name, number, args.to, rollback=args.rollback))
    # The approver reviews what the promoter will meet: every check but the ones that wait
    # for the promoter (the promoter's key, the approvals being given now).
    result = engine.preflight(plan)
    blocking = [c for c in result.failed if c.name not in _WAIT_FOR_PROMOTER]
    if blocking:
        names = ", ".join(c.name for c in blocking)
        if args.json:
            document = _document(plan, result, None)
            document["ok"] = False
            print_json(document)
        else:
            _print_plan(plan)
            print("checks:")
            for check in result.checks:
                _print_check(check)
            print(f"not approved: {len(blocking)} checks fail ({names}); nothing was written")
        return EXIT_FAILED
    approved = engine.approve(plan, approver)
    trusted = any(k.fingerprint == approver.fingerprint for k in engine.context.keys)
    if args.json:
        print_json(
            {
                "ok": True,
                "plan": {"build": plan.build, "from": plan.source, "to": plan.target},
                "digest": plan.digest,
                "approval_sha256": approved.sha256,
                "stored": approved.write.target,
                "trusted_here": trusted,
                "checks": result.to_json(),
            }
        )
        return 0
    _print_plan(plan)
    print("checks:")
    for check in result.checks:
        _print_check(check)
    _print_writes(plan, dry_run=True)
    print(f"approved by {approver.name}: plan {plan.digest}")
    print(f"  stored as {approved.write.target}")
    if not trusted:
        print(
            f"  note: {approver.name} is not in this machine's trust store; the approval counts "
            "where the promoter trusts it"
        )
    return 0


# -- policy --------------------------------------------------------------------------------


def cmd_policy_show(args: argparse.Namespace) -> int:
    from relman import settings
    from relman.release.policy import load_policy

    profile = settings.get_profile(args.profile)
    policy = load_policy(profile)
    rules = [policy.rule(env) for env in policy.environments]
    if args.json:
        rows = [
            {
                "name": rule.environment,
                "from": policy.previous(rule.environment),
                "require_signature": rule.require_signature,
                "approvals": rule.approvals,
                "promoters": list(rule.promoters),
                "configured": rule.configured,
            }
            for rule in rules
        ]
        print_json(
            {"ok": True, "profile": profile.name, "file": str(policy.source), "environments": rows}
        )
        return 0
    configured = any(rule.configured for rule in rules)
    source = f"from {policy.source}" if configured else f"defaults ({policy.source} has no rules)"
    print(f"promotion policy of profile {profile.name}, {source}")
    if not rules:
        print("  the profile has no environments")
    width = max((len(env) for env in policy.environments), default=0)
    for rule in rules:
        before = policy.previous(rule.environment)
        if before is None:
            print(f"  {rule.environment:<{width}}  first environment: builds arrive by deployment")
        else:
            print(f"  {rule.environment:<{width}}  from {before}; {rule.describe()}")
    print("a build moves one environment at a time; a rollback is explicit (promote --rollback)")
    return 0


# -- shared --------------------------------------------------------------------------------


def split_build(text: str) -> tuple[str, str]:
    """``NAME/NUMBER`` (a build name may itself hold '/': the number is after the last)."""
    from relman.errors import UsageError

    name, sep, number = text.strip().rpartition("/")
    if not sep or not name or not number:
        raise UsageError(f"--build {text!r}: expected NAME/NUMBER (for example payments-api/12)")
    return name, number


def _open(name: str) -> tuple[Profile, Registry]:
    from relman import settings
    from relman.registry import open_registry

    profile = settings.get_profile(name)
    return profile, open_registry(profile)


def _promoter(name: str | None) -> Promoter | None:
    """``--key NAME``, or the only signing key there is (None when there are none or many)."""
    from relman import keystore
    from relman.release.promotion import Promoter

    if name is not None:
        return Promoter.from_keystore(name)
    keys = keystore.list_keys()
    return Promoter(keys[0].name, keys[0].fingerprint) if len(keys) == 1 else None
