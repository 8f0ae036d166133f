"""Fill a local registry with the demo: builds, sidecars, promotions and the planted problems.

Everything goes through :class:`~relman.registry.local.LocalRegistry` as a CI server and a
promotion engine would use it, except two things the registry rightly refuses to do, which
the demo does to its files directly, the way the registry lays them out:

- item times: an item's ``created`` is set to when the demo's story says it was deployed or
  copied, not to the second the demo ran;
- the ``overwritten`` problem: new bytes (and their digests) over an artifact that a build
  record already describes, as a re-upload by another tool would leave them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from relman.demo import evidence, plan
from relman.demo.evidence import Signer
from relman.demo.plan import ENVIRONMENTS, REPOSITORIES, Artifact, Build
from relman.model import Agent, ArtifactRecord, RepoPath
from relman.paths import atomic_write
from relman.registry import buildinfo, storage
from relman.registry.local import META, LocalRegistry

SIDECARS = (".sig", ".intoto.jsonl")
#: The planted problems, one of each finding lineage reports, in the order it lists them.
KINDS = (
    "rebuilt",
    "overwritten",
    "untraceable",
    "unsigned",
    "bad-signature",
    "skipped-stage",
    "unverified-promotion",
)
_DELAYS = {"qa": (2, 20), "staging": (18, 40), "prod": (20, 60)}  # hours after the step before


@dataclass(frozen=True, slots=True)
class Planted:
    """One planted problem: its finding kind, where it is, and how it was made."""

    kind: str
    build: str | None
    path: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "build": self.build, "path": self.path, "detail": self.detail}


@dataclass
class Tally:
    builds: int = 0
    artifacts: int = 0
    promotions: int = 0
    records: int = 0
    planted: list[Planted] = field(default_factory=list)


class Maker:
    """Writes the demo into ``registry``; the signers are dropped with this object."""

    def __init__(
        self, registry: LocalRegistry, signers: tuple[Signer, Signer, Signer], now: datetime
    ) -> None:
        self.registry = registry
        self.ci, self.anna, self.ben = signers
        self.now = now
        self.tally = Tally()

    def make(self) -> Tally:
        for repo in REPOSITORIES.values():
            self.registry.create_repository(repo)
        for build in plan.builds(self.now):
            self._build(build)
        self._untraceable()
        self.tally.planted.sort(key=lambda p: KINDS.index(p.kind))
        return self.tally

    # -- one build ----------------------------------------------------------------------------

    def _build(self, build: Build) -> None:
        files = plan.artifacts(build)
        deployed = build.started + timedelta(minutes=9 + build.number % 7)
        props = {
            "build.name": build.app.name,
            "build.number": str(build.number),
            "build.timestamp": str(int(build.started.timestamp() * 1000)),
            "vcs.revision": build.commit,
            "vcs.branch": build.branch,
        }
        dev = REPOSITORIES["dev"]
        for art in files:
            self._put(dev, f"{build.folder}/{art.name}", art.data, props, deployed)
        for index in range(len(files)):
            self._sign(build, files, index, deployed)
        record = buildinfo.make_record(
            build.app.name,
            build.number,
            started=build.started,
            commit=build.commit,
            vcs_url=build.vcs_url,
            branch=build.branch,
            message=build.message,
            artifacts=[_record_of(build, art) for art in files],
            properties={"vcs.author": build.author, "buildInfo.env.CI": "true"},
            agent=Agent(plan.AGENT, "1.0"),
            build_agent=Agent("relman-demo", "1"),
        )
        self.registry.publish_build(record)
        self.tally.builds += 1
        self.tally.artifacts += len(files)
        if build.planted == "overwritten":
            later = min(deployed + timedelta(days=2, hours=3), self.now - timedelta(hours=1))
            self._overwrite(build, files[0], later)
        if build.retry:
            self._plant(
                "rebuilt",
                build,
                f"{REPOSITORIES['dev']}/{build.folder}/{files[0].name}",
                f"a re-run of build {build.number - 1} on the same commit {build.commit[:12]}: "
                "the same file name, different bytes",
            )
        identity = str(record.identity)
        subjects = [(a.name, hashlib.sha256(a.data).hexdigest()) for a in files]
        self._promote(build, files, identity, subjects)

    def _sign(self, build: Build, files: Sequence[Artifact], index: int, when: datetime) -> None:
        art = files[index]
        dev = REPOSITORIES["dev"]
        path = f"{build.folder}/{art.name}"
        if build.planted == "unsigned" and index == 0:
            self._plant(
                "unsigned",
                build,
                f"{dev}/{path}",
                "the signing step was skipped: no .sig and no .intoto.jsonl beside it",
            )
            return
        sha256 = hashlib.sha256(art.data).hexdigest()
        signed = self._file(dev, path)
        if build.planted == "bad-signature" and index == 0:
            # The signature of the build's SBOM, uploaded under the tarball's name.
            other = f"{build.folder}/{files[1].name}"
            signed = self._file(dev, other)
            self._plant(
                "bad-signature",
                build,
                f"{dev}/{path}.sig",
                f"the .sig is the signature of {files[1].name}, not of this file",
            )
        finished = build.started + timedelta(minutes=8)
        sig = evidence.signature(signed, self.ci)
        prov = evidence.provenance(
            art.name, sha256, self.ci, build=build, started=build.started, finished=finished
        )
        self._put(dev, f"{path}.sig", sig, None, when)
        self._put(dev, f"{path}.intoto.jsonl", prov, None, when)

    # -- promotions ----------------------------------------------------------------------------

    def _promote(
        self,
        build: Build,
        files: Sequence[Artifact],
        identity: str,
        subjects: Sequence[tuple[str, str]],
    ) -> None:
        path = list(ENVIRONMENTS[: ENVIRONMENTS.index(build.reach) + 1])
        if build.planted == "skipped-stage":
            path.remove("staging")
        steps = list(itertools.pairwise(path))
        times = self._times(build, [target for _, target in steps])
        for (source, target), when in zip(steps, times, strict=True):
            for art in files:
                for suffix in ("", *SIDECARS):
                    item = f"{build.folder}/{art.name}{suffix}"
                    if self._file(REPOSITORIES[source], item).is_file():
                        self.registry.copy(
                            RepoPath(REPOSITORIES[source], item),
                            RepoPath(REPOSITORIES[target], item),
                        )
                        self._backdate(REPOSITORIES[target], item, when)
            self.tally.promotions += 1
            if build.planted == "unverified-promotion" and target == "qa":
                self._plant(
                    "unverified-promotion",
                    build,
                    f"{REPOSITORIES['qa']}/{build.folder}/",
                    "copied to qa-local by hand: no promotion record",
                )
                continue
            checks = self._checks(build, files, source)
            if build.planted == "skipped-stage" and target == "prod":
                checks = checks[:-1]  # the old release script had no stage check
                self._plant(
                    "skipped-stage",
                    build,
                    f"{REPOSITORIES['prod']}/{build.folder}/",
                    "promoted qa -> prod without staging (signed records for both steps)",
                )
            promoter = self.anna if target == "prod" or build.number % 2 else self.ben
            data = evidence.promotion_record(
                build,
                identity,
                subjects,
                source=source,
                target=target,
                promoter=promoter,
                when=when,
                checks=checks,
            )
            self.registry.put_promotion_record(build.app.name, str(build.number), target, data)
            self.tally.records += 1

    def _times(self, build: Build, targets: Sequence[str]) -> list[datetime]:
        """When each step happened: increasing, after the build, before now."""
        rng = plan.rng_for(f"{plan.SEED}:{build.app.name}:{build.number}:promote")
        when = build.started + timedelta(minutes=30)
        out = []
        for k, target in enumerate(targets):
            low, high = _DELAYS[target]
            delay = timedelta(minutes=rng.randint(low * 60, high * 60))
            room = (self.now - timedelta(minutes=10) - when) / (len(targets) - k + 1)
            when += min(delay, room)
            out.append(when.replace(microsecond=0))
        return out

    @staticmethod
    def _checks(build: Build, files: Sequence[Artifact], source: str) -> list[dict[str, Any]]:
        return [
            {
                "name": "sha256",
                "ok": True,
                "detail": f"{len(files)} artifacts re-hashed: the SHA-256 of the build record",
            },
            {"name": "signatures", "ok": True, "detail": "every artifact signed by demo-ci"},
            {
                "name": "provenance",
                "ok": True,
                "detail": f"SLSA provenance by {evidence.BUILDER_ID} names {build.commit[:12]}",
            },
            {"name": "previous-stage", "ok": True, "detail": f"the build is in {source}"},
        ]

    # -- planted problems that are not part of a normal build -----------------------------------

    def _untraceable(self) -> None:
        art = plan.untraceable_artifact()
        qa = REPOSITORIES["qa"]
        path = f"payments-api/1.4.2-hotfix/{art.name}"
        when = self.now - timedelta(days=9, hours=5)
        self._put(qa, path, art.data, None, when)
        sha256 = hashlib.sha256(art.data).hexdigest()
        prov = evidence.provenance(
            art.name, sha256, self.ci, build=None, started=when, finished=when
        )
        self._put(qa, f"{path}.sig", evidence.signature(self._file(qa, path), self.ci), None, when)
        self._put(qa, f"{path}.intoto.jsonl", prov, None, when)
        self._plant(
            "untraceable",
            None,
            f"{qa}/{path}",
            "uploaded to qa-local by hand: no build properties, no build record",
        )

    def _overwrite(self, build: Build, art: Artifact, when: datetime) -> None:
        """A re-run of the publish step re-uploaded (and re-signed) the jar with new bytes,
        but the build record was not published again: it keeps the old SHA-256."""
        dev = REPOSITORIES["dev"]
        path = f"{build.folder}/{art.name}"
        data = plan.overwritten_bytes(build, art)
        self._replace(dev, path, data, when)
        sha256 = hashlib.sha256(data).hexdigest()
        self._replace(dev, f"{path}.sig", evidence.signature(self._file(dev, path), self.ci), when)
        prov = evidence.provenance(
            art.name, sha256, self.ci, build=build, started=when, finished=when
        )
        self._replace(dev, f"{path}.intoto.jsonl", prov, when)
        self._plant(
            "overwritten",
            build,
            f"{dev}/{path}",
            "re-uploaded with new bytes after the build record was published",
        )

    # -- registry files -----------------------------------------------------------------------

    def _plant(self, kind: str, build: Build | None, path: str, detail: str) -> None:
        name = f"{build.app.name}/{build.number}" if build is not None else None
        self.tally.planted.append(Planted(kind, name, path, detail))

    def _file(self, repo: str, path: str) -> Path:
        return self.registry.root / "repos" / repo / path

    def _meta(self, repo: str, path: str) -> Path:
        return self.registry.root / META / "items" / repo / f"{path}.json"

    def _put(
        self, repo: str, path: str, data: bytes, props: dict[str, str] | None, when: datetime
    ) -> None:
        self.registry.deploy(repo, path, data, props)
        self._backdate(repo, path, when)

    def _backdate(self, repo: str, path: str, when: datetime) -> None:
        meta = self._meta(repo, path)
        doc = json.loads(meta.read_bytes())
        doc["created"] = when.isoformat(timespec="microseconds")
        atomic_write(meta, storage.json_bytes(doc))
        stamp = when.timestamp()
        os.utime(self._file(repo, path), (stamp, stamp))

    def _replace(self, repo: str, path: str, data: bytes, when: datetime) -> None:
        """New bytes and digests at an existing path, as another tool's re-upload leaves them."""
        atomic_write(self._file(repo, path), data)
        meta = self._meta(repo, path)
        doc = json.loads(meta.read_bytes())
        doc["size"] = len(data)
        doc["checksums"] = _digests(data)
        atomic_write(meta, storage.json_bytes(doc))
        self._backdate(repo, path, when)


def _digests(data: bytes) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324 - a registry digest, not security
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - a registry digest, not security
    }


def _record_of(build: Build, art: Artifact) -> ArtifactRecord:
    digests = _digests(art.data)
    return ArtifactRecord(
        name=art.name,
        sha256=digests["sha256"],
        sha1=digests["sha1"],
        md5=digests["md5"],
        type=art.type,
        path=f"{build.folder}/{art.name}",
        module=f"com.acme:{build.app.name}:{build.version}-{build.number}",
    )
