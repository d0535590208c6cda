"""The API's browsable documents, `/docs` and `/redoc`: served with every file they load from
this app, so that they work on a network without internet (docs/api.md)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

pytestmark = pytest.mark.anyio

PAGES = ("/docs", "/redoc")
SCRIPT_OR_STYLE = {"text/javascript", "application/javascript", "text/css"}


class References(HTMLParser):
    """Every URL a page loads: scripts, styles, icons, and the document it renders."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.loaded: list[str] = []  # scripts and styles

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "spec-url"):
            url = found.get(name)
            if url is not None:
                self.urls.append(url)
                if tag == "script" or (tag == "link" and found.get("rel") == "stylesheet"):
                    self.loaded.append(url)

    def handle_data(self, data: str) -> None:
        # Swagger UI is started by an inline script naming its document: `url: '...'`.
        self.urls += re.findall(r"\burl:\s*'([^']*)'", data)


async def references(client: httpx.AsyncClient, page: str) -> References:
    answer = await client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    parser = References()
    parser.feed(answer.text)
    return parser


@pytest.mark.parametrize("page", PAGES)
async def test_a_document_page_loads_nothing_from_another_origin(
    client: httpx.AsyncClient, page: str
) -> None:
    answer = await client.get(page)
    # No absolute URL anywhere in the page: no CDN, no font service, no validator badge.
    assert re.findall(r"(?:https?:)?//[\w.-]+", answer.text) == []
    found = await references(client, page)
    assert found.urls, "the page names the files it loads"
    for url in found.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    assert "/openapi.json" in found.urls


@pytest.mark.parametrize("page", PAGES)
async def test_every_file_a_document_page_loads_is_served_here_as_script_or_style(
    client: httpx.AsyncClient, page: str
) -> None:
    found = await references(client, page)
    assert len(found.loaded) >= 1
    for url in found.loaded:
        answer = await client.get(url)
        assert answer.status_code == 200, url
        media_type = answer.headers["content-type"].split(";")[0]
        assert media_type in SCRIPT_OR_STYLE, (url, media_type)
        assert len(answer.content) > 10_000, url  # the real distribution, not a stub
        assert answer.headers["x-content-type-options"] == "nosniff"
    for url in set(found.urls) - set(found.loaded):
        assert (await client.get(url)).status_code == 200, url


async def test_swagger_ui_loads_its_script_and_style_and_the_icon_is_an_image(
    client: httpx.AsyncClient,
) -> None:
    found = await references(client, "/docs")
    kinds = {(await client.get(url)).headers["content-type"].split(";")[0] for url in found.loaded}
    assert kinds == {"text/javascript", "text/css"}
    icons = [url for url in found.urls if url not in found.loaded and url != "/openapi.json"]
    assert icons
    for url in icons:
        assert (await client.get(url)).headers["content-type"].startswith("image/")


async def test_a_document_file_is_revalidated_by_its_etag(client: httpx.AsyncClient) -> None:
    found = await references(client, "/redoc")
    url = found.loaded[0]
    first = await client.get(url)
    etag = first.headers["etag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert (await client.head(url)).status_code == 200


async def test_the_swagger_oauth2_redirect_page_is_still_served(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/docs/oauth2-redirect")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("page", PAGES)
async def test_a_document_page_lets_the_browser_reach_this_server_only(
    client: httpx.AsyncClient, page: str
) -> None:
    """A file of the distributions that would load something from elsewhere is stopped by
    the browser (tests/test_web.py sees it stopped in Chromium)."""
    policy = (await client.get(page)).headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["script-src"].split()[0] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
