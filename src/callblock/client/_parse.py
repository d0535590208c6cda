"""Reading the API's answers: JSON bodies into the result dataclasses, error answers into errors.

Shared by both clients and free of I/O. A success body without the documented shape raises
:class:`Malformed` (a ``ValueError``), which ``_operations.result`` turns into a
:class:`CallblockError` naming the request.
"""

from __future__ import annotations

import codecs
import csv
import email.utils
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, Literal, TypeVar, cast

import httpx

from callblock.client._errors import (
    AuthError,
    CallblockError,
    Conflict,
    Forbidden,
    InvalidLines,
    NotFound,
    RateLimited,
    ServerError,
    TooManyRemovals,
    ValidationError,
)
from callblock.client._models import (
    Account,
    AddResult,
    ApiKey,
    AttachedGroup,
    AuditEvent,
    BatchReason,
    BatchResult,
    CallingWindow,
    Campaign,
    CampaignBatchResult,
    CampaignCheckResult,
    Change,
    ChangedCampaign,
    ChangedEntry,
    ChangedGroup,
    CheckResult,
    Direction,
    Entry,
    Group,
    GroupKind,
    GroupMatches,
    GroupScope,
    HeaderLine,
    ImportResult,
    InvalidItem,
    InvalidLine,
    IssuedApiKey,
    KeyScope,
    Match,
    NumberInput,
    Reason,
    ReasonCode,
    RemoveResult,
    StaleEntry,
    Stats,
    StatsBucket,
    StatsPoint,
    TopEntry,
    Weekday,
)

__all__ = [
    "INVALID_CHANGE_TOKEN",
    "INVALID_LINES",
    "STALE_COLUMNS",
    "TOO_MANY_REMOVALS",
    "ChangesPage",
    "CsvDownload",
    "ExportRows",
    "Malformed",
    "Page",
    "account",
    "add_result",
    "api_key",
    "api_keys",
    "audit_event",
    "batch_results",
    "campaign",
    "campaign_batch_results",
    "campaign_check_result",
    "campaigns",
    "change",
    "changes_page",
    "check_result",
    "entry",
    "error_answer",
    "export_entry",
    "export_pattern",
    "group",
    "import_result",
    "issued_api_key",
    "nothing",
    "page",
    "purged",
    "remove_result",
    "stale_entry",
    "stats",
]

_T = TypeVar("_T")


# --- success answers ---------------------------------------------------------------------------


class Malformed(ValueError):
    """A success answer that does not have the documented shape."""


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"expected a JSON object, got {value!r:.80}")
    return value


