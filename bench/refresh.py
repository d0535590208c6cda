"""B15 and B16: refreshing a registry from files (see docs/performance.md).

    python bench/refresh.py                         # SQLite, 10,000,000 entries
    python bench/refresh.py --engine postgresql     # the same on PostgreSQL
    python bench/refresh.py --entries 1000000       # a smaller registry
    python bench/refresh.py --smoke                 # tiny sizes: proves it runs (CI)
    python bench/refresh.py --statements            # and where B16's time goes

- B15: replace a group of N entries with a file differing by 1% (N/100 added, N/100 gone),
  against a plain import of the same file into an empty group (the baseline, in the same
  run); the ratio is the import's time over the replace's (target >= 0.7).
- B16: a change list of 100,000 lines (half adds, half deletes) applied to the group of N
  entries (target <= 2 s), and how long after it a second service on the same database
  answers checks with it (its refresher following the change log every 0.5 s, as `serve`
  runs it).

With ``--statements``, B16 also prints its slowest SQL statements and its commit, each
timed as SQLAlchemy runs it (on PostgreSQL the upsert's COPY and INSERT go to the driver's
cursor directly and are not listed; the timing costs a little, and the figure printed is
still the whole call's).

Each runs in the service (``Service.import_entries``, ``Service.apply_change_list``) with the
file's lines in memory, so the figures are the store's and the index's work, not reading a
file. A benchmark is not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import new_database

from callblock.domain import Actor, GroupById, Surface
from callblock.files import ImportLines
from callblock.service import Service
from callblock.store import Store
from callblock.store.migrate import upgrade

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST = 9_000_000_000
BLOCK = 1_000_000


@contextmanager
def database(engine: str, workdir: Path) -> Iterator[str]:
    """A database of its own on ``engine``, dropped afterwards (as ``bench/nodes.py`` makes
    them)."""
    postgres = os.environ.get("CALLBLOCK_BENCH_POSTGRES_URL", POSTGRES_URL)
    with new_database(engine, workdir, postgres, "callblock_bench") as url:
        yield url


def blocks(numbers: np.ndarray) -> Iterator[ImportLines]:
    """National numbers as an import's lines, a block at a time."""
    for start in range(0, len(numbers), BLOCK):
        part = numbers[start : start + BLOCK]
        yield ImportLines(range(start + 1, start + len(part) + 1), part.astype(str).tolist(), None)


def change_blocks(adds: np.ndarray, deletes: np.ndarray) -> Iterator[ImportLines]:
    numbers = np.concatenate([adds, deletes]).astype(str).tolist()
    ops = ["A"] * len(adds) + ["D"] * len(deletes)
    yield ImportLines(range(1, len(numbers) + 1), numbers, None, ops)


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


