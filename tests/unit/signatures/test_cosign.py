"""cosign sign-blob signatures and key-based Sigstore bundles, against the shared vectors.

The vectors (../shared/vectors/cosign, beside the repository) come from sigstore-conformance:
``a.txt`` signed with a managed P-256 key, as a ``sign-blob`` signature and as bundles whose
Rekor entries carry inclusion proofs, checkpoints and SETs (production and staging logs).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, utils

from relman.verify.hashing import hash_file
from relman.verify.signatures import cosign
from relman.verify.signatures.base import (
    WHOLE_FILE,
    Artifact,
    Context,
    KeyFormatError,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)
from relman.verify.signatures.keys import load_public_key


def shared_vectors() -> Path:
    """``../shared/vectors`` relative to the repository root."""
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "vectors"


VEC = shared_vectors() / "cosign"
OPENSSL = Path(__file__).resolve().parents[2] / "fixtures" / "signatures" / "openssl"
pytestmark = pytest.mark.skipif(not VEC.is_dir(), reason="../shared/vectors is not present")

A_TXT = VEC / "a.txt"
HAPPY = VEC / "managed-key-happy-path" / "bundle.sigstore.json"
STAGING = VEC / "managed-key-and-trusted-root" / "bundle.sigstore.json"
STAGING_ROOT = VEC / "managed-key-and-trusted-root" / "trusted_root.json"
MISMATCH = "signature does not match"


def production_root() -> Path:
    """The public-good trusted root that sigstore-python ships (for the production bundle)."""
    sigstore = pytest.importorskip("sigstore")
    store = Path(sigstore.__file__).parent / "_store"
    found = sorted(store.glob("*tuf-repo-cdn.sigstore.dev*/trusted_root.json"))
    if not found:
        pytest.skip("sigstore-python's production trusted root is not installed")
    return found[0]


def key(path: Path, name: str = "cosign") -> TrustedKey:
    return load_public_key(path.read_bytes(), name)


def run(
    fmt: Any,
    data: bytes,
    artifact: Path = A_TXT,
    *keys: TrustedKey,
    trusted_root: Path | None = None,
) -> tuple[frozenset[str], SignatureResult]:
    pending = fmt.prepare(data, "sig", Context(keys=keys, trusted_root=trusted_root))
    algos = [n for n in pending.needs if n != WHOLE_FILE]
    digests: dict[str, bytes] = {}
    if algos:
        found = hash_file(artifact, algos)
        digests = {n: bytes.fromhex(h) for n, h in found.digests.items()}
    return pending.needs, pending.finish(Artifact(artifact, artifact.stat().st_size, digests))


def tampered(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_bytes(A_TXT.read_bytes().replace(b"sample", b"simple"))
    return path


def flip_der(sig: bytes) -> bytes:
    r, s = utils.decode_dss_signature(sig)
    return utils.encode_dss_signature(r, s ^ 1)


# -- cosign sign-blob --key ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig_name", "key_name"), [("a.txt.sig", "cosign.pub"), ("a.txt.local.sig", "local-cosign.pub")]
)
def test_sign_blob_valid(sig_name: str, key_name: str) -> None:
    trusted = key(VEC / key_name)
    needs, result = run(cosign.FORMAT, (VEC / sig_name).read_bytes(), A_TXT, trusted)
    assert needs == {"sha256"}
    assert result.ok, result.detail
    assert result.format == "cosign"
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint


def test_sign_blob_with_newline_and_several_keys() -> None:
    keys = (key(VEC / "local-cosign.pub", "local"), key(VEC / "cosign.pub"))
    _, result = run(cosign.FORMAT, (VEC / "a.txt.sig").read_bytes() + b"\n", A_TXT, *keys)
    assert result.ok
    assert result.signer == keys[1].label


def test_sign_blob_tampered_file(tmp_path: Path) -> None:
    _, result = run(
        cosign.FORMAT, (VEC / "a.txt.sig").read_bytes(), tampered(tmp_path), key(VEC / "cosign.pub")
    )
    assert not result.ok
    assert MISMATCH in result.detail


def test_sign_blob_wrong_key() -> None:
    keys = (key(VEC / "local-cosign.pub"), key(OPENSSL / "p256.pub.pem", "p256"))
    _, result = run(cosign.FORMAT, (VEC / "a.txt.sig").read_bytes(), A_TXT, *keys)
    assert not result.ok
    assert result.detail.endswith("tried 2 trusted keys")
    _, result = run(cosign.FORMAT, (VEC / "a.txt.sig").read_bytes(), A_TXT, keys[0])
    assert result.detail.endswith("tried 1 trusted key")


def test_sign_blob_modified_signature() -> None:
    sig = base64.b64decode((VEC / "a.txt.sig").read_bytes())
    _, result = run(cosign.FORMAT, base64.b64encode(flip_der(sig)), A_TXT, key(VEC / "cosign.pub"))
    assert not result.ok
    assert MISMATCH in result.detail


@pytest.mark.parametrize("keep", [10, 40, 60, 95])
def test_sign_blob_truncated(keep: int) -> None:
    with pytest.raises(SignatureFormatError, match=r"^a\.txt\.sig: "):
        cosign.FORMAT.prepare((VEC / "a.txt.sig").read_bytes()[:keep], "a.txt.sig", Context())


@pytest.mark.parametrize("data", [b"", b"\n  \n"])
def test_sign_blob_empty(data: bytes) -> None:
    with pytest.raises(SignatureFormatError, match=r"^a\.txt\.sig: is empty"):
        cosign.FORMAT.prepare(data, "a.txt.sig", Context())


@pytest.mark.parametrize(
    "data",
    [
        b"not a signature at all",
        b"\x00\x01\x02garbage",
        base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01" + b"extra"),
        base64.b64encode(b"x" * 70),
    ],
)
def test_sign_blob_garbage(data: bytes) -> None:
    with pytest.raises(SignatureFormatError) as caught:
        cosign.FORMAT.prepare(data, "a.txt.sig", Context())
    assert str(caught.value).startswith("a.txt.sig: ")


def test_sign_blob_over_another_file() -> None:
    # An OpenSSL-made P-256 signature is the same construction: it verifies its own file only.
    data = (OPENSSL / "artifact.bin.p256.sig.b64").read_bytes()
    trusted = key(OPENSSL / "p256.pub.pem", "p256")
    _, result = run(cosign.FORMAT, data, A_TXT, trusted)
    assert not result.ok
    assert MISMATCH in result.detail
    _, result = run(cosign.FORMAT, data, OPENSSL / "artifact.bin", trusted)
    assert result.ok


def test_sign_blob_p384_key_uses_sha384() -> None:
    data = base64.b64encode((OPENSSL / "artifact.bin.p384.sig").read_bytes())
    needs, result = run(
        cosign.FORMAT, data, OPENSSL / "artifact.bin", key(OPENSSL / "p384.pub.pem", "p384")
    )
    assert needs == {"sha384"}
    assert result.ok


def test_key_material_of_another_type_fails_closed() -> None:
    # A TrustedKey whose kind says ECDSA but whose material is not: never a pass.
    rsa_key = key(OPENSSL / "rsa.pub.pem", "rsa")
    liar = TrustedKey("liar", "ecdsa-p256", rsa_key.fingerprint, rsa_key.material)
    _, result = run(cosign.FORMAT, (VEC / "a.txt.sig").read_bytes(), A_TXT, liar)
    assert not result.ok


def test_sign_blob_missing_digest_fails() -> None:
    pending = cosign.FORMAT.prepare(
        (VEC / "a.txt.sig").read_bytes(), "sig", Context(keys=(key(VEC / "cosign.pub"),))
    )
    assert not pending.finish(Artifact(A_TXT, 1, {})).ok


@pytest.mark.parametrize("key_file", ["rsa.pub.pem", "ed25519.pub.pem", None])
def test_sign_blob_key_type_mismatch(key_file: str | None) -> None:
    keys = (key(OPENSSL / key_file, "k"),) if key_file else ()
    needs, result = run(cosign.FORMAT, (VEC / "a.txt.sig").read_bytes(), A_TXT, *keys)
    assert needs == frozenset()
    assert not result.ok
    assert result.detail.startswith("no trusted key of this type")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ((VEC / "a.txt.sig").read_bytes() if VEC.is_dir() else b"", True),
        (b"", False),
        (b"MEUC\nMEUC\n", False),
        (b"x" * 300, False),
        (b"not base64!", False),
        (base64.b64encode(b"\x30\x00"), False),
    ],
)
def test_sign_blob_sniff(data: bytes, expected: bool) -> None:
    assert cosign.FORMAT.sniff(data, "a.txt.sig") is expected


# -- key-based bundles ---------------------------------------------------------------------


def bundle(path: Path = STAGING) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_bytes())
    return doc


def dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def entry(doc: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = doc["verificationMaterial"]["tlogEntries"][0]
    return e


def run_bundle(
    doc: dict[str, Any] | bytes,
    *keys: TrustedKey,
    artifact: Path = A_TXT,
    trusted_root: Path | None = STAGING_ROOT,
) -> SignatureResult:
    data = doc if isinstance(doc, bytes) else dump(doc)
    if not keys:
        keys = (key(VEC / "cosign.pub"),)
    return run(cosign.BUNDLE_FORMAT, data, artifact, *keys, trusted_root=trusted_root)[1]


def test_bundle_with_trusted_root() -> None:
    trusted = key(VEC / "cosign.pub")
    needs, result = run(
        cosign.BUNDLE_FORMAT, STAGING.read_bytes(), A_TXT, trusted, trusted_root=STAGING_ROOT
    )
    assert needs == {"sha256"}
    assert result.ok, result.detail
    assert result.format == "cosign-bundle"
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint
    assert result.facts["tlog"].startswith("verified (log index 51753644: inclusion proof")
    assert result.facts["signed_at"] == "2026-01-07T18:36:05+00:00"


def test_production_bundle_with_production_root() -> None:
    result = run_bundle(HAPPY.read_bytes(), trusted_root=production_root())
    assert result.ok, result.detail
    assert "771488337" in result.facts["tlog"]


@pytest.mark.parametrize("path", [HAPPY, STAGING])
def test_bundle_without_trusted_root(path: Path) -> None:
    result = run_bundle(path.read_bytes(), trusted_root=None)
    assert result.ok
    assert result.facts["tlog"] == "not checked (no trusted root given)"


def test_bundle_without_tlog_entries() -> None:
    doc = bundle()
    del doc["verificationMaterial"]["tlogEntries"]
    result = run_bundle(doc, trusted_root=None)
    assert result.ok
    assert result.facts["tlog"] == "none in bundle"
    # With a trusted root, the log is required: stripping it is a downgrade.
    result = run_bundle(doc)
    assert not result.ok
    assert result.detail == "transparency log: the bundle has no log entry to check"


def test_bundle_from_another_log_is_refused() -> None:
    result = run_bundle(HAPPY.read_bytes(), trusted_root=STAGING_ROOT)
    assert not result.ok
    assert "is not in the trusted root" in result.detail


def test_bundle_tampered_file(tmp_path: Path) -> None:
    result = run_bundle(bundle(), artifact=tampered(tmp_path))
    assert not result.ok
    assert "differs from the bundle's messageDigest" in result.detail


def test_bundle_wrong_key() -> None:
    result = run_bundle(bundle(), key(VEC / "local-cosign.pub"))
    assert not result.ok
    assert "named by the bundle is not trusted" in result.detail
    doc = bundle()
    del doc["verificationMaterial"]["publicKey"]["hint"]
    result = run_bundle(doc, key(VEC / "local-cosign.pub"))
    assert result.detail == f"{cosign.MISMATCH}; tried 1 trusted key"


def test_bundle_hinted_key_is_tried_first() -> None:
    keys = (key(VEC / "local-cosign.pub", "local"), key(VEC / "cosign.pub", "conformance"))
    result = run_bundle(bundle(), *keys)
    assert result.ok
    assert result.signer == keys[1].label


def test_bundle_modified_signature() -> None:
    doc = bundle()
    sig = base64.b64decode(doc["messageSignature"]["signature"])
    doc["messageSignature"]["signature"] = base64.b64encode(flip_der(sig)).decode()
    result = run_bundle(doc, trusted_root=None)
    assert not result.ok
    assert MISMATCH in result.detail


def test_bundle_signature_swapped_in_from_another_entry() -> None:
    # Both signatures are valid over a.txt with the same key; the log recorded the other one.
    doc = bundle()
    doc["messageSignature"]["signature"] = bundle(HAPPY)["messageSignature"]["signature"]
    assert run_bundle(doc, trusted_root=None).ok
    result = run_bundle(doc)
    assert not result.ok
    assert result.detail == "transparency log: the log body records another signature"


def test_bundle_over_another_file() -> None:
    doc = bundle()
    result = run_bundle(doc, artifact=OPENSSL / "artifact.bin")
    assert not result.ok
    assert "messageDigest" in result.detail
    del doc["messageSignature"]["messageDigest"]
    result = run_bundle(doc, artifact=OPENSSL / "artifact.bin", trusted_root=None)
    assert not result.ok
    assert MISMATCH in result.detail


def test_bundle_without_message_digest_still_verifies() -> None:
    doc = bundle()
    del doc["messageSignature"]["messageDigest"]
    assert run_bundle(doc).ok


@pytest.mark.parametrize("key_file", ["rsa.pub.pem", "ed25519.pub.pem"])
def test_bundle_key_type_mismatch(key_file: str) -> None:
    result = run_bundle(bundle(), key(OPENSSL / key_file, "k"))
    assert not result.ok
    assert result.detail.startswith("no trusted key of this type")


def test_bundle_missing_digest_fails() -> None:
    pending = cosign.BUNDLE_FORMAT.prepare(STAGING.read_bytes(), "b", Context())
    result = pending.finish(Artifact(A_TXT, 1, {}))
    assert not result.ok
    assert "not computed" in result.detail


def _b64_flip(value: str, at: int = 0) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[at] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _set_body(doc: dict[str, Any]) -> None:
    body = json.loads(base64.b64decode(entry(doc)["canonicalizedBody"]))
    body["spec"]["data"]["hash"]["value"] = "00" * 32
    entry(doc)["canonicalizedBody"] = base64.b64encode(json.dumps(body).encode()).decode()


def _checkpoint(doc: dict[str, Any], old: str, new: str) -> None:
    proof = entry(doc)["inclusionProof"]
    proof["checkpoint"]["envelope"] = proof["checkpoint"]["envelope"].replace(old, new)


TLOG_TAMPERING = {
    "body": (_set_body, "the inclusion proof does not lead"),
    "proof hash": (
        lambda d: entry(d)["inclusionProof"]["hashes"].__setitem__(
            0, _b64_flip(entry(d)["inclusionProof"]["hashes"][0])
        ),
        "the inclusion proof does not lead",
    ),
    "proof index": (
        lambda d: entry(d)["inclusionProof"].__setitem__("logIndex", "20071231"),
        "the inclusion proof does not lead",
    ),
    "index beyond tree": (
        lambda d: entry(d)["inclusionProof"].__setitem__("logIndex", "20071233"),
        "the inclusion proof does not lead",
    ),
    "short proof": (
        lambda d: entry(d)["inclusionProof"]["hashes"].pop(),
        "the inclusion proof does not lead",
    ),
    "long proof": (
        lambda d: entry(d)["inclusionProof"]["hashes"].append(
            entry(d)["inclusionProof"]["hashes"][0]
        ),
        "the inclusion proof does not lead",
    ),
    "checkpoint size": (
        lambda d: _checkpoint(d, "\n20071233\n", "\n20071234\n"),
        "the checkpoint names another tree size or root",
    ),
    "checkpoint origin": (
        lambda d: _checkpoint(d, "rekor.sigstage.dev - ", "rekor.example - "),
        "the checkpoint is not signed by the log key",
    ),
    "checkpoint signature": (
        lambda d: _checkpoint(d, "0y8wozBFAiEAg5E", "0y8wozBFAiEAg5F"),
        "the checkpoint is not signed by the log key",
    ),
    "checkpoint key hint": (
        lambda d: _checkpoint(d, "0y8wozBFAiEAg5E", "0y8xozBFAiEAg5E"),
        "the checkpoint is not signed by the log key",
    ),
    "set": (
        lambda d: entry(d)["inclusionPromise"].__setitem__(
            "signedEntryTimestamp",
            _b64_flip(entry(d)["inclusionPromise"]["signedEntryTimestamp"], 30),
        ),
        "the signed entry timestamp does not verify",
    ),
    "integrated time": (
        lambda d: entry(d).__setitem__("integratedTime", "1767810966"),
        "the signed entry timestamp does not verify",
    ),
    "global index": (
        lambda d: entry(d).__setitem__("logIndex", "51753645"),
        "the signed entry timestamp does not verify",
    ),
    "before the key was valid": (
        lambda d: entry(d).__setitem__("integratedTime", "1000000000"),
        "the log key was not valid",
    ),
    "no proof and no promise": (
        lambda d: [entry(d).pop("inclusionProof"), entry(d).pop("inclusionPromise")],
        "neither an inclusion proof nor a signed entry timestamp",
    ),
    "kind version": (
        lambda d: entry(d)["kindVersion"].__setitem__("version", "0.0.2"),
        "log entry kind hashedrekord 0.0.2 is not supported",
    ),
    "log id": (
        lambda d: entry(d)["logId"].__setitem__("keyId", _b64_flip(entry(d)["logId"]["keyId"])),
        "is not in the trusted root",
    ),
}


@pytest.mark.parametrize("case", sorted(TLOG_TAMPERING))
def test_bundle_tlog_tampering(case: str) -> None:
    mutate, reason = TLOG_TAMPERING[case]
    doc = bundle()
    mutate(doc)
    assert run_bundle(doc, trusted_root=None).ok  # without a trusted root the log is not checked
    result = run_bundle(doc)
    assert not result.ok
    assert result.detail.startswith("transparency log: ")
    assert reason in result.detail


def test_bundle_set_only_and_proof_only() -> None:
    doc = bundle()
    del entry(doc)["inclusionProof"]
    result = run_bundle(doc)
    assert result.ok
    assert result.facts["tlog"] == "verified (log index 51753644: signed entry timestamp)"
    doc = bundle()
    del entry(doc)["inclusionPromise"]
    result = run_bundle(doc)
    assert result.ok
    assert result.facts["tlog"] == "verified (log index 51753644: inclusion proof, checkpoint)"


def test_log_key_validity_end(tmp_path: Path) -> None:
    root = json.loads(STAGING_ROOT.read_bytes())
    root["tlogs"][0]["publicKey"]["validFor"]["end"] = "2022-01-01T00:00:00Z"
    path = tmp_path / "trusted_root.json"
    path.write_text(json.dumps(root))
    result = run_bundle(bundle(), trusted_root=path)
    assert not result.ok
    assert "not valid at the entry's integrated time" in result.detail


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read"),
        (b"not json", "is not a Sigstore trusted_root.json"),
        (b'{"tlogs": [{"logId": {}}]}', "is not a Sigstore trusted_root.json"),
        (b'{"tlogs": []}', "holds no transparency log keys"),
    ],
)
def test_bad_trusted_root(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "trusted_root.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(KeyFormatError, match=message) as caught:
        run_bundle(bundle(), trusted_root=path)
    assert str(caught.value).startswith(str(path))


def _body_of(doc: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(base64.b64decode(entry(doc)["canonicalizedBody"]))
    return body


def _parsed_entry(body: dict[str, Any] | bytes) -> Any:
    doc = bundle()
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    entry(doc)["canonicalizedBody"] = base64.b64encode(raw).decode()
    pending = cosign.BUNDLE_FORMAT.prepare(dump(doc), "b", Context())
    return pending.entries[0]


def test_body_consistency_checks() -> None:
    # Reached only after the log's signatures verify; checked here directly.
    doc = bundle()
    digest = hashlib.sha256(A_TXT.read_bytes()).digest()
    sig = base64.b64decode(doc["messageSignature"]["signature"])
    signer = serialization.load_pem_public_key((VEC / "cosign.pub").read_bytes())
    good = _body_of(doc)
    assert cosign._body_consistent(_parsed_entry(good), digest, sig, signer) is None

    def check(body: dict[str, Any] | bytes, *, key: Any = signer) -> str | None:
        return cosign._body_consistent(_parsed_entry(body), digest, sig, key)

    other_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert check(good, key=other_key) == "the log body records another key"
    wrong_digest = copy.deepcopy(good)
    wrong_digest["spec"]["data"]["hash"]["value"] = "00" * 32
    assert check(wrong_digest) == "the log body records another file digest"
    wrong_alg = copy.deepcopy(good)
    wrong_alg["spec"]["data"]["hash"]["algorithm"] = "sha512"
    assert check(wrong_alg) == "the log body records another file digest"
    wrong_kind = copy.deepcopy(good)
    wrong_kind["kind"] = "rekord"
    assert check(wrong_kind) == "the log body is not a hashedrekord entry"
    bad_key = copy.deepcopy(good)
    bad_key["spec"]["signature"]["publicKey"]["content"] = base64.b64encode(b"junk").decode()
    assert check(bad_key) == "the log body records another key"
    missing = copy.deepcopy(good)
    del missing["spec"]["signature"]
    assert check(missing) == "the log body is not a readable hashedrekord entry"
    assert check(b"[1, 2]") == "the log body is not a readable hashedrekord entry"


def test_log_signature_key_types() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    assert cosign._log_signature_ok(ed.public_key(), ed.sign(b"note"), b"note")
    assert not cosign._log_signature_ok(ed.public_key(), ed.sign(b"note"), b"other")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    assert not cosign._log_signature_ok(rsa_key, b"x" * 128, b"note")


def test_inclusion_root_small_trees() -> None:
    def h(*parts: bytes) -> bytes:
        return hashlib.sha256(b"".join(parts)).digest()

    leaves = [h(b"\x00", bytes([i])) for i in range(3)]
    n01 = h(b"\x01", leaves[0], leaves[1])
    root3 = h(b"\x01", n01, leaves[2])
    assert cosign.inclusion_root(0, 3, leaves[0], (leaves[1], leaves[2])) == root3
    assert cosign.inclusion_root(1, 3, leaves[1], (leaves[0], leaves[2])) == root3
    assert cosign.inclusion_root(2, 3, leaves[2], (n01,)) == root3
    assert cosign.inclusion_root(0, 1, leaves[0], ()) == leaves[0]
    assert cosign.inclusion_root(3, 3, leaves[2], (n01,)) is None
    assert cosign.inclusion_root(2, 3, leaves[2], (n01, n01)) is None
    assert cosign.inclusion_root(0, 3, leaves[0], (leaves[1],)) is None


def _m(path: str, value: Any) -> Any:
    """A mutation that sets (or deletes, for ...) a value at a dotted path of the bundle."""

    def mutate(doc: dict[str, Any]) -> None:
        parts = path.split(".")
        node: Any = doc
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
        if value is ...:
            del node[last]
        else:
            node[last] = value

    return mutate


E = "verificationMaterial.tlogEntries.0"
BAD_BUNDLES = {
    "no signature": (_m("messageSignature.signature", ...), "the signature is missing"),
    "signature not base64": (_m("messageSignature.signature", "@@@"), "not valid base64"),
    "signature not DER": (_m("messageSignature.signature", "AAAA"), "not a DER ECDSA"),
    "digest algorithm": (
        _m("messageSignature.messageDigest.algorithm", "MD5"),
        "unsupported messageDigest algorithm",
    ),
    "digest length": (
        _m("messageSignature.messageDigest.digest", "AAAA"),
        "the messageDigest has the wrong length",
    ),
    "message signature not an object": (_m("messageSignature", []), "is missing or not an object"),
    "public key not an object": (
        _m("verificationMaterial.publicKey", "x"),
        "publicKey is missing or not an object",
    ),
    "tlog entries not a list": (
        _m("verificationMaterial.tlogEntries", {}),
        "tlogEntries is not a list",
    ),
    "tlog entry not an object": (_m(E, "x"), "a tlog entry is missing or not an object"),
    "no body": (_m(f"{E}.canonicalizedBody", ...), "canonicalizedBody is missing"),
    "no kind version": (_m(f"{E}.kindVersion", ...), "kindVersion is missing"),
    "log index text": (_m(f"{E}.logIndex", "many"), "logIndex is not a number"),
    "log index bool": (_m(f"{E}.logIndex", True), "logIndex is missing or not a number"),
    "log index negative": (_m(f"{E}.logIndex", -1), "logIndex is negative"),
    "no key id": (_m(f"{E}.logId.keyId", ...), "keyId is missing"),
    "promise": (_m(f"{E}.inclusionPromise", 3), "the inclusion promise is missing"),
    "hashes": (_m(f"{E}.inclusionProof.hashes", "x"), "hashes are not a list"),
    "no checkpoint": (_m(f"{E}.inclusionProof.checkpoint", ...), "the checkpoint is missing"),
    "checkpoint not a note": (
        _m(f"{E}.inclusionProof.checkpoint.envelope", "just text"),
        "the checkpoint is not a signed note",
    ),
    "checkpoint without root": (
        _m(f"{E}.inclusionProof.checkpoint.envelope", "origin\n5\n\n— x AAAAAAAA\n"),
        "has no origin, size and root",
    ),
    "checkpoint signature line": (
        _m(f"{E}.inclusionProof.checkpoint.envelope", "o\n5\nAAAA\n\nnot a signature\n"),
        "malformed signature line",
    ),
    "checkpoint signature short": (
        _m(f"{E}.inclusionProof.checkpoint.envelope", "o\n5\nAAAA\n\n— x AAAA\n"),
        "a checkpoint signature is too short",
    ),
    "checkpoint size": (
        _m(f"{E}.inclusionProof.checkpoint.envelope", "o\nfive\nAAAA\n\n— x AAAAAAAA\n"),
        "the checkpoint tree size is not a number",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_bundle_format_errors(case: str) -> None:
    mutate, message = BAD_BUNDLES[case]
    doc = bundle()
    mutate(doc)
    with pytest.raises(SignatureFormatError, match=message) as caught:
        cosign.BUNDLE_FORMAT.prepare(dump(doc), "dir/a.sigstore.json", Context())
    assert str(caught.value).startswith("dir/a.sigstore.json: ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b'{"mediaType": "application/vnd.dev.sigstore.bundle', "is not JSON"),
        (b"\x89PNG garbage", "is not JSON"),
        (b'{"mediaType": "something else"}', "is not a key-based Sigstore bundle"),
        (b"[]", "is not a key-based Sigstore bundle"),
    ],
)
def test_bundle_unparsable(data: bytes, message: str) -> None:
    with pytest.raises(SignatureFormatError, match=message):
        cosign.BUNDLE_FORMAT.prepare(data, "b.json", Context())


def test_bundle_truncated() -> None:
    data = STAGING.read_bytes()
    with pytest.raises(SignatureFormatError, match="is not JSON"):
        cosign.BUNDLE_FORMAT.prepare(data[: len(data) // 2], "b.json", Context())


def test_bad_hint_is_ignored() -> None:
    doc = bundle()
    doc["verificationMaterial"]["publicKey"]["hint"] = "not base64!"
    assert run_bundle(doc).ok


def test_keyless_bundle_is_not_ours() -> None:
    keyless = shared_vectors() / "sigstore" / "bundle_v3.txt.sigstore"
    if not keyless.is_file():
        pytest.skip("no keyless bundle in the shared vectors")
    data = keyless.read_bytes()
    assert not cosign.BUNDLE_FORMAT.sniff(data, keyless.name)
    with pytest.raises(SignatureFormatError, match="not a key-based Sigstore bundle"):
        cosign.BUNDLE_FORMAT.prepare(data, keyless.name, Context())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (STAGING.read_bytes() if VEC.is_dir() else b"", True),
        (HAPPY.read_bytes() if VEC.is_dir() else b"", True),
        (b"", False),
        (b"{not json", False),
        (b"[]", False),
        (b"MEUCIQ==", False),
    ],
)
def test_bundle_sniff(data: bytes, expected: bool) -> None:
    assert cosign.BUNDLE_FORMAT.sniff(data, "x.sigstore.json") is expected


def test_entry_dataclass_is_frozen() -> None:
    pending = cosign.BUNDLE_FORMAT.prepare(STAGING.read_bytes(), "b", Context())
    with pytest.raises(dataclasses.FrozenInstanceError):
        pending.entries[0].log_index = 1  # type: ignore[misc]