def _get(obj: Mapping[str, Any], key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise Malformed(f"the answer has no {key!r}") from None


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = _get(obj, key)
    if not isinstance(value, str):
        raise Malformed(f"{key!r} is not a string: {value!r:.80}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    return None if obj.get(key) is None else _str(obj, key)


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = _get(obj, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"{key!r} is not an integer: {value!r:.80}")
    return value


def _opt_int(obj: Mapping[str, Any], key: str) -> int | None:
    return None if obj.get(key) is None else _int(obj, key)


def _bool(obj: Mapping[str, Any], key: str) -> bool:
    value = _get(obj, key)
    if not isinstance(value, bool):
        raise Malformed(f"{key!r} is not a boolean: {value!r:.80}")
    return value


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = _get(obj, key)
    if not isinstance(value, list):
        raise Malformed(f"{key!r} is not a list: {value!r:.80}")
    return value


def _number_input(value: Any) -> NumberInput | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise Malformed(f"not a number input: {value!r:.80}")


def _datetime(obj: Mapping[str, Any], key: str) -> datetime:
    text = _str(obj, key)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Malformed(f"{key!r} is not an ISO 8601 date-time: {text!r:.80}") from None
    # The API always sends an offset; an instant without one can only mean UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _opt_datetime(obj: Mapping[str, Any], key: str) -> datetime | None:
    return None if obj.get(key) is None else _datetime(obj, key)


def _role(obj: Mapping[str, Any]) -> tuple[GroupKind, GroupScope, bool]:
    """A group's kind, scope and consent override; a server older than campaigns sends none
    of them, and every group it has is what they default to (a global block group)."""
    kind = "block" if obj.get("kind") is None else _str(obj, "kind")
    scope = "global" if obj.get("scope") is None else _str(obj, "scope")
    overrides = obj.get("consent_overrides") is not None and _bool(obj, "consent_overrides")
    return cast(GroupKind, kind), cast(GroupScope, scope), overrides


def group(body: Any) -> Group:
    obj = _object(body)
    kind, scope, consent_overrides = _role(obj)
    return Group(
        id=_int(obj, "id"),
        name=_str(obj, "name"),
        description=_str(obj, "description"),
        direction=cast(Direction, _str(obj, "direction")),
        active_count=_int(obj, "active_count"),
        expired_count=_int(obj, "expired_count"),
        created_at=_datetime(obj, "created_at"),
        updated_at=_datetime(obj, "updated_at"),
        kind=kind,
        scope=scope,
        consent_overrides=consent_overrides,
        # A server older than refresh times sends neither: nothing is known of them.
        refreshed_at=_opt_datetime(obj, "refreshed_at"),
        refreshed_from=_opt_str(obj, "refreshed_from"),
    )


def entry(body: Any) -> Entry:
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
        # An export's rows and an older server's listings have neither.
        national=_opt_str(obj, "national"),
        international=_opt_str(obj, "international"),
    )


def stale_entry(body: Any) -> StaleEntry:
    """An entry of a stale-entries page: an entry, and the last day a check matched it."""
    obj = _object(body)
    listed = entry(obj)
    matched = _opt_str(obj, "last_matched_on")
    try:
        last = None if matched is None else date.fromisoformat(matched)
    except ValueError:
        raise Malformed(f"'last_matched_on' is not a date: {matched!r:.80}") from None
    return StaleEntry(
        number=listed.number,
        kind=listed.kind,
        status=listed.status,
        expires_at=listed.expires_at,
        note=listed.note,
        source=listed.source,
        created_at=listed.created_at,
        updated_at=listed.updated_at,
        national=listed.national,
        international=listed.international,
        last_matched_on=last,
    )


def _stats_point(body: Any) -> StatsPoint:
    obj = _object(body)
    return StatsPoint(
        start=_datetime(obj, "start"),
        checks=_int(obj, "checks"),
        blocked=_int(obj, "blocked"),
        invalid=_int(obj, "invalid"),
        matched=_int(obj, "matched"),
    )


def _group_matches(body: Any) -> GroupMatches:
    obj = _object(body)
    return GroupMatches(
        group_id=_int(obj, "group_id"), name=_str(obj, "name"), matched=_int(obj, "matched")
    )


def _top_entry(body: Any) -> TopEntry:
    obj = _object(body)
    return TopEntry(
        group_id=_int(obj, "group_id"),
        group_name=_str(obj, "group_name"),
        number=_str(obj, "number"),
        international=_str(obj, "international"),
        hits=_int(obj, "hits"),
    )


def stats(body: Any) -> Stats:
    obj = _object(body)
    return Stats(
        bucket=cast(StatsBucket, _str(obj, "bucket")),
        start=_datetime(obj, "from"),
        end=_datetime(obj, "to"),
        group_id=_opt_int(obj, "group_id"),
        campaign_id=_opt_int(obj, "campaign_id"),
        checks=_int(obj, "checks"),
        blocked=_int(obj, "blocked"),
        series=tuple(_stats_point(p) for p in _list(obj, "series")),
        by_group=tuple(_group_matches(g) for g in _list(obj, "by_group")),
        top_entries=tuple(_top_entry(t) for t in _list(obj, "top_entries")),
    )


def _invalid_items(obj: Mapping[str, Any]) -> tuple[InvalidItem, ...]:
    items = []
    for raw in _list(obj, "invalid"):
        item = _object(raw)
        items.append(InvalidItem(_number_input(item.get("input")), _str(item, "reason")))
    return tuple(items)


def add_result(body: Any) -> AddResult:
    obj = _object(body)
    return AddResult(
        added=_int(obj, "added"), updated=_int(obj, "updated"), invalid=_invalid_items(obj)
    )


def remove_result(body: Any) -> RemoveResult:
    obj = _object(body)
    not_found = []
    for raw in _list(obj, "not_found"):
        value = _number_input(raw)
        if value is None:
            raise Malformed("'not_found' holds a null")
        not_found.append(value)
    return RemoveResult(
        removed=_int(obj, "removed"), not_found=tuple(not_found), invalid=_invalid_items(obj)
    )


def _invalid_line(body: Any) -> InvalidLine:
    obj = _object(body)
    return InvalidLine(line=_int(obj, "line"), input=_str(obj, "input"), reason=_str(obj, "reason"))


def import_result(body: Any) -> ImportResult:
    obj = _object(body)
    header = obj.get("header")
    if header is not None:
        cells = _object(header)
        header = HeaderLine(_int(cells, "line"), _strs(_list(cells, "cells"), "cells"))
    return ImportResult(
        added=_int(obj, "added"),
        updated=_int(obj, "updated"),
        repeats=_int(obj, "repeats"),
        removed=0 if obj.get("removed") is None else _int(obj, "removed"),
        invalid=tuple(_invalid_line(raw) for raw in _list(obj, "invalid")),
        header=header,
    )


def purged(body: Any) -> int:
    """How many expired entries a purge removed."""
    return _int(_object(body), "removed")


def _match(body: Any) -> Match:
    obj = _object(body)
    return Match(
        group_id=_opt_int(obj, "group_id"),
        group_name=_opt_str(obj, "group_name"),
        pattern=_str(obj, "pattern"),
        expires_at=_opt_datetime(obj, "expires_at"),
        rule=cast(Literal["number", "prefix", "block_anonymous"], _str(obj, "rule")),
    )


def check_result(body: Any) -> CheckResult:
    obj = _object(body)
    return CheckResult(
        number=_opt_str(obj, "number"),
        blocked=_bool(obj, "blocked"),
        matches=tuple(_match(m) for m in _list(obj, "matches")),
    )


def _strs(values: list[Any], key: str) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in values):
        raise Malformed(f"{key!r} holds something other than strings")
    return tuple(values)


