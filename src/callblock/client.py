"""Python SDK of the callblock ``/v1`` API: :class:`Client` (sync) and :class:`AsyncClient`.

The two clients are mirror images: the same namespaces and methods with the same names and
signatures; the async ones are awaitable, and their listings are async iterators::

    from callblock.client import Client

    with Client("https://callblock.example", "cbk_...") as client:
        group = client.groups.create("Spam callers", direction="inbound")
        client.numbers.add(group.id, ["9876543210", "140*"], note="from the complaints desk")
        if client.check("+91 98765 43210", direction="inbound").blocked:
            ...
        for entry in client.numbers.list(group.id):  # follows next_cursor page by page
            print(entry.number, entry.expires_at)

Every operation is described once (method, path, query, JSON body and the parser of the
answer) and executed by the sync or the async client's ``_send``; only the sending differs.

Errors
------
Every error answer of the API, and every failure to get an answer, raises a subclass of
:class:`CallblockError`. The class follows the HTTP status, whether or not the body is an
``application/problem+json`` document (a proxy's HTML 502 is still a :class:`ServerError`)::

    CallblockError          any error answer; .status .title .detail .errors .type
    ├── AuthError           401: no API key, or a wrong or revoked one
    ├── NotFound            404: no such group (another account's groups are not found)
    ├── Conflict            409: the account has a group of that name (case-insensitive)
    ├── ValidationError     400 malformed JSON, 413 body too large, 422 invalid input;
    │                       .errors maps each invalid field (dotted path) to its problem
    ├── RateLimited         429: .retry_after is the Retry-After header in seconds, or None
    ├── ServerError         500-599: internal error, database unavailable (503)...
    └── TransportError      no answer at all: connection refused, timeout, broken
                            connection; .status is None, __cause__ is the httpx error

Any other error status (405, 415...) and a success answer the SDK cannot read raise
:class:`CallblockError` itself. ``.type`` is the problem's type URN (for instance
``urn:callblock:problem:name-taken``) or None when the body is not a problem document;
``.errors`` is a dict, empty when the answer names no field.

Arguments the SDK can refuse without asking the API raise ``TypeError`` or ``ValueError``
before anything is sent: a naive datetime, a single string where a list of numbers is
expected, a group id that is not an int, an empty number to check.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeAlias, TypeVar, cast
from urllib.parse import quote

import httpx

from callblock._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "Account",
    "AccountAPI",
    "AddResult",
    "AsyncAccountAPI",
    "AsyncAuditAPI",
    "AsyncClient",
    "AsyncGroupsAPI",
    "AsyncNumbersAPI",
    "AuditAPI",
    "AuditEvent",
    "AuthError",
    "BatchResult",
    "CallblockError",
    "CheckDirection",
    "CheckResult",
    "Client",
    "Conflict",
    "Direction",
    "Entry",
    "EntryStatus",
    "Group",
    "GroupsAPI",
    "InvalidItem",
    "Match",
    "NotFound",
    "NumberInput",
    "NumbersAPI",
    "RateLimited",
    "RemoveResult",
    "ServerError",
    "TransportError",
    "ValidationError",
]

DEFAULT_TIMEOUT = 10.0
"""Seconds to wait for connecting, and for each read and write, before a TransportError."""

Direction: TypeAlias = Literal["inbound", "outbound", "both"]
"""Which checks a group's entries count for."""
CheckDirection: TypeAlias = Literal["inbound", "outbound"]
"""The direction of the call being checked; None checks against every group."""
EntryStatus: TypeAlias = Literal["active", "expired", "all"]
"""Which entries of a group to list."""
NumberInput: TypeAlias = str | int
"""A number in any common form (``"+91 98765 43210"``, ``9876543210``) or a prefix (``"140*"``)."""

_T = TypeVar("_T")
_Params: TypeAlias = dict[str, str | int]


# --- errors ----------------------------------------------------------------------------------


