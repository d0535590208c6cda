"""callblock's benchmarks, B1 to B7, B12 and B17 (see docs/performance.md). Each prints its
figures and, where it has one, the ratio to a baseline measured in the same run on the same
machine.

    python bench/run.py            # the full sizes (a few minutes)
    python bench/run.py --smoke    # tiny sizes: proves the benchmarks still run (CI)
    python bench/run.py B2 B6      # only some

A benchmark is not a test: nothing here asserts a time. B4 uses wrk (``apt-get install wrk``)
when it is on the PATH.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import os
import platform
import random
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

import callblock
from callblock import snapshots
from callblock.domain import Actor, Direction, GroupByName, Surface
from callblock.files import ImportLines
from callblock.index import AccountIndex, IndexedGroup, index_from_snapshot, load, snapshot_parts
from callblock.service import Service
from callblock.store import Store
from callblock.store.migrate import upgrade
from callblock.timestamps import NEVER

FULL = {
    "import": 1_000_000,
    "group": 1_000_000,
    "batch": 100_000,
    "big": 100_000_000,
    "small": 10_000,
    "scrub": 1_000_000,
    "export": 10_000_000,
    "seconds": 10,
    "rounds": 15,
}
SMOKE = {
    "import": 2_000,
    "group": 2_000,
    "batch": 500,
    "big": 20_000,
    "small": 1_000,
    "scrub": 2_000,
    "export": 20_000,
    "seconds": 1,
    "rounds": 2,
}
CLI = [sys.executable, "-m", "callblock"]
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
results: dict[str, dict[str, object]] = {}


def report(bench: str, **figures: object) -> None:
    results[bench] = figures
    shown = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"{bench}: {shown}", flush=True)


def numbers(count: int, start: int = 9_000_000_000) -> list[str]:
    return [str(start + i) for i in range(count)]


def fresh(workdir: Path, name: str) -> str:
    return f"sqlite:///{workdir / name}"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# --- B1 -------------------------------------------------------------------------------------------

# Import and baseline each run this many times, alternately, each time into a fresh store, and
# the fastest run of each counts: on a shared two-core machine a single run mostly measures
# what else was running.
ROUNDS = 3


def best_of(ours: Callable[[int], float], plain: Callable[[int], float]) -> tuple[float, float]:
    """The fastest of ``ROUNDS`` alternate runs of each: (ours, baseline)."""
    ours_s, plain_s = [], []
    for round_ in range(ROUNDS):
        ours_s.append(ours(round_))
        plain_s.append(plain(round_))
    print(
        f"  runs: ours {[round(t, 2) for t in ours_s]}, baseline {[round(t, 2) for t in plain_s]}",
        flush=True,
    )
    return min(ours_s), min(plain_s)


def cli_import(path: Path, url: str) -> float:
    """``callblock import`` of ``path`` into a new group, timed as a new process start to exit."""
    command = [*CLI, "import", "--account", "bench", "--group", "Registry", str(path)]
    return timed(
        lambda: subprocess.run([*command, "--database-url", url], check=True, capture_output=True)
    )


def b1(sizes: dict[str, int], workdir: Path) -> None:
    count = sizes["import"]
    path = workdir / "b1.txt"
    path.write_text("\n".join(numbers(count)) + "\n")

    def ours(round_: int) -> float:
        url = fresh(workdir, f"b1-{round_}.db")
        subprocess.run(
            [*CLI, "account", "create", "bench", "--database-url", url],
            check=True,
            capture_output=True,
        )
        return cli_import(path, url)

    # Baseline: the same rows, already normalised, into a bare indexed table.
    rows = [(f"+91{n}",) for n in numbers(count)]

    def baseline(round_: int) -> float:
        conn = sqlite3.connect(workdir / f"b1-baseline-{round_}.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE numbers (number TEXT NOT NULL)")
        conn.execute("CREATE UNIQUE INDEX ix_number ON numbers (number)")

        def insert() -> None:
            with conn:
                conn.executemany("INSERT INTO numbers (number) VALUES (?)", rows)

        try:
            return timed(insert)
        finally:
            conn.close()

    _report_import("B1", count, *best_of(ours, baseline))


def _report_import(bench: str, count: int, ours: float, plain: float) -> None:
    report(
        bench,
        rows=count,
        import_s=round(ours, 2),
        rows_per_s=int(count / ours),
        baseline_s=round(plain, 2),
        ratio=round(plain / ours, 2),
        target="ratio >= 0.5",
    )


def b1_postgres(sizes: dict[str, int], workdir: Path) -> None:
    """B1 on PostgreSQL: ``callblock import`` against plain ``COPY`` of the same rows."""
    import psycopg

    found = _postgres("B1-PG")
    if found is None:
        return
    admin, control, conninfo = found
    names = [f"callblock_bench_{os.getpid()}_{round_}" for round_ in range(ROUNDS)]
    count = sizes["import"]
    path = workdir / "b1-pg.txt"
    path.write_text("\n".join(numbers(count)) + "\n")
    rows = "".join(f"+91{n}\n" for n in numbers(count)).encode()

    def ours(round_: int) -> float:
        control.execute(f'CREATE DATABASE "{names[round_]}"')
        url = admin.set(database=names[round_]).render_as_string(hide_password=False)
        for args in (["db", "upgrade"], ["account", "create", "bench"]):
            subprocess.run([*CLI, *args, "--database-url", url], check=True, capture_output=True)
        return cli_import(path, url)

    def baseline(round_: int) -> float:
        # The same rows, already normalised, COPYed into a bare indexed table.
        database = conninfo.replace(f"dbname={admin.database}", f"dbname={names[round_]}")
        with psycopg.connect(database) as db:
            db.execute("CREATE TABLE numbers (number TEXT NOT NULL)")
            db.execute("CREATE UNIQUE INDEX ix_number ON numbers (number)")
            db.commit()

            def copy_rows() -> None:
                with db.cursor() as cursor, cursor.copy("COPY numbers (number) FROM STDIN") as copy:
                    copy.write(rows)
                db.commit()

            return timed(copy_rows)

    try:
        figures = best_of(ours, baseline)
    finally:
        for name in names:
            control.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        control.close()
    _report_import("B1-PG", count, *figures)


# --- B12 -----------------------------------------------------------------------------------------


def cli_export(url: str, out: Path) -> tuple[float, int]:
    """``callblock export`` of the group ``cli_import`` made, into ``out``, timed as a new
    process start to exit; and the process's peak resident memory in bytes."""
    command = [*CLI, "export", "--account", "bench", "--group", "Registry", "-o", str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--database-url", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = _HighWater(process.pid)
    process.wait()
    elapsed = time.perf_counter() - started
    peak.stop()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return elapsed, peak.bytes


class _HighWater(threading.Thread):
    """A command's peak resident memory (VmHWM), read while it runs. Not the rusage of its
    exit, nor a reading before its exec: until then the child is a copy of this (large)
    process, and the kernel counts that copy's memory as the child's peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = Path(f"/proc/{pid}")
        self.bytes = 0
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                if b"-m\0callblock\0" in (self.proc / "cmdline").read_bytes():  # exec'd
                    for line in (self.proc / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.bytes = max(self.bytes, int(line.split()[1]) * 1024)
            except (OSError, ValueError):  # gone, or between states
                return
            self.done.wait(0.05)

    def stop(self) -> None:
        self.done.set()
        self.join()


def _import_then_export(path: Path, url: str, out: Path) -> tuple[float, float, int]:
    """Import ``path`` into a new group, export the group: the import's and the export's
    seconds, and the export's peak memory."""
    imported = cli_import(path, url)
    exported, peak = cli_export(url, out)
    with out.open() as lines:
        entries = sum(1 for _ in lines) - 1  # the header
    out.unlink()
    with path.open() as lines:
        expected = sum(1 for _ in lines)
    if entries != expected:
        raise RuntimeError(f"the export has {entries} entries, the import {expected}")
    return imported, exported, peak


def _best_runs(runs: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    shown = [(round(i, 2), round(e, 2)) for i, e, _ in runs]
    print(f"  runs (import s, export s): {shown}", flush=True)
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def _report_export(bench: str, count: int, imported: float, exported: float, peak: int) -> None:
    report(
        bench,
        rows=count,
        export_s=round(exported, 2),
        rows_per_s=int(count / exported),
        export_peak_rss_mb=round(peak / 2**20, 1),
        import_s=round(imported, 2),
        ratio=round(imported / exported, 2),
        target="ratio >= 0.8 (and >= 1,000,000 rows/s on SQLite)",
    )


def b12(sizes: dict[str, int], workdir: Path) -> None:
    """Export of a big group against the import of the same file, each a new process."""
    count = sizes["export"]
    path = workdir / "b12.txt"
    path.write_text("\n".join(numbers(count)) + "\n")
    runs = []
    for round_ in range(ROUNDS):
        database = workdir / f"b12-{round_}.db"
        url = fresh(workdir, database.name)
        subprocess.run(
            [*CLI, "account", "create", "bench", "--database-url", url],
            check=True,
            capture_output=True,
        )
        runs.append(_import_then_export(path, url, workdir / "b12.csv"))
        for leftover in workdir.glob(f"{database.name}*"):  # the database, its WAL
            leftover.unlink()
    path.unlink()
    _report_export("B12", count, *_best_runs(runs))


def b12_postgres(sizes: dict[str, int], workdir: Path) -> None:
    """B12 on PostgreSQL, each round in a database of its own, made and dropped here."""
    found = _postgres("B12-PG")
    if found is None:
        return
    admin, control, _ = found
    count = sizes["export"]
    path = workdir / "b12-pg.txt"
    path.write_text("\n".join(numbers(count)) + "\n")
    names = [f"callblock_bench_{os.getpid()}_b12_{round_}" for round_ in range(ROUNDS)]
    runs = []
    try:
        for name in names:
            control.execute(f'CREATE DATABASE "{name}"')
            url = admin.set(database=name).render_as_string(hide_password=False)
            for args in (["db", "upgrade"], ["account", "create", "bench"]):
                subprocess.run(
                    [*CLI, *args, "--database-url", url], check=True, capture_output=True
                )
            runs.append(_import_then_export(path, url, workdir / "b12-pg.csv"))
            control.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        for name in names:
            control.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        control.close()
    path.unlink()
    _report_export("B12-PG", count, *_best_runs(runs))


def _postgres(bench: str) -> tuple[Any, Any, str] | None:
    """The benchmark server's admin URL, an autocommit connection to it and its connection
    string; None (reported as skipped) when it cannot be reached."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ.get("CALLBLOCK_BENCH_POSTGRES_URL", POSTGRES_URL))
    conninfo = (
        f"host={admin.host or '127.0.0.1'} port={admin.port or 5432} "
        f"user={admin.username or 'postgres'} dbname={admin.database or 'postgres'}"
    )
    try:
        control = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        report(bench, skipped=f"PostgreSQL unreachable at {admin.host}: {exc}".splitlines()[0])
        return None
    return admin, control, conninfo


# --- B2, B3 -----------------------------------------------------------------------------------


def _service_with_group(
    workdir: Path, size: int, tag: str, url: str | None = None
) -> tuple[Service, Actor, str, str]:
    url = url or fresh(workdir, f"group-{tag}.db")
    store = Store.from_url(url)
    upgrade(store.engine)
    # As a server holds it: its index mapped from the node's snapshot file.
    service = Service(store, index_dir=workdir / f"index-{tag}")
    key = service.create_account("bench").key
    actor = Actor(service.account("bench"), None, Surface.CLI)
    block = 1_000_000  # lines read a block at a time, as from a file: not all in memory
    lines = (
        ImportLines(
            range(first + 1, min(first + block, size) + 1),
            numbers(min(block, size - first), 9_000_000_000 + first),
            None,
        )
        for first in range(0, size, block)
    )
    service.import_entries(actor, GroupByName("Registry"), lines, create=True)
    service.load_index()
    return service, actor, url, key


def _batch(sizes: dict[str, int]) -> list[str]:
    # Half of them in the group, half not, in a random order.
    rng = random.Random(5)
    inside = rng.sample(range(sizes["group"]), sizes["batch"] // 2)
    outside = range(sizes["group"], sizes["group"] + sizes["batch"] - len(inside))
    batch = [str(9_000_000_000 + i) for i in [*inside, *outside]]
    rng.shuffle(batch)
    return batch


def b2_b3(sizes: dict[str, int], workdir: Path) -> None:
    service, actor, url, key = _service_with_group(workdir, sizes["group"], "b2")
    batch = _batch(sizes)
    service.check_many(actor, batch[:100], Direction.OUTBOUND)  # warm
    best = min(
        timed(lambda: service.check_many(actor, batch, Direction.OUTBOUND)) for _ in range(3)
    )
    b2_rate = len(batch) / best
    blocked = sum(1 for groups in service.check_many(actor, batch, None).group_ids if groups)
    report(
        "B2",
        group=sizes["group"],
        batch=len(batch),
        blocked=blocked,
        seconds=round(best, 3),
        numbers_per_s=int(b2_rate),
        target=">= 1,000,000 numbers/s",
    )
    service.store.dispose()
    with served(url) as base:
        body = json.dumps({"numbers": batch, "direction": "outbound"})
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, timeout=120) as client:
            client.post("/v1/check", content=body, headers=headers)  # warm: loads the index
            best = min(
                timed(lambda: client.post("/v1/check", content=body, headers=headers))
                for _ in range(3)
            )
    b3_rate = len(batch) / best
    report(
        "B3",
        batch=len(batch),
        seconds=round(best, 3),
        numbers_per_s=int(b3_rate),
        ratio_to_B2=round(b3_rate / b2_rate, 2),
        target=">= 300,000 numbers/s",
    )


# --- B17 ----------------------------------------------------------------------------------------


def b17_on(sizes: dict[str, int], workdir: Path, url: str, engine: str) -> None:
    """A batch check of 100,000 numbers against 1,000,000 with its outcomes counted, against
    the same batch on the same index uncounted; the counted side pays its flush too (the
    per-group and per-entry work is done there, off the request's path)."""
    service, actor, _, _ = _service_with_group(workdir, sizes["group"], f"b17-{engine}", url)
    counting = Service(service.store, index_dir=workdir / f"index-b17-{engine}", count_checks=True)
    counting.load_index()
    batch = _batch(sizes)
    for side in (service, counting):
        side.check_many(actor, batch[:100], Direction.OUTBOUND)  # warm
    counting.flush_counts()
    off: list[float] = []
    on: list[float] = []
    flushes: list[float] = []
    for _ in range(sizes["rounds"]):  # alternated, so that drift of the machine hits both
        off.append(timed(lambda: service.check_many(actor, batch, Direction.OUTBOUND)))
        on.append(timed(lambda: counting.check_many(actor, batch, Direction.OUTBOUND)))
        flushes.append(timed(counting.flush_counts))
    median_off, median_on = statistics.median(off), statistics.median(on)
    median_flush = statistics.median(flushes)
    report(
        "B17" if engine == "sqlite" else "B17-PG",
        group=sizes["group"],
        batch=len(batch),
        rounds=sizes["rounds"],
        off_s=round(median_off, 4),
        on_s=round(median_on, 4),
        flush_s=round(median_flush, 4),
        ratio=round(median_off / median_on, 3),
        ratio_with_flush=round(median_off / (median_on + median_flush), 3),
        target="ratio >= 0.95",
    )
    service.store.dispose()


def b17(sizes: dict[str, int], workdir: Path) -> None:
    b17_on(sizes, workdir, fresh(workdir, "b17.db"), "sqlite")


def b17_postgres(sizes: dict[str, int], workdir: Path) -> None:
    found = _postgres("B17-PG")
    if found is None:
        return
    admin, control, _ = found
    name = f"callblock_bench_{os.getpid()}_b17"
    control.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        b17_on(sizes, workdir, url, "postgresql")
    finally:
        control.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class served:
    """A real `callblock serve` on a free port for the duration of a with block."""

    def __init__(self, url: str, **settings: str) -> None:
        self.url = url
        self.settings = {f"CALLBLOCK_{k.upper()}": v for k, v in settings.items()}

    def __enter__(self) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "CALLBLOCK_DATABASE_URL": self.url, **self.settings}
        self.process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# --- B4 -----------------------------------------------------------------------------------------

WRK_SCRIPT = """
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/check/9" .. math.random(0, 1999999) + 10000000 .. "")
end
"""


def _wrk(
    base: str, path: str | None, key: str, seconds: int, script: Path | None
) -> dict[str, float]:
    command = [
        "wrk",
        "-t2",
        "-c64",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {key}",
    ]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, base + (path or "/")], capture_output=True, text=True, check=True
    ).stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            figures["p" + parts[0].rstrip("%")] = _ms(parts[1])
    return figures


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor, 3)
    return float(text)


