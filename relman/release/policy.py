"""Promotion policy: which promotions a profile allows, per environment.

The rules a guarded promotion enforces, in the order of the profile's environments
(dev -> qa -> staging -> prod, say):

- a build is promoted only into the next environment, from the one just before it; a
  rollback (returning an environment to an earlier build) is a separate, explicit action;
- per environment (the target of a promotion):

  ``require_signature`` (default true)
      every artifact carries a valid signature by a key in the trust store;
  ``approvals`` (default 1 for the last environment, 0 for the others)
      that many approvals, each signed over the plan by a trusted key other than the
      promoter's;
  ``promoters`` (default: any trusted key)
      the keys allowed to promote there, each the name of a key in the trust store or a
      fingerprint (``SHA256:...``); the promoter's key must be trusted in any case.

The rules live in ``policy.toml`` in the config dir, keyed by profile then environment. An
environment or profile the file does not name gets the defaults, so a profile with no entry
at all is guarded by them::

    schema = 1

    [profiles.acme.environments.prod]
    require_signature = true
    approvals = 2
    promoters = ["rm-anna", "rm-ben"]

A mistake in the file (an environment the profile does not have, a setting relman does not
know, a negative count) is refused with a message that says what and where, never guessed at.
The first environment takes no rules: builds arrive there by deployment, not by promotion.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relman import paths
from relman.errors import InputError, UsageError
from relman.model import Profile
from relman.verify.signatures.base import TrustedKey

SCHEMA = 1
FILE_NAME = "policy.toml"
SETTINGS = ("approvals", "promoters", "require_signature")


def policy_path() -> Path:
    return paths.resolve().config / FILE_NAME


@dataclass(frozen=True, slots=True)
class Rule:
    """What a promotion into ``environment`` needs; ``promoters`` empty means any trusted key.

    ``configured`` says the rule comes from ``policy.toml`` rather than the defaults."""

    environment: str
    require_signature: bool = True
    approvals: int = 0
    promoters: tuple[str, ...] = ()
    configured: bool = False

    def allows(self, fingerprint: str, trusted: Sequence[TrustedKey]) -> bool:
        """Whether the key with ``fingerprint`` may promote here (``promoters`` entries are
        trust store names or fingerprints; a name resolves through the trust store only)."""
        if not self.promoters:
            return True
        names = {k.name: k.fingerprint for k in trusted}
        return any(
            entry == fingerprint or names.get(entry) == fingerprint for entry in self.promoters
        )

    def describe(self) -> str:
        signature = (
            "a trusted signature required" if self.require_signature else "no signature required"
        )
        count = "no approval" if self.approvals == 0 else f"{self.approvals} approval"
        count += "s" if self.approvals > 1 else ""
        who = ", ".join(self.promoters) if self.promoters else "any trusted key"
        return f"{signature}; {count}; promoters: {who}"


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules of one profile: its environments in order and a :class:`Rule` for each."""

    profile: str
    environments: tuple[str, ...]
    rules: Mapping[str, Rule]
    source: Path | None = None

    def rule(self, environment: str) -> Rule:
        self._index(environment)
        return self.rules[environment]

    def previous(self, environment: str) -> str | None:
        """The environment a build is promoted from into ``environment`` (None for the first)."""
        k = self._index(environment)
        return self.environments[k - 1] if k > 0 else None

    def is_last(self, environment: str) -> bool:
        return self._index(environment) == len(self.environments) - 1

    def _index(self, environment: str) -> int:
        if environment not in self.environments:
            known = ", ".join(self.environments) or "none"
            raise UsageError(
                f"{environment!r} is not an environment of profile {self.profile} ({known})"
            )
        return self.environments.index(environment)

    def order_problem(self, build: str, present: Sequence[str], target: str) -> str | None:
        """Why promoting ``build`` (now in the environments ``present``) into ``target`` breaks
        the order, in plain words; None when it is the next step."""
        before = self.previous(target)
        if before is None:
            return (
                f"{target} is the first environment: builds arrive there by deployment, "
                "not by promotion"
            )
        if target in present:
            return f"{build} is in {target} already"
        if before not in present:
            where = f"it is in {', '.join(present)}" if present else "it is in no environment"
            return (
                f"{build} is not in {before}: a build reaches {target} only from {before}, the "
                f"environment before it ({where})"
            )
        return None

    def rollback_problem(self, target: str) -> str | None:
        """Why ``target`` cannot be rolled back (the first environment), else None."""
        if self.previous(target) is None:
            return (
                f"{target} is the first environment: a rollback returns an environment builds "
                "are promoted into to an earlier build, and removing a build from the first "
                "one would lose its only copy"
            )
        return None


