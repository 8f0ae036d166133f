"""in-toto Statements and SLSA provenance: which artifact a signed statement names, and
where it came from.

A provenance file (``.intoto.jsonl``, ``.dsse.json``, ``.build.slsa``) holds one DSSE envelope
or Sigstore bundle per line, each wrapping an in-toto Statement. The signature is checked by
:mod:`~relman.verify.signatures.dsse` (trusted keys) or
:mod:`~relman.verify.signatures.sigstore_bundle` (keyless, expected identity); this module
reads the *verified* payload bytes they hand on and checks that the artifact's SHA-256 is one
of the statement's subjects, then extracts the lineage facts: ``commit``, ``source``, ``ref``,
``builder``, ``build_type``, ``invocation``, ``predicate_type``.

SLSA provenance v1 (``https://slsa.dev/provenance/v1``): the commit is the ``gitCommit`` of
``buildDefinition.resolvedDependencies``; SLSA v0.2: ``invocation.configSource.digest.sha1``,
then the ``materials``. Any other predicate type is checked for its subject only.

A file of several lines verifies when the line whose subject names the artifact verifies.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from relman.verify.signatures.base import (
    Artifact,
    Context,
    Pending,
    SignatureFormatError,
    SignatureResult,
)

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPES = frozenset(
    {"https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1"}
)
SLSA_V1 = "https://slsa.dev/provenance/v1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V01 = "https://slsa.dev/provenance/v0.1"
#: File names that hold provenance (DSSE envelopes or Sigstore bundles wrapping in-toto).
PROVENANCE_SUFFIXES = (".intoto.jsonl", ".intoto.json", ".dsse.json", ".dsse", ".build.slsa")

_COMMIT_DIGESTS = ("gitCommit", "sha1")


class StatementError(ValueError):
    """A verified payload is not a usable in-toto Statement (its message is the reason)."""


@dataclass(frozen=True, slots=True)
class Subject:
    name: str
    digests: Mapping[str, str]  # algorithm -> lower-case hex


@dataclass(frozen=True, slots=True)
class Statement:
    statement_type: str
    predicate_type: str
    subjects: tuple[Subject, ...]
    predicate: Mapping[str, Any]


def parse_statement(payload: bytes) -> Statement:
    """Read an in-toto Statement (v0.1 or v1) from payload bytes; :class:`StatementError` if not."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StatementError(f"the payload is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise StatementError("the payload is not an in-toto Statement (not a JSON object)")
    statement_type = doc.get("_type")
    if statement_type not in STATEMENT_TYPES:
        raise StatementError(f"the payload is not an in-toto Statement (_type {statement_type!r})")
    predicate_type = doc.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise StatementError("the in-toto Statement has no predicateType")
    raw_subjects = doc.get("subject")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        raise StatementError("the in-toto Statement names no subject")
    subjects: list[Subject] = []
    for entry in raw_subjects:
        digest = entry.get("digest") if isinstance(entry, dict) else None
        if not isinstance(digest, dict):
            raise StatementError("an in-toto subject has no digest")
        name = entry.get("name")
        digests = {str(k).lower(): str(v).lower() for k, v in digest.items() if isinstance(v, str)}
        subjects.append(Subject(name if isinstance(name, str) else "", digests))
    predicate = doc.get("predicate")
    return Statement(
        statement_type,
        predicate_type,
        tuple(subjects),
        predicate if isinstance(predicate, dict) else {},
    )


def matching_subject(statement: Statement, sha256: bytes) -> Subject | None:
    """The subject whose ``sha256`` digest is the artifact's, compared in constant time."""
    want = sha256.hex()
    for subject in statement.subjects:
        got = subject.digests.get("sha256")
        if got is not None and hmac.compare_digest(got, want):
            return subject
    return None


def claims_artifact(payload: bytes, sha256: bytes | None) -> bool:
    """Whether (unverified) payload bytes name the artifact: only used to pick a line."""
    if sha256 is None:
        return False
    try:
        return matching_subject(parse_statement(payload), sha256) is not None
    except StatementError:
        return False


