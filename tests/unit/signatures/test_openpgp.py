"""OpenPGP signatures against fixtures made by real gpg (tests/fixtures/signatures/openpgp/gen.sh)."""

from __future__ import annotations

import os
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pysequoia import ArmorKind, Cert, Profile, SignatureMode, Tsk, armor, sign
from pysequoia.packet import PacketPile

from relman.errors import InputError
from relman.verify.hashing import hash_file
from relman.verify.signatures import openpgp
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

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signatures" / "openpgp"
ARTIFACT = FIXTURES / "artifact.bin"
OTHER = FIXTURES / "other.bin"
FORMAT = openpgp.FORMAT


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def key(name: str) -> TrustedKey:
    return load_public_key(read(name), name)


def ctx(*names: str) -> Context:
    return Context(tuple(key(n) for n in names))


def finish(signature: bytes | str, data: Path, context: Context) -> SignatureResult:
    raw = read(signature) if isinstance(signature, str) else signature
    source = signature if isinstance(signature, str) else "sig"
    pending = FORMAT.prepare(raw, source, context)
    assert pending.needs == frozenset({WHOLE_FILE})
    algorithms = pending.needs - {WHOLE_FILE}
    digests = hash_file(data, algorithms).digests if algorithms else {}
    artifact = Artifact(
        data, data.stat().st_size, {a: bytes.fromhex(h) for a, h in digests.items()}
    )
    return pending.finish(artifact)


def packet_bytes(name: str, index: int = 0) -> bytes:
    return bytes(list(PacketPile.from_bytes(read(name)))[index])


def new_format(tag: int, body: bytes) -> bytes:
    assert len(body) < 192
    return bytes([0xC0 | tag, len(body)]) + body


def strip_issuers(packet: bytes) -> bytes:
    """The v4 signature packet without its issuer (16) and issuer fingerprint (33) subpackets."""
    body = next(iter(PacketPile.from_bytes(packet))).body

    def keep(area: bytes) -> bytes:
        out, i = b"", 0
        while i < len(area):
            length = area[i]  # gpg writes one-octet subpacket lengths here
            sub = area[i : i + 1 + length]
            if sub[1] & 0x7F not in (16, 33):
                out += sub
            i += 1 + length
        return out

    hashed_len = int.from_bytes(body[4:6], "big")
    hashed = keep(body[6 : 6 + hashed_len])
    rest = body[6 + hashed_len :]
    unhashed_len = int.from_bytes(rest[:2], "big")
    unhashed = keep(rest[2 : 2 + unhashed_len])
    tail = rest[2 + unhashed_len :]
    new = body[:4] + struct.pack(">H", len(hashed)) + hashed
    new += struct.pack(">H", len(unhashed)) + unhashed + tail
    return new_format(2, new)


# --- valid signatures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "cert"),
    [
        ("artifact.bin.ed25519.asc", "ed25519.asc"),
        ("artifact.bin.ed25519.sig", "ed25519.asc"),
        ("artifact.bin.rsa.asc", "rsa.asc"),
        ("artifact.bin.rsa.sig", "rsa.asc"),
    ],
)
def test_valid_detached_signature_names_the_pinned_certificate(signature: str, cert: str) -> None:
    trusted = key(cert)
    result = finish(signature, ARTIFACT, Context((trusted,)))
    assert result.ok, result.detail
    assert result.format == "openpgp"
    assert result.source == signature
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint
    assert "signing_key" not in result.facts
    assert result.facts["signed_at"].endswith("Z")
    assert result.detail.startswith(f"good signature by {trusted.label}")  # + expiry, later


def test_binary_certificate_verifies() -> None:
    raw = read("ed25519.gpg")
    trusted = load_public_key(raw, "bin")
    assert trusted.material == raw  # binary key material is kept byte for byte
    assert trusted.fingerprint == Cert.from_bytes(raw).fingerprint.upper()
    assert finish("artifact.bin.ed25519.sig", ARTIFACT, Context((trusted,))).ok


