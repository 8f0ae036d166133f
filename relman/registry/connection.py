"""Test a registry profile before it is saved: what works and what does not, step by step.

For an Artifactory profile the steps are the backend's own
(:meth:`~relman.registry.artifactory.ArtifactoryRegistry.check_connection`: the server over
DNS, TCP and TLS, its version, the token, the repositories), then what the profile itself
names: the records repository and each environment's repository exist, and whether the token
may write (a dry-run copy in the records repository, which changes nothing: a read-only token
can read lineage but not promote). A local profile's folder must be a relman local registry.

Each step is a :class:`~relman.registry.artifactory.ConnectionCheck`; no message carries the
token. :func:`save_profile` adds or updates the profile once it is right.
"""

from __future__ import annotations

import logging

from relman import secrets, settings
from relman.errors import RelmanError, UsageError
from relman.model import Profile
from relman.registry import open_registry
from relman.registry.artifactory import ArtifactoryRegistry, ConnectionCheck
from relman.registry.http import PermissionDenied

logger = logging.getLogger(__name__)

#: What each step checks, in words (the GUI's row titles).
STEP_TITLES = {
    "server": "Server (DNS, TLS, connection)",
    "version": "Version",
    "token": "Token",
    "repositories": "Repositories",
    "records": "Records repository",
    "environments": "Environments",
    "permissions": "Write permission",
    "folder": "Local registry folder",
}
_PROBE = ".relman-probe/write"
ATTEMPTS = 1


def check_profile(profile: Profile, token: str | None) -> list[ConnectionCheck]:
    """Every step for ``profile`` with ``token`` (None: anonymous), stopping where a later
    step could only fail for the same reason."""
    if profile.kind != "artifactory":
        return _check_local(profile)
    # One retry, not three with backoff: a test of a wrong host should answer promptly.
    registry = ArtifactoryRegistry(
        profile.url,
        token=token,
        user=profile.user,
        ca_bundle=profile.ca_bundle,
        records_repo=profile.records_repository(),
        profile=profile.name,
        attempts=ATTEMPTS,
    )
    try:
        checks = registry.check_connection()
        if not all(c.ok for c in checks):
            return checks
        keys = {r.key for r in registry.repositories()}
        checks.append(_records(profile, keys))
        checks.append(_environments(profile, keys))
        checks.append(_permissions(registry, profile))
        return checks
    finally:
        registry.close()


def save_profile(profile: Profile, token: str | None = None, *, replace: bool = False) -> None:
    """Add ``profile``, or with ``replace`` update the saved profile of that name (its token
    stays unless ``token`` is given). A token goes to the OS keyring, never to the file."""
    if not replace:
        settings.add_profile(profile, token=token)
        return
    profiles = settings.load_profiles()
    if profile.name not in profiles:
        raise UsageError(f"no profile named {profile.name!r} to update")
    if profiles[profile.name].kind != profile.kind:
        raise UsageError(
            f"profile {profile.name}: its kind cannot change ({profiles[profile.name].kind}); "
            "add a profile of the new kind instead"
        )
    if token is not None:
        if profile.kind == "local":
            raise UsageError("a local profile takes no token (it is a folder on this machine)")
        if not token.strip():
            raise UsageError("the token is empty")
        secrets.set_secret(settings.token_account(profile.name), token.strip())
    profiles[profile.name] = profile
    settings.save_profiles(profiles)


def _records(profile: Profile, keys: set[str]) -> ConnectionCheck:
    repo = profile.records_repository()
    if repo in keys:
        return ConnectionCheck("records", True, f"{repo} exists (promotion records go there)")
    return ConnectionCheck(
        "records",
        False,
        f"no repository {repo!r}: create it (a local generic repository) or name another "
        "records repository",
    )


def _environments(profile: Profile, keys: set[str]) -> ConnectionCheck:
    if not profile.environments:
        return ConnectionCheck(
            "environments", False, "none given: add the environments in promotion order"
        )
    missing = [
        f"{e.name} ({e.repo})"
        for e in profile.environments
        if e.mode == "repository" and e.repo not in keys
    ]
    if missing:
        return ConnectionCheck(
            "environments", False, f"no such repository for {', '.join(missing)}"
        )
    order = " → ".join(e.name for e in profile.environments)
    return ConnectionCheck("environments", True, f"{order}: every repository exists")


def _permissions(registry: ArtifactoryRegistry, profile: Profile) -> ConnectionCheck:
    repo = profile.records_repository()
    try:
        registry.http.send(
            "POST",
            f"/api/copy/{repo}/{_PROBE}",
            query=f"to=/{repo}/{_PROBE}-target&dry=1",
            ok=(200, 400, 404, 409),
            what="a dry-run copy",
        )
    except PermissionDenied:
        if profile.read_only:
            return ConnectionCheck(
                "permissions",
                True,
                f"read-only (HTTP 403 to a dry-run copy in {repo}), as an auditor's profile is",
            )
        return ConnectionCheck(
            "permissions",
            False,
            f"the token is read-only (HTTP 403 to a dry-run copy in {repo}): it can read "
            "lineage but not promote; use a token with deploy permission, or mark the profile "
            "read-only (auditor)",
        )
    except RelmanError as exc:
        return ConnectionCheck("permissions", False, str(exc))
    return ConnectionCheck(
        "permissions", True, f"the token may write (a dry-run copy in {repo} was allowed)"
    )


def _check_local(profile: Profile) -> list[ConnectionCheck]:
    try:
        registry = open_registry(profile)
        keys = {r.key for r in registry.repositories()}
    except RelmanError as exc:
        return [ConnectionCheck("folder", False, str(exc))]
    checks = [ConnectionCheck("folder", True, f"{profile.url} is a relman local registry")]
    checks.append(_environments(profile, keys))
    return checks
