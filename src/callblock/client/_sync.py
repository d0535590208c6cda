# Generated from _async.py by python tools/unasync_client.py: do not edit by hand.
# Edit _async.py, then run that command; tests/test_sdk.py fails when this file is stale.
"""The sync client, :class:`Client`, generated from ``_async.py``: edit that file, then run
``python tools/unasync_client.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar, overload

import httpx

from callblock.client import _operations as op
from callblock.client import _parse as parse
from callblock.client._errors import ChangesReset, NotFound, ValidationError
from callblock.client._mirror import LocalCopy, utc_now
from callblock.client._models import (
    DEFAULT_TIMEOUT,
    KEEP,
    Account,
    AddResult,
    ApiKey,
    AuditEvent,
    BatchResult,
    BinaryFile,
    CallingWindowInput,
    Campaign,
    CampaignBatchResult,
    CampaignCheckResult,
    CampaignRef,
    Change,
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
    "AccountAPI",
    "AuditAPI",
    "CampaignsAPI",
    "Changes",
    "Client",
    "GroupsAPI",
    "KeysAPI",
    "Mirror",
    "NumbersAPI",
    "StatsAPI",
]

_T = TypeVar("_T")
_CHUNK_BYTES = 64 * 1024


def _chunks(file: BinaryFile) -> Iterator[bytes]:
    """The file's bytes, a chunk at a time, as the request body asks for them: an import of
    a gigabyte never holds more than a chunk. (Reading a local file does not wait long
    enough to need a thread.)"""
    while chunk := file.read(_CHUNK_BYTES):
        if not isinstance(chunk, bytes):
            raise TypeError(f"file must give bytes, not {type(chunk).__name__}: open it in 'rb'")
        yield chunk


class Client(op.BaseClient):
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
        self.campaigns = CampaignsAPI(self)
        self.audit = AuditAPI(self)
        self.account = AccountAPI(self)
        self.keys = KeysAPI(self)
        self.stats = StatsAPI(self)

    def _send(self, call: op.Call[_T], content: Iterator[bytes] | None = None) -> _T:
        """Send ``call``; ``content``, when given, is its body, sent as it is read."""
        try:
            response = self._http.request(
                call.method,
                call.path,
                params=call.params,
                json=call.json,
                content=content,
                timeout=httpx.Timeout(self.timeout, read=None) if call.waits else self.timeout,
            )
        except httpx.TransportError as exc:
            raise op.transport_error(call, exc) from exc
        return op.result(call, response)

    def _iterate(self, listing: op.Listing[_T]) -> Iterator[_T]:
        cursor: str | None = None
        while True:
            page = self._send(listing.page(cursor))
            yield from page.items
            cursor = op.next_cursor(cursor, page)
            if cursor is None:
                return

    def _items(self, call: op.Call[list[_T]]) -> Iterator[_T]:
        """The items of a listing the API answers whole, fetched when iteration starts."""
        yield from self._send(call)

    def _stream(self, call: op.Call[None], rows: parse.ExportRows[_T]) -> Iterator[_T]:
        """The rows of a CSV export, read as its answer arrives."""
        try:
            with self._http.stream(call.method, call.path, params=call.params) as response:
                if not response.is_success:
                    response.read()
                    raise parse.error_answer(response)
                for text in response.iter_text():
                    for row in rows.feed(text):
                        yield row
        except httpx.TransportError as exc:
            raise op.transport_error(call, exc) from exc
        for row in rows.feed(""):
            yield row

    def _download(self, call: op.Call[None], file: FileOutput, csv: parse.CsvDownload) -> int:
        """Download the CSV answer of ``call`` into ``file``, as it arrives; its rows. Nothing
        is written for an error answer."""
        try:
            with self._http.stream(call.method, call.path, params=call.params) as response:
                if not response.is_success:
                    response.read()
                    raise parse.error_answer(response)
                with op.written(file) as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        csv.feed(chunk)
                    rows = csv.end()
        except httpx.TransportError as exc:
            raise op.transport_error(call, exc) from exc
        except parse.Malformed as exc:
            raise op.unreadable(call, exc) from exc
        return rows

    def changes(
        self, since: str | None = None, group_id: int | None = None, page_size: int = 100
    ) -> Changes:
        """The account's changes after the token ``since``, oldest first, fetching answers
        until caught up; without it, none, and ``.token`` is the account's current version.
        Iterate over it; see :class:`Changes`."""
        op.changes(since, group_id, page_size)  # the arguments checked now, not when iterated
        return Changes(self, since, group_id, page_size)

    @overload
    def check(
        self, number: str, direction: CheckDirection | None = None, *, campaign: None = None
    ) -> CheckResult: ...

    @overload
    def check(
        self, number: str, direction: CheckDirection | None = None, *, campaign: CampaignRef
    ) -> CampaignCheckResult: ...

    def check(
        self,
        number: str,
        direction: CheckDirection | None = None,
        *,
        campaign: CampaignRef | None = None,
    ) -> CheckResult | CampaignCheckResult:
        """Is ``number`` blocked now? ``direction`` of the call; None: any group counts.

        With ``campaign`` (its id or name): may that campaign call the number now? A
        :class:`CampaignCheckResult`, with ``callable``, coded ``reasons`` and
        ``next_callable_at``; an unknown campaign raises :class:`NotFound`."""
        if campaign is None:
            return self._send(op.check(number, direction))
        return self._send(op.campaign_check(number, direction, campaign))

    @overload
    def check_many(
        self,
        numbers: Sequence[NumberInput],
        direction: CheckDirection | None = None,
        *,
        campaign: None = None,
    ) -> list[BatchResult]: ...

    @overload
    def check_many(
        self,
        numbers: Sequence[NumberInput],
        direction: CheckDirection | None = None,
        *,
        campaign: CampaignRef,
    ) -> list[CampaignBatchResult]: ...

    def check_many(
        self,
        numbers: Sequence[NumberInput],
        direction: CheckDirection | None = None,
        *,
        campaign: CampaignRef | None = None,
    ) -> list[BatchResult] | list[CampaignBatchResult]:
        """Check many numbers in one request; one result per input, in order. With
        ``campaign``, each says whether that campaign may call the number now."""
        if campaign is None:
            return self._send(op.check_many(numbers, direction))
        return self._send(op.campaign_check_many(numbers, direction, campaign))

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
        return self._client._iterate(op.list_groups(name, page_size))

    def create(
        self,
        name: str,
        description: str = "",
        direction: Direction = "both",
        kind: GroupKind = "block",
        scope: GroupScope = "global",
        consent_overrides: bool = False,
    ) -> Group:
        """A new group: by default a global block group, as every group was before
        campaigns. ``kind="allow"`` for consent; ``scope="attached"`` for a group that counts
        only in the campaigns it is attached to; ``consent_overrides`` for a block group an
        active allow entry lifts (a national registry)."""
        return self._client._send(
            op.create_group(name, description, direction, kind, scope, consent_overrides)
        )

    def get(self, group_id: int) -> Group:
        return self._client._send(op.get_group(group_id))

    def update(
        self,
        group_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        direction: Direction | None = None,
        kind: GroupKind | None = None,
        scope: GroupScope | None = None,
        consent_overrides: bool | None = None,
    ) -> Group:
        """Change the fields given; the others stay."""
        return self._client._send(
            op.update_group(group_id, name, description, direction, kind, scope, consent_overrides)
        )

    def delete(self, group_id: int) -> None:
        """Delete the group and all its entries."""
        self._client._send(op.delete_group(group_id))

    def stale(self, group_id: int, days: int = 30, page_size: int = 100) -> Iterator[StaleEntry]:
        """The group's entries that no check (single or batch) matched in the last ``days``
        UTC days and that were in the group all that time, in the group's order (prefixes
        first), each with the last day a check matched it; fetching pages as needed."""
        return self._client._iterate(op.list_stale(group_id, days, page_size))

    def download_stale(self, group_id: int, file: FileOutput, *, days: int = 30) -> int:
        """The same entries as :meth:`stale`, as one CSV file downloaded into ``file`` (a path,
        written whole or not at all, or a file object open for writing bytes), streamed as
        it arrives; answers how many entries it holds. The columns:
        ``number,kind,status,expires_at,note,created_at,last_matched_on``."""
        call = op.stale_csv(group_id, days, file)
        return self._client._download(call, file, parse.CsvDownload(parse.STALE_COLUMNS))


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
        return self._client._iterate(op.list_numbers(group_id, status, q, page_size))

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
        return self._client._send(
            op.add_numbers(group_id, numbers, expires_at, note, all_or_nothing)
        )

    def remove(self, group_id: int, numbers: Sequence[NumberInput]) -> RemoveResult:
        return self._client._send(op.remove_numbers(group_id, numbers))

    def purge_expired(self, group_id: int) -> int:
        """Remove every entry of the group whose expiry has passed, in one change however
        many; answer how many were removed (0: none had expired, and nothing was written)."""
        return self._client._send(op.purge_expired(group_id))

    def import_file(
        self,
        group_id: int,
        file: FileInput,
        *,
        mode: ImportMode = "add",
        max_removal: float = 0.2,
        skip_invalid: bool = False,
        column: str | None = None,
        expiry_column: str | None = None,
        op_column: str | None = None,
        line_format: LineFormat | None = None,
        file_name: str | None = None,
        note: str | None = None,
    ) -> ImportResult:
        """Import a CSV or text file (gzip or zip too) into the group, all or nothing.

        ``file`` is a path or a file object open for reading bytes, streamed as the body from
        where it stands (never read into memory whole). ``mode``: ``add`` the file's entries,
        ``replace`` the group by them (refused with :class:`TooManyRemovals` past
        ``max_removal``, a share of the group from 0 to 1), or ``changes`` (each line adds or
        deletes its number, by ``op_column`` or one found). Invalid lines refuse the whole
        file with :class:`InvalidLines` unless ``skip_invalid``, which imports the others
        and lists the skipped. ``column``/``expiry_column`` name or number (1-based) the
        columns; ``line_format`` None lets the API choose (``auto``). ``file_name``, recorded
        as the group's ``refreshed_from``, defaults to a path's base name (None for a file
        object). ``note`` is set on the file's entries (those a change list adds), as
        ``add`` sets one. See docs/api.md, the import row and the notes it names."""
        call = op.import_numbers(
            group_id,
            file,
            mode,
            max_removal,
            skip_invalid,
            column,
            expiry_column,
            op_column,
            line_format,
            file_name,
            note,
        )
        with op.opened(file) as source:
            return self._client._send(call, _chunks(source))

    def export(self, group_id: int) -> Iterator[Entry]:
        """Every entry of the group, expired ones too, from its CSV export: one streamed
        request however big the group (``list`` asks for a page at a time)."""
        return self._client._stream(
            op.export_numbers(group_id), parse.ExportRows(parse.export_entry)
        )


class CampaignsAPI:
    """``Client.campaigns``: the lists each campaign obeys and its calling window."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> Iterator[Campaign]:
        """Every campaign, by id (one request, sent when iteration starts)."""
        return self._client._items(op.list_campaigns())

    def create(
        self,
        name: str,
        description: str = "",
        calling_window: CallingWindowInput | None = None,
        group_ids: Sequence[int] = (),
    ) -> Campaign:
        """A new campaign, obeying every global group and the groups ``group_ids``
        (attached now); ``calling_window`` None: it may call at any time."""
        return self._client._send(op.create_campaign(name, description, calling_window, group_ids))

    def get(self, campaign_id: int) -> Campaign:
        return self._client._send(op.get_campaign(campaign_id))

    def update(
        self,
        campaign_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        calling_window: CallingWindowInput | Keep | None = KEEP,
    ) -> Campaign:
        """Change the fields given; the others stay. ``calling_window=None`` removes the
        window (the campaign may then call at any time); left out, the window stays."""
        return self._client._send(
            op.update_campaign(campaign_id, name, description, calling_window)
        )

    def attach(self, campaign_id: int, group_ids: Sequence[int]) -> Campaign:
        """Attach block or allow groups (those attached already stay)."""
        return self._client._send(op.attach_groups(campaign_id, group_ids))

    def detach(self, campaign_id: int, group_id: int) -> Campaign:
        """Detach a group; the group itself stays as it is."""
        return self._client._send(op.detach_group(campaign_id, group_id))

    def delete(self, campaign_id: int) -> None:
        """Delete the campaign; its groups and their entries stay."""
        self._client._send(op.delete_campaign(campaign_id))


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
        until: datetime | None = None,
    ) -> Iterator[AuditEvent]:
        """The history, newest first: of a group, of a number or prefix, and from ``since``
        (included) to ``until`` (not included)."""
        return self._client._iterate(op.list_audit(group_id, number, since, page_size, until))


