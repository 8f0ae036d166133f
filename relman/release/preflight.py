"""Preflight: every check a promotion must pass, each with its result and its reason.

:func:`preflight` runs the checks of :data:`CHECKS` in order against a
:class:`~relman.release.plan.Plan`, reporting each as it starts and ends (the Promote dialog
shows them live), and returns a :class:`Preflight`. Nothing is written.

- ``interrupted``: no earlier promotion of the profile stopped between its intent and its
  outcome in the audit log (it must be resumed or undone first);
- ``identity``: the build has a traceable identity (start time, number >= 1, full commit);
- ``environment-order``: the build is in the environment just before the target and not in
  the target, it reached every environment it is in through the one before, with a valid
  promotion record (a rollback: the target held the build before and holds newer ones now);
- ``promoter``: the promoter's key is in the trust store (its record must verify) and the
  policy lets it promote into the target;
- ``bytes``: every artifact is downloaded again through the registry (streamed to a temporary
  folder) and re-hashed, and its SHA-256 equals the registry's, the build record's, and so the
  one its signatures are checked against;
- ``signatures``: the signature and provenance files beside each artifact verify against the
  re-hashed bytes with trusted keys; one that does not verify fails the check, and an artifact
  with none fails it where the policy requires a signature;
- ``build-once``: lineage has no ``rebuilt`` or ``overwritten`` finding for the build;
- ``target``: no path the promotion writes holds other bytes already;
- ``writes``: the backend can make every write (its capabilities, a dry run of each);
- ``approvals``: enough approvals of this plan's digest, by trusted keys other than the
  promoter's, for the policy of the target.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relman import keystore
from relman.errors import RelmanError
from relman.model import CancelToken, Digests, ProgressCallback
from relman.registry.base import SIGNATURE_SIDECARS, Registry
from relman.release import approvals
from relman.release.audit import Entry
from relman.release.plan import ORDER, TARGET, WRITES, Plan
from relman.release.policy import Policy
from relman.verify.hashing import hash_file
from relman.verify.signatures.base import WHOLE_FILE, Artifact, Context, SignatureResult
from relman.verify.signatures.dispatch import prepare_bytes

CHECKS = (
    "interrupted",
    "identity",
    ORDER,
    "promoter",
    "bytes",
    "signatures",
    "build-once",
    TARGET,
    WRITES,
    "approvals",
)
_DOWNLOADED = frozenset({"sha256", "sha1", "md5", WHOLE_FILE})


@dataclass(frozen=True, slots=True)
class Check:
    """One check's result; ``detail`` says why, in words, whether it passed or not."""

    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Preflight:
    """Every check of a plan; a promotion may go ahead only when :attr:`ok`."""

    checks: tuple[Check, ...]
    approvals: tuple[approvals.Approval, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.checks]


@dataclass(frozen=True, slots=True)
class Promoter:
    """The key a promotion is signed with: its name and fingerprint are public; the private
    half is unlocked from the OS keyring only when the promotion is executed."""

    name: str
    fingerprint: str
    loader: Callable[[], keystore.PrivateKey] | None = field(
        default=None, compare=False, repr=False
    )

    @classmethod
    def from_keystore(cls, name: str) -> Promoter:
        """A signing key of ``relman keys`` (raises :class:`UsageError` for an unknown one)."""
        return cls(name, keystore.get_key(name).fingerprint)

    def private_key(self) -> keystore.PrivateKey:
        return self.loader() if self.loader is not None else keystore.load_private(self.name)


OnStart = Callable[[str], None]
OnCheck = Callable[[Check], None]


def preflight(
    plan: Plan,
    *,
    registry: Registry,
    policy: Policy,
    context: Context,
    promoter: Promoter | None,
    interrupted: Sequence[Entry] = (),
    resuming: int | None = None,
    on_start: OnStart | None = None,
    on_check: OnCheck | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Preflight:
    """Run every check on ``plan``. ``interrupted``: the audit log's pending intents;
    ``resuming``: the seq of the intent being resumed (it is expected to be pending, and the
    build may be in the target already). Raises :class:`~relman.errors.Cancelled` when
    ``cancel`` is set."""
    run = _Run(plan, registry, policy, context, promoter, progress, cancel)
    steps: dict[str, Callable[[], Check]] = {
        "interrupted": lambda: run.interrupted(interrupted, resuming),
        "identity": run.identity,
        ORDER: lambda: run.order(resuming is not None),
        "promoter": run.promoter,
        "bytes": run.rehash,
        "signatures": run.signatures,
        "build-once": run.build_once,
        TARGET: run.target,
        WRITES: run.writes,
        "approvals": run.approvals,
    }
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="relman-preflight-") as folder:
        run.folder = Path(folder)
        for name in CHECKS:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if on_start is not None:
                on_start(name)
            check = steps[name]()
            checks.append(check)
            if on_check is not None:
                on_check(check)
    return Preflight(tuple(checks), run.counted)


