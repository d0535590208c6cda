"""The API's documents: `/docs` and `/redoc`, served with every file they load from this app, so
that they work on a network without internet (docs/api.md); and the OpenAPI document they show,
every operation described and tagged, with examples that are real (each meets its schema, and
each example request gets the answer the operation documents)."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
import jsonschema_rs
import pytest

from callblock.domain import RequestedNumber, Surface
from callblock.service import Service
from tests.helpers import Credentials, bearer

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


# --- the OpenAPI document: descriptions, tags and real examples ------------------------------

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
# Lines of a text example that a real answer has as they are: metrics' HELP and TYPE, CSV headers.
HEADER_LINES = ("# ", "number,kind,", "name,phone,status,")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def success_status(operation: dict[str, Any]) -> str:
    return min(status for status in operation["responses"] if status.startswith("2"))


def named_examples(media: dict[str, Any]) -> list[tuple[str, Any]]:
    """A media type's or parameter's examples, by name: `example`, and every `examples` value."""
    found = [(name, example["value"]) for name, example in media.get("examples", {}).items()]
    if "example" in media:
        found.append(("example", media["example"]))
    return found


def validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A validator of ``schema``, its ``#/components/...`` references resolved in ``document``."""
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": document["components"]}, validate_formats=True
    )


def errors_of(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    return [error.message for error in validator(document, schema).iter_errors(value)]


def schema_examples(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """The JSON Schema `examples` of a schema and of every schema inside it."""
    if isinstance(schema, dict):
        if isinstance(schema.get("examples"), list) and ("type" in schema or "$ref" in schema):
            for example in schema["examples"]:
                yield where, schema, example
        for key, inner in schema.items():
            if key != "examples":
                yield from schema_examples(inner, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, inner in enumerate(schema):
            yield from schema_examples(inner, f"{where}/{i}")


def every_example(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Every example in the document: where it is, the schema it must meet, and its value."""
    for method, path, operation in operations(document):
        here = f"{method.upper()} {path}"
        for parameter in operation.get("parameters", []):
            for name, value in named_examples(parameter):
                yield f"{here} parameter {parameter['name']} {name}", parameter["schema"], value
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            for name, value in named_examples(media):
                yield f"{here} request {media_type} {name}", media["schema"], value
        for status, answer in operation["responses"].items():
            for media_type, media in answer.get("content", {}).items():
                for name, value in named_examples(media):
                    yield f"{here} {status} {media_type} {name}", media["schema"], value
    yield from schema_examples(document["components"]["schemas"], "#/components/schemas")


async def test_every_operation_has_a_description_tags_and_examples(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    tags = {tag["name"]: tag.get("description", "") for tag in document["tags"]}
    assert {"groups", "numbers", "checks", "audit", "account", "files"} <= set(tags)
    assert all(len(description) > 20 for description in tags.values()), tags
    described = 0
    for method, path, operation in operations(document):
        here = f"{method.upper()} {path}"
        description = operation.get("description", "")
        assert len(description) > 80, here
        assert description != operation["summary"], here
        assert operation.get("tags"), here
        assert set(operation["tags"]) <= set(tags), here
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if media_type in {"application/json", "text/csv"}:
                assert named_examples(media), f"{here}: no example of its {media_type} body"
        status = success_status(operation)
        for media_type, media in operation["responses"][status].get("content", {}).items():
            assert named_examples(media), f"{here}: no example of its {status} {media_type}"
        described += 1
    assert described >= 19


async def test_every_example_in_the_document_meets_its_own_schema(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    checked, broken = 0, []
    for where, schema, value in every_example(document):
        checked += 1
        if errors := errors_of(document, schema, value):
            broken.append(f"{where}: {errors}")
    assert broken == []
    assert checked >= 35  # request and answer examples of every operation, not a few


def test_a_broken_example_would_be_caught() -> None:
    """The validation above is not vacuous: a wrong type, a missing key, a bad instant fail."""
    document = {"components": {"schemas": {}}}
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}},
        "required": ["id"],
    }
    assert errors_of(document, schema, {"id": 1, "at": "2026-06-01T12:00:00Z"}) == []
    assert errors_of(document, schema, {"id": "1"})
    assert errors_of(document, schema, {})
    assert errors_of(document, schema, {"id": 1, "at": "yesterday"})


@dataclass
class ExampleRequest:
    name: str
    path_values: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


def example_requests(operation: dict[str, Any]) -> list[ExampleRequest]:
    """A request for each example of the operation's body, path or query parameters (a query
    example is sent alone: `status=expired` takes no body); one without any when it
    documents none."""
    found: list[ExampleRequest] = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            for name, value in named_examples(parameter):
                found.append(ExampleRequest(name, path_values={parameter["name"]: value}))
        if parameter["in"] == "query":
            for name, value in named_examples(parameter):
                found.append(ExampleRequest(name, query={parameter["name"]: value}))
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        for name, value in named_examples(media):
            content = value.encode() if isinstance(value, str) else json.dumps(value).encode()
            found.append(
                ExampleRequest(name, headers={"content-type": media_type}, content=content)
            )
    return found or [ExampleRequest("without an example")]


async def test_every_request_example_gets_its_documented_answer(
    client: httpx.AsyncClient, service: Service, main_account: Credentials
) -> None:
    """Each example request is sent, on an account with a group holding a number and a prefix
    (a new group for each request, its id as `group_id`): the answer has the status the
    operation documents for success and meets that answer's schema."""
    document = (await client.get("/openapi.json")).json()
    actor = service.authenticate_key(main_account.key, Surface.V1)
    service.load_index()  # as the server does at start: /readyz answers ready
    seeded = 0

    def new_group() -> int:
        nonlocal seeded
        seeded += 1
        entries = [
            RequestedNumber("+919876543210", "+919876543210"),
            RequestedNumber("+91140*", "+91140*"),
        ]
        return service.create_group(actor, f"Seeded {seeded}", "", entries, None).group.id

    def new_campaign() -> int:
        nonlocal seeded
        seeded += 1
        return service.create_campaign(actor, f"Seeded campaign {seeded}", "", None).id

    # The campaign the check examples name.
    service.create_campaign(actor, "Spring offers", "", None)
    sent, wrong = 0, []
    for method, path, operation in operations(document):
        for request in example_requests(operation):
            url = path.replace("{group_id}", str(new_group()))
            if "{campaign_id}" in url:
                url = url.replace("{campaign_id}", str(new_campaign()))
            if "{key_id}" in url:  # a key of its own: the request may revoke it
                issued = service.issue_key(main_account.username, "Seeded", ["check"])
                url = url.replace("{key_id}", str(issued.key_id))
            for name, value in request.path_values.items():
                url = url.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
            answer = await client.request(
                method.upper(),
                url,
                params=request.query,
                headers={**bearer(main_account), **request.headers},
                content=request.content,
            )
            sent += 1
            here = f"{method.upper()} {url} ({request.name})"
            status = success_status(operation)
            if str(answer.status_code) != status:
                wrong.append(f"{here}: {answer.status_code} {answer.text[:300]}")
                continue
            content = operation["responses"][status].get("content", {})
            media_type = answer.headers.get("content-type", "").split(";")[0]
            if not content:
                if answer.content:
                    wrong.append(f"{here}: a body where none is documented")
                continue
            if media_type not in content:
                wrong.append(f"{here}: {media_type}, documented {sorted(content)}")
                continue
            documented = content[media_type]
            if media_type == "application/json":
                if errors := errors_of(document, documented["schema"], answer.json()):
                    wrong.append(f"{here}: {errors}")
            else:  # CSV and metrics: the example's header lines are the real ones
                for line in named_examples(documented)[0][1].splitlines():
                    if line.startswith(HEADER_LINES) and line not in answer.text.splitlines():
                        wrong.append(f"{here}: the example's {line!r} is not in the answer")
    assert wrong == []
    assert sent >= 20
