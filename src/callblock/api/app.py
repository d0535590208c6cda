"""The ASGI application factory: every HTTP surface mounted over one service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from callblock import __version__
from callblock.compat import ca_apis, v2, wire
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store.migrate import ensure_current

COMPAT_PREFIXES = ("/CAServicesV3", "/ca_apis")


def open_service(settings: Settings) -> Service:
    """The service on the configured store, its schema brought up to date where allowed."""
    store = Store.from_url(settings.database_url)
    ensure_current(store.engine)
    return Service(store, secret_key=settings.secret_key)


class AnyMethod:
    """An endpoint that receives every HTTP method, so that it can answer 405 in its own format.

    Starlette routes a plain function for GET only; an ASGI object is routed for all methods.
    """

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


async def _compat_not_found(_request: Request) -> Response:
    return wire.not_found()


async def _healthz(_request: Request) -> Response:
    return Response(b'{"status": "ok"}', media_type="application/json")


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    settings = settings or Settings()
    owned = service is None
    service = service or open_service(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            service.store.dispose()

    app = FastAPI(title="callblock", version=__version__, lifespan=lifespan)
    app.state.service = service
    app.state.settings = settings
    compat = {v2.PATH: v2.endpoint, **ca_apis.ENDPOINTS}
    for path, endpoint in compat.items():
        app.router.routes.append(Route(path, AnyMethod(endpoint), include_in_schema=False))
    for prefix in COMPAT_PREFIXES:
        app.router.routes.append(
            Route(prefix + "/{rest:path}", AnyMethod(_compat_not_found), include_in_schema=False)
        )
    app.add_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn's ``--factory``: settings from ``CALLBLOCK_*`` variables."""
    return create_app(Settings())
