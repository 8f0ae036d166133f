"""Shared machinery of the benchmarks (issue 2).

The benchmarks are not part of the default test run (``addopts`` has
``--ignore=tests/benchmarks``). One command runs them all::

    make bench        # = python -m pytest tests/benchmarks -p no:cacheprovider -s -q

Files are named ``bench_*.py``, so this conftest collects them itself (``pytest_collect_file``)
whatever ``python_files`` says. Every figure is a ratio against a reference measured in the
same run, best of N on each side after the page cache has been warmed for both: these machines
are shared and noisy, and an absolute time means little.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

#: Big files are written by repeating one random block of this size.
RANDOM_BLOCK = 64 * MiB

# `make bench` runs every bench_*.py, the GUI one too: Qt without a display aborts the whole
# process (not just one test), so default to the offscreen platform as the test suite does.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# -- collection ---------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if file_path.suffix != ".py" or not file_path.name.startswith("bench_"):
        return None
    # pytest's own collector takes a file named on the command line (or one matching
    # python_files); collecting it here as well would run every benchmark twice.
    if parent.session.isinitpath(file_path) or any(
        fnmatch.fnmatch(file_path.name, pattern) for pattern in parent.config.getini("python_files")
    ):
        return None
    return pytest.Module.from_parent(parent, path=file_path)


# -- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    target: str
    name: str
    value: float
    unit: str
    goal: str = ""


_FIGURES: list[Figure] = []


def record(target: str, name: str, value: float, unit: str, goal: str = "") -> float:
    """Print one figure now and keep it for the summary table at the end of the run."""
    _FIGURES.append(Figure(target, name, value, unit, goal))
    shown = f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    extra = f"   (target {goal})" if goal else ""
    print(f"  [{target}] {name}: {shown} {unit}{extra}", flush=True)
    return value


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _FIGURES:
        return
    tr = terminalreporter
    tr.section("relman benchmark figures")
    tr.write_line(f"machine: {machine_description()}")
    width = max(len(f.name) for f in _FIGURES)
    for fig in _FIGURES:
        shown = f"{fig.value:,.3f}" if abs(fig.value) < 1000 else f"{fig.value:,.0f}"
        goal = f"  target {fig.goal}" if fig.goal else ""
        tr.write_line(f"{fig.target:<3} {fig.name:<{width}}  {shown:>10} {fig.unit}{goal}")


def machine_description() -> str:
    model = "unknown CPU"
    sha_ni = False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("model name") and model == "unknown CPU":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and " sha_ni" in line:
                    sha_ni = True
    except OSError:
        pass
    ni = ", SHA-NI" if sha_ni else ""
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}{ni}"


# -- timing -------------------------------------------------------------------------------


def best_of(n: int, fn: Callable[[], object]) -> float:
    """The shortest wall time of ``n`` calls of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_of_each(n: int, contenders: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best of ``n`` wall times for each contender, run in turn (A B C A B C ...), so that a
    burst of load from a neighbour hurts every side alike rather than whichever ran then."""
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(n):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def load_note(target: str) -> None:
    """Record the 1-minute load average: on a 2-core machine a busy neighbour takes half of
    what a parallel contender can use, and a reader of the figures must know it."""
    one_minute = os.getloadavg()[0]
    record(target, "load average (1 min) when it started", one_minute, f"/ {os.cpu_count()} CPUs")


def warm(paths: Sequence[Path] | Path) -> None:
    """Read files once so that both sides of a comparison start from the page cache."""
    items = [paths] if isinstance(paths, Path) else list(paths)
    buf = bytearray(4 * MiB)
    for path in items:
        with open(path, "rb", buffering=0) as handle:
            while handle.readinto(buf):
                pass


def require_tool(name: str) -> str:
    """The path of a reference tool; a missing one fails the benchmark, never skips it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"reference tool {name!r} is not installed: the benchmark needs it to measure its "
            f"ratio (on Debian: apt-get install {'openssl' if name == 'openssl' else 'coreutils'})",
            pytrace=False,
        )
    return found


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    seconds: float
    max_rss: int  # bytes, the child's own peak resident set
    floor_rss: int  # bytes, the helper's own peak: a max_rss this low would mean nothing
    stdout: bytes
    stderr: bytes


# Run in a fresh, small interpreter: Linux carries the RSS of the pre-exec image (a fork of
# the parent) into the child's ru_maxrss, so forking from this ~150 MB pytest process would
# report 150 MB for any child. The helper is ~10 MB, well below what it measures.
_MEASURE = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
proc.returncode = os.waitstatus_to_exitcode(status)
# The helper's own peak as VmHWM: its ru_maxrss carries its parent's image as well.
own = 0
with open("/proc/self/status") as status_file:
    for line in status_file:
        if line.startswith("VmHWM:"):
            own = int(line.split()[1])
with open(sys.argv[1], "w") as out:
    json.dump({"rc": proc.returncode, "s": seconds, "rss": usage.ru_maxrss, "own": own}, out)
"""


def run_child(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> ChildRun:
    """Run ``cmd`` from a fresh helper; its wall time and own peak RSS (``wait4``, KiB)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        result = Path(scratch) / "usage.json"
        helper = [sys.executable, "-I", "-S", "-c", _MEASURE, str(result), *cmd]
        subprocess.run(helper, cwd=cwd, env=env, stdout=out, stderr=err, check=True)
        usage = json.loads(result.read_text())
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return ChildRun(usage["rc"], usage["s"], usage["rss"] * KiB, usage["own"] * KiB, stdout, stderr)


def relman_command() -> list[str]:
    """The ``relman`` a user runs: the console script beside this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "relman"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "relman"]


# -- data ---------------------------------------------------------------------------------


def write_random_file(path: Path, size: int, *, seed_block: bytes | None = None) -> str:
    """Write ``size`` bytes of real data (one random block repeated); return its SHA-256."""
    import hashlib

    block = seed_block if seed_block is not None else os.urandom(min(size, RANDOM_BLOCK))
    digest = hashlib.sha256()
    left = size
    with open(path, "wb", buffering=0) as handle:
        while left:
            part = memoryview(block)[: min(left, len(block))]
            handle.write(part)
            digest.update(part)
            left -= len(part)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def bench_dir() -> Iterator[Path]:
    """A scratch folder on /tmp for the big files, removed at the end of the run."""
    root = Path(tempfile.mkdtemp(prefix="relman-bench-", dir="/tmp"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class BigFile:
    path: Path
    size: int
    sha256: str


@pytest.fixture(scope="session")
def gib_file(bench_dir: Path) -> Iterator[BigFile]:
    """One 1 GiB file of real (random) data, made once for the whole run."""
    folder = bench_dir / "one-gib"
    folder.mkdir()
    path = folder / "artifact-1g.bin"
    sha256 = write_random_file(path, GiB)
    try:
        yield BigFile(path, GiB, sha256)
    finally:
        path.unlink(missing_ok=True)


class Bench:
    """The helpers above, handed to the ``bench_*.py`` files as the ``bench`` fixture
    (a conftest is not importable by name when several folders have one)."""

    KiB = KiB
    MiB = MiB
    GiB = GiB
    record = staticmethod(record)
    best_of = staticmethod(best_of)
    best_of_each = staticmethod(best_of_each)
    load_note = staticmethod(load_note)
    warm = staticmethod(warm)
    require_tool = staticmethod(require_tool)
    run_child = staticmethod(run_child)
    relman_command = staticmethod(relman_command)
    write_random_file = staticmethod(write_random_file)


@pytest.fixture(scope="session")
def bench() -> type[Bench]:
    return Bench
