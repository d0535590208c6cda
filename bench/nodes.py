"""callblock's multi-node benchmarks, B8 to B11 (issue 15, docs/performance.md): `callblock
serve` processes on one database, an account holding a big "registry" group and a small
"opt-out" group. Each prints its figures and the ratio to a baseline measured in the same run.

    python bench/nodes.py                              # full size: a 100,000,000-entry registry
    python bench/nodes.py --smoke                      # tiny sizes: proves they run (CI)
    python bench/nodes.py --engine postgresql B8 B10   # only some, on PostgreSQL
    python bench/nodes.py --registry 1000000           # a moderate size

- B8: a write on node A (one number into the opt-out group) until node B's check says blocked;
  against the same with a 10,000-entry registry.
- B9: the memory of one node with ``--workers 4`` (the sum of every process's PSS, which
  counts a page shared by several processes once), against the same node with an empty account.
- B10: restart of node B until it is ready and blocks a registry number; against 10,000 entries.
- B11: node B's check latency at a steady rate while node A writes a number every 100 ms and
  imports a 10,000,000-line file, and when node B first sees the import; against the same
  checks with no writes.

Every database, number file and node's index directory (``CALLBLOCK_INDEX_DIR``) is made in a
temporary directory (``--workdir``, default the system's) and removed afterwards; on PostgreSQL
each database is created and dropped (``CALLBLOCK_BENCH_POSTGRES_URL``, default the local
server). A benchmark is not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import report, results
from tests.databases import new_database
from tests.servers import Server, create_account, start_server, stop_server

import callblock
from callblock.metrics import MULTIPROCESS_DIR

FULL = {
    "registry": 100_000_000,
    "baseline": 10_000,  # the registry of B8's and B10's baseline
    "optout": 100,
    "writes": 50,  # B8's writes, each timed until node B sees it
    "import": 10_000_000,  # B11's import
    "rate": 200,  # B11's checks per second
    "quiet_seconds": 10,  # B11's baseline
    "restarts": 3,  # B10's, of each node
}
SMOKE = {
    "registry": 3_000,
    "baseline": 1_000,
    "optout": 10,
    "writes": 5,
    "import": 5_000,
    "rate": 100,
    "quiet_seconds": 1,
    "restarts": 1,
}
CLI = [sys.executable, "-m", "callblock"]
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
USERNAME = "bench"
# Each kind of number has a range of its own, so that no answer can be mistaken for another.
REGISTRY_FIRST = 9_000_000_000  # as bench/run.py's numbers()
OPTOUT_FIRST = 8_000_000_000
B8_FIRST = 7_000_000_000
B11_WRITES_FIRST = 7_500_000_000
B11_IMPORT_FIRST = 6_000_000_000
OUTSIDE_FIRST = 9_600_000_000  # valid numbers in no group
CHUNK = 1_000_000  # numbers written to a file at a time
# Disk a registry entry takes in the work directory: its line in the file, and SQLite's row
# and index (about 70 bytes measured), with room to spare.
DISK_PER_ENTRY = 11 + 150
POLL = 0.005  # seconds between node B's checks while a write is awaited
LONG = 4 * 3600.0  # seconds: the longest wait for anything, at any size
tracebacks = Counter[str]()  # by node: a node's log with a traceback is reported at the end


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def cli(*args: str, database_url: str | None = None) -> str:
    """A ``callblock`` command, however long it takes; its output. A failure says why."""
    command = [*CLI, *args]
    if database_url is not None:
        command += ["--database-url", database_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def write_numbers(path: Path, count: int, first: int) -> None:
    """``count`` numbers from ``first`` up, a line each, written a chunk at a time (100,000,000
    lines are about 1.1 GB)."""
    with path.open("w") as out:
        for start in range(first, first + count, CHUNK):
            stop = min(start + CHUNK, first + count)
            out.write("\n".join(map(str, range(start, stop))))
            out.write("\n")


# --- accounts -------------------------------------------------------------------------------


@dataclass
class Account:
    """The one account of a database of its own."""

    name: str
    engine: str
    database_url: str
    key: str
    registry: int  # entries of its "registry" group
    optout: int  # entries of its "opt-out" group

    @property
    def entries(self) -> int:
        return self.registry + self.optout

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def registry_number(self, rng: random.Random | None = None) -> str:
        """A number of the registry group (one in the middle, or a random one)."""
        offset = rng.randrange(self.registry) if rng else self.registry // 2
        return str(REGISTRY_FIRST + offset)


@contextmanager
def account(
    engine: str, workdir: Path, name: str, registry: int, optout: int, postgres: str
) -> Iterator[Account]:
    """A new database holding one account whose groups are imported by ``callblock import``
    from generated files; the database is dropped afterwards. Reports how long it took."""
    directory = workdir / name
    directory.mkdir()
    with new_database(engine, directory, postgres, "callblock_nodes") as url:
        started = time.perf_counter()
        cli("db", "upgrade", database_url=url)
        key = create_account(USERNAME, database_url=url)
        imported: dict[str, float] = {}
        written = 0.0
        for group, count, first in (
            ("registry", registry, REGISTRY_FIRST),
            ("opt-out", optout, OPTOUT_FIRST),
        ):
            if count == 0:
                continue
            path = directory / f"{group}.txt"
            begun = time.perf_counter()
            write_numbers(path, count, first)
            written += time.perf_counter() - begun
            begun = time.perf_counter()
            cli("import", "--account", USERNAME, "--group", group, str(path), database_url=url)
            imported[group] = time.perf_counter() - begun
            path.unlink()
        registry_s = imported.get("registry", 0.0)
        report(
            f"set-up {name}",
            engine=engine,
            registry=registry,
            optout=optout,
            files_s=round(written, 2),
            registry_import_s=round(registry_s, 2),
            registry_rows_per_s=int(registry / registry_s) if registry_s else None,
            total_s=round(time.perf_counter() - started, 2),
        )
        yield Account(name, engine, url, key, registry, optout)


# --- nodes ----------------------------------------------------------------------------------


@contextmanager
def exported(name: str, value: str | None) -> Iterator[None]:
    """``name=value`` in this process's environment for the duration (a server started then
    inherits it); nothing when ``value`` is None."""
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


class Node:
    """One `callblock serve` on an account's database, with a node-local index directory of
    its own (``CALLBLOCK_INDEX_DIR``, where a node keeps the memory-mapped snapshot of each
    account's index; a server that does not know the setting ignores it)."""

    def __init__(
        self, account: Account, name: str, workdir: Path, *serve_args: str, metrics: Path | None
    ) -> None:
        self.account = account
        self.name = name
        self.serve_args = serve_args
        self.index_dir = workdir / f"index-{account.name}-{name}"
        self.index_dir.mkdir(exist_ok=True)
        self.metrics = metrics  # the workers' metric files (PROMETHEUS_MULTIPROC_DIR), if set
        self.server: Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, f"node {self.name} is not running"
        return self.server.url

    @property
    def pid(self) -> int:
        assert self.server is not None, f"node {self.name} is not running"
        return self.server.process.pid

    def start(self) -> float:
        """Start it; the seconds from the process's start until it is ready: ``/readyz``
        answers 200 and a check of a registry number answers blocked."""
        started = time.perf_counter()
        with exported(MULTIPROCESS_DIR, str(self.metrics) if self.metrics else None):
            self.server = start_server(
                self.account.database_url, *self.serve_args, index_dir=str(self.index_dir)
            )
        self.wait_ready()
        return time.perf_counter() - started

    def wait_ready(self) -> None:
        deadline = time.monotonic() + LONG
        with httpx.Client(base_url=self.url, headers=self.account.headers, timeout=60) as client:
            while not self._ready(client):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node {self.name} not ready within {LONG:g} s")
                time.sleep(0.02)

    def _ready(self, client: httpx.Client) -> bool:
        try:
            if client.get("/readyz").status_code != 200:
                return False
            if not self.account.registry:
                return True
            answer = client.get(f"/v1/check/{self.account.registry_number()}")
            return answer.status_code == 200 and bool(answer.json()["blocked"])
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.server is None:
            return
        log = stop_server(self.server)
        self.server = None
        if "Traceback" in log:
            tracebacks[f"{self.account.name}-{self.name}"] += log.count("Traceback")
            print(f"node {self.name} logged a traceback:\n{log[-3000:]}", flush=True)


@contextmanager
def running(*nodes: Node) -> Iterator[None]:
    """The nodes started one after the other, each until ready; all stopped afterwards."""
    try:
        for node in nodes:
            node.start()
        yield
    finally:
        for node in nodes:
            node.stop()


def group_id(node: Node, name: str) -> int:
    answer = httpx.get(
        f"{node.url}/v1/groups", params={"name": name}, headers=node.account.headers
    ).raise_for_status()
    found = [g["id"] for g in answer.json()["data"] if g["name"] == name]
    if not found:
        raise RuntimeError(f"no group {name!r} in account {node.account.name}")
    return int(found[0])


# --- B8 -------------------------------------------------------------------------------------


def write_to_seen(a: Node, b: Node, count: int, first: int, rng: random.Random) -> list[float]:
    """Seconds from each acknowledged write of a new number on node A (``POST`` to the opt-out
    group) until node B's ``GET /v1/check`` answers it blocked; B is asked every ``POLL`` s.
    The writes are apart by a random pause, so that they fall at every phase of B's refresh."""
    optout = group_id(a, "opt-out")
    delays = []
    with (
        httpx.Client(base_url=a.url, headers=a.account.headers, timeout=LONG) as to_a,
        httpx.Client(base_url=b.url, headers=b.account.headers, timeout=LONG) as to_b,
    ):
        for number in map(str, range(first, first + count)):
            to_a.post(f"/v1/groups/{optout}/numbers", json={"numbers": [number]}).raise_for_status()
            acknowledged = time.perf_counter()
            while not to_b.get(f"/v1/check/{number}").raise_for_status().json()["blocked"]:
                if time.perf_counter() - acknowledged > LONG:
                    raise RuntimeError(f"node B never saw {number}")
                time.sleep(POLL)
            delays.append(time.perf_counter() - acknowledged)
            time.sleep(rng.uniform(0, 0.5))
    return delays


def report_b8(big: list[float], small: list[float], sizes: dict[str, int], engine: str) -> None:
    p95, base_p95 = percentile(big, 0.95), percentile(small, 0.95)
    report(
        "B8",
        engine=engine,
        registry=sizes["registry"],
        writes=len(big),
        p50_s=round(statistics.median(big), 3),
        p95_s=round(p95, 3),
        max_s=round(max(big), 3),
        baseline_registry=sizes["baseline"],
        baseline_p50_s=round(statistics.median(small), 3),
        baseline_p95_s=round(base_p95, 3),
        ratio=round(p95 / base_p95, 2),
        target="p95 <= 1.0 s, ratio <= 1.5",
    )


# --- B9 -------------------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            # The parent is the second field after the command, which may hold spaces.
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, waiting = [], [root]
    while waiting:
        pid = waiting.pop()
        found.append(pid)
        waiting.extend(children.get(pid, []))
    return found


def pss_bytes(pid: int) -> int:
    """The process's proportional set size: each page it maps, divided by the number of
    processes mapping it (0 if it has gone)."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def worker_entries(metrics: Path) -> dict[int, float]:
    """Each worker's ``callblock_index_entries`` gauge, read from its own metrics file (the
    ``/metrics`` scrape gives only the largest)."""
    from prometheus_client.mmap_dict import MmapedDict

    found = {}
    for path in metrics.glob("gauge_livemax_*.db"):
        with suppress(OSError, RuntimeError, ValueError):
            values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
            for key, value, *_ in values:
                if json.loads(key)[0] == "callblock_index_entries":
                    found[int(path.stem.rpartition("_")[2])] = value
    return found


def wait_workers_loaded(node: Node, workers: int, within: float) -> bool:
    """Until every worker's index holds the account (False if that is not seen in time:
    a server whose metrics no longer say so)."""
    assert node.metrics is not None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        # The supervisor has a file too (it imports the metrics), but no index.
        entries = worker_entries(node.metrics)
        entries.pop(node.pid, None)
        if len(entries) >= workers and all(n >= node.account.entries for n in entries.values()):
            return True
        time.sleep(0.2)
    return False


def node_memory(account: Account, workdir: Path, workers: int) -> tuple[int, int, bool]:
    """The PSS of one node with ``workers`` workers over ``account``'s database, once every
    worker has loaded it: (bytes, processes, whether every worker was seen loaded)."""
    metrics = workdir / f"metrics-{account.name}"
    metrics.mkdir()
    node = Node(account, "m", workdir, "--workers", str(workers), metrics=metrics)
    with running(node):
        loaded = wait_workers_loaded(node, workers, LONG if account.entries else 60)
        # Every worker asked too, over fresh connections (each may be accepted by any worker).
        number = account.registry_number() if account.registry else "9876543210"
        for _ in range(20 * workers):
            httpx.get(f"{node.url}/v1/check/{number}", headers=account.headers).raise_for_status()
        time.sleep(1)
        pids = process_tree(node.pid)
        return sum(pss_bytes(pid) for pid in pids), len(pids), loaded


def b9(big: Account, empty: Account, workdir: Path, engine: str) -> None:
    workers = 4
    pss, processes, loaded = node_memory(big, workdir, workers)
    base, _, base_loaded = node_memory(empty, workdir, workers)
    report(
        "B9",
        engine=engine,
        workers=workers,
        processes=processes,
        entries=big.entries,
        pss_mb=round(pss / 2**20, 1),
        baseline_pss_mb=round(base / 2**20, 1),
        bytes_per_entry=round((pss - base) / big.registry, 1),
        every_worker_seen_loaded=loaded and base_loaded,
        target="<= 10 bytes/entry",
    )


# --- B10 ------------------------------------------------------------------------------------


def restarts(node: Node, rounds: int) -> list[float]:
    """Seconds from each new start of the node to ready (``Node.start``), after a stop."""
    times = []
    for _ in range(rounds):
        node.stop()
        times.append(node.start())
    return times


def report_b10(big: list[float], small: list[float], sizes: dict[str, int], engine: str) -> None:
    ready, base = statistics.median(big), statistics.median(small)
    report(
        "B10",
        engine=engine,
        registry=sizes["registry"],
        ready_s=round(ready, 2),
        runs=[round(t, 2) for t in big],
        baseline_registry=sizes["baseline"],
        baseline_ready_s=round(base, 2),
        baseline_runs=[round(t, 2) for t in small],
        ratio=round(ready / base, 2),
        target="<= 5 s",
    )


# --- B11 ------------------------------------------------------------------------------------


@dataclass
class Paced:
    """Answers to requests sent at a steady rate. ``served`` counts from when each request was
    sent; ``late`` from when it was due, so that a stall delays every request behind it (no
    coordinated omission), but so does a client that cannot keep the rate on a busy machine:
    ``achieved`` says whether it did."""

    late: list[float] = field(default_factory=list)
    served: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # how long it ran

    def achieved(self) -> float:
        """Answers a second."""
        return len(self.served) / self.seconds if self.seconds else 0.0


def paced(
    rate: float, stop: threading.Event, send: Callable[[int], httpx.Response], into: Paced
) -> None:
    """``send(i)`` ``rate`` times a second until ``stop``; one at a time, as one connection."""
    started = time.perf_counter()
    i = 0
    while not stop.is_set():
        due = started + i / rate
        if stop.wait(max(0.0, due - time.perf_counter())):
            break
        sent = time.perf_counter()
        try:
            answer = send(i)
        except httpx.HTTPError as exc:
            into.errors[type(exc).__name__] += 1
        else:
            done = time.perf_counter()
            into.late.append(done - due)
            into.served.append(done - sent)
            into.statuses[answer.status_code] += 1
        i += 1
    into.seconds = time.perf_counter() - started


def check_numbers(account: Account, count: int) -> list[str]:
    """Numbers to check: half of them in the registry, half in no group."""
    rng = random.Random(11)
    inside = [account.registry_number(rng) for _ in range(count // 2)]
    outside = [str(OUTSIDE_FIRST + rng.randrange(10**8)) for _ in range(count - len(inside))]
    mixed = inside + outside
    rng.shuffle(mixed)
    return mixed


@contextmanager
def in_background(*actions: Callable[[threading.Event], None]) -> Iterator[None]:
    """The actions, each in a thread of its own, until the event they are given is set (on
    leaving)."""
    stop = threading.Event()
    threads = [threading.Thread(target=action, args=(stop,), daemon=True) for action in actions]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)


class ImportWatch:
    """Asks node B about a sample of the import's numbers until every one is blocked: when it
    first saw any, and whether it saw them all at once (no answer with some blocked and some
    not)."""

    def __init__(self, b: Node, first: int, count: int) -> None:
        self.b = b
        self.sample = [str(first + i * (count - 1) // 19) for i in range(20)]
        self.first_seen: float | None = None
        self.all_seen: float | None = None
        self.partial = 0  # answers with some of the sample blocked, not all

    def run(self, stop: threading.Event) -> None:
        with httpx.Client(base_url=self.b.url, headers=self.b.account.headers, timeout=60) as to_b:
            while not stop.is_set() and self.all_seen is None:
                with suppress(httpx.HTTPError):
                    answer = to_b.post("/v1/check", json={"numbers": self.sample})
                    blocked = sum(r["blocked"] for r in answer.raise_for_status().json()["results"])
                    now = time.perf_counter()
                    if blocked and self.first_seen is None:
                        self.first_seen = now
                    if blocked == len(self.sample):
                        self.all_seen = now
                    elif blocked:
                        self.partial += 1
                stop.wait(0.02)


def b11(a: Node, b: Node, sizes: dict[str, int], workdir: Path, engine: str) -> None:
    account = a.account
    numbers = check_numbers(account, 10_000)
    file = workdir / "b11-import.txt"
    write_numbers(file, sizes["import"], B11_IMPORT_FIRST)
    optout = group_id(a, "opt-out")

    with (
        httpx.Client(base_url=b.url, headers=account.headers, timeout=LONG) as to_b,
        httpx.Client(base_url=a.url, headers=account.headers, timeout=LONG) as to_a,
    ):

        def check(i: int) -> httpx.Response:
            return to_b.get(f"/v1/check/{numbers[i % len(numbers)]}")

        def write(i: int) -> httpx.Response:
            number = str(B11_WRITES_FIRST + i)
            return to_a.post(f"/v1/groups/{optout}/numbers", json={"numbers": [number]})

        quiet = Paced()
        with in_background(lambda stop: paced(sizes["rate"], stop, check, quiet)):
            time.sleep(sizes["quiet_seconds"])

        loaded, writes = Paced(), Paced()
        watch = ImportWatch(b, B11_IMPORT_FIRST, sizes["import"])
        with in_background(
            lambda stop: paced(sizes["rate"], stop, check, loaded),
            lambda stop: paced(10, stop, write, writes),
            watch.run,
        ):
            started = time.perf_counter()
            cli("import", "--url", a.url, "--api-key", account.key, "--group", "bulk", str(file))
            ended = time.perf_counter()
            deadline = ended + LONG
            while watch.all_seen is None and time.perf_counter() < deadline:
                time.sleep(0.05)
            time.sleep(1)  # the checks and writes just after it too
    file.unlink()
    p99, quiet_p99 = percentile(loaded.served, 0.99), percentile(quiet.served, 0.99)
    seen = watch.first_seen
    report(
        "B11",
        engine=engine,
        registry=sizes["registry"],
        import_lines=sizes["import"],
        import_s=round(ended - started, 2),
        checks=len(loaded.served),
        rate_per_s=sizes["rate"],
        achieved_per_s=round(loaded.achieved()),
        p50_ms=round(statistics.median(loaded.served) * 1000, 1),
        p99_ms=round(p99 * 1000, 1),
        max_ms=round(max(loaded.served) * 1000, 1),
        p99_from_due_ms=round(percentile(loaded.late, 0.99) * 1000, 1),
        check_statuses=dict(loaded.statuses),
        check_errors=dict(loaded.errors),
        baseline_checks=len(quiet.served),
        baseline_achieved_per_s=round(quiet.achieved()),
        baseline_p50_ms=round(statistics.median(quiet.served) * 1000, 1),
        baseline_p99_ms=round(quiet_p99 * 1000, 1),
        baseline_p99_from_due_ms=round(percentile(quiet.late, 0.99) * 1000, 1),
        ratio=round(p99 / quiet_p99, 2),
        writes=len(writes.late),
        write_statuses=dict(writes.statuses),
        write_errors=dict(writes.errors),
        write_p99_ms=round(percentile(writes.served, 0.99) * 1000, 1),
        # Negative: node B saw it before node A answered the import.
        import_seen_after_end_s=round(seen - ended, 2) if seen is not None else None,
        import_seen_all_at_once=watch.partial == 0 if seen is not None else None,
        target="p99 <= 50 ms",
    )


# --- the run --------------------------------------------------------------------------------


def two_nodes(account: Account, workdir: Path) -> tuple[Node, Node]:
    return (
        Node(account, "a", workdir, metrics=None),
        Node(account, "b", workdir, metrics=None),
    )


def enough_disk(workdir: Path, sizes: dict[str, int]) -> None:
    needed = (sizes["registry"] + sizes["baseline"] + sizes["import"]) * DISK_PER_ENTRY
    free = shutil.disk_usage(workdir).free
    if free < needed:
        sys.exit(
            f"{workdir} has {free / 2**30:.1f} GiB free; this run needs about "
            f"{needed / 2**30:.1f} GiB (--workdir elsewhere, or a smaller --registry)"
        )


def run(wanted: set[str], sizes: dict[str, int], engine: str, workdir: Path) -> None:
    postgres = os.environ.get("CALLBLOCK_BENCH_POSTGRES_URL", POSTGRES_URL)

    def database(name: str, registry: int, optout: int) -> Account:
        return stack.enter_context(account(engine, workdir, name, registry, optout, postgres))

    with ExitStack() as stack:
        big = database("registry", sizes["registry"], sizes["optout"])
        if "B9" in wanted:
            # First, with no other node running beside it.
            b9(big, database("empty", 0, 0), workdir, engine)
        delays: dict[str, list[float]] = {}
        ready: dict[str, list[float]] = {}
        pairs = [big]
        if wanted & {"B8", "B10"}:
            pairs.insert(0, database("baseline", sizes["baseline"], sizes["optout"]))
        for held in pairs:
            a, b = two_nodes(held, workdir)
            with running(a, b):
                if "B8" in wanted:
                    delays[held.name] = write_to_seen(
                        a, b, sizes["writes"], B8_FIRST, random.Random(8)
                    )
                if "B10" in wanted:
                    ready[held.name] = restarts(b, sizes["restarts"])
                if "B11" in wanted and held is big:
                    b11(a, b, sizes, workdir, engine)
        if "B8" in wanted:
            report_b8(delays["registry"], delays["baseline"], sizes, engine)
        if "B10" in wanted:
            report_b10(ready["registry"], ready["baseline"], sizes, engine)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="B8 B9 B10 B11 (default: all)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check they run")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--registry", type=int, help="entries of the registry group")
    parser.add_argument("--import-lines", type=int, help="lines of B11's import")
    parser.add_argument("--workdir", type=Path, help="where the temporary directory goes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sizes = dict(SMOKE if args.smoke else FULL)
    if args.registry is not None:
        sizes["registry"] = args.registry
    if args.import_lines is not None:
        sizes["import"] = args.import_lines
    wanted = {b.upper() for b in args.only} or {"B8", "B9", "B10", "B11"}
    if unknown := wanted - {"B8", "B9", "B10", "B11"}:
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {load}; engine {args.engine}; "
        f"registry {sizes['registry']:,}, import {sizes['import']:,}",
        flush=True,
    )
    # As `pip install` does: otherwise every `callblock` process timed here compiles anew.
    compileall.compile_dir(Path(callblock.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="callblock-nodes-", dir=args.workdir) as directory:
        enough_disk(Path(directory), sizes)
        run(wanted, sizes, args.engine, Path(directory))
    # The machine's two cores are shared: a figure means little without what else ran.
    print(f"load average at the end: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")
    if tracebacks:
        print(f"tracebacks in the nodes' logs: {dict(tracebacks)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
