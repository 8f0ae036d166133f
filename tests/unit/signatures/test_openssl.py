"""OpenSSL detached signatures, against fixtures made by openssl 3.0 (fixtures/.../openssl/gen.sh)."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, utils

from relman.verify.hashing import hash_file
from relman.verify.signatures import openssl
from relman.verify.signatures.base import (
    WHOLE_FILE,
    Artifact,
    Context,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)
from relman.verify.signatures.keys import load_public_key

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "signatures" / "openssl"
ARTIFACT = FIX / "artifact.bin"
MISMATCH = "signature does not match"


def key(name: str) -> TrustedKey:
    return load_public_key((FIX / name).read_bytes(), name.split(".")[0])


def run(
    sig: bytes, artifact: Path = ARTIFACT, *keys: TrustedKey, source: str = "f.sig"
) -> tuple[frozenset[str], SignatureResult]:
    """prepare + one hashing pass + finish, as the dispatcher does."""
    pending = openssl.FORMAT.prepare(sig, source, Context(keys=keys))
    algos = [n for n in pending.needs if n != WHOLE_FILE]
    digests: dict[str, bytes] = {}
    if algos:
        found = hash_file(artifact, algos)
        digests = {n: bytes.fromhex(h) for n, h in found.digests.items()}
    result = pending.finish(Artifact(artifact, artifact.stat().st_size, digests))
    return pending.needs, result


def sig(name: str) -> bytes:
    return (FIX / name).read_bytes()


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def raw_rs(der: bytes, size: int) -> bytes:
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


VALID = [
    # signature file, key file, needs, algorithm
    ("artifact.bin.rsa.sig", "rsa.pub.pem", {"sha256"}, "RSA PKCS#1 v1.5 SHA-256"),
    ("artifact.bin.rsa.sig.b64", "rsa.pub.pem", {"sha256"}, "RSA PKCS#1 v1.5 SHA-256"),
    ("artifact.bin.rsa.sig", "rsa.pkcs1.pub.pem", {"sha256"}, "RSA PKCS#1 v1.5 SHA-256"),
    ("artifact.bin.rsa-sha512.sig", "rsa.pub.pem", {"sha512"}, "RSA PKCS#1 v1.5 SHA-512"),
    ("artifact.bin.rsa-pss.sig", "rsa.pub.pem", {"sha256"}, "RSA PSS SHA-256"),
    ("artifact.bin.p256.sig", "p256.pub.pem", {"sha256"}, "ECDSA P-256 SHA-256"),
    ("artifact.bin.p256.sig.b64", "p256.pub.pem", {"sha256"}, "ECDSA P-256 SHA-256"),
    ("artifact.bin.p384.sig", "p384.pub.pem", {"sha384"}, "ECDSA P-384 SHA-384"),
    ("artifact.bin.ed25519.sig", "ed25519.pub.pem", {WHOLE_FILE}, "Ed25519"),
    ("artifact.bin.ed25519.sig.b64", "ed25519.pub.pem", {WHOLE_FILE}, "Ed25519"),
]


@pytest.mark.parametrize(("sig_name", "key_name", "needs", "algorithm"), VALID)
def test_valid(sig_name: str, key_name: str, needs: set[str], algorithm: str) -> None:
    trusted = key(key_name)
    got_needs, result = run(sig(sig_name), ARTIFACT, trusted)
    assert got_needs == needs
    assert result.ok, result.detail
    assert result.format == "openssl"
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint
    assert result.facts["algorithm"] == algorithm
    assert algorithm in result.detail


@pytest.mark.parametrize(("sig_name", "key_name", "needs", "algorithm"), VALID)
def test_tampered_file(
    tmp_path: Path, sig_name: str, key_name: str, needs: set[str], algorithm: str
) -> None:
    tampered = tmp_path / "artifact.bin"
    data = ARTIFACT.read_bytes()
    tampered.write_bytes(flip(data, len(data) // 2))
    _, result = run(sig(sig_name), tampered, key(key_name))
    assert not result.ok
    assert MISMATCH in result.detail


@pytest.mark.parametrize(
    ("sig_name", "key_name"),
    [
        ("artifact.bin.rsa.sig", "rsa2.pub.pem"),
        ("artifact.bin.rsa-pss.sig", "rsa2.pub.pem"),
        ("artifact.bin.p256.sig", "p256b.pub.pem"),
        ("artifact.bin.ed25519.sig", "ed25519b.pub.pem"),
    ],
)
def test_wrong_key(sig_name: str, key_name: str) -> None:
    _, result = run(sig(sig_name), ARTIFACT, key(key_name))
    assert not result.ok
    assert result.detail == f"{openssl.MISMATCH}; tried 1 trusted key"
    assert result.signer is None


def test_several_keys_the_right_one_is_named() -> None:
    keys = [key(n) for n in ("rsa2.pub.pem", "p256b.pub.pem", "p384.pub.pem", "p256.pub.pem")]
    _, result = run(sig("artifact.bin.p256.sig"), ARTIFACT, *keys)
    assert result.ok
    assert result.signer == keys[3].label


def generated_ed25519(name: str) -> tuple[ed25519.Ed25519PrivateKey, TrustedKey]:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, load_public_key(pem, name)


def test_several_wrong_keys_are_counted() -> None:
    _, result = run(sig("artifact.bin.rsa.sig"), ARTIFACT, key("rsa2.pub.pem"), key("rsa2.pub.pem"))
    assert result.detail.endswith("tried 1 trusted key")
    _, other = generated_ed25519("other")
    _, result = run(
        sig("artifact.bin.ed25519.sig"),
        ARTIFACT,
        key("ed25519b.pub.pem"),
        other,
        key("rsa2.pub.pem"),
    )
    assert not result.ok
    assert result.detail == f"{openssl.MISMATCH}; tried 2 trusted keys"


@pytest.mark.parametrize(
    ("sig_name", "key_name", "at"),
    [
        ("artifact.bin.rsa.sig", "rsa.pub.pem", 100),
        ("artifact.bin.rsa-pss.sig", "rsa.pub.pem", 255),
        ("artifact.bin.p256.sig", "p256.pub.pem", -1),
        ("artifact.bin.p384.sig", "p384.pub.pem", -5),
        ("artifact.bin.ed25519.sig", "ed25519.pub.pem", 10),
        ("artifact.bin.ed25519.sig", "ed25519.pub.pem", 40),
    ],
)
def test_modified_signature(sig_name: str, key_name: str, at: int) -> None:
    data = sig(sig_name)
    _, result = run(flip(data, at % len(data)), ARTIFACT, key(key_name))
    assert not result.ok
    assert MISMATCH in result.detail


def test_modified_der_structure_is_a_format_error() -> None:
    data = sig("artifact.bin.p256.sig")
    with pytest.raises(SignatureFormatError, match=r"^f\.sig: \d+ bytes is not"):
        run(flip(data, 1), ARTIFACT, key("p256.pub.pem"))


@pytest.mark.parametrize(
    ("sig_name", "keep"),
    [
        ("artifact.bin.rsa.sig", 200),
        ("artifact.bin.rsa.sig", 255),
        ("artifact.bin.p256.sig", 40),
        ("artifact.bin.p384.sig", 101),
        ("artifact.bin.ed25519.sig", 32),
        ("artifact.bin.ed25519.sig", 63),
    ],
)
def test_truncated_signature(sig_name: str, keep: int) -> None:
    with pytest.raises(SignatureFormatError, match=r"^f\.sig: .*truncated or not a signature"):
        openssl.FORMAT.prepare(sig(sig_name)[:keep], "f.sig", Context(keys=(key("rsa.pub.pem"),)))


def test_truncated_base64_signature() -> None:
    text = sig("artifact.bin.rsa.sig.b64")
    with pytest.raises(SignatureFormatError):
        openssl.FORMAT.prepare(text[: len(text) // 2], "f.sig", Context())


@pytest.mark.parametrize("data", [b"", b"\n", b"  \r\n\t"])
def test_empty_signature_file(data: bytes) -> None:
    with pytest.raises(SignatureFormatError, match=r"^f\.sig: is empty, not a signature"):
        openssl.FORMAT.prepare(data, "f.sig", Context(keys=(key("rsa.pub.pem"),)))


@pytest.mark.parametrize(
    "data",
    [
        b"this is not a signature\n",
        b"abc=\n",
        bytes(range(50)),
        b"\xff" * 300,
        b"<html>404 Not Found</html>\n" * 3,
    ],
)
def test_garbage(data: bytes) -> None:
    with pytest.raises(SignatureFormatError) as caught:
        openssl.FORMAT.prepare(data, "dir/f.sig", Context(keys=(key("rsa.pub.pem"),)))
    assert str(caught.value).startswith("dir/f.sig: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("sig_name", "key_name"),
    [("other.bin.rsa.sig", "rsa.pub.pem"), ("other.bin.ed25519.sig", "ed25519.pub.pem")],
)
def test_signature_over_another_file(sig_name: str, key_name: str) -> None:
    _, result = run(sig(sig_name), ARTIFACT, key(key_name))
    assert not result.ok
    assert MISMATCH in result.detail
    _, result = run(sig(sig_name), FIX / "other.bin", key(key_name))
    assert result.ok


def test_sha1_rsa_signature_is_refused() -> None:
    needs, result = run(sig("artifact.bin.rsa-sha1.sig"), ARTIFACT, key("rsa.pub.pem"))
    assert needs == {"sha256"}  # not a DigestInfo we accept: tried as PSS/SHA-256
    assert not result.ok
    assert MISMATCH in result.detail


@pytest.mark.parametrize(
    ("sig_name", "key_names"),
    [
        ("artifact.bin.ed25519.sig", ["rsa.pub.pem", "p384.pub.pem"]),
        ("artifact.bin.rsa.sig", ["p256.pub.pem", "ed25519.pub.pem"]),
        ("artifact.bin.p384.sig", ["rsa.pub.pem", "ed25519.pub.pem"]),
    ],
)
def test_key_type_mismatch(sig_name: str, key_names: list[str]) -> None:
    needs, result = run(sig(sig_name), ARTIFACT, *[key(n) for n in key_names])
    assert needs == frozenset()
    assert not result.ok
    assert result.detail.startswith("no trusted key of this type")
    assert "fits a" in result.detail


def test_no_key_of_any_openssl_type() -> None:
    minisign_key = load_public_key(
        (FIX.parent / "minisign" / "minisign.pub").read_bytes(), "minisign"
    )
    for keys in ((), (minisign_key,)):
        needs, result = run(sig("artifact.bin.rsa.sig"), ARTIFACT, *keys)
        assert needs == frozenset()
        assert not result.ok
        assert result.detail.startswith("no trusted key of this type (an RSA")


@pytest.mark.parametrize(
    ("sig_name", "size"), [("artifact.bin.p256.sig", 32), ("artifact.bin.p384.sig", 48)]
)
def test_raw_r_s_ecdsa(sig_name: str, size: int) -> None:
    raw = raw_rs(sig(sig_name), size)
    key_name = "p256.pub.pem" if size == 32 else "p384.pub.pem"
    for data in (raw, base64.b64encode(raw) + b"\n"):
        _, result = run(data, ARTIFACT, key(key_name))
        assert result.ok, result.detail
    _, result = run(flip(raw, 5), ARTIFACT, key(key_name))
    assert not result.ok


def test_raw_r_s_with_zero_half_is_not_tried() -> None:
    needs, result = run(bytes(64), ARTIFACT, key("p256.pub.pem"))
    assert needs == frozenset()
    assert not result.ok


def test_64_byte_signature_tried_as_ed25519_and_raw_ecdsa() -> None:
    keys = (key("p256.pub.pem"), key("ed25519.pub.pem"))
    needs, result = run(sig("artifact.bin.ed25519.sig"), ARTIFACT, *keys)
    assert needs == {"sha256", WHOLE_FILE}
    assert result.ok
    assert result.signer == keys[1].label


def test_ed25519_over_an_empty_file(tmp_path: Path) -> None:
    # OpenSSL 3.0 cannot sign an empty file with -rawin, so this one is made in Python.
    private, trusted = generated_ed25519("empty-signer")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    _, result = run(private.sign(b""), empty, trusted)
    assert result.ok
    _, result = run(private.sign(b"x"), empty, trusted)
    assert not result.ok


def test_missing_digest_fails_closed() -> None:
    pending = openssl.FORMAT.prepare(
        sig("artifact.bin.rsa.sig"), "f.sig", Context(keys=(key("rsa.pub.pem"),))
    )
    result = pending.finish(Artifact(ARTIFACT, ARTIFACT.stat().st_size, {}))
    assert not result.ok


def test_copy_of_artifact_verifies(tmp_path: Path) -> None:
    copy = tmp_path / "renamed.tar.gz"
    shutil.copy(ARTIFACT, copy)
    _, result = run(sig("artifact.bin.p384.sig"), copy, key("p384.pub.pem"))
    assert result.ok


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.sig", sig("artifact.bin.rsa.sig"), True),
        ("a.sig.b64", sig("artifact.bin.rsa.sig.b64"), True),
        ("a.SIGNATURE", sig("artifact.bin.p256.sig"), True),
        ("a.sign", sig("artifact.bin.ed25519.sig.b64"), True),
        ("a.txt", sig("artifact.bin.rsa.sig"), False),
        ("a.sig", b"", False),
        ("a.sig", b"untrusted comment: x\nRWQ=\n", False),
        ("a.sig", b"-----BEGIN PGP SIGNATURE-----\n", False),
        ("a.sig", b'{"mediaType": "x"}', False),
        ("a.sig", b"garbage\n", False),
    ],
)
def test_sniff(name: str, data: bytes, expected: bool) -> None:
    assert openssl.FORMAT.sniff(data, name) is expected
