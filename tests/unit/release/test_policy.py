"""Promotion policy: defaults, policy.toml, the order rules, and errors in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from relman.errors import InputError, UsageError
from relman.model import Environment, Profile
from relman.release import policy
from relman.release.policy import Policy, Rule, default_rule, load_policy
from tests.unit.release.lineage_support import public

PROFILE = Profile(
    "acme",
    "local",
    "/nowhere",
    environments=(
        Environment("dev", "repository", repo="libs-dev"),
        Environment("qa", "repository", repo="libs-qa"),
        Environment("staging", "repository", repo="libs-staging"),
        Environment("prod", "label", label="relman.environment"),
    ),
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    got = load_policy(PROFILE, tmp_path / "policy.toml")
    assert got.environments == ("dev", "qa", "staging", "prod")
    assert got.rule("qa") == Rule("qa", require_signature=True, approvals=0)
    assert got.rule("prod") == Rule("prod", require_signature=True, approvals=1)
    assert not got.rule("prod").configured
    assert got.previous("qa") == "dev" and got.previous("dev") is None
    assert got.is_last("prod") and not got.is_last("staging")
    assert got.source == tmp_path / "policy.toml"


def test_the_default_file_is_in_the_config_dir(relman_home: Path) -> None:
    assert policy.policy_path() == relman_home / "config" / "policy.toml"
    policy.policy_path().parent.mkdir(parents=True)
    policy.policy_path().write_text("[profiles.acme.environments.qa]\napprovals = 3\n")
    assert load_policy(PROFILE).rule("qa").approvals == 3


def test_rules_from_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
schema = 1
[profiles.acme.environments.qa]
require_signature = false
[profiles.acme.environments.prod]
approvals = 2
promoters = ["rm-anna", "SHA256:abcd"]
[profiles.other.environments.prod]
approvals = 5
""",
    )
    got = load_policy(PROFILE, path)
    assert got.rule("qa") == Rule("qa", require_signature=False, approvals=0, configured=True)
    assert got.rule("staging") == default_rule("staging", last=False)
    prod = got.rule("prod")
    assert (prod.approvals, prod.promoters, prod.configured) == (
        2,
        ("rm-anna", "SHA256:abcd"),
        True,
    )
    assert prod.describe() == (
        "a trusted signature required; 2 approvals; promoters: rm-anna, SHA256:abcd"
    )
    assert got.rule("qa").describe() == (
        "no signature required; no approval; promoters: any trusted key"
    )
    assert (
        default_rule("prod", last=True)
        .describe()
        .endswith("; 1 approval; promoters: any trusted key")
    )


def test_allowed_promoters_by_trust_store_name_or_fingerprint() -> None:
    anna, ben = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    keys = [public(anna, "rm-anna"), public(ben, "rm-ben")]
    anyone = Rule("prod")
    assert anyone.allows(keys[1].fingerprint, keys)
    by_name = Rule("prod", promoters=("rm-anna",))
    assert by_name.allows(keys[0].fingerprint, keys)
    assert not by_name.allows(keys[1].fingerprint, keys)
    by_print = Rule("prod", promoters=(keys[1].fingerprint,))
    assert by_print.allows(keys[1].fingerprint, [])
    assert not by_print.allows(keys[0].fingerprint, keys)


def test_order_problems_in_plain_words(tmp_path: Path) -> None:
    got = load_policy(PROFILE, tmp_path / "none.toml")
    assert got.order_problem("acme/1", ["dev"], "qa") is None
    assert got.order_problem("acme/1", ["dev", "qa"], "staging") is None
    assert got.order_problem("acme/1", ["dev"], "dev") == (
        "dev is the first environment: builds arrive there by deployment, not by promotion"
    )
    assert got.order_problem("acme/1", ["dev", "qa"], "qa") == "acme/1 is in qa already"
    assert got.order_problem("acme/1", ["dev"], "prod") == (
        "acme/1 is not in staging: a build reaches prod only from staging, the environment "
        "before it (it is in dev)"
    )
    assert got.order_problem("acme/1", [], "qa").endswith("(it is in no environment)")
    assert got.rollback_problem("qa") is None
    assert "dev is the first environment: a rollback" in (got.rollback_problem("dev") or "")
    with pytest.raises(UsageError, match=r"'uat' is not an environment of profile acme \(dev, qa"):
        got.rule("uat")
    empty = Policy("bare", (), {})
    with pytest.raises(UsageError, match=r"of profile bare \(none\)"):
        empty.previous("qa")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = 2\n", "schema 2 is newer than this relman understands (1)"),
        ("schema = true\n", "schema True is newer"),
        ("profiles = 3\n", "'profiles' must be a table of profiles"),
        ("[profiles]\nacme = 1\n", "profile 'acme' must be a table ([profiles.acme])"),
        (
            "[profiles.acme]\napprovals = 1\n",
            "profile 'acme': unknown setting 'approvals'; rules go under "
            "[profiles.acme.environments.ENV]",
        ),
        ("[profiles.acme]\nenvironments = 1\n", "'environments' must be a table"),
        (
            "[profiles.acme.environments.uat]\napprovals = 1\n",
            "'uat' is not one of the profile's environments (dev, qa, staging, prod)",
        ),
        (
            "[profiles.acme.environments.dev]\napprovals = 1\n",
            "dev is the first environment; builds arrive there by deployment",
        ),
        ("[profiles.acme.environments]\nqa = 1\n", "environment 'qa' must be a table"),
        (
            "[profiles.acme.environments.qa]\naprovals = 1\n",
            "environment 'qa': unknown setting 'aprovals' (known: approvals, promoters, "
            "require_signature)",
        ),
        (
            "[profiles.acme.environments.qa]\nrequire_signature = 'yes'\n",
            "require_signature must be true or false, not 'yes'",
        ),
        (
            "[profiles.acme.environments.qa]\napprovals = -1\n",
            "approvals must be a whole number, 0 or more, not -1",
        ),
        ("[profiles.acme.environments.qa]\napprovals = true\n", "not True"),
        ("[profiles.acme.environments.qa]\napprovals = 1.5\n", "not 1.5"),
        (
            "[profiles.acme.environments.qa]\npromoters = 'rm-anna'\n",
            "promoters must be a list of trusted key names or fingerprints",
        ),
        ("[profiles.acme.environments.qa]\npromoters = ['']\n", "not ['']"),
        ("[profiles.acme.environments.qa]\npromoters = [1]\n", "not [1]"),
        ("[profiles.acme\n", "cannot be read as a relman policy"),
    ],
)
def test_mistakes_are_explained(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_policy(PROFILE, path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "policy.toml"
    folder.mkdir()
    with pytest.raises(InputError, match="cannot be read as a relman policy"):
        load_policy(PROFILE, folder)
