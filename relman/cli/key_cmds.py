"""``relman keys``, ``relman trust`` and ``relman sign``."""

from __future__ import annotations

import argparse
import sys

from relman.cli.common import print_json

# -- keys, trust, sign ---------------------------------------------------------------------


def cmd_keys_list(args: argparse.Namespace) -> int:
    from relman import keystore, secrets

    state = secrets.status()
    records = keystore.list_keys()
    if args.json:
        print_json(
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


def cmd_keys_generate(args: argparse.Namespace) -> int:
    from relman import keystore

    record = keystore.generate(args.name, args.kind)
    print(f"generated {record.name} ({record.kind}, {record.fingerprint}) in the OS keyring")
    return 0


def cmd_keys_import(args: argparse.Namespace) -> int:
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


def cmd_keys_export(args: argparse.Namespace) -> int:
    from relman import keystore

    record = keystore.get_key(args.name)
    if args.fmt == "minisign":
        from relman.sign import minisign_public_key

        sys.stdout.write(minisign_public_key(record))
    else:
        sys.stdout.write(record.public_pem)
    return 0


def cmd_keys_delete(args: argparse.Namespace) -> int:
    from relman import keystore

    had_secret = keystore.delete(args.name)
    suffix = "" if had_secret else " (its private half was already gone from the keyring)"
    print(f"deleted {args.name}{suffix}")
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    from relman.verify import truststore

    keys = truststore.trusted_keys()
    if args.json:
        print_json(
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


def cmd_trust_add(args: argparse.Namespace) -> int:
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


def cmd_trust_remove(args: argparse.Namespace) -> int:
    from relman.verify import truststore

    truststore.remove(args.name)
    print(f"removed {args.name} from the trust store")
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relman.sign import sign_file

    written = sign_file(
        Path(args.file), args.key, args.fmt, output=Path(args.output) if args.output else None
    )
    print(f"wrote {written}")
    return 0
