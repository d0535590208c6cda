"""`/v1/groups`: list, create, read, change and delete groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from callblock import rules
from callblock.domain import GroupDetail
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
    listing_of,
    next_cursor,
)

router = APIRouter(prefix=PREFIX, tags=["groups"])


def _group_public(detail: GroupDetail) -> schemas.GroupPublic:
    group = detail.group
    return schemas.GroupPublic(
        id=group.id,
        name=group.name,
        description=group.description,
        direction=group.direction,
        kind=group.kind,
        scope=group.scope,
        consent_overrides=group.consent_overrides,
        active_count=detail.active,
        expired_count=detail.expired,
        created_at=detail.created_at,
        updated_at=detail.updated_at,
        refreshed_at=detail.refreshed_at,
        refreshed_from=detail.refreshed_from,
    )


@router.get(
    "/groups",
    operation_id="listGroups",
    summary="List groups",
    description="The calling account's groups, ordered by id, a page at a time, each with its "
    "counts of active and expired entries. `name` keeps the groups whose name contains it, "
    "ignoring case; pass `next_cursor` back as `cursor` until it is null. A cursor of another "
    "listing (or other filters) is refused with 422.",
    response_model=schemas.GroupsPublic,
    responses={**examples.LIST_GROUPS, **responses(401, 422, 503)},
)
def list_groups(
    actor: ReadingActorDep,
    service: ServiceDep,
    name: Annotated[
        str | None,
        Query(
            max_length=rules.GROUP_FILTER_MAX, description="Only groups whose name contains this."
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> schemas.GroupsPublic:
    listing = listing_of("groups", name)
    after = cursor_position(listing, cursor)
    page = service.list_groups(actor, name=name, after=after, limit=limit)
    return schemas.GroupsPublic(
        data=[_group_public(d) for d in page.items],
        count=page.total,
        next_cursor=next_cursor(listing, page.next_after),
    )


@router.post(
    "/groups",
    operation_id="createGroup",
    summary="Create a group",
    description="Creates an empty group; add entries with `addNumbers` or `importNumbers`. "
    "A group is a `block` list (the default) or an `allow` list of consent, `global` (the "
    "default: it counts in every check) or `attached` to campaigns. An allow group with "
    "`consent_overrides` is 422. Answers 201 with the group. A name already used by another "
    "of the account's groups (ignoring case) is 409; a name or description outside the rules "
    "is 422, naming the field.",
    status_code=201,
    response_model=schemas.GroupPublic,
    responses={**examples.CREATED_GROUP, **responses(400, 401, 409, 413, 422, 503)},
)
def create_group(
    body: Annotated[schemas.GroupCreate, Body(openapi_examples=examples.CREATE_GROUP)],
    actor: WritingActorDep,
    service: ServiceDep,
) -> schemas.GroupPublic:
    # The name and description arrive checked and trimmed (``schemas.GroupName``).
    created = service.create_group(
        actor,
        body.name,
        body.description,
        [],
        None,
        body.direction,
        kind=body.kind,
        scope=body.scope,
        consent_overrides=body.consent_overrides,
    )
    return _group_public(service.group_detail(actor, created.group.id))


@router.get(
    "/groups/{group_id}",
    operation_id="getGroup",
    summary="Get a group",
    description="One group with its counts of active and expired entries. A group of another "
    "account is answered 404, as one that does not exist.",
    response_model=schemas.GroupPublic,
    responses={**examples.ONE_GROUP, **responses(401, 404, 422, 503)},
)
def get_group(
    group_id: GroupId, actor: ReadingActorDep, service: ServiceDep
) -> schemas.GroupPublic:
    return _group_public(service.group_detail(actor, group_id))


@router.patch(
    "/groups/{group_id}",
    operation_id="updateGroup",
    summary="Rename, redescribe, redirect or re-scope a group",
    description="Changes any of `name`, `description`, `direction`, `kind`, `scope` and "
    "`consent_overrides`; a field left out is kept. Its entries stay as they are; a new "
    "direction counts for the next checks (within a "
    "second on every node). Answers the group as it now is; 404 for an unknown group, 409 for "
    "a name another group has.",
    response_model=schemas.GroupPublic,
    responses={**examples.UPDATED_GROUP, **responses(400, 401, 404, 409, 413, 422, 503)},
)
def update_group(
    group_id: GroupId,
    body: Annotated[schemas.GroupUpdate, Body(openapi_examples=examples.UPDATE_GROUP)],
    actor: WritingActorDep,
    service: ServiceDep,
) -> schemas.GroupPublic:
    detail = service.update_group(
        actor,
        group_id,
        name=body.name,
        description=body.description,
        direction=body.direction,
        kind=body.kind,
        scope=body.scope,
        consent_overrides=body.consent_overrides,
    )
    return _group_public(detail)


@router.delete(
    "/groups/{group_id}",
    operation_id="deleteGroup",
    summary="Delete a group and its entries",
    description="Deletes the group and every entry in it: its numbers stop blocking at once "
    "(within a second on every node). The deletion stays in the audit history. Answers 204 "
    "with no body; 404 for an unknown group.",
    status_code=204,
    response_class=Response,
    responses=responses(401, 404, 422, 503),
)
def delete_group(group_id: GroupId, actor: WritingActorDep, service: ServiceDep) -> Response:
    service.delete_group(actor, group_id)
    return Response(status_code=204)
