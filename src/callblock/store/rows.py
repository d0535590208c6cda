"""What the query modules share: row mappers and chunking."""

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from callblock.domain import (
    Account,
    AuthMode,
    Direction,
    Group,
    GroupKind,
    GroupScope,
)
from callblock.store.tables import (
    groups,
)

# Well under SQLite's bound-parameter limit; also keeps PostgreSQL statements modest.
CHUNK = 500
AUDIT_SAMPLE = 100

T = TypeVar("T")
# Stored keys of entries (numbers.pattern_key): a list, or an int64 array from a bulk import.
StoredKeys = Sequence[int] | np.ndarray[Any, np.dtype[np.int64]]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def account_of_row(row: Any) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        region=row.region,
        timezone=row.timezone,
        auth_mode=AuthMode(row.auth_mode),
        created_at=row.created_at,
        block_anonymous=bool(row.block_anonymous),
    )


def group_of_row(row: Any) -> Group:
    return Group(
        row.id,
        row.account_id,
        row.name,
        row.description,
        Direction(row.direction),
        GroupKind(row.kind),
        GroupScope(row.scope),
        bool(row.consent_overrides),
    )


GROUP_COLUMNS = (
    groups.c.id,
    groups.c.account_id,
    groups.c.name,
    groups.c.description,
    groups.c.direction,
    groups.c.kind,
    groups.c.scope,
    groups.c.consent_overrides,
)


def dialect_insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
