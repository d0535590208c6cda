"""The ASGI application factory: every HTTP surface mounted over one service."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from callblock import metrics
from callblock._version import __version__
from callblock.domain import Scope as KeyScope
from callblock.domain import StoreUnavailable
from callblock.http import docs, problems, schemas, v1
from callblock.http.compat import ca_apis, v2, wire
from callblock.http.limits import BodyLimit, BodyTimeout
from callblock.http.observe import ROUTE_KEY, RequestMetrics
from callblock.http.v1.common import SCOPED
from callblock.service import Service
from callblock.settings import Settings, default_index_dir
from callblock.store import Store
from callblock.store.migrate import ensure_current
from callblock.throttle import RequestRate
from callblock.usecases.check_counts import Retention
from callblock.usecases.check_counts import prune as prune_counts
from callblock.web import routes as web

log = logging.getLogger("callblock.http.app")


def open_service(settings: Settings) -> Service:
    """The service on the configured store, its schema brought up to date where allowed."""
    store = Store.from_url(settings.database_url, settings.sqlite_busy_timeout_seconds)
    ensure_current(store.engine)
    rate = RequestRate(settings.account_requests_per_second, settings.account_request_burst)
    return Service(
        store,
        secret_key=settings.secret_key,
        request_rate=rate,
        auth_failures_allowed=settings.auth_failures_per_minute,
        change_log_retention=timedelta(days=settings.change_log_retention_days),
        index_dir=settings.index_dir or default_index_dir(),
        count_checks=settings.stats_flush_seconds > 0,
    )


class CountFlusher:
    """Writes the checks this process counted every ``interval`` seconds, and once more on
    a clean stop; drops the buckets kept no longer once an hour."""

    PRUNE_EVERY = 3600.0

    def __init__(self, service: Service, interval: float, retention: Retention) -> None:
        self.service = service
        self.interval = interval
        self.retention = retention
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="count-flusher", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        if self.interval > 0:
            self._stop.set()
            self._thread.join(timeout=10)
            self._flush()

    def _flush(self) -> None:
        try:
            self.service.flush_counts()
        except StoreUnavailable as exc:  # kept: written at the next flush
            log.warning("counts not written, kept for the next flush: %s", exc)
        except Exception:
            log.exception("counts not written, kept for the next flush")

    def _run(self) -> None:
        pruned = 0.0
        while not self._stop.wait(self.interval):
            self._flush()
            if time.monotonic() - pruned >= self.PRUNE_EVERY:
                pruned = time.monotonic()
                try:
                    prune_counts(self.service.store, self.retention, self.service.clock())
                except Exception:
                    log.exception("old counts not pruned; retrying in an hour")


class AnyMethod:
    """An endpoint that receives every HTTP method, so that it can answer 405 in its own format.

    Starlette routes a plain function for GET only; an ASGI object is routed for all methods.
    """

    def __init__(self, handler: Callable[[Request], Awaitable[Response]], path: str) -> None:
        self.handler = handler
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # FastAPI names the matched route in the scope for its own routes only.
        scope[ROUTE_KEY] = self.path
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


_SERVICE = "service"
_SERVICE_TAG = {
    "name": _SERVICE,
    "description": "The server itself, for supervisors, load balancers and monitoring: no "
    "credentials.",
}
_READY = {"store": "ok", "index": "loaded"}
_METRICS_EXAMPLE = (
    "# HELP callblock_index_refresh_lag_seconds Seconds since a process last brought its "
    "check index up to date with the store (the worst process, with several).\n"
    "# TYPE callblock_index_refresh_lag_seconds gauge\n"
    "callblock_index_refresh_lag_seconds 0.21\n"
)


def _json_examples(**examples: tuple[str, Any]) -> dict[str, Any]:
    named = {
        name: {"summary": summary, "value": value} for name, (summary, value) in examples.items()
    }
    return {"content": {"application/json": {"examples": named}}}


def _metrics(request: Request) -> Response:
    service: Service = request.app.state.service
    try:  # the registries' ages are the store's, read for each scrape
        now = service.clock()
        ages = [
            (r.account, r.group, (now - r.refreshed_at).total_seconds())
            for r in service.group_refreshes()
        ]
    except StoreUnavailable as exc:  # the process's own metrics still answer
        log.warning("store unreachable: /metrics without the groups' refresh ages: %s", exc)
        ages = None
    body, content_type = metrics.exposition(ages)
    return Response(body, media_type=content_type)


def _healthz() -> schemas.Health:
    return schemas.Health(status="ok")


def _readyz(request: Request) -> Response:
    service: Service = request.app.state.service
    checks = {
        "store": "ok" if service.store_reachable() else "unreachable",
        "index": "loaded" if service.index_loaded else "loading",
    }
    ready = checks == {"store": "ok", "index": "loaded"}
    body = schemas.Health(status="ready" if ready else "not ready", checks=checks)
    return Response(
        body.model_dump_json(), status_code=200 if ready else 503, media_type="application/json"
    )


async def _compat_not_found(_request: Request) -> Response:
    return wire.not_found()


class IndexRefresher:
    """Loads the check index at start, then follows other processes' writes."""

    def __init__(self, service: Service, interval: float) -> None:
        self.service = service
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-refresher", daemon=True)

    def start(self) -> None:
        self.service.listen_for_writes()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.service.stop_listening()

    def _run(self) -> None:
        started = time.monotonic()
        away = False  # the store was unreachable at the last attempt
        while not self._stop.is_set():
            try:
                if self.service.index_loaded:
                    self.service.refresh_index()
                else:
                    self.service.load_index()
            except StoreUnavailable as exc:  # keep serving what is loaded; retry
                if not away:  # once per outage, in a line: it may last
                    log.warning("store unreachable, checks answer from memory: %s", exc)
                away = True
            except Exception:
                log.exception("index refresh failed; retrying")
            else:
                if away:
                    log.warning("store reachable again; the index is current")
                away = False
            self.service.write_key_use()  # at most once a minute; never raises
            refreshed = self.service.index_refreshed_at
            metrics.INDEX_LAG.set(time.monotonic() - (refreshed or started))
            metrics.INDEX_ENTRIES.set(self.service.index_entries())
            # Polling bounds how late a write is seen; an announced write (PostgreSQL) is
            # followed at once.
            self.service.wait_for_writes(self.interval)


