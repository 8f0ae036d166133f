"""minisign signatures, against fixtures made by minisign 0.11 (fixtures/.../minisign/gen.sh)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from relman.verify.hashing import hash_file
from relman.verify.signatures import minisign
from relman.verify.signatures.base import (
    WHOLE_FILE,
    Artifact,
    Context,
    SignatureFormatError,
    SignatureResult,
    TrustedKey,
)
from relman.verify.signatures.keys import load_public_key

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "signatures" / "minisign"
ARTIFACT = FIX / "artifact.bin"
OPENSSL = FIX.parent / "openssl"
MISMATCH = "signature does not match"


def key(name: str = "minisign.pub", label: str = "release") -> TrustedKey:
    return load_public_key((FIX / name).read_bytes(), label)


def sig(name: str = "artifact.bin.minisig") -> bytes:
    return (FIX / name).read_bytes()


def run(
    data: bytes, artifact: Path = ARTIFACT, *keys: TrustedKey
) -> tuple[frozenset[str], SignatureResult]:
    pending = minisign.FORMAT.prepare(data, "a.minisig", Context(keys=keys))
    algos = [n for n in pending.needs if n != WHOLE_FILE]
    digests: dict[str, bytes] = {}
    if algos:
        found = hash_file(artifact, algos)
        digests = {n: bytes.fromhex(h) for n, h in found.digests.items()}
    return pending.needs, pending.finish(Artifact(artifact, artifact.stat().st_size, digests))


def lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def with_line(data: bytes, index: int, value: bytes) -> bytes:
    parts = lines(data)
    parts[index] = value
    return b"\n".join(parts)


def edit_sig_line(data: bytes, at: int) -> bytes:
    raw = bytearray(base64.b64decode(lines(data)[1]))
    raw[at] ^= 0x01
    return with_line(data, 1, base64.b64encode(bytes(raw)))


def key_id_of(name: str) -> str:
    return lines((FIX / name).read_bytes())[0].split()[-1].decode()


def test_prehashed_valid() -> None:
    trusted = key()
    needs, result = run(sig(), ARTIFACT, trusted)
    assert needs == {"blake2b"}
    assert result.ok, result.detail
    assert result.format == "minisign"
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint
    assert "prehashed" in result.detail
    assert result.facts["trusted_comment"] == "timestamp:1767225600\tfile:artifact.bin\trelman test"
    assert result.facts["signed_at"] == "2026-01-01T00:00:00+00:00"


def test_legacy_valid() -> None:
    needs, result = run(sig("artifact.bin.legacy.minisig"), ARTIFACT, key())
    assert needs == {WHOLE_FILE}
    assert result.ok, result.detail
    assert "legacy" in result.detail
    assert result.facts["trusted_comment"] == "legacy signature"
    assert "signed_at" not in result.facts


def test_bare_key_string_and_crlf_signature() -> None:
    bare = load_public_key(lines((FIX / "minisign.pub").read_bytes())[1], "bare")
    _, result = run(sig().replace(b"\n", b"\r\n"), ARTIFACT, bare)
    assert result.ok, result.detail
    assert result.facts["trusted_comment"].endswith("relman test")


def test_key_read_as_signify_is_a_candidate() -> None:
    text = (FIX / "minisign.pub").read_bytes()
    as_signify = load_public_key(
        b"untrusted comment: signify public key\n" + lines(text)[1], "signify"
    )
    assert as_signify.kind == "signify"
    assert run(sig(), ARTIFACT, as_signify)[1].ok


@pytest.mark.parametrize("name", ["artifact.bin.minisig", "artifact.bin.legacy.minisig"])
def test_tampered_file(tmp_path: Path, name: str) -> None:
    changed = tmp_path / "artifact.bin"
    data = bytearray(ARTIFACT.read_bytes())
    data[1000] ^= 0x80
    changed.write_bytes(bytes(data))
    _, result = run(sig(name), changed, key())
    assert not result.ok
    assert result.detail == minisign.MISMATCH


def test_wrong_key_is_an_untrusted_key_id() -> None:
    needs, result = run(sig(), ARTIFACT, key("other.pub"))
    assert needs == frozenset()
    assert not result.ok
    assert result.detail == f"key id {key_id_of('minisign.pub')} is not trusted"


def test_untrusted_key_id() -> None:
    _, result = run(sig("artifact.bin.other-key.minisig"), ARTIFACT, key())
    assert not result.ok
    assert result.detail == "key id DE6A8C8AACFC6ECF is not trusted"
    _, result = run(sig("artifact.bin.other-key.minisig"), ARTIFACT, key(), key("other.pub"))
    assert result.ok
    assert result.signer == key("other.pub").label


def forged_key(label: str = "forged") -> TrustedKey:
    """A key that claims the release key's id but holds another public key."""
    real = base64.b64decode(lines((FIX / "minisign.pub").read_bytes())[1])
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    text = b"untrusted comment: forged\n" + base64.b64encode(real[:10] + other)
    return load_public_key(text, label)


def test_same_key_id_other_key() -> None:
    _, result = run(sig(), ARTIFACT, forged_key())
    assert not result.ok
    assert result.detail == minisign.MISMATCH
    _, result = run(sig(), ARTIFACT, forged_key(), key())
    assert result.ok
    assert result.signer == key().label


@pytest.mark.parametrize("at", [10, 40, 73])
def test_modified_signature(at: int) -> None:
    _, result = run(edit_sig_line(sig(), at), ARTIFACT, key())
    assert not result.ok
    assert result.detail == minisign.MISMATCH


