"""`callblock import`, `export` and `scrub`: files of millions of lines, with progress.

Progress bars (rich) go to stderr and only when it is a terminal; pipes stay quiet.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from callblock import bulk
from callblock.domain import Actor, Direction, GroupByName, ImportRejected
from callblock.service import NOT_A_NUMBER, WITHHELD_BLOCKED, Service

SCRUB_CHUNK = 50_000
_STDERR = Console(stderr=True)


def progress_bar(*columns: Any) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *columns,
        TimeRemainingColumn(),
        console=_STDERR,
        disable=not sys.stderr.isatty(),
        transient=False,
    )


class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read from it (the progress of a read)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


@contextmanager
def _text_with_progress(path: Path) -> Iterator[tuple[IO[str], _Counting, int]]:
    """The file as text (gunzipped if need be) and a counter of the bytes read of it."""
    size = path.stat().st_size
    with open(path, "rb") as raw:
        counting = _Counting(raw)
        buffered = io.BufferedReader(counting, 1 << 20)
        source: IO[bytes] = buffered
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            source = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
        else:
            raw.seek(0)
        text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
        yield text, counting, size


def _lines(
    text: IO[str], region: str, column: str | None, expiry_column: str | None
) -> tuple[bulk.Layout | None, Iterator[bulk.Row]]:
    rows = bulk.rows(text)
    first = next(rows, None)
    if first is None:
        return None, iter(())
    found = bulk.layout(first, region, column, expiry_column)

    def all_rows() -> Iterator[bulk.Row]:
        if found.header is None:
            yield first
        yield from rows

    return found, all_rows()


def run_import(
    service: Service,
    actor: Actor,
    group: str,
    path: Path,
    *,
    column: str | None,
    expiry_column: str | None,
    skip_invalid: bool,
) -> None:
    region = actor.account.region
    started = time.monotonic()
    with progress_bar(DownloadColumn(), TransferSpeedColumn()) as progress:
        reading = progress.add_task("reading", total=None)
        with _text_with_progress(path) as (text, counting, size):
            progress.update(reading, total=size)
            found, rows = _lines(text, region, column, expiry_column)
            lines: list[tuple[int, str, str]] = []
            for row in rows:
                assert found is not None
                lines.append((row.line, bulk.cell(row, found.number), bulk.cell(row, found.expiry)))
                if len(lines) % 20_000 == 0:
                    progress.update(reading, completed=counting.count)
            progress.update(reading, completed=size)
    with progress_bar(MofNCompleteColumn()) as progress:
        writing = progress.add_task("writing", total=len(lines))
        try:
            result = service.import_entries(
                actor,
                GroupByName(group),
                lines,
                create=True,
                skip_invalid=skip_invalid,
                progress=lambda done: progress.advance(writing, done),
            )
        except ImportRejected as exc:
            _report(exc.lines)
            raise click.ClickException(
                f"nothing imported: {len(exc.lines)} invalid lines "
                "(fix them, or pass --skip-invalid to import the others)"
            ) from exc
    _report(result.invalid)
    elapsed = time.monotonic() - started
    click.echo(
        f"{'created' if result.created_group else 'updated'} group {result.group.name!r} "
        f"(id {result.group.id}): {result.added} added, {result.updated} already there, "
        f"{len(result.invalid)} invalid lines skipped, {result.repeats} repeated lines; "
        f"{len(lines)} lines in {elapsed:.1f} s"
    )


def _report(lines: list[Any]) -> None:
    for rejected in lines:
        click.echo(f"line {rejected.line}: {rejected.input!r}: {rejected.reason}", err=True)


EXPORT_HEADER = [
    "number",
    "kind",
    "status",
    "expires_at",
    "note",
    "source",
    "created_at",
    "updated_at",
]


def run_export(service: Service, actor: Actor, group: str, output: IO[str]) -> int:
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    now = service.clock()
    count = 0
    with service.exporting(actor, GroupByName(group)) as (_, entries):
        for entry in entries:
            writer.writerow(export_row(entry, now))
            count += 1
    return count


def export_row(entry: Any, now: Any) -> list[str]:
    expired = entry.expires_at is not None and entry.expires_at <= now
    return [
        entry.pattern,
        "prefix" if entry.pattern.endswith("*") else "number",
        "expired" if expired else "active",
        entry.expires_at.isoformat().replace("+00:00", "Z") if entry.expires_at else "",
        entry.note or "",
        entry.source,
        entry.created_at.isoformat().replace("+00:00", "Z"),
        entry.updated_at.isoformat().replace("+00:00", "Z"),
    ]


def scrub_rows(
    service: Service,
    actor: Actor,
    rows: Iterator[bulk.Row],
    found: bulk.Layout,
    direction: Direction | None,
) -> Iterator[tuple[bulk.Row, str, str]]:
    """Each row, in input order, with its status (callable, blocked, invalid) and reason."""
    names = service.group_names(actor)
    chunk: list[bulk.Row] = []

    def flush() -> Iterator[tuple[bulk.Row, str, str]]:
        numbers = [bulk.cell(row, found.number) for row in chunk]
        checked = service.check_many(actor, numbers, direction)
        for position, (row, groups) in enumerate(zip(chunk, checked.group_ids, strict=True)):
            if groups:
                blockers = (f"group {g} ({names.get(g, '?')})" for g in groups)
                yield row, "blocked", "blocked by " + ", ".join(blockers)
            elif position in checked.withheld:
                yield row, "blocked", WITHHELD_BLOCKED
            elif checked.numbers[position] is None:
                yield row, "invalid", NOT_A_NUMBER
            else:
                yield row, "callable", ""
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= SCRUB_CHUNK:
            yield from flush()
    yield from flush()


def run_scrub(
    service: Service,
    actor: Actor,
    path: Path,
    *,
    column: str | None,
    direction: Direction | None,
    callable_out: IO[str],
    blocked_out: IO[str] | None,
) -> tuple[int, int, int]:
    """Scrub a calling list; returns (rows, callable, not callable)."""
    totals = [0, 0, 0]
    with progress_bar(DownloadColumn(), TransferSpeedColumn()) as progress:
        task = progress.add_task("scrubbing", total=None)
        with _text_with_progress(path) as (text, counting, size):
            progress.update(task, total=size)
            found, rows = _lines(text, actor.account.region, column, None)
            if found is None:
                return 0, 0, 0
            good = csv.writer(callable_out, lineterminator="\n")
            bad = csv.writer(blocked_out, lineterminator="\n") if blocked_out else None
            if found.header is not None:
                good.writerow(found.header)
                if bad is not None:
                    bad.writerow([*found.header, "reason"])
            for row, status, reason in scrub_rows(service, actor, rows, found, direction):
                totals[0] += 1
                if status == "callable":
                    totals[1] += 1
                    good.writerow(row.values)
                else:
                    totals[2] += 1
                    if bad is not None:
                        bad.writerow([*row.values, reason])
                if totals[0] % SCRUB_CHUNK == 0:
                    progress.update(task, completed=counting.count)
            progress.update(task, completed=size)
    return totals[0], totals[1], totals[2]