def _get(doc: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ref_of(uri: str) -> str | None:
    _, sep, ref = uri.rpartition("@")
    return ref if sep and ref.startswith("refs/") else None


def _commit_of(digest: Any) -> str | None:
    for name in _COMMIT_DIGESTS:
        value = _text(_get(digest, name))
        if value:
            return value.lower()
    return None


def lineage_facts(statement: Statement) -> dict[str, str]:
    """``predicate_type`` and, for SLSA provenance, commit/source/ref/builder/build type."""
    facts: dict[str, str] = {"predicate_type": statement.predicate_type}
    pred = statement.predicate
    found: dict[str, str | None] = {}
    if statement.predicate_type == SLSA_V1:
        definition = _get(pred, "buildDefinition")
        found["builder"] = _text(_get(pred, "runDetails", "builder", "id"))
        found["build_type"] = _text(_get(definition, "buildType"))
        found["invocation"] = _text(_get(pred, "runDetails", "metadata", "invocationId"))
        deps = _get(definition, "resolvedDependencies")
        for dep in deps if isinstance(deps, list) else []:
            commit = _commit_of(_get(dep, "digest"))
            if commit:
                found["commit"] = commit
                found["source"] = _text(_get(dep, "uri"))
                break
        workflow = _get(definition, "externalParameters", "workflow")
        found["ref"] = _ref_of(found.get("source") or "") or _text(_get(workflow, "ref"))
        if not found.get("source"):
            found["source"] = _text(_get(workflow, "repository"))
    elif statement.predicate_type in (SLSA_V02, SLSA_V01):
        found["builder"] = _text(_get(pred, "builder", "id"))
        found["build_type"] = _text(_get(pred, "buildType"))
        found["invocation"] = _text(_get(pred, "metadata", "buildInvocationId"))
        config = _get(pred, "invocation", "configSource")
        commit = _commit_of(_get(config, "digest"))
        source = _text(_get(config, "uri"))
        if not commit:
            materials = _get(pred, "materials")
            for material in materials if isinstance(materials, list) else []:
                commit = _commit_of(_get(material, "digest"))
                if commit:
                    source = _text(_get(material, "uri"))
                    break
        found["commit"] = commit
        found["source"] = source
        found["ref"] = _ref_of(source or "")
    facts.update({k: v for k, v in found.items() if v})
    return facts


def short_commit(commit: str) -> str:
    return f"{commit[:8]}…" if len(commit) > 8 else commit


def check_statement(
    payload: bytes,
    artifact: Artifact,
    *,
    format: str,
    source: str,
    signer: str,
    fingerprint: str | None,
    extra_facts: Mapping[str, str] | None = None,
) -> SignatureResult:
    """The result for a *verified* in-toto payload: subject check, then lineage facts."""
    facts = dict(extra_facts or {})
    cert_commit = facts.pop("certificate_commit", None)
    fail = _Failer(format, source, signer, fingerprint, dict(facts))
    try:
        statement = parse_statement(payload)
    except StatementError as exc:
        return fail(f"provenance signed by {signer}, but {exc}")
    facts.update(lineage_facts(statement))
    sha256 = artifact.digests.get("sha256")
    subject = matching_subject(statement, sha256) if sha256 is not None else None
    if subject is None:
        names = ", ".join(s.name or "(unnamed)" for s in statement.subjects[:3])
        more = " …" if len(statement.subjects) > 3 else ""
        fail.facts = facts
        return fail(
            f"provenance signed by {signer} is about other files ({names}{more}): the "
            f"artifact's SHA-256 {sha256.hex() if sha256 else '(not computed)'} is not one of "
            "its subjects"
        )
    if cert_commit and facts.get("commit") and cert_commit.lower() != facts["commit"]:
        fail.facts = facts
        return fail(
            f"provenance signed by {signer} names commit {facts['commit']}, but the signing "
            f"certificate was issued for commit {cert_commit}"
        )
    if subject.name:
        facts["subject"] = subject.name
    return SignatureResult(
        ok=True,
        format=format,
        source=source,
        detail=describe(signer, facts),
        kind="provenance",
        signer=signer,
        fingerprint=fingerprint,
        facts=MappingProxyType(facts),
    )


def describe(signer: str, facts: Mapping[str, str]) -> str:
    parts = [f"provenance signed by {signer}: subject matches"]
    if "commit" in facts:
        parts.append(f"commit {short_commit(facts['commit'])}")
    if "source" in facts:
        parts.append(f"source {facts['source']}")
    if "builder" in facts:
        parts.append(f"builder {facts['builder']}")
    if facts.get("predicate_type") not in (SLSA_V1, SLSA_V02, SLSA_V01):
        parts.append(f"predicate {facts.get('predicate_type')} (subject checked only)")
    return ", ".join(parts)


class _Failer:
    def __init__(
        self,
        format: str,
        source: str,
        signer: str | None,
        fingerprint: str | None,
        facts: dict[str, str],
    ) -> None:
        self.format, self.source, self.signer, self.fingerprint = (
            format,
            source,
            signer,
            fingerprint,
        )
        self.facts = facts

    def __call__(self, detail: str) -> SignatureResult:
        return SignatureResult(
            ok=False,
            format=self.format,
            source=self.source,
            detail=detail,
            kind="provenance",
            signer=self.signer,
            fingerprint=self.fingerprint,
            facts=MappingProxyType(dict(self.facts)),
        )


# --- files of several lines ------------------------------------------------------------


class LinePending(Pending, Protocol):
    """A Pending for one line of a provenance file that can say whether it names the artifact."""

    def claims(self, artifact: Artifact) -> bool: ...


class FirstMatching:
    """Several lines: the first that verifies wins; else the failure of the line that claims
    the artifact; else the first line's failure."""

    def __init__(self, lines: Sequence[LinePending], source: str) -> None:
        self.lines = tuple(lines)
        self.source = source
        self.needs: frozenset[str] = frozenset().union(*(line.needs for line in self.lines))

    def finish(self, artifact: Artifact) -> SignatureResult:
        results: list[tuple[SignatureResult, bool]] = []
        for line in self.lines:
            result = line.finish(artifact)
            if result.ok:
                return result
            results.append((result, line.claims(artifact)))
        chosen = next((r for r, claimed in results if claimed), results[0][0])
        return chosen


def split_documents(data: bytes, source: str, what: str) -> list[tuple[int, Any]]:
    """The JSON documents of a file: one pretty-printed document, or one per line.

    Returns ``(line number, parsed object)``; raises :class:`SignatureFormatError` naming the
    file and the line that is not JSON."""
    if not data.strip():
        raise SignatureFormatError(f"{source}: is empty, not {what}")
    try:
        return [(1, json.loads(data))]
    except (UnicodeDecodeError, ValueError):
        pass
    docs: list[tuple[int, Any]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            docs.append((number, json.loads(line)))
        except (UnicodeDecodeError, ValueError):
            raise SignatureFormatError(
                f"{source}: line {number} is not JSON (truncated or garbage), not {what}"
            ) from None
    return docs


def sniff_documents(data: bytes) -> list[Any]:
    """Parsed documents for sniffing, or [] when the data is not JSON (never raises)."""
    head = data.lstrip()[:1]
    if head != b"{":
        return []
    try:
        return [doc for _, doc in split_documents(data, "", "")]
    except SignatureFormatError:
        return []


def is_envelope(doc: Any) -> bool:
    return isinstance(doc, dict) and "payloadType" in doc and "signatures" in doc


def is_bundle(doc: Any) -> bool:
    media = doc.get("mediaType") if isinstance(doc, dict) else None
    return isinstance(media, str) and media.startswith("application/vnd.dev.sigstore.bundle")


def is_key_bundle(doc: Any) -> bool:
    return is_bundle(doc) and isinstance(_get(doc, "verificationMaterial", "publicKey"), dict)


def payload_type_of(doc: Any) -> str | None:
    """The DSSE payload type of an envelope or of a bundle's ``dsseEnvelope``."""
    if is_bundle(doc):
        doc = _get(doc, "dsseEnvelope")
    value = _get(doc, "payloadType")
    return value if isinstance(value, str) else None


def is_in_toto(doc: Any) -> bool:
    return (is_envelope(doc) or (is_bundle(doc) and not is_key_bundle(doc))) and (
        payload_type_of(doc) == IN_TOTO_PAYLOAD_TYPE
    )


class ProvenanceFormat:
    """in-toto provenance files: DSSE envelopes (trusted keys) or keyless Sigstore bundles,
    one per line, each wrapping an in-toto Statement. Results have ``kind="provenance"`` and
    the ``format`` of the line that decided (``dsse`` or ``sigstore``)."""

    name = "in-toto"

    def sniff(self, data: bytes, filename: str) -> bool:
        docs = sniff_documents(data)
        return bool(docs) and any(is_in_toto(doc) for doc in docs)

    def prepare(self, data: bytes, source: str, context: Context) -> Pending:
        from relman.verify.signatures import dsse, sigstore_bundle

        docs = split_documents(data, source, "an in-toto provenance file")
        lines: list[LinePending] = []
        for number, doc in docs:
            where = source if len(docs) == 1 else f"{source}, line {number}"
            prepare: Callable[[Any, str, Context], LinePending]
            if is_envelope(doc):
                prepare = dsse.prepare_document
            elif is_bundle(doc) and not is_key_bundle(doc):
                prepare = sigstore_bundle.prepare_document
            else:
                raise SignatureFormatError(
                    f"{where}: is neither a DSSE envelope nor a keyless Sigstore bundle"
                )
            lines.append(prepare(doc, where, context))
        return combine(lines, source)


def combine(lines: Sequence[LinePending], source: str) -> Pending:
    """One Pending for the lines of a file."""
    return lines[0] if len(lines) == 1 else FirstMatching(lines, source)


FORMAT = ProvenanceFormat()
