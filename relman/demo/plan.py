"""What the demo holds: its applications, their builds, and the bytes of every artifact.

Everything here is a pure function of :data:`SEED` and the builds' positions, so two runs make
the same commits, branches, messages and artifact bytes; only the times (the six weeks end
"now"), the keys and the signatures differ. No I/O here.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SEED = "relman-demo-1"
WEEKS = 6
ENVIRONMENTS = ("dev", "qa", "staging", "prod")
REPOSITORIES = {env: f"{env}-local" for env in ENVIRONMENTS}
GIT_URL = "https://git.example.com/acme/{app}.git"
AGENT = "relman-demo-ci"
#: Artifact bytes carry this time (like SOURCE_DATE_EPOCH), so they do not depend on "now".
_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

AUTHORS = (
    "Anna Kowalski <anna.kowalski@example.com>",
    "Ben Okafor <ben.okafor@example.com>",
    "Chen Wei <chen.wei@example.com>",
    "Dana Ruiz <dana.ruiz@example.com>",
    "Emil Strand <emil.strand@example.com>",
)


@dataclass(frozen=True, slots=True)
class App:
    name: str
    kind: str  # "tar.gz" or "jar"
    minor: str  # the major.minor its versions start from
    messages: tuple[str, ...]
    features: tuple[str, ...]
    #: One code per build, in build order: d dev, q qa, s staging, p prod; then the branch
    #: kind (m main, r release, f feature) and an optional planted problem after a colon.
    builds: tuple[str, ...]


APPS = (
    App(
        "payments-api",
        "tar.gz",
        "1.4",
        (
            "Add idempotency keys to POST /payments",
            "Retry card captures on gateway timeouts",
            "Validate IBAN checksums before submitting transfers",
            "Log the settlement batch id with every capture",
            "Bump the HTTP client to 4.2 for connection pooling fixes",
            "Reject refunds larger than the captured amount",
            "Expose /healthz/ready for the load balancer",
            "Fix rounding of JPY amounts in fee calculation",
        ),
        ("feature/refund-webhooks", "feature/idempotency-keys", "feature/sepa-instant"),
        (
            "qm", "df", "sm", "pm", "dm", "qm", "df", "pr",
            "dm:rebuilt", "qm:rebuilt", "qm:unverified-promotion", "dm:bad-signature",
            "pr", "dm", "df",
        ),
    ),
    App(
        "web-frontend",
        "tar.gz",
        "2.11",
        (
            "Show the settlement date on the payment detail page",
            "Lazy-load the reports dashboard",
            "Fix focus order in the refund dialog",
            "Translate error banners into German and French",
            "Upgrade the charting library",
            "Cache the currency list for a day",
            "Add a dark theme toggle to the header",
        ),
        ("feature/dark-theme", "feature/new-reports"),
        ("qm", "sm", "pr", "df", "dm", "qm", "sm", "pm", "df", "qm", "pr", "dm", "df"),
    ),
    App(
        "ledger-worker",
        "jar",
        "3.2",
        (
            "Post reversals in the same ledger batch as their original",
            "Reconcile daily balances against the bank statement",
            "Process ledger events in commit order per account",
            "Alert when the ledger queue lags more than five minutes",
            "Upgrade Kafka client to 3.7",
            "Fix double-booking after a consumer rebalance",
        ),
        ("feature/multi-currency", "feature/batch-close"),
        (
            "qm", "sm", "pr", "df", "pm:skipped-stage", "dm:overwritten", "qm", "sr",
            "dm:unsigned", "pr", "qm", "df",
        ),
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Build:
    app: App
    number: int
    commit: str
    branch: str
    message: str
    author: str
    started: datetime
    version: str  # the project version; the folder is <version>-<number>
    reach: str  # the last environment: dev, qa, staging or prod
    planted: str | None
    retry: int = 0  # > 0: a re-run of the build before it, on the same commit

    @property
    def folder(self) -> str:
        return f"{self.app.name}/{self.version}-{self.number}"

    @property
    def vcs_url(self) -> str:
        return GIT_URL.format(app=self.app.name)


def rng_for(seed: str) -> random.Random:
    """A generator of reproducible demo data (never of anything secret)."""
    return random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret


_REACH = {"d": "dev", "q": "qa", "s": "staging", "p": "prod"}


def builds(now: datetime) -> list[Build]:
    """Every build of every app, oldest first within an app, spread over six weeks to ``now``."""
    out: list[Build] = []
    span = timedelta(weeks=WEEKS)
    for app in APPS:
        count = len(app.builds)
        patch = 0
        previous: Build | None = None
        for index, code in enumerate(app.builds):
            spec, _, planted = code.partition(":")
            reach, branch_kind = _REACH[spec[0]], spec[1]
            rng = rng_for(f"{SEED}:{app.name}:{index}")
            started = now - span + span * (index + 0.5) / count
            started += timedelta(minutes=rng.randint(-240, 240))
            if branch_kind == "r":
                branch = f"release/{app.minor}"
            elif branch_kind == "f":
                branch = app.features[index % len(app.features)]
            else:
                branch = "main"
            commit = hashlib.sha1(f"{SEED}:{app.name}:commit:{index}".encode()).hexdigest()  # noqa: S324
            message = app.messages[index % len(app.messages)]
            author = AUTHORS[rng.randrange(len(AUTHORS))]
            retry = 0
            if planted == "rebuilt" and previous is not None and previous.planted == "rebuilt":
                # The pipeline was re-run on the same commit 47 minutes later.
                commit, branch, message, author = (
                    previous.commit,
                    previous.branch,
                    previous.message,
                    previous.author,
                )
                started = previous.started + timedelta(minutes=47)
                retry = 1
            build = Build(
                app=app,
                number=index + 1,
                commit=commit,
                branch=branch,
                message=message,
                author=author,
                started=started.astimezone(UTC).replace(microsecond=0),
                version=f"{app.minor}.{patch}",
                reach=reach,
                planted=planted or None,
                retry=retry,
            )
            out.append(build)
            previous = build
            if reach == "prod":
                patch += 1
    return out


# -- artifact bytes ---------------------------------------------------------------------------


def artifacts(build: Build) -> list[Artifact]:
    """The files a build makes: the main artifact, an SBOM and one or two companions.

    A re-run (``build.retry`` > 0) stamps the main artifact with a rebuild counter, as a
    non-reproducible build does: the same commit then gives different bytes for the same name.
    """
    app, version, retry = build.app, build.version, build.retry
    seed = f"{SEED}:{app.name}:{build.commit}"
    main_name = f"{app.name}-{version}.{'jar' if app.kind == 'jar' else 'tar.gz'}"
    if app.kind == "jar":
        main = Artifact(main_name, "jar", _jar(build, seed, retry))
    else:
        main = Artifact(main_name, "tgz", _tarball(build, seed, retry))
    found = [main, Artifact(f"{app.name}-{version}.sbom.json", "json", _sbom(build, seed))]
    if app.name == "payments-api":
        found.append(Artifact(f"{app.name}-{version}.openapi.json", "json", _openapi(build)))
    if app.kind == "jar":
        found.append(Artifact(f"{app.name}-{version}.pom", "pom", _pom(build)))
    if build.branch.startswith("release/"):
        found.append(Artifact(f"RELEASE-NOTES-{version}.md", "md", _notes(build)))
    return found


def untraceable_artifact() -> Artifact:
    """A hotfix tarball built on a workstation and put into qa by hand."""
    app = APPS[0]
    fake = Build(
        app, 0, "0" * 40, "hotfix", "hotfix", AUTHORS[3], _EPOCH, "1.4.2-hotfix", "qa", None
    )
    return Artifact(f"{app.name}-1.4.2-hotfix.tar.gz", "tgz", _tarball(fake, f"{SEED}:hotfix", 0))


def overwritten_bytes(build: Build, artifact: Artifact) -> bytes:
    """What a re-run of the publish step uploaded over ``artifact`` (a fresh, different jar)."""
    if build.app.kind == "jar":
        return _jar(build, f"{SEED}:{build.app.name}:{build.commit}", 1)
    return _tarball(build, f"{SEED}:{build.app.name}:{build.commit}", 1)


def _when(build: Build) -> datetime:
    """The commit's time, as a reproducible build stamps its files."""
    return _EPOCH + timedelta(minutes=int(build.commit[:6], 16) % (60 * 24 * 40))


