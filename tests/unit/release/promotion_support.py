"""A small real registry, trust store, audit log and keys for the promotion engine's tests.

Environments (from lineage_support): dev and qa are repositories (libs-dev, libs-qa), prod is
a label (``relman.environment``) on the qa copy. Keys: the CI key signs artifacts; rm-anna
promotes; rm-ben and rm-chen approve. Their public halves are in the trust store of the test's
RELMAN_HOME; the private halves stay in memory (:class:`Promoter` with a loader), except in
the tests that take them from the real keyring.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from relman.model import Capabilities, Profile, RepoPath
from relman.registry.local import LocalRegistry
from relman.release.audit import AuditLog
from relman.release.promotion import Engine, Promoter
from relman.verify import truststore
from relman.verify.signatures.keys import spki_fingerprint
from tests.unit.release.lineage_support import ENVIRONMENTS, World

PROD = "relman.environment"


def pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def promoter(name: str, key: Any) -> Promoter:
    return Promoter(name, spki_fingerprint(key.public_key()), loader=lambda: key)


def snapshot(root: Path) -> dict[str, str]:
    """Every file of a local registry with the SHA-256 of its bytes (the lock file aside: a
    reader may create it)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = Path(dirpath, name)
            rel = str(full.relative_to(root))
            if rel != os.path.join(".relman", "lock"):
                out[rel] = hashlib.sha256(full.read_bytes()).hexdigest()
    return out


@dataclass
class Setup:
    world: World
    home: Path
    ben: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    chen: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    @classmethod
    def create(cls, home: Path) -> Setup:
        setup = cls(World.create(home / "registry"), home)
        for name, key in (
            ("ci", setup.world.ci),
            ("rm-anna", setup.world.promoter),
            ("rm-ben", setup.ben),
            ("rm-chen", setup.chen),
        ):
            truststore.add(name, pem(key), origin=f"test {name}")
        return setup

    @property
    def registry(self) -> Any:
        return self.world.registry

    @property
    def root(self) -> Path:
        return self.world.registry.root

    @property
    def profile(self) -> Profile:
        registry = self.world.registry
        if isinstance(registry, LocalRegistry):
            return Profile("acme", "local", str(registry.root), environments=ENVIRONMENTS)
        return Profile("acme", "artifactory", registry.url, environments=ENVIRONMENTS)

    @property
    def log(self) -> AuditLog:
        return AuditLog(self.home / "audit.jsonl")

    @property
    def anna(self) -> Promoter:
        return promoter("rm-anna", self.world.promoter)

    def approver(self, name: str) -> Promoter:
        return promoter(f"rm-{name}", {"ben": self.ben, "chen": self.chen}[name])

    def engine(self, who: Promoter | None = None, registry: Any = None, **kwargs: Any) -> Engine:
        return Engine(
            registry if registry is not None else self.registry,
            self.profile,
            promoter=who if who is not None else self.anna,
            log=self.log,
            **kwargs,
        )


class Faulty:
    """A registry that passes everything to ``inner`` but fails its ``fail_at``-th write (1 is
    the first), as a dropped connection would; it is not a LocalRegistry, so the engine and
    lineage see only the Registry protocol."""

    WRITES = (
        "copy",
        "move",
        "set_properties",
        "delete_properties",
        "delete",
        "set_build_status",
        "put_promotion_record",
    )

    def __init__(
        self,
        inner: LocalRegistry,
        fail_at: int | None = None,
        capabilities: Capabilities | None = None,
        deletes: bool = True,
    ) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.writes = 0
        self._capabilities = capabilities
        if not deletes:
            self.delete = None  # the engine asks isinstance(registry, Deletes)

    def __repr__(self) -> str:
        return f"Faulty({self.inner!r})"

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities or self.inner.capabilities

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name not in self.WRITES:
            return target
        return self._counted(target)

    def _counted(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if not kwargs.get("dry_run"):
                self.writes += 1
                if self.writes == self.fail_at:
                    raise ConnectionResetError(104, "Connection reset by peer")
            return method(*args, **kwargs)

        return call


def items(registry: LocalRegistry, repo: str) -> Iterator[str]:
    return (loc.path for loc in registry.items(repo))


def qa_paths(number: int = 1, *names: str) -> set[str]:
    names = names or ("app.tgz",)
    return {f"acme/{number}/{n}{s}" for n in names for s in ("", ".sig")}


def ref(repo: str, path: str) -> RepoPath:
    return RepoPath(repo, path)
