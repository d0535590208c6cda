"""Request body limits for the non-compat routes (the compat endpoints enforce their own)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callblock.api.problems import problem

COMPAT_PREFIXES = ("/CAServicesV3", "/ca_apis")
# Routes that take big batches: the batch check (up to 100,000 numbers).
BULK_ROUTES = {("POST", "/v1/check")}
FILE_ROUTES = {"/v1/scrub"}


class BodyLimit:
    """Refuse bodies over the limit with 413, declared (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, *, default: int, bulk: int) -> None:
        self.app = app
        self.default = default
        self.bulk = bulk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        # Compat endpoints and file uploads enforce their own limits.
        if (
            scope["type"] != "http"
            or path.startswith(COMPAT_PREFIXES)
            or path in FILE_ROUTES
            or path.endswith(":import")
        ):
            await self.app(scope, receive, send)
            return
        limit = self.bulk if (scope["method"], path) in BULK_ROUTES else self.default
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            response = problem(413, f"The body may have at most {limit} bytes.")
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"The body may have at most {limit} bytes.")
            return message

        await self.app(scope, limited, send)
