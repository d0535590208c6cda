"""Small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from callblock.store import Store
from callblock.store.tables import accounts, audit_events, entries, groups

V2 = "/CAServicesV3/blockNumberGroupV2.php"


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a write could change: row counts, entries and every change counter."""
    with store.read() as conn:
        return {
            "groups": conn.execute(select(groups).order_by(groups.c.id)).all(),
            "entries": conn.execute(
                select(entries).order_by(entries.c.group_id, entries.c.number)
            ).all(),
            "audit": conn.execute(select(func.count()).select_from(audit_events)).scalar(),
            "versions": conn.execute(select(accounts.c.data_version)).scalars().all(),
        }


def entry_rows(store: Store, group_id: int) -> dict[str, Any]:
    """The group's entries as {E.164: row}."""
    with store.read() as conn:
        rows = conn.execute(select(entries).where(entries.c.group_id == group_id)).all()
    return {row.number: row for row in rows}
