"""The demo's keys and the evidence they sign: cosign signatures, SLSA provenance, records.

The keys are made in memory for one run and dropped with it: only their public halves leave
this module (into the trust store), so the demo can be inspected and verified but never used
to sign anything new.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from relman.demo.plan import Build
from relman.keystore import PrivateKey
from relman.release import records
from relman.sign import IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT, cosign_signature
from relman.verify.signatures.dsse import sign_envelope
from relman.verify.signatures.keys import spki_fingerprint

SLSA_V1 = "https://slsa.dev/provenance/v1"
BUILDER_ID = "https://ci.example.com/relman-demo"
BUILD_TYPE = "https://ci.example.com/relman-demo/build/v1"
REGISTRY = "relman demo (local registry)"


@dataclass(frozen=True, slots=True)
class Signer:
    """A key made for this run: its trust store name, and the private half (never stored)."""

    name: str
    key: PrivateKey

    @property
    def fingerprint(self) -> str:
        return spki_fingerprint(self.key.public_key())

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def new_signers() -> tuple[Signer, Signer, Signer]:
    """The CI key (ECDSA P-256) and the two release managers' keys (P-256 and Ed25519)."""
    return (
        Signer("demo-ci", ec.generate_private_key(ec.SECP256R1())),
        Signer("demo-rm-anna", ec.generate_private_key(ec.SECP256R1())),
        Signer("demo-rm-ben", ed25519.Ed25519PrivateKey.generate()),
    )


def signature(path: Path, signer: Signer) -> bytes:
    """``FILE.sig`` as ``cosign sign-blob --key`` writes it."""
    return cosign_signature(path, signer.key)


def provenance(
    name: str,
    sha256: str,
    signer: Signer,
    *,
    build: Build | None,
    started: datetime,
    finished: datetime,
) -> bytes:
    """``FILE.intoto.jsonl``: SLSA v1 provenance for one file, in a DSSE envelope, one line.

    ``build`` None is a file built outside CI: the provenance names no commit.
    """
    definition: dict[str, Any] = {"buildType": BUILD_TYPE, "externalParameters": {}}
    run: dict[str, Any] = {
        "builder": {"id": BUILDER_ID},
        "metadata": {"startedOn": _utc(started), "finishedOn": _utc(finished)},
    }
    if build is not None:
        ref = f"refs/heads/{build.branch}"
        definition["externalParameters"] = {
            "workflow": {"repository": build.vcs_url, "ref": ref, "path": ".ci/build.yml"}
        }
        definition["resolvedDependencies"] = [
            {"uri": f"git+{build.vcs_url}@{ref}", "digest": {"gitCommit": build.commit}}
        ]
        run["metadata"]["invocationId"] = f"{BUILDER_ID}/{build.app.name}/{build.number}"
    else:
        run["builder"]["id"] = f"{BUILDER_ID}/workstation"
    statement = {
        "_type": IN_TOTO_STATEMENT,
        "subject": [{"name": name, "digest": {"sha256": sha256}}],
        "predicateType": SLSA_V1,
        "predicate": {"buildDefinition": definition, "runDetails": run},
    }
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    envelope = sign_envelope(IN_TOTO_PAYLOAD_TYPE, payload, signer.key, keyid=signer.fingerprint)
    return json.dumps(envelope, separators=(",", ":")).encode() + b"\n"


def promotion_record(
    build: Build,
    identity: str,
    subjects: Sequence[tuple[str, str]],
    *,
    source: str,
    target: str,
    promoter: Signer,
    when: datetime,
    checks: Sequence[Mapping[str, Any]],
) -> bytes:
    """A signed promotion record (relman.release.records), as the promotion engine writes."""
    statement = records.statement(
        build_name=build.app.name,
        build_number=str(build.number),
        identity=identity,
        artifacts=subjects,
        source=source,
        target=target,
        promoter=promoter.name,
        fingerprint=promoter.fingerprint,
        checks=checks,
        registry=REGISTRY,
        time=when,
    )
    return records.sign(statement, promoter.key)


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
