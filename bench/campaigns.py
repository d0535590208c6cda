"""B13 and B14: campaign checks against plain checks, in the service (see docs/performance.md).

    python bench/campaigns.py                       # SQLite, full sizes
    python bench/campaigns.py --engine postgresql   # the same on PostgreSQL
    python bench/campaigns.py --smoke               # tiny sizes: proves it runs (CI)

The account holds a registry (consent may override it: 1,000,000 numbers), the company's own
list and a campaign's own list (block groups, 1,000 each; the second attached), and a consent
group (allow, attached, 1,000). The campaign obeys the three block groups and the consent
group and has a calling window, Monday to Saturday 09:00-21:00. The clock is fixed, so the
window's answer is the same in every run:

- B13: ``Service.check_for_campaign`` of a number (a third of them in the registry) against
  ``Service.check`` of the same numbers, in interleaved rounds (best of four each). Three
  cases: Indian numbers inside the window; the same outside it (each answer then works out
  ``next_callable_at``); and US numbers of several zones at a minute when some zones are
  inside the window and some not.
- B14: ``Service.check_many_for_campaign`` of a batch of 100,000 (half of them in the
  registry) against ``Service.check_many`` of the same batch (B2's measure), best of four
  each, in turn.

A benchmark is not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import new_database

from callblock.calling_hours import window_from_text
from callblock.domain import (
    Actor,
    CampaignById,
    Direction,
    GroupByName,
    GroupKind,
    GroupScope,
    RequestedNumber,
    Surface,
)
from callblock.files import ImportLines
from callblock.service import Service
from callblock.store import Store
from callblock.store.migrate import upgrade

FULL = {"registry": 1_000_000, "small": 1_000, "batch": 100_000, "checks": 20_000}
SMOKE = {"registry": 2_000, "small": 50, "batch": 500, "checks": 200}
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST = 9_000_000_000  # the registry's first national number (+91 9000000000)
# Monday 1 June 2026: 12:00 UTC is 17:30 in India (inside 09:00-21:00) and 14:30 UTC is 10:30
# in New York (inside) but 07:30 in Los Angeles (outside); 16:00 UTC is 21:30 in India.
INSIDE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OUTSIDE = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
US_EDGE = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)
WINDOW = window_from_text("mon-sat", "09:00-21:00")
# US area codes across its zones (Eastern, Central, Mountain, Pacific, Alaska, Hawaii).
US_AREAS = (212, 617, 305, 312, 214, 713, 303, 602, 415, 213, 206, 907, 808)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def database(engine: str, workdir: Path) -> Iterator[str]:
    """A database of its own on ``engine``, dropped afterwards (as ``bench/nodes.py`` makes
    them)."""
    postgres = os.environ.get("CALLBLOCK_BENCH_POSTGRES_URL", POSTGRES_URL)
    with new_database(engine, workdir, postgres, "callblock_bench") as url:
        yield url


def indian(count: int, start: int = FIRST) -> list[str]:
    return [f"+91{start + i}" for i in range(count)]


def us_numbers(count: int, rng: random.Random) -> list[str]:
    found: list[str] = []
    while len(found) < count:
        number = f"+1{rng.choice(US_AREAS)}{rng.randrange(200, 999)}{rng.randrange(10_000):04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            found.append(number)
    return found


def requested(numbers: Sequence[str]) -> list[RequestedNumber]:
    return [RequestedNumber(n, n) for n in numbers]


def account(url: str, sizes: dict[str, int], clock: Clock, workdir: Path) -> tuple[Service, int]:
    """The account described above; its service and its campaign's id."""
    store = Store.from_url(url)
    upgrade(store.engine)
    service = Service(store, clock=clock, index_dir=workdir / "index")
    service.create_account("bench")
    actor = Actor(service.account("bench"), None, Surface.CLI)
    registry = sizes["registry"]
    block = 1_000_000
    lines = (
        ImportLines(
            range(first + 1, min(first + block, registry) + 1),
            [n[3:] for n in indian(min(block, registry - first), FIRST + first)],
            None,
        )
        for first in range(0, registry, block)
    )
    service.import_entries(actor, GroupByName("Registry"), lines, create=True)
    service.update_group(
        actor,
        service.list_groups(actor, name="Registry", after=None, limit=1).items[0].group.id,
        consent_overrides=True,
    )
    small = sizes["small"]
    # The own list and the campaign's list sit past the registry; the consent group holds
    # registry numbers (every 7th of the first ones) and some US ones.
    service.create_group(actor, "Own DNC", "", requested(indian(small, FIRST + registry)), None)
    attached = service.create_group(
        actor,
        "Campaign DNC",
        "",
        requested(indian(small, FIRST + registry + small)),
        None,
        scope=GroupScope.ATTACHED,
    )
    consent = service.create_group(
        actor,
        "Consent",
        "",
        requested([f"+91{FIRST + 7 * i}" for i in range(small)]),
        None,
        kind=GroupKind.ALLOW,
        scope=GroupScope.ATTACHED,
    )
    campaign = service.create_campaign(
        actor, "Spring", "", WINDOW, [attached.group.id, consent.group.id]
    )
    service.load_index()
    return service, campaign.id


