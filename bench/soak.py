"""Soak: many concurrent clients mixing writes and checks against a real server, then an audit.

    python bench/soak.py                                  # 64 clients, 5 minutes, SQLite
    python bench/soak.py --engine postgresql --seconds 300
    python bench/soak.py --seconds 20 --engine sqlite     # what .ci/run runs, on each engine

It starts `callblock serve --workers 2` on a fresh database, runs ``--clients`` clients for
``--seconds``: each creates its own groups, adds and removes its own numbers and checks
them. Every acknowledged answer is remembered. Afterwards every group is listed through the
API and compared with what was acknowledged: each acknowledged add must be there, each
acknowledged remove gone. A check of a number whose last acknowledged change is older than
the documented visibility bound must agree with it.

Prints requests, answers by status, p50/p99 latency by operation, and the violations; exits 1
if a number was lost or resurrected, a check disagreed, or any answer was a 5xx. Nothing here
is a timed assertion: the latencies are reported, not judged.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import new_database
from tests.servers import callblock, start_server, stop_server, wait_ready

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VISIBILITY_BOUND = 1.0  # seconds (docs/api.md): a write is seen by every process's checks
SETTLED = VISIBILITY_BOUND + 0.5
GROUPS_PER_CLIENT = 3


@dataclass
class Known:
    """What the acknowledged answers say of one number in one group."""

    present: bool
    at: float  # monotonic time of the acknowledgement


@dataclass
class Client:
    index: int
    groups: list[int] = field(default_factory=list)
    # (group id, number) -> state; absent from the map: never acknowledged, or uncertain.
    known: dict[tuple[int, str], Known] = field(default_factory=dict)
    numbers: list[str] = field(default_factory=list)  # every number it ever sent

    def new_number(self, rng: random.Random) -> str:
        # Every client has its own numbers (+91 9ccxxxxxxx), so answers cannot be confused.
        number = f"9{self.index:02d}{rng.randrange(10**7):07d}"
        self.numbers.append(number)
        return number


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    checks_compared: int = 0


async def timed(
    tally: Tally, operation: str, request: Awaitable[httpx.Response]
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        answer = await request
    except httpx.HTTPError as exc:
        tally.errors[type(exc).__name__] += 1
        return None
    tally.latencies[operation].append(time.perf_counter() - started)
    tally.statuses[answer.status_code] += 1
    return answer


async def run_client(
    client: Client, http: httpx.AsyncClient, until: float, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        roll = rng.random()
        if not client.groups or (roll < 0.04 and len(client.groups) < GROUPS_PER_CLIENT):
            name = f"soak-{client.index}-{len(client.groups)}-{uuid.uuid4().hex[:6]}"
            answer = await timed(tally, "create", http.post("/v1/groups", json={"name": name}))
            if answer is not None and answer.status_code == 201:
                client.groups.append(answer.json()["id"])
        elif roll < 0.35:
            group = rng.choice(client.groups)
            numbers = [client.new_number(rng) for _ in range(rng.randint(1, 20))]
            answer = await timed(
                tally, "add", http.post(f"/v1/groups/{group}/numbers", json={"numbers": numbers})
            )
            settle(client, group, numbers, answer, present=True)
        elif roll < 0.50:
            ours = [key for key, state in client.known.items() if state.present]
            if not ours:
                continue
            picked = rng.sample(ours, min(len(ours), rng.randint(1, 10)))
            group = picked[0][0]
            numbers = [number for g, number in picked if g == group]
            answer = await timed(
                tally,
                "remove",
                http.request("DELETE", f"/v1/groups/{group}/numbers", json={"numbers": numbers}),
            )
            settle(client, group, numbers, answer, present=False)
        else:
            if not client.numbers:
                continue
            number = rng.choice(client.numbers)
            asked = time.monotonic()
            answer = await timed(tally, "check", http.get(f"/v1/check/{number}"))
            if answer is not None and answer.status_code == 200:
                compare_check(client, number, answer.json()["blocked"], asked, tally)


def settle(
    client: Client,
    group: int,
    numbers: list[str],
    answer: httpx.Response | None,
    *,
    present: bool,
) -> None:
    for number in numbers:
        if answer is not None and answer.status_code == 200:
            client.known[(group, number)] = Known(present, time.monotonic())
        elif answer is None or answer.status_code >= 500:
            # No answer: the write may or may not have happened. Not audited from here on.
            client.known.pop((group, number), None)
        # A 4xx refusal wrote nothing: what was known still holds.


def compare_check(client: Client, number: str, blocked: bool, asked: float, tally: Tally) -> None:
    states = [state for (_, n), state in client.known.items() if n == number]
    if not states or any(asked - state.at < SETTLED for state in states):
        return  # unknown, or changed too recently for every process to have seen it
    expected = any(state.present for state in states)
    tally.checks_compared += 1
    if blocked != expected:
        tally.violations.append(f"check of {number}: blocked={blocked}, expected {expected}")


async def audit(http: httpx.AsyncClient, clients: list[Client], tally: Tally) -> int:
    """Compare every group's listing with the acknowledged answers; the entries audited."""
    audited = 0
    for client in clients:
        for group in client.groups:
            listed: set[str] = set()
            cursor = None
            while True:
                params: dict[str, str | int] = {"limit": 1000}
                if cursor:
                    params["cursor"] = cursor
                page = (await http.get(f"/v1/groups/{group}/numbers", params=params)).json()
                listed.update(entry["number"].removeprefix("+91") for entry in page["data"])
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            for (g, number), state in client.known.items():
                if g != group:
                    continue
                audited += 1
                if state.present and number not in listed:
                    tally.violations.append(f"lost: {number} acknowledged added to {group}")
                if not state.present and number in listed:
                    tally.violations.append(f"resurrected: {number} acknowledged removed")
    return audited


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def soak(base: str, key: str, clients: int, seconds: float) -> Tally:
    tally = Tally()
    population = [Client(i) for i in range(clients)]
    until = time.monotonic() + seconds

    async def one(client: Client) -> None:
        # Each client has a connection of its own, as separate dialers would: one shared
        # httpx pool for all of them measured the pool (143 checks/s at 64 clients against
        # 757/s with a client each, same server).
        async with connection(base, key) as http:
            await run_client(client, http, until, tally, seed=client.index)

    await asyncio.gather(*(one(client) for client in population))
    await asyncio.sleep(SETTLED)  # let every process see the last writes
    async with connection(base, key) as http:
        audited = await audit(http, population, tally)
    print(f"audited entries: {audited}")
    return tally


