"""The audit log: signed hash chain, head file, every kind of tampering named, concurrency."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import re
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from relman import keystore, paths
from relman.errors import InputError, RelmanError, UsageError
from relman.release import audit, audit_lines
from relman.release.audit import AuditError, AuditLog, Entry
from relman.verify import truststore
from relman.verify.signatures.keys import load_public_key
from tests.keyring_support import needs_keyring

INTENT = {"profile": "demo", "build": "app/12", "to": "qa", "plan": {"writes": ["copy"]}}


def pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def trust(name: str, key: Any) -> None:
    truststore.add(name, pem(key), origin=f"{name}.pem")


@pytest.fixture
def alice() -> ed25519.Ed25519PrivateKey:
    key = ed25519.Ed25519PrivateKey.generate()
    trust("alice", key)
    return key


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl")


def fill(log: AuditLog, key: Any, count: int = 5, name: str = "alice") -> list[Entry]:
    return [
        log.append(
            "promotion-intent", {"build": f"app/{n}", "n": n}, key_name=name, private_key=key
        )
        for n in range(1, count + 1)
    ]


def lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def rewrite(log: AuditLog, new: list[bytes]) -> None:
    log.path.write_bytes(b"".join(new))


def found(report: audit.ChainReport) -> list[tuple[int | None, str]]:
    return [(p.line, p.kind) for p in report.issues]


def edit(raw: bytes, **changes: Any) -> bytes:
    """The line with fields changed, still written canonically (the signature left as it was)."""
    doc = json.loads(raw)
    doc.update(changes)
    return rfc8785.dumps(doc) + b"\n"


# -- writing and reading back -------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        ed25519.Ed25519PrivateKey.generate(),
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
    ],
    ids=["ed25519", "p256", "p384"],
)
def test_entries_chain_and_verify(log: AuditLog, key: Any) -> None:
    trust("rm", key)
    first = log.append("promotion-intent", INTENT, key_name="rm", private_key=key)
    second = log.append(
        "promotion-outcome", {"intent": 1, "result": "done"}, key_name="rm", private_key=key
    )
    assert (first.seq, first.prev) == (1, audit.GENESIS)
    assert second.prev == audit.hashlib.sha256(lines(log)[0]).hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first.time)
    assert first.fingerprint.startswith("SHA256:") and first.key == "rm"
    read = log.entries()
    assert read == [first, second]
    assert [e.line for e in read] == [1, 2]
    assert lines(log)[0] == rfc8785.dumps(audit_lines.entry_fields(first)) + b"\n"
    report = log.verify()
    assert report.ok and report.problems == [] and report.entries == 2 and report.head == 2
    assert len(report.signers) == 1 and report.signers[0].startswith("rm (SHA256:")
    head = json.loads(log.head_path.read_bytes())
    assert head["seq"] == 2 and head["sha256"] == audit.hashlib.sha256(lines(log)[1]).hexdigest()


def test_default_path_is_in_the_data_dir(relman_home: Path, alice: Any) -> None:
    log = AuditLog()
    assert log.path == relman_home / "data" / "audit.jsonl"
    assert repr(log) == f"AuditLog({str(log.path)!r})"
    log.append("approval", {"build": "app/1"}, key_name="alice", private_key=alice)
    assert (relman_home / "data" / "audit.head").is_file()
    assert (relman_home / "data" / "audit.lock").is_file()
    assert log.verify().ok


def test_an_empty_or_absent_log_verifies(log: AuditLog) -> None:
    report = log.verify()
    assert report.ok and report.entries == 0 and report.head is None
    assert log.entries() == [] and log.pending() == []
    log.path.write_bytes(b"")
    assert log.verify().ok


def test_body_round_trips_as_json(log: AuditLog, alice: Any) -> None:
    entry = log.append(
        "approval", {"tuple": (1, 2), "text": "é", "n": 1.5}, key_name="alice", private_key=alice
    )
    assert entry.body == {"tuple": [1, 2], "text": "é", "n": 1.5}
    assert log.entries()[0].body == entry.body and log.verify().ok


@pytest.mark.parametrize(
    ("event", "body", "message"),
    [
        ("Promotion", {}, "audit event 'Promotion' is not allowed"),
        ("", {}, "audit event '' is not allowed"),
        ("x" * 65, {}, "is not allowed"),
        ("approval", ["a"], "must be a JSON object, not list"),
        ("approval", {"x": float("nan")}, "cannot be written as canonical JSON"),
        ("approval", {"x": 2**60}, "cannot be written as canonical JSON"),
        ("approval", {"x": b"bytes"}, "cannot be written as canonical JSON"),
    ],
)
def test_bad_event_or_body(log: AuditLog, alice: Any, event: str, body: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        log.append(event, body, key_name="alice", private_key=alice)
    assert not log.path.exists()


def test_summary() -> None:
    entry = Entry(
        1,
        "t",
        "e",
        {"build": "app/1", "n": 2, "ok": True, "none": None, "plan": {"x": 1}, "w": [1]},
        audit.GENESIS,
        "k",
        "f",
        "s",
    )
    assert entry.summary() == "build=app/1 n=2 ok=true none=null"
    assert entry.summary(width=10) == "build=app…"
    assert entry.to_json()["line"] == 0


def test_pending_intents(log: AuditLog, alice: Any) -> None:
    def add(event: str, body: dict[str, Any]) -> Entry:
        return log.append(event, body, key_name="alice", private_key=alice)

    done = add("promotion-intent", INTENT)
    open_one = add("promotion-intent", {**INTENT, "build": "app/13"})
    add("approval", {"build": "app/13"})
    add("promotion-outcome", {"intent": done.seq, "result": "done"})
    add("promotion-outcome", {"intent": True, "result": "done"})  # not a seq
    add("promotion-outcome", {"intent": 99, "result": "failed"})  # names no intent
    rollback = add("promotion-intent", {**INTENT, "rollback": True})
    other = add("cleanup-intent", {})
    assert log.pending() == [open_one, rollback]
    assert log.pending("promotion") == log.pending()
    assert log.pending("cleanup") == [other]
    add("promotion-outcome", {"intent": open_one.seq, "result": "undone"})
    assert log.pending() == [rollback]


# -- every kind of tampering is found and named -------------------------------------------


def test_edited_field(log: AuditLog, alice: Any) -> None:
    fill(log, alice)
    text = lines(log)
    text[1] = edit(text[1], body={"build": "app/99", "n": 2})
    rewrite(log, text)
    report = log.verify()
    assert not report.ok
    assert found(report) == [(2, "signature"), (3, "chain")]
    assert report.problems[0].startswith("line 2: entry 2 has a signature that does not verify")
    assert "alice (SHA256:" in report.problems[0]
    assert report.problems[1].startswith("line 3: entry 3's prev is not the SHA-256 of line 2")


def test_edited_signature(log: AuditLog, alice: Any) -> None:
    fill(log, alice)
    text = lines(log)
    other = json.loads(text[0])["signature"]
    text[1] = edit(text[1], signature=other)
    rewrite(log, text)
    assert found(log.verify()) == [(2, "signature"), (3, "chain")]
    text[1] = edit(text[1], signature="not base64!")
    rewrite(log, text)
    assert found(log.verify()) == [(2, "signature"), (3, "chain")]


def test_edited_spacing_is_not_canonical(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 3)
    text = lines(log)
    text[1] = json.dumps(json.loads(text[1])).encode() + b"\n"
    rewrite(log, text)
    report = log.verify()
    assert found(report) == [(2, "not-canonical"), (3, "chain")]
    assert "line 2: entry 2 is not written the way relman writes entries" in report.problems[0]


def test_deleted_middle_line(log: AuditLog, alice: Any) -> None:
    fill(log, alice)
    text = lines(log)
    del text[2]
    rewrite(log, text)
    report = log.verify()
    assert found(report) == [(3, "sequence")]
    assert report.problems == ["line 3: entry 3 is missing before it (deleted)"]


def test_deleted_lines_and_first_line(log: AuditLog, alice: Any) -> None:
    fill(log, alice)
    text = lines(log)
    rewrite(log, text[1:2] + text[4:])
    assert log.verify().problems == [
        "line 1: entry 1 is missing before it (deleted)",
        "line 2: entries 3-4 are missing before it (deleted)",
    ]


def test_deleted_last_line_is_tail_truncation(log: AuditLog, alice: Any) -> None:
    fill(log, alice)
    text = lines(log)
    rewrite(log, text[:-1])
    report = log.verify()
    assert found(report) == [(None, "truncated")]
    assert report.problems == [
        "the log ends at entry 4 (line 4), but its head records entry 5: "
        "1 entry at the end was removed"
    ]
    rewrite(log, text[:-2])
    assert "2 entries at the end were removed" in log.verify().problems[0]
    rewrite(log, [])
    assert log.verify().problems == [
        "the log is empty, but its head records entry 5: 5 entries at the end were removed"
    ]
    log.path.unlink()
    assert found(log.verify()) == [(None, "truncated")]


def test_reordered_lines(log: AuditLog, alice: Any) -> None:
    fill(log, alice)
    text = lines(log)
    text[1], text[2] = text[2], text[1]
    rewrite(log, text)
    report = log.verify()
    assert report.problems == [
        "line 2: entry 3 comes before entry 2 (line 3): lines are out of order",
        "line 3: entry 2 comes after entry 3: lines are out of order",
    ]


def test_reordered_last_lines_are_not_called_truncation(log: AuditLog, alice: Any) -> None:
    fill(log, alice)
    text = lines(log)
    text[3], text[4] = text[4], text[3]
    rewrite(log, text)
    assert found(log.verify()) == [(4, "sequence"), (5, "sequence")]


def test_moved_far_back(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 6)
    text = lines(log)
    rewrite(log, [text[0], text[4], text[1], text[2], text[3], text[5]])
    assert log.verify().problems[0] == (
        "line 2: entry 5 comes before entries 2-4 (line 3): lines are out of order"
    )
    rewrite(log, [text[0], text[4], text[1], text[3], text[5]])
    assert log.verify().problems[0] == (
        "line 2: entry 5 comes before entries 2, 4 (line 3): lines are out of order"
    )


def test_a_first_line_that_does_not_start_the_chain(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 2)
    text = lines(log)
    rewrite(log, [edit(text[0], prev="ab" * 32), text[1]])
    report = log.verify()
    assert found(report) == [(1, "chain"), (1, "signature"), (2, "chain")]
    assert report.problems[0] == (
        "line 1: entry 1 does not start the chain (its prev is not 00000000…)"
    )
    document = report.to_json()
    assert document["ok"] is False and document["entries"] == 2 and document["head"] == 2
    assert document["problems"][0] == {"line": 1, "kind": "chain", "detail": report.problems[0]}
    assert document["signers"] == [f"alice ({json.loads(text[0])['fingerprint'][:19]}…)"]


def test_inserted_forged_line(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 4)
    text = lines(log)
    head = log.head_path.read_bytes()
    forge(log, [{"x": 1}])
    log.head_path.write_bytes(head)
    line = edit(lines(log)[0], seq=3, prev=audit.hashlib.sha256(text[1]).hexdigest())
    rewrite(log, [*text[:2], line, *text[2:]])
    report = log.verify()
    assert found(report) == [(3, "unknown-key"), (4, "sequence")]
    assert "line 3: entry 3 is signed by key 'alice' (SHA256:" in report.problems[0]
    assert "neither a relman signing key nor in the trust store" in report.problems[0]
    assert report.problems[1] == (
        "line 4: entry 3 again (line 3 holds entry 3 too): a line was copied or inserted"
    )


def test_inserted_copy_of_a_genuine_line(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 4)
    text = lines(log)
    rewrite(log, [*text[:3], text[1], text[3]])
    assert log.verify().problems == [
        "line 4: entry 2 again (line 2 holds entry 2 too): a line was copied or inserted",
    ]


def forge(log: AuditLog, bodies: list[dict[str, Any]]) -> None:
    """Write ``log`` anew, entries and head, signed by a key that is trusted only meanwhile."""
    mallory = ed25519.Ed25519PrivateKey.generate()
    trust("mallory", mallory)
    forged = AuditLog(log.path.with_name("forged.jsonl"))
    for body in bodies:
        forged.append("approval", body, key_name="alice", private_key=mallory)
    truststore.remove("mallory")
    os.replace(forged.path, log.path)
    os.replace(forged.head_path, log.head_path)


def test_chain_re_signed_by_an_untrusted_key(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 3)
    forge(log, [e.body for e in log.entries()])
    report = log.verify()
    assert found(report) == [
        (1, "unknown-key"),
        (2, "unknown-key"),
        (3, "unknown-key"),
        (None, "head"),
    ]
    assert report.problems[-1].startswith("audit.head: the head is signed by key 'alice'")
    assert not report.signers


def test_truncated_last_line(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 3)
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-40])
    report = log.verify()
    assert found(report) == [(3, "incomplete"), (None, "truncated")]
    assert report.problems[0].startswith("line 3: incomplete (")
    assert "bytes without a line end): a write was interrupted, or the line was cut" in str(
        report.problems[0]
    )
    assert report.entries == 2


def test_garbage_lines_are_named(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 3)
    text = lines(log)
    text[1] = b"this is not json\n"
    rewrite(log, text)
    report = log.verify()
    assert report.problems == [
        "line 2: not an audit entry (not JSON)",
        "line 3: entry 3's prev is not the SHA-256 of line 2: line 2 was changed, or a line "
        "before it was replaced",
    ]
    scan = log.scan()
    assert [e.seq for e in scan.entries] == [1, 3] and scan.incomplete is None
    assert [str(p) for p in scan.unreadable] == ["line 2: not an audit entry (not JSON)"]
    with pytest.raises(InputError, match=r"audit.jsonl, line 2: not an audit entry \(not JSON\)"):
        log.entries()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: b"\n", "an empty line"),
        (lambda d: b"[1, 2]\n", "not a JSON object"),
        (lambda d: b"[" * 100_000 + b"\n", "not JSON"),
        (lambda d: edit(d, extra=1), "unexpected extra"),
        (
            lambda d: (
                rfc8785.dumps({k: v for k, v in json.loads(d).items() if k != "prev"}) + b"\n"
            ),
            "missing prev",
        ),
        (lambda d: edit(d, seq=0), "seq is not a whole number of 1 or more"),
        (lambda d: edit(d, seq=True), "seq is not a whole number of 1 or more"),
        (lambda d: edit(d, seq="1"), "seq is not a whole number of 1 or more"),
        (lambda d: edit(d, body=[]), "body is not a JSON object"),
        (lambda d: edit(d, prev="AB" * 32), "prev is not 64 hex digits"),
        (lambda d: edit(d, prev=None), "prev is not 64 hex digits"),
        (lambda d: edit(d, time=5), "time is not a string"),
        (lambda d: edit(d, signature=None), "signature is not a string"),
        (
            lambda d: d.replace(b'"n":1', b'"n":NaN'),
            "holds a value canonical JSON cannot (NaN, Infinity, a number too large)",
        ),
    ],
)
def test_lines_that_are_not_entries(log: AuditLog, alice: Any, change: Any, reason: str) -> None:
    fill(log, alice, 2)
    text = lines(log)
    text[0] = change(text[0])
    rewrite(log, text)
    report = log.verify()
    assert report.problems[0] == f"line 1: not an audit entry ({reason})"
    assert not report.ok and report.entries == 1


# -- the head -----------------------------------------------------------------------------


def test_missing_or_broken_head(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 2)
    good = log.head_path.read_bytes()
    log.head_path.unlink()
    assert log.verify().problems == [
        "audit.head is missing: the removal of the log's last lines cannot be ruled out"
    ]
    for data, said in [
        (b"garbage", "is not an audit head (not canonical JSON)"),
        (b'{"seq": NaN}', "is not an audit head (not canonical JSON)"),
        (b"[]", "is not an audit head (not the fields relman writes)"),
        (edit(good, seq=0), "is not an audit head (a field of the wrong type)"),
        (edit(good, sha256="x"), "is not an audit head (a field of the wrong type)"),
        (edit(good, key=1), "is not an audit head (a field of the wrong type)"),
    ]:
        log.head_path.write_bytes(data)
        assert log.verify().problems == [f"audit.head: {said}"], data
    log.head_path.write_bytes(edit(good, key="bob"))
    assert log.verify().problems == [
        "audit.head: the head has a signature that does not verify with alice "
        f"({json.loads(good)['fingerprint'][:19]}…): the entry or its signature was changed "
        "after it was signed"
    ]


def test_head_one_entry_behind_after_a_crash(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 2)
    before = log.head_path.read_bytes()
    log.append("approval", {}, key_name="alice", private_key=alice)
    log.head_path.write_bytes(before)  # the process stopped between the line and the head
    report = log.verify()
    assert report.ok and report.head == 2 and report.entries == 3
    log.append("approval", {}, key_name="alice", private_key=alice)
    assert log.verify().head == 4


def test_head_far_behind_or_naming_a_changed_line(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 2)
    before = log.head_path.read_bytes()
    fill(log, alice, 2)
    log.head_path.write_bytes(before)
    assert log.verify().problems == [
        "audit.head records entry 2, but the log goes on to entry 4: entries were appended "
        "without relman"
    ]
    text = lines(log)
    text[1] = edit(text[1], time="2020-01-01T00:00:00Z")
    rewrite(log, text)
    assert found(log.verify()) == [(2, "signature"), (2, "head"), (3, "chain"), (None, "head")]
    del text[1]
    rewrite(log, text)  # the entry the head names is gone: the gap says so
    assert found(log.verify()) == [(2, "sequence"), (None, "head")]


# -- appends refuse a log they would bury a problem in ---------------------------------------


def test_append_refuses_after_an_incomplete_line(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 2)
    log.path.write_bytes(log.path.read_bytes()[:-10])
    with pytest.raises(AuditError, match=r"line 2 is incomplete \(\d+ bytes without a line end"):
        log.append("approval", {}, key_name="alice", private_key=alice)
    assert AuditError.exit_code == 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", r"the last line \(entry 2\) is not the one its head records \(entry 3\)"),
        ("empty", "the log has no entries, but its head records entry 3"),
        ("no-head", "its head file audit.head is missing"),
        ("bad-head", r"audit.head: is not an audit head \(not canonical JSON\)"),
        ("forged-head", "the head is signed by key 'alice'"),
        ("garbage-tail", r"the last line is not an audit entry \(not JSON\)"),
    ],
)
def test_append_refuses_a_log_that_does_not_match_its_head(
    log: AuditLog, alice: Any, damage: str, message: str
) -> None:
    fill(log, alice, 3)
    text = lines(log)
    if damage == "truncate":
        rewrite(log, text[:2])
    elif damage == "empty":
        rewrite(log, [])
    elif damage == "no-head":
        log.head_path.unlink()
    elif damage == "bad-head":
        log.head_path.write_bytes(b"{")
    elif damage == "forged-head":
        forge(log, [{}, {}, {}])
        rewrite(log, text)
    else:
        rewrite(log, [*text, b"junk\n"])
    before = log.path.read_bytes()
    with pytest.raises(AuditError, match=message):
        log.append("approval", {}, key_name="alice", private_key=alice)
    assert log.path.read_bytes() == before


def test_append_refuses_a_key_verification_would_not_know(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 1)
    with pytest.raises(UsageError, match="key 'eve' is neither a relman signing key nor in"):
        log.append("approval", {}, key_name="eve", private_key=ed25519.Ed25519PrivateKey.generate())
    assert len(log.entries()) == 1


def test_long_lines_are_read_back_from_the_end(
    log: AuditLog, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_lines, "BLOCK", 64)
    log.append("approval", {"big": "x" * 500}, key_name="alice", private_key=alice)
    log.append("approval", {"big": "y" * 300}, key_name="alice", private_key=alice)
    log.append("approval", {}, key_name="alice", private_key=alice)
    assert [e.seq for e in log.entries()] == [1, 2, 3] and log.verify().ok


# -- repair -------------------------------------------------------------------------------


def test_repair_sets_an_incomplete_line_aside(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 2)
    assert log.repair(key_name="alice", private_key=alice) is None
    whole = log.path.read_bytes()
    fragment = b'{"body":{"build":"app/3"'
    log.path.write_bytes(whole + fragment)
    entry = log.repair(key_name="alice", private_key=alice)
    assert entry is not None and entry.event == "audit-repair" and entry.seq == 3
    assert entry.body == {
        "line": 3,
        "size": len(fragment),
        "sha256": audit.hashlib.sha256(fragment).hexdigest(),
        "kept": "audit.jsonl.line-3.partial",
    }
    assert (log.path.parent / "audit.jsonl.line-3.partial").read_bytes() == fragment
    assert log.path.read_bytes().startswith(whole)
    assert log.verify().ok and log.entries()[-1] == entry


def test_repair_of_a_log_that_is_only_a_fragment(log: AuditLog, alice: Any) -> None:
    log.path.write_bytes(b'{"bo')
    assert found(log.verify()) == [(1, "incomplete"), (None, "head")]
    entry = log.repair(key_name="alice", private_key=alice)
    assert entry is not None and entry.seq == 1 and entry.body["line"] == 1
    assert log.verify().ok


def test_repair_does_not_hide_a_cut(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 3)
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-40])  # the last line cut in the middle: the head still says 3
    with pytest.raises(AuditError, match="is not the one its head records"):
        log.repair(key_name="alice", private_key=alice)
    assert log.path.read_bytes() == data[:-40]


def test_repair_reports_a_file_it_cannot_shorten(
    log: AuditLog, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(log, alice, 1)
    log.path.write_bytes(log.path.read_bytes() + b"{")
    calls = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the first is the copy set aside, the second the log
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(InputError, match="audit.jsonl: cannot be repaired: Input/output error"):
        log.repair(key_name="alice", private_key=alice)


# -- files that cannot be read or written ----------------------------------------------------


def test_unreadable_and_unwritable(log: AuditLog, alice: Any, tmp_path: Path) -> None:
    log.path.mkdir()
    with pytest.raises(InputError, match="audit.jsonl: cannot be read"):
        log.verify()
    with pytest.raises(InputError, match="audit.jsonl: cannot be read"):
        log.append("approval", {}, key_name="alice", private_key=alice)
    folder = AuditLog(tmp_path / "f" / "audit.jsonl")
    folder.lock_path.parent.mkdir()
    folder.lock_path.mkdir()
    with pytest.raises(InputError, match="audit.lock: cannot lock the audit log"):
        folder.append("approval", {}, key_name="alice", private_key=alice)
    assert folder.verify().ok  # a reader goes on without the lock


def test_a_failed_write_is_one_line(
    log: AuditLog, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(InputError, match="cannot append to the audit log: No space left"):
        log.append("approval", {}, key_name="alice", private_key=alice)


# -- keys -----------------------------------------------------------------------------------


def test_keys_given_explicitly_and_key_kinds(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 2)
    alice_key = load_public_key(pem(alice), "alice-given")
    minisign = load_public_key(
        b"untrusted comment: x\nRWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\n", "m"
    )
    report = log.verify(keys=[minisign, alice_key])
    assert report.ok and report.signers == (alice_key.label,)
    assert found(log.verify(keys=[minisign])) == [
        (1, "unknown-key"),
        (2, "unknown-key"),
        (None, "head"),
    ]


def test_a_signing_key_with_an_unreadable_public_half(log: AuditLog, alice: Any) -> None:
    fill(log, alice, 1)
    index = paths.resolve().config / "keys.toml"
    paths.write_index(index, {"bob": {"kind": "ed25519", "public_key": "garbage"}})
    with pytest.raises(InputError, match="signing key 'bob': its public key in keys.toml"):
        log.verify()


# -- concurrency ----------------------------------------------------------------------------


def _append_many(path: str, private_pem: bytes, name: str, count: int) -> None:
    key = serialization.load_pem_private_key(private_pem, password=None)
    log = AuditLog(Path(path))
    for n in range(count):
        log.append("approval", {"writer": name, "n": n}, key_name=name, private_key=key)  # type: ignore[arg-type]


def test_two_processes_append_at_once(log: AuditLog) -> None:
    keys = {}
    for name in ("anna", "ben"):
        keys[name] = ed25519.Ed25519PrivateKey.generate()
        trust(name, keys[name])
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(
            target=_append_many,
            args=(
                str(log.path),
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
                name,
                40,
            ),
        )
        for name, key in keys.items()
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    report = log.verify()
    assert report.ok, report.problems
    entries = log.entries()
    assert [e.seq for e in entries] == list(range(1, 81))
    for name in keys:
        assert [e.body["n"] for e in entries if e.body["writer"] == name] == list(range(40))
    assert len(report.signers) == 2


# -- the OS keyring -------------------------------------------------------------------------


def with_keyring(test: Any) -> Any:
    for mark in needs_keyring:
        test = mark(test)
    return test


@with_keyring
def test_signed_with_a_key_from_the_keyring(log: AuditLog) -> None:
    record = keystore.generate("rm-anna", "ecdsa-p256")
    entry = log.append("promotion-intent", INTENT, key_name="rm-anna")
    assert entry.fingerprint == record.fingerprint and entry.key == "rm-anna"
    log.repair(key_name="rm-anna")  # nothing to repair: the keyring key is still loaded
    report = log.verify()
    assert report.ok and report.signers == (f"rm-anna ({record.fingerprint[:19]}…)",)
    assert "PRIVATE" not in log.path.read_text() + log.head_path.read_text()
    keystore.delete("rm-anna")  # its public half goes too: its entries prove nothing now
    assert found(log.verify()) == [(1, "unknown-key"), (None, "head")]
    with pytest.raises(RelmanError, match="no signing key named 'rm-anna'"):
        log.append("approval", {}, key_name="rm-anna")
