"""`/v1/audit`: the account's change history, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from callblock.domain import AuditEvent
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import (
    PREFIX,
    Cursor,
    Limit,
    ReadingActorDep,
    ServiceDep,
    cursor_position,
    invalid,
    listing_of,
    next_cursor,
)
from callblock.numbers import InvalidNumber, is_pattern, normalise, normalise_prefix
from callblock.rules import LARGEST_ID, NUMBER_TEXT_MAX

router = APIRouter(prefix=PREFIX, tags=["audit"])


def _event_public(event: AuditEvent) -> schemas.AuditEventPublic:
    return schemas.AuditEventPublic(
        id=event.id,
        at=event.at,
        surface=event.surface,
        action=event.action,
        group_id=event.group_id,
        key_id=event.key_id,
        key_label=event.key_label,
        count=event.count,
        numbers=event.sample,
        detail=event.detail,
    )


@router.get(
    "/audit",
    operation_id="listAuditEvents",
    summary="Change history, newest first",
    description="Every change to the account's groups, entries and settings, through any "
    "surface (`v1`, the compat endpoints, the CLI): who (the API key's id), what, and up to "
    "100 of the numbers touched. Filter by `group_id`, by a `number` or prefix among those "
    "recorded, and by time (`since` <= at < `until`); a number that cannot be read is 422.",
    response_model=schemas.AuditPublic,
    responses={**examples.AUDIT, **responses(401, 422, 503)},
)
def list_audit_events(
    actor: ReadingActorDep,
    service: ServiceDep,
    group_id: Annotated[int | None, Query(ge=1, le=LARGEST_ID)] = None,
    number: Annotated[str | None, Query(max_length=NUMBER_TEXT_MAX)] = None,
    since: Annotated[
        schemas.Instant | None, Query(description="Only events at or after this instant.")
    ] = None,
    until: Annotated[
        schemas.Instant | None,
        Query(description="Only events before this instant (after `since`, when both)."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> schemas.AuditPublic:
    e164 = None
    if number is not None:
        try:
            e164 = (
                normalise_prefix(number, actor.account.region)
                if is_pattern(number)
                else normalise(number, actor.account.region)
            )
        except InvalidNumber as exc:
            raise invalid("number", "not a valid phone number or prefix", number) from exc
    listing = listing_of("audit", group_id, e164, since, until)
    page = service.audit(
        actor,
        group_id=group_id,
        number=e164,
        since=since,
        until=until,
        before=cursor_position(listing, cursor),
        limit=limit,
    )
    return schemas.AuditPublic(
        data=[_event_public(e) for e in page.items],
        count=page.total,
        next_cursor=next_cursor(listing, page.next_after),
    )
