"""Following the change log: every kind of change crosses from one process to another in time
proportional to the change; gaps reset; snapshots are shared, checked and rebuilt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Connection, delete, select, update

from callblock import index as index_module
from callblock import snapshots
from callblock.domain import (
    Actor,
    Direction,
    GroupById,
    GroupByName,
    RequestedNumber,
    Surface,
)
from callblock.files.plan import ImportLines
from callblock.service import Service
from callblock.store import Store
from callblock.store import changes as change_rows
from callblock.store.tables import accounts, changes
from callblock.timestamps import micros
from callblock.usecases import checking
from tests.conftest import FakeClock

REASONS = ("start", "gap", "retention", "store_behind")
UNIVERSE = [f"+9198765432{n:02d}" for n in range(40)] + ["+911401234567", "+919999999999"]
DIRECTIONS = (None, Direction.INBOUND, Direction.OUTBOUND)


def resets(reason: str) -> float:
    return REGISTRY.get_sample_value("callblock_index_resets_total", {"reason": reason}) or 0.0


def refused(reason: str) -> float:
    labels = {"reason": reason}
    return REGISTRY.get_sample_value("callblock_index_snapshots_refused_total", labels) or 0.0


def number(e164: str) -> RequestedNumber:
    return RequestedNumber(e164, e164)


@dataclass
class Node:
    service: Service
    store: Store
    key: str

    def actor(self) -> Actor:
        return self.service.authenticate_key(self.key, Surface.V1)

    def answers(self) -> list[tuple[str, str | None, list[int]]]:
        actor = self.actor()
        found = []
        for direction in DIRECTIONS:
            # A national number too: how it reads follows the account's region.
            for e164 in [*UNIVERSE, "anonymous", "09876543210"]:
                result = self.service.check(actor, e164, direction)
                groups = sorted(m.group_id or 0 for m in result.matches)
                found.append((e164, direction and direction.value, groups))
            batch = self.service.check_many(actor, UNIVERSE, direction)
            for e164, groups in zip(UNIVERSE, batch.group_ids, strict=True):
                found.append((e164, f"batch {direction}", sorted(groups)))
        return found


@pytest.fixture
def nodes(database_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[Node, Node, Path]]:
    """Node A writes; node B follows, with a snapshot directory of its own."""
    store_a, store_b = Store.from_url(database_url), Store.from_url(database_url)
    a = Service(store_a, clock=clock, index_dir=tmp_path / "a")
    key = a.create_account("main").key
    b = Service(store_b, clock=clock, index_dir=tmp_path / "b")
    b.load_index()
    yield Node(a, store_a, key), Node(b, store_b, key), tmp_path / "b"
    store_a.dispose()
    store_b.dispose()


def truth(database_url: str, clock: FakeClock, key: str) -> list[tuple[str, str | None, list[int]]]:
    """The answers of a process that has just built its index from the store: what every
    other process must say."""
    store = Store.from_url(database_url)
    try:
        return Node(Service(store, clock=clock), store, key).answers()
    finally:
        store.dispose()


def the_changes(a: Node, clock: FakeClock) -> Iterator[str]:
    """Every kind of change, one at a time (yielding its name once it is committed)."""
    actor = a.actor()
    service = a.service
    registry = service.create_group(
        actor, "Registry", "", [number(n) for n in UNIVERSE[:10]], None
    ).group
    yield "create with numbers"
    opt = service.create_group(
        actor,
        "Opt-out",
        "",
        [number(UNIVERSE[10])],
        clock() + timedelta(hours=1),
        Direction.INBOUND,
    ).group
    yield "create with an expiring number, inbound"
    service.add_numbers(actor, GroupById(opt.id), [number(UNIVERSE[11])], None, note="asked")
    yield "add with a note"
    service.add_numbers(actor, GroupById(opt.id), [number(UNIVERSE[10])], None)
    yield "expiry refreshed to none"
    service.add_numbers(
        actor, GroupById(opt.id), [number(UNIVERSE[0])], clock() + timedelta(minutes=5)
    )
    yield "a number in two groups, one expiring"
    service.remove_numbers(actor, GroupById(registry.id), [number(UNIVERSE[1])])
    yield "remove from a group"
    service.add_numbers(actor, GroupById(registry.id), [number("+91140*")], None)
    yield "add a prefix"
    service.update_group(actor, registry.id, name="National registry")
    yield "rename"
    service.update_group(actor, opt.id, direction=Direction.OUTBOUND)
    yield "direction"
    service.remove_numbers(actor, None, [number(UNIVERSE[0]), number(UNIVERSE[2])])
    yield "remove from every group"
    texts = UNIVERSE[20:40]
    service.import_entries(
        actor, GroupByName("Bulk"), [ImportLines(range(1, 21), texts, None)], create=True
    )
    yield "import into a new group"
    service.remove_numbers(actor, GroupById(registry.id), [number("+91140*")])
    yield "remove a prefix"
    service.set_block_anonymous(actor, True)
    yield "block withheld callers"
    service.update_settings(actor, region="GB", timezone="Europe/London")
    yield "move the account to another region"
    service.delete_group(actor, opt.id)
    yield "delete a group"
    clock.advance(hours=2)
    yield "time passes: expiry"


@pytest.mark.parametrize("way", ["overlay", "bulk", "folding"])
def test_every_kind_of_change_crosses_to_another_process_without_a_reset(
    nodes: tuple[Node, Node, Path],
    database_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
) -> None:
    """Node B follows each change from the log: entry by entry into its overlay, merged
    into a new base by array operations (as a registry import is), or with the overlay
    folded into a new snapshot after every change; its answers are a fresh process's."""
    a, b, _ = nodes
    if way == "bulk":
        monkeypatch.setattr(checking, "APPLY_LIMIT", 0)
    if way == "folding":
        monkeypatch.setattr(index_module, "OVERLAY_LIMIT", 0)
    for name in the_changes(a, clock):
        before = {reason: resets(reason) for reason in REASONS}
        assert b.service.refresh_index() == (0 if name.startswith("time") else 1), name
        assert {reason: resets(reason) for reason in REASONS} == before, name
        expected = truth(database_url, clock, a.key)
        assert b.answers() == expected, name
        assert a.answers() == expected, name


