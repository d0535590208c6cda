"""Serves the admin page and its assets, shipped inside the package (no build step, no CDN).

The page is a client of ``/v1`` like any other: it gets no route, data or credential of its
own from here, only files.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

PAGE_PATH = "/ui"
ASSETS_PATH = PAGE_PATH + "/assets/"

# The page runs only its own files and talks only to its own server; a form never submits
# anywhere by itself (the sign-in form must not put a key in a URL if its script failed).
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Revalidated on every load (cheap: 304 by ETag), so an upgrade shows at once.
    "Cache-Control": "no-cache",
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for item in folder.iterdir():
        name = prefix + item.name
        if item.is_dir():
            found.update(_walk(item, name + "/"))
            continue
        suffix = "." + item.name.rpartition(".")[2]
        media_type = _TYPES.get(suffix) or mimetypes.guess_type(item.name)[0]
        if item.name == "LICENSE":  # a vendored library's licence, to be read
            media_type = "text/plain; charset=utf-8"
        body = item.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:20]
        found[name] = Asset(body, media_type or "application/octet-stream", f'"{digest}"')
    return found


ASSETS = _walk(resources.files("callblock.web") / "assets")
router = APIRouter(include_in_schema=False)


def _serve(request: Request, asset: Asset) -> Response:
    headers = {**_SECURITY_HEADERS, "ETag": asset.etag}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get(PAGE_PATH)
def page(request: Request) -> Response:
    return _serve(request, ASSETS["index.html"])


@router.get(PAGE_PATH + "/")
@router.get("/")
def to_page() -> Response:
    """A browser pointed at the server, or at ``/ui/``, lands on the page."""
    return RedirectResponse(PAGE_PATH, status_code=307)


@router.get(ASSETS_PATH + "{rest:path}")
def asset(rest: str, request: Request) -> Response:
    found = ASSETS.get(rest)
    if found is None or rest == "index.html":
        raise HTTPException(404, "No such file.")
    return _serve(request, found)
