"""``relman demo``, ``relman profile`` and ``relman lineage``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from relman.cli.common import print_json

# -- demo ---------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from relman import demo, settings

    if args.if_no_profile and settings.load_profiles():
        if args.json:
            print_json({"ok": True, "created": False})
        return 0
    made = demo.create(args.dir)
    if args.json:
        print_json(
            {
                "ok": True,
                "dir": str(made.dir),
                "profile": made.profile.name,
                "apps": made.apps,
                "builds": made.builds,
                "artifacts": made.artifacts,
                "promotions": made.promotions,
                "records": made.records,
                "planted": [p.to_json() for p in made.planted],
                "trusted": [{"name": n, "fingerprint": f} for n, f in made.trusted],
            }
        )
        return 0
    envs = " -> ".join(str(e) for e in made.profile.environments)
    print(f"created a demo registry in {made.dir}")
    print(f"  profile {made.profile.name} (local): {envs}")
    print(
        f"  {made.apps} applications, {made.builds} builds, {made.artifacts} artifacts, "
        f"{made.promotions} promotions ({made.records} with a signed record)"
    )
    print("  planted problems, one of each:")
    width = max(len(p.kind) for p in made.planted)
    for p in made.planted:
        where = f"build {p.build}  " if p.build else ""
        print(f"    {p.kind:<{width}}  {where}{p.path}")
        print(f"    {'':<{width}}  {p.detail}")
    if made.trusted:
        keys = ", ".join(f"{n} ({f[:19]}…)" for n, f in made.trusted)
        print(f"  trusted keys added: {keys}")
    print(
        "  the demo's private keys were discarded: the demo is evidence to inspect, "
        "not a signing setup"
    )
    print("next:")
    lineage = f"relman lineage --profile {made.profile.name}"
    print(f"  {lineage:<32}the builds, their promotions and the findings")
    print(f"  {'relman':<32}open the app (profile {made.profile.name})")
    return 0


# -- profile ------------------------------------------------------------------------------


def cmd_profile_add(args: argparse.Namespace) -> int:
    from relman import settings
    from relman.errors import UsageError

    profile = settings.make_profile(
        args.name,
        args.kind,
        args.url,
        user=args.user,
        environments=args.env,
        ca_bundle=args.ca_bundle,
        records_repo=args.records_repo,
        read_only=args.read_only,
    )
    token = None
    if args.token_stdin:
        if profile.kind == "local":
            raise UsageError("a local profile takes no token (it is a folder on this machine)")
        token = sys.stdin.readline().strip()
    settings.add_profile(profile, token=token)
    stored = " (token in the OS keyring)" if token else ""
    auditor = "; read-only (auditor mode)" if profile.read_only else ""
    print(f"added profile {profile.name} ({profile.kind}, {profile.url}){stored}{auditor}")
    return 0


def cmd_profile_list(args: argparse.Namespace) -> int:
    from relman import settings

    profiles = settings.load_profiles()
    if args.json:
        print_json(
            {
                "ok": True,
                "profiles": [
                    {
                        "name": p.name,
                        "kind": p.kind,
                        "url": p.url,
                        "user": p.user,
                        "ca_bundle": p.ca_bundle,
                        **({"records_repo": p.records_repo} if p.records_repo else {}),
                        **({"read_only": True} if p.read_only else {}),
                        "environments": [
                            {"name": e.name, "mode": e.mode, "repository": e.repo}
                            if e.mode == "repository"
                            else {"name": e.name, "mode": e.mode, "label": e.label}
                            for e in p.environments
                        ],
                    }
                    for p in profiles.values()
                ],
            }
        )
        return 0
    if not profiles:
        print("no profiles (relman profile add NAME --kind KIND --url URL)")
    for p in profiles.values():
        user = f"  user {p.user}" if p.user else ""
        envs = " -> ".join(str(e).replace("=", " ", 1) for e in p.environments) or "none"
        auditor = "  read-only" if p.read_only else ""
        print(f"{p.name}  {p.kind}  {p.url}{user}{auditor}  environments: {envs}")
    return 0


def cmd_profile_remove(args: argparse.Namespace) -> int:
    from relman import settings

    had_token = settings.remove_profile(args.name)
    suffix = " and its token in the OS keyring" if had_token else ""
    print(f"removed profile {args.name}{suffix}")
    return 0


# -- lineage ------------------------------------------------------------------------------


def cmd_lineage(args: argparse.Namespace) -> int:
    from relman import settings
    from relman.registry import opened
    from relman.release.lineage import build_lineage
    from relman.verify.files import default_context

    profile = settings.get_profile(args.profile)
    with opened(profile) as registry:
        name = number = None
        if args.build is not None:
            name, number = _split_build(args.build, set(registry.build_names()))
        result = build_lineage(
            registry, profile, default_context(), build=name, number=number, commit=args.commit
        )
    if args.json:
        print_json(result.to_json())
    else:
        _print_lineage_text(result)
    return 0 if result.ok else 1


def _split_build(text: str, names: set[str]) -> tuple[str, str | None]:
    """``NAME`` or ``NAME/NUMBER``; a build name may itself hold '/' (``acme/web/3``)."""
    from relman.errors import UsageError

    text = text.strip()
    if not text or text.startswith("/") or text.endswith("/"):
        raise UsageError(f"--build {text!r}: expected NAME or NAME/NUMBER")
    if text in names or "/" not in text:
        return text, None
    name, number = text.rsplit("/", 1)
    return name, number


def _print_lineage_text(result: Any) -> None:
    """commit -> builds -> artifacts -> locations and environments; findings after."""
    for commit, builds in result.commits():
        print(f"commit {commit[:12]}" if commit else "no commit")
        for node in builds:
            ident = str(node.identity) if node.identity is not None else "no identity"
            envs = " -> ".join(node.environments) or "no environment"
            print(f"  {node.label}  {ident}  in: {envs}")
            for art in node.artifacts:
                sha = f"sha256:{art.sha256[:16]}…" if art.sha256 else "no sha256"
                print(f"    {art.name}  {sha}")
                for loc, in_envs in zip(art.locations, art.location_environments, strict=True):
                    where = f"  [{', '.join(in_envs)}]" if in_envs else ""
                    print(f"      {loc}{where}")
                if not art.locations:
                    print("      not in the registry")
                for sig in art.signatures:
                    print(f"      {sig.status}: {sig.detail}")
            for promo in node.promotions:
                when = promo.time.strftime("%Y-%m-%d %H:%M:%SZ") if promo.time else "no time"
                state = "ok" if promo.ok else "NOT VALID"
                who = promo.signer or promo.promoter or "unknown"
                print(f"    promoted to {promo.environment} {when} by {who}: {state}")
                if not promo.ok:
                    print(f"      {promo.detail}")
    if not result.builds:
        print("no builds")
    if result.findings:
        print(f"\n{len(result.findings)} findings:")
        for finding in result.findings:
            print(f"  {finding}")
    else:
        print("\nno findings")