def _tarball(build: Build, seed: str, retry: int) -> bytes:
    rng = rng_for(f"{seed}:tar")
    root = f"{build.app.name}-{build.version}"
    files = {
        f"{root}/VERSION": f"{build.version}\ncommit {build.commit}\n".encode(),
        f"{root}/bin/{build.app.name}": (
            f'#!/bin/sh\nexec python3 -m {build.app.name.replace("-", "_")} "$@"\n'
        ).encode(),
        f"{root}/config/default.toml": (
            f"[server]\nport = {8000 + rng.randrange(100)}\nworkers = {rng.randint(2, 8)}\n"
        ).encode(),
        f"{root}/lib/bundle.bin": rng.randbytes(rng.randint(2000, 4500)),
    }
    if retry:
        files[f"{root}/BUILD-RETRY"] = f"{retry}\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uname, info.gname = (
                len(data),
                int(_when(build).timestamp()),
                "ci",
                "ci",
            )
            info.mode = 0o755 if "/bin/" in name else 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _jar(build: Build, seed: str, retry: int) -> bytes:
    rng = rng_for(f"{seed}:jar")
    when = _when(build).timetuple()[:6]
    manifest = (
        "Manifest-Version: 1.0\r\nCreated-By: relman-demo-ci\r\n"
        f"Implementation-Version: {build.version}\r\nSCM-Revision: {build.commit}\r\n"
        + (f"Build-Retry: {retry}\r\n" if retry else "")
        + "Main-Class: com.acme.ledger.Worker\r\n\r\n"
    )
    entries = {"META-INF/MANIFEST.MF": manifest.encode()}
    for cls in ("Worker", "LedgerBatch", "Reconciler", "EventConsumer"):
        body = b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + rng.randbytes(rng.randint(400, 1100))
        entries[f"com/acme/ledger/{cls}.class"] = body
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as jar:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            jar.writestr(info, data)
    return raw.getvalue()


