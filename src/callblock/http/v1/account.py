"""`/v1/account`: the calling account, and the settings it may change itself."""

from __future__ import annotations

from fastapi import APIRouter

from callblock.domain import Actor
from callblock.http import schemas
from callblock.http.problems import responses
from callblock.http.v1.common import PREFIX, ActorDep, ServiceDep

router = APIRouter(prefix=PREFIX)


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
        account = service.set_block_anonymous(actor, body.block_anonymous)
    return _account_public(Actor(account, actor.key_id, actor.surface))
