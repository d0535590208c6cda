"""``/CAServicesV3/blockNumberGroupV2.php``: HTTP Basic, group named by ``Id``/``id``."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callblock.domain import Actor, AuthenticationFailed, Scope, Surface
from callblock.http.compat import operations
from callblock.http.compat.body import Fields, read_fields
from callblock.http.compat.errors import MethodNotAllowed
from callblock.http.compat.handling import answer_errors
from callblock.http.credentials import basic_credentials, client_address
from callblock.service import Service
from callblock.settings import Settings

PATH = "/CAServicesV3/blockNumberGroupV2.php"

_OPERATIONS: dict[str, Callable[[Service, Actor, Fields], Response]] = {
    "POST": operations.create,
    "PUT": operations.add,
    "DELETE": operations.remove,
}


async def endpoint(request: Request) -> Response:
    service: Service = request.app.state.service
    settings: Settings = request.app.state.settings
    async with answer_errors() as answer:
        operation = _OPERATIONS.get(request.method)
        if operation is None:
            raise MethodNotAllowed
        credentials = basic_credentials(request.headers.get("authorization"))
        if credentials is None:
            raise AuthenticationFailed
        actor = await run_in_threadpool(
            service.authenticate,
            credentials[0],
            credentials[1],
            Surface.COMPAT_V2,
            client_address(request),
        )
        actor.require(Scope.WRITE)  # every compat endpoint changes block lists
        fields = await read_fields(
            request, settings.max_body_bytes, with_query=request.method == "DELETE"
        )
        answer.fields = fields
        answer.response = await run_in_threadpool(operation, service, actor, fields)
    return answer.response
