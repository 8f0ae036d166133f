"""Benchmark of lineage (issue 4): 5,000 builds x 10 artifacts in a local registry.

Target: ``build_lineage`` under 2 s and under 300 MB. The registry is written straight in the
documented layout (``tests/fast_registry.py``; ``test_lineage.py`` checks it writes what
``LocalRegistry`` writes). Every build is in dev (libs-dev), one in five was copied to qa
(libs-qa, with a signed promotion record), one in twenty labelled prod on its qa copy (with a
record): 62,500 items. Two registries: without signature sidecars, and with a cosign ``.sig``
beside every artifact (62,500 ECDSA P-256 verifications, less the copies checked once).
Each run is a child process (peak RSS is its own) with a RELMAN_HOME of its own: the first
finds lineage's cache of verified signatures empty (cold), the next RUNS find what it kept
(warm, best of RUNS).

The targets are recorded beside the figures, not asserted (TARGETS_MET is False). Before
the issue-4 performance work, on the 2-CPU reference machine: unsigned ~3.7 s (205 MB),
signed ~29 s (317 MB). After it (sidecars read from the path the scan listed without
resolving it, their metadata not read, each distinct sidecar verified once a run, verified
signatures kept in the cache; a `make bench` run on a shared, noisy 2-CPU machine): unsigned
3.3-3.5 s (204 MB); signed cold 15.9 s (312 MB), signed warm 5.6 s (263 MB). Cold, 50,000
distinct ECDSA checks cost ~10 s (~85 us of ECDSA plus format detection and cosign's loading
of the key, per signature, on one CPU: cryptography holds the GIL). What is left: the scan's
per-item metadata read (~1.5 s), the build records (~0.7 s) and the graph (~1 s), for which
an on-disk index of item metadata is the next step; the cold signatures need other processes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from relman.model import ArtifactRecord
from relman.registry import buildinfo
from relman.release import records
from relman.verify.signatures.keys import spki_fingerprint
from tests.fast_registry import DirectWriter

BUILDS = 5000
ARTIFACTS = 10
RUNS = 3
#: Not yet: the figures are recorded, and asserted once this is True (see the module docstring).
TARGETS_MET = False
T0 = datetime(2025, 1, 1, tzinfo=UTC)

CHILD = """
import json, resource, sys, time
from pathlib import Path
from relman.model import Environment
from relman.registry.local import LocalRegistry
from relman.release.lineage import build_lineage
from relman.verify.signatures.base import Context
from relman.verify.signatures.keys import load_public_key
root = Path(sys.argv[1])
keys = tuple(load_public_key((root.parent / f"{n}.pem").read_bytes(), n) for n in ("ci", "rm"))
envs = (Environment("dev", "repository", repo="libs-dev"),
        Environment("qa", "repository", repo="libs-qa"),
        Environment("prod", "label", label="relman.environment"))
start, cpu = time.perf_counter(), time.process_time()
result = build_lineage(LocalRegistry(root), envs, Context(keys=keys))
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "builds": len(result.builds), "findings": len(result.findings)}))
"""


def _pem(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_registry(root: Path, *, signed: bool) -> None:
    writer = DirectWriter(root, ["libs-dev", "libs-qa"])
    ci = ec.generate_private_key(ec.SECP256R1())
    promoter = ed25519.Ed25519PrivateKey.generate()
    (root.parent / "ci.pem").write_bytes(_pem(ci))
    (root.parent / "rm.pem").write_bytes(_pem(promoter))
    fingerprint = spki_fingerprint(promoter.public_key())
    for i in range(BUILDS):
        name, number = f"svc-{i % 50:02d}", str(i // 50 + 1)
        commit = hashlib.sha1(f"commit {i}".encode()).hexdigest()
        props = {"build.name": name, "build.number": number, "vcs.revision": commit}
        artifacts = []
        for j in range(ARTIFACTS):
            data = f"{name} {number} part {j}\n".encode() * 8
            path = f"{name}/{number}/part-{j}.bin"
            sha = writer.deploy("libs-dev", path, data, props)
            if signed:
                digest = hashlib.sha256(data).digest()
                sig = ci.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
                writer.deploy("libs-dev", path + ".sig", base64.b64encode(sig) + b"\n")
            artifacts.append(ArtifactRecord(f"part-{j}.bin", sha256=sha, path=path, module=name))
        record = buildinfo.make_record(
            name, number, started=T0 + timedelta(minutes=i), commit=commit, artifacts=artifacts
        )
        writer.publish_build(record)
        stages = [("dev", "qa")] if i % 5 == 0 else []
        stages += [("qa", "prod")] if i % 20 == 0 else []
        for source, target in stages:
            for a in artifacts:
                assert a.path is not None
                if target == "qa":
                    writer.copy(("libs-dev", a.path), ("libs-qa", a.path))
                    if signed:
                        writer.copy(("libs-dev", a.path + ".sig"), ("libs-qa", a.path + ".sig"))
                else:
                    writer.set_properties("libs-qa", a.path, {"relman.environment": ["prod"]})
            statement = records.statement(
                build_name=name,
                build_number=number,
                identity=str(record.identity),
                artifacts=[(a.name, a.sha256 or "") for a in artifacts],
                source=source,
                target=target,
                promoter="rm",
                fingerprint=fingerprint,
            )
            writer.put_promotion_record(name, number, target, records.sign(statement, promoter))


@pytest.fixture(scope="module", params=["unsigned", "signed"])
def registry(request: pytest.FixtureRequest, bench_dir: Path) -> tuple[str, Path]:
    root = bench_dir / f"lineage-{request.param}" / "registry"
    root.parent.mkdir()
    write_registry(root, signed=request.param == "signed")
    return request.param, root


def _run(root: Path, home: Path) -> dict[str, float]:
    env = {**os.environ, "RELMAN_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def test_4_lineage_5000_builds(bench, registry: tuple[str, Path]) -> None:
    kind, root = registry
    # RELMAN_HOME of its own: the first run finds no verification cache (cold), the next ones
    # find the signatures the first one verified (warm). Unsigned, both are the same work.
    home = root.parent / "relman-home"
    cold = _run(root, home)
    warm = [_run(root, home) for _ in range(RUNS)]
    best = min(warm, key=lambda r: r["seconds"])
    for run in (cold, *warm):
        assert run["builds"] == BUILDS
        # Findings: every artifact unsigned (unsigned registry) or none at all (signed).
        assert run["findings"] == (BUILDS * ARTIFACTS if kind == "unsigned" else 0)
    label = f"lineage of {BUILDS:,} builds x {ARTIFACTS} artifacts, {kind}"
    bench.record("4", f"{label}, cold cache: wall", cold["seconds"], "s", "< 2 s")
    bench.record("4", f"{label}, cold cache: peak RSS", cold["rss_mb"], "MB", "< 300 MB")
    bench.record("4", f"{label}, warm cache: wall", best["seconds"], "s", "< 2 s")
    bench.record("4", f"{label}, warm cache: CPU", best["cpu"], "s")
    bench.record("4", f"{label}, warm cache: peak RSS", max(r["rss_mb"] for r in warm), "MB")
    if TARGETS_MET:
        assert best["seconds"] < 2.0 and cold["seconds"] < 2.0
        assert max(r["rss_mb"] for r in (cold, *warm)) < 300