class CallblockError(Exception):
    """Base of every SDK error; see the module docstring for the tree.

    ``status`` is the HTTP status (None when no answer came), ``title`` and ``detail`` the
    problem's text, ``errors`` what is wrong with each named field, ``type`` the problem's
    type URN (None when the body was not a problem document).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status: int | None = status
        self.title: str = title
        self.detail: str = detail
        self.errors: dict[str, str] = dict(errors or {})
        self.type: str | None = type

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the attributes across pickling (multiprocessing, task queues).
        return (self.__class__, self.args, self.__dict__)


class AuthError(CallblockError):
    """401: the API key is missing, wrong or revoked."""


class NotFound(CallblockError):
    """404: no such group for this account, or no such route."""


class Conflict(CallblockError):
    """409: the account already has a group of that name (names ignore case)."""


class ValidationError(CallblockError):
    """400, 413 or 422: the request was refused as it stands; ``errors`` names the fields."""


class RateLimited(CallblockError):
    """429: too many requests; ``retry_after`` is how many seconds to wait, when known."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status=status, title=title, detail=detail, errors=errors, type=type
        )
        self.retry_after: float | None = retry_after


class ServerError(CallblockError):
    """5xx: the service failed or is unavailable; trying again later may succeed."""


class TransportError(CallblockError):
    """No answer: the connection failed, timed out or broke. ``__cause__`` is httpx's error."""


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str
    description: str
    direction: Direction
    active_count: int
    """Entries that block now."""
    expired_count: int
    """Entries past their expiry, kept for the record."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    number: str
    """E.164 number, or E.164 prefix ending in ``*``."""
    kind: Literal["number", "prefix"]
    status: Literal["active", "expired"]
    expires_at: datetime | None
    note: str | None
    source: str
    """The surface that last wrote it: ``v1``, ``compat-v2``, ``cli``..."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InvalidItem:
    """An input that was not a valid number or prefix, as it was sent."""

    input: NumberInput | None
    reason: str


@dataclass(frozen=True, slots=True)
class AddResult:
    added: int
    """Entries that were not in the group before."""
    updated: int
    """Entries already there whose expiry and note were set again."""
    invalid: tuple[InvalidItem, ...]


