"""The ``/v1`` operations, each described once, and what both clients share.

An operation is a function of the method's arguments that checks what can be checked without
asking the API (``TypeError``/``ValueError`` before anything is sent) and returns a
:class:`Call`: method, path, query, JSON body and the parser of its answer; a paginated GET
is a :class:`Listing`, one :class:`Call` per page. The clients only send: the async client's
``_send`` awaits ``httpx.AsyncClient.request``, the generated sync one calls
``httpx.Client.request``, and both hand the answer to :func:`result`.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeAlias, TypeVar, get_args
from urllib.parse import quote

import httpx

from callblock._version import __version__
from callblock.client import _parse as parse
from callblock.client._errors import CallblockError, ChangesReset, TransportError
from callblock.client._models import (
    Account,
    AddResult,
    ApiKey,
    AuditEvent,
    BatchResult,
    BinaryFile,
    BinaryOutput,
    CallingWindow,
    CallingWindowInput,
    Campaign,
    CampaignBatchResult,
    CampaignCheckResult,
    CampaignRef,
    CheckDirection,
    CheckResult,
    Direction,
    Entry,
    EntryStatus,
    FileInput,
    FileOutput,
    Group,
    GroupKind,
    GroupScope,
    ImportMode,
    ImportResult,
    IssuedApiKey,
    Keep,
    KeyScope,
    LineFormat,
    NumberInput,
    RemoveResult,
    StaleEntry,
    Stats,
    StatsBucket,
)

__all__ = [
    "BaseClient",
    "Call",
    "Listing",
    "add_numbers",
    "attach_groups",
    "campaign_check",
    "campaign_check_many",
    "changes",
    "changes_reset",
    "check",
    "check_many",
    "create_campaign",
    "create_group",
    "create_key",
    "delete_campaign",
    "delete_group",
    "detach_group",
    "export_numbers",
    "get_account",
    "get_campaign",
    "get_group",
    "get_stats",
    "import_numbers",
    "list_audit",
    "list_campaigns",
    "list_groups",
    "list_keys",
    "list_numbers",
    "list_stale",
    "next_cursor",
    "opened",
    "purge_expired",
    "remove_numbers",
    "result",
    "revoke_key",
    "stale_csv",
    "transport_error",
    "unreadable",
    "update_account",
    "update_campaign",
    "update_group",
    "written",
]

_T = TypeVar("_T")
_Params: TypeAlias = dict[str, str | int]


@dataclass(frozen=True, slots=True)
class Call(Generic[_T]):
    """One request, and how to read its success answer (None for an empty body)."""

    method: str
    path: str
    parse: Callable[[Any], _T]
    params: _Params | None = None
    json: dict[str, Any] | None = None
    # The server reads the whole body before it answers (an import of a registry: a minute
    # or more), so the answer is awaited without a read timeout.
    waits: bool = False


@dataclass(frozen=True, slots=True)
class Listing(Generic[_T]):
    """A paginated listing: the same GET, page after page, each with the previous cursor."""

    path: str
    params: _Params
    item: Callable[[Any], _T]

    def page(self, cursor: str | None) -> Call[parse.Page[_T]]:
        params = dict(self.params)
        if cursor is not None:
            params["cursor"] = cursor
        item = self.item
        return Call("GET", self.path, lambda body: parse.page(body, item), params)


def next_cursor(previous: str | None, page: parse.Page[Any]) -> str | None:
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


def _id(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def _campaign_path(campaign_id: int) -> str:
    return f"/v1/campaigns/{_id('campaign_id', campaign_id)}"


def _group_ids(group_ids: Sequence[int]) -> list[int]:
    if isinstance(group_ids, int):
        raise TypeError("group_ids must be a list of group ids, not a single one")
    return [_id("each of group_ids", group_id) for group_id in group_ids]


def _campaign_name(campaign: CampaignRef) -> str:
    if isinstance(campaign, bool) or not isinstance(campaign, str | int):
        raise TypeError(f"campaign must be an id or a name, not {type(campaign).__name__}")
    text = str(campaign)
    if not text.strip():
        raise ValueError("campaign must not be empty")
    return text


def _window(window: CallingWindowInput | None) -> dict[str, Any] | None:
    """A calling window's JSON form; the API judges its sense (422 naming the part)."""
    if window is None:
        return None
    if isinstance(window, CallingWindow):
        return {"days": list(window.days), "start": window.start, "end": window.end}
    if isinstance(window, Mapping):
        return dict(window)
    raise TypeError(
        f"calling_window must be a CallingWindow, a mapping or None, not {type(window).__name__}"
    )


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


