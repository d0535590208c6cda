"""Request metrics: every HTTP answer counted and timed by route template, method and status."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callblock import metrics

# Where a route that FastAPI does not name in the scope (the compat endpoints) names itself.
ROUTE_KEY = "callblock.route"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """ASGI middleware feeding ``metrics.REQUESTS`` and ``metrics.LATENCY``.

    Labels are the matched route's template (``/v1/groups/{group_id}``), never the raw path,
    and methods outside the usual ones count as ``other``: a scan of random URLs and methods
    must not make a label per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before starting a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or scope.get(ROUTE_KEY, "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "other"
            metrics.REQUESTS.labels(route, method, str(status)).inc()
            metrics.LATENCY.labels(route, method).observe(time.perf_counter() - started)
