"""The embedded local registry on a real folder: no mocked file system."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relman.errors import Cancelled, InputError, UsageError, VerificationError
from relman.model import ArtifactRecord, CancelToken, Location, RepoPath, Repository
from relman.registry import buildinfo
from relman.registry.base import Conflict, NotFound, Registry, Write
from relman.registry.local import LocalRegistry

COMMIT = "3f1c2a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"
OTHER = "0123456789abcdef0123456789abcdef01234567"
T0 = datetime(2025, 3, 2, 10, 10, tzinfo=UTC)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``root`` with its mode and content digest."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = Path(dirpath, name)
            out[str(full.relative_to(root))] = (full.stat().st_mode, sha256(full.read_bytes()))
    return out


@pytest.fixture
def reg(tmp_path: Path) -> LocalRegistry:
    registry = LocalRegistry(tmp_path / "registry", create=True)
    registry.create_repository("libs-dev")
    registry.create_repository("libs-qa", package_type="npm")
    return registry


def deploy_build(reg: LocalRegistry, number: int, data: bytes, commit: str = COMMIT) -> None:
    path = f"acme/{number}/app.tgz"
    reg.deploy(
        "libs-dev",
        path,
        data,
        {"build.name": "acme", "build.number": str(number), "vcs.revision": commit},
    )
    reg.publish_build(
        buildinfo.make_record(
            "acme",
            number,
            started=T0 + timedelta(hours=number),
            commit=commit,
            artifacts=[ArtifactRecord("app.tgz", sha256=sha256(data), path=path, module="acme")],
        )
    )


# -- opening ------------------------------------------------------------------------------


def test_layout_and_reopening(tmp_path: Path, reg: LocalRegistry) -> None:
    root = reg.root
    assert json.loads((root / ".relman/registry.json").read_text()) == {
        "format": "relman-local-registry",
        "schema": 1,
    }
    for folder in ("repos/libs-dev", ".relman/items", ".relman/builds", ".relman/tmp"):
        assert (root / folder).is_dir()
    again = LocalRegistry(root)
    assert list(again.repositories()) == [
        Repository("libs-dev", "local", "generic"),
        Repository("libs-qa", "local", "npm"),
    ]
    assert isinstance(again, Registry)
    assert repr(again) == f"LocalRegistry({str(root)!r})"
    caps = again.capabilities
    assert caps.properties and caps.copy and caps.move and caps.signatures
    assert not caps.build_promotion and not caps.tags and not caps.staging_move


def test_opening_what_is_not_a_registry(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no relman local registry here"):
        LocalRegistry(tmp_path / "none")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty and is not a relman local registry"):
        LocalRegistry(busy, create=True)
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        LocalRegistry(afile, create=True)
    bad = tmp_path / "bad"
    (bad / ".relman").mkdir(parents=True)
    (bad / ".relman/registry.json").write_text("{")
    with pytest.raises(InputError, match="unreadable registry marker"):
        LocalRegistry(bad)
    (bad / ".relman/registry.json").write_text('{"format": "other"}')
    with pytest.raises(InputError, match="not a relman local registry marker"):
        LocalRegistry(bad)
    (bad / ".relman/registry.json").write_text('{"format": "relman-local-registry", "schema": 9}')
    with pytest.raises(InputError, match="schema 9 is newer"):
        LocalRegistry(bad)


def test_empty_registry(tmp_path: Path) -> None:
    reg = LocalRegistry(tmp_path / "r", create=True)
    assert list(reg.build_names()) == []
    assert list(reg.find_by_sha256("0" * 64)) == []
    (reg.root / "repos" / "not a key").mkdir()
    (reg.root / "repos" / "stray-file").write_text("x")
    assert list(reg.repositories()) == []
    with pytest.raises(NotFound, match="no repository 'x'"):
        list(reg.items("x"))
    with pytest.raises(NotFound, match="no build named 'acme'"):
        reg.build_numbers("acme")


# -- deploy, locate, find -----------------------------------------------------------------


def test_deploy_and_locate(tmp_path: Path, reg: LocalRegistry) -> None:
    source = tmp_path / "app.tgz"
    source.write_bytes(b"A" * 3_000_000)
    seen: list[tuple[int, int]] = []
    write = reg.deploy(
        "libs-dev",
        "acme/1/app.tgz",
        source,
        {"team": ["a", "b", "a"]},
        progress=lambda d, t: seen.append((d, t)),
    )
    assert write == Write(
        "deploy", "libs-dev/acme/1/app.tgz", f"sha256 {sha256(source.read_bytes())}"
    )
    assert seen[-1] == (3_000_000, 3_000_000) and len(seen) == 3
    loc = reg.location("libs-dev", "acme/1/app.tgz")
    assert (loc.size, loc.sha256, loc.name) == (3_000_000, sha256(b"A" * 3_000_000), "app.tgz")
    assert loc.sha1 == hashlib.sha1(b"A" * 3_000_000).hexdigest()
    assert loc.md5 == hashlib.md5(b"A" * 3_000_000).hexdigest()
    assert dict(loc.properties) == {"team": ("a", "b")}
    assert loc.created is not None and loc.created.tzinfo is not None
    assert str(loc) == "libs-dev/acme/1/app.tgz" and loc.ref == RepoPath(
        "libs-dev", "acme/1/app.tgz"
    )
    assert (reg.root / "repos/libs-dev/acme/1/app.tgz").read_bytes() == source.read_bytes()
    meta = json.loads((reg.root / ".relman/items/libs-dev/acme/1/app.tgz.json").read_text())
    assert meta["checksums"]["sha256"] == loc.sha256 and meta["properties"] == {"team": ["a", "b"]}
    assert list(reg.items("libs-dev")) == [loc]
    assert list(reg.items("libs-dev", "acme")) == [loc]
    assert reg.properties("libs-dev", "acme/1/app.tgz") == loc.properties
    assert os.listdir(reg.root / ".relman/tmp") == []
    with pytest.raises(NotFound, match="libs-dev/nope: no such item"):
        reg.location("libs-dev", "nope")


def test_same_bytes_again_changes_only_properties(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "a.bin", b"one")
    write = reg.deploy("libs-dev", "a.bin", b"one", {"k": "v"})
    assert write.detail == "already there with the same sha256"
    assert reg.properties("libs-dev", "a.bin") == {"k": ("v",)}
    assert reg.deploy("libs-dev", "a.bin", b"one").detail == "already there with the same sha256"


def test_bytes_are_never_rewritten(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "a.bin", b"one")
    before = listing(reg.root)
    with pytest.raises(Conflict) as caught:
        reg.deploy("libs-dev", "a.bin", b"two", {"k": "v"})
    assert str(caught.value) == (
        f"libs-dev/a.bin: already holds different bytes (sha256 {sha256(b'one')}); relman never "
        "rewrites an artifact, deploy to a new path instead"
    )
    assert listing(reg.root) == before
    # A file put there by hand (no metadata) is compared by its bytes.
    (reg.root / "repos/libs-dev/hand.bin").write_bytes(b"hand")
    with pytest.raises(Conflict):
        reg.deploy("libs-dev", "hand.bin", b"other")
    assert reg.deploy("libs-dev", "hand.bin", b"hand").detail.startswith("already there")


def test_hand_placed_file_has_no_recorded_digests(reg: LocalRegistry) -> None:
    (reg.root / "repos/libs-dev/dir").mkdir()
    (reg.root / "repos/libs-dev/dir/hand.bin").write_bytes(b"hand")
    loc = reg.location("libs-dev", "dir/hand.bin")
    assert (loc.size, loc.sha256, loc.created, dict(loc.properties)) == (4, None, None, {})


def test_find_by_sha256_build_commit_and_property(reg: LocalRegistry) -> None:
    deploy_build(reg, 1, b"build one")
    deploy_build(reg, 2, b"build two", commit=OTHER)
    reg.copy(RepoPath("libs-dev", "acme/1/app.tgz"), RepoPath("libs-qa", "acme/1/app.tgz"))
    # An item with no build properties, found through the build record's checksums.
    reg.deploy("libs-qa", "loose/app.tgz", b"build two")
    # Same bytes, but its properties say another build: not build 2's.
    reg.deploy(
        "libs-qa", "other/app.tgz", b"build two", {"build.name": "else", "build.number": "2"}
    )

    def refs(locs: object) -> list[str]:
        return sorted(str(loc) for loc in locs)  # type: ignore[attr-defined]

    assert refs(reg.find_by_sha256(sha256(b"build one").upper())) == [
        "libs-dev/acme/1/app.tgz",
        "libs-qa/acme/1/app.tgz",
    ]
    assert refs(reg.find_by_build("acme", "1")) == [
        "libs-dev/acme/1/app.tgz",
        "libs-qa/acme/1/app.tgz",
    ]
    assert refs(reg.find_by_build("acme", "2")) == [
        "libs-dev/acme/2/app.tgz",
        "libs-qa/loose/app.tgz",
    ]
    assert refs(reg.find_by_build("nobuild", "1")) == []
    assert refs(reg.find_by_commit(COMMIT)) == ["libs-dev/acme/1/app.tgz", "libs-qa/acme/1/app.tgz"]
    # By prefix, upper case; and items reached only through the build record's commit.
    assert refs(reg.find_by_commit(OTHER[:10].upper())) == [
        "libs-dev/acme/2/app.tgz",
        "libs-qa/loose/app.tgz",
    ]
    with pytest.raises(UsageError, match="too short"):
        list(reg.find_by_commit("abc"))
    assert refs(reg.find_by_property("build.number", "2")) == [
        "libs-dev/acme/2/app.tgz",
        "libs-qa/other/app.tgz",
    ]
    with pytest.raises(UsageError, match="is not a property name"):
        list(reg.find_by_property("a=b", "x"))


# -- builds -------------------------------------------------------------------------------


def test_builds(reg: LocalRegistry) -> None:
    for number in (9, 10, 2):
        deploy_build(reg, number, f"b{number}".encode())
    reg.publish_build({"name": "acme", "number": "rc-1"})  # no start time: oldest
    reg.publish_build(
        b'{"name": "acme/web", "number": "1", "started": "2025-01-01T00:00:00.000+0300"}'
    )
    assert list(reg.build_names()) == ["acme", "acme/web"]
    assert (reg.root / ".relman/builds/acme%2Fweb/1.json").is_file()
    assert reg.build_numbers("acme") == ["10", "9", "2", "rc-1"]
    record = reg.build_record("acme", "10")
    assert record.vcs_revision == COMMIT and str(record.identity).endswith(".10.3f1c2a9d8e7b")
    with pytest.raises(NotFound, match="no build acme/11"):
        reg.build_record("acme", "11")
    # Republishing the same run (a status appended) replaces it ...
    from dataclasses import replace

    from relman.model import BuildStatus

    promoted = replace(record, statuses=(BuildStatus("qa", repository="libs-qa"),))
    assert reg.publish_build(promoted) == Write("publish-build", "build acme/10", "1 artifacts")
    assert reg.build_record("acme", "10").statuses[0].status == "qa"
    # ... a different run under the same number is refused.
    with pytest.raises(Conflict, match="already published with start time 2025-03-02T20:10:00.000"):
        reg.publish_build(replace(record, started=T0, started_raw=""))
    for bad, message in (("", "empty"), (".hidden", "starts with '.'"), ("a\x00b", "NUL")):
        with pytest.raises(UsageError, match=message):
            reg.build_record(bad, "1")
        with pytest.raises(UsageError, match=message):
            reg.build_record("acme", bad)


# -- properties ---------------------------------------------------------------------------


def test_set_and_delete_properties(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "a.bin", b"a", {"keep": "1", "env": "dev"})
    write = reg.set_properties("libs-dev", "a.bin", {"env": ["dev", "qa"], "by": "rm"})
    assert str(write) == "set-properties libs-dev/a.bin: env=dev,qa; by=rm"
    assert dict(reg.properties("libs-dev", "a.bin")) == {
        "keep": ("1",),
        "env": ("dev", "qa"),
        "by": ("rm",),
    }
    write = reg.delete_properties("libs-dev", "a.bin", ["by", "absent"])
    assert write == Write("delete-properties", "libs-dev/a.bin", "by, absent")
    assert set(reg.properties("libs-dev", "a.bin")) == {"keep", "env"}
    before = listing(reg.root)
    dry = reg.set_properties("libs-dev", "a.bin", {"env": "prod"}, dry_run=True)
    assert str(dry) == "would set-properties libs-dev/a.bin: env=prod"
    reg.delete_properties("libs-dev", "a.bin", ["env"], dry_run=True)
    assert listing(reg.root) == before
    for bad in ("", " x", "a=b", "a;b", "a,b"):
        with pytest.raises(UsageError, match="is not a property name"):
            reg.set_properties("libs-dev", "a.bin", {bad: "v"})
    with pytest.raises(UsageError, match="without NUL"):
        reg.set_properties("libs-dev", "a.bin", {"k": "a\x00"})
    with pytest.raises(UsageError, match="no property given"):
        reg.set_properties("libs-dev", "a.bin", {})
    with pytest.raises(UsageError, match="no property name given"):
        reg.delete_properties("libs-dev", "a.bin", [])
    with pytest.raises(NotFound):
        reg.set_properties("libs-dev", "missing.bin", {"k": "v"})


def test_properties_on_a_hand_placed_file(reg: LocalRegistry) -> None:
    (reg.root / "repos/libs-dev/hand.bin").write_bytes(b"hand")
    reg.set_properties("libs-dev", "hand.bin", {"k": "v"})
    loc = reg.location("libs-dev", "hand.bin")
    assert dict(loc.properties) == {"k": ("v",)} and loc.sha256 is None


def test_unreadable_metadata_is_one_line(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "a.bin", b"a")
    meta = reg.root / ".relman/items/libs-dev/a.bin.json"
    meta.write_text("{not json")
    with pytest.raises(InputError, match="a.bin.json: unreadable registry metadata"):
        reg.location("libs-dev", "a.bin")
    meta.write_text("[1]")
    with pytest.raises(InputError, match="is not a JSON object"):
        reg.location("libs-dev", "a.bin")
    meta.write_text('{"checksums": [], "created": "garbage", "properties": {"k": "single"}}')
    loc = reg.location("libs-dev", "a.bin")
    assert (loc.sha256, loc.created, dict(loc.properties)) == (None, None, {"k": ("single",)})
    meta.write_text('{"properties": []}')
    assert dict(reg.location("libs-dev", "a.bin").properties) == {}


def _set_many(root: str, key: str, count: int) -> None:
    reg = LocalRegistry(root)
    for i in range(count):
        reg.set_properties("libs-dev", "shared.bin", {f"{key}.{i}": str(i)})


def test_two_processes_lose_nothing(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "shared.bin", b"shared")
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_set_many, args=(str(reg.root), key, 40)) for key in ("left", "right")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    props = reg.properties("libs-dev", "shared.bin")
    assert len(props) == 80
    assert all(f"{key}.{i}" in props for key in ("left", "right") for i in range(40))


# -- copy and move ------------------------------------------------------------------------


def test_copy_and_dry_run(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "a/app.tgz", b"app" * 1000, {"build.name": "acme"})
    src, dst = RepoPath("libs-dev", "a/app.tgz"), RepoPath("libs-qa", "b/app.tgz")
    before = listing(reg.root)
    dry = reg.copy(src, dst, dry_run=True)
    assert (
        str(dry)
        == f"would copy libs-qa/b/app.tgz: from libs-dev/a/app.tgz (sha256 {sha256(b'app' * 1000)})"
    )
    assert listing(reg.root) == before
    seen: list[int] = []
    write = reg.copy(src, dst, progress=lambda d, t: seen.append(d))
    assert write == Write("copy", "libs-qa/b/app.tgz", dry.detail)
    assert seen == [3000]
    copied = reg.location("libs-qa", "b/app.tgz")
    assert copied.sha256 == reg.location("libs-dev", "a/app.tgz").sha256
    assert dict(copied.properties) == {"build.name": ("acme",)}
    assert not os.path.samefile(
        reg.root / "repos/libs-dev/a/app.tgz", reg.root / "repos/libs-qa/b/app.tgz"
    )
    # Again: the same bytes are there, nothing is written.
    before = listing(reg.root)
    assert reg.copy(src, dst).detail == "already there with the same sha256 as libs-dev/a/app.tgz"
    assert reg.copy(src, dst, dry_run=True).dry_run
    assert listing(reg.root) == before
    reg.deploy("libs-qa", "c/app.tgz", b"different")
    with pytest.raises(Conflict, match="copy to a new path instead"):
        reg.copy(src, RepoPath("libs-qa", "c/app.tgz"))
    with pytest.raises(Conflict):
        reg.copy(src, RepoPath("libs-qa", "c/app.tgz"), dry_run=True)
    with pytest.raises(UsageError, match="onto itself"):
        reg.copy(src, src)
    with pytest.raises(NotFound, match="no repository 'libs-prod'"):
        reg.copy(src, RepoPath("libs-prod", "x"))
    with pytest.raises(NotFound):
        reg.copy(RepoPath("libs-dev", "nope"), dst)


def test_move_and_dry_run(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "a/app.tgz", b"app", {"k": "v"})
    src, dst = RepoPath("libs-dev", "a/app.tgz"), RepoPath("libs-qa", "app.tgz")
    before = listing(reg.root)
    assert reg.move(src, dst, dry_run=True).dry_run
    assert listing(reg.root) == before
    write = reg.move(src, dst)
    assert write.action == "move" and write.target == "libs-qa/app.tgz"
    with pytest.raises(NotFound):
        reg.location("libs-dev", "a/app.tgz")
    assert not (reg.root / ".relman/items/libs-dev/a/app.tgz.json").exists()
    moved = reg.location("libs-qa", "app.tgz")
    assert moved.sha256 == sha256(b"app") and dict(moved.properties) == {"k": ("v",)}
    # A move onto the same bytes leaves the source in place.
    reg.deploy("libs-dev", "again.tgz", b"app")
    assert reg.move(RepoPath("libs-dev", "again.tgz"), dst).detail.startswith("already there")
    assert reg.location("libs-dev", "again.tgz").sha256 == moved.sha256


def test_copy_proves_the_bytes(reg: LocalRegistry) -> None:
    """A file changed behind the registry's back is not copied onward."""
    reg.deploy("libs-dev", "app.tgz", b"original")
    (reg.root / "repos/libs-dev/app.tgz").unlink()
    (reg.root / "repos/libs-dev/app.tgz").write_bytes(b"tampered")
    before = listing(reg.root)
    with pytest.raises(VerificationError, match="libs-dev/app.tgz: the bytes read have sha256"):
        reg.copy(RepoPath("libs-dev", "app.tgz"), RepoPath("libs-qa", "app.tgz"))
    assert listing(reg.root) == before


