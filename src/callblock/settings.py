"""Settings: one typed object read from ``CALLBLOCK_*`` environment variables.

CLI flags override by setting the same variables before the app is built, so that every
worker process of ``callblock serve`` reads the same configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./callblock.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBLOCK_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the store: a SQLite file or postgresql+psycopg://...",
    )
    secret_key: str | None = Field(
        None,
        min_length=32,
        description="Signing key of API tokens and change feed tokens, shared by every worker "
        "and node. Unset: one is generated once and kept in the database.",
    )
    max_body_bytes: int = Field(
        1024 * 1024, gt=0, description="Largest request body accepted by the API, in bytes."
    )
    max_batch_body_bytes: int = Field(
        16 * 1024 * 1024, gt=0, description="Largest body of a batch check (`POST /v1/check`)."
    )
    max_import_bytes: int = Field(
        1024 * 1024 * 1024,
        gt=0,
        description="Largest file accepted by `POST /v1/groups/{id}/numbers:import` and "
        "`POST /v1/scrub`.",
    )
    body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Time a client has to send a request body, from its headers on; a slower "
        "one gets 408 and the connection closes. Also the longest wait for any body bytes.",
    )
    upload_timeout_seconds: float = Field(
        600.0,
        gt=0,
        le=86400,
        description="Time a client has to send a file to `:import` or `/v1/scrub` "
        "(`CALLBLOCK_BODY_TIMEOUT_SECONDS` still bounds any wait for the next bytes).",
    )
    auth_failures_per_minute: int = Field(
        10,
        ge=1,
        description="Failed authentications allowed in a minute for one username, and from one "
        "client address, across every worker and node; past it, wrong credentials get 429, "
        "and so does a right key sent with that username (never for its address alone).",
    )
    account_requests_per_second: float = Field(
        5000.0,
        ge=0,
        description="Sustained requests per second one account may send to one worker "
        "process, beyond which it gets 429 with Retry-After; 0 turns the limit off.",
    )
    account_request_burst: int = Field(
        10000,
        ge=1,
        description="Requests one account may send at once to one worker process before "
        "`CALLBLOCK_ACCOUNT_REQUESTS_PER_SECOND` applies.",
    )
    keep_alive_seconds: int = Field(
        75,
        gt=0,
        le=3600,
        description="How long an idle kept-alive connection stays open. Keep it longer than "
        "the load balancer's idle timeout (60 s on many), or the balancer may reuse a "
        "connection the server is closing and answer 502.",
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Load balancers or proxies whose `X-Forwarded-For` is believed "
        "(comma-separated addresses or networks, `*` for any; empty: none): the client it "
        "names is the address failed authentications are counted against. Believing anyone "
        "else would let a client pick its own address, and escape the limit.",
    )
    sqlite_busy_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="SQLite only: how long a write waits for the database's write lock (held "
        "by another writer) before it is answered 503.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes of `callblock serve` (its `--workers` flag wins).",
    )
    index_refresh_seconds: float = Field(
        0.5,
        gt=0,
        le=60,
        description="How often each process looks for writes made by other processes; a "
        "write is seen everywhere within this plus one reload.",
    )
    stats_flush_seconds: float = Field(
        2.0,
        ge=0,
        le=300,
        description="How often each process writes the checks it counted (the insights' "
        "`/v1/stats`); a process killed without warning loses at most this many seconds of "
        "counts. 0: checks are not counted.",
    )
    stats_minute_days: int = Field(
        2, ge=1, le=3650, description="Days the per-minute counts of checks are kept."
    )
    stats_hour_days: int = Field(
        90, ge=1, le=3650, description="Days the per-hour counts of checks are kept."
    )
    stats_day_days: int = Field(
        800,
        ge=1,
        le=36500,
        description="Days the per-day counts of checks, and the days entries matched, are "
        "kept: the longest `days` a stale-entries listing can look back.",
    )
    index_dir: Path | None = Field(
        None,
        description="Node-local directory of the check index's snapshot files, one per "
        "account, mapped by every worker of `callblock serve` (unset: "
        "`$XDG_CACHE_HOME/callblock/index`, else `~/.cache/callblock/index`). Needs about "
        "9 bytes per entry of disk; safe to delete while stopped (rebuilt from the store).",
    )
    change_log_retention_days: float = Field(
        7,
        gt=0,
        le=3650,
        description="How long the change log keeps each change in full (every key) for "
        "followers to catch up from; older changes are pruned. The audit log is never pruned.",
    )


def default_index_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache, "callblock", "index")


def reference() -> str:
    """Every setting as a Markdown table (``callblock settings``; docs/deploy.md holds it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    prefix = Settings.model_config.get("env_prefix", "")
    for name, field in Settings.model_fields.items():
        default = "unset" if field.default is None else f"`{field.default}`"
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | {default} | {meaning} |")
    return "\n".join(rows) + "\n"
