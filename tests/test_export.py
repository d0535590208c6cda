"""Exports: a group of many blocks comes out whole, in the listing's order, in the documented
format, from one snapshot (whose version the answer states), in bounded memory; a client
that goes away gives its database connection back."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from callblock import files
from callblock.cli import main
from callblock.domain import (
    Actor,
    Entry,
    EntryBlock,
    EntryFacts,
    EntryStatus,
    GroupById,
    GroupByName,
    RequestedNumber,
    Surface,
)
from callblock.numbers import key_pattern
from callblock.service import Service
from callblock.store import Store
from callblock.store import entries as entry_rows
from callblock.timestamps import from_micros, micros
from tests.helpers import Credentials, FakeClock, bearer

BLOCK = 64  # the export's block size in these tests: every group here spans many


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entry_rows, "EXPORT_BLOCK", BLOCK)


def requested(*patterns: str) -> list[RequestedNumber]:
    return [RequestedNumber(p, p) for p in patterns]


def number(i: int) -> str:
    return f"+91{9_000_000_000 + i}"


# Notes the csv module quotes, and ones it does not.
NOTES = ["a,b", 'say "hi"', "two\nlines", "cr\ronly", "tab\there", "ünï ☎", "plain", ""]


def fill_mixed_group(service: Service, clock: FakeClock, username: str) -> int:
    """A group of some 1,100 entries whose facts change in every way, interleaved in key
    order: imports (with and without expiries), re-imports, adds with notes, prefixes, a
    stretch of entries that each differ from all others, and entries expired by now."""
    account = service.account(username)
    cli = Actor(account, None, Surface.CLI)
    v1 = Actor(account, None, Surface.V1)
    group = service.create_group(v1, "Mixed", "", [], None).group
    ref = GroupById(group.id)
    evens = [number(2 * i)[3:] for i in range(600)]
    service.import_entries(cli, ref, [files.ImportLines(range(1, 601), evens, None)])
    clock.advance(seconds=1.5)  # instants with and without microseconds
    odds = [number(2 * i + 1)[3:] for i in range(300)]
    soon = (clock.now + timedelta(seconds=30)).isoformat()
    expiries = [["", soon, "2099-01-01T00:00:00.250Z"][i % 3] for i in range(300)]
    service.import_entries(cli, ref, [files.ImportLines(range(1, 301), odds, expiries)])
    for n, note in enumerate(NOTES):
        clock.advance(microseconds=1)
        spread = [number(97 * n + 131 * k) for k in range(5)] + [number(1500 + n)]
        expiry = clock.now + timedelta(seconds=20) if n % 2 else None
        service.add_numbers(v1, ref, requested(*spread), expiry, note)
    service.add_numbers(v1, ref, requested("+9190000*"), None, "a,b")
    service.add_numbers(v1, ref, requested("+91140*"), clock.now + timedelta(seconds=10))
    service.add_numbers(v1, ref, requested("+9198*", number(3)), datetime(2099, 1, 1, tzinfo=UTC))
    for k in range(200):  # more than a block in which every entry differs from the others
        clock.advance(microseconds=7)
        service.add_numbers(cli, ref, requested(number(2000 + k)), None)
    clock.advance(seconds=1)
    again = [number(2 * i)[3:] for i in range(0, 600, 7)]
    service.import_entries(cli, ref, [files.ImportLines(range(1, len(again) + 1), again, None)])
    clock.advance(minutes=1)  # past the soonest expiries
    return group.id


def listing(service: Service, actor: Actor, group_id: int) -> list[Entry]:
    entries: list[Entry] = []
    after = None
    while True:
        page = service.list_entries(
            actor, group_id, status=EntryStatus.ALL, q=None, after=after, limit=100
        )
        entries += page.items
        if page.next_after is None:
            return entries
        after = page.next_after


def documented_csv(entries: list[Entry], now: datetime) -> str:
    """The listing's entries as docs/api.md describes the export: a header, then a row an
    entry in the listing's order; instants in UTC as RFC 3339 (``Z``); a cell quoted only
    when it has a comma, a quote or a line feed (Python's csv module); LF line ends."""

    def instant(value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(files.EXPORT_HEADER)
    for entry in entries:
        expires = entry.expires_at
        writer.writerow(
            [
                entry.pattern,
                "prefix" if entry.pattern.endswith("*") else "number",
                "expired" if expires is not None and expires <= now else "active",
                "" if expires is None else instant(expires),
                entry.note or "",
                entry.source,
                instant(entry.created_at),
                instant(entry.updated_at),
            ]
        )
    return text.getvalue()


INSTANTS = st.integers(
    micros(datetime.min.replace(tzinfo=UTC)), micros(datetime.max.replace(tzinfo=UTC))
)


@settings(max_examples=400)
@given(
    prefix=st.booleans(),
    expires=st.none() | INSTANTS,
    note=st.none()
    | st.text(st.sampled_from(',"\r\n\t ;a☎'), max_size=6)  # what quoting is about
    | st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"])),
    source=st.sampled_from(list(Surface)),
    created=INSTANTS,
    updated=INSTANTS,
)
def test_every_line_is_as_documented(
    prefix: bool, expires: int | None, note: str | None, source: str, created: int, updated: int
) -> None:
    # Any facts, in a run of their own or as the one entry that differs from its block.
    key = -91140 if prefix else 919_876_543_210
    facts = EntryFacts(prefix, expires, note, source, created, updated)
    unlike = EntryFacts(not prefix, None, None, "v1", 0, 0)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    entry = Entry(
        key,
        1,
        key_pattern(key),
        None if expires is None else from_micros(expires),
        note,
        source,
        from_micros(created),
        from_micros(updated),
    )
    expected = documented_csv([entry], at)
    assert "".join(files.CsvExport([EntryBlock(str(key), 1, facts, [])], at)) == expected
    other = EntryBlock(str(key), 1, unlike, [(key, facts)])
    assert "".join(files.CsvExport([other], at)) == expected


@pytest.mark.anyio
async def test_an_export_of_many_blocks_is_the_whole_listing_in_order(
    client: httpx.AsyncClient,
    service: Service,
    clock: FakeClock,
    main_account: Credentials,
    database_url: str,
) -> None:
    group_id = fill_mixed_group(service, clock, "main")
    actor = Actor(service.account("main"), None, Surface.V1)
    entries = listing(service, actor, group_id)
    assert len(entries) > 16 * BLOCK
    assert {e.source for e in entries} == {"cli", "v1"}
    assert any(e.pattern.endswith("*") for e in entries)
    assert any(e.expires_at is not None and e.expires_at <= clock.now for e in entries)

    exported = await client.get(f"/v1/groups/{group_id}/numbers.csv", headers=bearer(main_account))
    assert exported.status_code == 200
    assert exported.text == documented_csv(entries, clock.now)

    # The command line writes the same file (statuses as of its own clock, the real one).
    before = datetime.now(UTC)
    result = CliRunner().invoke(
        main, ["export", "--account", "main", "--group", "Mixed", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == documented_csv(entries, before)
    assert result.stderr == f"exported {len(entries)} entries\n"


def test_the_reader_takes_a_group_a_block_at_a_time(
    service: Service, store: Store, clock: FakeClock
) -> None:
    # Bounded memory is what this reader is for: each block is its own LIMITed query, and a
    # block is handed on before the next is read. So a group of three blocks is three
    # reads, each of at most a block, and the first arrives before the others are read.
    service.create_account("acme")
    actor = Actor(service.account("acme"), None, Surface.CLI)
    numbers = [str(9_000_000_000 + i) for i in range(3 * BLOCK)]
    service.import_entries(
        actor,
        GroupByName("Three"),
        [files.ImportLines(range(1, len(numbers) + 1), numbers, None)],
        create=True,
    )
    with service.exporting(actor, GroupByName("Three")) as export:
        first = next(export.blocks)
        assert first.count == BLOCK
        assert first.keys.split(",") == [f"91{n}" for n in numbers[:BLOCK]]
        rest = list(export.blocks)
    assert [block.count for block in rest] == [BLOCK, BLOCK]
    assert [len(block.keys.split(",")) for block in rest] == [BLOCK, BLOCK]
    assert all(not block.others for block in (first, *rest))  # one import: one set of facts


def test_an_export_holds_a_block_not_the_group(
    service: Service, store: Store, clock: FakeClock
) -> None:
    # The Python objects alive at once during an export stay near one block's text, however
    # big the group: here 60 blocks, of which the peak holds a small part.
    service.create_account("acme")
    actor = Actor(service.account("acme"), None, Surface.CLI)
    numbers = [str(9_000_000_000 + i) for i in range(60 * BLOCK)]
    lines = [files.ImportLines(range(1, len(numbers) + 1), numbers, None)]
    service.import_entries(actor, GroupByName("Big"), lines, create=True)

    def export() -> int:
        written = 0
        with service.exporting(actor, GroupByName("Big")) as group:
            for text in files.CsvExport(group.blocks, group.at):
                written += len(text)
        return written

    export()  # once first: caches of compiled statements are not the export's memory
    tracemalloc.start()
    try:
        size = export()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 60 * BLOCK * 70
    assert peak < size / 5, (peak, size)


@pytest.mark.anyio
async def test_an_export_is_one_version_and_says_which(
    client: httpx.AsyncClient, service: Service, store: Store, main_account: Credentials
) -> None:
    actor = Actor(service.account("main"), None, Surface.V1)
    group = service.create_group(actor, "G", "", requested(*map(number, range(5 * BLOCK))), None)
    ref = GroupById(group.group.id)
    url = f"/v1/groups/{group.group.id}/numbers.csv"
    exported = await client.get(url, headers=bearer(main_account))
    version = int(exported.headers["Callblock-Version"])
    assert version == 1  # the account's data version: one write so far, the group's creation
    assert [c.version for c in service.changes(actor, after=0)][-1] == version

    # Writes made while an export runs are not in it, in whichever block they fall.
    with service.exporting(actor, ref) as export:
        assert export.version == version
        text = files.CsvExport(export.blocks, export.at)
        lines = iter(text)
        head = [next(lines), next(lines)]  # the header, then the first block
        service.add_numbers(actor, ref, requested(number(10_000)), None)
        service.remove_numbers(actor, ref, requested(number(4 * BLOCK)))
        rest = list(lines)
    rows = list(csv.reader(io.StringIO("".join(head + rest))))[1:]
    assert len(rows) == 5 * BLOCK
    assert number(4 * BLOCK) in {row[0] for row in rows}
    after = await client.get(url, headers=bearer(main_account))
    assert int(after.headers["Callblock-Version"]) == version + 2
    assert number(10_000) in after.text
    assert number(4 * BLOCK) not in after.text


@pytest.mark.anyio
async def test_a_client_that_goes_away_gives_back_the_connection(
    app: FastAPI, service: Service, store: Store, main_account: Credentials
) -> None:
    actor = Actor(service.account("main"), None, Surface.V1)
    group = service.create_group(actor, "G", "", requested(*map(number, range(20 * BLOCK))), None)
    sent: list[dict[str, Any]] = []
    first_block = anyio.Event()

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await first_block.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message["body"]:
            first_block.set()
            await anyio.sleep_forever()  # a client that reads no more: only a cancel ends this

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/v1/groups/{group.group.id}/numbers.csv",
        "raw_path": f"/v1/groups/{group.group.id}/numbers.csv".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"callblock.test"),
            (b"authorization", bearer(main_account)["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("callblock.test", 80),
    }
    with anyio.fail_after(30):
        await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert not any(m.get("more_body") is False for m in sent)  # cut short, never finished
    assert store.engine.pool.checkedout() == 0
