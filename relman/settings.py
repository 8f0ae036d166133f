"""Registry profiles: ``profiles.toml`` in the config dir.

A profile names a registry (its kind, URL or folder, user, CA bundle) and its environments in
promotion order. The file is written whole through a temporary file and ``os.replace``, and
carries a schema version; a file from a newer relman is refused rather than rewritten::

    schema = 1

    [profiles.acme]
    kind = "artifactory"
    url = "https://rt.example.com/artifactory"
    user = "release-bot"
    records_repo = "libs-dev-local"
    environments = [
      { name = "dev", repository = "libs-dev-local" },
      { name = "qa", label = "relman.environment" },
    ]

Registry tokens never reach this file: they are in the OS keyring under the account
``token:<profile>`` (service ``relman``). ``RELMAN_TOKEN`` stands in for one where no keyring
exists (CI, headless); it is read when a token is needed and never stored.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from relman import paths, secrets
from relman.errors import InputError, UsageError
from relman.model import (
    DEFAULT_LABEL_PROPERTY,
    PROFILE_KINDS,
    Environment,
    Profile,
)

logger = logging.getLogger(__name__)

SCHEMA = 1
FILE_NAME = "profiles.toml"
TOKEN_VARIABLE = "RELMAN_TOKEN"  # noqa: S105 - the name of a variable, not a token
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_REPO_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_PROPERTY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:-]{0,127}")


def profiles_path() -> Path:
    return paths.resolve().config / FILE_NAME


def token_account(profile: str) -> str:
    return f"token:{profile}"


# -- checks ---------------------------------------------------------------------------------


def check_name(name: str, what: str = "profile name") -> str:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"{what} {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def parse_environment(text: str) -> Environment:
    """``NAME=repo:REPOKEY``, ``NAME=label`` or ``NAME=label:PROPERTY``."""
    name, sep, where = text.partition("=")
    if not sep:
        raise UsageError(
            f"--env {text!r}: expected NAME=repo:REPOKEY or NAME=label "
            "(for example qa=repo:libs-qa)"
        )
    check_name(name, "environment name")
    mode, _, value = where.partition(":")
    if mode == "repo":
        if not _REPO_KEY.fullmatch(value):
            raise UsageError(f"--env {text!r}: {value!r} is not a repository key")
        return Environment(name, "repository", repo=value)
    if mode == "label":
        if not value:
            return Environment(name, "label", label=DEFAULT_LABEL_PROPERTY)
        if not _PROPERTY.fullmatch(value):
            raise UsageError(f"--env {text!r}: {value!r} is not a property name")
        return Environment(name, "label", label=value)
    raise UsageError(
        f"--env {text!r}: {where!r} is neither repo:REPOKEY nor label (for example qa=label)"
    )


def check_url(kind: str, url: str) -> str:
    """``local``: a folder (made absolute); ``artifactory``/``nexus``: an http(s) URL."""
    if kind not in PROFILE_KINDS:
        raise UsageError(f"unknown profile kind {kind!r} (one of: {', '.join(PROFILE_KINDS)})")
    if not url.strip():
        raise UsageError(f"a {kind} profile needs a URL")
    if kind == "local":
        return str(Path(url).expanduser().absolute())
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{kind} URL {url!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        # A password in the URL would end up in profiles.toml.
        raise UsageError(
            f"{kind} URL must not carry a user or password; use --user and --token-stdin"
        )
    return url.strip().rstrip("/")


def make_profile(
    name: str,
    kind: str,
    url: str,
    *,
    user: str | None = None,
    environments: Iterable[str | Environment] = (),
    ca_bundle: str | os.PathLike[str] | None = None,
    records_repo: str | None = None,
    read_only: bool = False,
) -> Profile:
    """A checked profile from what an operator typed (``read_only``: an auditor's profile)."""
    check_name(name)
    location = check_url(kind, url)
    envs: list[Environment] = []
    for env in environments:
        parsed = env if isinstance(env, Environment) else parse_environment(env)
        if any(e.name == parsed.name for e in envs):
            raise UsageError(f"environment {parsed.name!r} is given twice")
        envs.append(parsed)
    bundle = None
    if ca_bundle is not None:
        if kind == "local":
            raise UsageError("a CA bundle applies to artifactory and nexus profiles, not local")
        path = Path(ca_bundle).expanduser().absolute()
        if not path.is_file():
            raise InputError(f"{ca_bundle}: no such CA bundle file")
        bundle = str(path)
    if user is not None and not user.strip():
        raise UsageError("--user is empty")
    if records_repo is not None:
        if kind == "local":
            raise UsageError("a records repository applies to artifactory and nexus profiles")
        if not _REPO_KEY.fullmatch(records_repo):
            raise UsageError(f"--records-repo {records_repo!r} is not a repository key")
    return Profile(
        name, kind, location, user or None, tuple(envs), bundle, records_repo, read_only=read_only
    )


# -- the file -------------------------------------------------------------------------------


def load_profiles() -> dict[str, Profile]:
    """Every profile, in the order of the file."""
    path = profiles_path()
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as relman profiles: {exc}") from None
    schema = data.get("schema", SCHEMA)
    if not isinstance(schema, int) or schema > SCHEMA:
        raise InputError(
            f"{path}: schema {schema!r} is newer than this relman understands ({SCHEMA}); "
            "upgrade relman"
        )
    table = data.get("profiles", {})
    if not isinstance(table, dict):
        raise InputError(f"{path}: 'profiles' is not a table")
    return {name: _profile_from_toml(path, name, entry) for name, entry in table.items()}


def _profile_from_toml(path: Path, name: str, entry: Any) -> Profile:
    where = f"{path}: profile {name!r}"
    if not isinstance(entry, dict):
        raise InputError(f"{where} is not a table")
    try:
        envs = tuple(_environment_from_toml(e) for e in entry.get("environments", []))
        return Profile(
            name=check_name(name),
            kind=_string(entry, "kind"),
            url=_string(entry, "url"),
            user=entry.get("user"),
            environments=envs,
            ca_bundle=entry.get("ca_bundle"),
            records_repo=entry.get("records_repo"),
            read_only=_flag(entry, "read_only"),
        )
    except (UsageError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{where} is malformed ({exc})") from None


def _string(entry: Mapping[str, Any], key: str) -> str:
    value = entry[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _flag(entry: Mapping[str, Any], key: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise TypeError(f"{key} is not true or false")
    return value


def _environment_from_toml(entry: Mapping[str, Any]) -> Environment:
    name = _string(entry, "name")
    if "repository" in entry:
        return Environment(name, "repository", repo=_string(entry, "repository"))
    return Environment(name, "label", label=_string(entry, "label"))


def _profile_to_toml(profile: Profile) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": profile.kind, "url": profile.url}
    if profile.user:
        out["user"] = profile.user
    if profile.ca_bundle:
        out["ca_bundle"] = profile.ca_bundle
    if profile.records_repo:
        out["records_repo"] = profile.records_repo
    if profile.read_only:
        out["read_only"] = True
    out["environments"] = [
        {"name": e.name, "repository": e.repo}
        if e.mode == "repository"
        else {"name": e.name, "label": e.label or DEFAULT_LABEL_PROPERTY}
        for e in profile.environments
    ]
    return out


def save_profiles(profiles: Mapping[str, Profile]) -> None:
    import tomli_w

    document = {
        "schema": SCHEMA,
        "profiles": {name: _profile_to_toml(p) for name, p in profiles.items()},
    }
    paths.atomic_write(profiles_path(), tomli_w.dumps(document).encode(), private=True)


def get_profile(name: str) -> Profile:
    profiles = load_profiles()
    if name not in profiles:
        known = ", ".join(profiles) or "none"
        raise UsageError(f"no profile named {name!r} (profiles: {known})")
    return profiles[name]


def add_profile(profile: Profile, *, token: str | None = None) -> None:
    """Save a new profile; ``token`` goes to the OS keyring, never to the file."""
    profiles = load_profiles()
    if profile.name in profiles:
        raise UsageError(
            f"profile {profile.name!r} already exists (relman profile remove {profile.name} first)"
        )
    if token is not None:
        if profile.kind == "local":
            raise UsageError("a local profile takes no token (it is a folder on this machine)")
        if not token.strip():
            raise UsageError("the token read from standard input is empty")
    if profile.kind == "local":
        paths.ensure_dir(Path(profile.url))
    if token is not None:
        secrets.set_secret(token_account(profile.name), token.strip())
    profiles[profile.name] = profile
    try:
        save_profiles(profiles)
    except BaseException:
        if token is not None:
            secrets.delete_secret(token_account(profile.name))
        raise


def remove_profile(name: str) -> bool:
    """Remove a profile and its keyring token; True when a token was deleted."""
    profiles = load_profiles()
    profile = profiles.pop(name, None)
    if profile is None:
        raise UsageError(f"no profile named {name!r}")
    save_profiles(profiles)
    if profile.kind == "local" or secrets.status().state == "missing":
        return False
    return secrets.delete_secret(token_account(name))


def token_for(profile: Profile, environ: Mapping[str, str] | None = None) -> str | None:
    """The registry token of ``profile``: ``RELMAN_TOKEN`` when set, else the OS keyring.

    None for a local profile, and when there is no token anywhere (no keyring, nothing
    stored). A locked keyring raises :class:`~relman.secrets.KeyringUnavailable`.
    """
    if profile.kind == "local":
        return None
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_VARIABLE, "").strip()
    if value:
        return value
    if secrets.status().state == "missing":
        logger.debug(
            "no OS keyring and no %s: profile %s has no token", TOKEN_VARIABLE, profile.name
        )
        return None
    return secrets.get_secret(token_account(profile.name))


def default_profile() -> Profile:
    """The embedded local registry in the data dir, used when no profile is configured."""
    return Profile("local", "local", str(paths.resolve().local_registry))