def test_text_mode_signature_verifies_with_either_line_ending(tmp_path: Path) -> None:
    assert finish("notes.txt.textmode.asc", FIXTURES / "notes.txt", ctx("ed25519.asc")).ok
    crlf = tmp_path / "notes.txt"
    crlf.write_bytes(read("notes.txt").replace(b"\n", b"\r\n"))
    assert finish("notes.txt.textmode.asc", crlf, ctx("ed25519.asc")).ok
    changed = tmp_path / "changed.txt"
    changed.write_bytes(read("notes.txt").replace(b"two", b"2"))
    result = finish("notes.txt.textmode.asc", changed, ctx("ed25519.asc"))
    assert not result.ok
    assert result.detail.startswith("bad signature: the file was modified")


def test_subkey_signature_is_attributed_to_its_certificate() -> None:
    trusted = key("subkeys.asc")
    subkey = read("subkeys.subkey-fpr").decode().strip().upper()
    result = finish("artifact.bin.subkey.asc", ARTIFACT, Context((trusted,)))
    assert result.ok, result.detail
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint != subkey
    assert result.facts["signing_key"] == subkey
    assert subkey in result.detail


def test_certificate_exported_before_the_subkey_cannot_verify_it() -> None:
    subkey = read("subkeys.subkey-fpr").decode().strip().upper()
    result = finish("artifact.bin.subkey.asc", ARTIFACT, ctx("subkeys-before.asc"))
    assert not result.ok
    assert result.detail == f"signed by key {subkey}, which is not trusted"
    assert result.signer is None


# --- failures -------------------------------------------------------------------------------


def test_tampered_file_is_a_bad_signature(tmp_path: Path) -> None:
    tampered = tmp_path / "artifact.bin"
    data = bytearray(read("artifact.bin"))
    data[3] ^= 0x01
    tampered.write_bytes(bytes(data))
    trusted = key("ed25519.asc")
    result = finish("artifact.bin.ed25519.asc", tampered, Context((trusted,)))
    assert not result.ok
    assert result.detail.startswith(
        "bad signature: the file was modified or the signature is for another file"
    )
    assert result.signer == trusted.label
    assert result.fingerprint == trusted.fingerprint


def test_signature_over_another_file_is_a_bad_signature() -> None:
    result = finish("other.bin.ed25519.asc", ARTIFACT, ctx("ed25519.asc"))
    assert not result.ok
    assert "signature is for another file" in result.detail


def test_wrong_certificate_is_not_trusted() -> None:
    signer = key("ed25519.asc")
    result = finish("artifact.bin.ed25519.asc", ARTIFACT, ctx("rsa.asc"))
    assert not result.ok
    assert result.detail == f"signed by key {signer.fingerprint}, which is not trusted"
    assert result.signer is None
    assert result.fingerprint is None


def test_no_certificate_at_all() -> None:
    result = finish("artifact.bin.ed25519.asc", ARTIFACT, Context())
    assert not result.ok
    assert result.detail.endswith("which is not trusted (no OpenPGP certificate given)")


def test_sha1_signature_is_refused() -> None:
    result = finish("artifact.bin.rsa-sha1.sig", ARTIFACT, ctx("rsa.asc"))
    assert not result.ok
    assert result.detail.startswith("SHA-1 signatures are not accepted")


def test_modified_signature_mpi_does_not_verify() -> None:
    raw = bytearray(read("artifact.bin.ed25519.sig"))
    raw[-5] ^= 0x40  # inside the signature's MPIs: the digest prefix still matches the file
    result = finish(bytes(raw), ARTIFACT, ctx("ed25519.asc"))
    assert not result.ok
    assert "does not verify: it is damaged" in result.detail


def test_modified_signature_hashed_area_is_a_bad_signature() -> None:
    raw = bytearray(read("artifact.bin.ed25519.sig"))
    at = raw.index(b"\x05\x02", 8) + 5  # last byte of the (hashed) creation time subpacket
    raw[at] ^= 0x01
    result = finish(bytes(raw), ARTIFACT, ctx("ed25519.asc"))
    assert not result.ok
    assert result.detail.startswith("bad signature")


