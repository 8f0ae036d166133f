"""DSSE envelopes verified with trusted keys (relman.verify.signatures.dsse)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from relman.verify.signatures import dsse, provenance
from relman.verify.signatures.base import (
    WHOLE_FILE,
    Artifact,
    Context,
    SignatureFormatError,
    TrustedKey,
)
from relman.verify.signatures.keys import load_public_key

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signatures" / "dsse"
IN_TOTO = "application/vnd.in-toto+json"


def trusted(private: object, name: str) -> TrustedKey:
    pem = private.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return load_public_key(pem, name)


def fixture_key(name: str) -> TrustedKey:
    return load_public_key((FIXTURES / f"{name}.pub.pem").read_bytes(), name)


def artifact_of(path: Path) -> Artifact:
    data = path.read_bytes()
    return Artifact(path, len(data), {"sha256": hashlib.sha256(data).digest()})


def statement(name: str, data: bytes, predicate_type: str = "https://example.com/test/v1") -> bytes:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": hashlib.sha256(data).hexdigest()}}],
            "predicateType": predicate_type,
            "predicate": {},
        }
    ).encode()


def run(data: bytes | Path, artifact: Path, *keys: TrustedKey, fmt: object = None):
    raw = data.read_bytes() if isinstance(data, Path) else data
    chosen = fmt or dsse.FORMAT
    pending = chosen.prepare(raw, "sig.dsse.json", Context(keys=keys))  # type: ignore[attr-defined]
    return pending.finish(artifact_of(artifact))


@pytest.fixture
def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "app.tar.gz"
    path.write_bytes(b"the artifact bytes\n")
    return path


# --- PAE -------------------------------------------------------------------------------


def test_pae_spec_vector() -> None:
    assert (
        dsse.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert dsse.pae("é", b"") == b"DSSEv1 2 \xc3\xa9 0 "
    assert dsse.pae("t", b"a b\n\x00") == b"DSSEv1 1 t 5 a b\n\x00"


# --- verify_envelope --------------------------------------------------------------------


def test_sign_and_verify_p256_returns_payload_and_key(p256: ec.EllipticCurvePrivateKey) -> None:
    env = dsse.sign_envelope(IN_TOTO, b"payload", p256)
    key = trusted(p256, "ci")
    payload, keys = dsse.verify_envelope(env, [key])
    assert payload == b"payload"
    assert keys == [key]
    assert env["signatures"][0]["keyid"] == ""


def test_sign_and_verify_ed25519_and_p384() -> None:
    for private in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP384R1())):
        env = dsse.sign_envelope("text/plain", b"x", private, keyid="k")
        assert dsse.verify_envelope(env, [trusted(private, "k")])[0] == b"x"


def test_sign_unsupported_curve() -> None:
    with pytest.raises(ValueError, match="unsupported ECDSA curve"):
        dsse.sign_envelope("t", b"x", ec.generate_private_key(ec.SECP256K1()))


def test_rsa_pss_and_pkcs1v15_verify() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = trusted(private, "rsa")
    message = dsse.pae("t", b"body")
    for scheme in (
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH),
        padding.PKCS1v15(),
    ):
        sig = private.sign(message, scheme, hashes.SHA256())
        env = {
            "payloadType": "t",
            "payload": base64.b64encode(b"body").decode(),
            "signatures": [{"sig": base64.b64encode(sig).decode()}],
        }
        assert dsse.verify_envelope(env, [key])[1] == [key]
    bad = {
        "payloadType": "t",
        "payload": base64.b64encode(b"body").decode(),
        "signatures": [{"sig": base64.b64encode(b"\x00" * 256).decode()}],
    }
    with pytest.raises(dsse.DSSEVerificationError):
        dsse.verify_envelope(bad, [key])


def test_wrong_key_is_rejected(p256: ec.EllipticCurvePrivateKey) -> None:
    env = dsse.sign_envelope(IN_TOTO, b"payload", p256)
    other = trusted(ec.generate_private_key(ec.SECP256R1()), "other")
    with pytest.raises(dsse.DSSEVerificationError, match="no signature in the envelope verifies"):
        dsse.verify_envelope(env, [other])


def test_keyid_never_drives_trust(p256: ec.EllipticCurvePrivateKey) -> None:
    key = trusted(p256, "ci")
    env = dsse.sign_envelope(IN_TOTO, b"payload", p256, keyid=key.fingerprint)
    other = trusted(ec.generate_private_key(ec.SECP256R1()), "other")
    # A keyid naming the trusted key does not make another key's signature valid ...
    forged = dsse.sign_envelope(IN_TOTO, b"payload", ec.generate_private_key(ec.SECP256R1()))
    forged["signatures"][0]["keyid"] = key.fingerprint
    with pytest.raises(dsse.DSSEVerificationError):
        dsse.verify_envelope(forged, [key])
    # ... and a keyid naming nobody does not stop the right key from verifying.
    env["signatures"][0]["keyid"] = "nobody"
    assert dsse.verify_envelope(env, [other, key])[1] == [key]


def test_modified_signature_is_rejected(p256: ec.EllipticCurvePrivateKey) -> None:
    env = dsse.sign_envelope(IN_TOTO, b"payload", p256)
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[-1] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    with pytest.raises(dsse.DSSEVerificationError):
        dsse.verify_envelope(env, [trusted(p256, "ci")])


def test_modified_payload_is_rejected(p256: ec.EllipticCurvePrivateKey) -> None:
    env = dsse.sign_envelope(IN_TOTO, b"payload", p256)
    env["payload"] = base64.b64encode(b"payloaD").decode()
    with pytest.raises(dsse.DSSEVerificationError):
        dsse.verify_envelope(env, [trusted(p256, "ci")])


def test_payload_type_swap_is_rejected(p256: ec.EllipticCurvePrivateKey) -> None:
    env = dsse.sign_envelope("application/vnd.example+json", b"{}", p256)
    env["payloadType"] = IN_TOTO
    with pytest.raises(dsse.DSSEVerificationError):
        dsse.verify_envelope(env, [trusted(p256, "ci")])


def test_threshold_counts_distinct_keys(p256: ec.EllipticCurvePrivateKey) -> None:
    second = ed25519.Ed25519PrivateKey.generate()
    k1, k2 = trusted(p256, "one"), trusted(second, "two")
    env = dsse.sign_envelope(IN_TOTO, b"p", p256)
    env["signatures"] += dsse.sign_envelope(IN_TOTO, b"p", second)["signatures"]
    assert {k.name for k in dsse.verify_envelope(env, [k1, k2], threshold=2)[1]} == {"one", "two"}
    # The same key's signature twice counts once.
    twice = dsse.sign_envelope(IN_TOTO, b"p", p256)
    twice["signatures"] += dsse.sign_envelope(IN_TOTO, b"p", p256)["signatures"]
    with pytest.raises(dsse.DSSEVerificationError, match="only 1 of the 2 required"):
        dsse.verify_envelope(twice, [k1, k2], threshold=2)
    with pytest.raises(ValueError, match="threshold"):
        dsse.verify_envelope(env, [k1], threshold=0)


def test_no_usable_key() -> None:
    env = dsse.sign_envelope(IN_TOTO, b"p", ed25519.Ed25519PrivateKey.generate())
    openpgp = TrustedKey("pgp", "openpgp", "ABCD", b"")
    with pytest.raises(dsse.DSSEVerificationError, match="no trusted key of a kind DSSE uses"):
        dsse.verify_envelope(env, [openpgp])
    # A key whose material cannot be loaded is skipped, not trusted.
    broken = TrustedKey("broken", "ed25519", "SHA256:00", b"not a key")
    with pytest.raises(dsse.DSSEVerificationError):
        dsse.verify_envelope(env, [broken])


def test_verify_signature_unknown_key_type_and_curve() -> None:
    from cryptography.hazmat.primitives.asymmetric import x25519

    assert not dsse.verify_signature(x25519.X25519PrivateKey.generate().public_key(), b"", b"")
    k1 = ec.generate_private_key(ec.SECP256K1())
    sig = k1.sign(b"m", ec.ECDSA(hashes.SHA256()))
    assert not dsse.verify_signature(k1.public_key(), sig, b"m")


def test_p521_der_signature_verifies() -> None:
    private = ec.generate_private_key(ec.SECP521R1())
    sig = private.sign(b"m", ec.ECDSA(hashes.SHA512()))
    assert dsse.verify_signature(private.public_key(), sig, b"m")


def test_urlsafe_unpadded_base64_and_raw_rs() -> None:
    result = run(FIXTURES / "raw-rs.dsse.json", FIXTURES / "artifact.txt", fixture_key("p256"))
    assert result.ok, result.detail
    assert (
        "-" in (FIXTURES / "raw-rs.dsse.json").read_text()
        or "_" in (FIXTURES / "raw-rs.dsse.json").read_text()
    )


def test_b64decode_any() -> None:
    raw = bytes([0xFB, 0xFF, 0xFE])
    assert dsse.b64decode_any(base64.b64encode(raw).decode()) == raw
    assert dsse.b64decode_any(base64.urlsafe_b64encode(raw).decode()) == raw
    assert dsse.b64decode_any("-_8") == bytes([0xFB, 0xFF])
    with pytest.raises(ValueError):
        dsse.b64decode_any("a!b=")


# --- parse errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b'{"payloadType": "t", "payload": "eA==", "signatures": [{"sig": "', "line 1 is not JSON"),
        (b"\x00\x01garbage", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"payload": "eA==", "signatures": []}', "no payloadType or payload"),
        (b'{"payloadType": "t", "payload": "eA==", "signatures": []}', "has no signatures"),
        (b'{"payloadType": "t", "payload": "%%%", "signatures": [{"sig": "AA"}]}', "not base64"),
        (b'{"payloadType": "t", "payload": "eA==", "signatures": [{"sig": "%"}]}', "not base64"),
        (b'{"payloadType": "t", "payload": "eA==", "signatures": ["x"]}', "has no sig"),
        (b'{"payloadType": "t", "payload": "eA==", "signatures": [{"keyid": "k"}]}', "no sig"),
    ],
)
def test_parse_errors_name_the_file(data: bytes, reason: str) -> None:
    with pytest.raises(SignatureFormatError, match=reason) as info:
        dsse.FORMAT.prepare(data, "app.dsse.json", Context())
    assert str(info.value).startswith("app.dsse.json")
    assert "\n" not in str(info.value)


def test_truncated_line_in_jsonl_names_the_line() -> None:
    good = (FIXTURES / "artifact.txt.intoto.jsonl").read_bytes()
    with pytest.raises(SignatureFormatError, match="line 2 is not JSON"):
        dsse.FORMAT.prepare(good + good[:40] + b"\n", "x.intoto.jsonl", Context())


def test_verify_envelope_parse_error() -> None:
    with pytest.raises(SignatureFormatError, match="DSSE envelope: is not a DSSE envelope"):
        dsse.verify_envelope({"payloadType": 1}, [])


# --- the format ---------------------------------------------------------------------------


def test_sniff_partitions_envelopes() -> None:
    note = (FIXTURES / "note.dsse.json").read_bytes()
    intoto = (FIXTURES / "artifact.txt.intoto.jsonl").read_bytes()
    assert dsse.FORMAT.sniff(note, "note.dsse.json")
    assert not dsse.FORMAT.sniff(intoto, "a.intoto.jsonl")  # provenance.FORMAT's
    assert provenance.FORMAT.sniff(intoto, "a.intoto.jsonl")
    assert not provenance.FORMAT.sniff(note, "note.dsse.json")
    assert not dsse.FORMAT.sniff(b"", "x")
    assert not dsse.FORMAT.sniff(b"-----BEGIN PGP SIGNATURE-----", "x.asc")
    assert not dsse.FORMAT.sniff(b'{"mediaType": "x"}', "x.json")


def test_in_toto_envelope_via_fixture_files() -> None:
    result = run(
        FIXTURES / "artifact.txt.intoto.jsonl", FIXTURES / "artifact.txt", fixture_key("p256")
    )
    assert result.ok, result.detail
    assert result.kind == "provenance"
    assert result.format == "dsse"
    assert result.signer is not None and result.signer.startswith("p256 (SHA256:")
    assert result.fingerprint == fixture_key("p256").fingerprint
    assert result.facts["commit"] == "8f70009fde0c94ade6ce2a054b94718c819126ec"
    assert "subject matches, commit 8f70009f…" in result.detail


def test_pretty_printed_ed25519_envelope() -> None:
    result = run(
        FIXTURES / "artifact.txt.ed25519.dsse.json",
        FIXTURES / "artifact.txt",
        fixture_key("p256"),
        fixture_key("ed25519"),
    )
    assert result.ok, result.detail
    assert result.signer is not None and result.signer.startswith("ed25519")
    assert result.facts["predicate_type"] == "https://slsa.dev/provenance/v0.2"


def test_tampered_artifact_fails_subject_check() -> None:
    result = run(
        FIXTURES / "artifact.txt.intoto.jsonl", FIXTURES / "other.txt", fixture_key("p256")
    )
    assert not result.ok
    assert "is about other files (artifact.txt)" in result.detail
    assert "not one of its subjects" in result.detail


def test_envelope_wrong_key_fails_through_format() -> None:
    result = run(
        FIXTURES / "artifact.txt.intoto.jsonl", FIXTURES / "artifact.txt", fixture_key("ed25519")
    )
    assert not result.ok
    assert result.kind == "provenance"
    assert "no signature in the envelope verifies with a trusted key (tried ed25519" in (
        result.detail
    )


def test_no_keys_through_format() -> None:
    result = run(FIXTURES / "artifact.txt.intoto.jsonl", FIXTURES / "artifact.txt")
    assert not result.ok
    assert "no trusted key" in result.detail


def test_multi_line_picks_the_line_about_the_artifact() -> None:
    both = (fixture_key("p256"), fixture_key("ed25519"))
    multi = FIXTURES / "multi.intoto.jsonl"
    ok = run(multi, FIXTURES / "artifact.txt", *both)
    assert ok.ok, ok.detail
    assert ok.signer is not None and ok.signer.startswith("ed25519")
    assert run(multi, FIXTURES / "other.txt", *both).ok
    # Line 2 is about the artifact but its key is not trusted: that line's failure is shown.
    only_p256 = run(multi, FIXTURES / "artifact.txt", fixture_key("p256"))
    assert not only_p256.ok
    assert "line 2" in only_p256.source
    # A file about neither: the first line's failure.
    stray = run(multi, FIXTURES / "gen.py", *both)
    assert not stray.ok and "line 1" in stray.source and "other.txt" in stray.detail
    pending = dsse.FORMAT.prepare(multi.read_bytes(), "multi.intoto.jsonl", Context(keys=both))
    assert pending.needs == frozenset({"sha256"})


def test_two_of_two_fixture() -> None:
    env = json.loads((FIXTURES / "two-of-two.dsse.json").read_text())
    keys = [fixture_key("p256"), fixture_key("ed25519")]
    assert len(dsse.verify_envelope(env, keys, threshold=2)[1]) == 2
    with pytest.raises(dsse.DSSEVerificationError):
        dsse.verify_envelope(env, keys[:1], threshold=2)


def test_non_in_toto_payload_verifies_but_names_no_artifact() -> None:
    pending = dsse.FORMAT.prepare(
        (FIXTURES / "note.dsse.json").read_bytes(), "note", Context(keys=(fixture_key("p256"),))
    )
    assert pending.needs == frozenset()
    result = pending.finish(artifact_of(FIXTURES / "artifact.txt"))
    assert not result.ok
    assert result.kind == "signature"
    assert "is not an in-toto Statement" in result.detail
    assert result.facts["payload_type"] == "application/vnd.example.note+json"
    assert not pending.claims(artifact_of(FIXTURES / "artifact.txt"))  # type: ignore[attr-defined]


def test_verified_payload_that_is_not_a_statement(
    p256: ec.EllipticCurvePrivateKey, artifact: Path
) -> None:
    for payload, reason in (
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"_type": "x"}', "not an in-toto Statement"),
        (b'{"_type": "https://in-toto.io/Statement/v1", "subject": []}', "no predicateType"),
        (b'{"_type": "https://in-toto.io/Statement/v1", "predicateType": "p"}', "names no subject"),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", "predicateType": "p", "subject": [{}]}',
            "has no digest",
        ),
    ):
        env = json.dumps(dsse.sign_envelope(IN_TOTO, payload, p256)).encode()
        result = run(env, artifact, trusted(p256, "ci"))
        assert not result.ok and reason in result.detail, result.detail


def test_other_predicate_type_is_subject_checked_only(
    p256: ec.EllipticCurvePrivateKey, artifact: Path
) -> None:
    env = dsse.sign_envelope(IN_TOTO, statement("app.tar.gz", artifact.read_bytes()), p256)
    result = run(json.dumps(env).encode(), artifact, trusted(p256, "ci"))
    assert result.ok, result.detail
    assert "subject checked only" in result.detail
    assert dict(result.facts) == {
        "predicate_type": "https://example.com/test/v1",
        "subject": "app.tar.gz",
    }


def test_subject_mismatch_signature_over_another_file(
    p256: ec.EllipticCurvePrivateKey, artifact: Path
) -> None:
    env = dsse.sign_envelope(IN_TOTO, statement("other", b"other bytes"), p256)
    result = run(json.dumps(env).encode(), artifact, trusted(p256, "ci"))
    assert not result.ok
    assert "is about other files (other)" in result.detail


def test_inline_fulcio_certificate_fails_closed() -> None:
    vectors = Path(__file__).resolve().parents[3].parent / "shared" / "vectors" / "slsa"
    if not vectors.is_dir():
        pytest.fail(f"shared vectors missing: {vectors} (expected beside the repository)")
    name = "gha_generic_v1.2.2_binary-linux-amd64-workflow_dispatch"
    for keys in ((), (fixture_key("p256"),)):
        result = run(vectors / f"{name}.intoto.jsonl", vectors / name, *keys)
        assert not result.ok
        assert "signing time cannot be proven offline" in result.detail
        assert "generator_generic_slsa3.yml@refs/tags/v1.2.2" in result.detail


def test_inline_certificate_unreadable(p256: ec.EllipticCurvePrivateKey) -> None:
    env = dsse.sign_envelope(IN_TOTO, b"{}", p256)
    env["signatures"][0]["cert"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(dsse.DSSEVerificationError, match="an unreadable certificate"):
        dsse.verify_envelope(env, [])


def test_inline_certificate_without_identity(p256: ec.EllipticCurvePrivateKey) -> None:
    import datetime

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(p256.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), False)
        .sign(p256, hashes.SHA256())
    )
    env = dsse.sign_envelope(IN_TOTO, b"{}", p256)
    env["signatures"][0]["cert"] = cert.public_bytes(serialization.Encoding.PEM).decode()
    other = trusted(ec.generate_private_key(ec.SECP256R1()), "other")
    with pytest.raises(dsse.DSSEVerificationError, match="a certificate without identity"):
        dsse.verify_envelope(env, [other])
    # A trusted key still verifies such an envelope: the certificate is never trusted itself.
    assert dsse.verify_envelope(env, [trusted(p256, "ci")])[0] == b"{}"


# --- securesystemslib interop (test-only dependency) ------------------------------------


def test_our_envelope_verifies_in_securesystemslib(p256: ec.EllipticCurvePrivateKey) -> None:
    sslib_dsse = pytest.importorskip("securesystemslib.dsse")
    from securesystemslib.signer import SSlibKey

    for private in (p256, ed25519.Ed25519PrivateKey.generate()):
        their_key = SSlibKey.from_crypto(private.public_key())
        env = dsse.sign_envelope(IN_TOTO, b'{"hello": 1}', private, keyid=their_key.keyid)
        parsed = sslib_dsse.Envelope.from_dict(env)
        assert their_key.keyid in parsed.verify([their_key], 1)
        assert parsed.payload == b'{"hello": 1}'


def test_securesystemslib_envelope_verifies_in_ours() -> None:
    sslib_dsse = pytest.importorskip("securesystemslib.dsse")
    from securesystemslib.signer import CryptoSigner

    for signer in (CryptoSigner.generate_ecdsa(), CryptoSigner.generate_ed25519()):
        env = sslib_dsse.Envelope(b"payload bytes", IN_TOTO, {})
        env.sign(signer)
        public = signer.public_key.to_dict()["keyval"]["public"]
        if signer.public_key.keytype == "ed25519":  # raw hex in securesystemslib
            raw = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
            public = raw.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode()
        key = load_public_key(public.encode(), "sslib")
        payload, keys = dsse.verify_envelope(env.to_dict(), [key])
        assert payload == b"payload bytes" and keys == [key]
        swapped = env.to_dict()
        swapped["payloadType"] = "text/plain"
        with pytest.raises(dsse.DSSEVerificationError):
            dsse.verify_envelope(swapped, [key])


def test_needs_are_declared() -> None:
    pending = dsse.FORMAT.prepare(
        (FIXTURES / "artifact.txt.intoto.jsonl").read_bytes(), "x", Context()
    )
    assert pending.needs == frozenset({"sha256"})
    assert WHOLE_FILE not in pending.needs
