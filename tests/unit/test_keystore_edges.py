"""Edges of the keyring, the signing-key store and signing, against the real Secret Service.

Failure backends (a misconfigured keyring, one that refuses, a working non-Secret-Service
one) are small classes swapped in with ``keyring.set_keyring`` and restored afterwards; a
locked keyring is a real gnome-keyring in a D-Bus session of the test's own.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.core
import keyring.errors
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, utils

from relman import keystore, paths, secrets
from relman.errors import InputError, RelmanError, UsageError
from relman.sign import sign_file
from relman.verify.files import plan, verify_all
from relman.verify.signatures.base import Context
from relman.verify.signatures.keys import load_public_key
from tests.keyring_support import needs_keyring

pytestmark = needs_keyring

SECRET = "correct horse battery staple"


def pkcs8(key: Any, encoding: serialization.Encoding = serialization.Encoding.PEM) -> bytes:
    return key.private_bytes(
        encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@contextlib.contextmanager
def backend(replacement: Any) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(replacement)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A working keyring that is not the Secret Service (say, KWallet or a test double)."""

    #: Never chosen (nor chained) by keyring's own discovery: only the swaps here use it.
    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class RefusingKeyring(MemoryKeyring):
    """A keyring that answers, but refuses to store (a full or read-only vault)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"cannot store {password}")


EDGE_KEYS = ("edge-anna", "edge-big", "edge-k", "edge-der", "edge-legacy", "edge-ed", "edge-p384")


@pytest.fixture(autouse=True)
def forget_edge_keys() -> Iterator[None]:
    """The run's keyring is shared by every test: leave none of these private keys behind."""
    yield
    # Tests that point the process at another bus store nothing, and cannot reach this one.
    with contextlib.suppress(secrets.KeyringUnavailable):
        for name in EDGE_KEYS:
            secrets.delete_secret(f"signing-key:{name}")


# -- the keyring ----------------------------------------------------------------------------


def test_a_keyring_that_fails_to_initialise_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHON_KEYRING_BACKEND naming a backend that does not exist: no secret, a clear reason."""
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "relman_no_such_backend.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    try:
        state = secrets.status()
        assert (state.backend, state.state, state.usable) == ("none", "missing", False)
        assert state.detail.startswith("no OS keyring is available")
        assert state.detail.endswith("(ModuleNotFoundError)")
        with pytest.raises(secrets.KeyringUnavailable, match="no OS keyring is available"):
            secrets.get_secret("signing-key:any")
    finally:
        keyring.set_keyring(previous)


def test_a_working_keyring_that_is_not_the_secret_service_is_usable() -> None:
    memory = MemoryKeyring()
    with backend(memory):
        state = secrets.status()
        assert (state.backend, state.state, state.detail) == ("MemoryKeyring", "ok", "available")
        secrets.set_secret("token", SECRET)
        assert memory.items == {("relman", "token"): SECRET}
        assert secrets.get_secret("token") == SECRET
        assert secrets.delete_secret("token") is True
        assert secrets.delete_secret("token") is False


def test_a_keyring_that_refuses_is_named_without_the_secret() -> None:
    with backend(RefusingKeyring()), pytest.raises(secrets.KeyringUnavailable) as caught:
        secrets.set_secret("token", SECRET)
    message = str(caught.value)
    assert message == "the OS keyring refused to store 'token': PasswordSetError"
    assert SECRET not in message


def test_an_unreachable_d_bus_is_a_keyring_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Secret Service backend with its bus gone: lockedness unknown, every call refused."""
    keyring.get_keyring()  # chosen on the run's own bus, before the bus goes away
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/relman-test-bus")
    state = secrets.status()
    assert (state.backend, state.detail) == ("Secret Service", "available")
    with pytest.raises(secrets.KeyringUnavailable) as caught:
        secrets.set_secret("token", SECRET)
    assert str(caught.value).startswith("the OS keyring failed to store 'token': ")
    assert SECRET not in str(caught.value)


