"""`callblock import`, `export` and `scrub`: files of millions of lines, on any target, with
progress on a terminal."""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import cast

import click

from callblock import files
from callblock.cli.files import progress_bar, replacing, without_cycle_collection
from callblock.cli.groups import group_role, role_options, role_text, role_words, with_article
from callblock.cli.lookup import find_campaign, group_named
from callblock.cli.operations import CallDirection, ImportOptions, Operations
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
@role_options(defaults=False, purpose=" (for a group the import creates)")
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
    kind: str | None,
    scope: str | None,
    consent_overrides: bool,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Import a CSV or text file (optionally .gz) of numbers into a group, all or nothing.

    A group that does not exist is created: a global block group unless --kind, --scope or
    --consent-overrides say otherwise. An existing group must already be what they say: an
    import does not change a group."""
    from rich.progress import MofNCompleteColumn

    role = group_role(kind, scope, consent_overrides)
    target = open_target(ctx, account, url, api_key, database_url)
    if kind is not None or scope is not None or consent_overrides:
        with failures():
            _same_role(target, group, kind, scope, consent_overrides)
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
                ImportOptions(column, expiry_column, skip_invalid, role),
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


def _same_role(
    target: Operations, name: str, kind: str | None, scope: str | None, consent: bool
) -> None:
    """An existing group is already what the options given say (an import changes no group)."""
    found = group_named(target.groups, name)
    if found is None:
        return
    asked = (kind or found.kind, scope or found.scope, consent or found.consent_overrides)
    if asked != (found.kind, found.scope, found.consent_overrides):
        actual, wanted = with_article(role_text(found)), with_article(role_words(*asked))
        raise click.ClickException(
            f"group {found.name!r} is {actual}, not {wanted}: an import does not change a "
            "group (--kind, --scope and --consent-overrides are for a group it creates)"
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
@click.option(
    "--campaign",
    metavar="NAME_OR_ID",
    default=None,
    help="Scrub for this campaign, now: its lists, consent and calling window.",
)
@click.option("-o", "--output", type=OUTPUT, required=True, help="Where the callable rows go.")
@click.option(
    "--blocked",
    type=OUTPUT,
    default=None,
    help="Where the other rows go, each with the columns status (blocked, invalid, "
    "not_callable_now), reason, reason_code and next_callable_at.",
)
@target_options
@click.pass_context
@without_cycle_collection()
def scrub_command(
    ctx: click.Context,
    file: Path,
    column: str | None,
    direction: str,
    campaign: str | None,
    output: Path,
    blocked: Path | None,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Split a calling list into callable rows and the others, in order.

    With --blocked, every row goes to exactly one of the two files; the other rows get the
    columns the HTTP scrub adds (status, reason, reason_code, next_callable_at). Without it,
    only the callable rows are written. Outputs appear only when the scrub succeeds. With
    --campaign, a row only the campaign's calling window keeps from being called now is
    not_callable_now.
    """
    outputs = [output] if blocked is None else [output, blocked]
    if len({p.resolve() for p in outputs}) < len(outputs) or file.resolve() in {
        p.resolve() for p in outputs
    }:
        raise click.UsageError("the input, -o and --blocked must be three different files")
    from rich.progress import DownloadColumn, TransferSpeedColumn

    target = open_target(ctx, account, url, api_key, database_url)
    campaign_id = None
    if campaign is not None:
        with failures():
            campaign_id = find_campaign(target.campaigns, campaign).id
    started = time.monotonic()
    size = file.stat().st_size
    counts: Counter[str] = Counter()
    with (
        failures(file),
        progress_bar(DownloadColumn(), TransferSpeedColumn()) as progress,
        ExitStack() as stack,
    ):
        task = progress.add_task("scrubbing", total=size)
        good_file = stack.enter_context(replacing(output))
        bad_file = stack.enter_context(replacing(blocked)) if blocked else None
        scrubbing = stack.enter_context(
            target.scrub_file(
                file,
                column,
                cast(CallDirection, direction),  # click's Choice checked it
                lambda done: progress.update(task, completed=done),
                campaign_id,
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
                    bad.writerow([*found.padded(found.header), *files.SCRUB_COLUMNS])
            callable_ = files.Status.CALLABLE.value
            for part in scrubbing.parts:
                counts.update(part.statuses)
                good.writerows(
                    row
                    for row, status in zip(part.rows, part.statuses, strict=True)
                    if status == callable_
                )
                if bad is not None:
                    bad.writerows(
                        [*found.padded(row), status, reason, code, next_at]
                        for row, status, reason, code, next_at in zip(
                            part.rows,
                            part.statuses,
                            part.reasons,
                            part.codes,
                            part.next_callable,
                            strict=True,
                        )
                        if status != callable_
                    )
        progress.update(task, completed=size)
    unwritten = "" if blocked else " (the others not written: no --blocked)"
    click.echo(
        f"{_summary(counts, campaign is not None)}{unwritten} ({time.monotonic() - started:.1f} s)",
        err=True,
    )


def _summary(counts: Counter[str], for_campaign: bool) -> str:
    """``4 rows: 1 callable, 2 blocked, 1 invalid`` (and how many are not callable now, for
    a campaign: only its calling window can say so)."""
    shown = [files.Status.CALLABLE, files.Status.BLOCKED, files.Status.INVALID]
    if for_campaign:
        shown.append(files.Status.NOT_CALLABLE_NOW)
    parts = ", ".join(f"{counts[status]} {status.value.replace('_', ' ')}" for status in shown)
    return f"{counts.total()} rows: {parts}"
