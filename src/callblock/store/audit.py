"""The audit log: one event per change, with a sample of the numbers it touched.

Each query takes an open connection; the use cases own transactions.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    select,
)

from callblock.domain import (
    AuditEvent,
)
from callblock.store.rows import AUDIT_SAMPLE
from callblock.store.tables import (
    api_keys,
    audit_events,
    audit_numbers,
)


def record_audit(
    conn: Connection,
    *,
    at: datetime,
    account_id: int,
    key_id: int | None,
    surface: str,
    action: str,
    group_id: int | None,
    numbers: Sequence[str],
    count: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    sample = list(dict.fromkeys(numbers[:AUDIT_SAMPLE]))
    event_id = conn.execute(
        audit_events.insert()
        .values(
            at=at,
            account_id=account_id,
            key_id=key_id,
            surface=surface,
            action=action,
            group_id=group_id,
            count=len(numbers) if count is None else count,
            sample=json.dumps(sample),
            detail=None if detail is None else json.dumps(detail),
        )
        .returning(audit_events.c.id)
    ).scalar_one()
    if sample:
        conn.execute(audit_numbers.insert(), [{"event_id": event_id, "number": n} for n in sample])


def audit_events_of(
    conn: Connection,
    account_id: int,
    *,
    group_id: int | None,
    number: str | None,
    since: datetime | None,
    until: datetime | None = None,
    before_id: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Newest first."""
    query = (
        select(audit_events, api_keys.c.label.label("key_label"))
        .outerjoin(api_keys, api_keys.c.id == audit_events.c.key_id)
        .where(audit_events.c.account_id == account_id)
        .order_by(audit_events.c.id.desc())
    )
    query = _audit_filters(query, group_id, number, since, until)
    if before_id is not None:
        query = query.where(audit_events.c.id < before_id)
    return [
        AuditEvent(
            id=row.id,
            at=row.at,
            key_id=row.key_id,
            surface=row.surface,
            action=row.action,
            group_id=row.group_id,
            count=row._mapping["count"],  # Row.count is the tuple method
            sample=json.loads(row.sample),
            detail=None if row.detail is None else json.loads(row.detail),
            key_label=row.key_label,
        )
        for row in conn.execute(query.limit(limit))
    ]


def count_audit_events(
    conn: Connection,
    account_id: int,
    *,
    group_id: int | None,
    number: str | None,
    since: datetime | None,
    until: datetime | None = None,
) -> int:
    query = (
        select(func.count())
        .select_from(audit_events)
        .where(audit_events.c.account_id == account_id)
    )
    count: int = conn.execute(_audit_filters(query, group_id, number, since, until)).scalar_one()
    return count


def _audit_filters(
    query: Any,
    group_id: int | None,
    number: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Any:
    if group_id is not None:
        query = query.where(audit_events.c.group_id == group_id)
    if number is not None:
        query = query.where(
            audit_events.c.id.in_(
                select(audit_numbers.c.event_id).where(audit_numbers.c.number == number)
            )
        )
    if since is not None:
        query = query.where(audit_events.c.at >= since)
    if until is not None:
        query = query.where(audit_events.c.at < until)
    return query
