"""relman verify with signatures, keys, provenance and signed lists: exit codes and JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "signatures"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
WHEEL = "rfc8785-0.1.2-py3-none-any.whl"
WHEEL_SAN = (
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
)
GITHUB = "https://token.actions.githubusercontent.com"


def copy(tmp_path: Path, *names: str, folder: str = "openssl") -> Path:
    for name in names:
        shutil.copy(FIX / folder / name, tmp_path / name)
    return tmp_path


def checks(run) -> list[dict]:
    return json.loads(run.out)["files"][0]["checks"]


def test_detached_signature_with_a_key_file(relman_cli) -> None:
    run = relman_cli(
        "verify",
        FIX / "openssl/artifact.bin",
        "--signature",
        FIX / "openssl/artifact.bin.p256.sig",
        "--key",
        FIX / "openssl/p256.pub.pem",
        "--no-discover",
        "--json",
    )
    assert run.code == 0, run.out + run.err
    (check,) = checks(run)
    assert check["kind"] == "signature" and check["ok"] is True
    assert check["signer"].startswith("p256.pub.pem (SHA256:")
    assert check["fingerprint"].startswith("SHA256:")


def test_signature_sidecar_and_trust_store_by_name(relman_cli, tmp_path: Path) -> None:
    copy(tmp_path, "artifact.bin")
    shutil.copy(FIX / "openssl/artifact.bin.rsa.sig", tmp_path / "artifact.bin.sig")
    run = relman_cli("verify", tmp_path / "artifact.bin")
    assert run.code == 1
    assert "no trusted key" in run.out or "not trusted" in run.out
    assert relman_cli("trust", "add", "ci-release", FIX / "openssl/rsa.pub.pem").code == 0
    run = relman_cli("verify", tmp_path / "artifact.bin", "--json")
    assert run.code == 0, run.out
    assert checks(run)[0]["signer"].startswith("ci-release (SHA256:")


def test_tampered_file_with_a_valid_signature_fails(relman_cli, tmp_path: Path) -> None:
    copy(tmp_path, "artifact.bin", "artifact.bin.ed25519.sig")
    (tmp_path / "artifact.bin").write_bytes((tmp_path / "artifact.bin").read_bytes() + b"!")
    run = relman_cli(
        "verify",
        tmp_path / "artifact.bin",
        "--signature",
        tmp_path / "artifact.bin.ed25519.sig",
        "--key",
        FIX / "openssl/ed25519.pub.pem",
    )
    assert run.code == 1 and "FAILED" in run.out


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "is empty, not a signature"), (b"\x00garbage\xff" * 3, "signature")],
)
def test_empty_or_garbage_signature_is_exit_1(
    relman_cli, tmp_path: Path, content: bytes, reason: str
) -> None:
    copy(tmp_path, "artifact.bin")
    (tmp_path / "artifact.bin.sig").write_bytes(content)
    run = relman_cli("verify", tmp_path / "artifact.bin", "--key", FIX / "openssl/p256.pub.pem")
    assert run.code == 1
    assert reason in run.out
    assert "Traceback" not in run.out + run.err


def test_require_signature(relman_cli, tmp_path: Path) -> None:
    copy(tmp_path, "artifact.bin")
    import hashlib

    digest = hashlib.sha256((tmp_path / "artifact.bin").read_bytes()).hexdigest()
    (tmp_path / "artifact.bin.sha256").write_text(digest)
    assert relman_cli("verify", tmp_path / "artifact.bin").code == 0
    run = relman_cli("verify", tmp_path / "artifact.bin", "--require-signature")
    assert run.code == 1 and "--require-signature asks for one" in run.out
    copy(tmp_path, "artifact.bin.p256.sig")
    run = relman_cli(
        "verify",
        tmp_path / "artifact.bin",
        "--require-signature",
        "--signature",
        tmp_path / "artifact.bin.p256.sig",
        "--key",
        FIX / "openssl/p256.pub.pem",
    )
    assert run.code == 0, run.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "{fix}/openssl/artifact.bin"], "holds no public key"),
        (["--key", "nobody"], "no such file and no trusted key"),
        (["--signature", "{fix}/nope.sig"], "nope.sig: no such file"),
        (["--signature", "{fix}"], "is a folder, not a file"),
        (["--trusted-root", "{fix}/none.json"], "none.json: no such file"),
    ],
)
def test_bad_operator_input_is_exit_2(relman_cli, args: list[str], message: str) -> None:
    run = relman_cli("verify", FIX / "openssl/artifact.bin", *[a.format(fix=FIX) for a in args])
    assert run.code == 2, run.out + run.err
    assert message in run.err and run.err.count("\n") == 1


def test_signature_needs_exactly_one_file(relman_cli) -> None:
    run = relman_cli(
        "verify",
        FIX / "openssl/artifact.bin",
        FIX / "openssl/other.bin",
        "--signature",
        FIX / "openssl/artifact.bin.p256.sig",
    )
    assert run.code == 2 and "--signature applies to exactly one FILE" in run.err


def test_minisign_sidecar(relman_cli) -> None:
    run = relman_cli(
        "verify", FIX / "minisign/artifact.bin", "--key", FIX / "minisign/minisign.pub", "--json"
    )
    assert run.code == 0, run.out
    minisig = [c for c in checks(run) if c["format"] == "minisign"]
    assert minisig and minisig[0]["ok"] and "trusted_comment" in minisig[0]["facts"]


def test_signify_signed_list_like_signify_c(relman_cli, tmp_path: Path) -> None:
    copy(tmp_path, "artifact.bin", "SHA256.sig", "test.pub", folder="signify")
    args = [
        "verify",
        tmp_path / "artifact.bin",
        "--checksums",
        tmp_path / "SHA256.sig",
        "--key",
        tmp_path / "test.pub",
    ]
    run = relman_cli(*args, "--json")
    assert run.code == 0, run.out
    kinds = {(c["kind"], c["ok"]) for c in checks(run)}
    assert ("checksum", True) in kinds and ("signature", True) in kinds
    signed = (
        (tmp_path / "SHA256.sig")
        .read_bytes()
        .replace(b"SHA256 (artifact.bin) = ", b"SHA256 (artifact.bin) = 0")
    )
    (tmp_path / "SHA256.sig").write_bytes(signed[:-2] + b"\n")
    run = relman_cli(*args)
    assert run.code in (1, 2)
    assert run.code == 2 or "FAILED" in run.out


def test_signify_signed_list_with_a_forged_signature(relman_cli, tmp_path: Path) -> None:
    copy(tmp_path, "artifact.bin", "SHA256.sig", "other.pub", folder="signify")
    run = relman_cli(
        "verify",
        tmp_path / "artifact.bin",
        "--checksums",
        tmp_path / "SHA256.sig",
        "--key",
        tmp_path / "other.pub",
        "--no-discover",
    )
    assert run.code == 1
    assert "not trusted" in run.out or "does not match" in run.out


def test_clear_signed_openpgp_list(relman_cli, tmp_path: Path) -> None:
    copy(tmp_path, "artifact.bin", "SHA256SUMS.asc", folder="openpgp")
    args = [
        "verify",
        tmp_path / "artifact.bin",
        "--checksums",
        tmp_path / "SHA256SUMS.asc",
        "--no-discover",
    ]
    run = relman_cli(*args, "--key", FIX / "openpgp/rsa.asc", "--json")
    if run.code != 0:
        run = relman_cli(*args, "--key", FIX / "openpgp/ed25519.asc", "--json")
    assert run.code == 0, run.out
    assert any(
        c["kind"] == "signature" and c["ok"] and c["format"] == "openpgp" for c in checks(run)
    )


def test_detached_openpgp_list_signature_found_beside_the_list(relman_cli, tmp_path: Path) -> None:
    copy(tmp_path, "artifact.bin", "SHA256SUMS", "SHA256SUMS.gpg", folder="openpgp")
    run = relman_cli(
        "verify",
        tmp_path / "artifact.bin",
        "--json",
        "--key",
        FIX / "openpgp/rsa.asc",
        "--key",
        FIX / "openpgp/ed25519.asc",
    )
    assert run.code == 0, run.out
    sources = {c["source"]: c for c in checks(run)}
    assert any(s.startswith("SHA256SUMS:") for s in sources)
    assert any(c["kind"] == "signature" and c["ok"] for c in sources.values())


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/vectors is not beside the project")
def test_keyless_sigstore_bundle_needs_an_identity(relman_cli) -> None:
    run = relman_cli("verify", SHARED / "sigstore" / WHEEL)
    assert run.code == 1
    assert "give --identity and --issuer to trust it" in run.out
    run = relman_cli(
        "verify", SHARED / "sigstore" / WHEEL, "--identity", WHEEL_SAN, "--issuer", GITHUB, "--json"
    )
    assert run.code == 0, run.out
    (check,) = checks(run)
    assert check["format"] == "sigstore" and check["facts"]["identity"] == WHEEL_SAN
    run = relman_cli(
        "verify", SHARED / "sigstore" / WHEEL, "--identity", WHEEL_SAN + "x", "--issuer", GITHUB
    )
    assert run.code == 1


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/vectors is not beside the project")
def test_slsa_provenance_facts(relman_cli) -> None:
    identity = "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@refs/tags/v7.1.0"
    run = relman_cli(
        "verify",
        SHARED / "slsa" / "rules_lint-v1.3.1.tar.gz",
        "--identity",
        identity,
        "--issuer",
        GITHUB,
        "--json",
    )
    assert run.code == 0, run.out
    (check,) = checks(run)
    assert check["kind"] == "provenance"
    assert check["facts"]["commit"] == "8f70009fde0c94ade6ce2a054b94718c819126ec"
    assert "rules_lint" in check["facts"]["source"]
    assert check["facts"]["builder"].startswith("https://github.com/bazel-contrib/")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/vectors is not beside the project")
def test_v01_bundle_says_why_it_cannot_be_verified_offline(relman_cli, tmp_path: Path) -> None:
    target = tmp_path / "Python-3.12.5.tgz"
    target.write_bytes(b"not the real tarball; the bundle fails before the digest matters")
    run = relman_cli(
        "verify",
        target,
        "--signature",
        SHARED / "sigstore" / "Python-3.12.5.tgz.sigstore",
        "--identity",
        "x",
        "--issuer",
        "y",
        "--no-discover",
    )
    assert run.code == 1
    assert "cannot be verified offline" in run.out
