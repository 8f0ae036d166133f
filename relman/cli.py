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

from relman.errors import EXIT_USAGE, RelmanError

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


class _VersionAction(argparse.Action):
    """``--version``, reading the package metadata only when asked (it costs ~20 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        import relman

        sys.stdout.write(f"relman {relman.__version__}\n")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="relman",
        description=(
            "Build once, promote by metadata, verify before trust. "
            "Run without arguments to open the desktop app."
        ),
    )
    parser.add_argument("--version", action=_VersionAction, help="print relman's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = sub.add_parser("gui", help="open the desktop app (the same as running relman alone)")
    gui.add_argument("--profile", help="registry profile to open")

    demo = sub.add_parser(
        "demo",
        help="create a demo local registry and a profile 'demo' for it",
        description=(
            "Create a realistic local registry (three applications, about 40 builds over six "
            "weeks, signatures, provenance, promotions dev -> qa -> staging -> prod) with one "
            "of each problem relman finds planted in it, a profile 'demo' for it, and its "
            "demo keys in the trust store."
        ),
        epilog="exit status: 0 created, 2 bad usage (a folder that is not empty, a clash)",
    )
    demo.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="a new or empty folder (default: data dir/demo-registry)",
    )
    demo.add_argument("--json", action="store_true", help="print what was made as JSON")
    demo.set_defaults(handler=_cmd_demo)

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
        "--signature",
        metavar="SIG",
        action="append",
        default=[],
        help="a signature of FILE (OpenSSL, cosign, minisign, signify, OpenPGP, Sigstore bundle)",
    )
    ver.add_argument(
        "--key",
        metavar="PEM/NAME",
        action="append",
        default=[],
        help="a public key file, or the name of a trusted key; repeatable (the trust store's "
        "keys are always candidates)",
    )
    ver.add_argument(
        "--provenance", metavar="FILE", action="append", default=[], help="in-toto/SLSA provenance"
    )
    ver.add_argument(
        "--require-signature",
        action="store_true",
        help="a file is verified only with a valid signature by a trusted key",
    )
    ver.add_argument("--identity", help="expected Sigstore signer identity (certificate SAN)")
    ver.add_argument("--issuer", help="expected Sigstore OIDC issuer")
    ver.add_argument(
        "--trusted-root",
        metavar="FILE",
        help="a Sigstore trusted_root.json (default: the pinned public-good root)",
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

    keys = sub.add_parser(
        "keys",
        help="signing keys in the OS keyring",
        description=(
            "Signing keys live in the OS keyring only (service 'relman'); the config keeps "
            "their public halves. Ed25519 and ECDSA P-256/P-384 keys fit every OS keyring."
        ),
    )
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    k = keys_sub.add_parser("list", help="list signing keys and the keyring in use")
    k.add_argument("--json", action="store_true")
    k.set_defaults(handler=_cmd_keys_list)
    k = keys_sub.add_parser("generate", help="generate a key in the OS keyring")
    k.add_argument("name")
    k.add_argument(
        "--type", dest="kind", default="ed25519", choices=["ed25519", "ecdsa-p256", "ecdsa-p384"]
    )
    k.set_defaults(handler=_cmd_keys_generate)
    k = keys_sub.add_parser("import", help="import a PEM or DER private key into the OS keyring")
    k.add_argument("name")
    k.add_argument("file")
    k.add_argument(
        "--passphrase-stdin", action="store_true", help="read the key's passphrase from stdin"
    )
    k.set_defaults(handler=_cmd_keys_import)
    k = keys_sub.add_parser("export", help="print a key's public half")
    k.add_argument("name")
    k.add_argument("--format", dest="fmt", default="pem", choices=["pem", "minisign"])
    k.set_defaults(handler=_cmd_keys_export)
    k = keys_sub.add_parser("delete", help="delete a key from the OS keyring")
    k.add_argument("name")
    k.set_defaults(handler=_cmd_keys_delete)

    trust = sub.add_parser("trust", help="the trust store of public keys")
    trust_sub = trust.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    t = trust_sub.add_parser("list", help="list trusted keys with their fingerprints")
    t.add_argument("--json", action="store_true")
    t.set_defaults(handler=_cmd_trust_list)
    t = trust_sub.add_parser(
        "add", help="trust a public key (PEM, certificate, minisign, signify, OpenPGP)"
    )
    t.add_argument("name")
    t.add_argument("file")
    t.set_defaults(handler=_cmd_trust_add)
    t = trust_sub.add_parser("remove", help="stop trusting a key")
    t.add_argument("name")
    t.set_defaults(handler=_cmd_trust_remove)

    sig = sub.add_parser("sign", help="sign a file with a key from the OS keyring")
    sig.add_argument("file")
    sig.add_argument("--key", required=True, help="signing key name (relman keys list)")
    sig.add_argument(
        "--format", dest="fmt", default="cosign", choices=["cosign", "minisign", "dsse"]
    )
    sig.add_argument("--output", "-o", help="where to write the signature (default: a sidecar)")
    sig.set_defaults(handler=_cmd_sign)

    prof = sub.add_parser(
        "profile",
        help="registry profiles and their environments",
        description=(
            "Registry profiles: an Artifactory or Nexus server, or a local registry folder, "
            "with its environments in promotion order. Tokens go to the OS keyring "
            "(RELMAN_TOKEN stands in for one), never to a file."
        ),
        epilog="exit status: 0 done, 2 bad usage",
    )
    prof_sub = prof.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    p = prof_sub.add_parser("add", help="add a profile")
    p.add_argument("name")
    p.add_argument("--kind", required=True, help="artifactory, nexus or local")
    p.add_argument("--url", required=True, help="server URL (http/https), or a folder for local")
    p.add_argument("--user", help="user name for the server")
    p.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the access token from standard input into the OS keyring",
    )
    p.add_argument(
        "--env",
        metavar="NAME=repo:REPOKEY|NAME=label",
        action="append",
        default=[],
        help="an environment, in promotion order; repeatable",
    )
    p.add_argument("--ca-bundle", metavar="FILE", help="CA certificates to trust for this server")
    p.set_defaults(handler=_cmd_profile_add)
    p = prof_sub.add_parser("list", help="list profiles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_profile_list)
    p = prof_sub.add_parser("remove", help="remove a profile and its keyring token")
    p.add_argument("name")
    p.set_defaults(handler=_cmd_profile_remove)

    lin = sub.add_parser(
        "lineage",
        help="commit -> builds -> artifacts -> environments, and the findings on them",
        description=(
            "The lineage graph of a registry profile: every build by commit, its artifacts, "
            "where they are and which environments they reached, with the promotion records "
            "on each edge. Findings: rebuilt, overwritten, untraceable, unsigned, "
            "bad-signature, skipped-stage, unverified-promotion."
        ),
        epilog="exit status: 0 no findings, 1 findings, 2 bad usage or unreadable registry",
    )
    lin.add_argument("--profile", required=True, help="registry profile (relman profile list)")
    lin.add_argument("--build", metavar="NAME[/NUMBER]", help="only this build (or its runs)")
    lin.add_argument("--commit", metavar="SHA", help="only builds of this commit (7+ hex digits)")
    lin.add_argument("--json", action="store_true", help="print the graph as JSON")
    lin.set_defaults(handler=_cmd_lineage)
    return parser


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


# -- demo ---------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    from relman import demo

    made = demo.create(args.dir)
    if args.json:
        _print_json(
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
        _print_json(report.to_json())
    else:
        _print_verify_text(report, quiet=args.quiet)
    return report.exit_code


# -- keys, trust, sign ---------------------------------------------------------------------


def _cmd_keys_list(args: argparse.Namespace) -> int:
    from relman import keystore, secrets

    state = secrets.status()
    records = keystore.list_keys()
    if args.json:
        _print_json(
            {
                "ok": True,
                "keyring": {"backend": state.backend, "state": state.state},
                "keys": [
                    {
                        "name": r.name,
                        "type": r.kind,
                        "fingerprint": r.fingerprint,
                        "created": r.created,
                    }
                    for r in records
                ],
            }
        )
        return 0
    print(state)
    if not records:
        print("no signing keys (relman keys generate NAME)")
    for r in records:
        print(f"{r.name}  {r.kind}  {r.fingerprint}  created {r.created}")
    return 0


def _cmd_keys_generate(args: argparse.Namespace) -> int:
    from relman import keystore

    record = keystore.generate(args.name, args.kind)
    print(f"generated {record.name} ({record.kind}, {record.fingerprint}) in the OS keyring")
    return 0


def _cmd_keys_import(args: argparse.Namespace) -> int:
    from relman import keystore
    from relman.errors import InputError

    try:
        with open(args.file, "rb") as handle:
            data = handle.read(1 << 20)
    except OSError as exc:
        raise InputError(f"{args.file}: {exc.strerror or exc}") from None
    password = None
    if args.passphrase_stdin:
        password = sys.stdin.buffer.readline().rstrip(b"\r\n")
    try:
        record = keystore.import_key(args.name, data, origin=args.file, password=password)
    except keystore.PassphraseNeeded as exc:
        raise keystore.PassphraseNeeded(
            f"{exc} (give it on standard input with --passphrase-stdin)"
        ) from None
    print(f"imported {record.name} ({record.kind}, {record.fingerprint}) into the OS keyring")
    return 0


def _cmd_keys_export(args: argparse.Namespace) -> int:
    from relman import keystore

    record = keystore.get_key(args.name)
    if args.fmt == "minisign":
        from relman.sign import minisign_public_key

        sys.stdout.write(minisign_public_key(record))
    else:
        sys.stdout.write(record.public_pem)
    return 0


def _cmd_keys_delete(args: argparse.Namespace) -> int:
    from relman import keystore

    had_secret = keystore.delete(args.name)
    suffix = "" if had_secret else " (its private half was already gone from the keyring)"
    print(f"deleted {args.name}{suffix}")
    return 0


def _cmd_trust_list(args: argparse.Namespace) -> int:
    from relman.verify import truststore

    keys = truststore.trusted_keys()
    if args.json:
        _print_json(
            {
                "ok": True,
                "keys": [
                    {
                        "name": k.name,
                        "type": k.kind,
                        "fingerprint": k.fingerprint,
                        "key_id": k.key_id,
                    }
                    for k in keys
                ],
            }
        )
        return 0
    if not keys:
        print("no trusted keys (relman trust add NAME FILE)")
    for k in keys:
        print(f"{k.name}  {k.kind}  {k.fingerprint}")
    return 0


def _cmd_trust_add(args: argparse.Namespace) -> int:
    from relman.errors import InputError
    from relman.verify import truststore

    try:
        with open(args.file, "rb") as handle:
            data = handle.read(4 << 20)
    except OSError as exc:
        raise InputError(f"{args.file}: {exc.strerror or exc}") from None
    key = truststore.add(args.name, data, origin=args.file)
    print(f"trusted {key.name} ({key.kind}, {key.fingerprint})")
    return 0


def _cmd_trust_remove(args: argparse.Namespace) -> int:
    from relman.verify import truststore

    truststore.remove(args.name)
    print(f"removed {args.name} from the trust store")
    return 0


def _cmd_sign(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relman.sign import sign_file

    written = sign_file(
        Path(args.file), args.key, args.fmt, output=Path(args.output) if args.output else None
    )
    print(f"wrote {written}")
    return 0


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


# -- profile ------------------------------------------------------------------------------


def _cmd_profile_add(args: argparse.Namespace) -> int:
    from relman import settings
    from relman.errors import UsageError

    profile = settings.make_profile(
        args.name,
        args.kind,
        args.url,
        user=args.user,
        environments=args.env,
        ca_bundle=args.ca_bundle,
    )
    token = None
    if args.token_stdin:
        if profile.kind == "local":
            raise UsageError("a local profile takes no token (it is a folder on this machine)")
        token = sys.stdin.readline().strip()
    settings.add_profile(profile, token=token)
    stored = " (token in the OS keyring)" if token else ""
    print(f"added profile {profile.name} ({profile.kind}, {profile.url}){stored}")
    return 0


def _cmd_profile_list(args: argparse.Namespace) -> int:
    from relman import settings

    profiles = settings.load_profiles()
    if args.json:
        _print_json(
            {
                "ok": True,
                "profiles": [
                    {
                        "name": p.name,
                        "kind": p.kind,
                        "url": p.url,
                        "user": p.user,
                        "ca_bundle": p.ca_bundle,
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
        print(f"{p.name}  {p.kind}  {p.url}{user}  environments: {envs}")
    return 0


def _cmd_profile_remove(args: argparse.Namespace) -> int:
    from relman import settings

    had_token = settings.remove_profile(args.name)
    suffix = " and its token in the OS keyring" if had_token else ""
    print(f"removed profile {args.name}{suffix}")
    return 0


# -- lineage ------------------------------------------------------------------------------


def _cmd_lineage(args: argparse.Namespace) -> int:
    from relman import settings
    from relman.errors import UsageError
    from relman.registry.local import LocalRegistry
    from relman.release.lineage import build_lineage
    from relman.verify.files import default_context

    profile = settings.get_profile(args.profile)
    if profile.kind != "local":
        raise UsageError(
            f"profile {profile.name}: the {profile.kind} backend arrives in a later release; "
            "lineage reads local registries for now"
        )
    registry = LocalRegistry(profile.url)
    name = number = None
    if args.build is not None:
        name, number = _split_build(args.build, set(registry.build_names()))
    result = build_lineage(
        registry, profile, default_context(), build=name, number=number, commit=args.commit
    )
    if args.json:
        _print_json(result.to_json())
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
