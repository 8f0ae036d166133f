"""Edges of offline verification: what a user sees when inputs are odd, broken or hostile.

Every test here states a promise of the verification layer (it fails closed, names what is
wrong in one line, reads each list once, stops when cancelled) at a place the main suites do
not reach. Keys are made with ``cryptography`` at test time; no keyring is needed.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

from relman.errors import (
    EXIT_FAILED,
    EXIT_USAGE,
    Cancelled,
    ChecksumListError,
    InputError,
    UsageError,
    VerificationError,
)
from relman.model import CancelToken
from relman.verify import checksums, files, index, truststore
from relman.verify.discover import expand
from relman.verify.files import (
    Check,
    FileJob,
    FileResult,
    Planner,
    Report,
    compare,
    verify_all,
    verify_files,
    verify_job,
)
from relman.verify.hashing import hash_file
from relman.verify.index import ChecksumIndex
from relman.verify.parallel import run_all, run_parallel
from relman.verify.signatures import dispatch
from relman.verify.signatures.base import (
    Artifact,
    Context,
    KeyFormatError,
    SignatureResult,
)
from relman.verify.signatures.keys import load_public_key

GOOD = b"the bytes that were built and tested\n"
SHA = hashlib.sha256(GOOD).hexdigest()


def spki_pem(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def self_signed(private: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "release signing")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(private, hashes.SHA256())
    )


def ascii_der_ed25519() -> bytes:
    """A valid Ed25519 SPKI whose every byte is ASCII and whose last byte is a space.

    The point with y = 1 + 0x20 * 2**248 is on the curve; its DER is text-like bytes with
    control characters (0x00, 0x03, 0x05) and trailing whitespace, the shape that a
    "tidy the text key" step would corrupt.
    """
    raw = (1 + (0x20 << 248)).to_bytes(32, "little")
    key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return spki_der(key)


# -- hashing --------------------------------------------------------------------------------


def test_hashing_works_where_posix_fadvise_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS and Windows have no posix_fadvise; large files still hash, with every algorithm."""
    blob = os.urandom((1 << 20) * 5 + 7)  # above the single-read and serial thresholds
    path = tmp_path / "big.iso"
    path.write_bytes(blob)
    monkeypatch.delattr(os, "posix_fadvise", raising=False)
    got = hash_file(path, ("sha256", "sha384"))
    assert got.digests == {
        "sha256": hashlib.sha256(blob).hexdigest(),
        "sha384": hashlib.sha384(blob).hexdigest(),
    }
    assert got.size == len(blob)


# -- checksum lists -------------------------------------------------------------------------


def test_an_explicit_algorithm_overrides_the_guess_from_the_digest_length(tmp_path: Path) -> None:
    """128 hex digits look like sha512; a list read as blake2b (b2sum) must stay blake2b."""
    digest = hashlib.blake2b(GOOD, digest_size=64).hexdigest()
    path = tmp_path / "checksums.txt"
    path.write_text(f"{digest}  app.tar.gz\n")
    (guessed,) = checksums.read_list_file(path)
    assert guessed.algorithm == "sha512"
    (entry,) = checksums.read_list_file(path, "blake2b")
    assert (entry.algorithm, entry.hexdigest, entry.name) == ("blake2b", digest, "app.tar.gz")


def test_a_list_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "SHA256SUMS"
    path.write_text(f"{SHA}  app.tar.gz\n" * 20)
    monkeypatch.setattr(checksums, "MAX_LIST_BYTES", 1024)
    with pytest.raises(ChecksumListError, match=r"SHA256SUMS: is too large to be a checksum list"):
        checksums.read_list_file(path)


# -- discovering files ----------------------------------------------------------------------


