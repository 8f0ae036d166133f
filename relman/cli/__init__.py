"""The command line: text for people, ``--json`` for scripts.

Errors are one line on stderr (what failed, on which file, why), never a traceback and never
a secret. Exit status: 0 success, 1 a check failed, 2 bad usage or unreadable input. Heavy
modules are imported inside the command that needs them, so ``--help`` starts fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from relman.cli import audit_cmds, key_cmds, promote_cmds, registry_cmds, verify_cmds
from relman.cli.common import Parser as _Parser
from relman.cli.common import VersionAction as _VersionAction
from relman.cli.common import fail, reconfigure_streams
from relman.errors import EXIT_USAGE, RelmanError

logger = logging.getLogger("relman.cli")

Handler = Callable[[argparse.Namespace], int]


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
    demo.add_argument(
        "--if-no-profile",
        action="store_true",
        help="do nothing when a registry profile exists already (what `make run` uses)",
    )
    demo.set_defaults(handler=registry_cmds.cmd_demo)

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
    bid.set_defaults(handler=verify_cmds.cmd_build_id)

    ver = sub.add_parser(
        "verify",
        help="verify downloaded files offline: checksums, signatures, provenance",
        description=(
            "Verify files offline. Every digest and signature found is checked, from one read "
            "of each file: --sha256, entries of --checksums lists (signed lists are verified "
            "first), sidecars beside each file (FILE.sha256 .sha384 .sha512 .sha1 .md5), "
            "SHA256SUMS-style lists in the file's folder, and signatures and provenance "
            "(--signature, --provenance, or FILE.sig .asc .minisig .sigstore.json .sigstore "
            ".bundle .intoto.jsonl .dsse.json .build.slsa). Signatures count only from keys "
            "in the trust store or given with --key; keyless Sigstore only with --identity "
            "and --issuer. A file with nothing to compare against is not verified. With "
            "--checksums and no FILE, every file the lists name is verified."
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
    ver.set_defaults(handler=verify_cmds.cmd_verify)

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
    k.set_defaults(handler=key_cmds.cmd_keys_list)
    k = keys_sub.add_parser("generate", help="generate a key in the OS keyring")
    k.add_argument("name")
    k.add_argument(
        "--type", dest="kind", default="ed25519", choices=["ed25519", "ecdsa-p256", "ecdsa-p384"]
    )
    k.set_defaults(handler=key_cmds.cmd_keys_generate)
    k = keys_sub.add_parser("import", help="import a PEM or DER private key into the OS keyring")
    k.add_argument("name")
    k.add_argument("file")
    k.add_argument(
        "--passphrase-stdin", action="store_true", help="read the key's passphrase from stdin"
    )
    k.set_defaults(handler=key_cmds.cmd_keys_import)
    k = keys_sub.add_parser("export", help="print a key's public half")
    k.add_argument("name")
    k.add_argument("--format", dest="fmt", default="pem", choices=["pem", "minisign"])
    k.set_defaults(handler=key_cmds.cmd_keys_export)
    k = keys_sub.add_parser("delete", help="delete a key from the OS keyring")
    k.add_argument("name")
    k.set_defaults(handler=key_cmds.cmd_keys_delete)

    trust = sub.add_parser("trust", help="the trust store of public keys")
    trust_sub = trust.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    t = trust_sub.add_parser("list", help="list trusted keys with their fingerprints")
    t.add_argument("--json", action="store_true")
    t.set_defaults(handler=key_cmds.cmd_trust_list)
    t = trust_sub.add_parser(
        "add", help="trust a public key (PEM, certificate, minisign, signify, OpenPGP)"
    )
    t.add_argument("name")
    t.add_argument("file")
    t.set_defaults(handler=key_cmds.cmd_trust_add)
    t = trust_sub.add_parser("remove", help="stop trusting a key")
    t.add_argument("name")
    t.set_defaults(handler=key_cmds.cmd_trust_remove)

    sig = sub.add_parser("sign", help="sign a file with a key from the OS keyring")
    sig.add_argument("file")
    sig.add_argument("--key", required=True, help="signing key name (relman keys list)")
    sig.add_argument(
        "--format", dest="fmt", default="cosign", choices=["cosign", "minisign", "dsse"]
    )
    sig.add_argument("--output", "-o", help="where to write the signature (default: a sidecar)")
    sig.set_defaults(handler=key_cmds.cmd_sign)

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
    p.add_argument(
        "--records-repo",
        metavar="REPOKEY",
        help="server repository for promotion records and approvals (default: the first "
        "repo: environment's repository, else relman-records)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        help="an auditor's profile: the app offers no promote, approve or rollback on it",
    )
    p.set_defaults(handler=registry_cmds.cmd_profile_add)
    p = prof_sub.add_parser("list", help="list profiles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=registry_cmds.cmd_profile_list)
    p = prof_sub.add_parser("remove", help="remove a profile and its keyring token")
    p.add_argument("name")
    p.set_defaults(handler=registry_cmds.cmd_profile_remove)

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
    lin.set_defaults(handler=registry_cmds.cmd_lineage)
    promote_cmds.register(sub)
    audit_cmds.register(sub)
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
    reconfigure_streams()
    try:
        return handler(args)
    except RelmanError as exc:
        fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the promise is: never a traceback on the terminal
        logger.exception("unexpected error in relman %s", getattr(args, "command", ""))
        fail(f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_USAGE
