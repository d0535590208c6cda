"""A group's entries as the rows of an export file (CSV, with a header)."""

from __future__ import annotations

from datetime import datetime

from callblock.domain import Entry

EXPORT_HEADER = [
    "number",
    "kind",
    "status",
    "expires_at",
    "note",
    "source",
    "created_at",
    "updated_at",
]


def export_row(entry: Entry, now: datetime) -> list[str]:
    expired = entry.expires_at is not None and entry.expires_at <= now
    return [
        entry.pattern,
        "prefix" if entry.pattern.endswith("*") else "number",
        "expired" if expired else "active",
        _rfc3339(entry.expires_at) if entry.expires_at else "",
        entry.note or "",
        entry.source,
        _rfc3339(entry.created_at),
        _rfc3339(entry.updated_at),
    ]


def _rfc3339(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")