def test_injected_subkey_is_rejected() -> None:
    """signatures.md 4.7: the attacker's subkey + the attacker's binding, appended to the victim."""
    raw = read("victim-injected.gpg")
    victim = Cert.from_bytes(raw).fingerprint.upper()
    assert victim == key("victim.asc").fingerprint
    injected = TrustedKey("victim", "openpgp", victim, raw)
    result = finish("artifact.bin.injected.asc", ARTIFACT, Context((injected,)))
    assert not result.ok
    assert "is not bound to certificate" in result.detail
    assert "injected subkey" in result.detail
    # The genuine victim certificate simply does not hold the attacker's key.
    assert finish("artifact.bin.injected.asc", ARTIFACT, ctx("victim.asc")).detail.endswith(
        "which is not trusted"
    )


def test_revoked_certificate_is_refused() -> None:
    result = finish("artifact.bin.revoked-key.asc", ARTIFACT, ctx("revoked.asc"))
    assert not result.ok
    assert "is revoked" in result.detail


def test_revoked_subkey_is_refused() -> None:
    result = finish("artifact.bin.revoked-subkey.asc", ARTIFACT, ctx("revoked-subkey.asc"))
    assert not result.ok
    assert result.detail.startswith("signing key ")
    assert result.detail.endswith("is revoked")


def test_key_expired_after_signing_is_accepted_and_said() -> None:
    """Policy: the key must have been valid when the signature was made (Sequoia's rule)."""
    trusted = key("expiring.asc")
    result = finish("artifact.bin.expired-key.asc", ARTIFACT, Context((trusted,)))
    assert result.ok, result.detail
    expired = datetime.fromisoformat(result.facts["key_expired_at"].replace("Z", "+00:00"))
    signed = datetime.fromisoformat(result.facts["signed_at"].replace("Z", "+00:00"))
    assert signed < expired < datetime.now(UTC)
    assert "after the signature was made" in result.detail


def test_key_expired_before_signing_is_explained() -> None:
    """gpg refuses to sign with an expired key, so the diagnosis is fed such a key directly."""
    trusted = key("ed25519.asc")
    info = openpgp._cert_info(trusted)
    sig = openpgp._parse_signatures(read("artifact.bin.ed25519.sig"), "sig")[0]
    created = sig.packet.signature_created
    assert created is not None
    expired = openpgp._CertInfo(
        trusted, info.cert, info.subkeys, {info.primary: created - timedelta(days=1)}
    )
    outcome = openpgp._diagnose(sig, expired, None)
    assert not outcome.good
    assert "had expired" in outcome.reason
    assert "when the signature was made" in outcome.reason


def test_signature_without_issuer_falls_back_to_every_certificate() -> None:
    stripped = strip_issuers(packet_bytes("artifact.bin.ed25519.sig"))
    result = finish(stripped, ARTIFACT, ctx("ed25519.asc", "rsa.asc"))
    assert not result.ok  # the issuer fingerprint was in the hashed area: the signature broke
    assert result.detail == "the signature names no key and no trusted key made it"


def test_unreadable_artifact_is_an_input_error(tmp_path: Path) -> None:
    pending = FORMAT.prepare(read("artifact.bin.ed25519.asc"), "sig", ctx("ed25519.asc"))
    with pytest.raises(InputError, match="cannot verify the OpenPGP signature"):
        pending.finish(Artifact(tmp_path / "gone.bin", 0, {}))


