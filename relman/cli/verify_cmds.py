"""``relman build-id`` and ``relman verify``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from relman.cli.common import fail, print_json

# -- build-id -----------------------------------------------------------------------------


def cmd_build_id(args: argparse.Namespace) -> int:
    from relman.identity import make_identity

    ident = make_identity(args.number, args.commit, args.started)
    text = ident.full if args.full else str(ident)
    if args.json:
        print_json(
            {
                "ok": True,
                "id": text,
                "started": ident.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "number": ident.number,
                "commit": ident.commit,
            }
        )
    else:
        print(text)
    return 0


# -- verify -------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relman.errors import UsageError
    from relman.verify import checksums, files

    if not args.files and not args.checksums:
        raise UsageError("verify: give at least one FILE, or --checksums LIST")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("verify: --jobs must be 1 or more")
    sha256 = None
    if args.sha256 is not None:
        sha256 = checksums.parse_hex_digest(args.sha256)
        if len(args.files) != 1:
            raise UsageError("verify: --sha256 applies to exactly one FILE")
    for option, values in (("--signature", args.signature), ("--provenance", args.provenance)):
        if values and len(args.files) != 1:
            raise UsageError(f"verify: {option} applies to exactly one FILE")
        for value in values:
            _require_file(Path(value))
    context = _verify_context(args)
    lists = [Path(p) for p in args.checksums]
    for list_path in lists:
        if list_path.is_dir():
            raise UsageError(f"{list_path}: is a folder, not a checksum list")
    index = files.ChecksumIndex(context)
    targets = [Path(p) for p in args.files]
    if not targets:
        targets = _listed_files(lists, index)
    planner = files.Planner(
        sha256=sha256,
        checksum_lists=lists,
        signatures=[Path(p) for p in args.signature],
        provenance=[Path(p) for p in args.provenance],
        discover=not args.no_discover,
        require_signature=args.require_signature,
        index=index,
    )
    report = files.verify_files(targets, planner, workers=args.jobs)
    if args.json:
        print_json(report.to_json())
    else:
        _print_verify_text(report, quiet=args.quiet)
    return report.exit_code


def _require_file(path: Any) -> None:
    from relman.errors import InputError

    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")


def _verify_context(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from relman.verify import truststore
    from relman.verify.signatures.base import Context

    keys = {k.fingerprint: k for k in truststore.trusted_keys()}
    for value in args.key:
        key = truststore.find(value)
        keys.setdefault(key.fingerprint, key)
    root = None
    if args.trusted_root:
        root = Path(args.trusted_root)
        _require_file(root)
    return Context(
        keys=tuple(keys.values()), identity=args.identity, issuer=args.issuer, trusted_root=root
    )


def _listed_files(lists: Sequence[Any], index: Any) -> list[Any]:
    """Every file the lists name, in list order, each once (``sha256sum -c`` style)."""
    from pathlib import Path

    seen: dict[str, None] = {}
    for list_path in lists:
        for target in index.targets(list_path):
            seen.setdefault(target, None)
    return [Path(t) for t in seen]


def _print_verify_text(report: Any, *, quiet: bool) -> None:
    counts = {"verified": 0, "failed": 0, "not-verified": 0, "error": 0}
    for result in report.files:
        counts[result.status] += 1
        if result.status == "verified":
            if not quiet:
                print(f"OK      {result.display}  sha256:{result.sha256}  ({result.summary})")
        elif result.status == "error":
            fail(result.error)
        elif result.status == "failed":
            for check in result.checks:
                if not check.ok:
                    print(f"FAILED  {result.display}: {check.detail}")
        else:
            print(f"NOT VERIFIED  {result.summary}")
    parts = [f"{counts['verified']} verified"]
    if counts["failed"]:
        parts.append(f"{counts['failed']} failed")
    if counts["not-verified"]:
        parts.append(f"{counts['not-verified']} not verified")
    if counts["error"]:
        parts.append(f"{counts['error']} unreadable")
    if not quiet or len(parts) > 1:
        print(", ".join(parts))
