"""How long merging a registry-sized change into an account's index takes, and how long a
thread answering checks beside it is held up (the interpreter lock).

    python bench/merge.py                 # 10,000,000 new entries into a 100,000,000-entry base
    python bench/merge.py --smoke         # tiny sizes: proves it runs (CI)

The base is built in memory (no store, no file); the change is an import into a second group,
merged as a node merges an import it follows from the change log (``applied_in_bulk``). A
thread checks one number every millisecond meanwhile; the longest gaps between its checks are
printed, with when they happened. Nothing is asserted: a benchmark prints its figures.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from datetime import UTC, datetime

import numpy as np

from callblock.change import Change, Draft, expiry_keys, keys_of
from callblock.domain import Action, Direction, Surface
from callblock.index import IndexedGroup, SortedEntries, with_prefixes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    args = parser.parse_args()
    base_size, change_size = (20_000, 2_000) if args.smoke else (100_000_000, 10_000_000)
    keys = np.arange(base_size, dtype=np.int64) * 3 + 917_000_000_000
    none = np.empty(0, np.int64)
    base = SortedEntries(keys, np.zeros(base_size, np.uint8), np.array([1], np.int64), none, none)
    groups = [
        IndexedGroup(1, "Registry", Direction.BOTH),
        IndexedGroup(2, "Import", Direction.BOTH),
    ]
    index = with_prefixes(1, groups, base, [])
    added = keys_of(np.arange(change_size, dtype=np.int64) * 30 + 917_000_000_001)
    draft = Draft(
        action=Action.IMPORT, group_id=2, upserted=added, expiries=expiry_keys(change_size)
    )
    change = Change(1, 2, datetime.now(UTC), None, Surface.V1, draft)
    gaps: list[tuple[float, float]] = []
    done = threading.Event()

    def checks() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.001)
            index.matches("+917000001234", Direction.INBOUND, 0)
            now = time.perf_counter()
            gaps.append((now - last - 0.001, now))
            last = now

    checker = threading.Thread(target=checks)
    checker.start()
    time.sleep(0.3)
    started = time.perf_counter()
    merged = index.applied_in_bulk(change, 0)
    took = time.perf_counter() - started
    time.sleep(0.3)
    done.set()
    checker.join()
    worst = sorted(gaps, reverse=True)[:5]
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"merge: base={base_size}, change={change_size}, seconds={took:.2f}, "
        f"entries_after={len(merged.numbers.base)}, checks={len(gaps)}, "
        f"longest_gaps_ms={[round(g * 1000, 1) for g, _ in worst]}, "
        f"at_s={[round(at - started, 2) for _, at in worst]}, load_average=[{load}]"
    )


if __name__ == "__main__":
    main()
