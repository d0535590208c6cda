"""`callblock import`, `export` and `scrub`: files of millions of lines, on any target, with
progress on a terminal."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import cast

import click

from callblock.cli.files import progress_bar, replacing, without_cycle_collection
from callblock.cli.operations import CallDirection, ImportOptions
from callblock.cli.target import failures, open_target, target_options
from callblock.domain import ImportRejected, NothingToImport, RejectedLine

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUTPUT = click.Path(dir_okay=False, path_type=Path)


def invalid_lines(count: int) -> str:
    return f"{count} invalid line{'' if count == 1 else 's'}"


def _report(lines: Iterable[RejectedLine]) -> None:
    for rejected in lines:
        click.echo(f"line {rejected.line}: {rejected.input!r}: {rejected.reason}", err=True)


@click.command("import")
@click.argument("file", type=FILE)
@click.option("--group", required=True, help="The group's name; created if it does not exist.")
@click.option("--column", help="The number column: a header name or a 1-based position.")
@click.option("--expiry-column", help="A column of expiries (RFC 3339, or local time).")
@click.option(
    "--skip-invalid", is_flag=True, help="Import the valid lines even if some are invalid."
)
@target_options
@click.pass_context
@without_cycle_collection()
def import_command(
    ctx: click.Context,
    file: Path,
    group: str,
    column: str | None,
    expiry_column: str | None,
    skip_invalid: bool,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Import a CSV or text file (optionally .gz) of numbers into a group, all or nothing."""
    from rich.progress import MofNCompleteColumn

    target = open_target(ctx, account, url, api_key, database_url)
    started = time.monotonic()
    size = file.stat().st_size
    # One bar for reading (and checking) the file, one for writing the entries.
    with progress_bar(MofNCompleteColumn()) as progress, failures(file):
        reading = progress.add_task("reading (bytes)", total=size)
        writing = progress.add_task("writing (entries)", total=None, visible=False)

        def wrote(done: int, total: int) -> None:
            progress.update(reading, completed=size)
            progress.update(writing, completed=done, total=total, visible=True)

        try:
            result = target.import_file(
                group,
                file,
                ImportOptions(column, expiry_column, skip_invalid),
                lambda done: progress.update(reading, completed=done),
                wrote,
            )
        except NothingToImport as exc:
            raise click.ClickException(f"{file} holds no numbers: nothing imported") from exc
        except ImportRejected as exc:
            _report(exc.lines)
            raise click.ClickException(
                f"nothing imported: {invalid_lines(len(exc.lines))} "
                "(fix them, or pass --skip-invalid to import the others)"
            ) from exc
    _report(result.invalid)
    for header in result.headers:  # said, because a damaged first number can look like one
        shown = ",".join(header.values)
        click.echo(f"line {header.line} read as a header (not imported): {shown!r}", err=True)
    elapsed = time.monotonic() - started
    # A server does not say how many lines it read.
    read = "sent" if result.lines is None else f"{result.lines} lines"
    click.echo(
        f"{'created' if result.created_group else 'updated'} group {result.group_name!r} "
        f"(id {result.group_id}): {result.added} added, {result.updated} already there, "
        f"{invalid_lines(len(result.invalid))} skipped, {result.repeats} repeated lines; "
        f"{read} in {elapsed:.1f} s"
    )


@click.command("export")
@click.option("--group", required=True, help="The group's name.")
@click.option("-o", "--output", type=OUTPUT, default=None, help="Write to this file, not stdout.")
@target_options
@click.pass_context
@without_cycle_collection()
def export_command(
    ctx: click.Context,
    group: str,
    output: Path | None,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Write a group's entries as CSV (number, kind, status, expiry, note, ...), streamed."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        if output is None:
            count = target.export_group(group, sys.stdout)
        else:
            with replacing(output) as out:
                count = target.export_group(group, out)
    click.echo(f"exported {count} {'entry' if count == 1 else 'entries'}", err=True)


@click.command("scrub")
@click.argument("file", type=FILE)
@click.option("--column", help="The number column: a header name or a 1-based position.")
@click.option(
    "--direction", type=click.Choice(["inbound", "outbound"]), default="outbound", show_default=True
)
@click.option("-o", "--output", type=OUTPUT, required=True, help="Where the callable rows go.")
@click.option(
    "--blocked",
    type=OUTPUT,
    default=None,
    help="Where the other rows go, with the reason in a last column.",
)
@target_options
@click.pass_context
@without_cycle_collection()
def scrub_command(
    ctx: click.Context,
    file: Path,
    column: str | None,
    direction: str,
    output: Path,
    blocked: Path | None,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Split a calling list into callable rows and blocked or invalid ones, in order.

    With --blocked, every row goes to exactly one of the two files; without it, only the
    callable rows are written. Outputs appear only when the scrub succeeds.
    """
    outputs = [output] if blocked is None else [output, blocked]
    if len({p.resolve() for p in outputs}) < len(outputs) or file.resolve() in {
        p.resolve() for p in outputs
    }:
        raise click.UsageError("the input, -o and --blocked must be three different files")
    from rich.progress import DownloadColumn, TransferSpeedColumn

    target = open_target(ctx, account, url, api_key, database_url)
    started = time.monotonic()
    size = file.stat().st_size
    rows = callable_rows = 0
    with (
        failures(file),
        progress_bar(DownloadColumn(), TransferSpeedColumn()) as progress,
        ExitStack() as files,
    ):
        task = progress.add_task("scrubbing", total=size)
        good_file = files.enter_context(replacing(output))
        bad_file = files.enter_context(replacing(blocked)) if blocked else None
        scrubbing = files.enter_context(
            target.scrub_file(
                file,
                column,
                cast(CallDirection, direction),  # click's Choice checked it
                lambda done: progress.update(task, completed=done),
            )
        )
        found = scrubbing.layout
        if found is not None:
            good = csv.writer(good_file, delimiter=found.delimiter, lineterminator="\n")
            bad = (
                None
                if bad_file is None
                else csv.writer(bad_file, delimiter=found.delimiter, lineterminator="\n")
            )
            if found.header is not None:
                good.writerow(found.header)
                if bad is not None:
                    bad.writerow([*found.padded(found.header), "reason"])
            for part in scrubbing.parts:
                answers = list(zip(part.rows, part.statuses, part.reasons, strict=True))
                ok = [row for row, status, _ in answers if status == "callable"]
                good.writerows(ok)
                rows += len(part.rows)
                callable_rows += len(ok)
                if bad is not None:
                    bad.writerows(
                        [*found.padded(row), reason]
                        for row, status, reason in answers
                        if status != "callable"
                    )
        progress.update(task, completed=size)
    unwritten = "" if blocked else " (not written: no --blocked)"
    click.echo(
        f"{rows} rows: {callable_rows} callable, {rows - callable_rows} blocked or invalid"
        f"{unwritten} ({time.monotonic() - started:.1f} s)",
        err=True,
    )
