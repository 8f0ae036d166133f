"""The local registry's metadata index (relman's cache): used only for files it has seen
unchanged, never trusted over the files themselves."""

from __future__ import annotations

import gc
import json
import os
import threading
from pathlib import Path

import pytest

from relman import paths
from relman.registry import buildinfo, local_index
from relman.registry import local as local_module
from relman.registry.local import LocalRegistry
from relman.release import lineage as lineage_module
from relman.release import records
from relman.release.gc_pause import gc_paused
from relman.release.lineage import build_lineage
from tests.unit.release.lineage_support import ENVIRONMENTS, World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World.create(tmp_path / "registry")


@pytest.fixture
def meta_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The item metadata files read from disk (not taken from the index)."""
    seen: list[str] = []
    real = local_module._read_meta_row

    def counting(path: str) -> object:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(local_module, "_read_meta_row", counting)
    return seen


@pytest.fixture
def build_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = buildinfo.parse

    def counting(data: object, *, source: str = "") -> object:
        seen.append(source)
        return real(data, source=source)  # type: ignore[arg-type]

    monkeypatch.setattr(buildinfo, "parse", counting)
    return seen


def scan(registry: LocalRegistry) -> dict[tuple[str, str], object]:
    """Every item as lineage reads them, with the build records."""
    with registry.indexed():
        out: dict[tuple[str, str], object] = {
            (loc.repo, loc.path): loc
            for repo in registry.repositories()
            for loc in registry.items(repo.key)
        }
        for name in registry.build_names():
            for number in registry.build_numbers(name):
                out[("build", f"{name}/{number}")] = registry.build_record(name, number)
    return out


def index_files() -> list[Path]:
    return sorted((paths.resolve().cache / "local-index").glob("*.idx"))


def meta_file(registry: LocalRegistry, repo: str, path: str) -> Path:
    return registry.root / ".relman" / "items" / repo / (path + ".json")


def test_a_second_scan_reads_no_unchanged_file_and_sees_the_same(
    world: World, meta_reads: list[str], build_parses: list[str]
) -> None:
    world.build("acme", 1, {"app.tgz": b"app", "lib.so": b"lib"})
    world.build("acme", 2, {"app.tgz": b"app2"})
    before = {str(p) for p in world.registry.root.rglob("*")}
    meta_reads.clear()
    build_parses.clear()  # publishing parsed them
    first = scan(LocalRegistry(world.registry.root))
    assert len(meta_reads) == 6 and len(build_parses) == 2  # 3 items and 3 sidecars
    assert len(index_files()) == 1
    # The index lives in relman's cache, never in the registry (which may be read-only).
    assert {str(p) for p in world.registry.root.rglob("*")} == before
    meta_reads.clear()
    build_parses.clear()
    second = scan(LocalRegistry(world.registry.root))
    assert meta_reads == [] and build_parses == []
    assert second == first


def test_a_changed_property_is_read_again(world: World, meta_reads: list[str]) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    scan(LocalRegistry(world.registry.root))
    world.label(build, "libs-dev", "prod")
    meta_reads.clear()
    items = scan(LocalRegistry(world.registry.root))
    assert [Path(p).name for p in meta_reads] == ["app.tgz.json"]
    loc = items[("libs-dev", "acme/1/app.tgz")]
    assert loc.properties["relman.environment"] == ("prod",)  # type: ignore[attr-defined]


def test_an_edit_in_place_that_keeps_size_and_mtime_is_still_seen(world: World) -> None:
    """A tamperer who rewrites metadata in place and puts the mtime back cannot hide behind
    the index: the change time moves and no one can set it."""
    world.build("acme", 1, {"app.tgz": b"app"})
    registry = LocalRegistry(world.registry.root)
    scan(registry)
    meta = meta_file(registry, "libs-dev", "acme/1/app.tgz")
    info = meta.stat()
    text = meta.read_text()
    forged = text.replace('"acme"', '"acmf"')
    assert forged != text and len(forged) == len(text)
    with meta.open("r+") as handle:  # same inode, same size
        handle.write(forged)
    os.utime(meta, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert meta.stat().st_mtime_ns == info.st_mtime_ns and meta.stat().st_ino == info.st_ino
    items = scan(LocalRegistry(world.registry.root))
    loc = items[("libs-dev", "acme/1/app.tgz")]
    assert loc.properties["build.name"] == ("acmf",)  # type: ignore[attr-defined]


def test_a_changed_build_record_is_read_again(world: World, build_parses: list[str]) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    scan(LocalRegistry(world.registry.root))
    target = world.registry.root / ".relman" / "builds" / "acme" / "1.json"
    doc = json.loads(target.read_text())
    doc["vcs"][0]["branch"] = "hotfix"
    target.write_text(json.dumps(doc))
    build_parses.clear()
    items = scan(LocalRegistry(world.registry.root))
    assert len(build_parses) == 1
    assert items[("build", "acme/1")].vcs_branch == "hotfix"  # type: ignore[attr-defined]


def test_a_deleted_item_leaves_the_index_and_a_new_one_joins_it(
    world: World, meta_reads: list[str]
) -> None:
    world.build("acme", 1, {"app.tgz": b"app", "lib.so": b"lib"})
    scan(LocalRegistry(world.registry.root))
    for rel in ("acme/1/lib.so", "acme/1/lib.so.sig"):
        (world.registry.root / "repos" / "libs-dev" / rel).unlink()
        meta_file(world.registry, "libs-dev", rel).unlink()
    world.build("acme", 2, {"app.tgz": b"app2"})
    meta_reads.clear()
    items = scan(LocalRegistry(world.registry.root))
    assert sorted(Path(p).name for p in meta_reads) == ["app.tgz.json", "app.tgz.sig.json"]
    assert ("libs-dev", "acme/1/lib.so") not in items
    index = local_index.MetaIndex.open(str(world.registry.root / ".relman") + os.sep)
    assert not any("lib.so" in rel for rel in index.items)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit
        lambda data: b"not an index at all",
        lambda data: b"",
    ],
)
def test_a_damaged_index_is_ignored_and_rebuilt(
    world: World, meta_reads: list[str], damage: object
) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    first = scan(LocalRegistry(world.registry.root))
    (file,) = index_files()
    file.write_bytes(damage(file.read_bytes()))  # type: ignore[operator]
    meta_reads.clear()
    assert scan(LocalRegistry(world.registry.root)) == first
    assert len(meta_reads) == 2  # read again from the files ...
    meta_reads.clear()
    assert scan(LocalRegistry(world.registry.root)) == first
    assert meta_reads == []  # ... and indexed again


def test_outside_indexed_nothing_is_cached(world: World, meta_reads: list[str]) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    registry = LocalRegistry(world.registry.root)
    list(registry.items("libs-dev"))
    list(registry.items("libs-dev"))
    assert len(meta_reads) == 0  # items() outside indexed() reads through _read_meta
    assert index_files() == []


def test_lineage_is_the_same_with_and_without_the_index(world: World) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.promote_all(build)
    world.build("acme", 2, {"app.tgz": b"other"})
    cold = build_lineage(LocalRegistry(world.registry.root), ENVIRONMENTS, world.context)
    warm = build_lineage(LocalRegistry(world.registry.root), ENVIRONMENTS, world.context)
    assert cold.to_json() == warm.to_json()
    assert index_files()


def test_verified_promotion_records_are_not_verified_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = world.build("acme", 1, {"app.tgz": b"app"})
    world.promote_all(build)
    calls: list[bool] = []
    real = records.verify_envelope

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(True)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "verify_envelope", counting)
    first = build_lineage(world.registry, ENVIRONMENTS, world.context)
    assert calls and first.builds[0].promotions and all(p.ok for p in first.builds[0].promotions)
    calls.clear()
    second = build_lineage(world.registry, ENVIRONMENTS, world.context)
    assert calls == []
    assert second.builds[0].promotions == first.builds[0].promotions
    # Another trust store: checked again, and now it does not verify.
    calls.clear()
    other = World.create(world.registry.root.parent / "other")
    third = build_lineage(world.registry, ENVIRONMENTS, other.context)
    assert calls and not any(p.ok for p in third.builds[0].promotions)


def test_gc_is_paused_while_building_and_switched_back_on() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_gc_stays_paused_until_the_last_thread_is_done() -> None:
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread is still building
    leave.set()
    thread.join(10)
    assert gc.isenabled()


def test_gc_left_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_cycle_made_while_paused_is_still_collected_later() -> None:
    class Node:
        other: object = None

    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        probe = lineage_module.__name__  # keep a reference the test does not need
        del a, b
    assert probe
    assert gc.collect() >= 2


def test_folder_listings_come_from_the_index_until_a_folder_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.build("acme", 1, {"app.tgz": b"app"})
    scan(LocalRegistry(world.registry.root))
    listed: list[str] = []
    real = local_module._list_folder

    def counting(path: str) -> object:
        listed.append(path)
        return real(path)

    monkeypatch.setattr(local_module, "_list_folder", counting)
    scan(LocalRegistry(world.registry.root))
    assert listed == []  # every folder of repos/ unchanged: listed from the index
    folder = world.registry.root / "repos" / "libs-dev" / "acme" / "1"
    (folder / "by-hand.bin").write_bytes(b"put there by hand")
    items = scan(LocalRegistry(world.registry.root))
    assert listed == [str(folder)]  # only the folder that changed is listed again
    assert ("libs-dev", "acme/1/by-hand.bin") in items
    outside = world.registry.root.parent / "outside.bin"
    outside.write_bytes(b"secret")
    (folder / "link.bin").symlink_to(outside)
    items = scan(LocalRegistry(world.registry.root))
    assert ("libs-dev", "acme/1/link.bin") not in items  # a link out is never followed
