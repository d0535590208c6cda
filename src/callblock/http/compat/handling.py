"""The one place where errors become compat answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.requests import ClientDisconnect
from starlette.responses import Response

from callblock.domain import (
    AuthenticationFailed,
    GroupNotFound,
    InvalidInput,
    NameTaken,
    ScopeMissing,
    StoreUnavailable,
    TokenAuthDisabled,
    TokenExpired,
    TokenLimitExceeded,
    TooManyRequests,
)
from callblock.http.compat import wire
from callblock.http.compat.body import Fields
from callblock.http.compat.errors import (
    BodyTooLarge,
    InvalidBody,
    MethodNotAllowed,
    MissingParameters,
    MissingUsername,
)

log = logging.getLogger("callblock.http.compat")


@dataclass(slots=True)
class Answer:
    response: Response = field(default_factory=wire.internal_error)
    fields: Fields = field(default_factory=dict)


def to_response(exc: Exception, fields: Fields) -> Response:
    match exc:
        case MethodNotAllowed():
            return wire.method_not_allowed()
        case AuthenticationFailed():
            return wire.authentication_failed()
        case ScopeMissing():
            return wire.key_not_allowed()
        case TooManyRequests():
            return wire.too_many_requests(exc.retry_after)
        case TokenExpired():
            return wire.token_expired()
        case BodyTooLarge():
            return wire.body_too_large()
        case InvalidBody():
            return wire.invalid_body()
        case MissingParameters():
            return wire.parameters_mandatory()
        case InvalidInput():
            return wire.invalid_data(exc)
        case GroupNotFound():
            return wire.invalid_group_id()
        case NameTaken():
            return wire.name_exists(fields.get("name", exc.name))
        case ClientDisconnect():
            log.info("client disconnected before its body was read")
            return wire.invalid_body()  # nobody reads it; a status for the access log
        case StoreUnavailable():
            log.warning("store unavailable: %s", exc)
            return wire.unavailable()
        case _:
            log.exception("unexpected failure on a compat endpoint", exc_info=exc)
            return wire.internal_error()


def to_token_response(exc: Exception, fields: Fields) -> Response:
    """The token endpoint answers its own refusals in its own shape."""
    match exc:
        case MissingUsername():
            return wire.token_refused(400, "UserName is null")
        case AuthenticationFailed():
            return wire.token_refused(401, "Invalid userName or apiKey")
        case TokenAuthDisabled():
            return wire.token_refused(403, "Token authentication is not enabled")
        case ScopeMissing():
            return wire.token_refused(403, wire.KEY_NOT_ALLOWED)
        case TokenLimitExceeded():
            return wire.token_refused(429, "Token generation limit exceeded")
        case _:
            return to_response(exc, fields)


@asynccontextmanager
async def answer_errors(
    mapping: Callable[[Exception, Fields], Response] = to_response,
) -> AsyncIterator[Answer]:
    """Run an endpoint body; any exception becomes its documented compat answer."""
    answer = Answer()
    try:
        yield answer
    except Exception as exc:
        answer.response = mapping(exc, answer.fields)
