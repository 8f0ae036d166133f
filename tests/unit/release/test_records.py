"""Promotion records: signed, stored beside the build, verified when read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from relman.registry.local import LocalRegistry
from relman.release import records
from relman.verify.signatures.base import SignatureFormatError
from relman.verify.signatures.keys import load_public_key, spki_fingerprint

SHA = "ab" * 32


def trusted(key, name: str = "rm-anna"):
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return load_public_key(pem, name)


def make(key, **overrides) -> bytes:
    fields = {
        "build_name": "payments-api",
        "build_number": "238",
        "identity": "20261126T143005Z.238.3f9c2ab1d0e4",
        "artifacts": [("payments-api-1.4.2.tar.gz", SHA)],
        "source": "staging",
        "target": "prod",
        "promoter": "rm-anna",
        "fingerprint": spki_fingerprint(key.public_key()),
        "checks": [{"name": "re-hash", "ok": True, "detail": "same sha256"}],
        "registry": "local",
    }
    fields.update(overrides)
    return records.sign(records.statement(**fields), key)


@pytest.mark.parametrize(
    "key", [ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())]
)
def test_sign_and_read_back(key) -> None:
    record = records.read(make(key), [trusted(key)], source="prod.dsse.json")
    assert record.ok, record.detail
    assert (record.build_name, record.build_number, record.source, record.target) == (
        "payments-api",
        "238",
        "staging",
        "prod",
    )
    assert record.subjects == {"payments-api-1.4.2.tar.gz": SHA}
    assert record.signer is not None and record.signer.startswith("rm-anna (SHA256:")
    assert record.time is not None and record.checks[0]["ok"] is True


def test_untrusted_or_mismatched_signers_are_not_ok() -> None:
    anna, mallory = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    assert not records.read(make(anna), [trusted(mallory)], source="r").ok
    forged = make(mallory, fingerprint=spki_fingerprint(anna.public_key()))
    result = records.read(forged, [trusted(mallory, "mallory")], source="r")
    assert not result.ok and "names promoter key" in result.detail


def test_tampered_payload_fails() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    envelope = json.loads(make(key))
    import base64

    doc = json.loads(base64.b64decode(envelope["payload"]))
    doc["predicate"]["to"] = "dev"
    envelope["payload"] = base64.b64encode(json.dumps(doc).encode()).decode()
    assert not records.read(json.dumps(envelope).encode(), [trusted(key)], source="r").ok


@pytest.mark.parametrize(
    "data", [b"", b"not json", b'{"payloadType": "x", "payload": "e30=", "signatures": []}']
)
def test_garbage_is_a_format_error(data: bytes) -> None:
    with pytest.raises(SignatureFormatError):
        records.read(data, [], source="r")


def test_local_registry_keeps_every_record(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    registry = LocalRegistry(tmp_path / "reg", create=True)
    dry = registry.put_promotion_record("payments-api", "238", "prod", make(key), dry_run=True)
    assert dry.dry_run and registry.promotion_records("payments-api", "238") == []
    registry.put_promotion_record("payments-api", "238", "qa", make(key, source="dev", target="qa"))
    registry.put_promotion_record("payments-api", "238", "prod", make(key))
    registry.put_promotion_record("payments-api", "238", "prod", make(key, source="prod"))
    stored = registry.promotion_records("payments-api", "238")
    assert [target for target, _ in stored] == ["qa", "prod", "prod"]
    assert all(records.read(data, [trusted(key)], source=t).ok for t, data in stored)
    assert registry.promotion_records("other", "1") == []