def _sbom(build: Build, seed: str) -> bytes:
    rng = rng_for(f"{seed}:sbom")
    libraries = ("requests", "pydantic", "sqlalchemy", "structlog", "jackson-databind", "kafka")
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "version": 1,
        "metadata": {
            "component": {"type": "application", "name": build.app.name, "version": build.version}
        },
        "components": [
            {
                "type": "library",
                "name": lib,
                "version": f"{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
            }
            for lib in libraries
        ],
        "properties": [{"name": "vcs.revision", "value": build.commit}],
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def _openapi(build: Build) -> bytes:
    paths = {
        "/payments": {"post": {"summary": "Create a payment"}},
        "/payments/{id}": {"get": {"summary": "Read a payment"}},
        "/refunds": {"post": {"summary": "Refund a captured payment"}},
    }
    doc = {"openapi": "3.1.0", "info": {"title": "payments-api", "version": build.version}}
    return (json.dumps({**doc, "paths": paths}, indent=2) + "\n").encode()


def _pom(build: Build) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<project>\n  <modelVersion>4.0.0</modelVersion>\n'
        f"  <groupId>com.acme</groupId>\n  <artifactId>{build.app.name}</artifactId>\n"
        f"  <version>{build.version}</version>\n  <packaging>jar</packaging>\n</project>\n"
    ).encode()


def _notes(build: Build) -> bytes:
    return (
        f"# {build.app.name} {build.version}\n\n- {build.message}\n\n"
        f"Built from {build.branch} at {build.commit[:12]}.\n"
    ).encode()
