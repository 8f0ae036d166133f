"""Keyless Sigstore bundles verified offline (relman.verify.signatures.sigstore_bundle)."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from relman.errors import InputError
from relman.verify.signatures import provenance, sigstore_bundle
from relman.verify.signatures.base import Artifact, Context, SignatureFormatError, SignatureResult


def shared_vectors() -> Path:
    path = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
    if not path.is_dir():
        pytest.fail(f"the shared vectors are missing: expected {path} beside the repository")
    return path


VECTORS = shared_vectors()
SIG = VECTORS / "sigstore"
SLSA = VECTORS / "slsa"
RESOURCES = Path(sigstore_bundle.__file__).resolve().parents[2] / "resources" / "sigstore"
STAGING_ROOT = RESOURCES / "staging_trusted_root.json"
GITHUB = "https://token.actions.githubusercontent.com"
WHEEL = SIG / "rfc8785-0.1.2-py3-none-any.whl"
WHEEL_BUNDLE = SIG / "rfc8785-0.1.2-py3-none-any.whl.sigstore"


def artifact_of(path: Path, data: bytes | None = None) -> Artifact:
    data = path.read_bytes() if data is None else data
    return Artifact(path, len(data), {"sha256": hashlib.sha256(data).digest()})


def cert_identity(bundle: Path) -> tuple[str, str]:
    """SAN and issuer read straight from the bundle's leaf certificate."""
    doc = json.loads(bundle.read_text())
    material = doc["verificationMaterial"]
    raw = (
        material["certificate"]["rawBytes"]
        if "certificate" in material
        else material["x509CertificateChain"]["certificates"][0]["rawBytes"]
    )
    import base64

    cert = x509.load_der_x509_certificate(base64.b64decode(raw))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = san.get_values_for_type(x509.UniformResourceIdentifier) + san.get_values_for_type(
        x509.RFC822Name
    )
    issuer = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"))
    return names[0], issuer.value.value.decode()  # type: ignore[attr-defined]