def _reason(body: Any) -> Reason:
    obj = _object(body)
    allowed_by = obj.get("allowed_by")
    zones = obj.get("time_zones")
    return Reason(
        code=cast(ReasonCode, _str(obj, "code")),
        group_id=_opt_int(obj, "group_id"),
        group_name=_opt_str(obj, "group_name"),
        pattern=_opt_str(obj, "pattern"),
        expires_at=_opt_datetime(obj, "expires_at"),
        allowed_by=None if allowed_by is None else _match(allowed_by),
        time_zones=() if zones is None else _strs(_list(obj, "time_zones"), "time_zones"),
    )


def _campaign_named(obj: Mapping[str, Any]) -> tuple[int, str]:
    named = _object(_get(obj, "campaign"))
    return _int(named, "id"), _str(named, "name")


def campaign_check_result(body: Any) -> CampaignCheckResult:
    obj = _object(body)
    campaign_id, campaign_name = _campaign_named(obj)
    return CampaignCheckResult(
        number=_opt_str(obj, "number"),
        campaign_id=campaign_id,
        campaign_name=campaign_name,
        callable=_bool(obj, "callable"),
        blocked=_bool(obj, "blocked"),
        matches=tuple(_match(m) for m in _list(obj, "matches")),
        reasons=tuple(_reason(r) for r in _list(obj, "reasons")),
        next_callable_at=_opt_datetime(obj, "next_callable_at"),
    )


def _ints(values: list[Any], key: str) -> tuple[int, ...]:
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise Malformed(f"{key!r} holds something other than integers")
    return tuple(values)


def batch_results(body: Any) -> list[BatchResult]:
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


def _batch_reason(body: Any) -> BatchReason:
    obj = _object(body)
    return BatchReason(
        code=cast(ReasonCode, _str(obj, "code")),
        group_id=_opt_int(obj, "group_id"),
        pattern=_opt_str(obj, "pattern"),
        allowed_by_group_id=_opt_int(obj, "allowed_by_group_id"),
    )


