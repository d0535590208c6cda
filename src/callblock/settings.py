"""Settings: one typed object read from ``CALLBLOCK_*`` environment variables.

CLI flags override by setting the same variables before the app is built, so that every
worker process of ``callblock serve`` reads the same configuration.
"""

from __future__ import annotations

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
        description="Signing key of API tokens, shared by every worker and node. Unset: one is "
        "generated once and kept in the database.",
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


def reference() -> str:
    """Every setting as a Markdown table (``callblock settings``; docs/deploy.md holds it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    prefix = Settings.model_config.get("env_prefix", "")
    for name, field in Settings.model_fields.items():
        default = "unset" if field.default is None else f"`{field.default}`"
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | {default} | {meaning} |")
    return "\n".join(rows) + "\n"
