"""The compat wire format: every body the compat endpoints send is built here, and only here.

Keys may be added to these bodies in future; none may be removed or renamed (the misspelt
``succes`` of create/update is part of the format).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from callblock.domain import FieldProblem, InvalidInput, ProblemCode
from callblock.http.formats import WireFormat
from callblock.rules import (
    COMPAT_NUMBERS_PER_REQUEST,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    NAME_MAX,
    NAME_MIN,
)
from callblock.service import GroupCreated, NumbersAdded, NumbersRemoved

MEDIA_TYPE = "application/json"
# Every path under these is answered in this format, a path that matches no route included.
PATH_PREFIXES = ("/CAServicesV3/", "/ca_apis/")


def response(status: int, body: dict[str, Any]) -> Response:
    # Lone surrogates can arrive in JSON input and be echoed; backslashreplace writes them
    # back as \\uXXXX escapes, which is what JSON calls them, instead of failing to encode.
    text = json.dumps(body, ensure_ascii=False)
    return Response(text.encode("utf-8", "backslashreplace"), status, media_type=MEDIA_TYPE)


def error(status: int, message: str) -> Response:
    return response(status, {"status": "error", "message": message})


def too_many_requests(retry_after: int) -> Response:
    answer = error(429, "Too many requests")
    answer.headers["Retry-After"] = str(retry_after)
    return answer


def authentication_failed() -> Response:
    return error(401, "Authentication failed")


def key_not_allowed() -> Response:
    """A valid key without the ``write`` scope: the compat endpoints all change lists."""
    return error(403, KEY_NOT_ALLOWED)


KEY_NOT_ALLOWED = "API key not allowed to change block lists"


def request_timeout() -> Response:
    return error(408, "Request timeout")


def method_not_allowed() -> Response:
    return error(405, "Method not allowed")


def not_found() -> Response:
    return error(404, "Not found")


# What the shell answers on compat paths before any compat route does (see http.formats).
FORMAT = WireFormat(PATH_PREFIXES, not_found=not_found, timed_out=request_timeout)


def invalid_body() -> Response:
    return error(400, "Invalid request body")


def body_too_large() -> Response:
    return error(413, "Request body too large")


def parameters_mandatory() -> Response:
    return error(400, "Parameters are mandatory")


def invalid_group_id() -> Response:
    return error(404, "Invalid group id")


def unavailable() -> Response:
    return error(503, "Service unavailable")


def internal_error() -> Response:
    return error(500, "Internal error")


def token_expired() -> Response:
    return response(401, {"status": "false", "message": "Token Expired", "data": None})


def token_refused(status: int, message: str) -> Response:
    """The token endpoint's own error shape."""
    return response(status, {"status": "false", "message": message, "data": None})


def token_issued(token: str) -> Response:
    return response(200, {"token": token, "message": ""})


def _shown(value: Any) -> str:
    """A field value as the client sent it, for messages like ``Name (<value>) ...``."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _message(problem: FieldProblem) -> str:
    match problem.field, problem.code:
        case "name", ProblemCode.LENGTH:
            shown = _shown(problem.value)
            return f"Name ({shown}) allows {NAME_MIN} to {NAME_MAX} characters only"
        case "description", ProblemCode.LENGTH:
            shown = _shown(problem.value)
            return (
                f"Description ({shown}) allows {DESCRIPTION_MIN} to {DESCRIPTION_MAX} "
                "characters only"
            )
        case _, ProblemCode.INVALID_NUMBERS:
            return "Blocknumbers data contains invalid format of numbers"
        case _, ProblemCode.TOO_MANY_NUMBERS:
            return f"Maximum {COMPAT_NUMBERS_PER_REQUEST} numbers are allowed per request"
        case _, ProblemCode.NO_NUMBERS:
            return "BlockNumbers is required"
        case _, ProblemCode.EXPIRY:
            return "expiryDate must be a future date in YYYY-MM-DD HH:MM:SS format"
        case _:
            return f"{problem.field} is invalid"


def invalid_data(exc: InvalidInput) -> Response:
    body: dict[str, Any] = {
        "status": "error",
        "message": "invalid data",
        "errors": {p.field: _message(p) for p in exc.problems},
    }
    if exc.invalid_numbers:
        body["invalidNumbers"] = exc.invalid_numbers
    return response(400, body)


def name_exists(name_as_sent: Any) -> Response:
    return response(
        409,
        {
            "status": "error",
            "message": "invalid data",
            "errors": {"name": f"Name ({_shown(name_as_sent)}) already exists"},
        },
    )


def created(name: Any, description: Any, numbers: list[Any], result: GroupCreated) -> Response:
    return response(
        200,
        {
            "status": "success",
            "message": "created",
            "input": {"name": name, "description": description, "blockNumbers": numbers},
            "output": {
                "affectedRows": 1,
                "lastInsertId": result.group.id,
                "succes": result.stored,
                "error": [n.raw for n in result.repeats],
            },
        },
    )


def updated(numbers: list[Any], result: NumbersAdded) -> Response:
    return response(
        200,
        {
            "status": "success",
            "message": "updated",
            "input": {"id": result.group.id, "blockNumbers": numbers},
            "output": {
                "succes": result.written,
                "error": [n.raw for n in result.repeats],
                "new": result.new,
                "inserted": result.inserted,
            },
        },
    )


def deleted(numbers: list[Any], result: NumbersRemoved) -> Response:
    return response(
        200,
        {
            "status": "success",
            "message": "deleted",
            "input": {"id": result.group_id, "blockNumbers": numbers},
            "output": {
                "success": result.found,
                "error": [n.raw for n in result.missing],
                "deleted": result.deleted,
            },
        },
    )
