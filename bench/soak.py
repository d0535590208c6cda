"""Soak: many concurrent clients mixing writes and checks against a real server, then an audit.

    python bench/soak.py                                  # 64 clients, 5 minutes, SQLite
    python bench/soak.py --engine postgresql --seconds 300
    python bench/soak.py --nodes 2 --registry 1000000     # two nodes, a registry beside
    python bench/soak.py --seconds 20 --nodes 2 --registry 100000 --engine sqlite  # .ci/run's

It starts ``--nodes`` nodes (each `callblock serve --workers 2`) on one fresh database, runs
``--clients`` clients for ``--seconds``: each creates its own groups, adds and removes its own
numbers and checks them, each request sent to a node picked at random. Every acknowledged
answer is remembered. Afterwards every group is listed through the API and compared with what
was acknowledged: each acknowledged add must be there, each acknowledged remove gone. A check
of a number whose last acknowledged change is older than the documented visibility bound must
agree with it, whichever node it was written on.

With ``--registry N``, the account also holds a "registry" group of N numbers, imported by
`callblock import` before the nodes start (a national do-not-call list beside the clients'
small groups); the audit then checks that it still holds N entries and that a sample of them
is blocked on every node.

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
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import new_database
from tests.servers import Server, callblock, start_server, stop_server, wait_ready

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VISIBILITY_BOUND = 1.0  # seconds (docs/api.md): a write is seen by every process's checks
SETTLED = VISIBILITY_BOUND + 0.5
CLI = [sys.executable, "-m", "callblock"]
GROUPS_PER_CLIENT = 3
# The registry's numbers: 8xxxxxxxxx, apart from every client's 9ccxxxxxxx.
REGISTRY_FIRST = 8_000_000_000
REGISTRY_SAMPLE = 1000  # registry numbers checked on every node by the audit


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
    client: Client, nodes: list[httpx.AsyncClient], until: float, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        http = rng.choice(nodes)
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


async def audit_registry(bases: list[str], key: str, entries: int, tally: Tally) -> None:
    """The registry group still holds ``entries`` numbers, and a sample of them is blocked on
    every node: asked over several new connections each, so that every worker answers."""
    rng = random.Random(1)
    sample = [str(REGISTRY_FIRST + rng.randrange(entries)) for _ in range(REGISTRY_SAMPLE)]
    for base in bases:
        async with connection(base, key) as http:
            found = (await http.get("/v1/groups", params={"name": "registry"})).json()["data"]
            counts = [g["active_count"] for g in found if g["name"] == "registry"]
        if counts != [entries]:
            tally.violations.append(f"registry on {base}: active counts {counts}, not {entries}")
        for _ in range(8):
            async with connection(base, key) as http:
                answer = await http.post("/v1/check", json={"numbers": sample})
            if answer.status_code != 200:
                tally.violations.append(f"registry check on {base}: {answer.status_code}")
                continue
            missed = [r["input"] for r in answer.json()["results"] if not r["blocked"]]
            if missed:
                tally.violations.append(
                    f"registry on {base}: {len(missed)} of {len(sample)} sampled numbers not "
                    f"blocked, e.g. {missed[:3]}"
                )
    print(f"registry audited: {entries} entries, {len(sample)} sampled on {len(bases)} node(s)")


async def soak(
    bases: list[str], key: str, clients: int, seconds: float, registry: int = 0
) -> Tally:
    tally = Tally()
    population = [Client(i) for i in range(clients)]
    until = time.monotonic() + seconds

    async def one(client: Client) -> None:
        # Each client has a connection of its own to each node, as separate dialers would: one
        # shared httpx pool for all of them measured the pool (143 checks/s at 64 clients
        # against 757/s with a client each, same server).
        async with AsyncExitStack() as stack:
            nodes = [await stack.enter_async_context(connection(base, key)) for base in bases]
            await run_client(client, nodes, until, tally, seed=client.index)

    await asyncio.gather(*(one(client) for client in population))
    await asyncio.sleep(SETTLED)  # let every process see the last writes
    async with connection(bases[0], key) as http:
        audited = await audit(http, population, tally)
    print(f"audited entries: {audited}")
    if registry:
        await audit_registry(bases, key, registry, tally)
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
    urls: list[str]  # of each node
    key: str  # of the one account
    log: str = ""  # what the nodes printed, once they have stopped


def import_registry(url: str, username: str, entries: int, workdir: Path) -> None:
    """A "registry" group of ``entries`` numbers in the account, by `callblock import`."""
    path = workdir / "registry.txt"
    with path.open("w") as out:
        for start in range(REGISTRY_FIRST, REGISTRY_FIRST + entries, 1_000_000):
            stop = min(start + 1_000_000, REGISTRY_FIRST + entries)
            out.write("".join(f"{n}\n" for n in range(start, stop)))
    command = [*CLI, "import", "--account", username, "--group", "registry", str(path)]
    started = time.monotonic()
    subprocess.run([*command, "--database-url", url], check=True, capture_output=True)
    print(f"registry imported: {entries} numbers in {time.monotonic() - started:.1f} s")
    path.unlink()


@contextmanager
def served(
    engine: str,
    workdir: Path,
    username: str,
    *serve_args: str,
    nodes: int = 1,
    registry: int = 0,
) -> Iterator[Served]:
    """``nodes`` servers on one new database of ``engine`` with one account (holding a
    registry group of ``registry`` numbers, if any), each ready; a PostgreSQL database is
    dropped afterwards."""
    postgres = os.environ.get("CALLBLOCK_BENCH_POSTGRES_URL", POSTGRES_URL)
    with new_database(engine, workdir, postgres, "callblock_bench") as url:
        callblock("db", "upgrade", database_url=url)
        key = callblock("account", "create", username, database_url=url).stdout.split()[-1]
        if registry:
            import_registry(url, username, registry, workdir)
        servers: list[Server] = []
        running = Served([], key)
        try:
            for _ in range(nodes):
                servers.append(start_server(url, *serve_args))
            for server in servers:
                wait_ready(server, within=600)
            running.urls = [server.url for server in servers]
            yield running
        finally:
            running.log = "".join(stop_server(server) for server in servers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="of each node")
    parser.add_argument(
        "--nodes", type=int, default=1, help="`callblock serve` processes on the one database"
    )
    parser.add_argument(
        "--registry", type=int, default=0, help="numbers of a registry group in the account"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as directory,
        served(
            args.engine,
            Path(directory),
            "soak",
            "--workers",
            str(args.workers),
            nodes=args.nodes,
            registry=args.registry,
        ) as server,
    ):
        started = time.monotonic()
        tally = asyncio.run(
            soak(server.urls, server.key, args.clients, args.seconds, args.registry)
        )
        elapsed = time.monotonic() - started
    log = server.log
    requests = sum(tally.statuses.values())
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    every = [t for values in tally.latencies.values() for t in values]
    print(
        f"soak: engine={args.engine}, nodes={args.nodes}, workers={args.workers} each, "
        f"registry={args.registry}, clients={args.clients}, seconds={args.seconds:g} "
        f"(with audit {elapsed:.0f})"
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