def test_a_restarted_process_maps_the_snapshot_and_catches_up_from_the_log(
    nodes: tuple[Node, Node, Path], database_url: str, clock: FakeClock
) -> None:
    a, b, directory = nodes
    changes = the_changes(a, clock)
    for _ in range(6):
        next(changes)
    b.service.refresh_index()
    for _ in changes:  # the rest happens while node B is down
        pass
    started = resets("start")
    store = Store.from_url(database_url)
    restarted = Node(Service(store, clock=clock, index_dir=directory), store, a.key)
    restarted.service.load_index()
    assert resets("start") == started  # mapped, not rebuilt
    assert restarted.answers() == truth(database_url, clock, a.key)
    store.dispose()


def _snapshot_of(directory: Path) -> Path:
    (path,) = directory.glob("*/account-*.snapshot")
    return path


@pytest.mark.parametrize("damage", ["cut off", "flipped byte", "foreign", "empty"])
def test_a_damaged_or_foreign_snapshot_is_refused_and_rebuilt(
    nodes: tuple[Node, Node, Path], database_url: str, clock: FakeClock, damage: str
) -> None:
    a, b, directory = nodes
    for _ in the_changes(a, clock):
        pass
    b.service.refresh_index()
    path = _snapshot_of(directory)
    data = path.read_bytes()
    if damage == "cut off":  # a copy or a disk that stopped midway
        path.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "flipped byte":
        middle = len(data) - 100
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif damage == "foreign":  # a file of another store where this one's belongs
        found = snapshots.read(path, {"store": path.parent.name, "account": 1})
        arrays = {name: np.array(array) for name, array in found.arrays.items()}
        snapshots.write(path, {"store": "another", "account": 1}, found.version, arrays, found.meta)
        del found, arrays
    else:
        path.write_bytes(b"")
    reason = "foreign" if damage == "foreign" else "damaged"
    refusals = refused(reason)
    store = Store.from_url(database_url)
    restarted = Node(Service(store, clock=clock, index_dir=directory), store, a.key)
    restarted.service.load_index()
    assert refused(reason) == refusals + 1
    assert restarted.answers() == truth(database_url, clock, a.key)
    store.dispose()
    # ... and the file was written anew, whole.
    again = Store.from_url(database_url)
    started = resets("start")
    Service(again, clock=clock, index_dir=directory).load_index()
    assert resets("start") == started
    again.dispose()


