"""The API's browsable documents, `/docs` (Swagger UI) and `/redoc` (ReDoc), with their
scripts and styles served from this app: they work on a network without internet.

FastAPI's own pages load both from a CDN. The files come from the `fastapi-offline` package,
which ships Swagger UI's and ReDoc's distributions as package data (its ``static`` folder);
the pages are FastAPI's, pointed at them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from callblock.web import routes as web

SWAGGER_PATH = "/docs"
OAUTH2_REDIRECT_PATH = SWAGGER_PATH + "/oauth2-redirect"
REDOC_PATH = "/redoc"
ASSETS_PATH = SWAGGER_PATH + "/assets/"
# The admin page's icon, already served by this app.
FAVICON_PATH = web.ASSETS_PATH + "icon.svg"

# Swagger UI by default shows a badge fetched from the public validator (a request off the
# network, with this document's URL in it): off.
_SWAGGER_PARAMETERS = {"validatorUrl": None}


# The pages load only this server's files and talk only to it: a file of the distributions
# that would reach elsewhere (ReDoc's sidebar shows a logo from Redocly's CDN) is stopped by
# the browser. Both UIs style their elements inline; Swagger UI is started by an inline
# script, allowed by its hash; ReDoc searches in a worker made from a blob.
_POLICY = (
    "default-src 'none'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode()
    hashes = "".join(
        " 'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    page.headers["Content-Security-Policy"] = _POLICY.format(scripts=hashes)
    page.headers["X-Content-Type-Options"] = "nosniff"
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
}


def _load() -> dict[str, Asset]:
    folder = resources.files("fastapi_offline") / "static"
    found: dict[str, Asset] = {}
    for name, media_type in _FILES.items():
        body = (folder / name).read_bytes()
        found[ASSETS_PATH + name] = Asset(
            body, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        )
    return found


ASSETS = _load()


def _root(request: Request) -> str:
    """The path the app is mounted under behind a proxy (``--root-path``), or nothing."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def _swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=root + str(app.openapi_url),
        title=f"{app.title} - Swagger UI",
        swagger_js_url=root + ASSETS_PATH + "swagger-ui-bundle.js",
        swagger_css_url=root + ASSETS_PATH + "swagger-ui.css",
        swagger_favicon_url=root + FAVICON_PATH,
        oauth2_redirect_url=root + OAUTH2_REDIRECT_PATH,
        swagger_ui_parameters=_SWAGGER_PARAMETERS,
    )
    return _with_policy(page)


def _oauth2_redirect(_request: Request) -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def _redoc(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    page = get_redoc_html(
        openapi_url=root + str(app.openapi_url),
        title=f"{app.title} - ReDoc",
        redoc_js_url=root + ASSETS_PATH + "redoc.standalone.js",
        redoc_favicon_url=root + FAVICON_PATH,
        with_google_fonts=False,
    )
    return _with_policy(page)


def _serving(asset: Asset) -> Callable[[Request], Response]:
    # Revalidated on every load (cheap: 304 by ETag), so an upgrade shows at once.
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}

    def serve(request: Request) -> Response:
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    return serve


def install(app: FastAPI) -> None:
    """Serve the documents and their files on ``app`` (created with ``docs_url=None`` and
    ``redoc_url=None``). Plain routes, as FastAPI's own: GET and HEAD, not in the schema."""
    app.add_route(SWAGGER_PATH, _swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_PATH, _oauth2_redirect, include_in_schema=False)
    app.add_route(REDOC_PATH, _redoc, include_in_schema=False)
    for path, asset in ASSETS.items():
        app.add_route(path, _serving(asset), include_in_schema=False)