def test_a_name_too_long_for_the_os_is_reported_and_the_walk_goes_on(tmp_path: Path) -> None:
    """A folder near PATH_MAX holding a file whose full path exceeds it: named, not a crash."""
    root = tmp_path / "drop"
    root.mkdir()
    (root / "a.bin").write_bytes(GOOD)
    folder = root
    while len(str(folder)) < 3900:
        folder = folder / ("d" * 200)
        folder.mkdir()
    name = "f" * 250
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=dir_fd))
    finally:
        os.close(dir_fd)
    found = list(expand([root]))
    good = [f.path for f in found if f.problem is None]
    bad = [f for f in found if f.problem is not None]
    assert good == [root / "a.bin"]
    (long,) = bad
    assert long.path == folder / name
    assert long.problem is not None
    assert long.problem.endswith(": " + os.strerror(errno.ENAMETOOLONG))


# -- results and reports --------------------------------------------------------------------


def test_signature_checks_carry_who_signed_in_json() -> None:
    result = SignatureResult(
        ok=True,
        format="minisign",
        source="app.tar.gz.minisig",
        detail="good signature",
        signer="release (SHA256:9f2c…)",
        fingerprint="SHA256:9f2c",
        facts=MappingProxyType({"signed_at": "2024-05-01T00:00:00Z"}),
    )
    check = Check.from_signature(result)
    assert check.to_json() == {
        "kind": "signature",
        "ok": True,
        "source": "app.tar.gz.minisig",
        "detail": "good signature",
        "format": "minisign",
        "signer": "release (SHA256:9f2c…)",
        "fingerprint": "SHA256:9f2c",
        "facts": {"signed_at": "2024-05-01T00:00:00Z"},
    }
    plain = Check("checksum", True, "SHA256SUMS:1", "sha256 matches", "sha256").to_json()
    assert set(plain) == {"kind", "ok", "source", "detail"}


def test_an_unreadable_file_serialises_as_an_error_without_size() -> None:
    result = FileResult(path=Path("gone.iso"), error="gone.iso: no such file")
    assert result.status == "error" and not result.ok
    assert result.to_json() == {
        "path": "gone.iso",
        "ok": False,
        "sha256": None,
        "checks": [],
        "error": "gone.iso: no such file",
    }
    assert Report((result,)).exit_code == EXIT_USAGE


def test_a_report_of_nothing_never_passes() -> None:
    report = Report(())
    assert not report.ok
    assert report.exit_code == EXIT_FAILED
    assert report.to_json() == {"ok": False, "files": []}


# -- planning -------------------------------------------------------------------------------


def test_a_file_in_a_folder_that_cannot_be_listed_is_an_input_error(tmp_path: Path) -> None:
    planner = Planner(context=Context())
    missing = tmp_path / "no-such-folder" / "app.tar.gz"
    assert planner.files_in(str(missing.parent)) == frozenset()
    job = planner.plan(missing)
    assert job.expected == () and job.signatures == () and job.error is None
    result = verify_job(job)
    assert result.status == "error"
    assert result.error is not None and result.error.endswith("app.tar.gz: no such file")


def test_a_sidecar_given_with_checksums_is_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    sidecar = tmp_path / "app.tar.gz.sha256"
    sidecar.write_text(f"{SHA}  app.tar.gz\n")
    report = verify_all(
        files.plan([artifact], checksum_lists=[sidecar], context=Context())  # type: ignore[arg-type]
    )
    (result,) = report.files
    assert result.ok
    assert [c.source for c in result.checks] == ["app.tar.gz.sha256:1"]


def test_a_bare_sidecar_given_with_checksums_verifies_its_file(tmp_path: Path) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    sidecar = tmp_path / "app.tar.gz.sha256"
    sidecar.write_text(SHA + "\n")
    report = verify_all(
        files.plan([artifact], checksum_lists=[sidecar], context=Context())  # type: ignore[arg-type]
    )
    assert report.files[0].status == "verified"


def test_a_list_named_explicitly_and_found_beside_the_file_counts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relman_cli: Callable[..., object]
) -> None:
    """``relman verify --checksums SHA256SUMS`` from the release folder: each file once."""
    for name in ("a.bin", "b.bin"):
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256(n.encode()).hexdigest()}  {n}\n" for n in ("a.bin", "b.bin"))
    )
    monkeypatch.chdir(tmp_path)
    run = relman_cli("verify", "--checksums", "SHA256SUMS", "--json")
    assert run.code == 0, run.err  # type: ignore[attr-defined]
    out = json.loads(run.out)  # type: ignore[attr-defined]
    assert [f["path"] for f in out["files"]] == [str(tmp_path / "a.bin"), str(tmp_path / "b.bin")]
    assert [[c["source"] for c in f["checks"]] for f in out["files"]] == [
        ["SHA256SUMS:1"],
        ["SHA256SUMS:2"],
    ]


