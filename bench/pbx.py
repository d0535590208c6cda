"""B18: calls a second through Kamailio with callblock's check against the same route without
it, and the latency the check adds (see docs/performance.md).

    python bench/pbx.py                        # SQLite, full sizes
    python bench/pbx.py --engine postgresql    # the same on PostgreSQL
    python bench/pbx.py --smoke                # tiny sizes: proves it runs (CI)

Everything runs on this machine: a `callblock serve` whose account holds a registry group
(1,000,000 numbers by default); Debian's Kamailio running integrations/kamailio/callblock.cfg,
and a second Kamailio running a copy of it with the one line that calls the check removed;
a responder standing in for the next hop (a process of its own, answering 200); and the
callers (threads of this process, each placing one call after another: INVITE, the final
answer, its ACK). A tenth of the callers' numbers are in the registry and get 603; the rest
are relayed, answered 200 and hung up at once (BYE).

Rounds alternate without and with the check, so that both see the same machine. Two loads:
all the callers at once, for each mode's calls a second (the PBX saturated); and one caller,
for the time from INVITE to final answer a call sees when nothing queues (p50 and p99 over
all its rounds). The added latency is the difference of the two modes' percentiles. Last,
the server is stopped (SIGSTOP) for a round: what the checked proxy carries while callblock
hangs (each call relayed unchecked, FAIL_MODE=open).

A benchmark is not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import new_database
from tests.pbx import CONFIG, Kamailio, kamailio_binary, kamailio_missing, running_kamailio
from tests.servers import callblock, create_account, start_server, stop_server
from tests.sip import Caller, Responder

from callblock.store import Store
from callblock.store.migrate import upgrade

FULL = {"registry": 1_000_000, "callers": 8, "seconds": 10.0, "rounds": 3}
SMOKE = {"registry": 1_000, "callers": 2, "seconds": 1.0, "rounds": 1}
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST = 9_000_000_000  # the registry's first national number (+91 9000000000)
CHECK_LINE = re.compile(r"^\s*route\(CALLBLOCK\);.*\n", re.MULTILINE)


@dataclass
class Tally:
    """One mode's calls over its rounds."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def _serve_responder(ready: multiprocessing.Queue[str]) -> None:
    responder = Responder.start()
    ready.put(responder.uri)
    while True:
        time.sleep(3600)


@contextmanager
def responder_process() -> Iterator[str]:
    """A responder in a process of its own (its GIL is not the callers'); its URI."""
    context = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[str] = context.Queue()
    process = context.Process(target=_serve_responder, args=(ready,), daemon=True)
    process.start()
    try:
        yield ready.get(timeout=30)
    finally:
        process.kill()
        process.join()


def without_check(directory: Path) -> Path:
    """A copy of callblock.cfg that never calls the check: the baseline route (in
    ``directory``, so it includes callblock-route.cfg by its full path)."""
    text = CONFIG.read_text()
    if len(CHECK_LINE.findall(text)) != 1:
        raise SystemExit("callblock.cfg no longer calls route(CALLBLOCK) exactly once")
    route = CONFIG.parent / "callblock-route.cfg"
    copy = directory / "no-check.cfg"
    copy.write_text(CHECK_LINE.sub("", text).replace('"callblock-route.cfg"', f'"{route}"'))
    return copy


def place_calls(pbx: Kamailio, callers: int, seconds: float, numbers: list[str]) -> Tally:
    """``callers`` threads calling for ``seconds``, each from numbers picked at random."""
    tally = Tally()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def caller(seed: int) -> None:
        pick = random.Random(seed)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        with Caller(pbx.proxy) as phone:
            while time.monotonic() < deadline:
                answer = phone.invite("5550100", pick.choice(numbers))
                latencies.append(answer.seconds)
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
                if answer.status == 200:  # a whole call: the proxy's dialog ends
                    hung_up = phone.bye(answer)
                    if hung_up != 200:
                        statuses[-1] = statuses.get(-1, 0) + 1  # a BYE not answered 200
        with lock:
            tally.latencies.extend(latencies)
            for status, count in statuses.items():
                tally.statuses[status] = tally.statuses.get(status, 0) + count

    started = time.monotonic()
    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - started
    return tally


