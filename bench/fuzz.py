"""The long run of the raw-request fuzzer of tests/test_fuzz_http.py (see tests/fuzzing/ for what
is sent and what is judged), against the app in this process on a fresh database.

    python bench/fuzz.py --cases 100000                      # SQLite, in a temporary directory
    python bench/fuzz.py --cases 100000 --postgres postgresql+psycopg://postgres@127.0.0.1/postgres
    python bench/fuzz.py --cases 2000 --stateful 20          # and 20 runs of the state machine

With ``--postgres``, a database is created on that server for the run and dropped after it;
both engines are fuzzed, each for ``--cases``. The first violation of each kind is printed with
its request (ready to paste as an ``@example``), the others are counted; the run ends with the
cases run, the answers by status, the violations by kind and the time taken, and exits 1 if any
invariant broke. Nothing here needs the network.

Cases are drawn by Hypothesis in batches (``--batch``), each from its own seed (``--seed`` and
up): a batch's engine is dropped after it, so memory stays flat over a long run. Groups the
fuzzer created are deleted between batches, so that the database stays small and each case
costs the same at the end of the run as at the start.
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import re
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for `tests`

from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seeded_by
from tests.databases import new_database
from tests.fuzzing.harness import Fuzzer, fuzzing, seed
from tests.fuzzing.raw_requests import FuzzRequest, requests
from tests.helpers import Credentials, FakeClock

from callblock.domain import Surface
from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store.migrate import upgrade

# The exception line of a logged traceback ("zlib.error: ...", "sqlalchemy.exc.DataError: ...").
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|error)\b.*")


@dataclass
class Tally:
    engine: str
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)  # by kind
    where: dict[str, Counter[str]] = field(default_factory=dict)  # kind -> method and path
    stateful_runs: int = 0
    stateful_failure: str | None = None
    seconds: float = 0.0


def prune(service: Service, keys: list[str], keep: tuple[int, ...]) -> None:
    """Delete the groups the fuzzer created (all but ``keep``): not a fuzzed request."""
    for key in keys:
        actor = service.authenticate_key(key, Surface.CLI)
        while True:
            page = service.list_groups(actor, name=None, after=None, limit=1000)
            doomed = [d.group.id for d in page.items if d.group.id not in keep]
            if not doomed:
                break
            for group_id in doomed:
                service.delete_group(actor, group_id)


def kind_of(problems: list[str]) -> str:
    """A violation's kind: the first broken invariant, and the exception behind it if any."""
    logged = [line for p in problems if p.startswith("log:") for line in p.splitlines()]
    exceptions = [m.group(0)[:120] for line in logged if (m := EXCEPTION_LINE.match(line))]
    return problems[0] + (f" [{exceptions[-1]}]" if exceptions else "")


def where(fuzzed: FuzzRequest) -> str:
    """The method and the first two segments of the path: roughly, the route."""
    return f"{fuzzed.method} {'/'.join(fuzzed.path.split('/')[:3])[:40]}"


def as_example(fuzzed: FuzzRequest) -> str:
    """The request as Python, its body elided past a few kilobytes."""
    if len(fuzzed.body) <= 4096:
        return repr(fuzzed)
    shown = replace(fuzzed, body=fuzzed.body[:200])
    return f"{shown!r}  # body cut: {len(fuzzed.body)} bytes in all"


# What the app left open (an unclosed temporary file...), found by the collector: ResourceWarnings
# are made errors in main(), and errors raised by finalisers come to this hook.
LEAKS: Counter[str] = Counter()


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    text = f"{unraisable.exc_type.__name__}: {unraisable.exc_value}"
    LEAKS[re.sub(r" at 0x[0-9a-f]+", "", text)[:160]] += 1


def count_leaks(tally: Tally) -> None:
    """Collect garbage; each leak found since the last batch is a violation."""
    gc.collect()
    for leak, count in LEAKS.items():
        kind = f"left open: {leak}"
        if kind not in tally.violations:
            print(f"\nVIOLATION ({tally.engine}) {kind} (requests of the last batch)", flush=True)
        tally.violations[kind] += count
        tally.where.setdefault(kind, Counter())["(not known: found by the collector)"] += count
    LEAKS.clear()


