# Generated from _async.py by python tools/unasync_client.py: do not edit by hand.
# Edit _async.py, then run that command; tests/test_sdk.py fails when this file is stale.
"""The sync client, :class:`Client`, generated from ``_async.py``: edit that file, then run
``python tools/unasync_client.py``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    "AccountAPI",
    "AuditAPI",
    "Client",
    "GroupsAPI",
    "NumbersAPI",
]

_T = TypeVar("_T")


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
        self.audit = AuditAPI(self)
        self.account = AccountAPI(self)

    def _send(self, call: op.Call[_T]) -> _T:
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, json=call.json
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

    def check(self, number: str, direction: CheckDirection | None = None) -> CheckResult:
        """Is ``number`` blocked now? ``direction`` of the call; None: any group counts."""
        return self._send(op.check(number, direction))

    def check_many(
        self, numbers: Sequence[NumberInput], direction: CheckDirection | None = None
    ) -> list[BatchResult]:
        """Check many numbers in one request; one result per input, in order."""
        return self._send(op.check_many(numbers, direction))

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

    def create(self, name: str, description: str = "", direction: Direction = "both") -> Group:
        return self._client._send(op.create_group(name, description, direction))

    def get(self, group_id: int) -> Group:
        return self._client._send(op.get_group(group_id))

    def update(
        self,
        group_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        direction: Direction | None = None,
    ) -> Group:
        """Change the fields given; the others stay."""
        return self._client._send(op.update_group(group_id, name, description, direction))

    def delete(self, group_id: int) -> None:
        """Delete the group and all its entries."""
        self._client._send(op.delete_group(group_id))


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
        return self._client._iterate(op.list_audit(group_id, number, since, page_size))


class AccountAPI:
    """``Client.account``: the account the API key belongs to."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self) -> Account:
        return self._client._send(op.get_account())

    def update(self, *, block_anonymous: bool | None = None) -> Account:
        return self._client._send(op.update_account(block_anonymous))