class StatementTimes:
    """The time of each SQL statement and each commit this thread runs (the other service's
    refresher, on the same engine, runs in another thread and is left out)."""

    def __init__(self, engine: Engine) -> None:
        self.times: list[tuple[float, str]] = []
        self._thread = threading.get_ident()
        self._started = 0.0
        self._committing = False
        # A connection goes back to the pool ("checkin") once its commit has returned.
        self._listeners = [
            (engine, "before_cursor_execute", self._before),
            (engine, "after_cursor_execute", self._after),
            (engine, "commit", self._commit),
            (engine, "checkin", self._checked_in),
        ]
        for listener in self._listeners:
            event.listen(*listener)

    def stop(self) -> None:
        for listener in self._listeners:
            event.remove(*listener)

    def _mine(self) -> bool:
        return threading.get_ident() == self._thread

    def _before(self, *_: object) -> None:
        if self._mine():
            self._started = time.perf_counter()

    def _after(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        if self._mine():
            self.times.append((time.perf_counter() - self._started, " ".join(statement.split())))

    def _commit(self, *_: object) -> None:
        if self._mine():
            self._committing = True
            self._started = time.perf_counter()

    def _checked_in(self, *_: object) -> None:
        if self._mine() and self._committing:
            self._committing = False
            self.times.append((time.perf_counter() - self._started, "COMMIT"))

    def report(self, shown: int = 6) -> str:
        slowest = sorted(self.times, reverse=True)[:shown]
        lines = [f"    {seconds:.3f} s  {statement[:100]}" for seconds, statement in slowest]
        total = sum(seconds for seconds, _ in self.times)
        return "\n".join([*lines, f"    {total:.3f} s in all, {len(self.times)} statements"])


def run(engine: str, entries: int, changes: int, workdir: Path, statements: bool) -> None:
    registry = np.arange(FIRST, FIRST + entries, dtype=np.int64)
    differ = entries // 100
    refreshed = np.concatenate(
        [registry[differ:], np.arange(FIRST + entries, FIRST + entries + differ)]
    )
    with database(engine, workdir) as url:
        store = Store.from_url(url)
        upgrade(store.engine)
        service = Service(store, index_dir=workdir / "index-a")
        service.create_account("bench")
        actor = Actor(service.account("bench"), None, Surface.CLI)
        registry_group = service.create_group(actor, "Registry", "", [], None).group.id
        empty_group = service.create_group(actor, "Baseline", "", [], None).group.id
        load = timed(
            lambda: service.import_entries(actor, GroupById(registry_group), blocks(registry))
        )
        service.load_index()
        baseline = timed(
            lambda: service.import_entries(actor, GroupById(empty_group), blocks(refreshed))
        )
        replaced: list[object] = []
        replace = timed(
            lambda: replaced.append(
                service.import_entries(
                    actor, GroupById(registry_group), blocks(refreshed), replace=True
                )
            )
        )
        result = replaced[0]
        print(
            f"B15 [{engine}] replace of {entries:,} entries by a file differing by 1% "
            f"({result.added:,} added, {result.removed:,} removed): {replace:.2f} s; a plain "
            f"import of the same file into an empty group: {baseline:.2f} s; ratio "
            f"{baseline / replace:.2f} (target >= 0.7). Loading the registry first took "
            f"{load:.2f} s.",
            flush=True,
        )
        follower = Service(store, index_dir=workdir / "index-b")
        follower.load_index()
        watcher = Actor(follower.account("bench"), None, Surface.CLI)
        half = changes // 2
        adds = np.arange(FIRST + 2 * entries, FIRST + 2 * entries + half)
        deletes = refreshed[:: max(1, len(refreshed) // half)][:half]
        probe = [str(adds[0]), str(deletes[0])]
        stop = threading.Event()

        def refresher() -> None:  # as `serve` runs it: a refresh, then a 0.5 s wait
            while not stop.is_set():
                follower.refresh_index()
                stop.wait(0.5)

        following = threading.Thread(target=refresher)
        following.start()
        watched = StatementTimes(store.engine) if statements else None
        try:
            applied = timed(
                lambda: service.apply_change_list(
                    actor, GroupById(registry_group), change_blocks(adds, deletes)
                )
            )
            written = time.perf_counter()
            if watched is not None:
                watched.stop()
            while True:
                answer = follower.check_many(watcher, probe, None).group_ids
                if registry_group in answer[0] and registry_group not in answer[1]:
                    break
                time.sleep(0.01)
            seen = time.perf_counter() - written
        finally:
            stop.set()
            following.join()
        print(
            f"B16 [{engine}] a change list of {changes:,} lines applied to {entries:,} entries: "
            f"{applied:.2f} s (target <= 2 s); another service (its refresher every 0.5 s, "
            f"as serve runs it) answered the change {seen:.2f} s after the write returned "
            f"(the freshness bound: 1 s)",
            flush=True,
        )
        if watched is not None:
            print(f"B16 [{engine}] its slowest statements:\n{watched.report()}", flush=True)
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    parser.add_argument("--workdir", type=Path, help="where the temporary directory goes")
    parser.add_argument(
        "--statements", action="store_true", help="print B16's slowest statements and commit"
    )
    args = parser.parse_args()
    entries, changes = (20_000, 2_000) if args.smoke else (args.entries, 100_000)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, load average {load}; "
        f"engine {args.engine}; entries {entries:,}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="callblock-refresh-", dir=args.workdir) as directory:
        run(args.engine, entries, changes, Path(directory), args.statements)


if __name__ == "__main__":
    main()