def test_modified_key_id_in_signature() -> None:
    _, result = run(edit_sig_line(sig(), 2), ARTIFACT, key())
    assert not result.ok
    assert "is not trusted" in result.detail


@pytest.mark.parametrize("name", ["artifact.bin.minisig", "artifact.bin.legacy.minisig"])
def test_tampered_trusted_comment(name: str) -> None:
    data = sig(name)
    comment = lines(data)[2]
    _, result = run(with_line(data, 2, comment + b" (approved)"), ARTIFACT, key())
    assert not result.ok
    assert "trusted comment was modified" in result.detail


def test_modified_global_signature() -> None:
    data = sig()
    raw = bytearray(base64.b64decode(lines(data)[3]))
    raw[5] ^= 1
    _, result = run(with_line(data, 3, base64.b64encode(bytes(raw))), ARTIFACT, key())
    assert not result.ok
    assert "trusted comment was modified" in result.detail


def test_untrusted_comment_is_not_authenticated() -> None:
    data = with_line(sig(), 0, b"untrusted comment: anything at all")
    assert run(data, ARTIFACT, key())[1].ok


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty, not a minisign signature"),
        (b"\n\n", "is empty, not a minisign signature"),
        (b"untrusted comment: x", "ends after its comment line"),
        (b"hello world\nthis is garbage\n", "does not start with 'untrusted comment:'"),
        (b"\x00\x01\x02\x03", "does not start with 'untrusted comment:'"),
        (b"untrusted comment: x\nnot base64!\n", "the signature line is not valid base64"),
        (
            b"untrusted comment: x\n" + base64.b64encode(b"Ex" + bytes(72)) + b"\n",
            "unknown signature algorithm",
        ),
    ],
)
def test_unparsable(data: bytes, message: str) -> None:
    with pytest.raises(SignatureFormatError, match=message) as caught:
        minisign.FORMAT.prepare(data, "dir/a.minisig", Context(keys=(key(),)))
    assert str(caught.value).startswith("dir/a.minisig: ")


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda d: b"\n".join(lines(d)[:2]) + b"\n", "has no trusted comment"),
        (lambda d: b"\n".join(lines(d)[:3]), "has no trusted comment"),
        (lambda d: d[:120], "the signature line is not valid base64"),
        (lambda d: with_line(d, 1, lines(d)[1][:96]), "the signature line is 72 bytes, not 74"),
        (lambda d: d[: len(d) - 30], "the global signature is not valid base64"),
        (lambda d: with_line(d, 3, lines(d)[3][:84]), "the global signature is 63 bytes, not 64"),
        (lambda d: with_line(d, 2, b"comment: x"), "has no trusted comment"),
        (lambda d: d + b"extra line\n", "unexpected lines after the signature"),
    ],
)
def test_truncated_or_damaged(cut: object, message: str) -> None:
    data = cut(sig())  # type: ignore[operator]
    with pytest.raises(SignatureFormatError, match=message):
        minisign.FORMAT.prepare(data, "a.minisig", Context(keys=(key(),)))


def test_signature_over_another_file() -> None:
    _, result = run(sig("other.bin.minisig"), ARTIFACT, key())
    assert not result.ok
    assert result.detail == minisign.MISMATCH
    assert run(sig("other.bin.minisig"), FIX / "other.bin", key())[1].ok


@pytest.mark.parametrize("key_names", [(), ("ed25519.pub.pem",), ("rsa.pub.pem", "p256.pub.pem")])
def test_key_type_mismatch(key_names: tuple[str, ...]) -> None:
    keys = [load_public_key((OPENSSL / n).read_bytes(), n) for n in key_names]
    needs, result = run(sig(), ARTIFACT, *keys)
    assert needs == frozenset()
    assert not result.ok
    assert result.detail.startswith("no trusted key of this type")


def test_missing_digest_fails_closed() -> None:
    pending = minisign.FORMAT.prepare(sig(), "a.minisig", Context(keys=(key(),)))
    result = pending.finish(Artifact(ARTIFACT, 3000, {}))
    assert not result.ok
    assert "not computed" in result.detail


@pytest.mark.parametrize(
    ("comment", "facts"),
    [
        ("timestamp:0", {"signed_at": "1970-01-01T00:00:00+00:00"}),
        ("file:x\ttimestamp:1767225600", {"signed_at": "2026-01-01T00:00:00+00:00"}),
        ("timestamp:99999999999999999999", {}),
        ("timestamp:soon", {}),
        ("no timestamp here", {}),
    ],
)
def test_signed_at(comment: str, facts: dict[str, str]) -> None:
    assert minisign._signed_at(comment) == facts


def test_display_key_id_matches_minisign() -> None:
    raw = base64.b64decode(lines((FIX / "minisign.pub").read_bytes())[1])
    assert minisign.display_key_id(raw[2:10]) == key_id_of("minisign.pub")
    assert key().key_id == key_id_of("minisign.pub")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (sig(), True),
        (sig("artifact.bin.legacy.minisig"), True),
        ((FIX.parent / "signify" / "artifact.bin.sig").read_bytes(), False),
        (b"", False),
        (b"trusted comment: x\n\n\n\n", False),
    ],
)
def test_sniff(data: bytes, expected: bool) -> None:
    assert minisign.FORMAT.sniff(data, "a.minisig") is expected