def test_v6_signature_over_other_data_still_fails() -> None:
    """An RFC 9580 (v6) signature: no digest-prefix diagnosis, still a plain failure."""
    tsk = Tsk.generate("V6 <v6@example.org>", profile=Profile.RFC9580)
    cert = tsk.extract_certificate()
    signature = sign(tsk.signer(), b"other data", mode=SignatureMode.DETACHED)
    trusted = TrustedKey("v6", "openpgp", cert.fingerprint.upper(), str(cert).encode())
    good = openpgp.verify_detached_bytes(b"other data", signature, "v6.sig", Context((trusted,)))
    assert good.ok, good.detail
    result = finish(signature, ARTIFACT, Context((trusted,)))
    assert not result.ok
    assert "does not verify" in result.detail


# --- several signatures in one file ---------------------------------------------------------


def test_two_signatures_one_trusted_passes_and_reports_the_other() -> None:
    rsa = key("rsa.asc")
    result = finish("artifact.bin.both.asc", ARTIFACT, ctx("ed25519.asc"))
    assert result.ok
    assert result.signer == key("ed25519.asc").label
    assert result.facts["signatures"] == "2"
    assert (
        result.facts["other_signatures"] == f"signed by key {rsa.fingerprint}, which is not trusted"
    )
    only_rsa = finish("artifact.bin.both.asc", ARTIFACT, Context((rsa,)))
    assert only_rsa.ok
    assert only_rsa.signer == rsa.label


def test_two_trusted_signatures_both_good() -> None:
    result = finish("artifact.bin.both.asc", ARTIFACT, ctx("ed25519.asc", "rsa.asc"))
    assert result.ok
    assert result.facts["other_signatures"].startswith("good signature by rsa.asc")


def test_bad_signature_by_a_trusted_key_fails_even_next_to_a_good_one() -> None:
    result = finish("artifact.bin.good-and-bad.sig", ARTIFACT, ctx("ed25519.asc", "rsa.asc"))
    assert not result.ok
    assert result.detail.startswith("bad signature")
    assert "another signature verified" in result.detail
    assert result.signer == key("rsa.asc").label
    # When the RSA key is not trusted its signature is only a fact.
    assert finish("artifact.bin.good-and-bad.sig", ARTIFACT, ctx("ed25519.asc")).ok


def test_no_signature_verifies() -> None:
    result = finish("artifact.bin.both.asc", OTHER, ctx("ed25519.asc", "rsa.asc"))
    assert not result.ok
    assert result.detail.startswith("none of the 2 signatures verifies: bad signature")
    untrusted = finish("artifact.bin.both.asc", ARTIFACT, ctx("subkeys.asc"))
    assert not untrusted.ok
    assert untrusted.signer is None
    assert untrusted.facts["signatures"] == "2"


def test_sha1_next_to_a_good_signature_is_a_fact() -> None:
    combined = read("artifact.bin.rsa.sig") + read("artifact.bin.rsa-sha1.sig")
    result = finish(combined, ARTIFACT, ctx("rsa.asc"))
    assert result.ok
    assert result.facts["other_signatures"].startswith("SHA-1 signatures are not accepted")


# --- parse errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"  \n\t\n", "is empty"),
        (b"hello, this is no signature\n", "is not a readable OpenPGP signature"),
        (bytes([0x88, 0x40, 4, 0, 22, 8]), "is not a readable OpenPGP signature"),
        (
            b"-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n",
            "holds no OpenPGP packet",
        ),
    ],
)
def test_unparsable_signature_raises(data: bytes, message: str) -> None:
    with pytest.raises(SignatureFormatError, match=message) as info:
        FORMAT.prepare(data, "art.sig", ctx("ed25519.asc"))
    assert str(info.value).startswith("art.sig: ")
    assert "\n" not in str(info.value)