def campaign_batch_results(body: Any) -> list[CampaignBatchResult]:
    results = []
    for raw in _list(_object(body), "results"):
        obj = _object(raw)
        results.append(
            CampaignBatchResult(
                input=_number_input(obj.get("input")),
                number=_opt_str(obj, "number"),
                callable=_bool(obj, "callable"),
                blocked=_bool(obj, "blocked"),
                group_ids=_ints(_list(obj, "group_ids"), "group_ids"),
                reasons=tuple(_batch_reason(r) for r in _list(obj, "reasons")),
                next_callable_at=_opt_datetime(obj, "next_callable_at"),
                error=_opt_str(obj, "error"),
            )
        )
    return results


def _calling_window(body: Any) -> CallingWindow | None:
    if body is None:
        return None
    obj = _object(body)
    return CallingWindow(
        days=cast(tuple[Weekday, ...], _strs(_list(obj, "days"), "days")),
        start=_str(obj, "start"),
        end=_str(obj, "end"),
    )


def _attached_group(body: Any) -> AttachedGroup:
    obj = _object(body)
    return AttachedGroup(
        id=_int(obj, "id"),
        name=_str(obj, "name"),
        scope=cast(GroupScope, _str(obj, "scope")),
        consent_overrides=_bool(obj, "consent_overrides"),
    )


def campaign(body: Any) -> Campaign:
    obj = _object(body)
    return Campaign(
        id=_int(obj, "id"),
        name=_str(obj, "name"),
        description=_str(obj, "description"),
        calling_window=_calling_window(obj.get("calling_window")),
        block_groups=tuple(_attached_group(g) for g in _list(obj, "block_groups")),
        allow_groups=tuple(_attached_group(g) for g in _list(obj, "allow_groups")),
        created_at=_datetime(obj, "created_at"),
        updated_at=_datetime(obj, "updated_at"),
    )


def campaigns(body: Any) -> list[Campaign]:
    return [campaign(raw) for raw in _list(_object(body), "data")]


def audit_event(body: Any) -> AuditEvent:
    obj = _object(body)
    numbers = _list(obj, "numbers")
    if not all(isinstance(n, str) for n in numbers):
        raise Malformed("'numbers' holds something other than strings")
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
        # A server older than key labels sends none: nothing is known of it.
        key_label=_opt_str(obj, "key_label"),
    )


def api_key(body: Any) -> ApiKey:
    obj = _object(body)
    return ApiKey(
        id=_int(obj, "id"),
        label=_str(obj, "label"),
        scopes=cast(tuple[KeyScope, ...], _strs(_list(obj, "scopes"), "scopes")),
        prefix=_str(obj, "prefix"),
        created_at=_datetime(obj, "created_at"),
        revoked_at=_opt_datetime(obj, "revoked_at"),
    )


def api_keys(body: Any) -> list[ApiKey]:
    return [api_key(raw) for raw in _list(_object(body), "data")]


def issued_api_key(body: Any) -> IssuedApiKey:
    """A key just issued: the fields of a listed one, and the key itself."""
    obj = _object(body)
    listed = api_key(obj)
    return IssuedApiKey(
        id=listed.id,
        label=listed.label,
        scopes=listed.scopes,
        prefix=listed.prefix,
        created_at=listed.created_at,
        revoked_at=listed.revoked_at,
        key=_str(obj, "key"),
    )


def account(body: Any) -> Account:
    obj = _object(body)
    return Account(
        username=_str(obj, "username"),
        region=_str(obj, "region"),
        timezone=_str(obj, "timezone"),
        auth_mode=_str(obj, "auth_mode"),
        block_anonymous=_bool(obj, "block_anonymous"),
    )


def _changed_entry(body: Any) -> ChangedEntry:
    obj = _object(body)
    return ChangedEntry(number=_str(obj, "number"), expires_at=_opt_datetime(obj, "expires_at"))


def _changed_group(body: Any) -> ChangedGroup | None:
    if body is None:
        return None
    obj = _object(body)
    kind, scope, consent_overrides = _role(obj)
    return ChangedGroup(
        id=_int(obj, "id"),
        name=_str(obj, "name"),
        description=_str(obj, "description"),
        direction=cast(Direction, _str(obj, "direction")),
        kind=kind,
        scope=scope,
        consent_overrides=consent_overrides,
    )