def default_rule(environment: str, last: bool) -> Rule:
    return Rule(environment, require_signature=True, approvals=1 if last else 0)


def load_policy(profile: Profile, path: Path | None = None) -> Policy:
    """The policy of ``profile`` from ``policy.toml`` (the defaults where it says nothing)."""
    source = path or policy_path()
    envs = tuple(e.name for e in profile.environments)
    table = _profile_table(source, profile.name)
    configured = _environment_tables(source, profile, table)
    rules = {}
    for k, env in enumerate(envs):
        base = default_rule(env, k == len(envs) - 1)
        entry = configured.get(env)
        rules[env] = base if entry is None else _rule(source, profile.name, base, entry)
    return Policy(profile.name, envs, rules, source)


def _profile_table(source: Path, name: str) -> Mapping[str, Any]:
    try:
        with source.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{source}: cannot be read as a relman policy: {exc}") from None
    schema = data.get("schema", SCHEMA)
    if not isinstance(schema, int) or isinstance(schema, bool) or schema > SCHEMA:
        raise InputError(
            f"{source}: schema {schema!r} is newer than this relman understands ({SCHEMA}); "
            "upgrade relman"
        )
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise InputError(f"{source}: 'profiles' must be a table of profiles ([profiles.NAME])")
    table = profiles.get(name, {})
    if not isinstance(table, dict):
        raise InputError(f"{source}: profile {name!r} must be a table ([profiles.{name}])")
    unknown = sorted(set(table) - {"environments"})
    if unknown:
        raise InputError(
            f"{source}: profile {name!r}: unknown setting {unknown[0]!r}; rules go under "
            f"[profiles.{name}.environments.ENV]"
        )
    return table


def _environment_tables(
    source: Path, profile: Profile, table: Mapping[str, Any]
) -> Mapping[str, Mapping[str, Any]]:
    envs = table.get("environments", {})
    where = f"{source}: profile {profile.name!r}"
    if not isinstance(envs, dict):
        raise InputError(f"{where}: 'environments' must be a table of environments")
    names = [e.name for e in profile.environments]
    for env, entry in envs.items():
        if env not in names:
            raise InputError(
                f"{where}: {env!r} is not one of the profile's environments "
                f"({', '.join(names) or 'none'})"
            )
        if env == names[0]:
            raise InputError(
                f"{where}: {env} is the first environment; builds arrive there by deployment, "
                "so no promotion rule applies to it (remove its table)"
            )
        if not isinstance(entry, dict):
            raise InputError(f"{where}: environment {env!r} must be a table of settings")
    return envs


def _rule(source: Path, profile: str, base: Rule, entry: Mapping[str, Any]) -> Rule:
    where = f"{source}: profile {profile!r}, environment {base.environment!r}"
    unknown = sorted(set(entry) - set(SETTINGS))
    if unknown:
        raise InputError(f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(SETTINGS)})")
    require = entry.get("require_signature", base.require_signature)
    if not isinstance(require, bool):
        raise InputError(f"{where}: require_signature must be true or false, not {require!r}")
    approvals = entry.get("approvals", base.approvals)
    if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 0:
        raise InputError(f"{where}: approvals must be a whole number, 0 or more, not {approvals!r}")
    promoters = entry.get("promoters", list(base.promoters))
    if not isinstance(promoters, list) or not all(
        isinstance(p, str) and p.strip() for p in promoters
    ):
        raise InputError(
            f"{where}: promoters must be a list of trusted key names or fingerprints "
            f'(for example ["rm-anna"]), not {promoters!r}'
        )
    return Rule(base.environment, require, approvals, tuple(promoters), configured=True)