# -- verifying ------------------------------------------------------------------------------


def test_cancelling_a_single_file_raises_instead_of_reporting(tmp_path: Path) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    job = FileJob(path=artifact)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        verify_job(job, cancel=token)


def test_verify_all_reports_planning_errors_and_progress_by_job_index(tmp_path: Path) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    jobs = [
        FileJob(path=tmp_path / "broken", error="SHA256SUMS, line 3: not a checksum line"),
        FileJob(path=artifact, expected=(files.Expected("sha256", SHA, "--sha256"),)),
    ]
    seen: list[tuple[int, str]] = []
    progress: list[tuple[int, int, int]] = []
    report = verify_all(
        jobs,
        workers=1,
        on_result=lambda i, r: seen.append((i, r.status)),
        file_progress=lambda i, done, total: progress.append((i, done, total)),
    )
    assert [r.status for r in report.files] == ["error", "verified"]
    assert seen == [(0, "error"), (1, "verified")]
    assert progress == [(1, len(GOOD), len(GOOD))]
    assert report.exit_code == EXIT_USAGE


def test_verify_files_stops_before_planning_when_cancelled(tmp_path: Path) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        verify_files([artifact], Planner(sha256=SHA, context=Context()), cancel=token)


# -- checksum index -------------------------------------------------------------------------


def test_index_refuses_an_oversized_list_and_remembers_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "SHA256SUMS"
    path.write_text(f"{SHA}  app.tar.gz\n" * 20)
    monkeypatch.setattr(index, "MAX_LIST_BYTES", 1024)
    idx = ChecksumIndex()
    with pytest.raises(ChecksumListError, match="is too large to be a checksum list") as first:
        idx.load(path)
    path.write_text(f"{SHA}  app.tar.gz\n")  # read once: the verdict does not change
    with pytest.raises(ChecksumListError) as again:
        idx.load(path)
    assert again.value is first.value
    assert idx.signatures(path) == ()


def test_a_list_with_a_broken_embedded_signature_fails_the_files_it_names(
    tmp_path: Path,
) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    signed = tmp_path / "SHA256"
    signed.write_text(
        "untrusted comment: verify with release.pub\n"
        "this line is not a signify signature!\n"
        f"SHA256 (app.tar.gz) = {SHA}\n"
    )
    report = verify_all(
        files.plan([artifact], checksum_lists=[signed], context=Context())  # type: ignore[arg-type]
    )
    (result,) = report.files
    assert result.status == "failed"
    kinds = [(c.kind, c.ok, c.format) for c in result.checks]
    assert kinds == [("checksum", True, None), ("signature", False, "minisign")]
    assert "SHA256" in result.summary


def test_signatures_of_a_list_that_was_never_loaded_are_none(tmp_path: Path) -> None:
    idx = ChecksumIndex()
    assert idx.signatures(tmp_path / "SHA256SUMS") == ()
    unsigned = tmp_path / "SHA256SUMS"
    unsigned.write_text(f"{SHA}  app.tar.gz\n")
    idx.load(unsigned)
    assert idx.signatures(unsigned) == ()
    assert idx.signatures(tmp_path / "OTHER") == ()


def test_a_bare_digest_in_a_list_names_no_file(tmp_path: Path) -> None:
    path = tmp_path / "SHA256SUMS"
    other = hashlib.sha256(b"other").hexdigest()
    path.write_text(f"{other}\n{SHA}  app.tar.gz\n")
    targets = ChecksumIndex().targets(path)
    assert list(targets) == [str(tmp_path / "app.tar.gz")]
    ((_, entry),) = targets[str(tmp_path / "app.tar.gz")]
    assert (entry.hexdigest, entry.line) == (SHA, 2)


