"""Promotion records: signed statements of who moved which bytes from where to where.

A record is a DSSE envelope carrying an in-toto Statement v1:

- ``subject``: every artifact of the build, by name and SHA-256;
- ``predicateType``: ``https://relman.dev/promotion/v1``;
- ``predicate``: ``build`` (name, number, identity), ``from`` and ``to`` (environment names;
  ``from`` is null for the first environment), ``promoter`` (key name and fingerprint),
  ``time`` (UTC), ``checks`` (name, ok, detail) and ``registry``.

It is signed with the promoter's key and kept in the registry beside the build (the local
registry: ``.relman/promotions/<build>/<number>/<to>.dsse.json``). Reading a record verifies
it against the trust store; a record that does not verify is reported as such, never trusted.
Issue 6's promotion engine writes these; lineage reads them to label and check each edge.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from relman.errors import RelmanError
from relman.verify.signatures.base import SignatureFormatError, TrustedKey
from relman.verify.signatures.dsse import (
    DSSEVerificationError,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)
from relman.verify.signatures.keys import spki_fingerprint

PREDICATE_TYPE = "https://relman.dev/promotion/v1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


@dataclass(frozen=True, slots=True)
class PromotionRecord:
    """A promotion record as read back: its claims, and whether its signature verifies."""

    build_name: str
    build_number: str
    source: str | None
    target: str
    promoter: str
    fingerprint: str
    time: datetime | None
    subjects: Mapping[str, str]  # artifact name -> sha256
    ok: bool
    detail: str
    signer: str | None = None
    checks: tuple[Mapping[str, Any], ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)


def statement(
    *,
    build_name: str,
    build_number: str,
    identity: str | None,
    artifacts: Sequence[tuple[str, str]],
    source: str | None,
    target: str,
    promoter: str,
    fingerprint: str,
    checks: Sequence[Mapping[str, Any]] = (),
    registry: str = "",
    time: datetime | None = None,
) -> dict[str, Any]:
    """The in-toto Statement of one promotion (``artifacts``: ``(name, sha256)`` pairs)."""
    when = (time or datetime.now(UTC)).astimezone(UTC)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": sha}} for name, sha in artifacts],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "build": {"name": build_name, "number": build_number, "id": identity},
            "from": source,
            "to": target,
            "promoter": {"key": promoter, "fingerprint": fingerprint},
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "checks": [dict(c) for c in checks],
            "registry": registry,
        },
    }


def sign(document: Mapping[str, Any], private_key: Any) -> bytes:
    """The signed record (DSSE JSON bytes) of a statement, with an ECDSA or Ed25519 key."""
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    keyid = spki_fingerprint(private_key.public_key())
    envelope = sign_envelope(PAYLOAD_TYPE, payload, private_key, keyid=keyid)
    return json.dumps(envelope, indent=2).encode() + b"\n"


def read(
    data: bytes, keys: Sequence[TrustedKey], *, source: str, verified_by: str | None = None
) -> PromotionRecord:
    """Parse and verify a record; an unreadable record raises, a bad signature is ``ok=False``.

    ``verified_by``: the name of the trusted key that an earlier :func:`read` of these exact
    bytes, with these exact ``keys``, found the record signed by (lineage keeps that in its
    cache of verified signatures); the signature is then not checked again."""
    try:
        envelope = parse_envelope(json.loads(data), source)
    except (ValueError, UnicodeDecodeError):
        raise SignatureFormatError(f"{source}: is not a promotion record (not JSON)") from None
    try:
        document = json.loads(envelope.payload)
    except (ValueError, UnicodeDecodeError):
        raise SignatureFormatError(f"{source}: the record's payload is not JSON") from None
    claims = _claims(document, source)
    if verified_by is not None:
        detail = f"promotion to {claims['target']} signed by {verified_by}"
        return PromotionRecord(ok=True, detail=detail, signer=verified_by, raw=data, **claims)
    signer = None
    try:
        _, verified = verify_envelope(envelope, keys)
    except DSSEVerificationError as exc:
        ok, detail = False, f"{source}: {exc}"
    else:
        key = verified[0]
        signer = key.label
        if key.fingerprint != claims["fingerprint"]:
            ok = False
            detail = (
                f"{source}: signed by {key.label}, but it names promoter key "
                f"{claims['fingerprint']}"
            )
        else:
            ok, detail = True, f"promotion to {claims['target']} signed by {key.label}"
    return PromotionRecord(ok=ok, detail=detail, signer=signer, raw=data, **claims)


def _claims(document: Any, source: str) -> dict[str, Any]:
    try:
        if document.get("predicateType") != PREDICATE_TYPE:
            raise RelmanError("not a relman promotion statement")
        pred = document["predicate"]
        subjects = {str(s["name"]): str(s["digest"]["sha256"]).lower() for s in document["subject"]}
        when = pred.get("time")
        return {
            "build_name": str(pred["build"]["name"]),
            "build_number": str(pred["build"]["number"]),
            "source": None if pred.get("from") is None else str(pred["from"]),
            "target": str(pred["to"]),
            "promoter": str(pred["promoter"]["key"]),
            "fingerprint": str(pred["promoter"]["fingerprint"]),
            "time": _time(when) if isinstance(when, str) else None,
            "subjects": MappingProxyType(subjects),
            "checks": tuple(MappingProxyType(dict(c)) for c in pred.get("checks", ())),
        }
    except (KeyError, TypeError, AttributeError, RelmanError) as exc:
        raise SignatureFormatError(
            f"{source}: is not a relman promotion record ({type(exc).__name__}: {exc})"
        ) from None


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