@dataclass(frozen=True, slots=True)
class RemoveResult:
    removed: int
    not_found: tuple[NumberInput, ...]
    """Inputs, as sent, that were not in the group."""
    invalid: tuple[InvalidItem, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """Why a number is blocked: the group and entry that matched, or the account's rule."""

    group_id: int | None
    group_name: str | None
    pattern: str
    expires_at: datetime | None
    rule: Literal["number", "prefix", "block_anonymous"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    number: str | None
    """E.164 form of the input; None for a withheld caller ID."""
    blocked: bool
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One input of :meth:`Client.check_many`, in the order sent."""

    input: NumberInput | None
    number: str | None
    blocked: bool
    group_ids: tuple[int, ...]
    error: str | None
    """Why the input could not be checked (``"not a valid phone number"``), else None."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    surface: str
    action: str
    group_id: int | None
    key_id: int | None
    """The id of the API key used; None for the local CLI."""
    count: int
    """How many numbers the change touched."""
    numbers: tuple[str, ...]
    """Up to 100 of them."""
    detail: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    region: str
    timezone: str
    auth_mode: str
    block_anonymous: bool


# --- reading answers ---------------------------------------------------------------------------


class _Malformed(ValueError):
    """A success answer that does not have the documented shape."""


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"expected a JSON object, got {value!r:.80}")
    return value


def _get(obj: Mapping[str, Any], key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise _Malformed(f"the answer has no {key!r}") from None


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = _get(obj, key)
    if not isinstance(value, str):
        raise _Malformed(f"{key!r} is not a string: {value!r:.80}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    return None if obj.get(key) is None else _str(obj, key)


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = _get(obj, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"{key!r} is not an integer: {value!r:.80}")
    return value


def _opt_int(obj: Mapping[str, Any], key: str) -> int | None:
    return None if obj.get(key) is None else _int(obj, key)


def _bool(obj: Mapping[str, Any], key: str) -> bool:
    value = _get(obj, key)
    if not isinstance(value, bool):
        raise _Malformed(f"{key!r} is not a boolean: {value!r:.80}")
    return value


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = _get(obj, key)
    if not isinstance(value, list):
        raise _Malformed(f"{key!r} is not a list: {value!r:.80}")
    return value


def _number_input(value: Any) -> NumberInput | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Malformed(f"not a number input: {value!r:.80}")


def _datetime(obj: Mapping[str, Any], key: str) -> datetime:
    text = _str(obj, key)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _Malformed(f"{key!r} is not an ISO 8601 date-time: {text!r:.80}") from None
    # The API always sends an offset; an instant without one can only mean UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _opt_datetime(obj: Mapping[str, Any], key: str) -> datetime | None:
    return None if obj.get(key) is None else _datetime(obj, key)


def _group(body: Any) -> Group:
    obj = _object(body)
    return Group(
        id=_int(obj, "id"),
        name=_str(obj, "name"),
        description=_str(obj, "description"),
        direction=cast(Direction, _str(obj, "direction")),
        active_count=_int(obj, "active_count"),
        expired_count=_int(obj, "expired_count"),
        created_at=_datetime(obj, "created_at"),
        updated_at=_datetime(obj, "updated_at"),
    )


def _entry(body: Any) -> Entry:
    obj = _object(body)
    return Entry(
        number=_str(obj, "number"),
        kind=cast(Literal["number", "prefix"], _str(obj, "kind")),
        status=cast(Literal["active", "expired"], _str(obj, "status")),
        expires_at=_opt_datetime(obj, "expires_at"),
        note=_opt_str(obj, "note"),
        source=_str(obj, "source"),
        created_at=_datetime(obj, "created_at"),
        updated_at=_datetime(obj, "updated_at"),
    )


def _invalid_items(obj: Mapping[str, Any]) -> tuple[InvalidItem, ...]:
    items = []
    for raw in _list(obj, "invalid"):
        item = _object(raw)
        items.append(InvalidItem(_number_input(item.get("input")), _str(item, "reason")))
    return tuple(items)


def _add_result(body: Any) -> AddResult:
    obj = _object(body)
    return AddResult(
        added=_int(obj, "added"), updated=_int(obj, "updated"), invalid=_invalid_items(obj)
    )


def _remove_result(body: Any) -> RemoveResult:
    obj = _object(body)
    not_found = []
    for raw in _list(obj, "not_found"):
        value = _number_input(raw)
        if value is None:
            raise _Malformed("'not_found' holds a null")
        not_found.append(value)
    return RemoveResult(
        removed=_int(obj, "removed"), not_found=tuple(not_found), invalid=_invalid_items(obj)
    )


def _match(body: Any) -> Match:
    obj = _object(body)
    return Match(
        group_id=_opt_int(obj, "group_id"),
        group_name=_opt_str(obj, "group_name"),
        pattern=_str(obj, "pattern"),
        expires_at=_opt_datetime(obj, "expires_at"),
        rule=cast(Literal["number", "prefix", "block_anonymous"], _str(obj, "rule")),
    )


def _check_result(body: Any) -> CheckResult:
    obj = _object(body)
    return CheckResult(
        number=_opt_str(obj, "number"),
        blocked=_bool(obj, "blocked"),
        matches=tuple(_match(m) for m in _list(obj, "matches")),
    )


def _ints(values: list[Any], key: str) -> tuple[int, ...]:
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise _Malformed(f"{key!r} holds something other than integers")
    return tuple(values)


def _batch_results(body: Any) -> list[BatchResult]:
    results = []
    for raw in _list(_object(body), "results"):
        obj = _object(raw)
        results.append(
            BatchResult(
                input=_number_input(obj.get("input")),
                number=_opt_str(obj, "number"),
                blocked=_bool(obj, "blocked"),
                group_ids=_ints(_list(obj, "group_ids"), "group_ids"),
                error=_opt_str(obj, "error"),
            )
        )
    return results


def _audit_event(body: Any) -> AuditEvent:
    obj = _object(body)
    numbers = _list(obj, "numbers")
    if not all(isinstance(n, str) for n in numbers):
        raise _Malformed("'numbers' holds something other than strings")
    detail = obj.get("detail")
    return AuditEvent(
        id=_int(obj, "id"),
        at=_datetime(obj, "at"),
        surface=_str(obj, "surface"),
        action=_str(obj, "action"),
        group_id=_opt_int(obj, "group_id"),
        key_id=_opt_int(obj, "key_id"),
        count=_int(obj, "count"),
        numbers=tuple(numbers),
        detail=None if detail is None else _object(detail),
    )


def _account(body: Any) -> Account:
    obj = _object(body)
    return Account(
        username=_str(obj, "username"),
        region=_str(obj, "region"),
        timezone=_str(obj, "timezone"),
        auth_mode=_str(obj, "auth_mode"),
        block_anonymous=_bool(obj, "block_anonymous"),
    )


def _nothing(_body: Any) -> None:
    return None


# --- describing requests -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Call(Generic[_T]):
    """One request, and how to read its success answer (None for an empty body)."""

    method: str
    path: str
    parse: Callable[[Any], _T]
    params: _Params | None = None
    json: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Page(Generic[_T]):
    items: list[_T]
    count: int
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class _Listing(Generic[_T]):
    """A paginated listing: the same GET, page after page, each with the previous cursor."""

    path: str
    params: _Params
    item: Callable[[Any], _T]

    def page(self, cursor: str | None) -> _Call[_Page[_T]]:
        params = dict(self.params)
        if cursor is not None:
            params["cursor"] = cursor
        item = self.item

        def parse(body: Any) -> _Page[_T]:
            obj = _object(body)
            return _Page(
                items=[item(raw) for raw in _list(obj, "data")],
                count=_int(obj, "count"),
                next_cursor=_opt_str(obj, "next_cursor"),
            )

        return _Call("GET", self.path, parse, params)


def _next_cursor(previous: str | None, page: _Page[Any]) -> str | None:
    """The cursor of the following page, or None after the last one."""
    if page.next_cursor is not None and (page.next_cursor == previous or not page.items):
        raise CallblockError(
            "The API answered a page that does not advance; stopping to avoid a loop.",
            title="Pagination does not advance",
        )
    return page.next_cursor


def _group_path(group_id: int) -> str:
    if isinstance(group_id, bool) or not isinstance(group_id, int):
        raise TypeError(f"group_id must be an int, not {type(group_id).__name__}")
    return f"/v1/groups/{group_id}"


def _numbers(numbers: Sequence[NumberInput]) -> list[NumberInput]:
    if isinstance(numbers, str | bytes):
        raise TypeError("numbers must be a list of numbers, not a single string")
    return list(numbers)


def _instant(name: str, value: datetime) -> str:
    """RFC 3339 text of an aware datetime, in UTC (``2030-01-31T18:00:00Z``)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. datetime.now(UTC))")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _list_groups(name: str | None, page_size: int) -> _Listing[Group]:
    params: _Params = {"limit": page_size}
    if name is not None:
        params["name"] = name
    return _Listing("/v1/groups", params, _group)


def _create_group(name: str, description: str, direction: Direction) -> _Call[Group]:
    body = {"name": name, "description": description, "direction": direction}
    return _Call("POST", "/v1/groups", _group, json=body)


def _get_group(group_id: int) -> _Call[Group]:
    return _Call("GET", _group_path(group_id), _group)


def _update_group(
    group_id: int, name: str | None, description: str | None, direction: Direction | None
) -> _Call[Group]:
    fields = {"name": name, "description": description, "direction": direction}
    body = {key: value for key, value in fields.items() if value is not None}
    return _Call("PATCH", _group_path(group_id), _group, json=body)


def _delete_group(group_id: int) -> _Call[None]:
    return _Call("DELETE", _group_path(group_id), _nothing)


def _list_numbers(
    group_id: int, status: EntryStatus, q: str | None, page_size: int
) -> _Listing[Entry]:
    params: _Params = {"status": status, "limit": page_size}
    if q is not None:
        params["q"] = q
    return _Listing(_group_path(group_id) + "/numbers", params, _entry)


def _add_numbers(
    group_id: int,
    numbers: Sequence[NumberInput],
    expires_at: datetime | None,
    note: str | None,
    all_or_nothing: bool,
) -> _Call[AddResult]:
    body: dict[str, Any] = {"numbers": _numbers(numbers), "all_or_nothing": all_or_nothing}
    if expires_at is not None:
        body["expires_at"] = _instant("expires_at", expires_at)
    if note is not None:
        body["note"] = note
    return _Call("POST", _group_path(group_id) + "/numbers", _add_result, json=body)


def _remove_numbers(group_id: int, numbers: Sequence[NumberInput]) -> _Call[RemoveResult]:
    body = {"numbers": _numbers(numbers)}
    return _Call("DELETE", _group_path(group_id) + "/numbers", _remove_result, json=body)


def _check(number: str, direction: CheckDirection | None) -> _Call[CheckResult]:
    if not isinstance(number, str):
        raise TypeError(f"number must be a string, not {type(number).__name__}")
    if not number:
        raise ValueError("number must not be empty (check_many accepts an empty caller ID)")
    segment = quote(number, safe="")
    if segment in (".", ".."):  # would be read as a relative path
        segment = segment.replace(".", "%2E")
    params: _Params | None = None if direction is None else {"direction": direction}
    return _Call("GET", f"/v1/check/{segment}", _check_result, params)


def _check_many(
    numbers: Sequence[NumberInput], direction: CheckDirection | None
) -> _Call[list[BatchResult]]:
    body: dict[str, Any] = {"numbers": _numbers(numbers)}
    if direction is not None:
        body["direction"] = direction
    return _Call("POST", "/v1/check", _batch_results, json=body)


def _list_audit(
    group_id: int | None, number: str | None, since: datetime | None, page_size: int
) -> _Listing[AuditEvent]:
    params: _Params = {"limit": page_size}
    if group_id is not None:
        _group_path(group_id)  # the same check of the id
        params["group_id"] = group_id
    if number is not None:
        params["number"] = number
    if since is not None:
        params["since"] = _instant("since", since)
    return _Listing("/v1/audit", params, _audit_event)


def _get_account() -> _Call[Account]:
    return _Call("GET", "/v1/account", _account)


def _update_account(block_anonymous: bool | None) -> _Call[Account]:
    body = {} if block_anonymous is None else {"block_anonymous": block_anonymous}
    return _Call("PATCH", "/v1/account", _account, json=body)


# --- reading error answers -----------------------------------------------------------------------

_STATUS_ERRORS: dict[int, type[CallblockError]] = {
    400: ValidationError,
    401: AuthError,
    404: NotFound,
    409: Conflict,
    413: ValidationError,
    422: ValidationError,
    429: RateLimited,
}
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")


def _error_class(status: int) -> type[CallblockError]:
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    if 500 <= status <= 599:
        return ServerError
    return CallblockError


def _retry_after(header: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date."""
    if header is None:
        return None
    text = header.strip()
    if _SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _field_errors(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):  # problem+json: {"field": "what is wrong"}
        return {str(key): str(value) for key, value in raw.items()}
    if isinstance(raw, list):  # FastAPI's default: [{"loc": [...], "msg": "..."}]
        errors: dict[str, str] = {}
        for item in raw:
            if isinstance(item, dict) and "msg" in item:
                loc = item.get("loc")
                parts = [str(p) for p in loc] if isinstance(loc, list) else []
                field = ".".join(p for p in parts if p not in ("body", "query", "path"))
                errors.setdefault(field or "body", str(item["msg"]))
        return errors
    return {}


def _error(response: httpx.Response) -> CallblockError:
    """The exception for an error answer, read from a problem document or whatever came."""
    status = response.status_code
    title = response.reason_phrase or f"HTTP {status}"
    detail = ""
    kind: str | None = None
    errors: dict[str, str] = {}
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("type"), str):
            kind = body["type"]
        if isinstance(body.get("title"), str) and body["title"]:
            title = body["title"]
        for key in ("detail", "message", "error"):
            if isinstance(body.get(key), str):
                detail = body[key]
                break
        errors = _field_errors(body.get("errors", body.get("detail")))
    else:
        detail = " ".join(response.text.split())[:300]
    message = f"{status} {title}" + (f": {detail}" if detail else "")
    if errors:
        message += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
    cls = _error_class(status)
    if cls is RateLimited:
        return RateLimited(
            message,
            status=status,
            title=title,
            detail=detail,
            errors=errors,
            type=kind,
            retry_after=_retry_after(response.headers.get("retry-after")),
        )
    return cls(message, status=status, title=title, detail=detail, errors=errors, type=kind)


def _result(call: _Call[_T], response: httpx.Response) -> _T:
    """The parsed answer of a success, or the error to raise."""
    if not response.is_success:
        raise _error(response)
    try:
        body = None if response.status_code == 204 or not response.content else response.json()
        return call.parse(body)
    except ValueError as exc:  # not JSON, or not the documented shape
        raise CallblockError(
            f"{call.method} {call.path} answered {response.status_code} with a body the SDK "
            f"cannot read: {exc}",
            status=response.status_code,
            title="Unreadable answer",
            detail=str(exc),
        ) from exc


def _transport_error(call: _Call[Any], exc: httpx.TransportError) -> TransportError:
    reason = str(exc) or type(exc).__name__
    return TransportError(
        f"{call.method} {call.path}: no answer ({type(exc).__name__}: {reason})",
        title=type(exc).__name__,
        detail=reason,
    )


class _BaseClient:
    """What both clients share: settings, headers, and the options of their httpx client."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key must be a non-empty string")
        self.base_url = str(base_url).rstrip("/")
        self.timeout = timeout
        self._headers = {
            "Authorization": f"Bearer {api_key.strip()}",
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"callblock-python/{__version__}",
        }

    def __repr__(self) -> str:  # never the API key
        return f"{type(self).__name__}(base_url={self.base_url!r})"


# --- the sync client ---------------------------------------------------------------------------


class Client(_BaseClient):
    """The sync client. Use it as a context manager, or call :meth:`close` when done."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers, timeout=timeout, transport=transport
        )
        self.groups = GroupsAPI(self)
        self.numbers = NumbersAPI(self)
        self.audit = AuditAPI(self)
        self.account = AccountAPI(self)

    def _send(self, call: _Call[_T]) -> _T:
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, json=call.json
            )
        except httpx.TransportError as exc:
            raise _transport_error(call, exc) from exc
        return _result(call, response)

    def _iterate(self, listing: _Listing[_T]) -> Iterator[_T]:
        cursor: str | None = None
        while True:
            page = self._send(listing.page(cursor))
            yield from page.items
            cursor = _next_cursor(cursor, page)
            if cursor is None:
                return

    def check(self, number: str, direction: CheckDirection | None = None) -> CheckResult:
        """Is ``number`` blocked now? ``direction`` of the call; None: any group counts."""
        return self._send(_check(number, direction))

    def check_many(
        self, numbers: Sequence[NumberInput], direction: CheckDirection | None = None
    ) -> list[BatchResult]:
        """Check many numbers in one request; one result per input, in order."""
        return self._send(_check_many(numbers, direction))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class GroupsAPI:
    """``Client.groups``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, name: str | None = None, page_size: int = 100) -> Iterator[Group]:
        """Every group (whose name contains ``name``), by id, fetching pages as needed."""
        return self._client._iterate(_list_groups(name, page_size))

    def create(self, name: str, description: str = "", direction: Direction = "both") -> Group:
        return self._client._send(_create_group(name, description, direction))

    def get(self, group_id: int) -> Group:
        return self._client._send(_get_group(group_id))

    def update(
        self,
        group_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        direction: Direction | None = None,
    ) -> Group:
        """Change the fields given; the others stay."""
        return self._client._send(_update_group(group_id, name, description, direction))

    def delete(self, group_id: int) -> None:
        """Delete the group and all its entries."""
        self._client._send(_delete_group(group_id))


class NumbersAPI:
    """``Client.numbers``: the entries (numbers and prefixes) of a group."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        group_id: int,
        status: EntryStatus = "all",
        q: str | None = None,
        page_size: int = 100,
    ) -> Iterator[Entry]:
        return self._client._iterate(_list_numbers(group_id, status, q, page_size))

    def add(
        self,
        group_id: int,
        numbers: Sequence[NumberInput],
        *,
        expires_at: datetime | None = None,
        note: str | None = None,
        all_or_nothing: bool = False,
    ) -> AddResult:
        """Add numbers or prefixes (``"140*"``); those already there get the new expiry.

        ``expires_at`` must be timezone-aware and in the future; None: never expires. An
        entry already there keeps its note unless a new one is given.
        """
        return self._client._send(_add_numbers(group_id, numbers, expires_at, note, all_or_nothing))

    def remove(self, group_id: int, numbers: Sequence[NumberInput]) -> RemoveResult:
        return self._client._send(_remove_numbers(group_id, numbers))


