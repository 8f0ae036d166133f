"""The command line: text for people, ``--json`` for scripts.

Errors are one line on stderr (what failed, on which file, why), never a traceback and never
a secret. Exit status: 0 success, 1 a check failed, 2 bad usage or unreadable input. Heavy
modules are imported inside the command that needs them, so ``--help`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from relman import __version__
from relman.errors import EXIT_USAGE, RelmanError

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="relman",
        description=(
            "Build once, promote by metadata, verify before trust. "
            "Run without arguments to open the desktop app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"relman {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = sub.add_parser("gui", help="open the desktop app (the same as running relman alone)")
    gui.add_argument("--profile", help="registry profile to open")

    bid = sub.add_parser(
        "build-id",
        help="print a build identity YYYYMMDDTHHMMSSZ.N.<commit>",
        description=(
            "Print a build identity: start time in UTC, sequential build number, and the first "
            "12 hex digits of the git commit, e.g. 20261126T143005Z.42.3f9c2ab1d0e4."
        ),
    )
    bid.add_argument("--number", required=True, help="sequential build number (1 or more)")
    bid.add_argument("--commit", required=True, help="full git commit id (40 hex digits)")
    bid.add_argument(
        "--started", help="start time, ISO 8601 with offset (default: now), converted to UTC"
    )
    bid.add_argument("--full", action="store_true", help="print the whole commit, not 12 digits")
    bid.add_argument("--json", action="store_true", help="print the parts as JSON")
    bid.set_defaults(handler=_cmd_build_id)

    ver = sub.add_parser(
        "verify",
        help="verify downloaded files offline against their checksums",
        description=(
            "Verify files offline. Every digest found is checked: --sha256, entries of "
            "--checksums lists, sidecars beside each file (FILE.sha256 .sha512 .sha1 .md5) and "
            "SHA256SUMS/SHA512SUMS/SHA1SUMS/MD5SUMS/B2SUMS in the file's folder. A file with "
            "nothing to compare against is not verified. With --checksums and no FILE, every "
            "file the lists name is verified."
        ),
        epilog="exit status: 0 all verified, 1 a check failed, 2 bad usage or unreadable input",
    )
    ver.add_argument("files", nargs="*", metavar="FILE", help="files to verify")
    ver.add_argument("--sha256", metavar="HEX", help="the expected SHA-256 (one FILE only)")
    ver.add_argument(
        "--checksums",
        metavar="LIST",
        action="append",
        default=[],
        help="a checksum list (SHA256SUMS, sha256sum/--tag, openssl dgst output); repeatable",
    )
    ver.add_argument(
        "--no-discover",
        action="store_true",
        help="do not look for sidecars and SHA256SUMS beside the files",
    )
    ver.add_argument("--jobs", type=int, metavar="N", help="files hashed in parallel")
    ver.add_argument("-q", "--quiet", action="store_true", help="print only what did not verify")
    ver.add_argument("--json", action="store_true", help="print a JSON report")
    ver.set_defaults(handler=_cmd_verify)
    return parser


def gui_args(argv: Sequence[str]) -> argparse.Namespace | int:
    """Parse ``relman [gui] [--profile P]``; returns an exit status on a usage error."""
    parser = _Parser(prog="relman gui", description="open the desktop app")
    parser.add_argument("--profile", help="registry profile to open")
    try:
        return parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    _reconfigure_streams()
    try:
        return handler(args)
    except RelmanError as exc:
        _fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the promise is: never a traceback on the terminal
        logger.exception("unexpected error in relman %s", getattr(args, "command", ""))
        _fail(f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_USAGE


def _reconfigure_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _fail(message: str) -> None:
    print(f"relman: {message}", file=sys.stderr)


def _print_json(data: dict[str, Any]) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# -- build-id -----------------------------------------------------------------------------


def _cmd_build_id(args: argparse.Namespace) -> int:
    from relman.identity import make_identity

    ident = make_identity(args.number, args.commit, args.started)
    text = ident.full if args.full else str(ident)
    if args.json:
        _print_json(
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


def _cmd_verify(args: argparse.Namespace) -> int:
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
    lists = [Path(p) for p in args.checksums]
    for list_path in lists:
        if list_path.is_dir():
            raise UsageError(f"{list_path}: is a folder, not a checksum list")
    index = files.ChecksumIndex()
    targets = [Path(p) for p in args.files]
    if not targets:
        targets = _listed_files(lists, index)
    jobs = files.plan(
        targets, sha256=sha256, checksum_lists=lists, discover=not args.no_discover, index=index
    )
    report = files.verify_all(jobs, workers=args.jobs)
    if args.json:
        _print_json(report.to_json())
    else:
        _print_verify_text(report, quiet=args.quiet)
    return report.exit_code


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
            _fail(result.error)
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
