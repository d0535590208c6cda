"""Request body limits: sizes for the routes that do not enforce their own (the compat
endpoints and file uploads do), and time for every route."""

from __future__ import annotations

import asyncio
import time

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callblock.http.formats import WireFormat, owner
from callblock.http.problems import problem

# Routes that take big batches: the batch check (up to 100,000 numbers).
BULK_ROUTES = {("POST", "/v1/check")}
FILE_ROUTES = {"/v1/scrub"}


class BodyLimit:
    """Refuse bodies over the limit with 413, declared (Content-Length) or streamed.

    Paths under ``exempt`` belong to routes that read and limit their bodies themselves, and
    refuse in their own format (the compat endpoints).
    """

    def __init__(self, app: ASGIApp, *, default: int, bulk: int, exempt: tuple[str, ...]) -> None:
        self.app = app
        self.default = default
        self.bulk = bulk
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        # Compat endpoints and file uploads enforce their own limits.
        if (
            scope["type"] != "http"
            or path.startswith(self.exempt)
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


class BodyTimeout:
    """Answer 408 and close the connection when a client is too slow sending its body.

    A client that trickles its body a byte at a time would otherwise hold a connection and
    a worker's memory for as long as it likes. Every route gets ``default`` seconds for the
    whole body; file uploads (imports and scrubs) get ``upload`` seconds, but no wait for the
    next bytes may exceed ``default`` there either. After the 408, the route sees the client
    as gone, and whatever it answers is dropped. The 408 is a problem, or on the paths of a
    surface with a wire format of its own, that format's.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: float,
        upload: float,
        formats: tuple[WireFormat, ...],
    ) -> None:
        self.app = app
        self.default = default
        self.upload = upload
        self.formats = formats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        upload = path in FILE_ROUTES or path.endswith(":import")
        deadline = time.monotonic() + (self.upload if upload else self.default)
        state = {"body_done": False, "started": False, "timed_out": False}

        async def timed_receive() -> Message:
            if state["timed_out"]:
                return {"type": "http.disconnect"}
            if state["body_done"]:  # waiting for a disconnect is not sending a body
                return await receive()
            wait = min(self.default, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.0))
            except TimeoutError:
                state["timed_out"] = True
                if not state["started"]:
                    state["started"] = True
                    await _timed_out(self.formats, path)(scope, _no_body, send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def guarded_send(message: Message) -> None:
            if state["timed_out"]:
                return  # the 408 has been answered
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, timed_receive, guarded_send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _timed_out(formats: tuple[WireFormat, ...], path: str) -> Response:
    wire = owner(formats, path)
    if wire is not None:
        answer = wire.timed_out()
    else:
        answer = problem(408, "The request body did not arrive in time.", kind="body-timeout")
    answer.headers["Connection"] = "close"
    return answer