def b4(sizes: dict[str, int], workdir: Path) -> None:
    if shutil.which("wrk") is None:
        report("B4", skipped="wrk is not installed (apt-get install wrk)")
        return
    service, _, url, key = _service_with_group(workdir, sizes["group"], "b4")
    service.store.dispose()
    script = workdir / "check.lua"
    script.write_text(WRK_SCRIPT)
    # Checks counted (the server's default), then the same with counting off.
    with served(url) as base:
        httpx.get(base + "/v1/check/9000000000", headers={"Authorization": f"Bearer {key}"})
        check = _wrk(base, None, key, sizes["seconds"], script)
        trivial = _wrk(base, "/healthz", key, sizes["seconds"], None)
    with served(url, stats_flush_seconds="0") as base:
        httpx.get(base + "/v1/check/9000000000", headers={"Authorization": f"Bearer {key}"})
        uncounted = _wrk(base, None, key, sizes["seconds"], script)
    report(
        "B4",
        check_rps=int(check["rps"]),
        check_p50_ms=check.get("p50"),
        check_p99_ms=check.get("p99"),
        trivial_rps=int(trivial["rps"]),
        trivial_p99_ms=trivial.get("p99"),
        ratio=round(check["rps"] / trivial["rps"], 2),
        uncounted_rps=int(uncounted["rps"]),
        counted_to_uncounted=round(check["rps"] / uncounted["rps"], 2),
        target="ratio >= 0.7",
    )


