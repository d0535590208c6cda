"""`/v1/changes`: the change feed, every change of the account after a token, in order, for
clients that keep their own copy of its groups."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from callblock.change import CampaignState
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX, CheckScopeActorDep, Limit, ServiceDep
from callblock.numbers import key_pattern
from callblock.rules import CHANGE_FEED_ENTRIES, CHANGE_TOKEN_MAX, LARGEST_ID
from callblock.service import ChangesPage, FeedItem
from callblock.timestamps import NEVER, from_micros

router = APIRouter(prefix=PREFIX, tags=["changes"])


@router.get(
    "/changes",
    operation_id="listChanges",
    summary="The account's changes after a token, in order",
    description="For a client that keeps its own copy of the account's groups. Without "
    "`since`: no changes, and in `next` the token of the account's current version; take it, "
    "copy the groups (`listGroups`, then each group's `exportNumbers`), then follow from it "
    "(changes the copy already has apply again harmlessly). With `since`: the changes after "
    "it, oldest first, each with the token that resumes after it; `next` to pass next time; "
    "`more` when more are waiting. An answer holds at most `limit` changes and "
    f"{CHANGE_FEED_ENTRIES:,} entries: a bigger change (an import) comes in parts, each "
    "`continued` but the last. `group_id` keeps that group's changes and the removals from "
    "every group (which concern it too). A token is opaque and belongs to its account: "
    "another account's, or an altered one, is 400 (`invalid-change-token`). A token older "
    "than the change log keeps answers `reset`: start over from `next`.",
    response_model=schemas.ChangesPublic,
    responses={**examples.CHANGES, **responses(400, 401, 422, 503)},
)
def list_changes(
    actor: CheckScopeActorDep,
    service: ServiceDep,
    since: Annotated[
        str | None,
        Query(
            max_length=CHANGE_TOKEN_MAX,
            description="A token from an earlier answer (`next`, or a change's `token`).",
        ),
    ] = None,
    group_id: Annotated[
        int | None, Query(ge=1, le=LARGEST_ID, description="Only this group's changes.")
    ] = None,
    limit: Limit = 100,
) -> Response:
    page = service.change_feed(actor, since=since, group_id=group_id, limit=limit)
    # Up to 10,000 entries: encoded from plain values (the shape is the declared
    # ChangesPublic, which the OpenAPI tests hold it to), not through a model per entry.
    return Response(orjson.dumps(_answer(page)), media_type="application/json")


def _answer(page: ChangesPage) -> dict[str, Any]:
    return {
        "changes": [_change(item) for item in page.items],
        "next": page.next,
        "more": page.more,
        "reset": page.reset,
        "detail": schemas.RESET_DETAIL if page.reset else None,
    }


def _change(item: FeedItem) -> dict[str, Any]:
    change = item.part.change
    draft = change.draft
    group = draft.group
    return {
        "version": change.version,
        "at": _instant(change.at),
        "action": draft.action.value,
        "group_id": draft.group_id,
        "group": None
        if group is None
        else {
            "id": group.id,
            "name": group.name,
            "description": group.description,
            "direction": group.direction.value,
            "kind": group.kind.value,
            "scope": group.scope.value,
            "consent_overrides": group.consent_overrides,
        },
        "campaign": None if draft.campaign is None else _campaign(draft.campaign),
        "upserted": [
            {"number": key_pattern(key), "expires_at": _expiry(stamp)}
            for key, stamp in zip(draft.upserted.tolist(), draft.expiries.tolist(), strict=True)
        ],
        "removed": [key_pattern(key) for key in draft.removed.tolist()],
        "block_anonymous": draft.block_anonymous,
        "note": draft.note,
        "continued": item.part.resume is not None,
        "token": item.token,
    }


def _campaign(campaign: CampaignState) -> dict[str, Any]:
    window = campaign.window
    return {
        "id": campaign.id,
        "name": campaign.name,
        "description": campaign.description,
        "calling_window": None if window is None else window.to_wire(),
        "group_ids": list(campaign.group_ids),
    }


def _expiry(stamp: int) -> str | None:
    return None if stamp == NEVER else _instant(from_micros(stamp))


def _instant(value: datetime) -> str:
    """RFC 3339 in UTC, as the other answers write instants (`2030-01-31T12:30:00Z`)."""
    return value.isoformat().replace("+00:00", "Z")