# --- the operations, in the order of docs/sdk.md's table ------------------------------------------


def list_groups(name: str | None, page_size: int) -> Listing[Group]:
    params: _Params = {"limit": page_size}
    if name is not None:
        params["name"] = name
    return Listing("/v1/groups", params, parse.group)


def create_group(
    name: str,
    description: str,
    direction: Direction,
    kind: GroupKind,
    scope: GroupScope,
    consent_overrides: bool,
) -> Call[Group]:
    body: dict[str, Any] = {"name": name, "description": description, "direction": direction}
    # Sent only when not the default, so that a server older than campaigns (which has only
    # global block groups) still takes a plain create.
    if kind != "block":
        body["kind"] = kind
    if scope != "global":
        body["scope"] = scope
    if consent_overrides:
        body["consent_overrides"] = consent_overrides
    return Call("POST", "/v1/groups", parse.group, json=body)


def get_group(group_id: int) -> Call[Group]:
    return Call("GET", _group_path(group_id), parse.group)


def update_group(
    group_id: int,
    name: str | None,
    description: str | None,
    direction: Direction | None,
    kind: GroupKind | None,
    scope: GroupScope | None,
    consent_overrides: bool | None,
) -> Call[Group]:
    fields = {
        "name": name,
        "description": description,
        "direction": direction,
        "kind": kind,
        "scope": scope,
        "consent_overrides": consent_overrides,
    }
    body = {key: value for key, value in fields.items() if value is not None}
    return Call("PATCH", _group_path(group_id), parse.group, json=body)


def delete_group(group_id: int) -> Call[None]:
    return Call("DELETE", _group_path(group_id), parse.nothing)


def list_numbers(
    group_id: int, status: EntryStatus, q: str | None, page_size: int
) -> Listing[Entry]:
    params: _Params = {"status": status, "limit": page_size}
    if q is not None:
        params["q"] = q
    return Listing(_group_path(group_id) + "/numbers", params, parse.entry)


def add_numbers(
    group_id: int,
    numbers: Sequence[NumberInput],
    expires_at: datetime | None,
    note: str | None,
    all_or_nothing: bool,
) -> Call[AddResult]:
    body: dict[str, Any] = {"numbers": _numbers(numbers), "all_or_nothing": all_or_nothing}
    if expires_at is not None:
        body["expires_at"] = _instant("expires_at", expires_at)
    if note is not None:
        body["note"] = note
    return Call("POST", _group_path(group_id) + "/numbers", parse.add_result, json=body)


def _share(name: str, value: float) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number from 0 to 1, not {type(value).__name__}")
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(f"{name} must be from 0 to 1 (a share of the group), not {value!r}")
    return repr(float(value))


