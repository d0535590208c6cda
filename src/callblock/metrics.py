"""Prometheus metrics of the server, answered at ``GET /metrics``.

With several workers (``callblock serve --workers N``) each process writes its samples to files
under ``PROMETHEUS_MULTIPROC_DIR``, which ``serve`` sets up, and a scrape answered by any worker
adds them all up; a single process answers from its own registry.
"""

from __future__ import annotations

import os

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


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and its content type."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited() -> None:
    """Drop this process's live gauges from the shared files (on a worker's shutdown)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
