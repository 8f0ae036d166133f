"""Plain, immutable data shared by every layer. No I/O here."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from relman.errors import Cancelled

#: ``progress(done, total)`` in bytes (or items); total may be 0 when unknown.
ProgressCallback = Callable[[int, int], None]


class CancelToken:
    """A cancel flag shared between a caller and a long-running operation.

    It wraps :class:`threading.Event` so the GUI can cancel from its own thread.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass(frozen=True, slots=True)
class BuildIdentity:
    """Start time (UTC, whole seconds) + sequential build number + git commit.

    ``commit`` is lower-case hex: the full 40 (or 64, SHA-256 repositories) digits when known,
    otherwise the 12-digit prefix that the short form carries.
    """

    started: datetime
    number: int
    commit: str

    def __str__(self) -> str:
        return f"{self.started.strftime('%Y%m%dT%H%M%SZ')}.{self.number}.{self.commit[:12]}"

    @property
    def full(self) -> str:
        """The identity with the whole commit, for records that must not be ambiguous."""
        return f"{self.started.strftime('%Y%m%dT%H%M%SZ')}.{self.number}.{self.commit}"


# -- registries, builds and profiles (issue 4) ----------------------------------------------

_FULL_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_WHOLE_NUMBER = re.compile(r"[0-9]+")

REPOSITORY_KINDS = ("local", "remote", "virtual")
PROFILE_KINDS = ("local", "artifactory", "nexus")
ENVIRONMENT_MODES = ("repository", "label")
#: The property a ``label`` environment sets when the profile names none; its value is the
#: environment's name (an artifact in qa and prod carries ``relman.environment = qa, prod``).
DEFAULT_LABEL_PROPERTY = "relman.environment"
#: The server repository of promotion records and approvals when a profile names none and
#: has no ``repository`` environment.
DEFAULT_RECORDS_REPO = "relman-records"


def _no_properties() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository of a registry: ``kind`` is local, remote or virtual."""

    key: str
    kind: str = "local"
    package_type: str = "generic"


@dataclass(frozen=True, slots=True)
class RepoPath:
    """An item's place in a registry: repository key + repository-relative path."""

    repo: str
    path: str

    def __str__(self) -> str:
        return f"{self.repo}/{self.path}"


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """One artifact as a build record lists it (``modules[].artifacts[]`` of build-info).

    Digests are lower-case hex or None (old items have no sha256); ``module`` is the id of the
    module that listed it.
    """

    name: str
    sha256: str | None = None
    sha1: str | None = None
    md5: str | None = None
    type: str | None = None
    path: str | None = None
    module: str = ""


@dataclass(frozen=True, slots=True)
class BuildStatus:
    """One promotion status of a build (``statuses[]``), in the order the record holds them."""

    status: str
    repository: str | None = None
    timestamp: datetime | None = None
    timestamp_raw: str = ""
    user: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Agent:
    """The CI server (``agent``) or build tool (``buildAgent``) of a build."""

    name: str
    version: str = ""


@dataclass(frozen=True, slots=True)
class BuildRecord:
    """A build as its build-info JSON describes it.

    ``number`` is a string, as build-info keeps it (it may be ``1.0.0-rc+1``); ``started`` is
    the start time in UTC (None when the record has none) and ``started_raw`` the text as
    written. ``raw`` keeps the whole JSON document the record was read from, for export; it
    takes no part in comparisons.
    """

    name: str
    number: str
    started: datetime | None = None
    started_raw: str = ""
    vcs_revision: str | None = None
    vcs_url: str | None = None
    vcs_branch: str | None = None
    vcs_message: str | None = None
    agent: Agent | None = None
    build_agent: Agent | None = None
    artifacts: tuple[ArtifactRecord, ...] = ()
    properties: Mapping[str, str] = field(default_factory=_no_properties, hash=False)
    statuses: tuple[BuildStatus, ...] = ()
    raw: str = field(default="", compare=False, hash=False, repr=False)

    @property
    def identity(self) -> BuildIdentity | None:
        """The build identity when start time, a number >= 1 and a full commit are all known."""
        if self.started is None or not _WHOLE_NUMBER.fullmatch(self.number):
            return None
        number = int(self.number)
        commit = (self.vcs_revision or "").lower()
        if number < 1 or not _FULL_COMMIT.fullmatch(commit):
            return None
        started = self.started.astimezone(UTC).replace(microsecond=0)
        return BuildIdentity(started=started, number=number, commit=commit)

    def __str__(self) -> str:
        return f"{self.name}/{self.number}"


@dataclass(frozen=True, slots=True)
class Location:
    """Where an artifact's bytes are in a registry, with what the registry knows of them."""

    repo: str
    path: str
    size: int | None = None
    sha256: str | None = None
    sha1: str | None = None
    md5: str | None = None
    created: datetime | None = None
    properties: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    @property
    def ref(self) -> RepoPath:
        return RepoPath(self.repo, self.path)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return f"{self.repo}/{self.path}"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a registry backend can do; the release engine asks, never assumes."""

    name: str
    version: str = ""
    properties: bool = False
    copy: bool = False
    move: bool = False
    build_promotion: bool = False
    tags: bool = False
    staging_move: bool = False
    signatures: bool = False
    #: Release Lifecycle Management (Artifactory RLM v2) environments exist on the server.
    lifecycle: bool = False


@dataclass(frozen=True, slots=True)
class Environment:
    """A stage of a profile (dev, qa, prod ...) and how the registry says an artifact is in it.

    ``mode`` ``repository``: the artifact is in repository ``repo``. ``mode`` ``label``: the
    artifact carries property ``label`` with the environment's name among its values.
    """

    name: str
    mode: str
    repo: str | None = None
    label: str | None = None

    def __str__(self) -> str:
        if self.mode == "repository":
            return f"{self.name}=repo:{self.repo}"
        if self.label in (None, DEFAULT_LABEL_PROPERTY):
            return f"{self.name}=label"
        return f"{self.name}=label:{self.label}"


@dataclass(frozen=True, slots=True)
class Profile:
    """A registry relman talks to: its kind, where it is, and its environments in order.

    For ``local`` the URL is a folder. The token is never here: it is in the OS keyring.
    ``ca_bundle`` is a PEM file of CA certificates to trust for a server; ``records_repo``
    the server repository that holds promotion records and approvals (None: the default,
    see :meth:`records_repository`). ``read_only`` marks an auditor's profile: the GUI offers
    no promote, approve or rollback action on it and refuses them if asked.
    """

    name: str
    kind: str
    url: str
    user: str | None = None
    environments: tuple[Environment, ...] = ()
    ca_bundle: str | None = None
    records_repo: str | None = None
    read_only: bool = False

    def environment(self, name: str) -> Environment | None:
        for env in self.environments:
            if env.name == name:
                return env
        return None

    def records_repository(self) -> str:
        """Where a server keeps relman's promotion records and approvals: ``records_repo``,
        else the repository of the first ``repository`` environment, else ``relman-records``."""
        if self.records_repo:
            return self.records_repo
        for env in self.environments:
            if env.mode == "repository" and env.repo:
                return env.repo
        return DEFAULT_RECORDS_REPO


@dataclass(frozen=True, slots=True)
class Digests:
    """The size and the digests (lower-case hex) of bytes read once, e.g. by a download."""

    size: int
    sha256: str
    sha1: str
    md5: str

    def as_dict(self) -> dict[str, str]:
        return {"sha256": self.sha256, "sha1": self.sha1, "md5": self.md5}