def test_concurrent_appearance_is_refused(
    reg: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target that appears between the check and the lock is not overwritten."""
    reg.deploy("libs-dev", "app.tgz", b"mine")
    target = reg.root / "repos/libs-qa/app.tgz"
    real_locked = reg._locked

    def locked_after_someone_else_wrote():  # type: ignore[no-untyped-def]
        target.write_bytes(b"someone else's")
        return real_locked()

    monkeypatch.setattr(reg, "_locked", locked_after_someone_else_wrote)
    with pytest.raises(Conflict, match="already holds different bytes"):
        reg.copy(RepoPath("libs-dev", "app.tgz"), RepoPath("libs-qa", "app.tgz"))
    assert target.read_bytes() == b"someone else's"
    target.write_bytes(b"mine")
    target.unlink()

    def locked_after_same_bytes():  # type: ignore[no-untyped-def]
        target.write_bytes(b"mine")
        return real_locked()

    monkeypatch.setattr(reg, "_locked", locked_after_same_bytes)
    write = reg.copy(RepoPath("libs-dev", "app.tgz"), RepoPath("libs-qa", "app.tgz"))
    assert write.detail.startswith("already there")
    assert os.listdir(reg.root / ".relman/tmp") == []


# -- download and sidecars ----------------------------------------------------------------


def test_download_streams_hashes_and_verifies(tmp_path: Path, reg: LocalRegistry) -> None:
    data = os.urandom(2_500_000)
    reg.deploy("libs-dev", "big.bin", data)
    seen: list[tuple[int, int]] = []
    dest = tmp_path / "out" / "big.bin"
    digests = reg.download("libs-dev", "big.bin", dest, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == data
    assert (digests.size, digests.sha256) == (len(data), sha256(data))
    assert digests.as_dict()["md5"] == hashlib.md5(data).hexdigest()
    assert seen == [(1 << 20, len(data)), (2 << 20, len(data)), (len(data), len(data))]
    assert [p.name for p in dest.parent.iterdir()] == ["big.bin"]

    cancel = CancelToken()

    def cancel_after_first(done: int, total: int) -> None:
        cancel.cancel()

    other = tmp_path / "out" / "cancelled.bin"
    with pytest.raises(Cancelled):
        reg.download("libs-dev", "big.bin", other, progress=cancel_after_first, cancel=cancel)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["big.bin"]
    with pytest.raises(UsageError, match="is a folder"):
        reg.download("libs-dev", "big.bin", tmp_path)


def test_download_refuses_bytes_that_changed(tmp_path: Path, reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "app.tgz", b"original")
    (reg.root / "repos/libs-dev/app.tgz").unlink()
    (reg.root / "repos/libs-dev/app.tgz").write_bytes(b"overwritten")
    dest = tmp_path / "app.tgz"
    dest.write_bytes(b"previous download")
    with pytest.raises(VerificationError) as caught:
        reg.download("libs-dev", "app.tgz", dest)
    assert str(caught.value) == (
        f"libs-dev/app.tgz: the bytes read have sha256 {sha256(b'overwritten')} but the registry "
        f"records {sha256(b'original')}; they were changed after they were deployed"
    )
    assert dest.read_bytes() == b"previous download"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.tgz", "registry"]


def test_sidecars(reg: LocalRegistry) -> None:
    reg.deploy("libs-dev", "app.tgz", b"app")
    reg.deploy("libs-dev", "app.tgz.sig", b"SIG")
    reg.deploy("libs-dev", "app.tgz.sigstore.json", b"{}")
    reg.deploy("libs-dev", "app.tgz.sha256", f"{sha256(b'app')}  app.tgz\n".encode())
    assert reg.sidecars("libs-dev", "app.tgz") == {
        ".sig": b"SIG",
        ".sigstore.json": b"{}",
        ".sha256": f"{sha256(b'app')}  app.tgz\n".encode(),
    }
    with pytest.raises(NotFound):
        reg.sidecars("libs-dev", "nope.tgz")


# -- paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "an empty path names no item"),
        ("../escape.bin", "climbs out of its repository with '..'"),
        ("a/../../escape.bin", "climbs out of its repository"),
        ("/etc/passwd", "is absolute"),
        ("\\\\server\\share", "is absolute"),
        ("C:/Windows/x", "is absolute"),
        ("a\\b", "contains a backslash"),
        ("a\x00b", "contains a NUL character"),
        ("a//b", "has an empty or '.' segment"),
        ("a/./b", "has an empty or '.' segment"),
        ("a/", "has an empty or '.' segment"),
    ],
)
def test_path_refusals(tmp_path: Path, reg: LocalRegistry, path: str, message: str) -> None:
    reg.deploy("libs-dev", "x", b"x")
    before = listing(tmp_path)
    with pytest.raises(UsageError, match=message.replace("(", r"\(")) as caught:
        reg.deploy("libs-dev", path, b"x")
    assert "\n" not in str(caught.value)
    with pytest.raises(UsageError, match=message):
        reg.location("libs-dev", path)
    with pytest.raises(UsageError, match=message):
        reg.copy(RepoPath("libs-dev", "x"), RepoPath("libs-qa", path))
    assert listing(tmp_path) == before


@pytest.mark.parametrize("key", ["", "../x", ".relman", "a/b", "-x", "a b"])
def test_repository_key_refusals(reg: LocalRegistry, key: str) -> None:
    with pytest.raises(UsageError, match="is not a repository key"):
        reg.create_repository(key)
    with pytest.raises(UsageError, match="is not a repository key"):
        reg.location(key, "a")


def test_symlink_escape_is_refused(tmp_path: Path, reg: LocalRegistry) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    (reg.root / "repos/libs-dev/link").symlink_to(outside)
    (reg.root / "repos/libs-dev/file-link").symlink_to(outside / "secret.txt")
    for path in ("link/secret.txt", "file-link", "link/new.bin"):
        with pytest.raises(UsageError, match="resolves outside its repository"):
            reg.location("libs-dev", path)
    with pytest.raises(UsageError, match="resolves outside its repository"):
        reg.deploy("libs-dev", "link/new.bin", b"x")
    with pytest.raises(UsageError, match="resolves outside its repository"):
        reg.download("libs-dev", "file-link", tmp_path / "got")
    assert not (outside / "new.bin").exists() and not (tmp_path / "got").exists()
    # Listing skips what points outside.
    reg.deploy("libs-dev", "real.bin", b"r")
    assert [loc.path for loc in reg.items("libs-dev")] == ["real.bin"]


# -- crash safety -------------------------------------------------------------------------


def test_failed_metadata_write_leaves_nothing(
    tmp_path: Path, reg: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = listing(reg.root)

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left on device"):
        reg.deploy("libs-dev", "app.tgz", b"x" * 100_000)
    assert listing(reg.root) == before
    with pytest.raises(OSError, match="No space left on device"):
        reg.publish_build(buildinfo.make_record("acme", 1))
    assert listing(reg.root) == before


def test_failed_link_rolls_back_metadata(
    reg: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg.deploy("libs-dev", "app.tgz", b"app", {"k": "v"})
    before = listing(reg.root)

    def broken_link(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "link", broken_link)
    with pytest.raises(OSError, match="Input/output error"):
        reg.deploy("libs-dev", "new.tgz", b"new")
    with pytest.raises(OSError, match="Input/output error"):
        reg.copy(RepoPath("libs-dev", "app.tgz"), RepoPath("libs-qa", "app.tgz"))
    assert listing(reg.root) == before


def test_failed_move_keeps_old_metadata(
    reg: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Metadata that existed for a path (a hand-placed file's properties) is restored."""
    reg.deploy("libs-dev", "app.tgz", b"app")
    (reg.root / ".relman/items/libs-qa").mkdir(parents=True)
    (reg.root / ".relman/items/libs-qa/app.tgz.json").write_text('{"properties": {"old": ["1"]}}')
    before = listing(reg.root)
    monkeypatch.setattr(os, "link", lambda s, d: (_ for _ in ()).throw(OSError(5, "EIO")))
    with pytest.raises(OSError):
        reg.move(RepoPath("libs-dev", "app.tgz"), RepoPath("libs-qa", "app.tgz"))
    after = listing(reg.root)
    assert after.keys() == before.keys()
    assert json.loads((reg.root / ".relman/items/libs-qa/app.tgz.json").read_text()) == {
        "properties": {"old": ["1"]}
    }


def test_file_system_without_hard_links(
    reg: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    reg.deploy("libs-dev", "app.tgz", b"app")
    assert reg.location("libs-dev", "app.tgz").sha256 == sha256(b"app")
    reg.move(RepoPath("libs-dev", "app.tgz"), RepoPath("libs-qa", "app.tgz"))
    assert reg.location("libs-qa", "app.tgz").sha256 == sha256(b"app")
    assert os.listdir(reg.root / ".relman/tmp") == []


def test_link_never_replaces(tmp_path: Path) -> None:
    from relman.registry import storage

    tmp = tmp_path / "tmp"
    tmp.write_bytes(b"new")
    target = tmp_path / "target"
    target.write_bytes(b"old")
    with pytest.raises(Conflict, match="appeared while relman was writing it"):
        storage.link_new(tmp, target)
    assert target.read_bytes() == b"old"


def test_location_type() -> None:
    loc = Location("r", "a/b/c.txt")
    assert loc.name == "c.txt" and dict(loc.properties) == {}
    assert hash(loc) == hash(Location("r", "a/b/c.txt"))


def test_odd_folders_are_ignored(reg: LocalRegistry) -> None:
    seen: list[tuple[int, int]] = []
    reg.deploy("libs-dev", "a.bin", b"abc", progress=lambda d, t: seen.append((d, t)))
    assert seen == [(3, 3)]
    reg.publish_build(buildinfo.make_record("acme", 1))
    (reg.root / ".relman/builds/empty").mkdir()
    (reg.root / ".relman/builds/acme/.1.json.x.tmp").write_text("half")
    (reg.root / ".relman/builds/acme/notes.txt").write_text("n")
    assert list(reg.build_names()) == ["acme"]
    assert reg.build_numbers("acme") == ["1"]
    import shutil

    shutil.rmtree(reg.root / ".relman/builds")
    shutil.rmtree(reg.root / "repos")
    assert list(reg.build_names()) == [] and list(reg.repositories()) == []


def test_rename_fallback_does_not_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from relman.registry import storage

    tmp = tmp_path / "tmp"
    tmp.write_bytes(b"new")
    target = tmp_path / "target"
    target.write_bytes(b"old")

    def no_links(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(Conflict, match="appeared while relman was writing it"):
        storage.link_new(tmp, target)
    assert target.read_bytes() == b"old"
