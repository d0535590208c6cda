"""The ``/ca_apis/...`` endpoints: ``userName`` in the body, credential by the account's mode.

An account in ``BASIC_AUTH`` mode sends an ``apiKey`` header; one in ``TOKEN_AUTH`` mode sends
``Authorization: Bearer <token>`` (or the bare token) from ``/ca_apis/CAToken/generateToken``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callblock.domain import Actor, AuthenticationFailed, Scope, Surface
from callblock.http.compat import operations, wire
from callblock.http.compat.body import Fields, read_fields
from callblock.http.compat.errors import MethodNotAllowed, MissingUsername
from callblock.http.compat.handling import answer_errors, to_token_response
from callblock.http.credentials import bearer_token, client_address
from callblock.service import Service
from callblock.settings import Settings

Operation = Callable[[Service, Actor, Fields], Response]
Endpoint = Callable[[Request], Awaitable[Response]]

USERNAME_FIELD = "userName"
TOKEN_PATH = "/ca_apis/CAToken/generateToken"


def _username(fields: Fields) -> str | None:
    value = fields.get(USERNAME_FIELD)
    return value if isinstance(value, str) and value.strip() else None


def _endpoint(method: str, operation: Operation) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        service: Service = request.app.state.service
        settings: Settings = request.app.state.settings
        async with answer_errors() as answer:
            if request.method != method:
                raise MethodNotAllowed
            fields = await read_fields(
                request, settings.max_body_bytes, with_query=method == "DELETE"
            )
            answer.fields = fields
            username = _username(fields)
            if username is None:
                raise AuthenticationFailed
            actor = await run_in_threadpool(
                service.authenticate_by_mode,
                username,
                request.headers.get("apikey"),
                bearer_token(request.headers.get("authorization")),
                Surface.COMPAT_CA_APIS,
                client_address(request),
            )
            actor.require(Scope.WRITE)  # every compat endpoint changes block lists
            answer.response = await run_in_threadpool(operation, service, actor, fields)
        return answer.response

    return endpoint


async def generate_token(request: Request) -> Response:
    service: Service = request.app.state.service
    settings: Settings = request.app.state.settings
    async with answer_errors(to_token_response) as answer:
        if request.method != "POST":
            raise MethodNotAllowed
        fields = await read_fields(request, settings.max_body_bytes, with_query=False)
        answer.fields = fields
        username = _username(fields)
        if username is None:
            raise MissingUsername
        api_key = request.headers.get("apikey")
        if not api_key:
            raise AuthenticationFailed
        token = await run_in_threadpool(
            service.issue_token, username, api_key, client_address(request)
        )
        answer.response = wire.token_issued(token)
    return answer.response


_create = _endpoint("POST", operations.create)
_update = _endpoint("PUT", partial(operations.add, by_name=True))
_delete = _endpoint("DELETE", partial(operations.remove, by_name=True, group_optional=True))

ENDPOINTS: dict[str, Endpoint] = {
    "/ca_apis/createBlockNumber": _create,
    "/ca_apis/updateBlockNumbers": _update,
    "/ca_apis/updateBlockNumber": _update,
    "/ca_apis/deleteBlockNumber": _delete,
    "/ca_apis/deleteBlockNumberGroup": _delete,
    TOKEN_PATH: generate_token,
}
