"""``python -m tests.emulators.serve``: the emulator in a process of its own, serving a file."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def start(path: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.serve", str(path), "--path", "app/1/app.bin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


@pytest.mark.parametrize("stop", ["eof", "sigterm"])
def test_it_serves_the_file_until_stdin_closes_or_it_is_terminated(
    tmp_path: Path, stop: str
) -> None:
    data = os.urandom(3 << 20)
    source = tmp_path / "app.bin"
    source.write_bytes(data)
    proc, ready = start(source)
    try:
        assert ready["sha256"] == hashlib.sha256(data).hexdigest()
        assert ready["repo"] == "libs-dev" and ready["path"] == "app/1/app.bin"
        url = f"{ready['url']}/{ready['repo']}/{ready['path']}"
        answer = requests.get(
            url, headers={"Authorization": f"Bearer {ready['token']}"}, timeout=30
        )
        assert answer.status_code == 200 and answer.content == data
        assert answer.headers["X-Checksum-Sha256"] == ready["sha256"]
        assert requests.get(url, timeout=30).status_code == 401
    finally:
        if stop == "eof":
            assert proc.stdin is not None
            proc.stdin.close()
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.stderr is not None
    assert proc.returncode == 0 and proc.stderr.read() == b""