def run(engine: str, sizes: dict[str, float], directory: Path, server_workers: int) -> None:
    registry = int(sizes["registry"])
    with new_database(engine, directory, POSTGRES_URL, "callblock_bench") as url:
        store = Store.from_url(url)
        upgrade(store.engine)
        store.dispose()
        create_account("bench", database_url=url)
        key = callblock(
            "account", "key", "bench", "--scope", "check", "--label", "Kamailio",
            database_url=url,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        listing = directory / "registry.txt"
        listing.write_text("".join(f"{FIRST + i}\n" for i in range(registry)))
        started = time.monotonic()
        callblock(
            "import", str(listing), "--group", "Registry", "--account", "bench", database_url=url
        )
        print(f"B18 [{engine}] registry of {registry:,} imported in "
              f"{time.monotonic() - started:.1f} s", flush=True)  # fmt: skip

        pick = random.Random(18)
        blocked = [str(FIRST + pick.randrange(registry)) for _ in range(100)]
        allowed = [str(8_000_000_000 + pick.randrange(10**9)) for _ in range(900)]
        numbers = blocked + allowed

        server = start_server(url, "--workers", str(server_workers))
        with ExitStack() as stack:
            stack.callback(stop_server, server)
            next_hop = stack.enter_context(responder_process())
            common = {"CALLBLOCK_URL": server.url, "CALLBLOCK_KEY": key, "NEXT_HOP": next_hop}
            checked = stack.enter_context(running_kamailio(**common))
            plain = stack.enter_context(running_kamailio(without_check(directory), **common))
            # Warm-up: the check's connections opened, the index loaded.
            place_calls(checked, int(sizes["callers"]), 0.5, numbers)
            place_calls(plain, int(sizes["callers"]), 0.5, numbers)
            modes = {"without": plain, "with": checked}
            busy = measure(engine, modes, int(sizes["callers"]), sizes, numbers)
            one = measure(engine, modes, 1, sizes, numbers)
            os.kill(server.process.pid, signal.SIGSTOP)
            try:
                hung = place_calls(checked, int(sizes["callers"]), sizes["seconds"], numbers)
            finally:
                os.kill(server.process.pid, signal.SIGCONT)
            if set(hung.statuses) != {200}:
                raise SystemExit(f"B18: while callblock hung, answers {hung.statuses}")
            print(f"B18 [{engine}] callblock hung (SIGSTOP), {int(sizes['callers'])} callers, "
                  f"FAIL_MODE=open: {hung.rate:,.0f} calls/s, p50 {hung.percentile(0.5):.2f} "
                  f"ms, p99 {hung.percentile(0.99):.2f} ms, answers {hung.statuses}",
                  flush=True)  # fmt: skip
        statuses = [t.statuses for t in (*busy.values(), *one.values())]
        print(
            f"B18 [{engine}] throughput, {int(sizes['callers'])} callers at once: "
            f"{busy['with'].rate:,.0f} calls/s with the check, {busy['without'].rate:,.0f} "
            f"without: ratio {busy['with'].rate / busy['without'].rate:.2f}",
            flush=True,
        )
        before, after = one["without"], one["with"]
        print(
            f"B18 [{engine}] latency, one caller (INVITE to final answer): p50 "
            f"{after.percentile(0.5):.2f} ms with the check against {before.percentile(0.5):.2f}"
            f" ms without (added {after.percentile(0.5) - before.percentile(0.5):+.2f} ms), p99 "
            f"{after.percentile(0.99):.2f} against {before.percentile(0.99):.2f} ms (added "
            f"{after.percentile(0.99) - before.percentile(0.99):+.2f} ms); "
            f"{sizes['rounds']:.0f} rounds of {sizes['seconds']:.0f} s per mode and load",
            flush=True,
        )
        if 603 not in after.statuses or 603 in before.statuses:
            raise SystemExit("B18: the check did not decline the registry's callers")
        seen = {status for answers in statuses for status in answers}
        if seen - {200, 603}:
            # 500s are Kamailio out of shared memory: its figures would be of refusals. (-1
            # counts BYEs not answered 200.)
            raise SystemExit(f"B18: answers other than 200 and 603: {sorted(seen)}")


def measure(
    engine: str,
    modes: dict[str, Kamailio],
    callers: int,
    sizes: dict[str, float],
    numbers: list[str],
) -> dict[str, Tally]:
    """Rounds of ``callers`` calling through each PBX in turn; each mode's calls over them."""
    tallies = {mode: Tally() for mode in modes}
    for round_ in range(int(sizes["rounds"])):
        for mode, pbx in modes.items():
            got = place_calls(pbx, callers, sizes["seconds"], numbers)
            tally = tallies[mode]
            tally.seconds += got.seconds
            tally.latencies.extend(got.latencies)
            for status, count in got.statuses.items():
                tally.statuses[status] = tally.statuses.get(status, 0) + count
            print(f"B18 [{engine}] {callers} caller(s), round {round_ + 1}, {mode} the check: "
                  f"{got.rate:,.0f} calls/s, p50 {got.percentile(0.5):.2f} ms, "
                  f"p99 {got.percentile(0.99):.2f} ms, answers {got.statuses}",
                  flush=True)  # fmt: skip
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    parser.add_argument("--registry", type=int, help="numbers in the registry group")
    parser.add_argument("--callers", type=int, help="callers calling at once")
    parser.add_argument("--seconds", type=float, help="length of a round")
    parser.add_argument(
        "--server-workers", type=int, default=1, help="callblock serve --workers (default 1)"
    )
    parser.add_argument("--workdir", type=Path, help="where the temporary directory goes")
    args = parser.parse_args()
    sizes: dict[str, float] = dict(SMOKE if args.smoke else FULL)
    for name in ("registry", "callers", "seconds"):
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    missing = kamailio_missing()
    if missing is not None:
        raise SystemExit(f"B18 needs Kamailio: {missing}")
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    kamailio = subprocess.run(
        [kamailio_binary() or "kamailio", "-v"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {kamailio}, load "
        f"average {load}; engine {args.engine}; also running: the callers (this process), "
        f"the responder (one process), callblock serve ({args.server_workers} worker(s)), two "
        f"Kamailios of four "
        f"SIP workers each",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="callblock-pbx-", dir=args.workdir) as directory:
        run(args.engine, sizes, Path(directory), args.server_workers)


if __name__ == "__main__":
    main()
