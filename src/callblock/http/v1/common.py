"""What every `/v1` resource shares: who is calling (authentication as a dependency), the
service, path and paging parameters, opaque cursors, and the one-field validation error."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from callblock.domain import (
    Actor,
    CredentialsMissing,
    FieldProblem,
    InvalidCursor,
    InvalidInput,
    ProblemCode,
    Scope,
    Surface,
)
from callblock.http.credentials import basic_credentials, bearer_token, client_address
from callblock.rules import CURSOR_MAX, LARGEST_ID, PAGE_MAX
from callblock.service import Service

# Declared for the OpenAPI document (HTTP Basic is added beside it there); credentials are
# read by `current_actor` itself, so that every failure is a 401 problem of one of two kinds:
# none sent (how to send a key), or the ones sent refused.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="`Authorization: Bearer <API key>`"
)

# On each resource's own router, not on one that includes them: a route's template, as the
# request metrics read it (``scope["route"].path``), is the path its own router gave it.
PREFIX = "/v1"
_SCHEMES = frozenset({"bearer", "basic"})


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


# The admin page marks its own requests with this header: the history names the page as
# their surface, not the API.
CLIENT_HEADER = "x-callblock-client"


def _surface(request: Request) -> Surface:
    return Surface.PAGE if request.headers.get(CLIENT_HEADER) == "page" else Surface.V1


async def current_actor(
    request: Request,
    _declared: Annotated[object, Depends(_bearer)],
) -> Actor:
    """Whoever the credentials name, whatever their key may do (see ``SCOPED``)."""
    service = _service(request)
    surface = _surface(request)
    header = request.headers.get("authorization")
    basic = basic_credentials(header)
    address = client_address(request)
    if basic is not None:
        return await run_in_threadpool(service.authenticate, basic[0], basic[1], surface, address)
    key = bearer_token(header)
    # `Authorization: Bearer` and nothing after it (`curl -H "Authorization: Bearer $KEY"`
    # with KEY unset) sent no key: the scheme's name is not one.
    if key is None or key.lower() in _SCHEMES:
        raise CredentialsMissing
    cached = service.cached_actor(key, surface)
    if cached is not None:
        return cached
    return await run_in_threadpool(service.authenticate_key, key, surface, address)


async def _checking_actor(
    request: Request,
    _declared: Annotated[object, Depends(_bearer)],
) -> Actor:
    """Credentials for the checks: a key this process knows answers at once (see
    ``Service.checking_actor``); any other goes through ``current_actor``."""
    key = bearer_token(request.headers.get("authorization"))
    if key is not None:
        known = _service(request).checking_actor(key, _surface(request))
        if known is not None:
            known.require(Scope.CHECK)
            return known
    actor = await current_actor(request, _declared)
    actor.require(Scope.CHECK)
    return actor


def _scoped(scope: Scope) -> Callable[..., Awaitable[Actor]]:
    async def actor_in_scope(
        request: Request, _declared: Annotated[object, Depends(_bearer)]
    ) -> Actor:
        actor = await current_actor(request, _declared)
        actor.require(scope)
        return actor

    actor_in_scope.__name__ = f"actor_in_{scope.value}_scope"
    return actor_in_scope


# Which scope each dependency asks of the key: the OpenAPI document says it of each
# operation (``docs``), read from the operation's dependencies.
_IN_CHECK, _IN_READ, _IN_WRITE, _IN_ADMIN = (_scoped(s) for s in Scope)
SCOPED: dict[Callable[..., Awaitable[Actor]], Scope] = {
    _checking_actor: Scope.CHECK,
    _IN_CHECK: Scope.CHECK,
    _IN_READ: Scope.READ,
    _IN_WRITE: Scope.WRITE,
    _IN_ADMIN: Scope.ADMIN,
}

# A route names what it does by the actor it takes: a key without that scope gets 403.
CheckingActorDep = Annotated[Actor, Depends(_checking_actor)]  # checks, never waiting
CheckScopeActorDep = Annotated[Actor, Depends(_IN_CHECK)]  # the change feed
ReadingActorDep = Annotated[Actor, Depends(_IN_READ)]
WritingActorDep = Annotated[Actor, Depends(_IN_WRITE)]
AdminActorDep = Annotated[Actor, Depends(_IN_ADMIN)]
AnyActorDep = Annotated[Actor, Depends(current_actor)]  # any valid key (GET /v1/account)
ServiceDep = Annotated[Service, Depends(_service)]
GroupId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="The group's id.")]
Cursor = Annotated[str | None, Query(max_length=CURSOR_MAX, description="From `next_cursor`.")]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="Page size.")]


def listing_of(kind: str, *filters: object) -> str:
    """A listing's identity: its kind and its filters, so that a cursor is refused by any
    other listing, the same one with other filters included."""
    digest = hashlib.sha256(repr(filters).encode()).hexdigest()[:12]
    return f"{kind}-{digest}"


def next_cursor(listing: str, after: int | None) -> str | None:
    """An opaque cursor naming its listing."""
    if after is None:
        return None
    return base64.urlsafe_b64encode(f"{listing}:{after}".encode()).decode().rstrip("=")


def cursor_position(listing: str, cursor: str | None) -> int | None:
    """Where a cursor of this listing points; `InvalidCursor` for any other text."""
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
    if abs(after) > LARGEST_ID:
        raise InvalidCursor
    return after


def invalid(field: str, detail: str, value: object = None) -> InvalidInput:
    return InvalidInput([FieldProblem(field, ProblemCode.INVALID, value, detail)])