class _Run:
    """The state one preflight shares between its checks (the downloaded bytes)."""

    def __init__(
        self,
        plan: Plan,
        registry: Registry,
        policy: Policy,
        context: Context,
        promoter: Promoter | None,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        self.plan = plan
        self.registry = registry
        self.rule = policy.rule(plan.target)
        self.policy = policy
        self.context = context
        self.key = promoter
        self.progress = progress
        self.cancel = cancel
        self.folder: Path | None = None
        self.fetched: dict[str, tuple[Path, Digests]] = {}
        self.counted: tuple[approvals.Approval, ...] = ()

    # -- the checks ------------------------------------------------------------------------

    def interrupted(self, pending: Sequence[Entry], resuming: int | None) -> Check:
        stuck = [
            e
            for e in pending
            if e.body.get("profile") == self.plan.profile.name and e.seq != resuming
        ]
        if not stuck:
            return Check("interrupted", True, "no interrupted promotion in the audit log")
        described = "; ".join(
            f"{e.body.get('build', '?')} to {e.body.get('to', '?')} (audit entry {e.seq}, {e.time})"
            for e in stuck
        )
        profile = self.plan.profile.name
        return Check(
            "interrupted",
            False,
            f"a promotion was interrupted: {described}; finish it with 'relman promote --profile "
            f"{profile} --resume' or revert it with '--undo' first",
        )

    def identity(self) -> Check:
        node = self.plan.node
        if node.identity is None:
            why = next(
                (f.detail for f in self.plan.lineage.findings_of(node) if f.kind == "untraceable"),
                "the build has no identity",
            )
            return Check("identity", False, f"{node.label}: {why}")
        return Check(
            "identity",
            True,
            f"{node.label} is {node.identity.full} (start time, build number, commit)",
        )

    def order(self, resuming: bool) -> Check:
        plan = self.plan
        problems = list(plan.problems.get(ORDER, ()))
        if not plan.request.rollback:
            present = [e for e in plan.present if not (resuming and e == plan.target)]
            problem = self.policy.order_problem(plan.build, present, plan.target)
            if problem is not None:
                problems.append(problem)
            problems.extend(self._history(present))
        if problems:
            return Check(ORDER, False, "; ".join(problems))
        if plan.request.rollback:
            return Check(
                ORDER,
                True,
                f"{plan.target} held {plan.build} before; it returns to it from "
                f"{', '.join(plan.replaces)}",
            )
        order = " -> ".join(self.policy.environments)
        return Check(ORDER, True, f"{plan.source} -> {plan.target} is the next step ({order})")

    def _history(self, present: Sequence[str]) -> Iterator[str]:
        """How the build reached the environments it is in: through the one before each,
        with a valid promotion record (what lineage calls skipped-stage and
        unverified-promotion)."""
        node = self.plan.node
        envs = self.policy.environments
        valid = [p for p in node.promotions if p.ok]
        reached = set(present) | {p.environment for p in valid}
        reached |= {p.source for p in valid if p.source}
        for k, env in enumerate(envs):
            if k == 0 or env not in present:
                continue
            if envs[k - 1] not in reached:
                yield f"{node.label} reached {env} without having been in {envs[k - 1]}"
            if not any(p.environment == env for p in valid):
                yield f"{node.label} is in {env} without a valid promotion record"

    def promoter(self) -> Check:
        key = self.key
        if key is None:
            return Check(
                "promoter",
                False,
                "no promoter key: give the signing key the promotion is signed with "
                "(--key NAME, see 'relman keys list')",
            )
        trusted = [k for k in self.context.keys if k.fingerprint == key.fingerprint]
        label = f"{key.name} ({key.fingerprint[:19]}…)"
        if not trusted:
            return Check(
                "promoter",
                False,
                f"key {label} is not in the trust store, so the promotion record it signs "
                f"would not verify (relman keys export {key.name} > {key.name}.pem; relman "
                f"trust add {key.name} {key.name}.pem)",
            )
        if not self.rule.allows(key.fingerprint, self.context.keys):
            return Check(
                "promoter",
                False,
                f"the policy for {self.plan.target} lets {', '.join(self.rule.promoters)} "
                f"promote; key {label} is not one of them",
            )
        return Check(
            "promoter",
            True,
            f"{label}, trusted as {trusted[0].name}, may promote into {self.plan.target}",
        )

    def rehash(self) -> Check:
        plan = self.plan
        problems = []
        total = sum(a.source.size or 0 for a in plan.artifacts if a.source is not None)
        done = 0
        assert self.folder is not None
        for index, art in enumerate(plan.artifacts):
            loc = art.source
            if art.sha256 is None:
                problems.append(f"{art.name}: the build record gives no sha256")
            elif loc is None:
                where = plan.source or plan.target
                problems.append(f"{art.name}: not in {where}, so there are no bytes to promote")
            elif loc.sha256 is None:
                problems.append(f"{art.name}: the registry records no sha256 for {loc}")
            elif loc.sha256 != art.sha256:
                problems.append(
                    f"{art.name}: the registry records sha256 {loc.sha256} for {loc}, the "
                    f"build record {art.sha256}"
                )
            else:
                dest = self.folder / str(index)
                base = done

                def report(read: int, _total: int, base: int = base) -> None:
                    if self.progress is not None:
                        self.progress(base + read, total)

                try:
                    digests = self.registry.download(
                        loc.repo, loc.path, dest, progress=report, cancel=self.cancel
                    )
                except RelmanError as exc:
                    problems.append(f"{art.name}: {exc}")
                    continue
                finally:
                    done += loc.size or 0
                if digests.sha256 != art.sha256:
                    problems.append(
                        f"{art.name}: the bytes of {loc} have sha256 {digests.sha256}, the build "
                        f"record {art.sha256}"
                    )
                    continue
                self.fetched[art.name] = (dest, digests)
        if problems:
            return Check("bytes", False, "; ".join(problems))
        return Check(
            "bytes",
            True,
            f"{len(plan.artifacts)} artifacts downloaded again and re-hashed: each SHA-256 "
            "equals the registry's and the build record's",
        )

    def signatures(self) -> Check:
        plan = self.plan
        problems: list[str] = []
        notes: list[str] = []
        signers: set[str] = set()
        for art in plan.artifacts:
            fetched = self.fetched.get(art.name)
            if fetched is None or art.source is None:
                problems.append(f"{art.name}: not checked, its bytes could not be re-read")
                continue
            loc = art.source
            try:
                sidecars = self.registry.sidecars(loc.repo, loc.path)
            except RelmanError as exc:
                problems.append(f"{art.name}: {exc}")
                continue
            results = [
                self._verify(f"{loc}{suffix}", data, *fetched)
                for suffix, data in sidecars.items()
                if suffix in SIGNATURE_SIDECARS
            ]
            bad = [r.detail for r in results if not r.ok]
            good = [r for r in results if r.ok]
            signers.update(r.signer or "?" for r in good)
            if bad:
                problems.extend(f"{art.name}: {detail}" for detail in bad)
            elif not good and self.rule.require_signature:
                problems.append(
                    f"{art.name}: no signature by a trusted key beside {loc} (the policy for "
                    f"{plan.target} requires one)"
                )
            elif not good:
                notes.append(f"{art.name} is not signed ({plan.target} does not require it)")
        if problems:
            return Check("signatures", False, "; ".join(problems))
        who = ", ".join(sorted(signers)) or "nobody"
        detail = f"verified against the re-hashed bytes; signed by {who}"
        return Check("signatures", True, "; ".join([detail, *notes]))

    def _verify(self, source: str, data: bytes, path: Path, digests: Digests) -> SignatureResult:
        prepared = prepare_bytes(data, source, self.context)
        known = {name: bytes.fromhex(value) for name, value in digests.as_dict().items()}
        extra = prepared.needs - _DOWNLOADED
        if extra:
            more = hash_file(path, sorted(extra), cancel=self.cancel).digests
            known.update({name: bytes.fromhex(value) for name, value in more.items()})
        return prepared.finish(Artifact(path=path, size=digests.size, digests=known))

    def build_once(self) -> Check:
        node = self.plan.node
        found = [
            f"{f.kind}: {f.artifact}: {f.detail}"
            for f in self.plan.lineage.findings_of(node)
            if f.kind in ("rebuilt", "overwritten")
        ]
        if found:
            return Check("build-once", False, "; ".join(found))
        return Check("build-once", True, f"no rebuilt or overwritten finding for {node.label}")

    def target(self) -> Check:
        problems = self.plan.problems.get(TARGET, ())
        if problems:
            return Check(TARGET, False, "; ".join(problems))
        env = self.plan.profile.environment(self.plan.target)
        assert env is not None
        if env.mode == "label":
            return Check(
                TARGET, True, f"{env.name} is a label: no bytes are written, the label is added"
            )
        return Check(
            TARGET, True, f"no other bytes at the paths the promotion writes in {env.repo}"
        )

    def writes(self) -> Check:
        problems = self.plan.problems.get(WRITES, ())
        if problems:
            return Check(WRITES, False, "; ".join(problems))
        counts: dict[str, int] = {}
        for write in self.plan.writes:
            counts[write.action] = counts.get(write.action, 0) + 1
        listed = ", ".join(f"{n} {action}" for action, n in counts.items())
        return Check(
            WRITES,
            True,
            f"{len(self.plan.writes)} writes {self.registry.capabilities.name} can make: {listed}",
        )

    def approvals(self) -> Check:
        plan = self.plan
        try:
            stored = self.registry.approvals(plan.request.name, plan.request.number)
        except RelmanError as exc:
            return Check("approvals", False, f"the approvals cannot be read: {exc}")
        result = approvals.tally(
            stored,
            build=plan.build,
            target=plan.target,
            digest=plan.digest,
            promoter=self.key.fingerprint if self.key is not None else None,
            keys=self.context.keys,
            required=self.rule.approvals,
        )
        self.counted = result.counted
        detail = result.detail
        if not result.ok:
            detail += (
                f"; approvers run 'relman approve --profile {plan.profile.name} --build "
                f"{plan.build} --to {plan.target} --key NAME' (plan {plan.digest[:12]}…)"
            )
        return Check("approvals", result.ok, detail)
