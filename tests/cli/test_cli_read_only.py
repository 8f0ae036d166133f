"""relman profile add --read-only: an auditor's profile, kept in profiles.toml and listed."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from relman import settings
from relman.errors import InputError


def test_read_only_profile_round_trip(relman_cli, relman_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    run = relman_cli(
        "profile", "add", "audit", "--kind", "local", "--url", folder,
        "--env", "dev=repo:libs-dev", "--read-only",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert run.out == f"added profile audit (local, {folder}); read-only (auditor mode)\n"
    assert relman_cli("profile", "add", "rm", "--kind", "local", "--url", folder).code == 0
    stored = tomllib.loads((relman_home / "config" / "profiles.toml").read_text())
    assert stored["profiles"]["audit"]["read_only"] is True
    assert "read_only" not in stored["profiles"]["rm"]  # the default is not written
    listed = json.loads(relman_cli("profile", "list", "--json").out)["profiles"]
    assert [p.get("read_only") for p in listed] == [True, None]
    text = relman_cli("profile", "list").out.splitlines()
    assert text[0] == f"audit  local  {folder}  read-only  environments: dev repo:libs-dev"
    assert "read-only" not in text[1]
    assert settings.get_profile("audit").read_only is True
    assert settings.get_profile("rm").read_only is False


def test_read_only_must_be_a_boolean(relman_home: Path) -> None:
    path = relman_home / "config" / "profiles.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[profiles.a]\nkind = "local"\nurl = "/x"\nread_only = "yes"\n')
    with pytest.raises(InputError, match=r"profile 'a' is malformed \(read_only is not true or"):
        settings.load_profiles()
