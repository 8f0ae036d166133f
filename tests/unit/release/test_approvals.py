"""Approvals: signed over a plan's digest, stored beside the build, counted by preflight;
and the local registry's approval storage and item removal."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from relman.errors import UsageError
from relman.registry.base import Deletes, NotFound, Registry, Write
from relman.registry.local import LocalRegistry
from relman.release import approvals, records
from relman.verify.signatures.base import SignatureFormatError
from relman.verify.signatures.keys import spki_fingerprint
from tests.unit.release.lineage_support import public

DIGEST = "d1" * 32
SHA = "ab" * 32


def approve(key, *, name: str = "rm-ben", digest: str = DIGEST, **overrides) -> bytes:
    fields = {
        "digest": digest,
        "build_name": "acme",
        "build_number": "1",
        "identity": "20250302T101000Z.1.3f1c2a9d8e7b",
        "artifacts": [("app.tgz", SHA)],
        "source": "qa",
        "target": "prod",
        "rollback": False,
        "approver": name,
        "fingerprint": spki_fingerprint(key.public_key()),
    }
    fields.update(overrides)
    return records.sign(approvals.statement(**fields), key)


@pytest.fixture
def keys():
    return {
        "anna": ed25519.Ed25519PrivateKey.generate(),
        "ben": ec.generate_private_key(ec.SECP256R1()),
        "chen": ed25519.Ed25519PrivateKey.generate(),
        "mallory": ed25519.Ed25519PrivateKey.generate(),
    }


def trusted(keys, *names):
    return [public(keys[n], f"rm-{n}") for n in names]


def test_statement_and_read_back(keys) -> None:
    data = approve(keys["ben"])
    doc = json.loads(base64.b64decode(json.loads(data)["payload"]))
    assert doc["predicateType"] == approvals.PREDICATE_TYPE
    assert doc["predicate"]["plan"] == {"sha256": DIGEST}
    assert doc["subject"] == [{"name": "app.tgz", "digest": {"sha256": SHA}}]
    got = approvals.read(data, "prod", trusted(keys, "ben"), source="a")
    assert got.ok and got.detail.startswith("approved by rm-ben (SHA256:")
    assert (got.build_name, got.build_number, got.digest, got.target) == (
        "acme",
        "1",
        DIGEST,
        "prod",
    )
    assert got.sha256 == hashlib.sha256(data).hexdigest()


def test_read_refuses_what_is_not_an_approval(keys) -> None:
    with pytest.raises(SignatureFormatError, match="not an approval"):
        approvals.read(b"garbage", "prod", [], source="a")
    record = records.sign(
        records.statement(
            build_name="acme",
            build_number="1",
            identity=None,
            artifacts=[],
            source="qa",
            target="prod",
            promoter="x",
            fingerprint="y",
        ),
        keys["ben"],
    )
    with pytest.raises(SignatureFormatError, match="not a relman approval"):
        approvals.read(record, "prod", [], source="a")


def test_untrusted_and_mismatched_signers(keys) -> None:
    untrusted = approvals.read(approve(keys["mallory"]), "prod", trusted(keys, "ben"), source="a")
    assert not untrusted.ok and "no signature in the envelope verifies" in untrusted.detail
    forged = approve(keys["mallory"], fingerprint=spki_fingerprint(keys["ben"].public_key()))
    got = approvals.read(forged, "prod", trusted(keys, "ben", "mallory"), source="a")
    assert not got.ok and "names approver key" in got.detail


def test_tally_counts_one_per_trusted_key_other_than_the_promoter(keys) -> None:
    anna = spki_fingerprint(keys["anna"].public_key())
    stored = [
        ("prod", approve(keys["ben"])),
        ("prod", approve(keys["ben"], time=None, approver="ben-again")),
        ("prod", approve(keys["chen"], name="rm-chen")),
        ("prod", approve(keys["anna"], name="rm-anna")),
        ("prod", approve(keys["mallory"], name="mallory")),
        ("prod", approve(keys["chen"], digest="ee" * 32)),
        ("prod", b"{}"),
        ("qa", approve(keys["ben"], target="qa")),
    ]
    result = approvals.tally(
        stored,
        build="acme/1",
        target="prod",
        digest=DIGEST,
        promoter=anna,
        keys=trusted(keys, "anna", "ben", "chen"),
        required=2,
    )
    assert result.ok
    assert [a.approver for a in result.counted] == ["rm-ben", "rm-chen"]
    text = result.detail
    assert text.startswith("2 of 2 required approvals (rm-ben (SHA256:")
    assert "rm-anna (SHA256:" in text and "is the promoter's own key (no self-approval)" in text
    assert "approved another plan (eeeeeeeeeeee…)" in text
    assert "no signature in the envelope verifies" in text
    assert "is not a DSSE envelope" in text
    three = approvals.tally(
        stored,
        build="acme/1",
        target="prod",
        digest=DIGEST,
        promoter=anna,
        keys=trusted(keys, "anna", "ben", "chen"),
        required=3,
    )
    assert not three.ok and three.detail.startswith("2 of 3 required approvals")


def test_tally_when_none_is_required() -> None:
    result = approvals.tally(
        [], build="acme/1", target="qa", digest=DIGEST, promoter=None, keys=[], required=0
    )
    assert result.ok and result.detail == "no approval required; 0 valid (none)"


# -- the local registry's storage --------------------------------------------------------------


@pytest.fixture
def reg(tmp_path: Path) -> LocalRegistry:
    registry = LocalRegistry(tmp_path / "registry", create=True)
    registry.create_repository("libs-dev")
    return registry


def test_local_registry_stores_approvals_by_content(reg: LocalRegistry, keys) -> None:
    assert isinstance(reg, Registry)
    assert reg.approvals("acme/web", "1") == []
    one, two = approve(keys["ben"]), approve(keys["chen"], name="rm-chen")
    dry = reg.put_approval("acme/web", "1", "prod", one, dry_run=True)
    assert dry.dry_run and dry.action == "put-approval"
    assert reg.approvals("acme/web", "1") == []
    write = reg.put_approval("acme/web", "1", "prod", one)
    digest = hashlib.sha256(one).hexdigest()
    assert write == Write(
        "put-approval", f"approvals/acme/web/1/prod/{digest}.dsse.json", f"{len(one)} bytes"
    )
    reg.put_approval("acme/web", "1", "prod", one)
    reg.put_approval("acme/web", "1", "prod", two)
    reg.put_approval("acme/web", "1", "qa", two)
    stored = reg.approvals("acme/web", "1")
    assert sorted(stored) == sorted([("prod", one), ("prod", two), ("qa", two)])
    folder = reg.root / ".relman" / "approvals" / "acme%2Fweb" / "1" / "prod"
    assert (folder / f"{digest}.dsse.json").read_bytes() == one
    (folder / "stray.txt").write_bytes(b"not an approval")
    (reg.root / ".relman" / "approvals" / "acme%2Fweb" / "1" / "file").write_bytes(b"x")
    assert len(reg.approvals("acme/web", "1")) == 3
    with pytest.raises(UsageError, match="starts with '.'"):
        reg.put_approval("acme", "1", ".prod", one)


def test_local_registry_deletes_items(reg: LocalRegistry) -> None:
    assert isinstance(reg, Deletes)
    reg.deploy("libs-dev", "a/app.tgz", b"app", {"build.name": "acme"})
    dry = reg.delete("libs-dev", "a/app.tgz", dry_run=True)
    assert dry.dry_run and reg.location("libs-dev", "a/app.tgz").sha256
    write = reg.delete("libs-dev", "a/app.tgz")
    assert write == Write(
        "delete", "libs-dev/a/app.tgz", f"sha256 {hashlib.sha256(b'app').hexdigest()}"
    )
    with pytest.raises(NotFound):
        reg.location("libs-dev", "a/app.tgz")
    assert not (reg.root / ".relman" / "items" / "libs-dev" / "a" / "app.tgz.json").exists()
    (reg.root / "repos" / "libs-dev" / "by-hand.bin").write_bytes(b"x")
    assert reg.delete("libs-dev", "by-hand.bin").detail == "sha256 unrecorded"
    with pytest.raises(NotFound):
        reg.delete("libs-dev", "by-hand.bin")