def _changed_campaign(body: Any) -> ChangedCampaign | None:
    if body is None:  # not a campaign's change, or a server older than campaigns
        return None
    obj = _object(body)
    return ChangedCampaign(
        id=_int(obj, "id"),
        name=_str(obj, "name"),
        description=_str(obj, "description"),
        calling_window=_calling_window(obj.get("calling_window")),
        group_ids=_ints(_list(obj, "group_ids"), "group_ids"),
    )


def change(body: Any) -> Change:
    obj = _object(body)
    removed = _list(obj, "removed")
    if not all(isinstance(n, str) for n in removed):
        raise Malformed("'removed' holds something other than strings")
    block_anonymous = obj.get("block_anonymous")
    return Change(
        version=_int(obj, "version"),
        at=_datetime(obj, "at"),
        action=_str(obj, "action"),
        group_id=_opt_int(obj, "group_id"),
        group=_changed_group(obj.get("group")),
        upserted=tuple(_changed_entry(e) for e in _list(obj, "upserted")),
        removed=tuple(removed),
        block_anonymous=None if block_anonymous is None else _bool(obj, "block_anonymous"),
        note=_opt_str(obj, "note"),
        continued=_bool(obj, "continued"),
        token=_str(obj, "token"),
        campaign=_changed_campaign(obj.get("campaign")),
    )


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One answer of the change feed."""

    changes: list[Change]
    next: str
    more: bool
    reset: bool
    detail: str | None


def changes_page(body: Any) -> ChangesPage:
    obj = _object(body)
    return ChangesPage(
        changes=[change(raw) for raw in _list(obj, "changes")],
        next=_str(obj, "next"),
        more=_bool(obj, "more"),
        reset=_bool(obj, "reset"),
        detail=_opt_str(obj, "detail"),
    )


# The problem type of a change token the API does not take (another key signed it, say).
INVALID_CHANGE_TOKEN = "urn:callblock:problem:invalid-change-token"


class ExportRows(Generic[_T]):
    """A group's CSV export (``GET /v1/groups/{id}/numbers.csv``), fed as text as it arrives,
    each row read by ``read`` (:func:`export_entry`, :func:`export_pattern`) with the header's
    columns. A note may hold a line break inside its quotes: a record ends at a line break
    outside quotes (an even count of quotes so far, since CSV doubles a quote inside a quoted
    field)."""

    def __init__(
        self,
        read: Callable[[Mapping[str, int], list[str]], _T],
        required: tuple[str, ...] | None = None,
    ) -> None:
        self._read = read
        self._required = _EXPORT_COLUMNS if required is None else required
        self._pending = ""
        self._columns: dict[str, int] | None = None

    def feed(self, text: str) -> list[_T]:
        """The rows completed by ``text``; pass ``""`` after the last chunk."""
        data = self._pending + text
        records = []
        begin = search = 0
        while (end := data.find("\n", search)) >= 0:
            search = end + 1
            if data.count('"', begin, end) % 2:  # inside a quoted field: the record goes on
                continue
            if end > begin:
                records.append(data[begin:end])
            begin = search
        self._pending = data[begin:]
        if not text and self._pending:  # the end: a last record without a line break
            records.append(self._pending)
            self._pending = ""
        rows = csv.reader(records)  # one record a string, line breaks in quotes and all
        if self._columns is None:
            header = next(rows, None)
            if header is None:
                return []
            self._columns = {name: i for i, name in enumerate(header)}
            missing = [name for name in self._required if name not in self._columns]
            if missing:
                raise Malformed(f"the export has no column {missing[0]!r}")
        columns = self._columns
        try:
            return [self._read(columns, cells) for cells in rows]
        except IndexError:
            raise Malformed("an export row has fewer cells than its header") from None


_EXPORT_COLUMNS = (
    "number",
    "kind",
    "status",
    "expires_at",
    "note",
    "source",
    "created_at",
    "updated_at",
)


STALE_COLUMNS = (
    "number",
    "kind",
    "status",
    "expires_at",
    "note",
    "created_at",
    "last_matched_on",
)
"""The columns of a group's stale entries as CSV (``GET /v1/groups/{id}/stale?format=csv``)."""


def _row(_columns: Mapping[str, int], _cells: list[str]) -> None:
    return None