@pytest.fixture
def locked_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A gnome-keyring of this test's own, on a D-Bus of its own, with its collection locked.

    The run's own keyring is never locked; the process is pointed at the private bus only for
    the duration of the test, and both daemons are stopped by their process ids afterwards.
    """
    import secretstorage

    keyring.get_keyring()  # the Secret Service backend, chosen on the run's own bus
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed for this test (.ci/run installs it)")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "share"),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "DISPLAY": "",
    }
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    daemon = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert daemon.stdin is not None
        daemon.stdin.write(b"test")
        daemon.stdin.close()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        deadline = time.monotonic() + 20
        # Asked before the daemon has written its login keyring, the Secret Service can miss
        # that collection for good (seen 1 run in 5): wait for the file first.
        login = tmp_path / "share" / "keyrings" / "login.keyring"
        while not login.exists():
            if time.monotonic() > deadline:
                pytest.fail("gnome-keyring-daemon did not create its login keyring")
            time.sleep(0.02)
        while True:
            try:
                with secretstorage.dbus_init() as connection:
                    # Not get_default_collection(): before the daemon has made its login
                    # keyring that would ask (through a prompt no one answers) to create one.
                    collection = secretstorage.Collection(connection)
                    collection.lock()
                    assert collection.is_locked()
                break
            except secretstorage.exceptions.SecretStorageException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield
    finally:
        for proc in (daemon, bus):
            if proc is not None:
                proc.terminate()
                proc.wait(10)


def test_a_locked_keyring_is_named_as_locked_in_process(locked_session: None) -> None:
    state = secrets.status()
    assert (state.backend, state.state, state.usable) == ("Secret Service", "locked", False)
    assert str(state) == (
        "keyring: Secret Service, locked: unlock it (log in again, or open Passwords and Keys)"
    )
    with pytest.raises(secrets.KeyringUnavailable) as caught:
        secrets.set_secret("token", SECRET)
    assert str(caught.value) == "the OS keyring is locked; unlock it to store 'token'"


# -- the signing-key index ------------------------------------------------------------------


def test_a_corrupt_keys_index_is_one_line_naming_the_file(relman_home: Path) -> None:
    keystore.generate("edge-anna")
    index = relman_home / "config" / "keys.toml"
    index.write_text("schema = 1\n[keys.edge-anna\n")
    with pytest.raises(InputError) as caught:
        keystore.list_keys()
    message = str(caught.value)
    assert message.startswith(f"{index}: cannot be read as the signing-key index: ")
    assert "\n" not in message
    index.write_text('schema = 1\nkeys = "edge-anna"\n')
    with pytest.raises(InputError, match=r"keys.toml: 'keys' is not a table$"):
        keystore.get_key("edge-anna")


def test_an_unknown_key_type_is_refused_before_the_keyring() -> None:
    with pytest.raises(UsageError, match="unknown key type 'rsa'; choose one of ed25519"):
        keystore.generate("edge-anna", "rsa")
    assert keystore.list_keys() == []
    assert secrets.get_secret("signing-key:edge-anna") is None


def test_a_der_private_key_imports_and_signs(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    record = keystore.import_key(
        "edge-der", pkcs8(private, serialization.Encoding.DER), origin="ci.der"
    )
    assert record.kind == "ecdsa-p256"
    loaded = keystore.load_private("edge-der")
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == private.private_numbers()


def test_a_p521_key_is_refused_and_nothing_is_stored() -> None:
    p521 = ec.generate_private_key(ec.SECP521R1())
    with pytest.raises(InputError, match="^p521.pem: ECDSA keys on secp521r1 are not supported"):
        keystore.import_key("edge-big", pkcs8(p521), origin="p521.pem")
    assert keystore.list_keys() == []
    assert secrets.get_secret("signing-key:edge-big") is None


def test_a_passphrase_of_the_wrong_type_is_an_input_error() -> None:
    """The GUI and CLI hand bytes; a str slipping through is refused, not a traceback."""
    pem = pkcs8(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(InputError, match="^k.pem: Cannot convert"):
        keystore.import_key("edge-k", pem, origin="k.pem", password="text")  # type: ignore[arg-type]
    assert keystore.list_keys() == []


def test_a_failed_index_write_takes_the_new_secret_back_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disk full while keys.toml is written: no private key is left orphaned in the keyring."""

    def disk_full(path: Path, data: bytes, *, private: bool = False) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(paths, "atomic_write", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        keystore.generate("edge-anna")
    assert secrets.get_secret("signing-key:edge-anna") is None
    monkeypatch.undo()
    assert keystore.list_keys() == []


def test_a_keyring_key_that_does_not_match_its_record_is_never_used() -> None:
    keystore.generate("edge-anna")
    impostor = pkcs8(ed25519.Ed25519PrivateKey.generate()).decode()
    secrets.set_secret("signing-key:edge-anna", impostor)
    with pytest.raises(RelmanError, match="in the keyring does not match its fingerprint"):
        keystore.load_private("edge-anna")
    with pytest.raises(RelmanError, match="does not match its fingerprint"):
        sign_file(Path(__file__), "edge-anna", "cosign", output=Path(os.devnull))


def test_a_keyring_key_of_an_unsupported_type_is_never_used(relman_home: Path) -> None:
    """Even when keys.toml was edited to match it, an RSA key in the keyring is refused."""
    import tomli_w

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    secrets.set_secret("signing-key:edge-legacy", pkcs8(rsa_key).decode())
    public = rsa_key.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    entry = {
        "kind": "rsa",
        "fingerprint": load_public_key(public_pem, "edge-legacy").fingerprint,
        "public_key": public_pem.decode(),
        "created": "2024-01-01T00:00:00Z",
    }
    paths.atomic_write(
        relman_home / "config" / "keys.toml",
        tomli_w.dumps({"schema": 1, "keys": {"edge-legacy": entry}}).encode(),
    )
    with pytest.raises(RelmanError, match="signing key 'edge-legacy' has an unsupported type"):
        keystore.load_private("edge-legacy")
    keystore.delete("edge-legacy")


# -- signing --------------------------------------------------------------------------------


def test_cosign_signature_of_an_empty_file_verifies(tmp_path: Path) -> None:
    """Pure Ed25519 maps the file, and an empty file cannot be mapped: it is signed as b''."""
    record = keystore.generate("edge-ed")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    sig = sign_file(empty, "edge-ed", "cosign")
    public = load_public_key(record.public_pem.encode(), "edge-ed")
    key = serialization.load_pem_public_key(record.public_pem.encode())
    assert isinstance(key, ed25519.Ed25519PublicKey)
    key.verify(base64.b64decode(sig.read_bytes()), b"")
    (result,) = verify_all(plan([empty], context=Context(keys=(public,)))).files
    assert result.ok, result.summary


def test_sign_writes_where_output_says_and_p384_cosign_verifies(tmp_path: Path) -> None:
    record = keystore.generate("edge-p384", "ecdsa-p384")
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(b"release bytes\n" * 1000)
    out = tmp_path / "signatures" / "app.cosign.sig"
    assert sign_file(artifact, "edge-p384", "cosign", output=out) == out
    assert not (tmp_path / "app.tar.gz.sig").exists()
    key = serialization.load_pem_public_key(record.public_pem.encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    import hashlib

    digest = hashlib.sha384(artifact.read_bytes()).digest()
    key.verify(
        base64.b64decode(out.read_bytes()), digest, ec.ECDSA(utils.Prehashed(hashes.SHA384()))
    )
    public = load_public_key(record.public_pem.encode(), "edge-p384")
    (result,) = verify_all(
        plan([artifact], signatures=[out], context=Context(keys=(public,)))
    ).files
    assert result.ok, result.summary
    assert result.checks[0].signer is not None and result.checks[0].signer.startswith("edge-p384")


def test_a_passphrase_for_an_unencrypted_key_says_so() -> None:
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ed25519 as ed

    pem = ed.Ed25519PrivateKey.generate().private_bytes(
        ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()
    )
    with pytest.raises(InputError, match="is not encrypted; import it without a passphrase"):
        keystore._parse_private(pem, "plain.pem", b"secret")
