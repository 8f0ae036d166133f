"""The audit log: a hash-chained, signed record of what relman did, one JSON line per event.

``audit.jsonl`` in the data dir holds one entry a line::

    {"body":{...},"event":"promotion-intent","fingerprint":"SHA256:…","key":"alice",
     "prev":"<64 hex>","seq":7,"signature":"<base64>","time":"2026-01-05T10:00:00Z"}

- ``seq`` counts from 1; ``prev`` is the SHA-256 of the previous line's exact bytes, its
  ``\\n`` included (64 zeros, :data:`GENESIS`, for the first line), so changing, removing,
  inserting or moving a line breaks the chain at the line after it.
- ``signature`` is a DSSE v1 signature (the PAE of payload type :data:`PAYLOAD_TYPE`) over the
  RFC 8785 canonical JSON of the entry without its signature, made with the acting key's
  private half from the OS keyring (:func:`relman.keystore.load_private`); ``key`` and
  ``fingerprint`` name that key. Every line is written in that canonical form, so a line
  edited by hand is found even where its meaning did not change.

Which public keys verify. An entry names its key by SPKI fingerprint and carries no public
key: verification looks the fingerprint up among relman's signing keys (the public halves in
``keys.toml``) and the trust store, and nowhere else. A key carried in the entry would prove
only that whoever wrote the line had *a* key; a chain re-signed from the first line to the last
by a key of the forger's own would then verify. Here it fails on every line with "signed by a
key that is neither a relman signing key nor in the trust store". To verify an old log after
its key was deleted, or another person's log, trust the signer's public key
(``relman trust add``) from a source you trust.

The head file. Removing the last lines of a hash chain leaves a shorter chain that is still
valid, so each append also writes ``audit.head`` (atomically, beside the log): the last
entry's ``seq`` and the SHA-256 of its line, signed like an entry (payload type
:data:`HEAD_PAYLOAD_TYPE`). A log that ends before its head, a missing head, or a head signed by
an unknown key is reported. The head may be one entry behind the log (a crash between writing
the line and writing the head); any other mismatch is a problem. Appends check the head first,
so an append can never bury a truncation under a fresh head. What the head cannot catch: an
attacker who kept an old head and cuts the log back to it; only a copy of the head kept
somewhere else would rule that out, and relman keeps none yet.

Appends are serialised across processes with ``fcntl.flock`` (``msvcrt.locking`` on Windows)
on ``audit.lock``; readers take it too, so they never read half a line. A line is written
with one ``O_APPEND`` write and fsynced. A last line without its ``\\n`` (a crash or a full
disk in the middle of a write) is named by :meth:`AuditLog.verify` and :meth:`AuditLog.scan`,
and appends refuse to go on after it; :meth:`AuditLog.repair` sets its bytes aside in a file
of their own and records that it did, in a signed entry, so nothing is dropped silently.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785

from relman import keystore, paths
from relman.errors import InputError, UsageError, VerificationError
from relman.verify.signatures.base import KeyFormatError, TrustedKey, shorten
from relman.verify.signatures.dsse import KEY_KINDS, pae, sign_envelope, verify_signature
from relman.verify.signatures.keys import load_crypto_key, load_public_key, spki_fingerprint

GENESIS = "0" * 64
PAYLOAD_TYPE = "application/vnd.relman.audit-entry+json"
HEAD_PAYLOAD_TYPE = "application/vnd.relman.audit-head+json"
FIELDS = frozenset({"seq", "time", "event", "body", "prev", "key", "fingerprint", "signature"})
HEAD_FIELDS = frozenset({"seq", "sha256", "key", "fingerprint", "signature"})
_EVENT = re.compile(r"[a-z][a-z0-9-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_BLOCK = 1 << 16


class AuditError(VerificationError):
    """The log is not in a state an entry may be appended to (exit 1); the message says why."""


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
class ChainReport:
    """The outcome of :meth:`AuditLog.verify`: intact when there is no problem.

    ``entries``: the lines that parse as entries; ``head``: the ``seq`` the head records;
    ``signers``: the labels of the keys whose signatures verified."""

    entries: int
    issues: tuple[Problem, ...] = ()
    head: int | None = None
    signers: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in self.issues]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "signers": list(self.signers),
            "problems": [p.to_json() for p in self.issues],
        }


@dataclass(frozen=True, slots=True)
class Scan:
    """The log as read: its entries, the lines that are not entries, an incomplete last line."""

    entries: tuple[Entry, ...]
    unreadable: tuple[Problem, ...] = ()
    incomplete: Problem | None = None


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    raw: bytes  # with its "\n"
    entry: Entry | None
    reason: str = ""


class AuditLog:
    """The log at ``path`` (default: the data dir's ``audit.jsonl``), its head and lock beside."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.resolve().audit_log
        self.head_path = self.path.with_suffix(".head")
        self.lock_path = self.path.with_suffix(".lock")

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    # -- writing ------------------------------------------------------------------------

    def append(
        self,
        event: str,
        body: Mapping[str, Any],
        *,
        key_name: str,
        private_key: keystore.PrivateKey | None = None,
    ) -> Entry:
        """Sign and append one entry; returns it as it will be read back.

        The key is ``key_name``'s private half from the OS keyring, unless ``private_key`` is
        given (a caller that holds the key unlocked already, such as the promotion engine).
        Raises :class:`AuditError` when the log ends in an incomplete line or does not match
        its head, :class:`~relman.errors.UsageError` for an event name or body that cannot be
        written."""
        if not isinstance(event, str) or not _EVENT.fullmatch(event):
            raise UsageError(
                f"audit event {event!r} is not allowed: 1-64 lower-case letters, digits or '-', "
                "starting with a letter"
            )
        plain = _plain_body(body)
        key = private_key if private_key is not None else keystore.load_private(key_name)
        with self._locked():
            seq, prev, _ = self._tail(key_name, key, allow_incomplete=False)
            return self._write(seq + 1, prev, event, plain, key_name, key)

    def check_appendable(
        self, *, key_name: str, private_key: keystore.PrivateKey | None = None
    ) -> None:
        """Raise what :meth:`append` would raise with this key, writing nothing: for a caller
        that must know the log will take its entry before it changes anything else."""
        key = private_key if private_key is not None else keystore.load_private(key_name)
        with self._locked():
            self._tail(key_name, key, allow_incomplete=False)

    def repair(
        self, *, key_name: str, private_key: keystore.PrivateKey | None = None
    ) -> Entry | None:
        """Set an incomplete last line aside and record that in a signed ``audit-repair``
        entry; None when the last line is complete (nothing to do).

        The bytes go to ``<log>.line-<N>.partial`` beside the log; the entry's body names the
        line, its size, its SHA-256 and that file. The head is checked first: a log cut short
        is refused here as by :meth:`append`."""
        key = private_key if private_key is not None else keystore.load_private(key_name)
        with self._locked():
            seq, prev, fragment = self._tail(key_name, key, allow_incomplete=True)
            if fragment is None:
                return None
            number, data = fragment
            kept = self.path.with_name(f"{self.path.name}.line-{number}.partial")
            paths.atomic_write(kept, data)
            try:
                with open(self.path, "r+b") as handle:
                    handle.truncate(handle.seek(0, os.SEEK_END) - len(data))
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise InputError(f"{self.path}: cannot be repaired: {exc.strerror}") from None
            body = {
                "line": number,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "kept": kept.name,
            }
            return self._write(seq + 1, prev, "audit-repair", body, key_name, key)

    def _write(
        self,
        seq: int,
        prev: str,
        event: str,
        body: dict[str, Any],
        key_name: str,
        key: keystore.PrivateKey,
    ) -> Entry:
        fingerprint = spki_fingerprint(key.public_key())
        fields: dict[str, Any] = {
            "seq": seq,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event": event,
            "body": body,
            "prev": prev,
            "key": key_name,
            "fingerprint": fingerprint,
        }
        fields["signature"] = _sign(PAYLOAD_TYPE, fields, key)
        line = rfc8785.dumps(fields) + b"\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise InputError(
                f"{self.path}: cannot append to the audit log: {exc.strerror}"
            ) from None
        head: dict[str, Any] = {
            "seq": seq,
            "sha256": hashlib.sha256(line).hexdigest(),
            "key": key_name,
            "fingerprint": fingerprint,
        }
        head["signature"] = _sign(HEAD_PAYLOAD_TYPE, head, key)
        paths.atomic_write(self.head_path, rfc8785.dumps(head) + b"\n")
        return Entry(**fields, line=0)

    def _tail(
        self, key_name: str, key: keystore.PrivateKey, *, allow_incomplete: bool
    ) -> tuple[int, str, tuple[int, bytes] | None]:
        """The last entry's seq and line hash, checked against the head, and an incomplete
        last line (its number and bytes) when ``allow_incomplete``. The signing key must be
        one verification will know, or the next append would find an unknown head."""
        known = known_keys()
        if spki_fingerprint(key.public_key()) not in known:
            raise UsageError(
                f"key {key_name!r} is neither a relman signing key nor in the trust store: "
                "what it signs in the audit log could not be verified"
            )
        last, fragment = _read_tail(self.path)
        incomplete = None
        if fragment:
            number = _count_lines(self.path) + 1
            if not allow_incomplete:
                raise AuditError(
                    f"{self.path}: line {number} is incomplete ({len(fragment)} bytes without a "
                    "line end: a write was interrupted, or the line was cut); nothing is appended "
                    "after it. Run 'relman audit verify', then 'relman audit repair --key NAME' "
                    "to set it aside"
                )
            incomplete = (number, fragment)
        head = self._read_head()
        if not last:
            if head is not None:
                raise AuditError(
                    f"{self.path}: the log has no entries, but its head records entry "
                    f"{head['seq']}: the log was cut short or replaced; run 'relman audit verify'"
                )
            return 0, GENESIS, incomplete
        entry = _parse_line(last, 0)
        if isinstance(entry, str):
            raise AuditError(
                f"{self.path}: the last line is not an audit entry ({entry}); "
                "run 'relman audit verify'"
            )
        if head is None:
            raise AuditError(
                f"{self.path}: its head file {self.head_path.name} is missing, so the removal "
                "of the last lines cannot be ruled out; run 'relman audit verify'"
            )
        problem = _head_signature_problem(head, known)
        if problem is not None:
            raise AuditError(f"{self.head_path}: {problem}; run 'relman audit verify'")
        sha = hashlib.sha256(last).hexdigest()
        matches = (head["seq"] == entry.seq and head["sha256"] == sha) or (
            head["seq"] == entry.seq - 1 and head["sha256"] == entry.prev
        )
        if not matches:
            raise AuditError(
                f"{self.path}: the last line (entry {entry.seq}) is not the one its head "
                f"records (entry {head['seq']}): lines were removed or changed; "
                "run 'relman audit verify'"
            )
        return entry.seq, sha, incomplete

    def _read_head(self) -> dict[str, Any] | None:
        data = _read_optional(self.head_path)
        if data is None:
            return None
        head = _parse_head(data)
        if isinstance(head, str):
            raise AuditError(f"{self.head_path}: {head}; run 'relman audit verify'")
        return head

    @contextlib.contextmanager
    def _locked(self, *, reading: bool = False) -> Iterator[None]:
        """Hold ``audit.lock``. A reader that cannot open it (no data dir yet, a read-only
        folder) goes on without it: nothing can append there either."""
        from relman.registry.storage import lock_fd

        fd = self._open_lock(reading)
        if fd is None:
            yield
            return
        try:
            lock_fd(fd)
            yield
        finally:
            os.close(fd)

    def _open_lock(self, reading: bool) -> int | None:
        try:
            if not reading:
                paths.ensure_dir(self.path.parent)
            return os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if reading:
                return None
            raise InputError(
                f"{self.lock_path}: cannot lock the audit log: {exc.strerror}"
            ) from None

    # -- reading ------------------------------------------------------------------------

    def _lines(self) -> tuple[list[_Line], bytes, bytes | None]:
        """Every complete line, the bytes after the last line end, and the head's bytes."""
        with self._locked(reading=True):
            data = _read_optional(self.path)
            head = _read_optional(self.head_path)
        chunks = (data or b"").split(b"\n")
        rest = chunks.pop()
        lines = []
        for number, chunk in enumerate(chunks, start=1):
            raw = chunk + b"\n"
            parsed = _parse_line(raw, number)
            if isinstance(parsed, str):
                lines.append(_Line(number, raw, None, parsed))
            else:
                lines.append(_Line(number, raw, parsed))
        return lines, rest, head

    def scan(self) -> Scan:
        """The entries that parse, the lines that do not, and an incomplete last line."""
        lines, rest, _ = self._lines()
        return Scan(
            entries=tuple(ln.entry for ln in lines if ln.entry is not None),
            unreadable=tuple(
                Problem(ln.number, "not-an-entry", f"not an audit entry ({ln.reason})")
                for ln in lines
                if ln.entry is None
            ),
            incomplete=_incomplete(len(lines) + 1, rest) if rest else None,
        )

    def entries(self) -> list[Entry]:
        """Every entry, in file order; :class:`~relman.errors.InputError` naming the first
        line that is not an entry. An incomplete last line is not an entry (see
        :meth:`scan`)."""
        scan = self.scan()
        if scan.unreadable:
            raise InputError(f"{self.path}, {scan.unreadable[0]}")
        return list(scan.entries)

    def pending(self, event_prefix: str = "promotion") -> list[Entry]:
        """The ``<prefix>-intent`` entries that no ``<prefix>-outcome`` entry names by its
        ``intent`` seq: work that began and was never finished or undone."""
        intents: dict[int, Entry] = {}
        for entry in self.entries():
            if entry.event == f"{event_prefix}-intent":
                intents[entry.seq] = entry
            elif entry.event == f"{event_prefix}-outcome":
                target = entry.body.get("intent")
                if isinstance(target, int) and not isinstance(target, bool):
                    intents.pop(target, None)
        return sorted(intents.values(), key=lambda e: e.seq)

    # -- verifying ----------------------------------------------------------------------

    def verify(self, keys: Iterable[TrustedKey] | None = None) -> ChainReport:
        """Check every line, the chain and the head; name each problem by line and kind.

        ``keys``: the public keys whose signatures count (default: :func:`known_keys`)."""
        known = known_keys() if keys is None else _index(keys)
        lines, rest, head_bytes = self._lines()
        issues: list[Problem] = []
        signers: dict[str, str] = {}
        _check_sequence(lines, issues)
        for ln in lines:
            if ln.entry is None:
                issues.append(
                    Problem(ln.number, "not-an-entry", f"not an audit entry ({ln.reason})")
                )
                continue
            entry = ln.entry
            if rfc8785.dumps(_fields(entry)) + b"\n" != ln.raw:
                issues.append(
                    Problem(
                        ln.number,
                        "not-canonical",
                        f"entry {entry.seq} is not written the way relman writes entries "
                        "(edited by hand?)",
                    )
                )
            problem = _signature_problem(PAYLOAD_TYPE, _fields(entry), known)
            if problem is None:
                signers[entry.fingerprint] = known[entry.fingerprint].label
            else:
                kind, detail = problem
                issues.append(Problem(ln.number, kind, f"entry {entry.seq} {detail}"))
        if rest:
            issues.append(_incomplete(len(lines) + 1, rest))
        head = self._check_head(lines, head_bytes, bool(rest), known, issues)
        issues.sort(key=lambda p: (p.line is None, p.line or 0))
        return ChainReport(
            entries=sum(1 for ln in lines if ln.entry is not None),
            issues=tuple(issues),
            head=head,
            signers=tuple(sorted(set(signers.values()))),
        )

    def _check_head(
        self,
        lines: list[_Line],
        data: bytes | None,
        incomplete: bool,
        known: Mapping[str, TrustedKey],
        issues: list[Problem],
    ) -> int | None:
        name = self.head_path.name
        if data is None:
            if lines or incomplete:
                issues.append(
                    Problem(
                        None,
                        "head",
                        f"{name} is missing: the removal of the log's last lines cannot be "
                        "ruled out",
                    )
                )
            return None
        head = _parse_head(data)
        if isinstance(head, str):
            issues.append(Problem(None, "head", f"{name}: {head}"))
            return None
        problem = _head_signature_problem(head, known)
        if problem is not None:
            issues.append(Problem(None, "head", f"{name}: {problem}"))
        seq: int = head["seq"]
        holders = {ln.entry.seq: ln for ln in lines if ln.entry is not None}
        last = max(holders, default=0)
        if seq > last:
            count = seq - last
            ends = f"ends at entry {last} (line {holders[last].number})" if last else "is empty"
            issues.append(
                Problem(
                    None,
                    "truncated",
                    f"the log {ends}, but its head records entry {seq}: "
                    f"{_plural(count, 'entry', 'entries')} at the end "
                    f"{'was' if count == 1 else 'were'} removed",
                )
            )
            return seq
        holder = holders.get(seq)
        if holder is not None and hashlib.sha256(holder.raw).hexdigest() != head["sha256"]:
            issues.append(
                Problem(
                    holder.number,
                    "head",
                    f"entry {seq} is not the line {name} recorded: changed after it was written",
                )
            )
        if last - seq > 1:
            issues.append(
                Problem(
                    None,
                    "head",
                    f"{name} records entry {seq}, but the log goes on to entry {last}: "
                    "entries were appended without relman",
                )
            )
        return seq


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
    return _index(found)


