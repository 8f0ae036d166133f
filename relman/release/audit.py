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

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785

from relman import keystore, paths
from relman.errors import InputError, UsageError, VerificationError
from relman.release.audit_lines import (
    EVENT,
    GENESIS,
    HEAD_PAYLOAD_TYPE,
    PAYLOAD_TYPE,
    Entry,
    Line,
    Problem,
    check_sequence,
    count_lines,
    entry_fields,
    head_signature_problem,
    incomplete_line,
    known_keys,
    line_sha256,
    parse_head,
    parse_line,
    plain_body,
    plural,
    read_optional,
    read_tail,
    sign,
    signature_problem,
    usable_keys,
)
from relman.verify.signatures.base import TrustedKey
from relman.verify.signatures.keys import spki_fingerprint

__all__ = [
    "GENESIS",
    "HEAD_PAYLOAD_TYPE",
    "PAYLOAD_TYPE",
    "AuditError",
    "AuditLog",
    "ChainReport",
    "Entry",
    "Problem",
    "Scan",
    "known_keys",
]


class AuditError(VerificationError):
    """The log is not in a state an entry may be appended to (exit 1); the message says why."""


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
        if not isinstance(event, str) or not EVENT.fullmatch(event):
            raise UsageError(
                f"audit event {event!r} is not allowed: 1-64 lower-case letters, digits or '-', "
                "starting with a letter"
            )
        plain = plain_body(body)
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
        fields["signature"] = sign(PAYLOAD_TYPE, fields, key)
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
        head["signature"] = sign(HEAD_PAYLOAD_TYPE, head, key)
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
        last, fragment = read_tail(self.path)
        incomplete = None
        if fragment:
            number = count_lines(self.path) + 1
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
        entry = parse_line(last, 0)
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
        problem = head_signature_problem(head, known)
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
        data = read_optional(self.head_path)
        if data is None:
            return None
        head = parse_head(data)
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

    def _lines(self) -> tuple[list[Line], bytes, bytes | None]:
        """Every complete line, the bytes after the last line end, and the head's bytes."""
        with self._locked(reading=True):
            data = read_optional(self.path)
            head = read_optional(self.head_path)
        chunks = (data or b"").split(b"\n")
        rest = chunks.pop()
        lines = []
        for number, chunk in enumerate(chunks, start=1):
            raw = chunk + b"\n"
            parsed = parse_line(raw, number)
            if isinstance(parsed, str):
                lines.append(Line(number, raw, None, parsed))
            else:
                lines.append(Line(number, raw, parsed))
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
            incomplete=incomplete_line(len(lines) + 1, rest) if rest else None,
        )

    def entries(self) -> list[Entry]:
        """Every entry, in file order; :class:`~relman.errors.InputError` naming the first
        line that is not an entry. An incomplete last line is not an entry (see
        :meth:`scan`)."""
        scan = self.scan()
        if scan.unreadable:
            raise InputError(f"{self.path}, {scan.unreadable[0]}")
        return list(scan.entries)

    def anchor(self, entry: Entry) -> dict[str, Any]:
        """What a promotion record carries of its audit entry, so that the registry keeps
        evidence of this log: the log's identity (the SHA-256 of its first line), the entry's
        seq and the SHA-256 of its line. :func:`relman.release.anchors.check_anchors` finds a
        log cut back or rewritten below an anchored entry, even with an old head put back."""
        entries = self.scan().entries
        first = entries[0] if entries else entry
        return {"log": line_sha256(first), "seq": entry.seq, "sha256": line_sha256(entry)}

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
        known = known_keys() if keys is None else usable_keys(keys)
        lines, rest, head_bytes = self._lines()
        issues: list[Problem] = []
        signers: dict[str, str] = {}
        check_sequence(lines, issues)
        for ln in lines:
            if ln.entry is None:
                issues.append(
                    Problem(ln.number, "not-an-entry", f"not an audit entry ({ln.reason})")
                )
                continue
            entry = ln.entry
            if rfc8785.dumps(entry_fields(entry)) + b"\n" != ln.raw:
                issues.append(
                    Problem(
                        ln.number,
                        "not-canonical",
                        f"entry {entry.seq} is not written the way relman writes entries "
                        "(edited by hand?)",
                    )
                )
            problem = signature_problem(PAYLOAD_TYPE, entry_fields(entry), known)
            if problem is None:
                signers[entry.fingerprint] = known[entry.fingerprint].label
            else:
                kind, detail = problem
                issues.append(Problem(ln.number, kind, f"entry {entry.seq} {detail}"))
        if rest:
            issues.append(incomplete_line(len(lines) + 1, rest))
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
        lines: list[Line],
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
        head = parse_head(data)
        if isinstance(head, str):
            issues.append(Problem(None, "head", f"{name}: {head}"))
            return None
        problem = head_signature_problem(head, known)
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
                    f"{plural(count, 'entry', 'entries')} at the end "
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
