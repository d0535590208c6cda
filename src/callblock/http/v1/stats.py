"""`/v1/stats` and `/v1/groups/{id}/stale`: what the lists stopped, and what never matters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from callblock import files
from callblock.domain import Actor, campaign_ref
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import (
    PREFIX,
    Cursor,
    GroupId,
    Limit,
    ReadingActorDep,
    ServiceDep,
    cursor_position,
    listing_of,
    next_cursor,
)
from callblock.http.v1.numbers import _entry_public
from callblock.numbers import display_forms
from callblock.rules import LARGEST_ID, NAME_MAX, STALE_DAYS_MAX
from callblock.service import Service
from callblock.usecases.insights import MAX_BUCKETS, StalePage, Stats

router = APIRouter(prefix=PREFIX, tags=["insights"])

CampaignParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=NAME_MAX,
        description="A campaign's id or name: only the checks made for it.",
    ),
]

_CSV_PAGE = 10_000


def _stats_public(stats: Stats) -> schemas.StatsPublic:
    return schemas.StatsPublic.model_validate(
        {
            "bucket": stats.bucket,
            "from": stats.start,
            "to": stats.end,
            "group_id": stats.group_id,
            "campaign_id": stats.campaign_id,
            "checks": stats.checks,
            "blocked": stats.blocked,
            "series": [
                schemas.StatsPointPublic(
                    start=p.start,
                    checks=p.checks,
                    blocked=p.blocked,
                    invalid=p.invalid,
                    matched=p.matched,
                )
                for p in stats.series
            ],
            "by_group": [
                schemas.GroupMatchesPublic(group_id=g.group_id, name=g.name, matched=g.matched)
                for g in stats.by_group
            ],
            "top_entries": [
                schemas.TopEntryPublic(
                    group_id=t.group_id,
                    group_name=t.group_name,
                    number=t.pattern,
                    international=display_forms(t.pattern)[1],
                    hits=t.hits,
                )
                for t in stats.top_entries
            ],
        }
    )


@router.get(
    "/stats",
    operation_id="getStats",
    summary="Checks and blocked calls over time",
    description="The account's checks (single and batch; a scrub is not a call and is not "
    "counted) per `bucket` from `from` to `to` (default: the last 60 buckets up to now), and "
    "how many were blocked (for a campaign: not callable); with `campaign`, only the checks "
    "made for it; with `group_id`, each bucket's `matched` is that group's. Also each group's "
    "matches over the range and the ten entries single checks matched most on its days. Each "
    "process writes what it counted every few seconds (`CALLBLOCK_STATS_FLUSH_SECONDS`), so "
    "the last seconds may not show yet. Minutes are kept 2 days, hours 90, days 800 (by "
    f"default). A range whose `to` is not after `from`, or of more than {MAX_BUCKETS:,} "
    "buckets, is refused (422). 404 for an unknown group or campaign.",
    response_model=schemas.StatsPublic,
    response_model_by_alias=True,
    responses={**examples.STATS, **responses(401, 404, 422, 503)},
)
def get_stats(
    actor: ReadingActorDep,
    service: ServiceDep,
    from_: Annotated[
        schemas.Instant | None,
        Query(alias="from", description="The range's start (default: 60 buckets before `to`)."),
    ] = None,
    to: Annotated[
        schemas.Instant | None, Query(description="The range's end (default: now).")
    ] = None,
    bucket: Annotated[
        Literal["minute", "hour", "day"], Query(description="Each point's length.")
    ] = "minute",
    group_id: Annotated[
        int | None, Query(ge=1, le=LARGEST_ID, description="A group's matches per bucket.")
    ] = None,
    campaign: CampaignParam = None,
) -> schemas.StatsPublic:
    stats = service.stats(
        actor,
        bucket=bucket,
        start=from_,
        end=to,
        group_id=group_id,
        campaign=None if campaign is None else campaign_ref(campaign),
    )
    return _stats_public(stats)


def _stale_public(page: StalePage, now: float) -> list[schemas.StaleEntryPublic]:
    return [
        schemas.StaleEntryPublic(
            **_entry_public(entry, now).model_dump(),
            last_matched_on=(
                page.last_matched[entry.key].date() if entry.key in page.last_matched else None
            ),
        )
        for entry in page.entries
    ]


@router.get(
    "/groups/{group_id}/stale",
    operation_id="listStaleEntries",
    summary="Entries no check matched for a while",
    description="The group's entries that no check (single or batch) matched in the last "
    "`days` days and that were in the group all that time, in the group's order (prefixes "
    "first), a page at a time; with `format=csv`, all of them as one CSV file "
    "(`number,kind,status,expires_at,note,created_at,last_matched_on`). A day is a UTC day; "
    "match days are kept as long as day counts (800 days by default). 404 for an unknown "
    "group.",
    response_model=schemas.StaleEntriesPublic,
    responses={
        200: {
            "content": {
                **examples.STALE[200]["content"],
                "text/csv": {"schema": {"type": "string"}, "example": examples.STALE_CSV},
            }
        },
        **responses(401, 404, 422, 503),
    },
)
def list_stale_entries(
    group_id: GroupId,
    actor: ReadingActorDep,
    service: ServiceDep,
    days: Annotated[
        int, Query(ge=1, le=STALE_DAYS_MAX, description="No match for this many days.")
    ] = 30,
    format: Annotated[  # the query parameter's name
        Literal["json", "csv"], Query(description="`csv`: every such entry, as a file.")
    ] = "json",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> schemas.StaleEntriesPublic | StreamingResponse:
    now = service.clock().timestamp()
    if format == "csv":
        first = service.stale_entries(actor, group_id, days=days, after=None, limit=_CSV_PAGE)
        return StreamingResponse(
            _stale_csv(service, actor, group_id, days, first, now),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="stale-{group_id}-{days}d.csv"'},
        )
    listing = listing_of("stale", group_id, days)
    page = service.stale_entries(
        actor, group_id, days=days, after=cursor_position(listing, cursor), limit=limit
    )
    return schemas.StaleEntriesPublic(
        data=_stale_public(page, now),
        count=page.total,
        next_cursor=next_cursor(listing, page.next_after),
    )


def _stale_csv(
    service: Service, actor: Actor, group_id: int, days: int, first: StalePage, now: float
) -> Iterator[str]:
    page: StalePage | None = first
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(files.STALE_HEADER)
    while page is not None:
        for row in _stale_public(page, now):
            writer.writerow(
                files.stale_row(
                    row.number,
                    row.kind,
                    row.status,
                    row.expires_at,
                    row.note,
                    row.created_at,
                    row.last_matched_on,
                )
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.next_after is None:
            break
        page = service.stale_entries(
            actor, group_id, days=days, after=page.next_after, limit=_CSV_PAGE
        )
