"""Prometheus metrics of the server, answered at ``GET /metrics``.

With several workers (``callblock serve --workers N``) each process writes its samples to files
under ``PROMETHEUS_MULTIPROC_DIR``, which ``serve`` sets up, and a scrape answered by any worker
adds them all up; a single process answers from its own registry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "callblock_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "callblock_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CHECKS = Counter(
    "callblock_checks_total",
    "Numbers checked (single, batch and scrub), by result: blocked, not_blocked, invalid.",
    ["result"],
)
# The check path's counters, bound once: a labels() lookup per check costs more than the count.
CHECKED_BLOCKED = CHECKS.labels("blocked")
CHECKED_NOT_BLOCKED = CHECKS.labels("not_blocked")
CHECKED_INVALID = CHECKS.labels("invalid")
INDEX_ENTRIES = Gauge(
    "callblock_index_entries",
    "Exact numbers held by a process's check index, over the accounts it has loaded (all of"
    " them at start, and any account when it is first checked).",
    multiprocess_mode="livemax",
)
INDEX_LAG = Gauge(
    "callblock_index_refresh_lag_seconds",
    "Seconds since a process last brought its check index up to date with the store "
    "(the worst process, with several).",
    multiprocess_mode="livemax",
)
INDEX_RESETS = Counter(
    "callblock_index_resets_total",
    "Check indexes rebuilt from the store, by reason: start (no valid snapshot), gap or "
    "retention (the change log no longer holds what a process needs), store_behind.",
    ["reason"],
)
SNAPSHOTS_REFUSED = Counter(
    "callblock_index_snapshots_refused_total",
    "Snapshot files found but not used (and rebuilt), by reason: damaged, foreign (another "
    "store or account), format, ahead (newer than the store).",
    ["reason"],
)
IMPORT_ROWS = Counter(
    "callblock_import_rows_total",
    "Lines of imported number lists, by outcome: written, invalid, repeated.",
    ["outcome"],
)


GROUP_REFRESH_AGE = "callblock_group_refresh_age_seconds"


class _RefreshAges(Collector):
    """``callblock_group_refresh_age_seconds``, from ages read at scrape time.

    Not a ``Gauge``: the value is the store's, the same for every worker and node, and it
    grows by itself between writes. A gauge set by the workers would be as old as their last
    setting, and in multiprocess mode would need a mode to merge the workers' copies; read
    from the store when scraped, it is right whichever worker answers.
    """

    def __init__(self, ages: Iterable[tuple[str, str, float]]) -> None:
        self._ages = list(ages)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            GROUP_REFRESH_AGE,
            "Seconds since an import from a file last wrote the group (a registry's age), by "
            "account and group; only groups a file was ever imported into.",
            labels=["account", "group"],
        )
        for account, group, age in self._ages:
            family.add_metric([account, group], age)
        yield family


def exposition(
    refresh_ages: Iterable[tuple[str, str, float]] | None = None,
) -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and its content type. ``refresh_ages``:
    (account, group, seconds since its last import from a file), read from the store for this
    scrape; None when it could not be read (the family is then left out)."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if refresh_ages is not None:
        ages = CollectorRegistry(auto_describe=False)
        ages.register(_RefreshAges(refresh_ages))
        body += generate_latest(ages)
    return body, CONTENT_TYPE_LATEST


def process_exited() -> None:
    """Drop this process's live gauges from the shared files (on a worker's shutdown)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
