"""in-toto Statements and SLSA provenance facts (relman.verify.signatures.provenance)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from relman.verify.signatures import dsse, provenance
from relman.verify.signatures.base import Artifact, Context, SignatureFormatError, SignatureResult
from relman.verify.signatures.keys import load_public_key


def shared_vectors() -> Path:
    path = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
    if not path.is_dir():
        pytest.fail(f"the shared vectors are missing: expected {path} beside the repository")
    return path


SLSA = shared_vectors() / "slsa"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signatures" / "dsse"
IN_TOTO = provenance.IN_TOTO_PAYLOAD_TYPE


def artifact_of(path: Path) -> Artifact:
    data = path.read_bytes()
    return Artifact(path, len(data), {"sha256": hashlib.sha256(data).digest()})


def payload_of(path: Path) -> bytes:
    """The (unverified) statement inside a vector: only for testing the parsing."""
    doc = json.loads(path.read_text().splitlines()[0])
    env = doc.get("dsseEnvelope", doc)
    return base64.b64decode(env["payload"])


def check(payload: bytes, artifact: Artifact, **extra: Any) -> SignatureResult:
    return provenance.check_statement(
        payload,
        artifact,
        format="dsse",
        source="p.intoto.jsonl",
        signer="ci-release (SHA256:abc…)",
        fingerprint="SHA256:abc",
        **extra,
    )


# --- real SLSA vectors --------------------------------------------------------------------


def test_slsa_v1_facts_from_rules_lint() -> None:
    statement = provenance.parse_statement(
        payload_of(SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl")
    )
    assert statement.statement_type == "https://in-toto.io/Statement/v1"
    assert provenance.lineage_facts(statement) == {
        "predicate_type": "https://slsa.dev/provenance/v1",
        "builder": "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@refs/tags/v7.1.0",
        "build_type": "https://actions.github.io/buildtypes/workflow/v1",
        "invocation": "https://github.com/aspect-build/rules_lint/actions/runs/14095611671/attempts/1",
        "commit": "8f70009fde0c94ade6ce2a054b94718c819126ec",
        "source": "git+https://github.com/aspect-build/rules_lint@refs/heads/publish-to-bcr",
        "ref": "refs/heads/publish-to-bcr",
    }
    plain = (SLSA / "rules_lint.statement.json").read_bytes()
    assert provenance.lineage_facts(provenance.parse_statement(plain))["commit"].startswith(
        "8f70009f"
    )


def test_slsa_v1_subject_check_and_detail() -> None:
    payload = payload_of(SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl")
    result = check(payload, artifact_of(SLSA / "rules_lint-v1.3.1.tar.gz"))
    assert result.ok and result.kind == "provenance"
    assert result.detail.startswith(
        "provenance signed by ci-release (SHA256:abc…): subject matches, commit 8f70009f…"
    )
    assert "builder https://github.com/bazel-contrib/" in result.detail
    assert result.facts["subject"] == "rules_lint-v1.3.1.tar.gz"
    other = check(payload, artifact_of(SLSA / "delegator_v2.0.0_wd"))
    assert not other.ok
    assert "is about other files (rules_lint-v1.3.1.tar.gz)" in other.detail
    assert other.facts["commit"] == "8f70009fde0c94ade6ce2a054b94718c819126ec"


@pytest.mark.parametrize(
    ("name", "commit", "builder_tag"),
    [
        (
            "gha_generic_v2.1.0_binary-linux-amd64-workflow_dispatch",
            "4d329c75e7ec1725f7c9ce917a8799d408d06be3",
            "v2.1.0",
        ),
        (
            "gha_generic_v1.2.2_binary-linux-amd64-workflow_dispatch",
            "5a2e2926e30c40a35e0102cebe293987fb1922b0",
            "v1.2.2",
        ),
    ],
)
def test_slsa_v02_facts(name: str, commit: str, builder_tag: str) -> None:
    payload = payload_of(SLSA / f"{name}.intoto.jsonl")
    result = check(payload, artifact_of(SLSA / name))
    assert result.ok, result.detail
    facts = result.facts
    assert facts["predicate_type"] == "https://slsa.dev/provenance/v0.2"
    assert facts["commit"] == commit
    assert (
        facts["source"] == "git+https://github.com/slsa-framework/example-package@refs/heads/main"
    )
    assert facts["ref"] == "refs/heads/main"
    assert facts["builder"].endswith(f"generator_generic_slsa3.yml@refs/tags/{builder_tag}")
    assert (
        facts["build_type"] == "https://github.com/slsa-framework/slsa-github-generator/generic@v1"
    )


def test_delegator_v1_statement_facts() -> None:
    facts = provenance.lineage_facts(
        provenance.parse_statement(payload_of(SLSA / "delegator_v2.0.0_wd.build.slsa"))
    )
    assert facts["predicate_type"] == "https://slsa.dev/provenance/v1"
    assert facts["build_type"].endswith("delegator-generic@v0")
    assert facts["commit"] == "693130cb6cb840a7bc9cb18c6510d536a95dc7e6"
    assert facts["builder"].endswith("builder_high-perms_slsa3.yml@refs/tags/v2.0.0")
    assert facts["ref"] == "refs/heads/main"


# --- synthetic statements ------------------------------------------------------------------


def v02(
    predicate: dict[str, Any], predicate_type: str = provenance.SLSA_V02
) -> provenance.Statement:
    return provenance.Statement("https://in-toto.io/Statement/v0.1", predicate_type, (), predicate)


def test_v02_commit_from_materials_when_no_config_source() -> None:
    facts = provenance.lineage_facts(
        v02(
            {
                "builder": {"id": "b"},
                "metadata": {"buildInvocationId": "run-1"},
                "materials": [
                    {"uri": "pkg:npm/left-pad", "digest": {"sha512": "00"}},
                    "junk",
                    {"uri": "git+https://git.example/r@refs/tags/v1", "digest": {"sha1": "ABC123"}},
                ],
            }
        )
    )
    assert facts == {
        "predicate_type": provenance.SLSA_V02,
        "builder": "b",
        "invocation": "run-1",
        "commit": "abc123",
        "source": "git+https://git.example/r@refs/tags/v1",
        "ref": "refs/tags/v1",
    }


def test_v01_and_odd_shapes_do_not_crash() -> None:
    assert provenance.lineage_facts(v02({"materials": "nope"}, provenance.SLSA_V01)) == {
        "predicate_type": provenance.SLSA_V01
    }
    odd = provenance.Statement(
        "https://in-toto.io/Statement/v1",
        provenance.SLSA_V1,
        (),
        {"buildDefinition": {"resolvedDependencies": "nope"}, "runDetails": []},
    )
    assert provenance.lineage_facts(odd) == {"predicate_type": provenance.SLSA_V1}


def test_v1_without_commit_uses_workflow_repository() -> None:
    stmt = provenance.Statement(
        "https://in-toto.io/Statement/v1",
        provenance.SLSA_V1,
        (),
        {
            "buildDefinition": {
                "externalParameters": {
                    "workflow": {"ref": "refs/heads/main", "repository": "https://github.com/o/r"}
                },
                "resolvedDependencies": [{"uri": "x", "digest": {"sha256": "00"}}],
            }
        },
    )
    assert provenance.lineage_facts(stmt) == {
        "predicate_type": provenance.SLSA_V1,
        "ref": "refs/heads/main",
        "source": "https://github.com/o/r",
    }


def test_ref_parsing() -> None:
    assert provenance._ref_of("git+https://h/r@refs/tags/v1") == "refs/tags/v1"
    assert provenance._ref_of("git+https://h/r@abc") is None
    assert provenance._ref_of("https://h/r") is None
    assert provenance.short_commit("abc") == "abc"


def test_subject_compare_and_claims() -> None:
    data = b"x"
    digest = hashlib.sha256(data).digest()
    payload = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "p",
            "subject": [
                {"name": "no-sha256", "digest": {"sha512": "00"}},
                {"digest": {"SHA256": digest.hex().upper(), "other": 5}},
            ],
        }
    ).encode()
    stmt = provenance.parse_statement(payload)
    assert stmt.subjects[1].name == "" and stmt.predicate == {}
    assert provenance.matching_subject(stmt, digest) is stmt.subjects[1]
    assert provenance.claims_artifact(payload, digest)
    assert not provenance.claims_artifact(payload, None)
    assert not provenance.claims_artifact(b"garbage", digest)
    artifact = Artifact(Path("x"), 1, {"sha256": digest})
    result = check(payload, artifact)
    assert result.ok and "subject" not in result.facts  # unnamed subject


def test_many_subjects_are_abbreviated_and_missing_digest() -> None:
    subjects = [{"name": f"f{i}", "digest": {"sha256": "00"}} for i in range(5)]
    payload = json.dumps(
        {"_type": "https://in-toto.io/Statement/v1", "predicateType": "p", "subject": subjects}
    ).encode()
    result = check(payload, Artifact(Path("x"), 1, {"sha256": b"\x01" * 32}))
    assert "(f0, f1, f2 …)" in result.detail
    no_digest = check(payload, Artifact(Path("x"), 1, {}))
    assert not no_digest.ok and "(not computed)" in no_digest.detail


def test_certificate_commit_must_agree() -> None:
    payload = payload_of(SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl")
    art = artifact_of(SLSA / "rules_lint-v1.3.1.tar.gz")
    agree = check(
        payload, art, extra_facts={"certificate_commit": "8F70009FDE0C94ADE6CE2A054B94718C819126EC"}
    )
    assert agree.ok and "certificate_commit" not in agree.facts
    clash = check(payload, art, extra_facts={"certificate_commit": "1" * 40, "identity": "i"})
    assert not clash.ok
    assert "but the signing certificate was issued for commit 1111" in clash.detail
    assert clash.facts["identity"] == "i" and "certificate_commit" not in clash.facts


# --- the format ------------------------------------------------------------------------------


def test_sniff() -> None:
    assert provenance.FORMAT.sniff(
        (SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl").read_bytes(), "x"
    )
    assert provenance.FORMAT.sniff((SLSA / "delegator_v2.0.0_wd.build.slsa").read_bytes(), "x")
    assert provenance.FORMAT.sniff(
        (
            SLSA / "gha_generic_v1.2.2_binary-linux-amd64-workflow_dispatch.intoto.jsonl"
        ).read_bytes(),
        "x",
    )
    assert not provenance.FORMAT.sniff(b"not json", "x.intoto.jsonl")
    assert not provenance.FORMAT.sniff(b"{broken", "x.intoto.jsonl")
    assert not provenance.FORMAT.sniff(
        (shared_vectors() / "sigstore" / "rfc8785-0.1.2-py3-none-any.whl.sigstore").read_bytes(),
        "x",
    )
    key_bundle = shared_vectors() / "cosign" / "managed-key-happy-path" / "bundle.sigstore.json"
    assert not provenance.FORMAT.sniff(key_bundle.read_bytes(), "x")
    assert provenance.FORMAT.name == "in-toto"


def test_prepare_rejects_lines_that_are_neither() -> None:
    line = (FIXTURES / "artifact.txt.intoto.jsonl").read_bytes()
    with pytest.raises(SignatureFormatError, match=r"x.intoto.jsonl, line 2: is neither a DSSE"):
        provenance.FORMAT.prepare(line + b'{"hello": 1}\n', "x.intoto.jsonl", Context())
    key_bundle = shared_vectors() / "cosign" / "managed-key-happy-path" / "bundle.sigstore.json"
    with pytest.raises(SignatureFormatError, match="is neither"):
        provenance.FORMAT.prepare(key_bundle.read_bytes(), "b.json", Context())
    with pytest.raises(SignatureFormatError, match="x: is empty, not an in-toto provenance file"):
        provenance.FORMAT.prepare(b"\n", "x", Context())


def test_mixed_envelope_and_bundle_lines() -> None:
    """A file with a keyless bundle line and a key-signed envelope line: the line that
    verifies and names the artifact decides."""
    p256 = ec.generate_private_key(ec.SECP256R1())
    pem = p256.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = load_public_key(pem, "ci-release")
    art_path = FIXTURES / "artifact.txt"
    stmt = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "predicateType": provenance.SLSA_V1,
            "subject": [
                {
                    "name": "artifact.txt",
                    "digest": {"sha256": hashlib.sha256(art_path.read_bytes()).hexdigest()},
                }
            ],
            "predicate": {
                "buildDefinition": {
                    "resolvedDependencies": [
                        {"uri": "git+https://g/r@refs/tags/v1", "digest": {"gitCommit": "ab" * 20}}
                    ]
                },
                "runDetails": {"builder": {"id": "https://ci/builder"}},
            },
        }
    ).encode()
    bundle_line = (SLSA / "rules_lint-v1.3.1.tar.gz.intoto.jsonl").read_bytes().strip()
    env_line = json.dumps(dsse.sign_envelope(IN_TOTO, stmt, p256)).encode()
    data = bundle_line + b"\n" + env_line + b"\n"
    pending = provenance.FORMAT.prepare(data, "mixed.intoto.jsonl", Context(keys=(key,)))
    assert pending.needs == frozenset({"sha256"})
    result = pending.finish(artifact_of(art_path))
    assert result.ok, result.detail
    assert result.format == "dsse" and result.source == "mixed.intoto.jsonl, line 2"
    assert result.detail.startswith("provenance signed by ci-release (SHA256:")
    assert result.facts["commit"] == "ab" * 20 and result.facts["builder"] == "https://ci/builder"
    # The tarball: line 1 names it, but its keyless signer is not trusted without an identity.
    tarball = pending.finish(artifact_of(SLSA / "rules_lint-v1.3.1.tar.gz"))
    assert not tarball.ok and tarball.source == "mixed.intoto.jsonl, line 1"
    assert "give --identity and --issuer" in tarball.detail


def test_pretty_envelope_single_document() -> None:
    pending = provenance.FORMAT.prepare(
        (FIXTURES / "artifact.txt.ed25519.dsse.json").read_bytes(),
        "a.dsse.json",
        Context(keys=(load_public_key((FIXTURES / "ed25519.pub.pem").read_bytes(), "ed"),)),
    )
    result = pending.finish(artifact_of(FIXTURES / "artifact.txt"))
    assert result.ok and result.source == "a.dsse.json"
    assert result.facts["source"] == "git+https://github.com/example/relman-fixture@refs/heads/main"