class AccountAPI:
    """``Client.account``: the account the API key belongs to."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self) -> Account:
        return self._client._send(op.get_account())

    def update(
        self,
        *,
        block_anonymous: bool | None = None,
        region: str | None = None,
        timezone: str | None = None,
    ) -> Account:
        """Change the settings given; the others stay. ``region`` is the ISO 3166 region
        national numbers are read with (``"GB"``), ``timezone`` the IANA time zone an
        import's expiry without an offset is read in (``"Europe/London"``); one the server
        does not know raises :class:`ValidationError` naming it, and nothing changes."""
        return self._client._send(op.update_account(block_anonymous, region, timezone))


class KeysAPI:
    """``Client.keys``: the account's API keys, for a key with the ``admin`` scope."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> Iterator[ApiKey]:
        """Every key of the account, revoked ones too, oldest first (one request, sent when
        iteration starts); never the keys themselves."""
        return self._client._items(op.list_keys())

    def create(self, label: str = "", *, scopes: Sequence[KeyScope]) -> IssuedApiKey:
        """A new key with ``label`` (who or what holds it, as the history names it) and
        ``scopes``, one or more of ``check``, ``read``, ``write`` and ``admin`` (``write``
        includes ``read``, which includes ``check``). Give no more than the holder needs: a
        dialer checking numbers needs ``["check"]``. The answer's ``key`` is shown this once."""
        return self._client._send(op.create_key(label, scopes))

    def revoke(self, key_id: int) -> None:
        """Revoke a key: it stops working within a second or two, and so do the tokens made
        with it. Revoking a revoked key is no error; an unknown one raises :class:`NotFound`."""
        self._client._send(op.revoke_key(key_id))