class _Gate:
    """The index's lock, reporting when another thread is about to wait for it."""

    def __init__(self, real: threading.RLock) -> None:
        self.real = real
        self.owner = threading.get_ident()
        self.waiting = threading.Event()

    def __enter__(self) -> object:
        if threading.get_ident() != self.owner:
            self.waiting.set()
        return self.real.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.real.__exit__(*exc)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["load", "targets"])
def test_two_planner_threads_asking_for_one_list_share_one_reading(
    tmp_path: Path, method: str
) -> None:
    """A worker that waited for the lock uses what the other thread read, never reads again."""
    path = tmp_path / "SHA256SUMS"
    path.write_text(f"{SHA}  app.tar.gz\n")
    idx = ChecksumIndex()
    real = threading.RLock()
    gate = _Gate(real)
    idx._lock = gate  # type: ignore[assignment]
    theirs: list[object] = []
    with real:
        worker = threading.Thread(target=lambda: theirs.append(getattr(idx, method)(path)))
        worker.start()
        assert gate.waiting.wait(10), "the worker never reached the lock"
        mine = getattr(idx, method)(path)
    worker.join(10)
    assert not worker.is_alive()
    assert theirs[0] is mine


# -- parallel runs --------------------------------------------------------------------------


def test_a_bug_in_one_worker_is_raised_and_the_other_workers_stop() -> None:
    calls: list[int] = []
    bug = ZeroDivisionError("a bug, not a verification outcome")
    started = threading.Event()

    def work(i: int) -> int:
        calls.append(i)
        if i == 0:
            started.wait(5)
            raise bug
        started.set()
        threading.Event().wait(0.002)
        return i

    with pytest.raises(ZeroDivisionError) as caught:
        list(run_parallel(5000, work, workers=4))
    assert caught.value is bug
    assert len(calls) < 5000  # the others stopped taking items
    assert not [t for t in threading.enumerate() if t.name == "relman-worker"]


def test_a_relman_error_is_an_outcome_not_a_stop() -> None:
    def work(i: int) -> int:
        if i == 1:
            raise InputError("b.bin: no such file")
        return i

    outcomes = dict(run_parallel(3, work, workers=2))
    assert outcomes[0] == 0 and outcomes[2] == 2
    assert isinstance(outcomes[1], InputError)


def test_cancel_between_items_in_the_single_worker_path() -> None:
    token = CancelToken()
    calls: list[int] = []

    def work(i: int) -> int:
        calls.append(i)
        token.cancel()
        return i

    run = run_parallel(3, work, workers=1, cancel=token)
    assert next(run) == (0, 0)
    with pytest.raises(Cancelled):
        next(run)
    assert calls == [0]


def test_cancel_from_a_worker_stops_the_multi_worker_run() -> None:
    token = CancelToken()
    calls: list[int] = []

    def work(i: int) -> int:
        calls.append(i)
        if i == 0:
            token.cancel()
        return i

    with pytest.raises(Cancelled):
        list(run_parallel(1000, work, workers=4, cancel=token))
    assert len(calls) < 1000


def test_a_run_cancelled_before_it_starts_does_no_work() -> None:
    token = CancelToken()
    token.cancel()
    calls: list[int] = []
    with pytest.raises(Cancelled):
        list(run_parallel(10, calls.append, workers=4, cancel=token))
    assert calls == []


def test_cancelled_raised_by_the_work_itself_stops_the_run() -> None:
    """hash_file raising Cancelled inside a worker is a stop, never an item's outcome."""

    def work(i: int) -> int:
        if i == 1:
            raise Cancelled()
        return i

    run = run_parallel(3, work, workers=1)
    assert next(run) == (0, 0)
    with pytest.raises(Cancelled):
        next(run)
    with pytest.raises(Cancelled):
        run_all(50, work, workers=4)


def test_run_all_keeps_index_order_and_relman_errors_as_outcomes() -> None:
    def work(i: int) -> int:
        if i % 3 == 0:
            raise InputError(f"{i}.bin: no such file")
        return i * i

    outcomes = run_all(30, work, workers=4)
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [
        f"{i}.bin: no such file" if i % 3 == 0 else i * i for i in range(30)
    ]


