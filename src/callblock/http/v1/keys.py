"""`/v1/keys`: the account's API keys, each with a label and scopes, for `admin` keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from callblock.domain import scopes_text
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX, AdminActorDep, ServiceDep
from callblock.rules import LARGEST_ID
from callblock.usecases.results import IssuedKey, KeyInfo

router = APIRouter(prefix=PREFIX, tags=["keys"])

KeyId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="The key's id.")]


def _key_public(key: KeyInfo) -> schemas.KeyPublic:
    return schemas.KeyPublic(
        id=key.key_id,
        label=key.label,
        scopes=scopes_text(key.scopes).split(","),
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def _issued_public(issued: IssuedKey) -> schemas.KeyIssued:
    assert issued.created_at is not None
    return schemas.KeyIssued(
        id=issued.key_id,
        label=issued.label,
        scopes=scopes_text(issued.scopes).split(","),
        prefix=issued.key[:12],
        created_at=issued.created_at,
        revoked_at=None,
        key=issued.key,
    )


@router.get(
    "/keys",
    operation_id="listKeys",
    summary="List the account's API keys",
    description="Every key of the calling account, revoked ones too, oldest first: label, "
    "scopes, first characters, when created, last used (late by up to a minute) and revoked. "
    "Never the keys themselves.",
    response_model=schemas.KeysPublic,
    responses={**examples.LIST_KEYS, **responses(401, 503)},
)
def list_keys(actor: AdminActorDep, service: ServiceDep) -> schemas.KeysPublic:
    keys = service.keys_of(actor)
    return schemas.KeysPublic(data=[_key_public(k) for k in keys], count=len(keys))


@router.post(
    "/keys",
    operation_id="createKey",
    summary="Issue an API key",
    description="A new key of the calling account with a label and scopes; the answer holds "
    "the key itself, shown this once. `scopes` names one or more of `check`, `read`, `write` "
    "and `admin`: `write` includes `read`, which includes `check`. A scope that is not one, "
    "none, or a label over 64 characters or with control characters is 422. Audited.",
    status_code=201,
    response_model=schemas.KeyIssued,
    responses={**examples.CREATED_KEY, **responses(400, 401, 413, 422, 503)},
)
def create_key(
    body: Annotated[schemas.KeyCreate, Body(openapi_examples=examples.CREATE_KEY)],
    actor: AdminActorDep,
    service: ServiceDep,
) -> schemas.KeyIssued:
    return _issued_public(service.issue_key_as(actor, body.label, body.scopes))


@router.delete(
    "/keys/{key_id}",
    operation_id="revokeKey",
    summary="Revoke an API key",
    description="The key stops working on every node within a second or two, and so do the "
    "tokens made with it. Revoking a revoked key answers 204 again; a key of another account, "
    "or none, is 404. The key making the request may revoke itself. Audited.",
    status_code=204,
    response_class=Response,
    responses=responses(401, 404, 422, 503),
)
def revoke_key(key_id: KeyId, actor: AdminActorDep, service: ServiceDep) -> Response:
    service.revoke_key_as(actor, key_id)
    return Response(status_code=204)
