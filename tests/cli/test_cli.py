"""The command line as a script sees it: exit status, one-line errors, JSON, no Qt."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_relman

COMMIT = "3f9c2ab1d0e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8"
GOOD = b"artifact bytes\n"
SHA = hashlib.sha256(GOOD).hexdigest()


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "app.tar.gz").write_bytes(GOOD)
    (tmp_path / "other.bin").write_bytes(GOOD * 2)
    sums = subprocess.run(
        ["sha256sum", "app.tar.gz", "other.bin"], cwd=tmp_path, check=True, capture_output=True
    )
    (tmp_path / "SHA256SUMS").write_bytes(sums.stdout)
    return tmp_path


def one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert lines, "expected a message on stderr"
    assert all(line.startswith("relman") for line in lines), err
    assert "Traceback" not in err


# -- build-id --------------------------------------------------------------------------------


def test_build_id_example(relman_cli) -> None:
    run = relman_cli(
        "build-id", "--number", "42", "--commit", COMMIT, "--started", "2026-11-26T15:30:05+01:00"
    )
    assert (run.code, run.out, run.err) == (0, "20261126T143005Z.42.3f9c2ab1d0e4\n", "")


def test_build_id_json_and_full(relman_cli) -> None:
    run = relman_cli(
        "build-id",
        "--number",
        "3",
        "--commit",
        COMMIT,
        "--started",
        "2026-11-26T00:00:00Z",
        "--json",
        "--full",
    )
    data = json.loads(run.out)
    assert data == {
        "ok": True,
        "id": f"20261126T000000Z.3.{COMMIT}",
        "started": "2026-11-26T00:00:00Z",
        "number": 3,
        "commit": COMMIT,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--number", "0", "--commit", COMMIT], "build number 0 is below 1"),
        (["--number", "1", "--commit", "abc"], "is not a full git commit id"),
        (["--number", "1", "--commit", COMMIT, "--started", "soon"], "is not an ISO 8601 time"),
        (["--number", "1"], "the following arguments are required: --commit"),
    ],
)
def test_build_id_refuses_bad_parts(relman_cli, args: list[str], message: str) -> None:
    run = relman_cli("build-id", *args)
    assert run.code == 2 and run.out == ""
    assert message in run.err
    one_line_error(run.err)


# -- verify ----------------------------------------------------------------------------------


def test_verify_ok_text_and_json(relman_cli, dist: Path) -> None:
    run = relman_cli("verify", dist / "app.tar.gz")
    assert run.code == 0, run.err
    assert run.out.splitlines()[-1] == "1 verified"
    assert f"sha256:{SHA}" in run.out
    run = relman_cli("verify", dist / "app.tar.gz", "--json")
    data = json.loads(run.out)
    assert data["ok"] is True
    assert data["files"][0]["sha256"] == SHA
    assert data["files"][0]["checks"][0] == {
        "kind": "checksum",
        "ok": True,
        "source": "SHA256SUMS:1",
        "detail": "sha256 matches",
    }


def test_verify_sha256_option(relman_cli, dist: Path) -> None:
    assert (
        relman_cli("verify", dist / "other.bin", "--sha256", SHA.upper(), "--no-discover").code == 1
    )
    run = relman_cli("verify", dist / "app.tar.gz", "--sha256", SHA.upper(), "--no-discover")
    assert run.code == 0 and "--sha256" in run.out


def test_verify_tampered_is_exit_1(relman_cli, dist: Path) -> None:
    (dist / "app.tar.gz").write_bytes(GOOD + b"x")
    run = relman_cli("verify", dist / "app.tar.gz")
    assert run.code == 1
    assert (
        f"FAILED  {dist / 'app.tar.gz'}: sha256 mismatch against SHA256SUMS:1: expected {SHA}"
        in run.out
    )
    assert json.loads(relman_cli("verify", dist / "app.tar.gz", "--json").out)["ok"] is False


def test_nothing_to_compare_is_not_verified(relman_cli, tmp_path: Path) -> None:
    (tmp_path / "lonely.bin").write_bytes(b"x")
    run = relman_cli("verify", tmp_path / "lonely.bin")
    assert run.code == 1
    assert "NOT VERIFIED" in run.out and "no digest to compare against" in run.out


def test_checksums_without_files_checks_every_listed_file(relman_cli, dist: Path) -> None:
    run = relman_cli("verify", "--checksums", dist / "SHA256SUMS")
    assert run.code == 0, run.out + run.err
    assert run.out.splitlines()[-1] == "2 verified"
    (dist / "other.bin").unlink()
    run = relman_cli("verify", "--checksums", dist / "SHA256SUMS", "-q")
    assert run.code == 2
    assert run.out.strip() == "1 verified, 1 unreadable"
    assert "other.bin: no such file" in run.err


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (None, ["verify"], "give at least one FILE"),
        (None, ["verify", "{d}/missing.bin"], "missing.bin: no such file"),
        (None, ["verify", "{d}"], "is a folder, not a file"),
        (
            None,
            ["verify", "{d}/app.tar.gz", "--sha256", "xyz"],
            "--sha256: 'xyz' is not hexadecimal",
        ),
        (None, ["verify", "{d}/app.tar.gz", "--sha256", "ab" * 31], "62 hex digits, 64 expected"),
        (
            None,
            ["verify", "{d}/app.tar.gz", "{d}/other.bin", "--sha256", SHA],
            "--sha256 applies to exactly one FILE",
        ),
        (None, ["verify", "--checksums", "{d}/nope"], "nope: no such file"),
        (None, ["verify", "--checksums", "{d}"], "is a folder, not a checksum list"),
        (
            "<html><head><title>502</title></head></html>",
            ["verify", "--checksums", "{d}/L"],
            "L: is not a checksum list (it looks like an HTML",
        ),
        (
            f"{SHA}  app.tar.gz\nbroken\n",
            ["verify", "--checksums", "{d}/L"],
            "L, line 2: not a checksum line: 'broken'",
        ),
        ("", ["verify", "--checksums", "{d}/L"], "L: is empty, not a checksum list"),
        (None, ["verify", "{d}/app.tar.gz", "--jobs", "0"], "--jobs must be 1 or more"),
        (None, ["verify", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(
    relman_cli, dist: Path, make: str | None, args: list[str], message: str
) -> None:
    if make is not None:
        (dist / "L").write_text(make)
    run = relman_cli(*[a.format(d=dist) for a in args])
    assert run.code == 2, run.out + run.err
    assert message in run.err
    one_line_error(run.err)


def test_malformed_sidecar_found_beside_a_file(relman_cli, dist: Path) -> None:
    (dist / "app.tar.gz.sha256").write_text("this is not a digest\n")
    run = relman_cli("verify", dist / "app.tar.gz")
    assert run.code == 2
    assert "app.tar.gz.sha256, line 1: not a checksum line" in run.err
    one_line_error(run.err)


def test_subprocess_errors_have_no_traceback_and_no_qt(tmp_path: Path) -> None:
    run = run_relman(
        ["verify", tmp_path / "x"], env={"RELMAN_BLOCK_QT": "1", "PYTHONPATH": _noqt()}
    )
    assert run.code == 2
    assert run.err == f"relman: {tmp_path / 'x'}: no such file\n"


def test_non_utf8_file_name_on_the_command_line(tmp_path: Path) -> None:
    raw = b"caf\xe9.bin"
    (tmp_path / os.fsdecode(raw)).write_bytes(GOOD)
    env = {**os.environ, "LC_ALL": "C"}
    proc = subprocess.run(
        [sys.executable, "-m", "relman", "verify", raw, "--sha256", SHA, "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0]["path"] == "caf\\xe9.bin"
    proc = subprocess.run(
        [sys.executable, "-m", "relman", "verify", b"gone\xff"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == b"relman: gone\\xff: no such file\n"


def _noqt() -> str:
    here = Path(__file__).resolve().parents[1] / "noqt"
    return os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")])


def test_verify_help_imports_no_qt_and_no_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from relman.launcher import main\n"
        "try:\n    main(['verify', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'PySide6', 'shiboken6', 'requests', 'cryptography', 'keyring', 'platformdirs'})\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in proc.stdout


def test_gui_entry_without_qt_says_what_to_do() -> None:
    run = run_relman(["gui"], env={"RELMAN_BLOCK_QT": "1", "PYTHONPATH": _noqt()})
    assert run.code == 2
    assert run.err.startswith("relman: cannot open the desktop app:")
    assert "relman verify" in run.err


def test_version_and_help(relman_cli) -> None:
    run = relman_cli("--version")
    assert run.code == 0 and run.out.startswith("relman ")
    run = relman_cli("verify", "--help")
    assert run.code == 0 and "exit status: 0 all verified" in run.out
    run = relman_cli("frobnicate")
    assert run.code == 2 and "invalid choice" in run.err
