"""Benchmarks of the Artifactory backend (issue 5) against the emulator on 127.0.0.1.

A. Lineage of one build name with 2,000 runs x 10 artifacts: requests grow with pages and
   runs, never with artifacts. Asserted: at most 3 requests per build run overall, and the AQL
   requests no more than two a page of items plus one a repository and one for the records.
   Recorded: requests per 1,000 artifacts, the time (the emulator shares the process and its
   two CPUs, and evaluates AQL by scanning: its pages cost far more than a server's).
B. Download-and-verify of a 1 GiB artifact: ``hash_remote`` (read again, SHA-256 on a thread
   of its own, nothing kept: "verify now") against ``curl -o /dev/null`` on the same URL, best
   of 3 each, in turn; and the peak memory of a fresh process doing it. Asserted: >= 0.8x
   curl's throughput and < 100 MB. Recorded, not asserted: ``download`` to a file, which also
   writes, fsyncs and computes SHA-1 and MD5 (MD5 alone runs at ~0.75 GB/s on one core).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import pytest

from relman.model import Environment
from relman.registry.artifactory import ArtifactoryRegistry
from relman.release.lineage import build_lineage
from relman.verify.signatures.base import Context
from tests.emulators.artifactory import ArtifactoryEmulator

RUNS = 2000
ARTIFACTS = 10
PAGE = 5000
TOKEN = "bench-token"

CHILD = """
import sys, time
from relman.registry.artifactory import ArtifactoryRegistry
url, token, sha = sys.argv[1:4]
with ArtifactoryRegistry(url, token=token) as reg:
    start = time.perf_counter()
    size, found = reg.hash_remote("libs-dev", "big.bin", expected={"sha256": sha})
    print(time.perf_counter() - start)
"""


def _seed(emu: ArtifactoryEmulator) -> None:
    for number in range(1, RUNS + 1):
        commit = hashlib.sha1(str(number).encode()).hexdigest()
        artifacts = []
        for index in range(ARTIFACTS):
            data = f"run {number} part {index}".encode()
            path = f"app/{number}/part-{index}.bin"
            props = {"build.name": "app", "build.number": str(number), "vcs.revision": commit}
            emu.deploy("libs-dev", path, data, properties=props)
            artifacts.append(
                {
                    "name": f"part-{index}.bin",
                    "path": path,
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
        emu.add_build(
            {
                "name": "app",
                "number": str(number),
                "started": f"2025-01-{1 + number // 1440:02d}T{number // 60 % 24:02d}:{number % 60:02d}:00.000Z",
                "vcs": [{"revision": commit}],
                "modules": [{"id": "app", "artifacts": artifacts}],
            }
        )


def test_lineage_requests_grow_with_pages_not_artifacts(bench) -> None:
    bench.load_note("A")
    envs = (
        Environment("dev", "repository", repo="libs-dev"),
        Environment("qa", "repository", repo="libs-qa"),
    )
    with ArtifactoryEmulator(token=TOKEN) as emu:
        emu.add_repo("libs-dev")
        emu.add_repo("libs-qa")
        _seed(emu)
        emu.reset_log()
        start = time.perf_counter()
        with ArtifactoryRegistry(emu.url, token=TOKEN, records_repo="libs-dev") as reg:
            lineage = build_lineage(reg, envs, Context(keys=()), build="app")
        seconds = time.perf_counter() - start
        requests = len(emu.requests)
        aql = emu.count("POST", "^/api/search/aql")
    artifacts = RUNS * ARTIFACTS
    assert len(lineage.builds) == RUNS
    bench.record("A", "lineage of 2,000 runs x 10 artifacts", seconds, "s")
    bench.record("A", "HTTP requests", requests, "requests")
    per_run = bench.record("A", "requests per build run", requests / RUNS, "requests", "<= 3")
    bench.record("A", "requests per 1,000 artifacts", requests / (artifacts / 1000), "requests")
    bench.record("A", "AQL requests per 1,000 artifacts", aql / (artifacts / 1000), "requests")
    pages = -(-artifacts // PAGE)
    assert per_run <= 3
    assert aql <= 2 * pages + 2 + 1


def test_download_and_verify_one_gib(bench, gib_file) -> None:
    curl = bench.require_tool("curl")
    bench.load_note("B")
    with ArtifactoryEmulator(token=TOKEN) as emu:
        emu.add_repo("libs-dev")
        emu.deploy_file("libs-dev", "big.bin", gib_file.path)
        bench.warm(gib_file.path)
        url = f"{emu.url}/libs-dev/big.bin"
        reg = ArtifactoryRegistry(emu.url, token=TOKEN)
        out = gib_file.path.with_name("downloaded.bin")

        def with_curl() -> None:
            subprocess.run(
                [curl, "-sf", "-o", "/dev/null", "-H", f"Authorization: Bearer {TOKEN}", url],
                check=True,
            )

        def with_relman() -> None:
            reg.hash_remote("libs-dev", "big.bin", expected={"sha256": gib_file.sha256})

        best = bench.best_of_each(3, {"curl": with_curl, "relman": with_relman})
        ratio = best["curl"] / best["relman"]
        bench.record("B", "curl -o /dev/null, 1 GiB", best["curl"], "s")
        bench.record("B", "hash_remote (SHA-256, nothing kept), 1 GiB", best["relman"], "s")
        bench.record("B", "hash_remote throughput vs curl", ratio, "x", ">= 0.8")
        saved = bench.best_of(1, lambda: reg.download("libs-dev", "big.bin", out))
        bench.record("B", "download to a file (3 digests, fsync), 1 GiB", saved, "s")
        out.unlink(missing_ok=True)
        reg.close()
        child = bench.run_child(
            [sys.executable, "-c", CHILD, emu.url, TOKEN, gib_file.sha256],
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        assert child.returncode == 0, child.stderr.decode()
    peak = bench.record("B", "peak memory of hash_remote", child.max_rss / bench.MiB, "MB", "< 100")
    assert peak < 100
    if ratio < 0.8:
        pytest.fail(f"hash_remote reached {ratio:.2f}x curl's throughput (target 0.8x)")
