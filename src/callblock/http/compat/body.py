"""Reading a compat request's fields from JSON, urlencoded or multipart bodies.

The result is one flat mapping of field name to value. Form fields that repeat, or use PHP's
``name[]`` / ``name[0]`` spelling, become lists, as PHP would read them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncGenerator, Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from callblock.http.compat.errors import BodyTooLarge, InvalidBody

Fields = dict[str, Any]
# The body size limit already bounds a form; this only stops pathological part counts.
_MAX_FORM_FIELDS = 200_000
# Form keys that PHP clients repeat to send a list even without the `[]` spelling.
_LIST_KEYS = frozenset({"blockNumbers", "blockNumber"})
_MAX_INT_DIGITS = 4000  # under Python's int/str conversion limit of 4300
_PHP_LIST_KEY = re.compile(r"^(?P<name>[^\[\]]+)\[[0-9]*\]$")


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, refusing more than ``max_bytes`` whether or not a length was declared."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def read_fields(request: Request, max_bytes: int, *, with_query: bool) -> Fields:
    """The request's fields; with ``with_query``, query parameters fill in absent ones."""
    body = await read_body(request, max_bytes)
    fields = await decode_fields(request.headers, body)
    if with_query:
        for key, value in _collect(parse_qsl(request.url.query, keep_blank_values=True)).items():
            fields.setdefault(key, value)
    return fields


async def decode_fields(headers: Headers, body: bytes) -> Fields:
    if not body.strip():
        return {}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        return await _multipart(headers, body)
    # Many clients (curl -d among them) send JSON labelled as a urlencoded form.
    if media_type == "application/x-www-form-urlencoded" and not body.lstrip().startswith(b"{"):
        return _urlencoded(body)
    return _json_object(body)


class RawNumber(str):
    """A JSON number no Python int or float holds exactly (over 4300 digits, or beyond a
    float's range): kept as its text, so that it is an invalid value rather than an
    unreadable body."""

    __slots__ = ()


def _json_int(text: str) -> int | RawNumber:
    return int(text) if len(text) <= _MAX_INT_DIGITS else RawNumber(text)


def _json_float(text: str) -> float | RawNumber:
    number = float(text)
    return number if math.isfinite(number) else RawNumber(text)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _json_object(body: bytes) -> Fields:
    try:
        value = json.loads(
            body, parse_int=_json_int, parse_float=_json_float, parse_constant=_not_json
        )
    except (ValueError, RecursionError) as exc:  # ValueError covers bad UTF-8 too
        raise InvalidBody from exc
    if not isinstance(value, dict):
        raise InvalidBody
    return value


def _urlencoded(body: bytes) -> Fields:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS, errors="strict"
        )
    except ValueError as exc:
        raise InvalidBody from exc
    return _collect(pairs)


async def _multipart(headers: Headers, body: bytes) -> Fields:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        headers, stream(), max_files=_MAX_FORM_FIELDS, max_fields=_MAX_FORM_FIELDS
    )
    try:
        form = await parser.parse()
    except (MultiPartException, ValueError, KeyError) as exc:
        raise InvalidBody from exc  # the parser closes the files it made
    pairs: list[tuple[str, str]] = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                # A file part carries the field's text (e.g. a list of numbers).
                pairs.append((key, (await value.read()).decode("utf-8")))
            else:
                pairs.append((key, value))
    except ValueError as exc:  # a file part that is not UTF-8
        raise InvalidBody from exc
    finally:
        await form.close()  # every file part's temporary file, read or not
        # A part cut off before its end (a truncated body) has a temporary file too, but is
        # not in the form: Starlette closes those only when parsing fails, and here it did not.
        for made in getattr(parser, "_files_to_close_on_error", ()):
            made.close()
    if not pairs:  # a non-empty body with no readable part is not a form
        raise InvalidBody
    return _collect(pairs)


def _collect(pairs: Iterable[tuple[str, str]]) -> Fields:
    """Form pairs to fields as PHP reads them: ``key[]`` makes a list, a repeated plain key
    keeps its last value (except the numbers fields, where repeating is a list)."""
    fields: Fields = {}
    for raw_key, value in pairs:
        match = _PHP_LIST_KEY.match(raw_key)
        key = match.group("name") if match else raw_key
        if match or (key in fields and key in _LIST_KEYS):
            current = fields.get(key)
            if isinstance(current, list):
                current.append(value)
            elif key in fields:
                fields[key] = [current, value]
            else:
                fields[key] = [value]
        else:
            fields[key] = value
    return fields