def import_numbers(
    group_id: int,
    file: FileInput,
    mode: ImportMode,
    max_removal: float,
    skip_invalid: bool,
    column: str | None,
    expiry_column: str | None,
    op_column: str | None,
    line_format: LineFormat | None,
    file_name: str | None,
    note: str | None,
) -> Call[ImportResult]:
    """The import of ``file`` (its body, the file streamed, is the client's to send, from
    :func:`opened`); ``file_name`` defaults to a path's base name."""
    path = _group_path(group_id) + "/numbers:import"
    if isinstance(file, str | os.PathLike):
        if file_name is None:
            file_name = os.path.basename(os.fspath(file)) or None
    elif isinstance(file, io.TextIOBase):
        raise TypeError("file must be opened in binary mode (open(path, 'rb')), not text mode")
    elif not callable(getattr(file, "read", None)):
        raise TypeError(f"file must be a path or a binary file object, not {type(file).__name__}")
    if mode not in get_args(ImportMode):
        raise ValueError(f"mode must be one of {', '.join(get_args(ImportMode))}, not {mode!r}")
    if line_format is not None and line_format not in get_args(LineFormat):
        formats = ", ".join(get_args(LineFormat))
        raise ValueError(f"line_format must be one of {formats}, not {line_format!r}")
    params: _Params = {"mode": mode}
    if mode == "replace":  # the API reads it for a replace only
        params["max_removal"] = _share("max_removal", max_removal)
    if skip_invalid:
        params["skip_invalid"] = "true"
    optional = {
        "column": column,
        "expiry_column": expiry_column,
        "op_column": op_column,
        "format": line_format,
        "file_name": file_name,
        "note": note,
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    return Call("POST", path, parse.import_result, params, waits=True)


@contextmanager
def opened(file: FileInput) -> Iterator[BinaryFile]:
    """The file object an import's body is read from: a path opened here (and closed after),
    or the file object given, read from where it stands and left open."""
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as stream:
            yield stream
    else:
        yield file


def export_numbers(group_id: int) -> Call[None]:
    """The group's CSV export; its answer is streamed (``ExportRows`` reads it), so ``parse``
    is never called."""
    return Call("GET", _group_path(group_id) + "/numbers.csv", parse.nothing)


def remove_numbers(group_id: int, numbers: Sequence[NumberInput]) -> Call[RemoveResult]:
    body = {"numbers": _numbers(numbers)}
    return Call("DELETE", _group_path(group_id) + "/numbers", parse.remove_result, json=body)


def purge_expired(group_id: int) -> Call[int]:
    path = _group_path(group_id) + "/numbers"
    return Call("DELETE", path, parse.purged, {"status": "expired"})


def _check_path(number: str) -> str:
    if not isinstance(number, str):
        raise TypeError(f"number must be a string, not {type(number).__name__}")
    if not number:
        raise ValueError("number must not be empty (check_many accepts an empty caller ID)")
    segment = quote(number, safe="")
    if segment in (".", ".."):  # would be read as a relative path
        segment = segment.replace(".", "%2E")
    return f"/v1/check/{segment}"


def check(number: str, direction: CheckDirection | None) -> Call[CheckResult]:
    params: _Params | None = None if direction is None else {"direction": direction}
    return Call("GET", _check_path(number), parse.check_result, params)


def campaign_check(
    number: str, direction: CheckDirection | None, campaign: CampaignRef
) -> Call[CampaignCheckResult]:
    path = _check_path(number)
    params: _Params = {"campaign": _campaign_name(campaign)}
    if direction is not None:
        params["direction"] = direction
    return Call("GET", path, parse.campaign_check_result, params)


def check_many(
    numbers: Sequence[NumberInput], direction: CheckDirection | None
) -> Call[list[BatchResult]]:
    body: dict[str, Any] = {"numbers": _numbers(numbers)}
    if direction is not None:
        body["direction"] = direction
    return Call("POST", "/v1/check", parse.batch_results, json=body)


def campaign_check_many(
    numbers: Sequence[NumberInput], direction: CheckDirection | None, campaign: CampaignRef
) -> Call[list[CampaignBatchResult]]:
    body: dict[str, Any] = {"numbers": _numbers(numbers), "campaign": _campaign_name(campaign)}
    if direction is not None:
        body["direction"] = direction
    return Call("POST", "/v1/check", parse.campaign_batch_results, json=body)


def list_campaigns() -> Call[list[Campaign]]:
    return Call("GET", "/v1/campaigns", parse.campaigns)


def create_campaign(
    name: str, description: str, calling_window: CallingWindowInput | None, group_ids: Sequence[int]
) -> Call[Campaign]:
    body = {
        "name": name,
        "description": description,
        "calling_window": _window(calling_window),
        "group_ids": _group_ids(group_ids),
    }
    return Call("POST", "/v1/campaigns", parse.campaign, json=body)


def get_campaign(campaign_id: int) -> Call[Campaign]:
    return Call("GET", _campaign_path(campaign_id), parse.campaign)


def update_campaign(
    campaign_id: int,
    name: str | None,
    description: str | None,
    calling_window: CallingWindowInput | Keep | None,
) -> Call[Campaign]:
    fields = {"name": name, "description": description}
    body: dict[str, Any] = {key: value for key, value in fields.items() if value is not None}
    if not isinstance(calling_window, Keep):  # None is sent: it removes the window
        body["calling_window"] = _window(calling_window)
    return Call("PATCH", _campaign_path(campaign_id), parse.campaign, json=body)


def attach_groups(campaign_id: int, group_ids: Sequence[int]) -> Call[Campaign]:
    body = {"group_ids": _group_ids(group_ids)}
    return Call("POST", _campaign_path(campaign_id) + "/groups", parse.campaign, json=body)


def detach_group(campaign_id: int, group_id: int) -> Call[Campaign]:
    path = f"{_campaign_path(campaign_id)}/groups/{_id('group_id', group_id)}"
    return Call("DELETE", path, parse.campaign)


def delete_campaign(campaign_id: int) -> Call[None]:
    return Call("DELETE", _campaign_path(campaign_id), parse.nothing)


def list_audit(
    group_id: int | None,
    number: str | None,
    since: datetime | None,
    page_size: int,
    until: datetime | None = None,
) -> Listing[AuditEvent]:
    params: _Params = {"limit": page_size}
    if group_id is not None:
        _group_path(group_id)  # the same check of the id
        params["group_id"] = group_id
    if number is not None:
        params["number"] = number
    if since is not None:
        params["since"] = _instant("since", since)
    if until is not None:
        params["until"] = _instant("until", until)
    return Listing("/v1/audit", params, parse.audit_event)


def changes(since: str | None, group_id: int | None, page_size: int) -> Call[parse.ChangesPage]:
    params: _Params = {"limit": page_size}
    if since is not None:
        if not isinstance(since, str) or not since:
            raise TypeError("since must be a token (a non-empty string) from an earlier answer")
        params["since"] = since
    if group_id is not None:
        _group_path(group_id)  # the same check of the id
        params["group_id"] = group_id
    return Call("GET", "/v1/changes", parse.changes_page, params)


def changes_reset(page: parse.ChangesPage) -> ChangesReset:
    return ChangesReset(
        "The change feed cannot go on from this token: the changes after it are older than "
        "the change log keeps. Copy the groups afresh, then follow from .token.",
        status=200,
        title="Change feed reset",
        detail=page.detail or "",
        token=page.next,
    )


def get_account() -> Call[Account]:
    return Call("GET", "/v1/account", parse.account)


def update_account(
    block_anonymous: bool | None, region: str | None, timezone: str | None
) -> Call[Account]:
    fields = {"block_anonymous": block_anonymous, "region": region, "timezone": timezone}
    body = {key: value for key, value in fields.items() if value is not None}
    return Call("PATCH", "/v1/account", parse.account, json=body)


def list_keys() -> Call[list[ApiKey]]:
    return Call("GET", "/v1/keys", parse.api_keys)


def _scopes(scopes: Sequence[KeyScope]) -> list[str]:
    """The scopes of a key to issue; which names are scopes is the API's to judge (a 422
    naming ``scopes``), so that a scope added later needs no new SDK."""
    if isinstance(scopes, str | bytes):
        raise TypeError("scopes must be a list of scopes (['check']), not a single string")
    if not isinstance(scopes, Iterable):
        raise TypeError(f"scopes must be a list of scopes, not {type(scopes).__name__}")
    named: list[str] = list(scopes)
    for scope in named:
        if not isinstance(scope, str):
            raise TypeError(f"each of scopes must be a string, not {type(scope).__name__}")
    if not named:
        raise ValueError("scopes must name at least one of check, read, write and admin")
    return named


def create_key(label: str, scopes: Sequence[KeyScope]) -> Call[IssuedApiKey]:
    body = {"label": label, "scopes": _scopes(scopes)}
    return Call("POST", "/v1/keys", parse.issued_api_key, json=body)


def revoke_key(key_id: int) -> Call[None]:
    return Call("DELETE", f"/v1/keys/{_id('key_id', key_id)}", parse.nothing)


def _days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"days must be an int, not {type(days).__name__}")
    if days < 1:
        raise ValueError(f"days must be 1 or more, not {days}")
    return days