def test_truncated_signatures_raise() -> None:
    binary = read("artifact.bin.ed25519.sig")
    armored = read("artifact.bin.ed25519.asc")
    for data in (binary[: len(binary) // 2], armored[: len(armored) // 2]):
        with pytest.raises(SignatureFormatError, match="not a readable OpenPGP signature"):
            FORMAT.prepare(data, "art.sig", ctx("ed25519.asc"))


def test_public_key_where_a_signature_is_expected() -> None:
    for name in ("not-a-signature.asc", "ed25519.gpg"):
        with pytest.raises(SignatureFormatError, match="holds an OpenPGP public key"):
            FORMAT.prepare(read(name), name, ctx("ed25519.asc"))


def test_other_packets_are_not_signatures() -> None:
    user_id = packet_bytes("ed25519.gpg", 1)
    with pytest.raises(SignatureFormatError, match="not a detached signature"):
        FORMAT.prepare(user_id, "uid", ctx("ed25519.asc"))
    certification = packet_bytes("ed25519.gpg", 2)
    with pytest.raises(SignatureFormatError, match="not a signature over a file"):
        FORMAT.prepare(certification, "cert-sig", ctx("ed25519.asc"))


def test_clearsigned_message_is_not_a_detached_signature() -> None:
    with pytest.raises(SignatureFormatError, match="clear-signed message.*--checksums"):
        FORMAT.prepare(read("SHA256SUMS.asc"), "SHA256SUMS.asc", ctx("ed25519.asc"))


def test_certificate_problems_raise_key_format_error() -> None:
    good = key("ed25519.asc")
    wrong_pin = TrustedKey("pinned", "openpgp", key("rsa.asc").fingerprint, good.material)
    with pytest.raises(KeyFormatError, match="does not match its pinned fingerprint"):
        FORMAT.prepare(read("artifact.bin.ed25519.sig"), "sig", Context((wrong_pin,)))
    garbage = TrustedKey("junk", "openpgp", good.fingerprint, b"\x99junk\n")
    with pytest.raises(KeyFormatError, match="junk: holds no readable OpenPGP certificate"):
        FORMAT.prepare(read("artifact.bin.ed25519.sig"), "sig", Context((garbage,)))


def test_certificate_with_a_broken_self_signature_verifies_nothing() -> None:
    raw = bytearray(read("ed25519.gpg"))
    raw[-1] ^= 0x01  # what keys.py's strip() does to a cert ending in a whitespace byte
    fingerprint = key("ed25519.asc").fingerprint
    broken = TrustedKey("broken", "openpgp", fingerprint, bytes(raw))
    result = finish("artifact.bin.ed25519.sig", ARTIFACT, Context((broken,)))
    assert not result.ok
    assert result.signer == broken.label


def test_other_kinds_of_keys_are_ignored() -> None:
    other = TrustedKey("raw", "ed25519", "SHA256:00", b"x")
    result = finish("artifact.bin.ed25519.asc", ARTIFACT, Context((other, key("ed25519.asc"))))
    assert result.ok


# --- sniff ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "artifact.bin.ed25519.asc",
        "artifact.bin.ed25519.sig",
        "artifact.bin.rsa.sig",
        "SHA256SUMS.gpg",
        "SHA256SUMS.asc",
        "notes.txt.textmode.asc",
    ],
)
def test_sniff_recognises_gpg_output(name: str) -> None:
    assert FORMAT.sniff(read(name), name)
    assert FORMAT.name == "openpgp"


def test_sniff_packet_headers() -> None:
    body = bytes([4, 0, 22, 8]) + b"\x00" * 200
    assert FORMAT.sniff(b"\n" + read("artifact.bin.ed25519.asc"), "x")
    assert FORMAT.sniff(packet_bytes("artifact.bin.ed25519.sig"), "x")  # new format, 1-octet
    assert FORMAT.sniff(bytes([0xC2, 0xC0, 0x10]) + body, "x")  # new format, 2-octet length
    assert FORMAT.sniff(bytes([0xC2, 0xFF, 0, 0, 1, 0]) + body, "x")  # 5-octet length
    assert FORMAT.sniff(bytes([0xC2, 0xE5]) + body, "x")  # partial body length
    assert FORMAT.sniff(bytes([0x8A, 0, 0, 0, 0xC8]) + body, "x")  # old format, 4-octet
    assert FORMAT.sniff(bytes([0x8B]) + body, "x")  # old format, indeterminate
    assert FORMAT.sniff(bytes([0x89, 0, 0xC8, 3, 5, 0]) + body, "x")  # v3 signature
    assert not FORMAT.sniff(bytes([0x89, 0, 0xC8, 3, 4, 0]) + body, "x")
    assert not FORMAT.sniff(bytes([0x88, 0xC8, 4, 0x13, 22]) + body, "x")  # a certification
    assert not FORMAT.sniff(read("ed25519.gpg"), "x")  # public key packet, old format
    assert not FORMAT.sniff(packet_bytes("ed25519.gpg", 1), "x")  # user id, new format
    assert not FORMAT.sniff(b"plain text that is long enough", "x")
    assert not FORMAT.sniff(b"\x88\x01", "x")
    assert not FORMAT.sniff(bytes([0xC2, 0xFF, 0, 0, 0, 9, 4, 0]), "x")  # body cut short
    assert not FORMAT.sniff(read("ed25519.asc"), "x")


