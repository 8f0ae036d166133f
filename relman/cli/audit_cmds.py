"""``relman audit show / verify / repair`` and ``relman diff``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from relman.cli.common import Parser, print_json

if TYPE_CHECKING:
    from relman.release.anchors import AnchorReport
    from relman.release.audit import AuditLog
    from relman.release.diff import AppDiff, BuildRef, EnvDiff


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``audit`` and ``diff`` to the top-level parser."""
    audit = sub.add_parser(
        "audit",
        help="the local audit log and its hash chain",
        description=(
            "The audit log in the data dir: one signed JSON line per event (promotion intents "
            "and outcomes, approvals, rollbacks), each holding the SHA-256 of the line before. "
            "'verify' names every line that was changed, removed, inserted, moved or signed by "
            "a key that is neither a relman signing key nor trusted, and a log cut short."
        ),
    )
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a = audit_sub.add_parser(
        "show",
        help="list the entries: seq, time, event, key, summary",
        epilog="exit status: 0 shown, 1 a line is not an entry or is incomplete, 2 unreadable",
    )
    a.add_argument("--limit", type=int, metavar="N", help="only the last N entries")
    a.add_argument("--json", action="store_true", help="print the entries as JSON")
    a.set_defaults(handler=cmd_audit_show)
    a = audit_sub.add_parser(
        "verify",
        help="check the hash chain, every signature and the head",
        description=(
            "Check the hash chain, every signature and the head file. With --profile, also "
            "check the log against the promotion records in that profile's registry: each "
            "record anchors its audit entry, so a log cut back below it (even with an old head "
            "file put back) or an anchored line rewritten is found."
        ),
        epilog="exit status: 0 intact, 1 broken (each problem on its own line), 2 unreadable",
    )
    a.add_argument("--profile", help="also check the log against this profile's promotion records")
    a.add_argument("--json", action="store_true", help="print the report as JSON")
    a.set_defaults(handler=cmd_audit_verify)
    a = audit_sub.add_parser(
        "repair",
        help="set an incomplete last line aside, recorded in a signed entry",
        description=(
            "A crash or a full disk in the middle of a write can leave the last line without "
            "its line end; nothing is appended after it. 'repair' moves its bytes to a file "
            "beside the log and records that in an entry signed with --key. It repairs nothing "
            "else: a log that does not match its head stays refused."
        ),
        epilog="exit status: 0 repaired or nothing to repair, 1 refused, 2 bad usage",
    )
    a.add_argument("--key", required=True, metavar="NAME", help="signing key (relman keys list)")
    a.add_argument("--json", action="store_true", help="print the result as JSON")
    a.set_defaults(handler=cmd_audit_repair)

    diff = sub.add_parser(
        "diff",
        help="what is in one environment and not the other",
        description=(
            "Per application: the builds (by identity) and artifacts (by name and SHA-256) in "
            "ENV_A and not in ENV_B, and the other way round, and the builds with their commits "
            "between the newest build of each, by start time."
        ),
        epilog="exit status: 0 compared, 2 bad usage (unknown profile or environment)",
    )
    diff.add_argument("--profile", required=True, help="registry profile (relman profile list)")
    diff.add_argument("env_a", metavar="ENV_A")
    diff.add_argument("env_b", metavar="ENV_B")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")
    diff.set_defaults(handler=cmd_diff)


# -- audit ---------------------------------------------------------------------------------


def _log() -> AuditLog:
    from relman.release.audit import AuditLog

    return AuditLog()


