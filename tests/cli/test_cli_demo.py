"""relman demo [DIR] [--json]: the summary, the refusals, and lineage's view of the demo."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from relman.cli import build_parser

KINDS = (
    "rebuilt",
    "overwritten",
    "untraceable",
    "unsigned",
    "bad-signature",
    "skipped-stage",
    "unverified-promotion",
)


def test_text_summary_in_the_default_folder(relman_cli, relman_home: Path) -> None:
    run = relman_cli("demo")
    assert run.code == 0, run.err
    assert run.err == ""
    folder = relman_home / "data" / "demo-registry"
    lines = run.out.splitlines()
    assert lines[0] == f"created a demo registry in {folder}"
    assert lines[1] == (
        "  profile demo (local): dev=repo:dev-local -> qa=repo:qa-local -> "
        "staging=repo:staging-local -> prod=repo:prod-local"
    )
    assert lines[2].startswith("  3 applications, 40 builds, ")
    for kind in KINDS:
        assert any(line.startswith(f"    {kind} ") for line in lines), kind
    assert "trusted keys added: demo-ci (SHA256:" in run.out
    assert "private keys were discarded" in run.out
    assert "  relman lineage --profile demo " in run.out
    assert lines[-1].startswith("  relman ") and "open the app" in lines[-1]
    assert (folder / ".relman" / "registry.json").is_file()


def test_json_output(relman_cli, tmp_path: Path) -> None:
    run = relman_cli("demo", tmp_path / "reg", "--json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["ok"] is True
    assert data["dir"] == str(tmp_path / "reg")
    assert data["profile"] == "demo"
    assert 35 <= data["builds"] <= 45
    assert data["artifacts"] > 2 * data["builds"]
    assert data["promotions"] > 20
    assert [p["kind"] for p in data["planted"]] == list(KINDS)
    assert all(set(p) == {"kind", "build", "path", "detail"} for p in data["planted"])
    assert [t["name"] for t in data["trusted"]] == ["demo-ci", "demo-rm-anna", "demo-rm-ben"]


def test_refusals_are_one_line_exit_2(relman_cli, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    run = relman_cli("demo", tmp_path / "full")
    assert run.code == 2 and run.out == ""
    assert (
        run.err == f"relman: demo: {tmp_path / 'full'} is not empty; give a new or empty folder\n"
    )
    assert relman_cli("demo", tmp_path / "one").code == 0
    run = relman_cli("demo", tmp_path / "two", "--json")
    assert run.code == 2 and run.out == "" and len(run.err.splitlines()) == 1
    assert "profile 'demo' exists already" in run.err
    assert not (tmp_path / "two").exists()


def _has_lineage_command() -> bool:
    if importlib.util.find_spec("relman.release.lineage") is None:
        return False
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return "lineage" in (sub.choices or {})


@pytest.mark.skipif(
    not _has_lineage_command(),
    reason="'relman lineage' or relman/release/lineage.py is not there yet (written "
    "alongside the demo); this checks that lineage finds each planted problem",
)
def test_lineage_finds_each_planted_problem_once(relman_cli, tmp_path: Path) -> None:
    assert relman_cli("demo", tmp_path / "reg").code == 0
    run = relman_cli("lineage", "--profile", "demo", "--json")
    assert run.code == 1, run.err  # findings
    findings = json.loads(run.out)["findings"]
    # One problem per kind. A rebuilt commit is a finding on each of its builds (a badge on
    # both nodes), with the same artifact and detail: that is still one problem.
    problems = Counter((f["kind"], f["artifact"], f["detail"]) for f in findings)
    assert Counter(kind for kind, _, _ in problems) == dict.fromkeys(KINDS, 1), findings
    assert all(n == 1 or kind == "rebuilt" for (kind, _, _), n in problems.items()), findings


def test_if_no_profile_makes_the_demo_once(relman_cli, relman_home) -> None:
    """`make run` calls `relman demo --if-no-profile` before opening the app."""
    first = relman_cli("demo", "--if-no-profile", "--json")
    assert first.code == 0, first.err
    assert json.loads(first.out)["profile"] == "demo"
    again = relman_cli("demo", "--if-no-profile", "--json")
    assert again.code == 0 and json.loads(again.out) == {"ok": True, "created": False}