# --- B5, B6 ---------------------------------------------------------------------------------------


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _index(size: int) -> AccountIndex:
    """An index of ``size`` numbers made by the loader a server uses, fed chunks of rows as
    the store's cursor gives them."""
    group = IndexedGroup(1, "Registry", Direction.BOTH)

    def chunks() -> Iterator[list[tuple[int, int, int]]]:
        for start in range(0, size, 200_000):
            stop = min(start + 200_000, size)
            yield [(919_000_000_000 + i * 3, 1, NEVER) for i in range(start, stop)]

    return load(1, [group], chunks(), [])


def b5_b6(sizes: dict[str, int], workdir: Path) -> None:
    gc.collect()
    before = _rss_kib()
    built = _index(sizes["big"])
    gc.collect()
    grown = (_rss_kib() - before) * 1024
    entries = built.numbers.size
    array_bytes = built.numbers.nbytes
    # As a server holds it: written to the node's snapshot file and mapped back.
    path = workdir / "b5" / "account-1.snapshot"
    identity = {"store": "bench", "account": 1}
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    snapshots.write(path, identity, built.version, *snapshot_parts(built))
    written = time.perf_counter() - started
    del built
    gc.collect()
    before = _rss_kib()
    started = time.perf_counter()
    big = index_from_snapshot(snapshots.read(path, identity))
    mapped_in = time.perf_counter() - started
    mapped = (_rss_kib() - before) * 1024
    report(
        "B5",
        entries=entries,
        array_bytes_per_entry=round(array_bytes / entries, 2),
        built_rss_bytes_per_entry=round(grown / entries, 1),
        mapped_rss_bytes_per_entry=round(mapped / entries, 1),
        snapshot_write_s=round(written, 2),
        snapshot_map_and_verify_s=round(mapped_in, 2),
        target="<= 10 bytes/entry",
    )
    index_only = (_lookup_us(big, sizes["big"]), _lookup_us(_index(sizes["small"]), sizes["small"]))
    del big
    gc.collect()
    # B6: checks through the service layer, each against an index the service loaded from
    # its own database, as a server does.
    service_big, actor_big, _, _ = _service_with_group(workdir, sizes["big"], "b6-big")
    service_small, actor_small, _, _ = _service_with_group(workdir, sizes["small"], "b6-small")
    at_big = _check_us(service_big, actor_big, sizes["big"])
    at_small = _check_us(service_small, actor_small, sizes["small"])
    report(
        "B6",
        entries_big=sizes["big"],
        entries_small=sizes["small"],
        check_us_big=round(at_big * 1e6, 2),
        check_us_small=round(at_small * 1e6, 2),
        ratio=round(at_big / at_small, 2),
        index_lookup_us_big=round(index_only[0] * 1e6, 2),
        index_lookup_us_small=round(index_only[1] * 1e6, 2),
        index_lookup_ratio=round(index_only[0] / index_only[1], 2),
        target="ratio <= 1.5",
    )


