"""Planning and verifying files against everything found for them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from relman.errors import ChecksumListError
from relman.verify.discover import expand
from relman.verify.files import ChecksumIndex, FileJob, Report, plan, verify_all, verify_job

GOOD = b"the bytes that were built and tested\n"
SHA = hashlib.sha256(GOOD).hexdigest()


def sha256sum(folder: Path, *names: str, tag: bool = False) -> bytes:
    argv = ["sha256sum", *(["--tag"] if tag else []), *names]
    return subprocess.run(argv, cwd=folder, check=True, capture_output=True).stdout


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A download folder: SHA256SUMS, Maven sidecars, one tampered file, one bare file."""
    (tmp_path / "app.tar.gz").write_bytes(GOOD)
    (tmp_path / "app.jar").write_bytes(GOOD * 2)
    (tmp_path / "tampered.bin").write_bytes(GOOD)
    (tmp_path / "SHA256SUMS").write_bytes(sha256sum(tmp_path, "app.tar.gz", "tampered.bin"))
    (tmp_path / "tampered.bin").write_bytes(GOOD + b"evil")
    (tmp_path / "app.jar.sha1").write_text(hashlib.sha1(GOOD * 2).hexdigest())
    (tmp_path / "app.jar.sha256").write_text(hashlib.sha256(GOOD * 2).hexdigest() + "  app.jar\n")
    (tmp_path / "bare.bin").write_bytes(b"no digest anywhere")
    return tmp_path


def run(paths: list[Path], **kwargs: object) -> Report:
    return verify_all(plan(paths, **kwargs))  # type: ignore[arg-type]


def test_discovers_lists_and_sidecars(release: Path) -> None:
    report = run(
        [
            release / "app.tar.gz",
            release / "app.jar",
            release / "tampered.bin",
            release / "bare.bin",
        ]
    )
    by_name = {r.path.name: r for r in report.files}
    app = by_name["app.tar.gz"]
    assert app.ok and app.status == "verified"
    assert [c.source for c in app.checks] == ["SHA256SUMS:1"]
    jar = by_name["app.jar"]
    assert jar.ok
    assert sorted(c.source for c in jar.checks) == ["app.jar.sha1", "app.jar.sha256"]
    assert set(jar.digests) == {"sha256", "sha1"}
    bad = by_name["tampered.bin"]
    assert bad.status == "failed"
    assert bad.summary.startswith(f"sha256 mismatch against SHA256SUMS:2: expected {SHA}, got ")
    bare = by_name["bare.bin"]
    assert bare.status == "not-verified" and not bare.ok
    assert "no digest to compare against" in bare.summary
    assert report.exit_code == 1 and not report.ok


def test_explicit_sha256_and_lists_resolve_names_relative_to_the_list(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "app.tar.gz").write_bytes(GOOD)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "release.sha256").write_bytes(f"{SHA}  ../dist/app.tar.gz\n".encode())
    report = run(
        [dist / "app.tar.gz"], sha256=SHA, checksum_lists=[lists / "release.sha256"], discover=False
    )
    (result,) = report.files
    assert result.ok
    assert [c.source.rsplit("/", 1)[-1] for c in result.checks] == ["--sha256", "release.sha256:1"]
    wrong = run([dist / "app.tar.gz"], sha256="0" * 64)
    assert wrong.exit_code == 1


def test_every_check_must_pass(release: Path) -> None:
    (release / "app.tar.gz.sha256").write_text("0" * 64)
    (result,) = run([release / "app.tar.gz"]).files
    assert [c.ok for c in result.checks] == [False, True]
    assert not result.ok


def test_a_sidecar_for_another_file_fails(release: Path) -> None:
    (release / "app.tar.gz.sha256").write_text(f"{SHA}  other.tar.gz\n")
    (result,) = run([release / "app.tar.gz"]).files
    assert not result.ok
    assert "app.tar.gz.sha256 is for 'other.tar.gz', not 'app.tar.gz'" in result.summary


def test_empty_file_mismatch_says_it_is_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.bin").write_bytes(b"")
    (result,) = run([tmp_path / "empty.bin"], sha256=SHA).files
    assert result.summary.endswith("(the file is empty)")
    (ok,) = run([tmp_path / "empty.bin"], sha256=hashlib.sha256(b"").hexdigest()).files
    assert ok.ok  # an empty file that is meant to be empty verifies


def test_malformed_neighbour_list_is_an_error_for_that_file(release: Path) -> None:
    (release / "SHA256SUMS").write_text("<html><body>404 Not Found</body></html>\n")
    report = run([release / "app.tar.gz", release / "app.jar"])
    app, _jar = report.files
    assert app.status == "error" and "SHA256SUMS" in app.summary and "HTML" in app.summary
    assert report.exit_code == 2


def test_malformed_explicit_list_stops_planning(tmp_path: Path) -> None:
    (tmp_path / "sums").write_text(f"{SHA}  a\ngarbage\n")
    with pytest.raises(ChecksumListError, match="sums, line 2"):
        plan([tmp_path / "a"], checksum_lists=[tmp_path / "sums"])