class CsvDownload:
    """A CSV file as it downloads, fed its bytes as they arrive: counts its rows (the header
    not one), and refuses a file without ``required`` columns (:class:`Malformed`)."""

    def __init__(self, required: tuple[str, ...]) -> None:
        self._rows = ExportRows(_row, required)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.rows = 0

    def feed(self, chunk: bytes) -> None:
        text = self._decoder.decode(chunk)
        if text:  # an empty text would tell the end
            self.rows += len(self._rows.feed(text))

    def end(self) -> int:
        """The rows of the whole file, once its last bytes were fed."""
        self.feed(b"")
        text = self._decoder.decode(b"", final=True)
        if text:
            self.rows += len(self._rows.feed(text))
        self.rows += len(self._rows.feed(""))
        return self.rows


def export_entry(columns: Mapping[str, int], cells: list[str]) -> Entry:
    """An entry, from a row of a group's export."""
    row = {name: cells[i] for name, i in columns.items()}
    return entry(
        {
            **row,
            "expires_at": row["expires_at"] or None,
            "note": row["note"] or None,  # an export writes no note as an empty cell
        }
    )


def export_pattern(columns: Mapping[str, int], cells: list[str]) -> tuple[str, datetime | None]:
    """An entry's pattern and expiry, from a row of a group's export: all a check needs."""
    expires = cells[columns["expires_at"]]
    return cells[columns["number"]], _datetime(
        {"expires_at": expires}, "expires_at"
    ) if expires else None


def nothing(_body: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Page(Generic[_T]):
    """One page of a listing: its items and the cursor of the next page (None after the last)."""

    items: list[_T]
    count: int
    next_cursor: str | None


def page(body: Any, item: Callable[[Any], _T]) -> Page[_T]:
    obj = _object(body)
    return Page(
        items=[item(raw) for raw in _list(obj, "data")],
        count=_int(obj, "count"),
        next_cursor=_opt_str(obj, "next_cursor"),
    )


# --- error answers -----------------------------------------------------------------------------

# The statuses of the tree in _errors.py's docstring; 5xx is ServerError, any other CallblockError.
_STATUS_ERRORS: dict[int, type[CallblockError]] = {
    400: ValidationError,
    401: AuthError,
    403: Forbidden,
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


_PROBLEM = "urn:callblock:problem:"
TOO_MANY_REMOVALS = _PROBLEM + "too-many-removals"
INVALID_LINES = _PROBLEM + "invalid-lines"
_COUNTED = re.compile(r"([0-9][0-9,]*) invalid line")


def _too_many_removals(body: dict[str, Any]) -> dict[str, Any]:
    removing, present, share = body.get("removing"), body.get("present"), body.get("max_removal")
    return {
        "removing": removing if isinstance(removing, int) else 0,
        "present": present if isinstance(present, int) else 0,
        "max_removal": float(share) if isinstance(share, int | float) else 0.0,
    }


def _invalid_lines(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("invalid_lines")
    try:
        listed = [_invalid_line(item) for item in raw] if isinstance(raw, list) else []
    except Malformed:  # the refusal stands; only the list is unreadable
        listed = []
    detail = body.get("detail")
    counted = _COUNTED.match(detail) if isinstance(detail, str) else None
    total = int(counted.group(1).replace(",", "")) if counted else len(listed)
    return {"invalid_lines": listed, "total": max(total, len(listed))}


# Problem types with a class of their own under their status's, and what each reads from the
# problem's fields besides the common ones.
_TYPE_ERRORS: dict[str, tuple[type[CallblockError], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    TOO_MANY_REMOVALS: (TooManyRemovals, _too_many_removals),
    INVALID_LINES: (InvalidLines, _invalid_lines),
}


def error_answer(response: httpx.Response) -> CallblockError:
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
    if kind in _TYPE_ERRORS and isinstance(body, dict):
        special, fields = _TYPE_ERRORS[kind]
        if issubclass(special, cls):  # a type the status agrees with; else the status decides
            return special(
                message,
                status=status,
                title=title,
                detail=detail,
                errors=errors,
                type=kind,
                **fields(body),
            )
    if cls is Forbidden:
        needed = body.get("needed_scope") if isinstance(body, dict) else None
        return Forbidden(
            message,
            status=status,
            title=title,
            detail=detail,
            errors=errors,
            type=kind,
            needed_scope=needed if isinstance(needed, str) else None,
        )
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