def test_run_all_raises_a_bug_and_the_other_workers_stop() -> None:
    calls: list[int] = []
    bug = ZeroDivisionError("a bug, not a verification outcome")

    def work(i: int) -> int:
        calls.append(i)
        if i == 0:
            raise bug
        threading.Event().wait(0.002)
        return i

    with pytest.raises(ZeroDivisionError) as caught:
        run_all(5000, work, workers=4)
    assert caught.value is bug
    assert len(calls) < 5000
    assert not [t for t in threading.enumerate() if t.name == "relman-worker"]


def test_run_all_cancelled_by_a_worker_raises_after_the_workers_stop() -> None:
    token = CancelToken()
    calls: list[int] = []

    def work(i: int) -> int:
        calls.append(i)
        if i == 0:
            token.cancel()
        return i

    with pytest.raises(Cancelled):
        run_all(1000, work, workers=4, cancel=token)
    assert len(calls) < 1000
    assert not [t for t in threading.enumerate() if t.name == "relman-worker"]


# -- signature dispatch ---------------------------------------------------------------------


def test_an_unknown_signature_file_fails_with_what_was_expected(tmp_path: Path) -> None:
    sig = tmp_path / "app.tar.gz.sig"
    sig.write_text("this is a README, not a signature\n")
    prepared = dispatch.prepare(sig, Context())
    assert prepared.needs == frozenset()
    result = prepared.finish(Artifact(tmp_path / "app.tar.gz", 0, {}))
    assert not result.ok
    assert result.detail.startswith("app.tar.gz.sig: not a signature relman recognises")


def test_a_huge_signature_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sig = tmp_path / "app.tar.gz.sig"
    sig.write_bytes(b"A" * 2048)
    monkeypatch.setattr(dispatch, "MAX_SIGNATURE_BYTES", 1024)
    result = dispatch.prepare(sig, Context()).failure
    assert result is not None and not result.ok
    assert result.detail == f"{sig}: is too large to be a signature"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder, not a file"),
    ],
)
def test_an_unreadable_signature_is_a_failed_check(
    tmp_path: Path, make: Callable[[Path], object], why: str
) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    sig = tmp_path / "app.tar.gz.sig"
    make(sig)
    planner = Planner(signatures=[sig], discover=False, context=Context())
    report = verify_files([artifact], planner, workers=1)
    (result,) = report.files
    assert result.status == "failed"
    (check,) = result.checks
    assert not check.ok and check.detail.endswith(f"app.tar.gz.sig: {why}")


class _Raises:
    """A pending signature whose format fails while finishing."""

    needs = frozenset({"sha256"})

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def finish(self, artifact: Artifact) -> SignatureResult:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "detail", "logged"),
    [
        (VerificationError("app.sig: signed by an unknown key"), "signed by an unknown key", False),
        (KeyError("tlog"), "could not be verified: KeyError: 'tlog'", True),
    ],
)
def test_a_signature_whose_format_fails_while_finishing_fails_closed(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    exc: Exception,
    detail: str,
    logged: bool,
) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    job = FileJob(
        path=artifact,
        expected=(files.Expected("sha256", SHA, "--sha256"),),
        signatures=(dispatch.Prepared("app.sig", pending=_Raises(exc)),),
    )
    with caplog.at_level(logging.ERROR, logger=dispatch.__name__):
        result = compare(job, hash_file(artifact, job.algorithms))
    assert result.status == "failed"
    assert [c.ok for c in result.checks] == [True, False]
    assert result.checks[1].detail.endswith(detail)
    assert ("verifying app.sig failed unexpectedly" in caplog.text) is logged


def test_a_format_that_crashes_while_parsing_fails_closed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Crashing:
        name = "crashing"

        def sniff(self, data: bytes, filename: str) -> bool:
            return True

        def prepare(self, data: bytes, source: str, context: Context) -> object:
            raise IndexError("list index out of range")

    monkeypatch.setattr(dispatch, "detect", lambda data, filename: Crashing())
    with caplog.at_level(logging.ERROR, logger=dispatch.__name__):
        prepared = dispatch.prepare_bytes(b"sig", "app.sig", Context())
    assert prepared.pending is None and prepared.failure is not None
    assert not prepared.failure.ok
    assert prepared.failure.detail == "cannot be read: IndexError"
    assert "parsing app.sig failed unexpectedly" in caplog.text


