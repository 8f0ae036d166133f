"""relman keys / trust / sign from the command line, against the real Secret Service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.keyring_support import needs_keyring

pytestmark = needs_keyring


def test_keys_lifecycle(relman_cli, tmp_path: Path) -> None:
    run = relman_cli("keys", "generate", "rm-anna", "--type", "ecdsa-p256")
    assert run.code == 0 and "generated rm-anna (ecdsa-p256, SHA256:" in run.out
    listing = json.loads(relman_cli("keys", "list", "--json").out)
    assert listing["keyring"] == {"backend": "Secret Service", "state": "ok"}
    assert [k["name"] for k in listing["keys"]] == ["rm-anna"]
    text = relman_cli("keys", "list").out
    assert text.startswith("keyring: Secret Service, unlocked")
    pem = relman_cli("keys", "export", "rm-anna").out
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in pem
    run = relman_cli("keys", "export", "rm-anna", "--format", "minisign")
    assert run.code == 2 and "only Ed25519 keys have a minisign form" in run.err
    assert relman_cli("keys", "delete", "rm-anna").out == "deleted rm-anna\n"
    run = relman_cli("keys", "delete", "rm-anna")
    assert run.code == 2 and "no signing key named 'rm-anna'" in run.err


def test_import_and_sign_and_trust(relman_cli, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    pem = tmp_path / "k.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    run = relman_cli("keys", "import", "ci", pem)
    assert run.code == 0, run.err
    assert "PRIVATE" not in run.out
    artifact = tmp_path / "a.bin"
    artifact.write_bytes(b"bytes")
    run = relman_cli("sign", artifact, "--key", "ci", "--format", "minisign")
    assert run.code == 0 and run.out == f"wrote {artifact}.minisig\n"
    pub = tmp_path / "ci.pub"
    pub.write_text(relman_cli("keys", "export", "ci").out)
    run = relman_cli("trust", "add", "ci-release", pub)
    assert run.code == 0 and "trusted ci-release (ed25519, SHA256:" in run.out
    data = json.loads(relman_cli("trust", "list", "--json").out)
    assert [k["name"] for k in data["keys"]] == ["ci-release"]
    assert relman_cli("trust", "remove", "ci-release").code == 0
    assert "no trusted keys" in relman_cli("trust", "list").out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["keys", "import", "x", "{d}/missing.pem"], 2, "missing.pem: No such file"),
        (["keys", "import", "x", "{d}/garbage.pem"], 2, "holds no private key"),
        (["keys", "generate", "bad/name"], 2, "is not allowed"),
        (["trust", "add", "x", "{d}/garbage.pem"], 2, "holds no public key"),
        (["trust", "add", "x", "{d}/empty.pem"], 2, "is empty, not a public key"),
        (["trust", "remove", "nobody"], 2, "no trusted key named 'nobody'"),
        (["sign", "{d}/garbage.pem", "--key", "nobody"], 2, "no signing key named 'nobody'"),
    ],
)
def test_bad_input(relman_cli, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "garbage.pem").write_bytes(b"-----BEGIN NONSENSE-----\nxx\n")
    (tmp_path / "empty.pem").write_bytes(b"")
    run = relman_cli(*[a.format(d=tmp_path) for a in args])
    assert run.code == code, run.err
    assert message in run.err
    assert run.err.count("\n") == 1 and "Traceback" not in run.err
