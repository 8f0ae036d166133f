"""Every digest a file needs comes from one read of it (issue 3's one read pass).

A file with a .sha256 sidecar, a cosign signature, a prehashed minisign signature and a DSSE
provenance file is opened exactly once, and every check passes; the signatures are made by
relman's own signers, which the real tools accept (tests/unit/test_keys_and_signing.py).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from relman import sign
from relman.verify import hashing
from relman.verify.files import plan, verify_all
from relman.verify.signatures.base import Context
from relman.verify.signatures.keys import load_public_key


def pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Context]:
    artifact = tmp_path / "payments-api-1.4.2.tar.gz"
    artifact.write_bytes(os.urandom(3 * hashing.BLOCK_SIZE * hashing.PIPELINE_BUFFERS))
    (tmp_path / (artifact.name + ".sha256")).write_text(
        hashlib.sha256(artifact.read_bytes()).hexdigest()
    )
    ci = ec.generate_private_key(ec.SECP256R1())
    release = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / (artifact.name + ".sig")).write_bytes(sign.cosign_signature(artifact, ci))
    (tmp_path / (artifact.name + ".minisig")).write_bytes(
        sign.minisign_signature(artifact, release, "release")
    )
    (tmp_path / (artifact.name + ".intoto.jsonl")).write_bytes(
        sign.dsse_envelope(artifact, ci, "ci-release")
    )
    keys = (
        load_public_key(pem(ci), "ci-release"),
        _minisign_key(release),
    )
    return artifact, Context(keys=keys)


def _minisign_key(key: ed25519.Ed25519PrivateKey):
    import base64

    from relman.keystore import minisign_key_id

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = minisign_key_id(pem(key))
    text = (
        f"untrusted comment: minisign public key {key_id[::-1].hex().upper()}\n"
        + base64.b64encode(b"Ed" + key_id + raw).decode()
        + "\n"
    )
    return load_public_key(text.encode(), "release")


def test_all_checks_from_one_read(
    signed: tuple[Path, Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact, context = signed
    opened: list[str] = []
    real_open = os.open

    def counting_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path) == artifact:
            opened.append("os.open")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(hashing.os, "open", counting_open)
    jobs = plan([artifact], context=context)
    assert set(jobs[0].algorithms) == {"sha256", "blake2b"}
    report = verify_all(jobs)
    (result,) = report.files
    assert result.ok, result.summary
    assert sorted((c.kind, c.format or "") for c in result.checks) == [
        ("checksum", ""),
        ("provenance", "dsse"),
        ("signature", "cosign"),
        ("signature", "minisign"),
    ]
    assert opened == ["os.open"]


def test_tampering_after_signing_fails_every_check(signed: tuple[Path, Context]) -> None:
    artifact, context = signed
    with artifact.open("r+b") as handle:
        handle.seek(12345)
        byte = handle.read(1)[0]
        handle.seek(12345)
        handle.write(bytes([byte ^ 0xFF]))  # a random byte may be 0xff already: 1 in 256
    (result,) = verify_all(plan([artifact], context=context)).files
    assert result.status == "failed"
    assert [c.ok for c in result.checks] == [False, False, False, False]