def _restore_examples(document: dict[str, Any], routes: list[BaseRoute]) -> None:
    """Put the routes' examples back into the document as they were written.

    FastAPI drops every null from the document it builds, examples' values included: an
    answer's `"next_cursor": null` would be shown without its key, which its schema requires.
    """
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            for status, answer in route.responses.items():
                for media_type, media in answer.get("content", {}).items():
                    if "examples" in media:
                        shown = operation["responses"][str(status)]["content"][media_type]
                        shown["examples"] = media["examples"]
            # `Body(openapi_examples=...)`, `Path(openapi_examples=...)`: FastAPI's parameters.
            body = route.body_field
            examples = None if body is None else getattr(body.field_info, "openapi_examples", None)
            if examples:
                operation["requestBody"]["content"]["application/json"]["examples"] = examples
            parameters = {p["name"]: p for p in operation.get("parameters", [])}
            for field in route.dependant.path_params + route.dependant.query_params:
                examples = getattr(field.field_info, "openapi_examples", None)
                if examples:
                    parameters[field.alias]["examples"] = examples


def _scope_of(dependant: Dependant) -> KeyScope | None:
    """The scope a route's actor dependency asks of the key, if any (``common.SCOPED``)."""
    for dependency in dependant.dependencies:
        scope = SCOPED.get(dependency.call) if dependency.call is not None else None
        if scope is None:
            scope = _scope_of(dependency)
        if scope is not None:
            return scope
    return None


def _mark_scopes(document: dict[str, Any], routes: list[BaseRoute]) -> None:
    """Say of each operation which scope its key needs: ``x-callblock-scope``, a sentence of
    its description, and its 403 answer."""
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        scope = _scope_of(route.dependant)
        if scope is None:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            operation["x-callblock-scope"] = scope.value
            needs = f"Needs an API key with the `{scope.value}` scope (403 without it)."
            operation["description"] = f"{operation.get('description', '')}\n\n{needs}".strip()
            operation["responses"].setdefault("403", problems.responses(403)[403])


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            components = document.setdefault("components", {})
            components.setdefault("schemas", {})["Problem"] = problems.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components.setdefault("securitySchemes", {})["basic"] = {
                "type": "http",
                "scheme": "basic",
                "description": "HTTP Basic `userName:apiKey`",
            }
            # Every operation that reads a JSON body refuses one sent as another media type
            # (``problems.install``): declared here once, for all of them.
            refused_media_type = {str(s): a for s, a in problems.responses(415).items()}
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    if operation.get("security"):
                        operation["security"].append({"basic": []})
                    if "application/json" in operation.get("requestBody", {}).get("content", {}):
                        operation["responses"].update(refused_media_type)
            _restore_examples(document, [*app.routes, *v1.ROUTES])
            _mark_scopes(document, [*app.routes, *v1.ROUTES])
            app.openapi_schema = document
        return app.openapi_schema

    return build