def _check_us(service: Service, actor: Actor, size: int) -> float:
    """Seconds per ``Service.check`` of a random number of the group's range (a third of
    them in the group), best of three rounds of 20,000."""
    rng = random.Random(9)

    def one_round() -> float:
        numbers = [str(9_000_000_000 + rng.randrange(size * 3)) for _ in range(20_000)]
        started = time.perf_counter()
        for number in numbers:
            service.check(actor, number, Direction.OUTBOUND)
        return (time.perf_counter() - started) / len(numbers)

    one_round()  # warm
    return min(one_round() for _ in range(3))


def _lookup_us(index: AccountIndex, size: int) -> float:
    """Seconds per index lookup alone (``AccountIndex.matches``), best of three rounds."""
    rng = random.Random(9)

    def one_round() -> float:
        queries = [f"+{919_000_000_000 + rng.randrange(size * 3)}" for _ in range(20_000)]
        started = time.perf_counter()
        for e164 in queries:
            index.matches(e164, Direction.OUTBOUND, 0)
        return (time.perf_counter() - started) / len(queries)

    one_round()
    return min(one_round() for _ in range(3))


# --- B7 -------------------------------------------------------------------------------------------


def b7(sizes: dict[str, int], workdir: Path) -> None:
    service, _, url, _ = _service_with_group(workdir, sizes["group"], "b7")
    service.store.dispose()
    campaign = workdir / "campaign.csv"
    rng = random.Random(3)
    with campaign.open("w") as out:
        out.write("id,name,phone\n")
        for i in range(sizes["scrub"]):
            out.write(f"{i},customer {i},{9_000_000_000 + rng.randrange(sizes['group'] * 2)}\n")
    seconds = timed(
        lambda: subprocess.run(
            [
                *CLI,
                "scrub",
                "--account",
                "bench",
                str(campaign),
                "--column",
                "phone",
                "--direction",
                "outbound",
                "-o",
                str(workdir / "callable.csv"),
                "--blocked",
                str(workdir / "blocked.csv"),
                "--database-url",
                url,
            ],
            check=True,
            capture_output=True,
        )
    )
    report(
        "B7",
        rows=sizes["scrub"],
        group=sizes["group"],
        seconds=round(seconds, 2),
        rows_per_s=int(sizes["scrub"] / seconds),
        target="<= 5 s",
    )


BENCHES: dict[str, Callable[[dict[str, int], Path], None]] = {
    # B5 first: its memory figure is the growth of this process, so it runs on a fresh heap.
    "B5": b5_b6,
    "B1": b1,
    "B1-PG": b1_postgres,
    "B2": b2_b3,
    "B4": b4,
    "B17": b17,
    "B17-PG": b17_postgres,
    "B7": b7,
    "B12": b12,
    "B12-PG": b12_postgres,
}
ALIASES = {"B3": "B2", "B6": "B5"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="B1 ... B7, B12, B1-PG, B12-PG (default: all)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check they run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    wanted = {ALIASES.get(b.upper(), b.upper()) for b in args.only} or set(BENCHES)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"{'smoke' if args.smoke else 'full'} sizes",
        flush=True,
    )
    # As `pip install` of the package does: an editable checkout (or PYTHONDONTWRITEBYTECODE)
    # would otherwise compile every module anew in each `callblock` process timed here.
    compileall.compile_dir(Path(callblock.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as directory:
        for name, bench in BENCHES.items():
            if name in wanted:
                bench(sizes, Path(directory))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