def test_a_format_whose_library_is_missing_is_skipped_loudly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without sigstore's module the other formats still detect; the gap is logged."""
    monkeypatch.setitem(sys.modules, "relman.verify.signatures.sigstore_bundle", None)
    with caplog.at_level(logging.WARNING, logger=dispatch.__name__):
        names = [f.name for f in dispatch.formats()]
    assert "sigstore" not in names
    assert {"minisign", "openpgp", "openssl"} <= set(names)
    assert "signature format sigstore_bundle is unavailable" in caplog.text


# -- public keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: dsa.generate_private_key(2048).public_key(), "DSAPublicKey"),
        (lambda: x25519.X25519PrivateKey.generate().public_key(), "X25519PublicKey"),
        (lambda: ed448.Ed448PrivateKey.generate().public_key(), "Ed448PublicKey"),
    ],
)
def test_a_key_type_relman_cannot_verify_with_is_refused_as_key(
    tmp_path: Path,
    relman_cli: Callable[..., object],
    make: Callable[[], PublicKeyTypes],
    kind: str,
) -> None:
    pem = spki_pem(make())
    with pytest.raises(KeyFormatError, match=f"unsupported public key type {kind}"):
        load_public_key(pem, "odd")
    key_file = tmp_path / "odd.pem"
    key_file.write_bytes(pem)
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    sig = tmp_path / "app.tar.gz.sig"
    sig.write_bytes(b"MEUCIQ==\n")
    run = relman_cli("verify", artifact, "--signature", sig, "--key", key_file)
    assert run.code == 2  # type: ignore[attr-defined]
    assert f"unsupported public key type {kind}" in run.err  # type: ignore[attr-defined]


def test_a_p521_key_is_read_but_cannot_make_a_signature_pass(
    tmp_path: Path, relman_cli: Callable[..., object]
) -> None:
    private = ec.generate_private_key(ec.SECP521R1())
    key = load_public_key(spki_pem(private.public_key()), "p521")
    assert key.kind == "ecdsa-p521"
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    sig = tmp_path / "app.tar.gz.sig"
    sig.write_bytes(private.sign(GOOD, ec.ECDSA(hashes.SHA512())))
    key_file = tmp_path / "p521.pem"
    key_file.write_bytes(spki_pem(private.public_key()))
    run = relman_cli("verify", artifact, "--signature", sig, "--key", key_file)
    assert run.code == 1  # type: ignore[attr-defined]
    assert "FAILED" in run.out  # type: ignore[attr-defined]


def test_der_keys_and_certificates_read_like_their_pem_forms() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key()
    cert = self_signed(private)
    want = load_public_key(spki_pem(public), "pem").fingerprint
    forms = {
        "der": spki_der(public),
        "cert.pem": cert.public_bytes(serialization.Encoding.PEM),
        "cert.der": cert.public_bytes(serialization.Encoding.DER),
    }
    for name, data in forms.items():
        key = load_public_key(data, name)
        assert (key.kind, key.fingerprint) == ("ecdsa-p256", want), name
        assert key.material == (data if name.endswith("der") else data.strip() + b"\n")


def test_an_all_ascii_der_key_is_kept_byte_for_byte(tmp_path: Path) -> None:
    """Trusting it and reading it back gives the same fingerprint (no whitespace stripped)."""
    der = ascii_der_ed25519()
    assert der.endswith(b" ") and max(der) < 0x80
    key = load_public_key(der, "ascii-der")
    assert key.material == der
    truststore.add("ascii-der", der, origin="ascii.der")
    (again,) = truststore.trusted_keys()
    assert again.fingerprint == key.fingerprint