def verify(
    bundle: Path, artifact: Path | Artifact, fmt: Any = None, **context: Any
) -> SignatureResult:
    data = bundle.read_bytes()
    chosen = fmt or (
        provenance.FORMAT if provenance.FORMAT.sniff(data, bundle.name) else sigstore_bundle.FORMAT
    )
    pending = chosen.prepare(data, bundle.name, Context(**context))
    assert pending.needs == frozenset({"sha256"}) or pending.needs == frozenset()
    art = artifact if isinstance(artifact, Artifact) else artifact_of(artifact)
    return pending.finish(art)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs with sockets that cannot connect: verification is offline."""

    def refuse(self: socket.socket, *args: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, *a))  # type: ignore[arg-type]


def test_network_is_really_blocked() -> None:
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("rekor.sigstore.dev", 443))
    s = socket.socket()
    try:
        with pytest.raises(AssertionError):
            s.connect(("127.0.0.1", 9))
    finally:
        s.close()


# --- the production bundle -------------------------------------------------------------------


def test_production_bundle_with_the_right_identity() -> None:
    san, issuer = cert_identity(WHEEL_BUNDLE)
    assert (
        san
        == "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
    )
    assert issuer == GITHUB
    result = verify(WHEEL_BUNDLE, WHEEL, identity=san, issuer=issuer)
    assert result.ok, result.detail
    assert result.format == "sigstore" and result.kind == "signature"
    assert result.signer == f"{san} ({issuer})"
    assert result.fingerprint is None
    assert result.facts["identity"] == san and result.facts["issuer"] == issuer
    assert result.facts["signed_at"] == "2024-03-19T22:41:16Z"
    assert result.facts["commit"] == "d8b4a6445f38c48b9137a8099706d9b8073146e4"
    assert result.facts["source"] == "https://github.com/trailofbits/rfc8785.py"
    assert result.facts["ref"] == "refs/tags/v0.1.2"
    assert "verified offline" in result.detail and "source commit d8b4a644…" in result.detail


def test_no_identity_given_is_not_trusted() -> None:
    san, issuer = cert_identity(WHEEL_BUNDLE)
    result = verify(WHEEL_BUNDLE, WHEEL)
    assert not result.ok
    assert result.detail.startswith(
        f"keyless Sigstore signature by {san} ({issuer}) — give --identity and --issuer to trust it"
    )
    assert result.facts["identity"] == san and result.facts["issuer"] == issuer
    only_identity = verify(WHEEL_BUNDLE, WHEEL, identity=san)
    assert not only_identity.ok and "(--issuer missing)" in only_identity.detail


def test_wrong_identity_and_wrong_issuer() -> None:
    san, issuer = cert_identity(WHEEL_BUNDLE)
    wrong = verify(WHEEL_BUNDLE, WHEEL, identity=san.replace("v0.1.2", "v9"), issuer=issuer)
    assert not wrong.ok
    assert f"signed by {san} ({issuer}), not by the expected identity" in wrong.detail
    bad_issuer = verify(WHEEL_BUNDLE, WHEEL, identity=san, issuer="https://accounts.google.com")
    assert not bad_issuer.ok
    assert "not the expected issuer https://accounts.google.com" in bad_issuer.detail


def test_tampered_artifact() -> None:
    san, issuer = cert_identity(WHEEL_BUNDLE)
    data = bytearray(WHEEL.read_bytes())
    data[100] ^= 0xFF
    result = verify(WHEEL_BUNDLE, artifact_of(WHEEL, bytes(data)), identity=san, issuer=issuer)
    assert not result.ok
    assert "the artifact does not match the Sigstore signature" in result.detail
    # Without an identity a tampered artifact is reported as tampered, not as "untrusted".
    assert "does not match" in verify(WHEEL_BUNDLE, artifact_of(WHEEL, bytes(data))).detail


def test_missing_digest_is_a_failure() -> None:
    pending = sigstore_bundle.FORMAT.prepare(WHEEL_BUNDLE.read_bytes(), "b", Context())
    result = pending.finish(Artifact(WHEEL, 1, {}))
    assert not result.ok and "not computed" in result.detail


def test_modified_bundle_signature() -> None:
    doc = json.loads(WHEEL_BUNDLE.read_text())
    sig = doc["messageSignature"]["signature"]
    doc["messageSignature"]["signature"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    san, issuer = cert_identity(WHEEL_BUNDLE)
    pending = sigstore_bundle.FORMAT.prepare(
        json.dumps(doc).encode(), "b", Context(identity=san, issuer=issuer)
    )
    result = pending.finish(artifact_of(WHEEL))
    assert not result.ok


def test_v01_bundle_without_checkpoint() -> None:
    bundle = SIG / "Python-3.12.5.tgz.sigstore"
    assert sigstore_bundle.FORMAT.sniff(bundle.read_bytes(), bundle.name)
    pending = sigstore_bundle.FORMAT.prepare(bundle.read_bytes(), bundle.name, Context())
    result = pending.finish(Artifact(bundle, 0, {"sha256": b"\0" * 32}))
    assert not result.ok
    assert result.detail.startswith(
        "this bundle has no inclusion proof with checkpoint (an old v0.1 bundle); it cannot be "
        "verified offline — "
    )
    assert not pending.claims(Artifact(bundle, 0, {}))  # type: ignore[attr-defined]


# --- staging bundles with the staging trusted root --------------------------------------------


@pytest.mark.parametrize(
    ("bundle", "artifact"),
    [
        ("bundle_v3.txt.sigstore", "bundle_v3.txt"),
        ("staging-rekor-v2.txt.sigstore.json", "staging-rekor-v2.txt"),
    ],
)
def test_staging_bundles(bundle: str, artifact: str) -> None:
    san, issuer = cert_identity(SIG / bundle)
    result = verify(
        SIG / bundle, SIG / artifact, identity=san, issuer=issuer, trusted_root=STAGING_ROOT
    )
    assert result.ok, result.detail
    # Against the pinned production root the staging chain does not verify.
    prod = verify(SIG / bundle, SIG / artifact, identity=san, issuer=issuer)
    assert not prod.ok and "does not verify offline" in prod.detail


def test_staging_dsse_bundle_is_provenance_about_a_txt() -> None:
    bundle = SIG / "a.dsse.staging-rekor-v2.txt.sigstore.json"
    san, issuer = cert_identity(bundle)
    assert provenance.FORMAT.sniff(bundle.read_bytes(), bundle.name)
    assert not sigstore_bundle.FORMAT.sniff(bundle.read_bytes(), bundle.name)
    ctx = {"identity": san, "issuer": issuer, "trusted_root": STAGING_ROOT}
    result = verify(bundle, VECTORS / "cosign" / "a.txt", **ctx)
    assert result.ok, result.detail
    assert result.kind == "provenance" and result.format == "sigstore"
    assert result.facts["predicate_type"] == "https://slsa.dev/provenance/v1"
    assert (
        result.facts["builder"]
        == "https://github.com/sigstore-conformance/rekor2-dsse-hashedrekord-regen"
    )
    assert result.facts["subject"] == "a.txt"
    # The sigstore format verifies it the same way when asked directly.
    direct = verify(bundle, VECTORS / "cosign" / "a.txt", fmt=sigstore_bundle.FORMAT, **ctx)
    assert direct == result
    other = verify(bundle, SIG / "a.dsse.staging-rekor-v2.txt", **ctx)
    assert not other.ok and "is about other files (a.txt)" in other.detail


# --- SLSA provenance bundles -------------------------------------------------------------------


def test_slsa_generator_v2_bundle() -> None:
    name = "gha_generic_v2.1.0_binary-linux-amd64-workflow_dispatch"
    bundle = SLSA / f"{name}.intoto.jsonl"
    san, issuer = cert_identity(bundle)
    result = verify(bundle, SLSA / name, identity=san, issuer=issuer)
    assert result.ok, result.detail
    assert result.kind == "provenance"
    assert result.facts["commit"] == "4d329c75e7ec1725f7c9ce917a8799d408d06be3"
    assert result.facts["predicate_type"] == "https://slsa.dev/provenance/v0.2"
    assert result.facts["identity"] == san
    assert result.detail.startswith(
        f"provenance signed by {san} ({issuer}): subject matches, commit 4d329c75…"
    )


def test_rules_lint_bundle_slsa_v1() -> None:
    bundle = SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl"
    san, issuer = cert_identity(bundle)
    result = verify(bundle, SLSA / "rules_lint-v1.3.1.tar.gz", identity=san, issuer=issuer)
    assert result.ok, result.detail
    assert result.facts["commit"] == "8f70009fde0c94ade6ce2a054b94718c819126ec"
    assert (
        result.facts["source"]
        == "git+https://github.com/aspect-build/rules_lint@refs/heads/publish-to-bcr"
    )
    wrong = verify(
        bundle, SLSA / "rules_lint-v1.3.1.tar.gz", identity="https://github.com/evil", issuer=issuer
    )
    assert not wrong.ok and "not by the expected identity https://github.com/evil" in wrong.detail
    untrusted = verify(bundle, SLSA / "rules_lint-v1.3.1.tar.gz")
    assert not untrusted.ok and "give --identity and --issuer" in untrusted.detail


def test_delegator_intoto_log_entry_fails_with_reason() -> None:
    bundle = SLSA / "delegator_v2.0.0_wd.build.slsa"
    san, issuer = cert_identity(bundle)
    result = verify(bundle, SLSA / "delegator_v2.0.0_wd", identity=san, issuer=issuer)
    assert not result.ok
    assert "transparency-log entry is of a kind (intoto 0.0.2)" in result.detail


def test_multi_line_bundles_pick_the_matching_line() -> None:
    name = "gha_generic_v2.1.0_binary-linux-amd64-workflow_dispatch"
    first = (SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl").read_bytes().strip()
    second = (SLSA / f"{name}.intoto.jsonl").read_bytes().strip()
    data = first + b"\n\n" + second + b"\n"
    san, issuer = cert_identity(SLSA / f"{name}.intoto.jsonl")
    pending = provenance.FORMAT.prepare(
        data, "all.intoto.jsonl", Context(identity=san, issuer=issuer)
    )
    result = pending.finish(artifact_of(SLSA / name))
    assert result.ok and result.source == "all.intoto.jsonl, line 3"
    # The tarball's line is signed by another identity: its failure is the one reported.
    tarball = pending.finish(artifact_of(SLSA / "rules_lint-v1.3.1.tar.gz"))
    assert not tarball.ok and tarball.source == "all.intoto.jsonl, line 1"
    assert "not by the expected identity" in tarball.detail


def test_multi_line_message_signature_bundles() -> None:
    san, issuer = cert_identity(WHEEL_BUNDLE)
    v3 = (SIG / "bundle_v3.txt.sigstore").read_bytes()
    one_line = json.dumps(json.loads(v3)).encode()
    data = one_line + b"\n" + json.dumps(json.loads(WHEEL_BUNDLE.read_bytes())).encode() + b"\n"
    assert sigstore_bundle.FORMAT.sniff(data, "x.jsonl")
    pending = sigstore_bundle.FORMAT.prepare(data, "x.jsonl", Context(identity=san, issuer=issuer))
    result = pending.finish(artifact_of(WHEEL))
    assert result.ok and result.source == "x.jsonl, line 2"
    lines = pending.lines  # type: ignore[attr-defined]
    assert lines[1].claims(artifact_of(WHEEL)) and not lines[0].claims(artifact_of(WHEEL))
    assert not lines[1].claims(Artifact(WHEEL, 0, {}))


# --- parsing and sniffing -----------------------------------------------------------------


def test_key_based_bundle_is_not_ours() -> None:
    bundle = VECTORS / "cosign" / "managed-key-happy-path" / "bundle.sigstore.json"
    assert not sigstore_bundle.FORMAT.sniff(bundle.read_bytes(), bundle.name)
    with pytest.raises(SignatureFormatError, match="key-based Sigstore bundle"):
        sigstore_bundle.FORMAT.prepare(bundle.read_bytes(), bundle.name, Context())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty, not a Sigstore bundle"),
        (b"{", "line 1 is not JSON"),
        (b"garbage", "not JSON"),
        (b'{"payloadType": "x", "payload": "", "signatures": []}', "is not a Sigstore bundle"),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle+json;version=9"}',
            "not a valid Sigstore bundle",
        ),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": 5}',
            "not a valid Sigstore bundle",
        ),
    ],
)
def test_parse_errors(data: bytes, reason: str) -> None:
    with pytest.raises(SignatureFormatError, match=reason) as info:
        sigstore_bundle.FORMAT.prepare(data, "x.sigstore.json", Context())
    assert str(info.value).startswith("x.sigstore.json")


def test_truncated_bundle() -> None:
    data = WHEEL_BUNDLE.read_bytes()
    with pytest.raises(SignatureFormatError, match="x.sigstore: line 1 is not JSON"):
        sigstore_bundle.FORMAT.prepare(data[: len(data) // 2], "x.sigstore", Context())


def test_bad_base64_in_bundle() -> None:
    doc = json.loads(WHEEL_BUNDLE.read_text())
    doc["messageSignature"]["signature"] = "%%%"
    with pytest.raises(SignatureFormatError, match="not a valid Sigstore bundle"):
        sigstore_bundle.FORMAT.prepare(json.dumps(doc).encode(), "x.sigstore", Context())


def test_sniff() -> None:
    assert sigstore_bundle.FORMAT.sniff(WHEEL_BUNDLE.read_bytes(), "x")
    assert not sigstore_bundle.FORMAT.sniff(b"", "x")
    assert not sigstore_bundle.FORMAT.sniff(b"MEUCIQ==", "x.sig")
    assert not sigstore_bundle.FORMAT.sniff(
        (SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl").read_bytes(), "x"
    )
    assert sigstore_bundle.FORMAT.name == "sigstore"


def test_claims_with_odd_dsse_payloads() -> None:
    bundle = SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl"
    doc = json.loads(bundle.read_text())
    art = artifact_of(SLSA / "rules_lint-v1.3.1.tar.gz")
    pending = sigstore_bundle.prepare_document(doc, "b", Context())
    assert isinstance(pending, sigstore_bundle.BundlePending) and pending.claims(art)
    pending._doc = {**doc, "dsseEnvelope": {"payload": 5}}
    assert not pending.claims(art)
    pending._doc = {**doc, "dsseEnvelope": {"payload": "%%"}}
    assert not pending.claims(art)
    wheel = sigstore_bundle.prepare_document(json.loads(WHEEL_BUNDLE.read_text()), "w", Context())
    assert isinstance(wheel, sigstore_bundle.BundlePending)
    wheel._doc = {"messageSignature": {"messageDigest": {"digest": "%%"}}}
    assert not wheel.claims(artifact_of(WHEEL))


def test_non_in_toto_dsse_bundle_names_no_artifact() -> None:
    bundle = SIG / "a.dsse.staging-rekor-v2.txt.sigstore.json"
    san, issuer = cert_identity(bundle)
    pending = sigstore_bundle.FORMAT.prepare(
        bundle.read_bytes(), "b", Context(identity=san, issuer=issuer, trusted_root=STAGING_ROOT)
    )

    def fake_verify_dsse(bundle: object, policy: object) -> tuple[str, bytes]:
        return "application/vnd.example+json", b"{}"

    pending.verifier = type("V", (), {"verify_dsse": staticmethod(fake_verify_dsse)})()  # type: ignore[attr-defined]
    result = pending.finish(artifact_of(VECTORS / "cosign" / "a.txt"))
    assert not result.ok and "is not an in-toto Statement" in result.detail


# --- trust roots ----------------------------------------------------------------------------


def test_pinned_roots_are_shipped() -> None:
    prod = json.loads(sigstore_bundle.pinned_root_text())
    staging = json.loads(sigstore_bundle.pinned_root_text(sigstore_bundle.STAGING_ROOT))
    assert (
        prod["mediaType"]
        == staging["mediaType"]
        == "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    )
    assert any("rekor.sigstore.dev" in t["baseUrl"] for t in prod["tlogs"])
    assert any("sigstage" in t["baseUrl"] for t in staging["tlogs"])
    assert (RESOURCES / "README.md").is_file()


def test_bad_trusted_root_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the trusted root"):
        sigstore_bundle.verifier(tmp_path / "missing.json")
    garbage = tmp_path / "root.json"
    garbage.write_text("{not json")
    with pytest.raises(InputError, match="is not a Sigstore trusted_root.json"):
        sigstore_bundle.verifier(garbage)
    wrong_type = tmp_path / "wrong.json"
    wrong_type.write_text(json.dumps({"mediaType": "application/x-nope"}))
    with pytest.raises(InputError, match="is not a Sigstore trusted_root.json"):
        sigstore_bundle.verifier(wrong_type)
    with pytest.raises(InputError):
        sigstore_bundle.FORMAT.prepare(
            WHEEL_BUNDLE.read_bytes(), "b", Context(trusted_root=garbage)
        )


# --- certificate helpers -----------------------------------------------------------------


def test_der_utf8() -> None:
    assert sigstore_bundle._der_utf8(b"\x0c\x03abc") == "abc"
    long = "x" * 200
    assert sigstore_bundle._der_utf8(b"\x0c\x81\xc8" + long.encode()) == long
    assert sigstore_bundle._der_utf8(b"\x13\x01a") is None  # PrintableString
    assert sigstore_bundle._der_utf8(b"\x0c") is None
    assert sigstore_bundle._der_utf8(b"\x0c\x05ab") is None  # truncated
    assert sigstore_bundle._der_utf8(b"\x0c\x01\xff") is None


def _self_signed(extensions: list[x509.ExtensionType]) -> x509.Certificate:
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for ext in extensions:
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(key, hashes.SHA256())


def test_certificate_identity_variants() -> None:
    assert sigstore_bundle.certificate_identity(_self_signed([])) == ("?", "?")
    other_name = x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.7"), b"\x0c\x03bob")
    v2_issuer = x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), b"\x0c\x0bhttps://idp"
    )
    cert = _self_signed([x509.SubjectAlternativeName([other_name]), v2_issuer])
    san, issuer = sigstore_bundle.certificate_identity(cert)
    assert issuer == "https://idp" and "bob" in san
    empty = _self_signed([x509.SubjectAlternativeName([x509.DNSName("example.com")])])
    assert sigstore_bundle.certificate_identity(empty) == ("?", "?")
    assert sigstore_bundle.certificate_facts(empty) == {}
    assert (
        sigstore_bundle._extension_bytes(
            _self_signed([x509.BasicConstraints(ca=False, path_length=None)]),
            x509.oid.ExtensionOID.BASIC_CONSTRAINTS,
        )
        is None
    )


def test_signed_at_edge_cases() -> None:
    class Entry:
        def __init__(self, value: object) -> None:
            self._inner = type("I", (), {"integrated_time": value})()

    class FakeBundle:
        def __init__(self, value: object) -> None:
            self.log_entry = Entry(value)

    assert sigstore_bundle._signed_at(FakeBundle(None)) is None  # type: ignore[arg-type]
    assert sigstore_bundle._signed_at(FakeBundle("x")) is None  # type: ignore[arg-type]
    assert sigstore_bundle._signed_at(FakeBundle(0)) is None  # type: ignore[arg-type]
    assert sigstore_bundle._signed_at(FakeBundle("1")) == "1970-01-01T00:00:01Z"  # type: ignore[arg-type]


def test_non_string_base64_field_and_loader_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads(WHEEL_BUNDLE.read_text())
    doc["messageSignature"]["signature"] = 5
    with pytest.raises(SignatureFormatError, match=r"messageSignature.signature is not base64"):
        sigstore_bundle.FORMAT.prepare(json.dumps(doc).encode(), "x.sigstore", Context())

    def broken(raw: object) -> object:
        raise ValueError("field required\nmore detail")

    monkeypatch.setattr(sigstore_bundle.Bundle, "from_json", staticmethod(broken))
    with pytest.raises(
        SignatureFormatError, match=r"not a valid Sigstore bundle \(field required\)$"
    ):
        sigstore_bundle.FORMAT.prepare(WHEEL_BUNDLE.read_bytes(), "x.sigstore", Context())


def test_dsse_bundle_whose_certificate_names_no_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = SIG / "a.dsse.staging-rekor-v2.txt.sigstore.json"
    san, issuer = cert_identity(bundle)
    monkeypatch.setattr(sigstore_bundle, "certificate_facts", lambda cert: {})
    result = verify(
        bundle, VECTORS / "cosign" / "a.txt", identity=san, issuer=issuer, trusted_root=STAGING_ROOT
    )
    assert result.ok, result.detail