def fuzz(fuzzer: Fuzzer, tally: Tally, cases: int, batch: int, first_seed: int) -> None:
    def record(fuzzed: FuzzRequest) -> None:
        problems = fuzzer.run(fuzzed)
        tally.cases += 1
        if problems:
            kind = kind_of(problems)
            tally.violations[kind] += 1
            tally.where.setdefault(kind, Counter())[where(fuzzed)] += 1
            if tally.violations[kind] == 1:  # the first of its kind in full; then a count
                print(f"\nVIOLATION ({tally.engine}) {fuzzed.describe()}", flush=True)
                print("\n".join(f"  - {line}" for line in problems), flush=True)
                print(f"  as an @example: {as_example(fuzzed)}", flush=True)

    seeded = fuzzer.seeded
    keys = [seeded.main.key, seeded.other.key, seeded.token_user.key]
    run = 0
    started = time.monotonic()
    while tally.cases < cases:
        count = min(batch, cases - tally.cases)

        # Generation only: a violation is recorded and the run goes on (nothing to shrink).
        @settings(
            max_examples=count,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @seeded_by(first_seed + run)
        @given(fuzzed=requests())
        def one_batch(fuzzed: FuzzRequest) -> None:
            record(fuzzed)

        before = tally.cases
        one_batch()
        run += 1
        count_leaks(tally)
        if tally.cases == before:  # Hypothesis found nothing more to try (it never should)
            break
        prune(seeded.service, keys, keep=seeded.groups)
        rate = tally.cases / (time.monotonic() - started)
        print(
            f"{tally.engine}: {tally.cases}/{cases} cases, {tally.violations.total()} violations, "
            f"{rate:.0f} cases/s",
            flush=True,
        )


def stateful(app: FastAPI, service: Service, clock: FakeClock, tally: Tally, runs: int) -> None:
    """The model-based suite of tests/test_stateful.py, ``runs`` examples."""
    from tests.fuzzing.model import run_machine  # its own imports only when asked

    try:
        run_machine(app, service, clock, examples=runs)
    except Exception as exc:  # the machine's own report names the failing steps
        tally.stateful_failure = f"{exc.__class__.__name__}: {exc}"
        print(f"\nSTATEFUL FAILURE ({tally.engine}):\n{exc}", flush=True)
    tally.stateful_runs = runs


def run_engine(engine: str, args: argparse.Namespace, directory: Path) -> Tally:
    tally = Tally(engine)
    started = time.monotonic()
    with new_database(engine, directory, args.postgres or "", "callblock_fuzz") as url:
        store = Store.from_url(url)
        upgrade(store.engine)
        clock = FakeClock(datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC))
        service = Service(store, clock=clock)
        try:
            main = Credentials("main", service.create_account("main").key)
            app = create_app(Settings(database_url=url), service=service)
            with fuzzing(app, store, seed(service, clock, main)) as fuzzer:
                fuzz(fuzzer, tally, args.cases, args.batch, args.seed)
                tally.statuses = fuzzer.statuses
            if args.stateful:
                stateful(app, service, clock, tally, args.stateful)
        finally:
            for thread in threading.enumerate():  # background key re-checks use the store
                if thread.name == "key-recheck":
                    thread.join(timeout=30)
            store.dispose()
    tally.seconds = time.monotonic() - started
    return tally


def summary(tallies: list[Tally], elapsed: float) -> int:
    print("\n=== fuzz summary ===")
    total_violations = 0
    for tally in tallies:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
        print(f"{tally.engine}: {tally.cases} cases in {tally.seconds:.1f} s")
        print(f"  answers by status: {statuses}")
        print(f"  violations: {tally.violations.total()}")
        for kind, count in tally.violations.most_common():
            print(f"    {count} x {kind}")
            routes = ", ".join(f"{r} ({n})" for r, n in tally.where[kind].most_common(8))
            print(f"      at {routes}")
        if tally.stateful_runs:
            verdict = tally.stateful_failure or "no failure"
            print(f"  stateful: {tally.stateful_runs} examples, {verdict}")
        total_violations += tally.violations.total() + (tally.stateful_failure is not None)
    cases = sum(t.cases for t in tallies)
    print(f"total: {cases} cases, {total_violations} violations, {elapsed:.1f} s elapsed")
    return 1 if total_violations else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000, help="requests per engine")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also fuzz PostgreSQL (a server URL; a database is "
        "created there for the run and dropped after it)",
    )
    parser.add_argument("--seed", type=int, default=None, help="first batch's seed (random)")
    parser.add_argument("--batch", type=int, default=1000, help="cases per Hypothesis run")
    parser.add_argument(
        "--stateful", type=int, default=0, metavar="N", help="also N examples of the state machine"
    )
    args = parser.parse_args()
    # python-multipart warns of every broken form it reads; the fuzzer sends thousands.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    warnings.filterwarnings("error", category=ResourceWarning)
    sys.unraisablehook = _unraisable
    if args.seed is None:
        args.seed = random.randrange(2**32)
    print(f"seed {args.seed}: rerun with --seed {args.seed} to draw the same cases", flush=True)
    engines = ["sqlite"] + (["postgresql"] if args.postgres else [])
    started = time.monotonic()
    tallies = []
    with tempfile.TemporaryDirectory(prefix="callblock-fuzz-") as directory:
        for engine in engines:
            tallies.append(run_engine(engine, args, Path(directory)))
    return summary(tallies, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
