"""Signing keys in the real OS keyring, the trust store, and signatures the real tools accept."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from relman import keystore, secrets
from relman.errors import InputError, RelmanError, UsageError
from relman.sign import minisign_public_key, sign_file
from relman.verify import truststore
from tests.keyring_support import needs_keyring

pytestmark = needs_keyring


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is needed for this test (.ci/run installs it)")
    return found


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "app-1.4.2.tar.gz"
    path.write_bytes(b"release bytes\n" * 5000)
    return path


def test_status_reports_the_secret_service_unlocked() -> None:
    state = secrets.status()
    assert (state.backend, state.state) == ("Secret Service", "ok")
    assert "unlocked" in str(state)


def test_generate_list_export_delete(relman_home: Path) -> None:
    record = keystore.generate("rm-anna")
    assert record.kind == "ed25519" and record.fingerprint.startswith("SHA256:")
    assert [k.name for k in keystore.list_keys()] == ["rm-anna"]
    # only the public half is on disk
    on_disk = b"".join(p.read_bytes() for p in relman_home.rglob("*") if p.is_file())
    assert record.fingerprint.encode() in on_disk
    assert b"PRIVATE KEY" not in on_disk
    private = keystore.load_private("rm-anna")
    assert (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        == record.public_pem
    )
    with pytest.raises(UsageError, match="exists already"):
        keystore.generate("rm-anna")
    assert keystore.delete("rm-anna") is True
    assert keystore.list_keys() == []
    with pytest.raises(UsageError, match="no signing key named 'rm-anna'"):
        keystore.load_private("rm-anna")


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "ecdsa-p384"])
def test_every_key_type_fits_the_smallest_keyring(kind: str) -> None:
    record = keystore.generate(f"k-{kind}", kind)
    pem = secrets.get_secret(f"signing-key:k-{kind}")
    assert pem is not None and len(pem) <= secrets.MAX_SECRET_CHARS
    assert record.kind == kind
    keystore.delete(f"k-{kind}")


def test_import_refuses_what_does_not_fit_and_bad_files(tmp_path: Path) -> None:
    big = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    pem = big.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InputError, match="does not fit in every OS keyring"):
        keystore.import_key("big", pem, origin="big.pem")
    with pytest.raises(InputError, match="empty, not a private key"):
        keystore.import_key("e", b"", origin="e.pem")
    with pytest.raises(InputError, match="holds no private key"):
        keystore.import_key("g", b"garbage", origin="g.pem")
    p256 = ec.generate_private_key(ec.SECP256R1())
    encrypted = p256.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2"),
    )
    with pytest.raises(keystore.PassphraseNeeded, match="enc.pem: the private key is encrypted"):
        keystore.import_key("enc", encrypted, origin="enc.pem")
    with pytest.raises(InputError, match="passphrase is wrong"):
        keystore.import_key("enc", encrypted, origin="enc.pem", password=b"nope")
    record = keystore.import_key("enc", encrypted, origin="enc.pem", password=b"hunter2")
    assert record.kind == "ecdsa-p256"
    with pytest.raises(UsageError, match="not allowed"):
        keystore.import_key("../evil", encrypted, origin="enc.pem", password=b"hunter2")
    keystore.delete("enc")


def test_oversized_secret_is_refused_before_the_keyring() -> None:
    with pytest.raises(RelmanError, match="at most 1280"):
        secrets.set_secret("too-big", "x" * 1281)
    with pytest.raises(RelmanError, match="empty secret"):
        secrets.set_secret("empty", "")


def test_listed_key_whose_secret_vanished(tmp_path: Path) -> None:
    keystore.generate("ghost")
    secrets.delete_secret("signing-key:ghost")
    with pytest.raises(RelmanError, match="not in the OS keyring"):
        keystore.load_private("ghost")
    assert keystore.delete("ghost") is False


def test_cosign_signature_verifies_with_openssl(tmp_path: Path, artifact: Path) -> None:
    need("openssl")
    record = keystore.generate("ci-p256", "ecdsa-p256")
    sig = sign_file(artifact, "ci-p256", "cosign")
    assert sig == artifact.with_name(artifact.name + ".sig")
    raw = tmp_path / "sig.der"
    raw.write_bytes(base64.b64decode(sig.read_bytes()))
    pub = tmp_path / "pub.pem"
    pub.write_text(record.public_pem)
    ok = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", pub, "-signature", raw, artifact],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    artifact.write_bytes(artifact.read_bytes() + b"x")
    bad = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", pub, "-signature", raw, artifact],
        capture_output=True,
        check=False,
    )
    assert bad.returncode != 0


def test_cosign_p384_uses_sha384_and_ed25519_is_pure(tmp_path: Path, artifact: Path) -> None:
    need("openssl")
    for kind, argv in (
        ("ecdsa-p384", ["openssl", "dgst", "-sha384", "-verify"]),
        ("ed25519", ["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey"]),
    ):
        record = keystore.generate(f"c-{kind}", kind)
        sig = sign_file(artifact, f"c-{kind}", "cosign", output=tmp_path / f"{kind}.sig")
        raw = tmp_path / f"{kind}.der"
        raw.write_bytes(base64.b64decode(sig.read_bytes()))
        pub = tmp_path / f"{kind}.pem"
        pub.write_text(record.public_pem)
        if kind == "ed25519":
            cmd = [*argv, pub, "-sigfile", raw, "-in", artifact]
        else:
            cmd = [*argv, pub, "-signature", raw, artifact]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr


def test_minisign_signature_verifies_with_minisign(tmp_path: Path, artifact: Path) -> None:
    need("minisign")
    record = keystore.generate("rel-ed")
    pub = tmp_path / "minisign.pub"
    pub.write_text(minisign_public_key(record))
    sig = sign_file(artifact, "rel-ed", "minisign")
    proc = subprocess.run(
        ["minisign", "-V", "-H", "-p", pub, "-m", artifact, "-x", sig],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"file:{artifact.name}" in proc.stdout
    lines = sig.read_bytes().splitlines()
    lines[2] = lines[2].replace(b"hashed", b"HASHED")
    sig.write_bytes(b"\n".join(lines) + b"\n")
    proc = subprocess.run(
        ["minisign", "-V", "-p", pub, "-m", artifact, "-x", sig], capture_output=True, check=False
    )
    assert proc.returncode != 0  # the trusted comment is signed too
    p256 = keystore.generate("not-ed", "ecdsa-p256")
    with pytest.raises(UsageError, match="minisign signatures need an Ed25519 key"):
        sign_file(artifact, "not-ed", "minisign")
    with pytest.raises(UsageError, match="only Ed25519 keys have a minisign form"):
        minisign_public_key(p256)


def test_sign_bad_input(tmp_path: Path) -> None:
    keystore.generate("k")
    with pytest.raises(InputError, match="no such file"):
        sign_file(tmp_path / "missing", "k", "cosign")
    with pytest.raises(InputError, match="is a folder"):
        sign_file(tmp_path, "k", "cosign")
    with pytest.raises(UsageError, match="unknown signature format"):
        sign_file(tmp_path, "k", "pgp")
    with pytest.raises(UsageError, match="no signing key named 'nobody'"):
        (tmp_path / "f").write_bytes(b"x")
        sign_file(tmp_path / "f", "nobody", "cosign")


def test_trust_store_round_trip(tmp_path: Path) -> None:
    record = keystore.generate("ci")
    key = truststore.add("ci-release", record.public_pem.encode(), origin="ci.pem")
    assert key.fingerprint == record.fingerprint
    assert [k.name for k in truststore.trusted_keys()] == ["ci-release"]
    assert truststore.find("ci-release").fingerprint == record.fingerprint
    pem = tmp_path / "k.pem"
    pem.write_text(record.public_pem)
    assert truststore.find(str(pem)).fingerprint == record.fingerprint
    with pytest.raises(UsageError, match="trusted already as 'ci-release'"):
        truststore.add("again", record.public_pem.encode(), origin="ci.pem")
    with pytest.raises(UsageError, match="no such file and no trusted key"):
        truststore.find("nobody")
    truststore.remove("ci-release")
    assert truststore.trusted_keys() == []
    with pytest.raises(UsageError, match="no trusted key named"):
        truststore.remove("ci-release")


def test_a_trusted_key_file_changed_on_disk_is_refused(relman_home: Path) -> None:
    first = keystore.generate("one")
    second = keystore.generate("two")
    truststore.add("ci", first.public_pem.encode(), origin="one.pem")
    (relman_home / "config" / "trust" / "ci.pem").write_text(second.public_pem)
    with pytest.raises(InputError, match="no longer matches the fingerprint"):
        truststore.trusted_keys()


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256"])
def test_dsse_verifies_with_relman_and_securesystemslib(
    tmp_path: Path, artifact: Path, kind: str
) -> None:
    import json

    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    from relman.verify.files import plan, verify_all
    from relman.verify.signatures.base import Context
    from relman.verify.signatures.keys import load_public_key

    record = keystore.generate(f"d-{kind}", kind)
    out = sign_file(artifact, f"d-{kind}", "dsse")
    assert out.name == artifact.name + ".intoto.jsonl"
    envelope = json.loads(out.read_text())
    public = serialization.load_pem_public_key(record.public_pem.encode())
    theirs = SSlibKey.from_crypto(public, keyid=record.fingerprint)  # type: ignore[arg-type]
    parsed = Envelope.from_dict(envelope)
    assert record.fingerprint in parsed.verify([theirs], 1)
    statement = json.loads(parsed.payload)
    assert statement["subject"][0]["name"] == artifact.name
    context = Context(keys=(load_public_key(record.public_pem.encode(), "ci"),))
    (result,) = verify_all(plan([artifact], context=context)).files
    assert result.ok, result.summary
    assert result.checks[0].kind == "provenance" and result.checks[0].signer.startswith("ci (")


def test_a_locked_keyring_is_named_as_locked(tmp_path: Path) -> None:
    """Lock the collection in a session of its own (so this run's keyring stays unlocked)."""
    import os
    import sys

    script = (
        "import secretstorage\n"
        "from relman import keystore, secrets\n"
        "keystore.generate('rm-anna')\n"
        "with secretstorage.dbus_init() as conn:\n"
        "    secretstorage.get_default_collection(conn).lock()\n"
        "print(secrets.status())\n"
        "try:\n"
        "    keystore.load_private('rm-anna')\n"
        "except secrets.KeyringUnavailable as exc:\n"
        "    print('refused:', exc)\n"
    )
    shell = (
        'eval "$(printf test | gnome-keyring-daemon --unlock --components=secrets)"; '
        f'exec {sys.executable} -c "$RELMAN_SCRIPT"'
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "RELMAN_HOME": str(tmp_path / "relman"),
        "RELMAN_SCRIPT": script,
        "DISPLAY": "",
    }
    proc = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", shell],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "keyring: Secret Service, locked: unlock it" in proc.stdout, proc.stdout + proc.stderr
    assert (
        "refused: the OS keyring is locked; unlock it to read 'signing-key:rm-anna'" in proc.stdout
    )
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr
