"""The audit log's lines: what an entry and its head are, how they are signed, parsed and
checked in sequence, and how the end of the log file is read. :mod:`relman.release.audit`
builds the log on these."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785

from relman import keystore
from relman.errors import InputError, UsageError
from relman.verify.signatures.base import KeyFormatError, TrustedKey, shorten
from relman.verify.signatures.dsse import KEY_KINDS, pae, sign_envelope, verify_signature
from relman.verify.signatures.keys import load_crypto_key, load_public_key

GENESIS = "0" * 64
PAYLOAD_TYPE = "application/vnd.relman.audit-entry+json"
HEAD_PAYLOAD_TYPE = "application/vnd.relman.audit-head+json"
FIELDS = frozenset({"seq", "time", "event", "body", "prev", "key", "fingerprint", "signature"})
HEAD_FIELDS = frozenset({"seq", "sha256", "key", "fingerprint", "signature"})
EVENT = re.compile(r"[a-z][a-z0-9-]{0,63}")
HEX64 = re.compile(r"[0-9a-f]{64}")
BLOCK = 1 << 16


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the log; ``line`` is its line number in the file (1-based; 0 for an entry
    :meth:`AuditLog.append` returns)."""

    seq: int
    time: str
    event: str
    body: dict[str, Any]
    prev: str
    key: str
    fingerprint: str
    signature: str
    line: int = field(default=0, compare=False)

    def summary(self, width: int = 100) -> str:
        """The body's plain values (not lists or objects) as ``name=value``, cut to ``width``
        characters."""
        text = " ".join(
            f"{k}={v if isinstance(v, str) else json.dumps(v)}"
            for k, v in self.body.items()
            if not isinstance(v, list | dict)
        )
        return text if len(text) <= width else text[: width - 1] + "…"

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "seq": self.seq,
            "time": self.time,
            "event": self.event,
            "body": self.body,
            "prev": self.prev,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "signature": self.signature,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, and where: ``line`` is None for the head or the log as a whole.

    ``kind``: ``incomplete``, ``not-an-entry``, ``not-canonical``, ``sequence``, ``chain``,
    ``signature``, ``unknown-key``, ``head`` or ``truncated``."""

    line: int | None
    kind: str
    detail: str

    def __str__(self) -> str:
        return self.detail if self.line is None else f"line {self.line}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "kind": self.kind, "detail": str(self)}


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    raw: bytes  # with its "\n"
    entry: Entry | None
    reason: str = ""


# -- keys ------------------------------------------------------------------------------------


def known_keys() -> dict[str, TrustedKey]:
    """The public keys audit signatures count from, by fingerprint: relman's signing keys
    (public halves in ``keys.toml``), then the trust store's keys of the kinds DSSE uses."""
    from relman.verify import truststore

    found: list[TrustedKey] = []
    for record in keystore.list_keys():
        try:
            found.append(load_public_key(record.public_pem.encode(), record.name))
        except KeyFormatError:
            raise InputError(
                f"signing key {record.name!r}: its public key in keys.toml cannot be read"
            ) from None
    found.extend(truststore.trusted_keys())
    return usable_keys(found)


def usable_keys(keys: Iterable[TrustedKey]) -> dict[str, TrustedKey]:
    """The keys a signature may be checked with (the kinds DSSE uses), first one per
    fingerprint."""
    index: dict[str, TrustedKey] = {}
    for key in keys:
        if key.kind in KEY_KINDS and load_crypto_key(key.material) is not None:
            index.setdefault(key.fingerprint, key)
    return index


def sign(payload_type: str, fields: Mapping[str, Any], key: keystore.PrivateKey) -> str:
    envelope = sign_envelope(payload_type, rfc8785.dumps(dict(fields)), key)
    return str(envelope["signatures"][0]["sig"])


