"""RFC 9457 problem details: the one place where errors become `/v1` answers."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path

from callblock.domain import (
    AuthenticationFailed,
    AuthThrottled,
    CampaignNameTaken,
    CampaignNotFound,
    CredentialsMissing,
    DomainError,
    GroupKindMismatch,
    GroupNotFound,
    InvalidChangeToken,
    InvalidCursor,
    InvalidInput,
    KeyNotFound,
    NameTaken,
    RateLimited,
    ScopeMissing,
    StoreUnavailable,
)
from callblock.http.formats import WireFormat, owner
from callblock.http.schemas import RejectedLinePublic

MEDIA_TYPE = "application/problem+json"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="callblock", Basic realm="callblock"'}
# The same text whether or not the username exists, and whichever of them was wrong.
CREDENTIALS_REFUSED = (
    "The credentials sent were refused: the API key is wrong or revoked, or is not a key of "
    "the username given. Send a current key of the account as `Authorization: Bearer <key>` "
    "or HTTP Basic user:key."
)
# A media type as RFC 9110 spells one (`type/subtype`), to be named back in a problem.
_MEDIA_TYPE_TEXT = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")
# RFC 5789 (PATCH) and the Accept-Post field: what a body-taking method accepts instead.
_ACCEPTS = {"PATCH": "Accept-Patch", "POST": "Accept-Post"}
# Loggers are named after their modules, under "callblock" (which logging set-ups select).
log = logging.getLogger("callblock.http.problems")

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """An error, as RFC 9457 describes it; ``errors`` names each invalid field."""

    type: str = Field(description="A URN naming the kind of problem.")
    title: str
    status: int
    detail: str
    errors: dict[str, str] | None = Field(
        default=None,
        description="Per invalid field (dotted path; an item of a list by its position, "
        "`numbers.0`), what is wrong with it.",
    )
    invalid_lines: list[RejectedLinePublic] | None = Field(
        default=None,
        description="An import refused for its invalid lines: the first of them "
        "(`type` `urn:callblock:problem:invalid-lines`).",
    )


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    kind = kind or _TITLES.get(status, "error").lower().replace(" ", "-")
    body: dict[str, Any] = {
        "type": f"urn:callblock:problem:{kind}",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return _ProblemResponse(
        body, status_code=status, media_type=MEDIA_TYPE, headers=dict(headers or {})
    )


class _ProblemResponse(JSONResponse):
    """A problem body may echo input (an invalid line of an import) holding lone surrogates,
    which have no UTF-8 form: they are written as the \\uXXXX escapes JSON calls them."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


def from_domain(exc: DomainError) -> Response:
    match exc:
        case CredentialsMissing():
            return problem(
                401,
                "Send an API key as `Authorization: Bearer <key>` or HTTP Basic user:key.",
                headers=_CHALLENGE,
            )
        case AuthenticationFailed():
            return problem(
                401,
                CREDENTIALS_REFUSED,
                kind="credentials-refused",
                title="Credentials refused",
                headers=_CHALLENGE,
            )
        case ScopeMissing():
            held = ", ".join(sorted(s.value for s in exc.held)) or "none"
            return problem(
                403,
                f"This API key may not do this: it needs the `{exc.needed.value}` scope, and "
                f"holds {held}. An admin key issues keys with more scopes (POST /v1/keys).",
                kind="scope-missing",
                extra={"needed_scope": exc.needed.value},
            )
        case AuthThrottled():
            return problem(
                429,
                "Too many failed authentications for this user or from this address; "
                "wait Retry-After seconds.",
                kind="too-many-failed-authentications",
                headers={"Retry-After": str(exc.retry_after)},
            )
        case RateLimited():
            return problem(
                429,
                "This account sent requests faster than its rate; wait Retry-After seconds.",
                kind="rate-limited",
                headers={"Retry-After": str(exc.retry_after)},
            )
        case GroupNotFound():
            return problem(404, "No such group.", kind="group-not-found")
        case KeyNotFound():
            return problem(404, "No such API key of this account.", kind="key-not-found")
        case CampaignNotFound():
            return problem(404, "No such campaign.", kind="campaign-not-found")
        case CampaignNameTaken():
            return problem(
                409,
                f"A campaign named {exc.name!r} already exists.",
                kind="name-taken",
                errors={"name": "already exists"},
            )
        case GroupKindMismatch():
            return problem(
                422,
                "Some fields are invalid.",
                kind="validation",
                errors={"consent_overrides": exc.detail},
            )
        case NameTaken():
            return problem(
                409,
                f"A group named {exc.name!r} already exists.",
                kind="name-taken",
                errors={"name": "already exists"},
            )
        case InvalidInput():
            errors = {p.field: p.detail or p.code.value for p in exc.problems}
            return problem(422, "Some fields are invalid.", kind="validation", errors=errors)
        case InvalidCursor():
            return problem(
                422, "Invalid cursor.", kind="validation", errors={"cursor": "not a cursor"}
            )
        case InvalidChangeToken():
            return problem(
                400,
                "`since` is not a change token this account was given: pass a `next` or a "
                "`token` from an answer of GET /v1/changes, or start without `since`.",
                kind="invalid-change-token",
                errors={"since": "not a change token of this account"},
            )
        case StoreUnavailable():
            log.warning("store unavailable: %s", exc)
            return problem(503, "The database is unavailable; try again shortly.")
        case _:
            log.error("unmapped domain error: %r", exc)
            return problem(500, "Internal error.")


