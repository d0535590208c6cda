"""The native REST API, `/v1`: a thin skin over the service layer.

Each route parses its request shape (pydantic, plus the domain's own rules), calls the
service, and renders its answer shape; errors are rendered once, in ``http.problems``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from callblock.domain import (
    Actor,
    AuditEvent,
    AuthenticationFailed,
    Direction,
    Entry,
    EntryStatus,
    FieldProblem,
    GroupById,
    GroupDetail,
    InvalidCursor,
    InvalidInput,
    ProblemCode,
    RequestedNumber,
    Surface,
    clean_description,
    clean_group_name,
    parse_numbers,
)
from callblock.http import schemas
from callblock.http.credentials import basic_credentials, bearer_token, client_address
from callblock.http.problems import responses
from callblock.numbers import PREFIX_MARK, InvalidNumber, is_pattern, normalise, normalise_prefix
from callblock.service import NOT_A_NUMBER, CheckResult, Service

router = APIRouter(prefix="/v1")

# Declared for the OpenAPI document (HTTP Basic is added beside it there); credentials are
# read by `current_actor` itself, so that every failure is the same 401 problem.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="`Authorization: Bearer <API key>`"
)

MAX_PAGE = 1000
NAME_RULE = (
    "2 to 50 characters: letters and marks of any script, digits, space, _ - . ; "
    "starting with a letter or digit"
)


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def current_actor(
    request: Request,
    _declared: Annotated[object, Depends(_bearer)],
) -> Actor:
    service = _service(request)
    header = request.headers.get("authorization")
    basic = basic_credentials(header)
    address = client_address(request)
    if basic is not None:
        return await run_in_threadpool(
            service.authenticate, basic[0], basic[1], Surface.V1, address
        )
    key = bearer_token(header)
    if key is None:
        raise AuthenticationFailed
    cached = service.cached_actor(key, Surface.V1)
    if cached is not None:
        return cached
    return await run_in_threadpool(service.authenticate_key, key, Surface.V1, address)


async def checking_actor(
    request: Request,
    _declared: Annotated[object, Depends(_bearer)],
) -> Actor:
    """Credentials for the checks: a key this process knows answers at once (see
    ``Service.checking_actor``); any other goes through ``current_actor``."""
    key = bearer_token(request.headers.get("authorization"))
    if key is not None:
        known = _service(request).checking_actor(key, Surface.V1)
        if known is not None:
            return known
    return await current_actor(request, _declared)


ActorDep = Annotated[Actor, Depends(current_actor)]
CheckingActorDep = Annotated[Actor, Depends(checking_actor)]
ServiceDep = Annotated[Service, Depends(_service)]
GroupId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The group's id.")]
Cursor = Annotated[str | None, Query(max_length=64, description="From `next_cursor`.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]


# --- helpers -------------------------------------------------------------------------------


_MAX_ID = 2**63 - 1


def _listing(kind: str, *filters: object) -> str:
    """A listing's identity: its kind and its filters, so that a cursor is refused by any
    other listing, the same one with other filters included."""
    digest = hashlib.sha256(repr(filters).encode()).hexdigest()[:12]
    return f"{kind}-{digest}"


def _cursor(listing: str, after: int | None) -> str | None:
    """An opaque cursor naming its listing."""
    if after is None:
        return None
    return base64.urlsafe_b64encode(f"{listing}:{after}".encode()).decode().rstrip("=")


def _after(listing: str, cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor from exc
    label, _, value = text.rpartition(":")
    digits = value.removeprefix("-")  # entry keys of prefixes are negative
    if label != listing or not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        raise InvalidCursor
    after = int(value)
    if abs(after) > _MAX_ID:
        raise InvalidCursor
    return after


def _invalid(field: str, detail: str, value: object = None) -> InvalidInput:
    return InvalidInput([FieldProblem(field, ProblemCode.INVALID, value, detail)])


def _group_name(raw: str) -> str:
    name = clean_group_name(raw)
    if name is None:
        raise _invalid("name", NAME_RULE, raw)
    return name


def _description(raw: str) -> str:
    text = clean_description(raw, minimum=0)
    if text is None:
        raise _invalid("description", "up to 50 characters, without NUL", raw)
    return text


def _group_public(detail: GroupDetail) -> schemas.GroupPublic:
    group = detail.group
    return schemas.GroupPublic(
        id=group.id,
        name=group.name,
        description=group.description,
        direction=group.direction,
        active_count=detail.active,
        expired_count=detail.expired,
        created_at=detail.created_at,
        updated_at=detail.updated_at,
    )


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


def _event_public(event: AuditEvent) -> schemas.AuditEventPublic:
    return schemas.AuditEventPublic(
        id=event.id,
        at=event.at,
        surface=event.surface,
        action=event.action,
        group_id=event.group_id,
        key_id=event.key_id,
        count=event.count,
        numbers=event.sample,
        detail=event.detail,
    )


def _check_public(result: CheckResult) -> schemas.CheckPublic:
    return schemas.CheckPublic(
        number=result.number,
        blocked=result.blocked,
        matches=[
            schemas.MatchPublic(
                group_id=m.group_id,
                group_name=m.group_name,
                pattern=m.pattern,
                expires_at=m.expires_at,
                rule=m.rule,
            )
            for m in result.matches
        ],
    )


def _split(
    inputs: list[schemas.NumberInput], region: str
) -> tuple[list[RequestedNumber], list[schemas.InvalidEntry]]:
    valid, invalid = parse_numbers(inputs, region, prefixes=True)
    return valid, [
        schemas.InvalidEntry(
            input=item,
            reason="not a valid prefix"
            if isinstance(item, str) and is_pattern(item)
            else "not a valid phone number",
        )
        for item in invalid
    ]


# --- groups --------------------------------------------------------------------------------


@router.get(
    "/groups",
    operation_id="listGroups",
    summary="List groups",
    response_model=schemas.GroupsPublic,
    responses=responses(401, 422, 503),
)
def list_groups(
    actor: ActorDep,
    service: ServiceDep,
    name: Annotated[
        str | None, Query(max_length=100, description="Only groups whose name contains this.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> schemas.GroupsPublic:
    listing = _listing("groups", name)
    page = service.list_groups(actor, name=name, after=_after(listing, cursor), limit=limit)
    return schemas.GroupsPublic(
        data=[_group_public(d) for d in page.items],
        count=page.total,
        next_cursor=_cursor(listing, page.next_after),
    )


@router.post(
    "/groups",
    operation_id="createGroup",
    summary="Create a group",
    status_code=201,
    response_model=schemas.GroupPublic,
    responses=responses(400, 401, 409, 413, 422, 503),
)
def create_group(
    body: schemas.GroupCreate, actor: ActorDep, service: ServiceDep
) -> schemas.GroupPublic:
    problems: list[FieldProblem] = []
    name = clean_group_name(body.name)
    if name is None:
        problems.append(FieldProblem("name", ProblemCode.INVALID, body.name, NAME_RULE))
    description = clean_description(body.description, minimum=0)
    if description is None:
        problems.append(
            FieldProblem(
                "description", ProblemCode.INVALID, body.description, "up to 50 characters"
            )
        )
    if problems or name is None or description is None:
        raise InvalidInput(problems)
    created = service.create_group(actor, name, description, [], None, body.direction)
    return _group_public(service.group_detail(actor, created.group.id))


@router.get(
    "/groups/{group_id}",
    operation_id="getGroup",
    summary="Get a group",
    response_model=schemas.GroupPublic,
    responses=responses(401, 404, 422, 503),
)
def get_group(group_id: GroupId, actor: ActorDep, service: ServiceDep) -> schemas.GroupPublic:
    return _group_public(service.group_detail(actor, group_id))


@router.patch(
    "/groups/{group_id}",
    operation_id="updateGroup",
    summary="Rename, redescribe or redirect a group",
    response_model=schemas.GroupPublic,
    responses=responses(400, 401, 404, 409, 413, 422, 503),
)
def update_group(
    group_id: GroupId, body: schemas.GroupUpdate, actor: ActorDep, service: ServiceDep
) -> schemas.GroupPublic:
    name = None if body.name is None else _group_name(body.name)
    description = None if body.description is None else _description(body.description)
    detail = service.update_group(
        actor, group_id, name=name, description=description, direction=body.direction
    )
    return _group_public(detail)


@router.delete(
    "/groups/{group_id}",
    operation_id="deleteGroup",
    summary="Delete a group and its entries",
    status_code=204,
    response_class=Response,
    responses=responses(401, 404, 422, 503),
)
def delete_group(group_id: GroupId, actor: ActorDep, service: ServiceDep) -> Response:
    service.delete_group(actor, group_id)
    return Response(status_code=204)


# --- entries -------------------------------------------------------------------------------


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
        str | None, Query(max_length=32, description="Only entries containing this text.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> schemas.EntriesPublic:
    listing = _listing("numbers", group_id, status, q)
    page = service.list_entries(
        actor, group_id, status=status, q=q, after=_after(listing, cursor), limit=limit
    )
    now = service.clock().timestamp()
    return schemas.EntriesPublic(
        data=[_entry_public(e, now) for e in page.items],
        count=page.total,
        next_cursor=_cursor(listing, page.next_after),
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
        raise _invalid("expires_at", "must be in the future", body.expires_at.isoformat())
    valid, invalid = _split(body.numbers, actor.account.region)
    if invalid and body.all_or_nothing:
        raise InvalidInput(
            [
                FieldProblem(f"numbers.{i}", ProblemCode.INVALID_NUMBERS, item, "not valid")
                for i, item in enumerate(body.numbers)
                if any(bad.input == item for bad in invalid)
            ]
        )
    if not valid:
        service.group_detail(actor, group_id)  # still answer 404 for a missing group
        return schemas.NumbersAdded(added=0, updated=0, invalid=invalid)
    result = service.add_numbers(actor, GroupById(group_id), valid, body.expires_at, body.note)
    return schemas.NumbersAdded(added=result.new, updated=result.updated, invalid=invalid)


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
    valid, invalid = _split(body.numbers, actor.account.region)
    if not valid:
        service.group_detail(actor, group_id)
        return schemas.NumbersRemoved(removed=0, not_found=[], invalid=invalid)
    result = service.remove_numbers(actor, GroupById(group_id), valid)
    return schemas.NumbersRemoved(
        removed=result.deleted,
        not_found=[n.raw for n in result.missing],
        invalid=invalid,
    )


# --- checks --------------------------------------------------------------------------------


@router.get(
    "/check/{number}",
    operation_id="checkNumber",
    summary="Is this number blocked?",
    response_model=schemas.CheckPublic,
    responses=responses(401, 422, 503),
)
async def check_number(
    number: Annotated[str, Path(max_length=64, description="Any common form of the number.")],
    actor: CheckingActorDep,
    service: ServiceDep,
    direction: schemas.CheckDirection | None = None,
) -> schemas.CheckPublic:
    wanted = None if direction is None else Direction(direction.value)
    if service.has_index(actor.account.id):
        result = service.check(actor, number, wanted)
    else:  # the first check of an account loads its index: not on the event loop
        result = await run_in_threadpool(service.check, actor, number, wanted)
    if result.error is not None:
        raise _invalid("number", result.error, number)
    return _check_public(result)


@router.post(
    "/check",
    operation_id="checkNumbers",
    summary="Check many numbers at once",
    response_model=schemas.CheckManyPublic,
    responses=responses(400, 401, 413, 422, 503),
)
def check_numbers(
    body: schemas.CheckMany, actor: CheckingActorDep, service: ServiceDep
) -> Response:
    wanted = None if body.direction is None else Direction(body.direction.value)
    checked = service.check_many(actor, body.numbers, wanted)
    # Up to 100,000 results: encoded straight from plain dicts (the shape is the declared
    # CheckManyPublic, which the OpenAPI test holds it to), not through a model per result.
    results = [
        {
            "input": item,
            "number": number,
            "blocked": bool(groups) or i in checked.withheld,
            "group_ids": groups,
            "error": None if number is not None or i in checked.withheld else NOT_A_NUMBER,
        }
        for i, (item, number, groups) in enumerate(
            zip(checked.inputs, checked.numbers, checked.group_ids, strict=True)
        )
    ]
    try:
        encoded = orjson.dumps({"results": results})
    except TypeError:  # an input integer beyond 64 bits, echoed back: the slower encoder
        encoded = json.dumps({"results": results}, separators=(",", ":")).encode()
    return Response(encoded, media_type="application/json")


# --- audit and account -----------------------------------------------------------------------


@router.get(
    "/audit",
    operation_id="listAuditEvents",
    summary="Change history, newest first",
    response_model=schemas.AuditPublic,
    responses=responses(401, 422, 503),
)
def list_audit_events(
    actor: ActorDep,
    service: ServiceDep,
    group_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    number: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[
        schemas.Instant | None, Query(description="Only events at or after this instant.")
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
            raise _invalid("number", "not a valid phone number or prefix", number) from exc
    listing = _listing("audit", group_id, e164, since)
    page = service.audit(
        actor,
        group_id=group_id,
        number=e164,
        since=since,
        before=_after(listing, cursor),
        limit=limit,
    )
    return schemas.AuditPublic(
        data=[_event_public(e) for e in page.items],
        count=page.total,
        next_cursor=_cursor(listing, page.next_after),
    )


def _account_public(actor: Actor) -> schemas.AccountPublic:
    account = actor.account
    return schemas.AccountPublic(
        username=account.username,
        region=account.region,
        timezone=account.timezone,
        auth_mode=account.auth_mode.value,
        block_anonymous=account.block_anonymous,
    )


@router.get(
    "/account",
    operation_id="getAccount",
    summary="The calling account",
    response_model=schemas.AccountPublic,
    responses=responses(401, 503),
)
def get_account(actor: ActorDep) -> schemas.AccountPublic:
    return _account_public(actor)


@router.patch(
    "/account",
    operation_id="updateAccount",
    summary="Change the calling account's settings",
    response_model=schemas.AccountPublic,
    responses=responses(400, 401, 413, 422, 503),
)
def update_account(
    body: schemas.AccountUpdate, actor: ActorDep, service: ServiceDep
) -> schemas.AccountPublic:
    account = actor.account
    if body.block_anonymous is not None:
        account = service.set_block_anonymous(account, body.block_anonymous)
    return _account_public(Actor(account, actor.key_id, actor.surface))
