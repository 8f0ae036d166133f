"""relman audit show / verify / repair: text, --json, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from relman import keystore
from relman.release.audit import AuditLog
from relman.verify import truststore
from tests.keyring_support import needs_keyring


@pytest.fixture
def key() -> ed25519.Ed25519PrivateKey:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    truststore.add("rm-anna", pem, origin="rm-anna.pem")
    return private


@pytest.fixture
def log(key: Any) -> AuditLog:
    log = AuditLog()
    log.append(
        "promotion-intent",
        {"build": "app/12", "to": "qa", "plan": {"writes": []}},
        key_name="rm-anna",
        private_key=key,
    )
    log.append(
        "promotion-outcome", {"intent": 1, "result": "done"}, key_name="rm-anna", private_key=key
    )
    log.append("approval", {"build": "app/12", "to": "prod"}, key_name="rm-anna", private_key=key)
    return log


def lines_of(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def test_show_text(relman_cli, log: AuditLog) -> None:
    run = relman_cli("audit", "show")
    assert run.code == 0 and run.err == ""
    rows = run.out.splitlines()
    assert len(rows) == 3
    time = log.entries()[0].time
    assert rows[0] == f"    1  {time}  promotion-intent    rm-anna  build=app/12 to=qa"
    assert rows[1].endswith("promotion-outcome   rm-anna  intent=1 result=done")
    assert rows[2].startswith("    3  ") and "approval" in rows[2]
    run = relman_cli("audit", "show", "--limit", "1")
    assert run.out.splitlines() == rows[2:]


def test_show_json(relman_cli, log: AuditLog) -> None:
    run = relman_cli("audit", "show", "--json", "--limit", "2")
    assert run.code == 0
    document = json.loads(run.out)
    assert document["ok"] is True and document["path"] == str(log.path)
    assert [e["seq"] for e in document["entries"]] == [2, 3]
    assert document["entries"][0]["body"] == {"intent": 1, "result": "done"}
    assert set(document["entries"][0]) == {
        "line",
        "seq",
        "time",
        "event",
        "body",
        "prev",
        "key",
        "fingerprint",
        "signature",
    }
    assert document["problems"] == []


def test_show_an_empty_log(relman_cli, relman_home: Path) -> None:
    run = relman_cli("audit", "show")
    path = relman_home / "data" / "audit.jsonl"
    assert run.code == 0 and run.out == f"the audit log is empty ({path})\n"
    assert json.loads(relman_cli("audit", "show", "--json").out)["entries"] == []


def test_show_names_lines_that_are_not_entries(relman_cli, log: AuditLog) -> None:
    text = lines_of(log)
    log.path.write_bytes(text[0] + b"garbage\n" + text[2][:-5])
    run = relman_cli("audit", "show")
    assert run.code == 1
    assert run.out.splitlines()[1:] == [
        "line 2: not an audit entry (not JSON) (see 'relman audit verify')",
        "line 3: incomplete (5 bytes without a line end): a write was interrupted, or the line "
        "was cut (see 'relman audit verify')".replace("5 bytes", f"{len(text[2]) - 5} bytes"),
    ]
    document = json.loads(relman_cli("audit", "show", "--json").out)
    assert document["ok"] is False
    assert [(p["line"], p["kind"]) for p in document["problems"]] == [
        (2, "not-an-entry"),
        (3, "incomplete"),
    ]


def test_show_bad_limit(relman_cli) -> None:
    run = relman_cli("audit", "show", "--limit", "0")
    assert run.code == 2 and run.err == ("relman: --limit 0: give a number of entries, 1 or more\n")
    run = relman_cli("audit", "show", "--limit", "x")
    assert run.code == 2 and "invalid int value" in run.err


def test_verify_intact(relman_cli, log: AuditLog, key: Any) -> None:
    run = relman_cli("audit", "verify")
    assert run.code == 0, run.out
    rows = run.out.splitlines()
    assert rows[0] == f"audit log intact: 3 entries, head at entry 3 ({log.path})"
    assert rows[1].startswith("signed by rm-anna (SHA256:")
    document = json.loads(relman_cli("audit", "verify", "--json").out)
    assert document == {
        "ok": True,
        "entries": 3,
        "head": 3,
        "signers": [rows[1].removeprefix("signed by ")],
        "problems": [],
        "path": str(log.path),
    }


def test_verify_an_empty_log(relman_cli, relman_home: Path) -> None:
    run = relman_cli("audit", "verify")
    assert run.code == 0
    assert run.out == f"audit log intact: 0 entries ({relman_home / 'data' / 'audit.jsonl'})\n"


def test_verify_broken_names_each_problem_on_its_own_line(relman_cli, log: AuditLog) -> None:
    text = lines_of(log)
    log.path.write_bytes(text[1] + text[0])  # reordered, and the last line removed
    run = relman_cli("audit", "verify")
    assert run.code == 1
    assert run.out.splitlines() == [
        f"audit log BROKEN: 3 problems ({log.path})",
        "line 1: entry 2 comes before entry 1 (line 2): lines are out of order",
        "line 2: entry 1 comes after entry 2: lines are out of order",
        "the log ends at entry 2 (line 1), but its head records entry 3: 1 entry at the end was "
        "removed",
    ]
    document = json.loads(relman_cli("audit", "verify", "--json").out)
    assert document["ok"] is False and document["entries"] == 2
    assert [(p["line"], p["kind"]) for p in document["problems"]] == [
        (1, "sequence"),
        (2, "sequence"),
        (None, "truncated"),
    ]


def test_verify_one_problem(relman_cli, log: AuditLog) -> None:
    log.head_path.unlink()
    run = relman_cli("audit", "verify")
    assert run.code == 1
    assert run.out.splitlines()[0].startswith("audit log BROKEN: 1 problem (")


def test_unreadable_log_is_exit_2(relman_cli, relman_home: Path) -> None:
    (relman_home / "data" / "audit.jsonl").mkdir(parents=True)
    for args in (("audit", "verify"), ("audit", "verify", "--json"), ("audit", "show")):
        run = relman_cli(*args)
        assert run.code == 2 and run.out == ""
        assert run.err.startswith("relman: ") and "audit.jsonl: cannot be read" in run.err
        assert run.err.count("\n") == 1 and "Traceback" not in run.err


def test_repair_needs_a_key(relman_cli) -> None:
    run = relman_cli("audit", "repair")
    assert run.code == 2 and "--key" in run.err


def with_keyring(test: Any) -> Any:
    for mark in needs_keyring:
        test = mark(test)
    return test


@with_keyring
def test_repair_with_a_keyring_key(relman_cli) -> None:
    keystore.generate("rm-ben")
    log = AuditLog()
    log.append("approval", {"build": "app/1"}, key_name="rm-ben")
    run = relman_cli("audit", "repair", "--key", "rm-ben")
    assert (
        run.code == 0 and run.out == f"nothing to repair: the last line of {log.path} is complete\n"
    )
    log.path.write_bytes(log.path.read_bytes() + b'{"body"')
    run = relman_cli("audit", "repair", "--key", "rm-ben")
    assert run.code == 0, run.err
    assert (
        run.out == "set line 2 (7 bytes) aside in audit.jsonl.line-2.partial; recorded as entry 2\n"
    )
    assert relman_cli("audit", "verify").code == 0
    assert json.loads(relman_cli("audit", "repair", "--key", "rm-ben", "--json").out) == {
        "ok": True,
        "repaired": None,
    }
    log.path.write_bytes(log.path.read_bytes() + b"{")
    document = json.loads(relman_cli("audit", "repair", "--key", "rm-ben", "--json").out)
    assert document["ok"] is True and document["repaired"]["event"] == "audit-repair"
    log.path.write_bytes(lines_of(log)[0])
    run = relman_cli("audit", "repair", "--key", "rm-ben")
    assert run.code == 1 and "is not the one its head records" in run.err
    run = relman_cli("audit", "repair", "--key", "nobody")
    assert run.code == 2 and "no signing key named 'nobody'" in run.err
