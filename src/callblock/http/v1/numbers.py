"""`/v1/groups/{group_id}/numbers`: a group's entries (numbers and prefixes), listed, added
and removed. Files of them (import, export) are in ``files``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from callblock import rules
from callblock.domain import (
    NOT_A_NUMBER,
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
from callblock.http.v1 import examples
from callblock.http.v1.common import (
    PREFIX,
    Cursor,
    GroupId,
    Limit,
    ReadingActorDep,
    ServiceDep,
    WritingActorDep,
    cursor_position,
    invalid,
    listing_of,
    next_cursor,
)
from callblock.numbers import (
    PREFIX_MARK,
    InvalidNumber,
    display_forms,
    is_pattern,
    normalise_prefix,
)

router = APIRouter(prefix=PREFIX, tags=["numbers"])


def _entry_public(entry: Entry, now_ts: float) -> schemas.EntryPublic:
    expired = entry.expires_at is not None and entry.expires_at.timestamp() <= now_ts
    national, international = display_forms(entry.pattern)
    return schemas.EntryPublic(
        number=entry.pattern,
        national=national,
        international=international,
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
        schemas.InvalidEntry(input=item, reason=_why_invalid(item, region))
        for item in invalid_items
    ]


def _why_invalid(item: object, region: str) -> str:
    """Why ``item`` was refused: a prefix says what is wrong with it (one no valid number
    starts with, one longer than any number of its country)."""
    if not (isinstance(item, str) and is_pattern(item)):
        return NOT_A_NUMBER
    try:
        normalise_prefix(item, region)
    except InvalidNumber as exc:
        return f"not a valid prefix: {exc.reason}" if exc.reason else "not a valid prefix"
    return "not a valid prefix"


@router.get(
    "/groups/{group_id}/numbers",
    operation_id="listNumbers",
    summary="List a group's entries",
    description="The group's numbers and prefixes, prefixes first, then numbers in ascending "
    "order, a page at a time, each with its `national` and `international` forms for "
    "reading. `status` keeps active or expired entries; `q` keeps the entries it finds: "
    "those whose stored text (E.164, or a prefix with `*`) contains it, spaces, dashes, dots "
    "and brackets left out (`q=98765` finds `+919876543210`), and the number or prefix it "
    "is in any spelling a check takes, read with the account's region (`09876543210`, "
    "`+91 98765 43210`, `0091 98765 43210`; `0140*` finds `+91140*`); a part typed "
    "nationally or internationally (`098765`, `0091 98765`) finds the numbers that start "
    "so. 404 for an unknown group; 422 for a cursor of another listing.",
    response_model=schemas.EntriesPublic,
    responses={**examples.LIST_NUMBERS, **responses(401, 404, 422, 503)},
)
def list_numbers(
    group_id: GroupId,
    actor: ReadingActorDep,
    service: ServiceDep,
    status: EntryStatus = EntryStatus.ALL,
    q: Annotated[
        str | None,
        Query(
            max_length=rules.ENTRY_FILTER_MAX,
            description="Only the entries this finds: part of a number or prefix as stored "
            "(`98765`), or a number or prefix in any spelling a check takes, read with the "
            "account's region (`09876543210`, `+91 98765 43210`, `0140*`).",
        ),
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
    description="Adds up to 10,000 numbers (any common form, read with the account's region) "
    "or prefixes ending in `*`; they block at once (within a second on every node). A number "
    "already in the group is counted in `updated`: its expiry is set to this request's. "
    "Invalid inputs are listed in `invalid` and the others added, unless `all_or_nothing`, "
    "which answers 422 and adds nothing. 404 for an unknown group; 422 for an `expires_at` "
    "in the past.",
    response_model=schemas.NumbersAdded,
    responses={**examples.NUMBERS_ADDED, **responses(400, 401, 404, 413, 422, 503)},
)
def add_numbers(
    group_id: GroupId,
    body: Annotated[schemas.NumbersAdd, Body(openapi_examples=examples.ADD_NUMBERS)],
    actor: WritingActorDep,
    service: ServiceDep,
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
    summary="Remove numbers or prefixes from a group, or its expired entries",
    description="Removes up to 10,000 entries, named in the body in any form `addNumbers` "
    "takes; they stop blocking at once. Answers how many were removed, the inputs that were "
    "not in the group (`not_found`) and those that are not numbers (`invalid`).\n\n"
    "With `status=expired` and no body, removes every entry of the group whose expiry has "
    "passed, however many, in one change (audited as `purge`), and answers only how many "
    "(`removed`). 422 for `status=expired` with a body, or for neither; 404 for an unknown "
    "group.",
    response_model=schemas.NumbersRemoved | schemas.NumbersPurged,
    responses={**examples.NUMBERS_REMOVED, **responses(400, 401, 404, 413, 422, 503)},
)
def remove_numbers(
    group_id: GroupId,
    actor: WritingActorDep,
    service: ServiceDep,
    body: Annotated[
        schemas.NumbersRemove | None, Body(openapi_examples=examples.REMOVE_NUMBERS)
    ] = None,
    status: Annotated[
        schemas.PurgeStatus | None,
        Query(
            description="`expired`: remove the group's expired entries (send no body).",
            openapi_examples=examples.PURGE,
        ),
    ] = None,
) -> schemas.NumbersRemoved | schemas.NumbersPurged:
    # A body or status=expired, never both: a schema cannot tie a query to a body, so the
    # rule is stated in the description and held here.
    if status is not None:
        if body is not None:
            raise invalid("body", "status=expired removes the expired entries: send no body")
        return schemas.NumbersPurged(removed=service.purge_expired(actor, group_id))
    if body is None:
        raise invalid("body", "Field required: the numbers to remove (or status=expired)")
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