def test_a_gap_in_the_log_resets_the_index_never_a_wrong_answer(
    nodes: tuple[Node, Node, Path], database_url: str, clock: FakeClock
) -> None:
    """Changes pruned before node B read them: B rebuilds from the store, says so, and
    answers as a fresh process does."""
    a, b, _ = nodes
    changes = the_changes(a, clock)
    for _ in range(5):
        next(changes)
    b.service.refresh_index()
    for _ in changes:
        pass
    with a.store.write() as conn:
        change_rows.prune(conn, before=micros(clock()) + 1)
    gaps = resets("retention") + resets("gap")
    b.service.refresh_index()
    assert resets("retention") + resets("gap") == gaps + 1
    assert b.answers() == truth(database_url, clock, a.key)


def test_a_store_restored_from_an_older_backup_is_not_trusted_to_the_snapshot(
    nodes: tuple[Node, Node, Path], database_url: str, clock: FakeClock
) -> None:
    """The store goes back (a restored backup: its counter behind the node's snapshot and
    index): the running process resets, and a restarted one refuses the snapshot."""
    a, b, directory = nodes
    for _ in the_changes(a, clock):
        pass
    b.service.refresh_index()
    account_id = a.actor().account.id
    with a.store.write() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(data_version=accounts.c.data_version - 3)
        )
        conn.execute(
            delete(changes).where(
                changes.c.account_id == account_id,
                changes.c.version > select_version(conn, account_id),
            )
        )
    behind = resets("store_behind")
    b.service.refresh_index()
    assert resets("store_behind") == behind + 1
    assert b.answers() == truth(database_url, clock, a.key)
    # The reset wrote the node's snapshot anew, at the store's version: move the store back
    # again, and restart.
    with a.store.write() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(data_version=accounts.c.data_version - 1)
        )
    ahead = refused("ahead")
    store = Store.from_url(database_url)
    restarted = Node(Service(store, clock=clock, index_dir=directory), store, a.key)
    restarted.service.load_index()
    assert refused("ahead") == ahead + 1
    assert restarted.answers() == truth(database_url, clock, a.key)
    store.dispose()


def select_version(conn: Connection, account_id: int) -> int:
    version: int = conn.execute(
        select(accounts.c.data_version).where(accounts.c.id == account_id)
    ).scalar_one()
    return version


def test_a_snapshot_left_half_written_by_a_killed_process_is_cleared(tmp_path: Path) -> None:
    """A process killed while writing leaves only its temporary file (the rename never
    happened): the next holder of the lock removes it, and the last whole file stands."""
    path = tmp_path / "store" / "account-1.snapshot"
    identity = {"store": "store", "account": 1}
    arrays = {"keys": np.arange(10, dtype=np.int64)}
    with snapshots.locked(path):
        snapshots.write(path, identity, 4, arrays, {})
    half = path.with_name(f"{path.name}.99999.tmp")
    half.write_bytes(path.read_bytes()[:100])
    with snapshots.locked(path):
        assert not half.exists()
    found = snapshots.read(path, identity)
    assert found.version == 4
    assert found.arrays["keys"].tolist() == list(range(10))
    assert not found.arrays["keys"].flags.writeable  # mapped read-only, shared


def test_an_index_directory_that_cannot_be_written_leaves_each_process_its_own_index(
    database_url: str, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A node whose index directory cannot be made (a file in its way) still serves, from
    each process's memory, and says why once."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    store = Store.from_url(database_url)
    service = Service(store, clock=clock, index_dir=blocked / "index")
    key = service.create_account("main").key
    actor = service.authenticate_key(key, Surface.V1)
    service.create_group(actor, "G", "", [number(UNIVERSE[0])], None)
    service.load_index()
    assert service.check(actor, UNIVERSE[0], None).matches
    assert "no index directory" in caplog.text
    store.dispose()


def test_workers_starting_together_build_the_node_snapshot_once(
    nodes: tuple[Node, Node, Path], database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """Four workers of a new node start at once: one builds the index from the store while
    the others wait on the node's lock, then map the file it wrote."""
    a, _, _ = nodes
    for _ in the_changes(a, clock):
        pass
    directory = tmp_path / "new-node"
    stores = [Store.from_url(database_url) for _ in range(4)]
    workers = [Service(store, clock=clock, index_dir=directory) for store in stores]
    started = resets("start")
    threads = [threading.Thread(target=worker.load_index) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert resets("start") == started + 1
    expected = truth(database_url, clock, a.key)
    for worker, store in zip(workers, stores, strict=True):
        assert Node(worker, store, a.key).answers() == expected
        store.dispose()