def test_unreadable_files_are_errors_and_the_rest_still_verify(release: Path) -> None:
    report = run([release / "missing.bin", release / "app.tar.gz", release])
    assert [r.status for r in report.files] == ["error", "verified", "error"]
    assert report.files[0].summary.endswith("missing.bin: no such file")
    assert report.files[2].summary.endswith("is a folder, not a file")
    assert report.exit_code == 2


def test_results_keep_input_order_and_callbacks_fire(release: Path) -> None:
    names = ["bare.bin", "app.jar", "nope", "app.tar.gz"]
    seen: list[int] = []
    report = verify_all(
        plan([release / n for n in names]), workers=2, on_result=lambda i, r: seen.append(i)
    )
    assert [r.path.name for r in report.files] == names
    assert sorted(seen) == [0, 1, 2, 3]


def test_verify_job_direct(release: Path) -> None:
    (job,) = plan([release / "app.tar.gz"])
    progress: list[int] = []
    result = verify_job(job, progress=lambda d, t: progress.append(d))
    assert result.ok and progress[-1] == len(GOOD)
    assert verify_job(FileJob(release / "x", error="x: broken")).error == "x: broken"


def test_a_list_is_parsed_once_for_many_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"f{i}" for i in range(50)]
    for n in names:
        (tmp_path / n).write_bytes(n.encode())
    (tmp_path / "SHA256SUMS").write_bytes(sha256sum(tmp_path, *names))
    from relman.verify import index as index_module

    calls = []
    real = index_module.parse_checksum_list
    monkeypatch.setattr(
        index_module, "parse_checksum_list", lambda *a: calls.append(a[1]) or real(*a)
    )
    report = run([tmp_path / n for n in names], index=ChecksumIndex())
    assert report.ok and len(report.files) == 50
    assert len(calls) == 1


def test_non_utf8_names_verify_and_serialise(tmp_path: Path) -> None:
    raw = b"r\xe9sum\xe9.bin"
    (tmp_path / os.fsdecode(raw)).write_bytes(GOOD)
    (tmp_path / "SHA256SUMS").write_bytes(
        subprocess.run(["sha256sum", raw], cwd=tmp_path, check=True, capture_output=True).stdout
    )
    report = run([tmp_path / os.fsdecode(raw)])
    assert report.ok
    text = json.dumps(report.to_json())
    assert "r\\\\xe9sum\\\\xe9.bin" in text


def test_json_shape(release: Path) -> None:
    data = run([release / "app.tar.gz", release / "bare.bin"]).to_json()
    assert data["ok"] is False
    first, second = data["files"]  # type: ignore[misc]
    assert set(first) >= {"path", "ok", "sha256", "checks"}
    assert first["checks"] == [
        {"kind": "checksum", "ok": True, "source": "SHA256SUMS:1", "detail": "sha256 matches"}
    ]
    assert second["ok"] is False and "no digest" in second["error"]


def test_expand_walks_folders_skips_evidence_and_reports_loops(release: Path) -> None:
    sub = release / "nested"
    sub.mkdir()
    (sub / "inner.bin").write_bytes(b"x")
    (sub / "inner.bin.sig").write_bytes(b"sig")
    (sub / "back-to-top").symlink_to(release)
    (sub / "self-loop").symlink_to(sub / "self-loop")
    (sub / "dangling").symlink_to(release / "nowhere")
    (release / "SHA256SUMS.asc").write_text("x")
    found = list(expand([release, release / "missing"]))
    files = sorted(f.path.relative_to(release).as_posix() for f in found if f.problem is None)
    assert files == ["app.jar", "app.tar.gz", "bare.bin", "nested/inner.bin", "tampered.bin"]
    problems = {f.path.name: f.problem for f in found if f.problem}
    assert "symbolic link loop (leads back to a folder above it)" in problems["back-to-top"]
    assert problems["self-loop"].endswith("symbolic link loop")
    assert problems["dangling"].endswith("broken symbolic link")
    assert problems["missing"].endswith("no such file")


def test_expand_yields_given_files_even_if_evidence(release: Path) -> None:
    found = list(expand([release / "SHA256SUMS"]))
    assert [f.path.name for f in found] == ["SHA256SUMS"] and found[0].problem is None


def test_expand_reports_special_and_unreadable_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.mkfifo(tmp_path / "pipe")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x.bin").write_bytes(b"x")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    from relman.verify import discover

    monkeypatch.setattr(discover.os, "scandir", scandir)
    problems = {f.path.name: f.problem for f in expand([tmp_path])}
    assert problems["pipe"].endswith("is not a regular file")
    assert problems["locked"].endswith("locked: permission denied")


def test_expand_honours_cancel(tmp_path: Path) -> None:
    from relman.errors import Cancelled
    from relman.model import CancelToken

    for i in range(10):
        (tmp_path / f"f{i}").write_bytes(b"x")
    token = CancelToken()
    found = []
    with pytest.raises(Cancelled):
        for item in expand([tmp_path], cancel=token):
            found.append(item)
            token.cancel()
    assert len(found) == 1


def test_a_list_verified_as_a_file_is_not_checked_against_itself(release: Path) -> None:
    """Verifying SHA256SUMS itself: the list beside it is the file, not a source of digests."""
    (job,) = plan([release / "SHA256SUMS"])
    assert job.expected == () and job.error is None
    (result,) = verify_all([job]).files
    assert result.status == "not-verified"