def signature_problem(
    payload_type: str, fields: Mapping[str, Any], known: Mapping[str, TrustedKey]
) -> tuple[str, str] | None:
    """None when ``fields["signature"]`` verifies with the known key it names, else
    (kind, what is wrong)."""
    fingerprint = fields["fingerprint"]
    trusted = known.get(fingerprint)
    if trusted is None:
        return (
            "unknown-key",
            f"is signed by key {fields['key']!r} ({shorten(fingerprint)}), which is neither "
            "a relman signing key nor in the trust store: its signature proves nothing",
        )
    unsigned = {k: v for k, v in fields.items() if k != "signature"}
    message = pae(payload_type, rfc8785.dumps(unsigned))
    public = load_crypto_key(trusted.material)  # not None: usable_keys keeps keys that load
    try:
        signature = base64.b64decode(fields["signature"], validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if public is None or not verify_signature(public, signature, message):
        return (
            "signature",
            f"has a signature that does not verify with {trusted.label}: the entry or its "
            "signature was changed after it was signed",
        )
    return None


def head_signature_problem(head: Mapping[str, Any], known: Mapping[str, TrustedKey]) -> str | None:
    problem = signature_problem(HEAD_PAYLOAD_TYPE, head, known)
    return None if problem is None else "the head " + problem[1]


# -- parsing ---------------------------------------------------------------------------------


def plain_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as it will read back from the log (lists for tuples), or a UsageError."""
    if not isinstance(body, Mapping):
        raise UsageError(f"an audit entry body must be a JSON object, not {type(body).__name__}")
    try:
        plain: dict[str, Any] = json.loads(rfc8785.dumps(dict(body)))
    except rfc8785.CanonicalizationError as exc:
        raise UsageError(
            f"the audit entry body cannot be written as canonical JSON: {exc}"
        ) from None
    return plain


def entry_fields(entry: Entry) -> dict[str, Any]:
    document = entry.to_json()
    del document["line"]
    return document


def line_sha256(entry: Entry) -> str:
    """The SHA-256 of the entry's line as the log holds it (canonical JSON and its line end):
    what the next entry's ``prev`` and a promotion record's anchor name."""
    return hashlib.sha256(rfc8785.dumps(entry_fields(entry)) + b"\n").hexdigest()


def parse_line(raw: bytes, number: int) -> Entry | str:
    """An :class:`Entry`, or why the line is not one."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return "not JSON" if raw.strip() else "an empty line"
    if not isinstance(doc, dict):
        return "not a JSON object"
    try:
        rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError:
        return "holds a value canonical JSON cannot (NaN, Infinity, a number too large)"
    if set(doc) != FIELDS:
        missing = sorted(FIELDS - set(doc))
        extra = sorted(set(doc) - FIELDS)
        said = [f"missing {', '.join(missing)}"] if missing else []
        said += [f"unexpected {', '.join(extra)}"] if extra else []
        return "; ".join(said)
    seq = doc["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return "seq is not a whole number of 1 or more"
    if not isinstance(doc["body"], dict):
        return "body is not a JSON object"
    if not isinstance(doc["prev"], str) or not HEX64.fullmatch(doc["prev"]):
        return "prev is not 64 hex digits"
    for name in ("time", "event", "key", "fingerprint", "signature"):
        if not isinstance(doc[name], str):
            return f"{name} is not a string"
    return Entry(**doc, line=number)


def parse_head(data: bytes) -> dict[str, Any] | str:
    try:
        head = json.loads(data)
        rfc8785.dumps(head)
    except (ValueError, RecursionError):
        return "is not an audit head (not canonical JSON)"
    if not isinstance(head, dict) or set(head) != HEAD_FIELDS:
        return "is not an audit head (not the fields relman writes)"
    seq = head["seq"]
    sound = (
        isinstance(seq, int)
        and not isinstance(seq, bool)
        and seq >= 1
        and isinstance(head["sha256"], str)
        and HEX64.fullmatch(head["sha256"]) is not None
        and all(isinstance(head[k], str) for k in ("key", "fingerprint", "signature"))
    )
    return head if sound else "is not an audit head (a field of the wrong type)"


def check_sequence(lines: list[Line], issues: list[Problem]) -> None:
    """Sequence numbers and the hash chain, line by line; a line whose seq is out of place
    is not also blamed for its ``prev`` (that follows from the same cause)."""
    later: dict[int, int] = {}
    for ln in reversed(lines):
        if ln.entry is not None:
            later[ln.entry.seq] = ln.number
    seen: dict[int, int] = {}
    expected = 1
    previous: Line | None = None
    previous_misplaced = False
    for ln in lines:
        entry = ln.entry
        if entry is None:
            expected += 1
            previous, previous_misplaced = ln, False
            continue
        seq = entry.seq
        detail = _sequence_detail(seq, expected, seen, later)
        if detail is not None:
            issues.append(Problem(ln.number, "sequence", detail))
        elif not previous_misplaced:
            want = GENESIS if previous is None else hashlib.sha256(previous.raw).hexdigest()
            if entry.prev != want:
                issues.append(Problem(ln.number, "chain", _chain_detail(seq, previous)))
        seen.setdefault(seq, ln.number)
        expected = max(expected, seq + 1)
        previous, previous_misplaced = ln, detail is not None


def _sequence_detail(
    seq: int, expected: int, seen: Mapping[int, int], later: Mapping[int, int]
) -> str | None:
    """Why ``seq`` is out of place (None when it is the one ``expected``). Every seq in
    ``seen`` is below ``expected``; ``later``: where each seq first appears in the file."""
    if seq == expected:
        return None
    if seq in seen:
        return (
            f"entry {seq} again (line {seen[seq]} holds entry {seq} too): a line was copied "
            "or inserted"
        )
    if seq < expected:
        return f"entry {seq} comes after entry {expected - 1}: lines are out of order"
    gap = range(expected, seq)
    moved = [s for s in gap if s in later]
    if moved:
        return (
            f"entry {seq} comes before {entry_list(moved)} (line {later[moved[0]]}): "
            "lines are out of order"
        )
    return f"{entry_list(list(gap))} {'is' if len(gap) == 1 else 'are'} missing before it (deleted)"


def _chain_detail(seq: int, previous: Line | None) -> str:
    if previous is None:
        return f"entry {seq} does not start the chain (its prev is not {GENESIS[:8]}…)"
    return (
        f"entry {seq}'s prev is not the SHA-256 of line {previous.number}: line "
        f"{previous.number} was changed, or a line before it was replaced"
    )


def entry_list(seqs: list[int]) -> str:
    if len(seqs) == 1:
        return f"entry {seqs[0]}"
    if seqs == list(range(seqs[0], seqs[-1] + 1)):
        return f"entries {seqs[0]}-{seqs[-1]}"
    return "entries " + ", ".join(map(str, seqs))


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def incomplete_line(number: int, rest: bytes) -> Problem:
    return Problem(
        number,
        "incomplete",
        f"incomplete ({plural(len(rest), 'byte', 'bytes')} without a line end): a write was "
        "interrupted, or the line was cut",
    )


# -- files -----------------------------------------------------------------------------------


def read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror}") from None


def read_tail(path: Path) -> tuple[bytes, bytes]:
    """(the last complete line with its ``\\n``, the bytes after it), read from the end."""
    buffer = b""
    try:
        with open(path, "rb") as handle:
            position = handle.seek(0, os.SEEK_END)
            while position > 0:
                step = min(BLOCK, position)
                position -= step
                handle.seek(position)
                buffer = handle.read(step) + buffer
                end = buffer.rfind(b"\n")
                if end > 0 and buffer.rfind(b"\n", 0, end) >= 0:
                    break
    except FileNotFoundError:
        return b"", b""
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror}") from None
    end = buffer.rfind(b"\n")
    start = buffer.rfind(b"\n", 0, max(end, 0)) + 1
    return buffer[start : end + 1], buffer[end + 1 :]


def count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
    return count