def per_check(check: Callable[[str], object], numbers: Sequence[str]) -> float:
    started = time.perf_counter()
    for number in numbers:
        check(number)
    return (time.perf_counter() - started) / len(numbers)


def b13(service: Service, campaign: int, clock: Clock, sizes: dict[str, int], engine: str) -> None:
    actor = Actor(service.account("bench"), None, Surface.CLI)
    rng = random.Random(13)
    ref = CampaignById(campaign)
    cases = {
        "inside the window (IN)": (
            INSIDE,
            [f"+91{FIRST + rng.randrange(sizes['registry'] * 3)}" for _ in range(sizes["checks"])],
        ),
        "outside the window (IN)": (
            OUTSIDE,
            [f"+91{FIRST + rng.randrange(sizes['registry'] * 3)}" for _ in range(sizes["checks"])],
        ),
        "zones disagree (US)": (US_EDGE, us_numbers(sizes["checks"], rng)),
    }
    for case, (now, numbers) in cases.items():
        clock.now = now

        def plain(number: str) -> object:
            return service.check(actor, number, Direction.OUTBOUND)

        def with_campaign(number: str) -> object:
            return service.check_for_campaign(actor, number, Direction.OUTBOUND, ref)

        per_check(plain, numbers[:100])  # warm
        per_check(with_campaign, numbers[:100])
        ours, base = [], []
        for round_ in range(4):  # interleaved, each first every other round
            if round_ % 2:
                base.append(per_check(plain, numbers))
            ours.append(per_check(with_campaign, numbers))
            if not round_ % 2:
                base.append(per_check(plain, numbers))
        sample = numbers[:1000]
        callable_ = sum(
            service.check_for_campaign(actor, n, Direction.OUTBOUND, ref).callable for n in sample
        )
        print(
            f"B13 [{engine}] {case}: campaign check {min(ours) * 1e6:.2f} us, plain check "
            f"{min(base) * 1e6:.2f} us, ratio {min(ours) / min(base):.2f} (target <= 1.3); "
            f"{callable_} of the first {len(sample):,} callable",
            flush=True,
        )


def b14(service: Service, campaign: int, clock: Clock, sizes: dict[str, int], engine: str) -> None:
    actor = Actor(service.account("bench"), None, Surface.CLI)
    rng = random.Random(14)
    half = sizes["batch"] // 2
    inside = rng.sample(range(sizes["registry"]), half)
    outside = range(sizes["registry"] * 2, sizes["registry"] * 2 + sizes["batch"] - half)
    batch = [str(FIRST + i) for i in [*inside, *outside]]
    rng.shuffle(batch)
    ref = CampaignById(campaign)
    for now, case in ((INSIDE, "inside the window"), (OUTSIDE, "outside the window")):
        clock.now = now

        def plain() -> object:
            return service.check_many(actor, batch, Direction.OUTBOUND)

        def with_campaign() -> object:
            return service.check_many_for_campaign(actor, batch, Direction.OUTBOUND, ref)

        plain()
        with_campaign()
        ours: list[float] = []
        base: list[float] = []
        pairs = [(base, plain), (ours, with_campaign)]
        for round_ in range(4):  # in turn, each first every other round
            for runs, action in pairs if round_ % 2 else pairs[::-1]:
                started = time.perf_counter()
                action()
                runs.append(time.perf_counter() - started)
        answer = service.check_many_for_campaign(actor, batch, Direction.OUTBOUND, ref)
        print(
            f"B14 [{engine}] {case}: batch of {len(batch):,} with the campaign "
            f"{len(batch) / min(ours):,.0f} numbers/s ({min(ours):.3f} s); B2, the same batch "
            f"without it, {len(batch) / min(base):,.0f} numbers/s ({min(base):.3f} s); ratio "
            f"{min(base) / min(ours):.2f}; {sum(answer.callable):,} callable (target >= "
            f"1,000,000 numbers/s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="B13 B14 (default: both)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    wanted = {b.upper() for b in args.only} or {"B13", "B14"}
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, load average {load}; "
        f"engine {args.engine}; registry {sizes['registry']:,}",
        flush=True,
    )
    clock = Clock(INSIDE)
    with tempfile.TemporaryDirectory(prefix="callblock-campaigns-") as directory:
        workdir = Path(directory)
        with database(args.engine, workdir) as url:
            service, campaign = account(url, sizes, clock, workdir)
            try:
                if "B13" in wanted:
                    b13(service, campaign, clock, sizes, args.engine)
                if "B14" in wanted:
                    b14(service, campaign, clock, sizes, args.engine)
            finally:
                service.store.dispose()


if __name__ == "__main__":
    main()