def _index(keys: Iterable[TrustedKey]) -> dict[str, TrustedKey]:
    """The keys a signature may be checked with (the kinds DSSE uses), first one per
    fingerprint."""
    index: dict[str, TrustedKey] = {}
    for key in keys:
        if key.kind in KEY_KINDS and load_crypto_key(key.material) is not None:
            index.setdefault(key.fingerprint, key)
    return index


def _sign(payload_type: str, fields: Mapping[str, Any], key: keystore.PrivateKey) -> str:
    envelope = sign_envelope(payload_type, rfc8785.dumps(dict(fields)), key)
    return str(envelope["signatures"][0]["sig"])


def _signature_problem(
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
    public = load_crypto_key(trusted.material)  # not None: _index keeps keys that load
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


def _head_signature_problem(head: Mapping[str, Any], known: Mapping[str, TrustedKey]) -> str | None:
    problem = _signature_problem(HEAD_PAYLOAD_TYPE, head, known)
    return None if problem is None else "the head " + problem[1]


# -- parsing ---------------------------------------------------------------------------------


def _plain_body(body: Mapping[str, Any]) -> dict[str, Any]:
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


def _fields(entry: Entry) -> dict[str, Any]:
    document = entry.to_json()
    del document["line"]
    return document


def _parse_line(raw: bytes, number: int) -> Entry | str:
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
    if not isinstance(doc["prev"], str) or not _HEX64.fullmatch(doc["prev"]):
        return "prev is not 64 hex digits"
    for name in ("time", "event", "key", "fingerprint", "signature"):
        if not isinstance(doc[name], str):
            return f"{name} is not a string"
    return Entry(**doc, line=number)


def _parse_head(data: bytes) -> dict[str, Any] | str:
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
        and _HEX64.fullmatch(head["sha256"]) is not None
        and all(isinstance(head[k], str) for k in ("key", "fingerprint", "signature"))
    )
    return head if sound else "is not an audit head (a field of the wrong type)"


