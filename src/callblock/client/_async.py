"""The async client, :class:`AsyncClient`: the one hand-written source of both clients.

``_sync.py`` (the sync :class:`Client`) is generated from this file by
``python tools/unasync_client.py``: edit this file, then run that. The generator removes
``async``/``await`` and renames by an explicit table (``AsyncClient`` -> ``Client``,
``aclose`` -> ``close``...); a name it has no entry for stops it, and a test fails when the
committed ``_sync.py`` is not what it would write. Requests and answers are described in
``_operations`` and ``_parse``, so only the sending is written here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar

import httpx

from callblock.client import _operations as op
from callblock.client._models import (
    DEFAULT_TIMEOUT,
    Account,
    AddResult,
    AuditEvent,
    BatchResult,
    CheckDirection,
    CheckResult,
    Direction,
    Entry,
    EntryStatus,
    Group,
    NumberInput,
    RemoveResult,
)

__all__ = [
    "AsyncAccountAPI",
    "AsyncAuditAPI",
    "AsyncClient",
    "AsyncGroupsAPI",
    "AsyncNumbersAPI",
]

_T = TypeVar("_T")


class AsyncClient(op.BaseClient):
    """The async client. Use it as an async context manager, or await :meth:`aclose` when done."""

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

    async def _send(self, call: op.Call[_T]) -> _T:
        try:
            response = await self._http.request(
                call.method, call.path, params=call.params, json=call.json
            )
        except httpx.TransportError as exc:
            raise op.transport_error(call, exc) from exc
        return op.result(call, response)

    async def _iterate(self, listing: op.Listing[_T]) -> AsyncIterator[_T]:
        cursor: str | None = None
        while True:
            page = await self._send(listing.page(cursor))
            for item in page.items:
                yield item
            cursor = op.next_cursor(cursor, page)
            if cursor is None:
                return

    async def check(self, number: str, direction: CheckDirection | None = None) -> CheckResult:
        """Is ``number`` blocked now? ``direction`` of the call; None: any group counts."""
        return await self._send(op.check(number, direction))

    async def check_many(
        self, numbers: Sequence[NumberInput], direction: CheckDirection | None = None
    ) -> list[BatchResult]:
        """Check many numbers in one request; one result per input, in order."""
        return await self._send(op.check_many(numbers, direction))

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
        return self._client._iterate(op.list_groups(name, page_size))

    async def create(
        self, name: str, description: str = "", direction: Direction = "both"
    ) -> Group:
        return await self._client._send(op.create_group(name, description, direction))

    async def get(self, group_id: int) -> Group:
        return await self._client._send(op.get_group(group_id))

    async def update(
        self,
        group_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        direction: Direction | None = None,
    ) -> Group:
        """Change the fields given; the others stay."""
        return await self._client._send(op.update_group(group_id, name, description, direction))

    async def delete(self, group_id: int) -> None:
        """Delete the group and all its entries."""
        await self._client._send(op.delete_group(group_id))


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
        return self._client._iterate(op.list_numbers(group_id, status, q, page_size))

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
            op.add_numbers(group_id, numbers, expires_at, note, all_or_nothing)
        )

    async def remove(self, group_id: int, numbers: Sequence[NumberInput]) -> RemoveResult:
        return await self._client._send(op.remove_numbers(group_id, numbers))


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
        return self._client._iterate(op.list_audit(group_id, number, since, page_size))


class AsyncAccountAPI:
    """``AsyncClient.account``: the account the API key belongs to."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self) -> Account:
        return await self._client._send(op.get_account())

    async def update(self, *, block_anonymous: bool | None = None) -> Account:
        return await self._client._send(op.update_account(block_anonymous))
