"""The Artifactory server: ping and version (reference §10), RLM v2 environments (§9.1),
the capabilities it offers, probed with requests that change nothing, and a connection check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from relman.errors import RelmanError, UsageError
from relman.model import Capabilities
from relman.registry import artifactory_aql as aql
from relman.registry.artifactory_core import (
    NO_PROPERTIES,
    SERVICE,
    ArtifactoryCore,
    json_or_none,
    text_head,
)
from relman.registry.http import AuthenticationError, HttpError, HttpNotFound, PermissionDenied

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerVersion:
    """``GET /api/system/version``: the version, its add-ons and licence, as the server says."""

    version: str
    revision: str = ""
    addons: tuple[str, ...] = ()
    license: str = ""


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """One step of :meth:`ServerMixin.check_connection`: ``step`` is ``server``,
    ``version``, ``token`` or ``repositories``."""

    step: str
    ok: bool
    detail: str


class ServerMixin(ArtifactoryCore):
    """The server itself: ping, version, RLM environments, what it offers (probed, never
    guessed) and a step-by-step connection check."""

    def ping(self) -> None:
        """``GET /api/system/ping``: the server answers ``OK``."""
        answer = self.http.send("GET", "/api/system/ping", what="ping")
        text = answer.body.decode("utf-8", "replace").strip()
        if text != "OK":
            raise HttpError(
                f"{answer.url}: the ping answer is {text[:80]!r}, not OK: is {self.url} the "
                "Artifactory URL (it ends in /artifactory)?",
                status=answer.status,
                url=answer.url,
            )

    def version(self) -> ServerVersion:
        doc = self.http.get_json("/api/system/version", what="version")
        if not isinstance(doc, Mapping) or not isinstance(doc.get("version"), str):
            raise HttpError(f"{self.url}/api/system/version: no 'version' in the answer")
        addons = doc.get("addons")
        return ServerVersion(
            version=doc["version"].strip(),
            revision=str(doc.get("revision", "")),
            addons=tuple(str(a) for a in addons) if isinstance(addons, list) else (),
            license=str(doc.get("license", "")),
        )

    def environments(self) -> list[str] | None:
        """Release Lifecycle Management v2 environments (``GET /access/api/v1/environments``),
        or None when the platform has none (404)."""
        try:
            doc = self.http.get_json("//access/api/v1/environments", what="environments")
        except HttpNotFound:
            return None
        if not isinstance(doc, list):
            raise HttpError(f"{self.url}: the environments answer is not a list")
        return [str(e["name"]) for e in doc if isinstance(e, Mapping) and "name" in e]

    @property
    def capabilities(self) -> Capabilities:
        """What the server offers, probed once (version, then a harmless request per feature:
        property reads, a dry-run copy, a dry-run promotion of no build)."""
        if self._capabilities is None:
            self._capabilities = self._probe()
        return self._capabilities

    def _probe(self) -> Capabilities:
        info = self.version()
        return Capabilities(
            name=SERVICE,
            version=info.version,
            properties=self._probe_properties(),
            copy=self._probe_transfer("copy"),
            move=self._probe_transfer("move"),
            build_promotion=self._probe_promotion(),
            signatures=True,
            lifecycle=self.environments() is not None,
        )

    def _probe_properties(self) -> bool:
        try:
            self.http.send("GET", self._storage(self.records_repo), query="properties")
        except HttpNotFound as exc:
            # "No properties could be found" is an answer of the properties API; a missing
            # records repository answers like a missing item, which tells nothing: ask the
            # server's own add-on list instead.
            return NO_PROPERTIES in exc.server_message.lower() or self._has_addon("properties")
        except HttpError as exc:
            logger.info("%s: property reads refused (%s)", self.url, exc)
            return False
        return True

    def _probe_transfer(self, action: str) -> bool:
        probe = f".relman-probe/{action}"
        try:
            answer = self.http.send(
                "POST",
                f"/api/{action}/{self.records_repo}/{probe}",
                query=f"to=/{self.records_repo}/{probe}-target&dry=1",
                ok=(200, 400, 404, 409),
                what=f"{action} probe",
            )
        except HttpError as exc:
            logger.info("%s: %s refused (%s)", self.url, action, exc)
            return False
        return _answers_messages(answer.body)

    def _probe_promotion(self) -> bool:
        try:
            answer = self.http.send(
                "POST",
                self._build("relman-probe", "0").replace("/api/build/", "/api/build/promote/", 1),
                data=json.dumps({"status": "relman-probe", "dryRun": True}),
                headers={"Content-Type": "application/json"},
                ok=(200, 400, 404),
                what="build promotion probe",
            )
        except HttpError as exc:
            logger.info("%s: build promotion refused (%s)", self.url, exc)
            return False
        return answer.status == 200 or "cannot find a build" in text_head(answer.body)

    def _has_addon(self, name: str) -> bool:
        try:
            return name in self.version().addons
        except RelmanError:
            return False

    def check_connection(self) -> list[ConnectionCheck]:
        """What works and what does not, step by step, for a "Test connection" button: the
        server (DNS, TLS, connection, ping), its version, the token (an AQL search needs an
        authenticated user) and the repositories it shows."""
        checks: list[ConnectionCheck] = []
        steps: list[tuple[str, Callable[[], str]]] = [
            ("server", self._check_server),
            ("version", lambda: f"{SERVICE} {self.version().version}"),
            ("token", self._check_token),
            ("repositories", lambda: f"{len(list(self.repositories()))} repositories visible"),
        ]
        for step, run in steps:
            try:
                checks.append(ConnectionCheck(step, True, run()))
            except RelmanError as exc:
                checks.append(ConnectionCheck(step, False, str(exc)))
                if step == "server":
                    break
        return checks

    def _check_server(self) -> str:
        try:
            self.ping()
        except (AuthenticationError, PermissionDenied) as exc:
            # Reached over DNS, TCP and TLS: the credentials are the token step's business.
            return f"{self.url} answers (HTTP {exc.status} to the ping)"
        return f"{self.url} answers"

    def _check_token(self) -> str:
        if not self.http.has_token:
            raise UsageError("no token: relman reads anonymously (set RELMAN_TOKEN or store one)")
        self._aql(aql.query({"repo": self.records_repo}, limit=1))
        return "accepted (an AQL search ran as the token's user)"


# -- helpers -------------------------------------------------------------------------------


def _answers_messages(body: bytes) -> bool:
    doc = json_or_none(body)
    return isinstance(doc, Mapping) and isinstance(doc.get("messages"), list)