class StatsAPI:
    """``Client.stats``: what the lists stopped, counted as checks are answered."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(
        self,
        bucket: StatsBucket = "minute",
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        group_id: int | None = None,
        campaign: CampaignRef | None = None,
    ) -> Stats:
        """The account's checks and how many were blocked, per ``bucket`` (UTC minutes, hours
        or days) from ``start`` to ``end`` (timezone-aware; by default the last 60 buckets up
        to now), with each group's matches and the entries single checks matched most. With
        ``campaign`` (its id or name), only the checks made for it, and blocked means not
        callable; with ``group_id``, each point's ``matched`` is that group's. Single and
        batch checks are counted, scrubs are not; each server process writes its counts every
        few seconds, so the last seconds may not show yet. A range whose end is not after its
        start, or of more than 5,000 buckets, raises :class:`ValidationError`; an unknown
        group or campaign, :class:`NotFound`."""
        return self._client._send(op.get_stats(bucket, start, end, group_id, campaign))


class Changes:
    """``Client.changes(...)``: the changes after a token, each a :class:`Change` with
    the token that resumes right after it; a big change comes in parts (``continued``).

    ``token`` is where the next read starts: ``since`` at first, the last answer's ``next``
    once the iteration is over (past changes a ``group_id`` left out, too). A token older than
    the change log keeps raises :class:`ChangesReset`, whose ``token`` to start over from.
    """

    def __init__(
        self, client: Client, since: str | None, group_id: int | None, page_size: int
    ) -> None:
        self._client = client
        self._group_id = group_id
        self._page_size = page_size
        self.token = since

    def __iter__(self) -> Iterator[Change]:
        return self._follow()

    def _follow(self) -> Iterator[Change]:
        while True:
            page = self._client._send(op.changes(self.token, self._group_id, self._page_size))
            if page.reset:
                raise op.changes_reset(page)
            yield from page.changes
            self.token = page.next
            if not page.more:
                return


class Mirror:
    """A local copy of the account's groups, kept up to date from the change feed, that
    answers checks with no network call.

    The first :meth:`sync` copies everything: it takes the feed's token of the account's
    current version first, then the groups and each group's export, then follows the feed
    from that token (a change made during the copy applies again, harmlessly). Each later
    :meth:`sync` applies the changes since. A token the feed can no longer follow (older than
    the change log keeps, or refused because the server's secret key changed) makes it copy
    everything again by itself. :meth:`check` answers from the copy; it takes E.164 numbers
    only (the SDK has no numbering plan to read national forms with).
    """

    def __init__(self, client: Client, *, clock: Callable[[], datetime] | None = None) -> None:
        self._client = client
        self._clock = clock or utc_now
        self._copy = LocalCopy(self._clock)
        self.token: str | None = None
        """Where the next sync follows the feed from; None before the first copy."""
        self.copies = 0
        """How many times everything was copied: 1 after the first sync, then one more for
        each start over."""

    @property
    def entries(self) -> int:
        """Entries held, expired ones included."""
        return self._copy.entries

    def sync(self) -> int:
        """Bring the copy up to date; answers how many changes (or parts) it applied."""
        applied = 0
        start_from: str | None = None
        copied = False
        while True:
            if self.token is None:
                self._copy_all(start_from)
                copied = True
            copy = self._copy
            feed = self._client.changes(since=self.token, page_size=1000)
            try:
                for change in feed:
                    copy.apply(change)
                    self.token = change.token  # what is applied is kept, should a read fail
                    applied += 1
            except ChangesReset as reset:
                if copied:  # a fresh token cannot be too old: something else is wrong
                    raise
                self.token, start_from = None, reset.token
                continue
            except ValidationError as error:
                if copied or error.type != parse.INVALID_CHANGE_TOKEN:
                    raise
                self.token, start_from = None, None
                continue
            self.token = feed.token
            return applied

    def _copy_all(self, token: str | None) -> None:
        """Copy every group afresh, from a token taken before the copy begins."""
        if token is None:
            start = self._client.changes()
            for _ in start:  # without a token: no changes, only the current one
                pass
            token = start.token
        copy = LocalCopy(self._clock)
        account = self._client.account.get()
        copy.block_anonymous = account.block_anonymous
        for group in self._client.groups.list(page_size=1000):
            copy.put_group(group.id, group.name, group.direction, group.kind, group.scope)
            export = op.export_numbers(group.id)
            rows = parse.ExportRows(parse.export_pattern)
            try:
                for pattern, expires_at in self._client._stream(export, rows):
                    copy.upsert(group.id, pattern, expires_at)
            except NotFound:  # deleted since it was listed: the feed says so next
                copy.drop_group(group.id)
        self._copy, self.token = copy, token
        self.copies += 1

    def check(self, number: str, direction: CheckDirection | None = None) -> CheckResult:
        """Is ``number`` (E.164) blocked now, by the copy? The answer ``check`` of the API
        (without a campaign) would give as of the last sync: only global block groups count.
        ``ValueError`` for a number not in E.164."""
        return self._copy.check(number, direction)
