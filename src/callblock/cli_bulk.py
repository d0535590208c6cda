"""`callblock import`, `export` and `scrub`: files of millions of lines, with progress.

Progress bars (rich) go to stderr and only when it is a terminal; pipes stay quiet.
"""

from __future__ import annotations

import csv
import gc
import gzip
import io
import os
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

from callblock import files
from callblock.domain import Actor, Direction, GroupByName, ImportRejected, NothingToImport
from callblock.service import Service

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
        text = io.TextIOWrapper(source, encoding="utf-8-sig", errors=files.ERRORS, newline="")
        yield text, counting, size


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Bulk commands make millions of strings and lists, and no reference cycles. Python's
    cycle collector would rescan all of them again and again as they pile up (several times
    the work itself: 1.4 s instead of 0.3 s to split a million CSV lines), so it is paused
    for the command."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_without_cycle_collection()
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
    started = time.monotonic()
    # The file is read (and checked) block by block while the import plans, then written:
    # one bar for each, on one display.
    with (
        progress_bar(MofNCompleteColumn()) as progress,
        _text_with_progress(path) as (text, counting, size),
    ):
        reading = progress.add_task("reading (bytes)", total=size)
        writing = progress.add_task("writing (entries)", total=None, visible=False)

        def wrote(done: int, total: int) -> None:
            progress.update(reading, completed=size)
            progress.update(writing, completed=done, total=total, visible=True)

        headers: list[files.Row] = []
        blocks = files.import_lines(
            text,
            actor.account.region,
            column,
            expiry_column,
            progress=lambda: progress.update(reading, completed=counting.count),
            on_header=headers.append,
        )
        try:
            result = service.import_entries(
                actor,
                GroupByName(group),
                blocks,
                create=True,
                skip_invalid=skip_invalid,
                progress=wrote,
            )
        except NothingToImport as exc:
            raise click.ClickException(f"{path} holds no numbers: nothing imported") from exc
        except ImportRejected as exc:
            _report(exc.lines)
            raise click.ClickException(
                f"nothing imported: {len(exc.lines)} invalid lines "
                "(fix them, or pass --skip-invalid to import the others)"
            ) from exc
    _report(result.invalid)
    for header in headers:  # said, because a damaged first number can look like one
        shown = ",".join(header.values)
        click.echo(f"line {header.line} read as a header (not imported): {shown!r}", err=True)
    elapsed = time.monotonic() - started
    click.echo(
        f"{'created' if result.created_group else 'updated'} group {result.group.name!r} "
        f"(id {result.group.id}): {result.added} added, {result.updated} already there, "
        f"{len(result.invalid)} invalid lines skipped, {result.repeats} repeated lines; "
        f"{result.lines} lines in {elapsed:.1f} s"
    )


def _report(lines: list[Any]) -> None:
    for rejected in lines:
        click.echo(f"line {rejected.line}: {rejected.input!r}: {rejected.reason}", err=True)


@_without_cycle_collection()
def run_export(service: Service, actor: Actor, group: str, output: IO[str]) -> int:
    writer = csv.writer(output, lineterminator="\n")
    now = service.clock()
    count = 0
    with service.exporting(actor, GroupByName(group)) as (_, entries):
        writer.writerow(files.EXPORT_HEADER)  # once the group is known to exist
        for entry in entries:
            writer.writerow(files.export_row(entry, now))
            count += 1
    return count


@_without_cycle_collection()
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
            found, rows = files.scrub_input(text, actor.account.region, column)
            if found is None:
                return 0, 0, 0
            delimiter = found.delimiter
            good = csv.writer(callable_out, delimiter=delimiter, lineterminator="\n")
            bad = (
                csv.writer(blocked_out, delimiter=delimiter, lineterminator="\n")
                if blocked_out
                else None
            )
            if found.header is not None:
                good.writerow(found.header)
                if bad is not None:
                    bad.writerow([*found.padded(found.header), "reason"])
            for part in files.scrub_chunks(service, actor, rows, found, direction):
                triples = zip(part.rows, part.statuses, part.reasons, strict=True)
                callable_rows = [r for r, status, _ in triples if status == "callable"]
                good.writerows(callable_rows)
                totals[0] += len(part.rows)
                totals[1] += len(callable_rows)
                totals[2] += len(part.rows) - len(callable_rows)
                if bad is not None:
                    bad.writerows(
                        [*found.padded(r), reason]
                        for r, status, reason in zip(
                            part.rows, part.statuses, part.reasons, strict=True
                        )
                        if status != "callable"
                    )
                progress.update(task, completed=counting.count)
            progress.update(task, completed=size)
    return totals[0], totals[1], totals[2]


@contextmanager
def replacing(path: Path) -> Iterator[IO[str]]:
    """A file written beside ``path`` and moved onto it only when the block succeeds: a
    refused or failed command leaves an existing file as it was, and no half-written one."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        out = open(partial, "w", encoding="utf-8", errors=files.ERRORS, newline="")  # noqa: SIM115
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with out:
            yield out
        try:
            os.replace(partial, path)
        except OSError as exc:
            raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