def _field(loc: tuple[Any, ...], body: Any) -> str:
    """The dotted path of an invalid field, as the client sent it. Where the body holds a
    scalar, pydantic goes on naming the branches of a union it tried (``numbers.0.str``,
    ``numbers.0.int``): those name nothing the client sent, and are left out."""
    source, *path = loc or ("body",)
    if source not in ("body", "query", "path", "header"):
        path = [source, *path]
    parts: list[str] = []
    value = body if source == "body" else None
    for part in path:
        if source == "body":
            if isinstance(value, dict) and isinstance(part, str):
                value = value.get(part)
            elif isinstance(value, list) and isinstance(part, int):
                value = value[part] if 0 <= part < len(value) else None
            elif parts:
                break  # past a scalar: a union branch's name
        parts.append(str(part))
    return ".".join(parts) or "body"


def install(app: FastAPI, formats: tuple[WireFormat, ...]) -> None:
    """Map every error of the non-compat routes to a problem answer; a path no route matches
    under one of ``formats`` is answered in that format."""

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        answer = from_domain(exc)
        if isinstance(exc, AuthenticationFailed) and request.headers.get("x-requested-with"):
            # A script (the admin page) handles a 401 itself: a Basic challenge would make
            # the browser open its own password dialog over the page.
            answer.headers["WWW-Authenticate"] = 'Bearer realm="callblock"'
        return answer

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, "The body is not valid JSON.", kind="malformed-json")
        if isinstance(exc.body, bytes | bytearray) and any(
            tuple(e.get("loc", ()))[:1] == ("body",) for e in errors
        ):
            # FastAPI reads a body as JSON only under a JSON Content-Type, and hands any other
            # over as bytes, which no model takes ("Input should be a valid dictionary"):
            # what is wrong is the header, whatever the body holds.
            return _not_json(request)
        messages: dict[str, list[str]] = {}
        for error in errors:
            message = str(error.get("msg")).removeprefix("Value error, ")
            found = messages.setdefault(_field(tuple(error.get("loc", ())), exc.body), [])
            if message not in found:
                found.append(message)
        # Each branch of a union that failed at one position: all of them, in one message.
        fields = {name: "; or ".join(found) for name, found in messages.items()}
        return problem(422, "Some fields are invalid.", kind="validation", errors=fields)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and (wire := owner(formats, request.url.path)) is not None:
            # A compat path no route matched (one with a line break in it, say): the compat
            # 404, as for any other unknown compat path.
            return wire.not_found()
        if exc.status_code == 405:
            # Starlette names only the first route's methods; a path served by several
            # routes (GET and POST /v1/groups) allows them all.
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return problem(exc.status_code, detail, headers=headers)

    async def on_anything(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected failure", exc_info=exc)
        return problem(500, "Internal error.")

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_anything)


def _not_json(request: Request) -> Response:
    """415 for a body sent under a media type other than JSON (`curl -d` sends
    application/x-www-form-urlencoded): the header to send instead, named."""
    header = request.headers.get("content-type")
    media_type = (header or "").split(";", 1)[0].strip()
    if not header:
        sent = "without a Content-Type"
    elif _MEDIA_TYPE_TEXT.fullmatch(media_type):
        sent = f"as `{media_type.lower()}`"
    else:
        sent = "with a Content-Type that is not a media type"
    detail = (
        f"The body came {sent}: this operation reads a JSON body, sent with the header "
        "`Content-Type: application/json` (with curl: `--json '{...}'`, or "
        "`-H 'Content-Type: application/json' -d '{...}'`; `-d` alone sends a form)."
    )
    accepts = _ACCEPTS.get(request.method.upper())
    headers = {accepts: "application/json"} if accepts else None
    return problem(415, detail, headers=headers)


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods the OpenAPI document serves on the request's path."""
    allowed: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern, _, _ = compile_path(template)
        if pattern.match(request.url.path):
            allowed.update(method.upper() for method in operations)
    return sorted(allowed)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem answers a route can give. A route that
    authenticates can also answer 429 (limits), one that takes a body 408 (body timeout)."""
    schema = {"$ref": "#/components/schemas/Problem"}
    implied = {429} if 401 in statuses else set()
    if 413 in statuses:
        implied.add(408)
    declared: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, *implied}):
        declared[status] = {
            "description": _TITLES.get(status, "Error"),
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        if status == 429:
            declared[status]["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer"},
                }
            }
    return declared