# --- checksum lists: detached .gpg and clear-signed .asc ------------------------------------


def test_detached_bytes_over_a_checksum_list() -> None:
    rsa = key("rsa.asc")
    sums = read("SHA256SUMS")
    result = openpgp.verify_detached_bytes(
        sums, read("SHA256SUMS.gpg"), "SHA256SUMS.gpg", ctx("rsa.asc")
    )
    assert result.ok
    assert result.signer == rsa.label
    assert result.source == "SHA256SUMS.gpg"
    bad = openpgp.verify_detached_bytes(
        sums.replace(b"artifact", b"artefact"),
        read("SHA256SUMS.gpg"),
        "SHA256SUMS.gpg",
        ctx("rsa.asc"),
    )
    assert not bad.ok
    assert bad.detail.startswith("bad signature")
    with pytest.raises(SignatureFormatError, match="SHA256SUMS.gpg: is empty"):
        openpgp.verify_detached_bytes(sums, b"", "SHA256SUMS.gpg", ctx("rsa.asc"))


def test_clearsigned_list_returns_the_verified_text() -> None:
    result, text = openpgp.verify_clearsigned(
        read("SHA256SUMS.asc"), "SHA256SUMS.asc", ctx("ed25519.asc")
    )
    assert result.ok, result.detail
    assert result.signer == key("ed25519.asc").label
    assert text == read("SHA256SUMS")


def test_clearsigned_with_crlf_line_endings() -> None:
    crlf = read("SHA256SUMS.asc").replace(b"\n", b"\r\n")
    result, text = openpgp.verify_clearsigned(crlf, "SHA256SUMS.asc", ctx("ed25519.asc"))
    assert result.ok, result.detail
    assert text is not None
    assert text.replace(b"\r\n", b"\n") == read("SHA256SUMS")


def test_tampered_clearsigned_list_is_rejected() -> None:
    message = read("SHA256SUMS.asc")
    line = read("SHA256SUMS").split(b"\n")[0]
    tampered = message.replace(line, line[:-1] + b"X")
    assert tampered != message
    for data in (tampered, tampered.replace(b"\n", b"\r\n")):
        result, text = openpgp.verify_clearsigned(data, "SHA256SUMS.asc", ctx("ed25519.asc"))
        assert not result.ok
        assert text is None
        assert result.detail.startswith("bad signature: the file was modified")


def test_clearsigned_by_two_keys() -> None:
    result, text = openpgp.verify_clearsigned(read("SHA256SUMS.both.asc"), "S", ctx("rsa.asc"))
    assert result.ok
    assert result.signer == key("rsa.asc").label
    assert result.facts["signatures"] == "2"
    assert text == read("SHA256SUMS")
    untrusted, none = openpgp.verify_clearsigned(
        read("SHA256SUMS.both.asc"), "S", ctx("victim.asc")
    )
    assert not untrusted.ok
    assert none is None


def test_clearsigned_by_an_untrusted_key() -> None:
    result, text = openpgp.verify_clearsigned(read("SHA256SUMS.asc"), "S", ctx("rsa.asc"))
    assert not result.ok
    assert text is None
    assert result.detail.endswith("which is not trusted")