def test_minisign_key_given_as_a_bare_line() -> None:
    raw = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    key_id = bytes(range(1, 9))
    line = base64.b64encode(b"Ed" + key_id + raw) + b"\n"
    key = load_public_key(line, "mini")
    assert key.kind == "minisign"
    assert key.key_id == key_id[::-1].hex().upper()
    assert key.material == line


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"RWQ!!not base64 at all!!\n", "holds no public key relman can read"),
        (b"RWQzM2Zvbw==\n", "holds no public key relman can read"),  # base64, wrong size
        (b"\x99\x01\x0dnot an OpenPGP packet", "holds no public key relman can read"),
        (
            b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
            "holds no public key relman can read",
        ),
        (
            ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "holds a private key; give the public key",
        ),
    ],
)
def test_what_is_not_a_public_key_is_named(data: bytes, why: str) -> None:
    with pytest.raises(KeyFormatError, match=f"^release.pub: {why}"):
        load_public_key(data, "release", origin="release.pub")


# -- trust store ----------------------------------------------------------------------------


def _trust_two(relman_home: Path) -> tuple[bytes, bytes]:
    first = spki_pem(ed25519.Ed25519PrivateKey.generate().public_key())
    second = spki_pem(ec.generate_private_key(ec.SECP256R1()).public_key())
    truststore.add("alpha", first, origin="alpha.pem")
    truststore.add("beta", second, origin="beta.pem")
    return first, second


def test_trust_store_add_refuses_bad_names_and_duplicates(relman_home: Path) -> None:
    first, second = _trust_two(relman_home)
    assert [k.name for k in truststore.trusted_keys()] == ["alpha", "beta"]
    with pytest.raises(UsageError, match="trusted key name '../evil' is not allowed"):
        truststore.add("../evil", first, origin="evil.pem")
    other = spki_pem(ed25519.Ed25519PrivateKey.generate().public_key())
    with pytest.raises(UsageError, match="a trusted key named 'alpha' exists already"):
        truststore.add("alpha", other, origin="other.pem")
    with pytest.raises(UsageError, match="trusted already as 'beta'"):
        truststore.add("gamma", second, origin="beta-again.pem")


def test_a_corrupt_trust_index_is_one_line_naming_the_file(relman_home: Path) -> None:
    _trust_two(relman_home)
    index_file = relman_home / "config" / "trust.toml"
    index_file.write_text("schema = 1\n[keys\n")
    with pytest.raises(InputError) as caught:
        truststore.trusted_keys()
    message = str(caught.value)
    assert message.startswith(f"{index_file}: cannot be read as the trust store index: ")
    assert "\n" not in message


@pytest.mark.parametrize("damage", ["deleted", "replaced by a folder"])
def test_a_trusted_key_file_that_cannot_be_read_stops_verification(
    relman_home: Path, relman_cli: Callable[..., object], tmp_path: Path, damage: str
) -> None:
    _trust_two(relman_home)
    key_file = relman_home / "config" / "trust" / "alpha.pem"
    key_file.unlink()
    if damage != "deleted":
        key_file.mkdir()
    with pytest.raises(InputError, match=f"^trusted key 'alpha': {key_file}: "):
        truststore.trusted_keys()
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    run = relman_cli("verify", artifact, "--sha256", SHA)
    assert run.code == 2  # type: ignore[attr-defined]
    assert "trusted key 'alpha'" in run.err  # type: ignore[attr-defined]


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux /proc")
def test_a_key_file_that_cannot_be_read_is_named() -> None:
    """/proc/self/mem is a regular file that fails to read (EIO) even for root."""
    with pytest.raises(InputError, match=r"^/proc/self/mem: "):
        truststore.find("/proc/self/mem")


def test_a_folder_given_as_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder, not a key file"):
        truststore.find(str(tmp_path))


def test_a_bare_sidecar_given_alone_with_checksums_names_its_file(
    tmp_path: Path, relman_cli
) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(GOOD)
    sidecar = tmp_path / "app.tar.gz.sha256"
    sidecar.write_text(SHA + "\n")
    run = relman_cli("verify", "--checksums", sidecar)
    assert run.code == 0, run.out + run.err
    assert run.out.splitlines()[-1] == "1 verified"
