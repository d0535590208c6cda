"""`/v1/groups/{group_id}/numbers`: a group's entries (numbers and prefixes), listed, added
and removed. Files of them (import, export) are in ``files``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from callblock import rules
from callblock.domain import (
    Entry,
    EntryStatus,
    FieldProblem,
    GroupById,
    InvalidInput,
    ProblemCode,
    RequestedNumber,
    parse_numbers,
)
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1.common import (
    PREFIX,
    ActorDep,
    Cursor,
    GroupId,
    Limit,
    ServiceDep,
    cursor_position,
    invalid,
    listing_of,
    next_cursor,
)
from callblock.numbers import PREFIX_MARK, is_pattern

router = APIRouter(prefix=PREFIX)


def _entry_public(entry: Entry, now_ts: float) -> schemas.EntryPublic:
    expired = entry.expires_at is not None and entry.expires_at.timestamp() <= now_ts
    return schemas.EntryPublic(
        number=entry.pattern,
        kind="prefix" if entry.pattern.endswith(PREFIX_MARK) else "number",
        status="expired" if expired else "active",
        expires_at=entry.expires_at,
        note=entry.note,
        source=entry.source,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


def _split(
    inputs: list[schemas.NumberInput], region: str
) -> tuple[list[RequestedNumber], list[schemas.InvalidEntry]]:
    valid, invalid_items = parse_numbers(inputs, region, prefixes=True)
    return valid, [
        schemas.InvalidEntry(
            input=item,
            reason="not a valid prefix"
            if isinstance(item, str) and is_pattern(item)
            else "not a valid phone number",
        )
        for item in invalid_items
    ]


@router.get(
    "/groups/{group_id}/numbers",
    operation_id="listNumbers",
    summary="List a group's entries",
    response_model=schemas.EntriesPublic,
    responses=responses(401, 404, 422, 503),
)
def list_numbers(
    group_id: GroupId,
    actor: ActorDep,
    service: ServiceDep,
    status: EntryStatus = EntryStatus.ALL,
    q: Annotated[
        str | None,
        Query(max_length=rules.ENTRY_FILTER_MAX, description="Only entries containing this text."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> schemas.EntriesPublic:
    listing = listing_of("numbers", group_id, status, q)
    after = cursor_position(listing, cursor)
    page = service.list_entries(actor, group_id, status=status, q=q, after=after, limit=limit)
    now = service.clock().timestamp()
    return schemas.EntriesPublic(
        data=[_entry_public(e, now) for e in page.items],
        count=page.total,
        next_cursor=next_cursor(listing, page.next_after),
    )


@router.post(
    "/groups/{group_id}/numbers",
    operation_id="addNumbers",
    summary="Add numbers or prefixes to a group",
    response_model=schemas.NumbersAdded,
    responses=responses(400, 401, 404, 413, 422, 503),
)
def add_numbers(
    group_id: GroupId, body: schemas.NumbersAdd, actor: ActorDep, service: ServiceDep
) -> schemas.NumbersAdded:
    if body.expires_at is not None and body.expires_at <= service.clock():
        raise invalid("expires_at", "must be in the future", body.expires_at.isoformat())
    valid, refused = _split(body.numbers, actor.account.region)
    if refused and body.all_or_nothing:
        raise InvalidInput(
            [
                FieldProblem(f"numbers.{i}", ProblemCode.INVALID_NUMBERS, item, "not valid")
                for i, item in enumerate(body.numbers)
                if any(bad.input == item for bad in refused)
            ]
        )
    if not valid:
        service.group_detail(actor, group_id)  # still answer 404 for a missing group
        return schemas.NumbersAdded(added=0, updated=0, invalid=refused)
    result = service.add_numbers(actor, GroupById(group_id), valid, body.expires_at, body.note)
    return schemas.NumbersAdded(added=result.new, updated=result.updated, invalid=refused)


@router.delete(
    "/groups/{group_id}/numbers",
    operation_id="removeNumbers",
    summary="Remove numbers or prefixes from a group",
    response_model=schemas.NumbersRemoved,
    responses=responses(400, 401, 404, 413, 422, 503),
)
def remove_numbers(
    group_id: GroupId, body: schemas.NumbersRemove, actor: ActorDep, service: ServiceDep
) -> schemas.NumbersRemoved:
    valid, refused = _split(body.numbers, actor.account.region)
    if not valid:
        service.group_detail(actor, group_id)
        return schemas.NumbersRemoved(removed=0, not_found=[], invalid=refused)
    result = service.remove_numbers(actor, GroupById(group_id), valid)
    return schemas.NumbersRemoved(
        removed=result.deleted,
        not_found=[n.raw for n in result.missing],
        invalid=refused,
    )