def test_not_a_clearsigned_message() -> None:
    with pytest.raises(SignatureFormatError, match="S: is not a clear-signed OpenPGP message"):
        openpgp.verify_clearsigned(read("SHA256SUMS"), "S", ctx("ed25519.asc"))
    headless = read("SHA256SUMS.asc").split(b"-----BEGIN PGP SIGNATURE-----")[0]
    with pytest.raises(SignatureFormatError, match="without a signature block"):
        openpgp.verify_clearsigned(headless, "S", ctx("ed25519.asc"))
    broken = read("SHA256SUMS.asc").replace(b"-----END PGP SIGNATURE-----", b"")
    with pytest.raises(SignatureFormatError, match="S: is not a readable OpenPGP signature"):
        openpgp.verify_clearsigned(broken, "S", ctx("ed25519.asc"))


def test_clearsigned_with_dash_escaped_and_trailing_space_lines() -> None:
    """The diagnosis's own view of the signed text: dash-unescaped, trailing blanks dropped."""
    message = (
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n- -- dashes\nspaces  \nend\n"
        + armor(packet_bytes("SHA256SUMS.asc"), ArmorKind.Signature).encode()
    )
    assert openpgp._clearsigned_text(message) == b"-- dashes\r\nspaces\r\nend"


def test_canonical_text_across_chunks() -> None:
    chunks = [b"a\r", b"\nb\r", b"c\n", b"d\r"]
    assert b"".join(openpgp._canonical_text(chunks)) == b"a\r\nb\r\nc\r\nd\r\n"


def test_large_files_are_verified_in_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """pysequoia holds the GIL while it verifies; a big file must not freeze other threads."""
    monkeypatch.setattr(openpgp, "OFFLOAD_BYTES", 0)
    main_pid = os.getpid()
    seen: list[int] = []
    real = openpgp._Pending.finish_here

    def spy(self, artifact):  # type: ignore[no-untyped-def]
        seen.append(os.getpid())
        return real(self, artifact)

    monkeypatch.setattr(openpgp._Pending, "finish_here", spy)
    result = finish("artifact.bin.ed25519.asc", ARTIFACT, ctx("ed25519.asc"))
    assert result.ok, result.detail
    assert result.signer is not None and result.signer.startswith("ed25519.asc (")
    assert seen == []  # the check ran in the child, not here
    assert os.getpid() == main_pid
    tampered = finish("artifact.bin.ed25519.asc", OTHER, ctx("ed25519.asc"))
    assert not tampered.ok


def test_binary_material_ending_in_whitespace_bytes_is_kept() -> None:
    raw = read("ed25519.gpg") + b"\x0b"  # what a cert ending in 0x0b looks like to strip()
    assert load_public_key(read("ed25519.gpg"), "bin").material == read("ed25519.gpg")
    assert raw.strip() != raw
    from relman.verify.signatures.keys import _material

    assert _material(raw) == raw
    assert (
        _material(b"  -----BEGIN PUBLIC KEY-----\nabc\n\n") == b"-----BEGIN PUBLIC KEY-----\nabc\n"
    )


def test_the_child_returns_plain_fields_that_rebuild_the_same_result() -> None:
    """What the spawned child sends back must pickle and rebuild the in-process result."""
    import pickle

    context = ctx("ed25519.asc")
    fields = openpgp._child_finish(
        read("artifact.bin.ed25519.asc"),
        "artifact.bin.ed25519.asc",
        context.keys,
        (str(ARTIFACT), ARTIFACT.stat().st_size),
    )
    rebuilt = SignatureResult(**pickle.loads(pickle.dumps(fields)))
    direct = finish("artifact.bin.ed25519.asc", ARTIFACT, context)
    assert (rebuilt.ok, rebuilt.signer, rebuilt.detail) == (direct.ok, direct.signer, direct.detail)
    assert dict(rebuilt.facts) == dict(direct.facts)
