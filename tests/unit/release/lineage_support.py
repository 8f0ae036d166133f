"""Small real local registries for the lineage tests: deploy, publish, sign, promote."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from relman.model import ArtifactRecord, BuildRecord, Environment, RepoPath
from relman.registry import buildinfo
from relman.registry.local import LocalRegistry
from relman.release import records
from relman.verify.signatures.base import Context, TrustedKey
from relman.verify.signatures.keys import load_public_key, spki_fingerprint

T0 = datetime(2025, 3, 2, 10, 10, tzinfo=UTC)
ENVIRONMENTS = (
    Environment("dev", "repository", repo="libs-dev"),
    Environment("qa", "repository", repo="libs-qa"),
    Environment("prod", "label", label="relman.environment"),
)
REPO = {"dev": "libs-dev", "qa": "libs-qa"}


def commit_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def public(key: Any, name: str) -> TrustedKey:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return load_public_key(pem, name)


def cosign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    curve = hashes.SHA384() if isinstance(key.curve, ec.SECP384R1) else hashes.SHA256()
    digest = hashlib.new(curve.name, data).digest()
    return base64.b64encode(key.sign(digest, ec.ECDSA(utils.Prehashed(curve)))) + b"\n"


@dataclass
class World:
    """A registry with libs-dev, libs-qa, scratch; a CI signing key and a promoter key."""

    registry: LocalRegistry
    ci: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    promoter: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    @classmethod
    def create(cls, root: Path) -> World:
        registry = LocalRegistry(root, create=True)
        for repo in ("libs-dev", "libs-qa", "scratch"):
            registry.create_repository(repo)
        return cls(registry)

    @property
    def context(self) -> Context:
        return Context(keys=(public(self.ci, "ci"), public(self.promoter, "rm-anna")))

    def build(
        self,
        name: str,
        number: int | str,
        files: Mapping[str, bytes],
        *,
        commit: str | None = "default",
        started: datetime | None = T0,
        sign: bool = True,
        hours: int = 0,
    ) -> BuildRecord:
        revision = commit_of(name) if commit == "default" else commit
        artifacts = []
        for filename, data in files.items():
            path = f"{name}/{number}/{filename}"
            props = {"build.name": name, "build.number": str(number)}
            if revision:
                props["vcs.revision"] = revision
            self.registry.deploy("libs-dev", path, data, props)
            if sign:
                self.registry.deploy("libs-dev", path + ".sig", cosign(self.ci, data))
            artifacts.append(
                ArtifactRecord(
                    filename, sha256=hashlib.sha256(data).hexdigest(), path=path, module=name
                )
            )
        record = buildinfo.make_record(
            name,
            number,
            started=started + timedelta(hours=hours) if started else None,
            commit=revision,
            artifacts=artifacts,
        )
        self.registry.publish_build(record)
        return record

    def record(
        self,
        build: BuildRecord,
        target: str,
        source: str | None,
        *,
        key: Any = None,
        artifacts: list[tuple[str, str]] | None = None,
        filed_under: str | None = None,
        **claims: Any,
    ) -> None:
        signer = key or self.promoter
        fields: dict[str, Any] = {
            "build_name": build.name,
            "build_number": build.number,
            "identity": str(build.identity),
            "artifacts": artifacts
            if artifacts is not None
            else [(a.name, a.sha256) for a in build.artifacts],
            "source": source,
            "target": target,
            "promoter": "rm-anna",
            "fingerprint": spki_fingerprint(signer.public_key()),
            "time": T0 + timedelta(days=1),
        }
        fields.update(claims)
        data = records.sign(records.statement(**fields), signer)
        self.registry.put_promotion_record(build.name, build.number, filed_under or target, data)

    def copy(self, build: BuildRecord, source: str, target: str, *, move: bool = False) -> None:
        for a in build.artifacts:
            assert a.path is not None
            for suffix in ("", ".sig"):
                src = RepoPath(REPO[source], a.path + suffix)
                if suffix and not (self.registry.root / "repos" / str(src)).exists():
                    continue
                dst = RepoPath(REPO[target], a.path + suffix)
                (self.registry.move if move else self.registry.copy)(src, dst)

    def label(self, build: BuildRecord, repo: str, *envs: str) -> None:
        for a in build.artifacts:
            assert a.path is not None
            self.registry.set_properties(repo, a.path, {"relman.environment": list(envs)})

    def promote_all(self, build: BuildRecord) -> None:
        """dev -> qa (copy, record) -> prod (label on the qa copy, record)."""
        self.copy(build, "dev", "qa")
        self.record(build, "qa", "dev")
        self.label(build, "libs-qa", "prod")
        self.record(build, "prod", "qa")