def _stop_with_parent() -> None:
    """In a worker of ``serve --workers N``: shut down gracefully when the supervising
    process dies, even by ``kill -9``, instead of serving on alone from the shared socket."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        log.warning("the supervising process is gone: this worker stops")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    settings = settings or Settings()
    # The multipart parser warns, in raw lines, about every malformed body a client sends:
    # the client gets its 400; the log is not the place for what strangers write.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    owned = service is None
    service = service or open_service(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _stop_with_parent()
        refresher = IndexRefresher(service, settings.index_refresh_seconds)
        refresher.start()
        retention = Retention(
            settings.stats_minute_days, settings.stats_hour_days, settings.stats_day_days
        )
        flusher = CountFlusher(service, settings.stats_flush_seconds, retention)
        flusher.start()
        try:
            yield
        finally:
            flusher.stop()  # what was counted is written before the process goes
            refresher.stop()
            metrics.process_exited()
            if owned:
                service.store.dispose()

    app = FastAPI(
        title="callblock",
        version=__version__,
        description="Block-number groups for contact centres: manage groups of numbers "
        "and prefixes, and ask at call time whether a number is blocked.",
        openapi_tags=[*v1.TAGS, _SERVICE_TAG],
        lifespan=lifespan,
        # `/v1/check/` is not `/v1/check` (a POST-only route): answer 404, not a redirect.
        redirect_slashes=False,
        # Served by `docs`, from files in the package rather than a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.settings = settings
    problems.install(app, formats=(wire.FORMAT,))
    app.include_router(v1.router)
    app.include_router(web.router)
    docs.install(app)
    app.add_api_route(
        "/healthz",
        _healthz,
        methods=["GET"],
        operation_id="health",
        summary="Liveness",
        description="Answers 200 while the process serves requests, whatever the store: for a "
        "supervisor deciding whether to restart it. No credentials.",
        tags=[_SERVICE],
        response_model=schemas.Health,
        responses={200: _json_examples(ok=("Serving", {"status": "ok", "checks": {}}))},
    )
    app.add_api_route(
        "/metrics",
        _metrics,
        methods=["GET"],
        operation_id="metrics",
        summary="Prometheus metrics: requests, checks, the check index and imports",
        description="The Prometheus text format, summed over the worker processes of this "
        "node: requests by route and status, checks, the check index's size and lag, imports; "
        "and, read from the store at each scrape, the age of every group's last import from a "
        "file (`callblock_group_refresh_age_seconds{account,group}`). "
        "No credentials: expose it to the monitoring network only.",
        tags=[_SERVICE],
        response_class=PlainTextResponse,
        responses={
            200: {
                "content": {
                    "text/plain": {"schema": {"type": "string"}, "example": _METRICS_EXAMPLE}
                }
            }
        },
    )
    app.add_api_route(
        "/readyz",
        _readyz,
        methods=["GET"],
        operation_id="readiness",
        summary="Readiness: the store answers and the check index is loaded",
        description="200 when the database answers and the check index is loaded, so that a "
        "load balancer sends traffic only then; 503 with the failing check otherwise (a node "
        "keeps answering checks from memory while the store is away). No credentials.",
        tags=[_SERVICE],
        response_model=schemas.Health,
        responses={
            200: _json_examples(ready=("Ready", {"status": "ready", "checks": _READY})),
            503: {
                "model": schemas.Health,
                "description": "Not ready",
                **_json_examples(
                    loading=(
                        "The check index is still loading",
                        {"status": "not ready", "checks": {**_READY, "index": "loading"}},
                    )
                ),
            },
        },
    )
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        bulk=settings.max_batch_body_bytes,
        exempt=wire.PATH_PREFIXES,
    )
    app.add_middleware(
        BodyTimeout,
        default=settings.body_timeout_seconds,
        upload=settings.upload_timeout_seconds,
        formats=(wire.FORMAT,),
    )
    app.add_middleware(RequestMetrics)  # outermost: it counts what every other layer answers
    compat = {v2.PATH: v2.endpoint, **ca_apis.ENDPOINTS}
    for path, endpoint in compat.items():
        app.router.routes.append(Route(path, AnyMethod(endpoint, path), include_in_schema=False))
    for prefix in wire.PATH_PREFIXES:
        app.router.routes.append(
            Route(
                prefix + "{rest:path}",
                AnyMethod(_compat_not_found, prefix + "{rest:path}"),
                include_in_schema=False,
            )
        )
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn's ``--factory``: settings from ``CALLBLOCK_*`` variables."""
    return create_app(Settings())
