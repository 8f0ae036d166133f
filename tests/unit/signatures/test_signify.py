"""OpenBSD signify signatures, detached and embedded, against fixtures made by signify-openbsd 31
(fixtures/.../signify/gen.sh)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

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

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "signatures" / "signify"
ARTIFACT = FIX / "artifact.bin"
MINISIGN = FIX.parent / "minisign"
OPENSSL = FIX.parent / "openssl"
MISMATCH = "signature does not match"


def key(name: str = "test.pub", label: str = "openbsd") -> TrustedKey:
    return load_public_key((FIX / name).read_bytes(), label)


def sig(name: str = "artifact.bin.sig") -> bytes:
    return (FIX / name).read_bytes()


def run(
    data: bytes, artifact: Path = ARTIFACT, *keys: TrustedKey
) -> tuple[frozenset[str], SignatureResult]:
    pending = minisign.SIGNIFY_FORMAT.prepare(data, "a.sig", Context(keys=keys))
    assert not (pending.needs - {WHOLE_FILE})  # pure Ed25519: no digest from the hashing pass
    return pending.needs, pending.finish(Artifact(artifact, artifact.stat().st_size, {}))


def edit_sig_line(data: bytes, at: int) -> bytes:
    first, second, rest = data.split(b"\n", 2)
    raw = bytearray(base64.b64decode(second))
    raw[at] ^= 0x01
    return b"\n".join([first, base64.b64encode(bytes(raw)), rest])


def key_id(name: str) -> str:
    raw = base64.b64decode((FIX / name).read_bytes().split(b"\n")[1])
    return raw[2:10][::-1].hex().upper()


# -- detached ------------------------------------------------------------------------------


def test_detached_valid() -> None:
    trusted = key()
    needs, result = run(sig(), ARTIFACT, trusted)
    assert needs == {WHOLE_FILE}
    assert result.ok, result.detail
    assert result.format == "signify"
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint
    assert result.detail == f"signify signature by {trusted.label}"


def test_key_kinds_signify_and_bare() -> None:
    text = (FIX / "test.pub").read_bytes()
    body = text.split(b"\n")[1]
    as_signify = load_public_key(b"untrusted comment: signify public key\n" + body, "s")
    assert as_signify.kind == "signify"
    assert run(sig(), ARTIFACT, as_signify)[1].ok
    assert run(sig(), ARTIFACT, load_public_key(body, "bare"))[1].ok


def test_tampered_file(tmp_path: Path) -> None:
    changed = tmp_path / "artifact.bin"
    changed.write_bytes(ARTIFACT.read_bytes() + b"\n")
    _, result = run(sig(), changed, key())
    assert not result.ok
    assert result.detail == minisign.MISMATCH


def test_wrong_key_is_an_untrusted_key_id() -> None:
    needs, result = run(sig(), ARTIFACT, key("other.pub"))
    assert needs == frozenset()
    assert not result.ok
    assert result.detail == f"key id {key_id('test.pub')} is not trusted"


def test_untrusted_key_id() -> None:
    _, result = run(sig("artifact.bin.other-key.sig"), ARTIFACT, key())
    assert result.detail == f"key id {key_id('other.pub')} is not trusted"
    _, result = run(sig("artifact.bin.other-key.sig"), ARTIFACT, key(), key("other.pub", "o"))
    assert result.ok
    assert result.signer == key("other.pub", "o").label


def test_same_key_id_other_key() -> None:
    real = base64.b64decode((FIX / "test.pub").read_bytes().split(b"\n")[1])
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    forged = load_public_key(base64.b64encode(real[:10] + other), "forged")
    _, result = run(sig(), ARTIFACT, forged)
    assert result.detail == minisign.MISMATCH
    assert run(sig(), ARTIFACT, forged, key())[1].ok


@pytest.mark.parametrize("at", [10, 50, 73])
def test_modified_signature(at: int) -> None:
    _, result = run(edit_sig_line(sig(), at), ARTIFACT, key())
    assert not result.ok
    assert result.detail == minisign.MISMATCH


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty, not a signify signature"),
        (b" \n", "is empty, not a signify signature"),
        (b"untrusted comment: verify with test.pub", "ends after its comment line"),
        (b"random garbage\n", "does not start with 'untrusted comment:'"),
        (b"untrusted comment: x\n@@@@\n", "not valid base64"),
        (b"untrusted comment: x\nRWSwRUYotqzH\n", "is 9 bytes, not 74"),
    ],
)
def test_unparsable(data: bytes, message: str) -> None:
    with pytest.raises(SignatureFormatError, match=message) as caught:
        minisign.SIGNIFY_FORMAT.prepare(data, "dir/a.sig", Context(keys=(key(),)))
    assert str(caught.value).startswith("dir/a.sig: ")


def test_truncated() -> None:
    data = sig()
    for cut in (len(data) - 2, len(data) - 30, 40):
        with pytest.raises(SignatureFormatError):
            minisign.SIGNIFY_FORMAT.prepare(data[:cut], "a.sig", Context(keys=(key(),)))


def test_without_final_newline() -> None:
    assert run(sig().rstrip(b"\n"), ARTIFACT, key())[1].ok


def test_signature_over_another_file() -> None:
    _, result = run(sig("other.bin.sig"), ARTIFACT, key())
    assert result.detail == minisign.MISMATCH
    assert run(sig("other.bin.sig"), FIX / "other.bin", key())[1].ok


@pytest.mark.parametrize("key_names", [(), ("ed25519.pub.pem",), ("rsa.pub.pem",)])
def test_key_type_mismatch(key_names: tuple[str, ...]) -> None:
    keys = [load_public_key((OPENSSL / n).read_bytes(), n) for n in key_names]
    needs, result = run(sig(), ARTIFACT, *keys)
    assert needs == frozenset()
    assert result.detail.startswith("no trusted key of this type")


def test_minisign_signatures_are_refused() -> None:
    with pytest.raises(SignatureFormatError, match="prehashed minisign signature"):
        minisign.SIGNIFY_FORMAT.prepare(
            (MINISIGN / "artifact.bin.minisig").read_bytes(), "a.sig", Context()
        )
    with pytest.raises(SignatureFormatError, match="is a minisign signature"):
        minisign.SIGNIFY_FORMAT.prepare(
            (MINISIGN / "artifact.bin.legacy.minisig").read_bytes(), "a.sig", Context()
        )


def test_embedded_signature_is_not_a_detached_one() -> None:
    with pytest.raises(SignatureFormatError, match="embedded signify signature"):
        minisign.SIGNIFY_FORMAT.prepare(sig("SHA256.sig"), "SHA256.sig", Context(keys=(key(),)))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (sig(), True),
        (sig("SHA256.sig"), True),
        ((MINISIGN / "artifact.bin.minisig").read_bytes(), False),
        ((MINISIGN / "artifact.bin.legacy.minisig").read_bytes(), False),
        (b"untrusted comment: x", False),
        (b"untrusted comment: x\n!!!\n", False),
        (b"hello\nworld\n", False),
    ],
)
def test_sniff(data: bytes, expected: bool) -> None:
    assert minisign.SIGNIFY_FORMAT.sniff(data, "a.sig") is expected


# -- embedded (signify -S -e, OpenBSD SHA256.sig) ------------------------------------------


def test_embedded_valid_and_the_list_checks_out() -> None:
    trusted = key()
    result, message = minisign.verify_embedded(
        sig("SHA256.sig"), "SHA256.sig", Context(keys=(trusted,))
    )
    assert result.ok, result.detail
    assert result.format == "signify"
    assert result.source == "SHA256.sig"
    assert result.signer == trusted.label
    assert message is not None
    # What `signify -C` then does: every listed file has the listed digest.
    entries = re.findall(rb"^SHA256 \((.+)\) = ([0-9a-f]{64})$", message, re.M)
    assert [name for name, _ in entries] == [b"artifact.bin", b"other.bin"]
    for name, digest in entries:
        assert hashlib.sha256((FIX / name.decode()).read_bytes()).hexdigest().encode() == digest


def test_embedded_modified_message() -> None:
    data = sig("SHA256.sig")
    changed = data.replace(b"SHA256 (artifact.bin) = b", b"SHA256 (artifact.bin) = c")
    assert changed != data
    result, message = minisign.verify_embedded(changed, "SHA256.sig", Context(keys=(key(),)))
    assert not result.ok
    assert result.detail == minisign.MISMATCH
    assert message is None


def test_embedded_modified_signature() -> None:
    data = edit_sig_line(sig("SHA256.sig"), 30)
    result, message = minisign.verify_embedded(data, "SHA256.sig", Context(keys=(key(),)))
    assert not result.ok
    assert message is None


def test_embedded_untrusted_key_and_no_key() -> None:
    result, message = minisign.verify_embedded(
        sig("SHA256.sig"), "SHA256.sig", Context(keys=(key("other.pub"),))
    )
    assert result.detail == f"key id {key_id('test.pub')} is not trusted"
    assert message is None
    result, message = minisign.verify_embedded(sig("SHA256.sig"), "SHA256.sig", Context())
    assert result.detail.startswith("no trusted key of this type")
    assert message is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (sig(), "holds no embedded message"),
        (b"SHA256 (a) = 00\n", "does not start with 'untrusted comment:'"),
    ],
)
def test_embedded_unparsable(data: bytes, message: str) -> None:
    with pytest.raises(SignatureFormatError, match=message):
        minisign.verify_embedded(data, "SHA256.sig", Context(keys=(key(),)))
