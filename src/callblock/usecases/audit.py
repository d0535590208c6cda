"""The account's history: the audit log (every change, with a sample of its numbers) and the
change log (every change in full, for as long as it is kept)."""

from __future__ import annotations

from datetime import datetime

from callblock.change import Change
from callblock.domain import Actor, AuditEvent, Page
from callblock.store import Store
from callblock.store import audit as audit_rows
from callblock.store import changes as change_rows
from callblock.usecases.results import page


class History:
    def __init__(self, store: Store) -> None:
        self._store = store

    def audit(
        self,
        actor: Actor,
        *,
        group_id: int | None,
        number: str | None,
        since: datetime | None,
        until: datetime | None = None,
        before: int | None,
        limit: int,
    ) -> Page[AuditEvent]:
        """Newest first, filtered by group, number (or prefix) and ``since`` <= at <
        ``until`` (an ``until`` not after ``since``: none)."""
        account_id = actor.account.id
        with self._store.read() as conn:
            items = audit_rows.audit_events_of(
                conn,
                account_id,
                group_id=group_id,
                number=number,
                since=since,
                until=until,
                before_id=before,
                limit=limit + 1,
            )
            total = audit_rows.count_audit_events(
                conn, account_id, group_id=group_id, number=number, since=since, until=until
            )
        return page(items[:limit], total, len(items) > limit, lambda e: e.id)

    def changes(self, actor: Actor, *, after: int, limit: int = 1000) -> list[Change]:
        """The account's changes after version ``after``, oldest first (what a follower that
        has applied everything up to ``after`` needs next)."""
        with self._store.read() as conn:
            return change_rows.changes_after(conn, actor.account.id, after, limit)