class AuditAPI:
    """``Client.audit``: the change history, newest first."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        group_id: int | None = None,
        number: str | None = None,
        since: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[AuditEvent]:
        return self._client._iterate(_list_audit(group_id, number, since, page_size))


class AccountAPI:
    """``Client.account``: the account the API key belongs to."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self) -> Account:
        return self._client._send(_get_account())

    def update(self, *, block_anonymous: bool | None = None) -> Account:
        return self._client._send(_update_account(block_anonymous))


# --- the async client --------------------------------------------------------------------------


class AsyncClient(_BaseClient):
    """The async client. Use it as an async context manager, or await :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=timeout, transport=transport
        )
        self.groups = AsyncGroupsAPI(self)
        self.numbers = AsyncNumbersAPI(self)
        self.audit = AsyncAuditAPI(self)
        self.account = AsyncAccountAPI(self)

    async def _send(self, call: _Call[_T]) -> _T:
        try:
            response = await self._http.request(
                call.method, call.path, params=call.params, json=call.json
            )
        except httpx.TransportError as exc:
            raise _transport_error(call, exc) from exc
        return _result(call, response)

    async def _iterate(self, listing: _Listing[_T]) -> AsyncIterator[_T]:
        cursor: str | None = None
        while True:
            page = await self._send(listing.page(cursor))
            for item in page.items:
                yield item
            cursor = _next_cursor(cursor, page)
            if cursor is None:
                return

    async def check(self, number: str, direction: CheckDirection | None = None) -> CheckResult:
        """Is ``number`` blocked now? ``direction`` of the call; None: any group counts."""
        return await self._send(_check(number, direction))

    async def check_many(
        self, numbers: Sequence[NumberInput], direction: CheckDirection | None = None
    ) -> list[BatchResult]:
        """Check many numbers in one request; one result per input, in order."""
        return await self._send(_check_many(numbers, direction))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncGroupsAPI:
    """``AsyncClient.groups``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def list(self, name: str | None = None, page_size: int = 100) -> AsyncIterator[Group]:
        """Every group (whose name contains ``name``), by id, fetching pages as needed."""
        return self._client._iterate(_list_groups(name, page_size))

    async def create(
        self, name: str, description: str = "", direction: Direction = "both"
    ) -> Group:
        return await self._client._send(_create_group(name, description, direction))

    async def get(self, group_id: int) -> Group:
        return await self._client._send(_get_group(group_id))

    async def update(
        self,
        group_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        direction: Direction | None = None,
    ) -> Group:
        """Change the fields given; the others stay."""
        return await self._client._send(_update_group(group_id, name, description, direction))

    async def delete(self, group_id: int) -> None:
        """Delete the group and all its entries."""
        await self._client._send(_delete_group(group_id))


