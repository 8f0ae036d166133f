"""Registries relman reads lineage from and promotes in: the protocol and its backends.

``base`` holds the :class:`~relman.registry.base.Registry` protocol every backend implements,
``buildinfo`` reads and writes JFrog build-info, ``local`` is the embedded local registry,
``artifactory`` the Artifactory backend (over ``http``). :func:`open_registry` opens the
backend a profile names, :func:`opened` opens it for a block and closes it after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relman.model import Profile
    from relman.registry.base import Registry


def open_registry(profile: Profile, *, token: str | None = None) -> Registry:
    """The registry of ``profile``: a :class:`~relman.registry.local.LocalRegistry` for a
    local profile, an :class:`~relman.registry.artifactory.ArtifactoryRegistry` for an
    Artifactory one (with ``token``, else the profile's token from ``RELMAN_TOKEN`` or the OS
    keyring; none means anonymous reads). Nexus is refused with a one-line
    :class:`~relman.errors.UsageError`."""
    from relman.errors import UsageError

    if profile.kind == "local":
        from relman.registry.local import LocalRegistry

        return LocalRegistry(profile.url)
    if profile.kind == "artifactory":
        from relman import settings
        from relman.registry.artifactory import ArtifactoryRegistry

        return ArtifactoryRegistry(
            profile.url,
            token=token if token is not None else settings.token_for(profile),
            user=profile.user,
            ca_bundle=profile.ca_bundle,
            records_repo=profile.records_repository(),
            profile=profile.name,
        )
    if profile.kind == "nexus":
        raise UsageError(
            f"profile {profile.name}: the Nexus backend is not supported yet; "
            "relman reads Artifactory and local registries"
        )
    raise UsageError(f"profile {profile.name}: unknown registry kind {profile.kind!r}")


@contextlib.contextmanager
def opened(
    profile: Profile, opener: Callable[[Profile], Registry] | None = None
) -> Iterator[Registry]:
    """The registry of ``profile`` (``opener``, default :func:`open_registry`) for a block,
    closed after it whatever happens."""
    registry = (opener or open_registry)(profile)
    try:
        yield registry
    finally:
        close_registry(registry)


def close_registry(registry: object) -> None:
    """Close a backend that holds connections (Artifactory's HTTP session); the local
    registry holds none."""
    close = getattr(registry, "close", None)
    if close is not None:
        close()