def connection(base: str, key: str) -> httpx.AsyncClient:
    # Idle connections are dropped well before the server's keep-alive ends (75 s), so that
    # none is reused just as the server closes it.
    return httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {key}"},
        limits=httpx.Limits(max_connections=1, keepalive_expiry=30),
        timeout=30,
    )


@dataclass
class Served:
    url: str
    key: str  # of the one account
    log: str = ""  # what the server printed, once it has stopped


@contextmanager
def served(engine: str, workdir: Path, username: str, *serve_args: str) -> Iterator[Served]:
    """A server on a new database of ``engine`` with one account; a PostgreSQL database is
    dropped afterwards."""
    postgres = os.environ.get("CALLBLOCK_BENCH_POSTGRES_URL", POSTGRES_URL)
    with new_database(engine, workdir, postgres, "callblock_bench") as url:
        callblock("db", "upgrade", database_url=url)
        key = callblock("account", "create", username, database_url=url).stdout.split()[-1]
        server = start_server(url, *serve_args)
        running = Served(server.url, key)
        try:
            wait_ready(server)
            yield running
        finally:
            running.log = stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as directory,
        served(args.engine, Path(directory), "soak", "--workers", str(args.workers)) as server,
    ):
        started = time.monotonic()
        tally = asyncio.run(soak(server.url, server.key, args.clients, args.seconds))
        elapsed = time.monotonic() - started
    log = server.log
    requests = sum(tally.statuses.values())
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    every = [t for values in tally.latencies.values() for t in values]
    print(
        f"soak: engine={args.engine}, clients={args.clients}, workers={args.workers}, "
        f"seconds={args.seconds:g} (with audit {elapsed:.0f})"
    )
    print(
        f"requests: {requests} ({requests / args.seconds:.0f}/s); by status: "
        f"{dict(sorted(tally.statuses.items()))}; transport errors: {dict(tally.errors)}"
    )
    for operation, values in sorted(tally.latencies.items()):
        print(
            f"  {operation:<7} n={len(values):>7}  p50={statistics.median(values) * 1000:7.1f} ms"
            f"  p99={percentile(values, 0.99) * 1000:7.1f} ms"
        )
    print(
        f"all: p50={statistics.median(every) * 1000:.1f} ms, "
        f"p99={percentile(every, 0.99) * 1000:.1f} ms"
    )
    print(f"checks compared with acknowledged state: {tally.checks_compared}")
    tracebacks = log.count("Traceback")
    print(f"5xx answers: {server_errors}; tracebacks in the server log: {tracebacks}")
    print(f"violations: {len(tally.violations)}")
    for violation in tally.violations[:20]:
        print(f"  {violation}")
    failed = tally.violations or server_errors or tracebacks or tally.errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