class AsyncNumbersAPI:
    """``AsyncClient.numbers``: the entries (numbers and prefixes) of a group."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def list(
        self,
        group_id: int,
        status: EntryStatus = "all",
        q: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Entry]:
        return self._client._iterate(_list_numbers(group_id, status, q, page_size))

    async def add(
        self,
        group_id: int,
        numbers: Sequence[NumberInput],
        *,
        expires_at: datetime | None = None,
        note: str | None = None,
        all_or_nothing: bool = False,
    ) -> AddResult:
        """Add numbers or prefixes (``"140*"``); those already there get the new expiry.

        ``expires_at`` must be timezone-aware and in the future; None: never expires. An
        entry already there keeps its note unless a new one is given.
        """
        return await self._client._send(
            _add_numbers(group_id, numbers, expires_at, note, all_or_nothing)
        )

    async def remove(self, group_id: int, numbers: Sequence[NumberInput]) -> RemoveResult:
        return await self._client._send(_remove_numbers(group_id, numbers))


class AsyncAuditAPI:
    """``AsyncClient.audit``: the change history, newest first."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def list(
        self,
        group_id: int | None = None,
        number: str | None = None,
        since: datetime | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[AuditEvent]:
        return self._client._iterate(_list_audit(group_id, number, since, page_size))


class AsyncAccountAPI:
    """``AsyncClient.account``: the account the API key belongs to."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self) -> Account:
        return await self._client._send(_get_account())

    async def update(self, *, block_anonymous: bool | None = None) -> Account:
        return await self._client._send(_update_account(block_anonymous))
