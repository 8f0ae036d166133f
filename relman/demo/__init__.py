"""``relman demo``: a realistic local registry to try relman on, with a profile ``demo``.

What it makes (in ``DIR``, by default ``<data dir>/demo-registry``):

- repositories ``dev-local``, ``qa-local``, ``staging-local``, ``prod-local``, and the profile
  ``demo`` (kind local) with environments dev, qa, staging and prod in those repositories;
- three applications, payments-api (tar.gz), web-frontend (tar.gz) and ledger-worker (jar),
  with 40 builds over the six weeks up to now: sequential numbers per app, commits on main,
  release and feature branches, build-info records (commit, branch, message, start time, every
  artifact's SHA-256/SHA-1/MD5), 2-4 small real files per build, deployed to
  ``dev-local/<app>/<version>-<number>/`` with jf-upload properties;
- beside each file a cosign signature ``.sig`` and SLSA v1 provenance ``.intoto.jsonl`` by a
  demo CI key, copied along wherever the file goes;
- promotions dev -> qa -> staging -> prod (most builds stay in dev, a few per app reach
  prod, the newest of them a few days ago), each a copy plus a promotion record signed by a
  release manager (anna or ben).

The trust store gets the public keys as ``demo-ci``, ``demo-rm-anna`` and ``demo-rm-ben``; the
private keys exist only while the demo is made. The demo is evidence to inspect, not a
signing setup.

Planted problems, exactly one of each finding lineage reports:

- ``rebuilt``: payments-api 10 is a re-run of build 9 on the same commit; its tarball has
  different bytes under the same name;
- ``overwritten``: ledger-worker 6's jar (and its sidecars) were re-uploaded with new bytes
  after its build record was published; the registry's digests are the new ones, the record
  keeps the old SHA-256;
- ``untraceable``: a payments-api hotfix tarball put into qa-local by hand, with no build
  properties and no build record (signed, with provenance that names no commit);
- ``unsigned``: ledger-worker 9's jar has no ``.sig`` and no ``.intoto.jsonl``;
- ``bad-signature``: payments-api 12's tarball ``.sig`` is the signature of its SBOM;
- ``skipped-stage``: ledger-worker 5 went dev -> qa -> prod, with signed records, never staging;
- ``unverified-promotion``: payments-api 11 is in qa-local with no promotion record.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from relman import paths, settings
from relman.demo import plan
from relman.demo.evidence import Signer, new_signers
from relman.demo.make import Maker, Planted
from relman.errors import UsageError
from relman.model import Profile
from relman.registry.local import LocalRegistry
from relman.verify import truststore

PROFILE = "demo"
TRUST_NAMES = ("demo-ci", "demo-rm-anna", "demo-rm-ben")

__all__ = ["PROFILE", "TRUST_NAMES", "Demo", "Planted", "create", "default_dir"]


@dataclass(frozen=True, slots=True)
class Demo:
    """What :func:`create` made."""

    dir: Path
    profile: Profile
    apps: int
    builds: int
    artifacts: int
    promotions: int
    records: int
    planted: tuple[Planted, ...]
    trusted: tuple[tuple[str, str], ...]  # (name, fingerprint) of each key added


def default_dir() -> Path:
    return paths.resolve().data / "demo-registry"


def create(folder: str | os.PathLike[str] | None = None, *, now: datetime | None = None) -> Demo:
    """Make the demo in ``folder``; refuses (UsageError) before writing anything when the
    folder is not empty, a profile ``demo`` names another folder, or a demo trust name holds
    another key."""
    root = Path(folder).expanduser().absolute() if folder is not None else default_dir()
    when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    profile = settings.make_profile(
        PROFILE,
        "local",
        str(root),
        environments=[f"{env}=repo:{repo}" for env, repo in plan.REPOSITORIES.items()],
    )
    _check_folder(root)
    replace_profile = _check_profile(profile)
    signers = new_signers()
    already = _check_trust(signers)
    existed = root.is_dir()
    try:
        tally = Maker(LocalRegistry(root, create=True), signers, when).make()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        if existed:
            root.mkdir(parents=True, exist_ok=True)
        raise
    trusted = tuple(
        (s.name, truststore.add(s.name, s.public_pem, origin=f"relman demo ({s.name})").fingerprint)
        for s in signers
        if s.name not in already
    )
    del signers  # the private keys go no further than this
    if replace_profile:
        settings.remove_profile(PROFILE)
    settings.add_profile(profile)
    return Demo(
        dir=root,
        profile=profile,
        apps=len(plan.APPS),
        builds=tally.builds,
        artifacts=tally.artifacts,
        promotions=tally.promotions,
        records=tally.records,
        planted=tuple(tally.planted),
        trusted=trusted,
    )


def _check_folder(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise UsageError(f"demo: {root} is a file; give a new or empty folder")
    if root.is_dir() and any(root.iterdir()):
        raise UsageError(f"demo: {root} is not empty; give a new or empty folder")


def _check_profile(profile: Profile) -> bool:
    """True when a profile ``demo`` for this same folder exists (it is replaced)."""
    existing = settings.load_profiles().get(PROFILE)
    if existing is None:
        return False
    if existing.kind == "local" and Path(existing.url) == Path(profile.url):
        return True
    raise UsageError(
        f"demo: profile {PROFILE!r} exists already for {existing.url}; remove it with "
        f"'relman profile remove {PROFILE}' or give that folder"
    )


def _check_trust(signers: tuple[Signer, ...]) -> set[str]:
    """The demo trust names that hold their key already (skipped). A name that holds another
    key (from an earlier demo) stops the demo: the new signatures would not verify against it,
    and relman never replaces a trusted key quietly."""
    held = {key.name: key.fingerprint for key in truststore.trusted_keys()}
    taken = [s.name for s in signers if s.name in held and held[s.name] != s.fingerprint]
    if taken:
        remove = "; ".join(f"relman trust remove {name}" for name in taken)
        raise UsageError(
            f"demo: the trust store holds other keys as {', '.join(taken)} (from an earlier "
            f"demo?); remove them first ({remove})"
        )
    return {s.name for s in signers if s.name in held}