def _check_sequence(lines: list[_Line], issues: list[Problem]) -> None:
    """Sequence numbers and the hash chain, line by line; a line whose seq is out of place
    is not also blamed for its ``prev`` (that follows from the same cause)."""
    later: dict[int, int] = {}
    for ln in reversed(lines):
        if ln.entry is not None:
            later[ln.entry.seq] = ln.number
    seen: dict[int, int] = {}
    expected = 1
    previous: _Line | None = None
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
            f"entry {seq} comes before {_entries(moved)} (line {later[moved[0]]}): "
            "lines are out of order"
        )
    return f"{_entries(list(gap))} {'is' if len(gap) == 1 else 'are'} missing before it (deleted)"


def _chain_detail(seq: int, previous: _Line | None) -> str:
    if previous is None:
        return f"entry {seq} does not start the chain (its prev is not {GENESIS[:8]}…)"
    return (
        f"entry {seq}'s prev is not the SHA-256 of line {previous.number}: line "
        f"{previous.number} was changed, or a line before it was replaced"
    )


def _entries(seqs: list[int]) -> str:
    if len(seqs) == 1:
        return f"entry {seqs[0]}"
    if seqs == list(range(seqs[0], seqs[-1] + 1)):
        return f"entries {seqs[0]}-{seqs[-1]}"
    return "entries " + ", ".join(map(str, seqs))


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _incomplete(number: int, rest: bytes) -> Problem:
    return Problem(
        number,
        "incomplete",
        f"incomplete ({_plural(len(rest), 'byte', 'bytes')} without a line end): a write was "
        "interrupted, or the line was cut",
    )


# -- files -----------------------------------------------------------------------------------


def _read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror}") from None


def _read_tail(path: Path) -> tuple[bytes, bytes]:
    """(the last complete line with its ``\\n``, the bytes after it), read from the end."""
    buffer = b""
    try:
        with open(path, "rb") as handle:
            position = handle.seek(0, os.SEEK_END)
            while position > 0:
                step = min(_BLOCK, position)
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


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
    return count