def list_stale(group_id: int, days: int, page_size: int) -> Listing[StaleEntry]:
    params: _Params = {"days": _days(days), "limit": page_size}
    return Listing(_group_path(group_id) + "/stale", params, parse.stale_entry)


def stale_csv(group_id: int, days: int, file: FileOutput) -> Call[None]:
    """The group's stale entries as one CSV file, to download into ``file`` (see
    :func:`written`); its answer is read by ``CsvDownload``, so ``parse`` is never called."""
    params: _Params = {"days": _days(days), "format": "csv"}
    _output(file)
    return Call("GET", _group_path(group_id) + "/stale", parse.nothing, params)


def _output(file: FileOutput) -> None:
    if isinstance(file, str | os.PathLike):
        return
    if isinstance(file, io.TextIOBase):
        raise TypeError("file must be opened in binary mode (open(path, 'wb')), not text mode")
    if not callable(getattr(file, "write", None)):
        raise TypeError(f"file must be a path or a binary file object, not {type(file).__name__}")


@contextmanager
def written(file: FileOutput) -> Iterator[BinaryOutput]:
    """The file object a download is written to. A path is written whole or not at all: into
    a new file beside it, which replaces it once the download is complete (and is removed if
    it is not). A file object is written from where it stands, and left open."""
    _output(file)
    if not isinstance(file, str | os.PathLike):
        yield file
        return
    path = os.fspath(file)
    partial = f"{path}.{os.getpid()}-{secrets.token_hex(4)}.part"
    try:
        with open(partial, "xb") as stream:
            yield stream
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


