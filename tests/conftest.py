"""Shared fixtures: every test gets its own RELMAN_HOME, never the tester's files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["tests.emulators.fixtures"]


@pytest.fixture(autouse=True)
def relman_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("relman-home")
    monkeypatch.setenv("RELMAN_HOME", str(home))
    return home


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def relman_cli(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process: ``relman_cli("verify", "f")`` -> Run(code, out, err)."""
    from relman.launcher import main

    def run(*argv: str | os.PathLike[str]) -> Run:
        code = main([os.fspath(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def run_relman(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``python -m relman`` in a subprocess, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "relman", *map(os.fspath, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=120,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