def cmd_audit_show(args: argparse.Namespace) -> int:
    from relman.errors import UsageError

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give a number of entries, 1 or more")
    log = _log()
    scan = log.scan()
    entries = list(scan.entries)
    if args.limit is not None:
        entries = entries[-args.limit :]
    problems = [*scan.unreadable, *([scan.incomplete] if scan.incomplete else [])]
    if args.json:
        print_json(
            {
                "ok": not problems,
                "path": str(log.path),
                "entries": [e.to_json() for e in entries],
                "problems": [p.to_json() for p in problems],
            }
        )
        return 1 if problems else 0
    if not scan.entries and not problems:
        print(f"the audit log is empty ({log.path})")
    for e in entries:
        print(f"{e.seq:>5}  {e.time}  {e.event:<18}  {e.key}  {e.summary()}")
    for p in problems:
        print(f"line {p.line}: {p.detail} (see 'relman audit verify')")
    return 1 if problems else 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    log = _log()
    report = log.verify()
    anchors = _check_anchors(log, args.profile) if args.profile else None
    issues = [*report.issues, *(anchors.issues if anchors else ())]
    if args.json:
        document = {**report.to_json(), "path": str(log.path)}
        if anchors is not None:
            document["anchors"] = anchors.to_json()
            document["ok"] = not issues
        print_json(document)
        return 0 if not issues else 1
    entries = f"{report.entries} {'entry' if report.entries == 1 else 'entries'}"
    if anchors is not None:
        print(
            f"promotion records of profile {args.profile}: {anchors.checked} anchored in this "
            f"log, {anchors.elsewhere} in other logs, {anchors.unanchored} without an anchor"
        )
    if not issues:
        head = f", head at entry {report.head}" if report.head is not None else ""
        print(f"audit log intact: {entries}{head} ({log.path})")
        if report.signers:
            print(f"signed by {', '.join(report.signers)}")
        return 0
    count = len(issues)
    print(f"audit log BROKEN: {count} {'problem' if count == 1 else 'problems'} ({log.path})")
    for problem in issues:
        print(problem)
    return 1


def _check_anchors(log: AuditLog, profile_name: str) -> AnchorReport:
    from relman import settings
    from relman.registry import opened
    from relman.release.anchors import check_anchors

    with opened(settings.get_profile(profile_name)) as registry:
        return check_anchors(log, registry)


def cmd_audit_repair(args: argparse.Namespace) -> int:
    log = _log()
    entry = log.repair(key_name=args.key)
    if args.json:
        print_json({"ok": True, "repaired": entry.to_json() if entry else None})
        return 0
    if entry is None:
        print(f"nothing to repair: the last line of {log.path} is complete")
        return 0
    body = entry.body
    print(
        f"set line {body['line']} ({body['size']} bytes) aside in {body['kept']}; "
        f"recorded as entry {entry.seq}"
    )
    return 0


# -- diff ----------------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace) -> int:
    from relman import settings
    from relman.registry import opened
    from relman.release.diff import check_environments, diff_environments
    from relman.release.lineage import build_lineage
    from relman.verify.files import default_context

    profile = settings.get_profile(args.profile)
    check_environments(profile.environments, args.env_a, args.env_b)
    with opened(profile) as registry:
        lineage = build_lineage(registry, profile, default_context())
    result = diff_environments(lineage, args.env_a, args.env_b)
    if args.json:
        print_json({**result.to_json(), "profile": profile.name})
    else:
        _print_diff(result, profile.name)
    return 0


def _print_diff(result: EnvDiff, profile: str) -> None:
    a, b = result.a, result.b
    print(f"{a} against {b} (profile {profile})")
    if not result.applications:
        print(f"no builds in {a} or {b}")
    width = max(len(a), len(b))
    for app in result.applications:
        if app.same:
            print(f"{app.name}: the same builds and artifacts in {a} and {b}")
            continue
        print(app.name)
        for env, newest in ((a, app.newest_a), (b, app.newest_b)):
            shown = _build(newest) if newest else "no build"
            print(f"  newest in {env + ':':<{width + 1}}  {shown}")
        for env, other, only in ((a, b, app.only_a), (b, a, app.only_b)):
            if only:
                print(f"  in {env}, not in {other}:")
                for ref in only.builds:
                    print(f"    build {_build(ref)}")
                for art in only.artifacts:
                    print(f"    artifact {art.name}  {_sha(art.sha256)}  ({art.build})")
        _print_range(app, a, b)


def _print_range(app: AppDiff, a: str, b: str) -> None:
    span = app.range
    if span is None:
        return
    behind = b if span.ahead == a else a
    count = len(span.builds)
    print(
        f"  {span.ahead} is {count} {'build' if count == 1 else 'builds'} ahead of {behind}: "
        f"from {span.older.label} to {span.newer.label}"
    )
    for ref in span.builds:
        when = ref.started.strftime("%Y-%m-%d %H:%M:%SZ") if ref.started else "no start time"
        commit = ref.commit[:12] if ref.commit else "no commit"
        print(f"    {ref.label}  {when}  {commit}")


def _build(ref: BuildRef) -> str:
    commit = f"commit {ref.commit[:12]}" if ref.commit else "no commit"
    return f"{ref.label}  {ref.identity or 'no identity'}  {commit}"


def _sha(value: str | None) -> str:
    return f"sha256:{value[:16]}…" if value else "no sha256"