_BUCKETS = get_args(StatsBucket)


def get_stats(
    bucket: StatsBucket,
    start: datetime | None,
    end: datetime | None,
    group_id: int | None,
    campaign: CampaignRef | None,
) -> Call[Stats]:
    if bucket not in _BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(_BUCKETS)}, not {bucket!r}")
    params: _Params = {"bucket": bucket}
    if start is not None:
        params["from"] = _instant("start", start)
    if end is not None:
        params["to"] = _instant("end", end)
    if group_id is not None:
        _group_path(group_id)  # the same check of the id
        params["group_id"] = group_id
    if campaign is not None:
        params["campaign"] = _campaign_name(campaign)
    return Call("GET", "/v1/stats", parse.stats, params)


# --- answers ------------------------------------------------------------------------------------


def result(call: Call[_T], response: httpx.Response) -> _T:
    """The parsed answer of a success, or the error to raise."""
    if not response.is_success:
        raise parse.error_answer(response)
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


def unreadable(call: Call[Any], exc: ValueError) -> CallblockError:
    """The error for a success answer whose body is not what the operation documents."""
    return CallblockError(
        f"{call.method} {call.path} answered with a body the SDK cannot read: {exc}",
        title="Unreadable answer",
        detail=str(exc),
    )


def transport_error(call: Call[Any], exc: httpx.TransportError) -> TransportError:
    reason = str(exc) or type(exc).__name__
    return TransportError(
        f"{call.method} {call.path}: no answer ({type(exc).__name__}: {reason})",
        title=type(exc).__name__,
        detail=reason,
    )


class BaseClient:
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
