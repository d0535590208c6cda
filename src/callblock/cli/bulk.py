"""`callblock import`, `export` and `scrub`: files of millions of lines, on any target, with
progress on a terminal."""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, cast

import click

from callblock import files
from callblock.cli.files import (
    amount_column,
    progress_bar,
    replacing,
    without_cycle_collection,
)
from callblock.cli.groups import group_role, role_options, role_text, role_words, with_article
from callblock.cli.lookup import find_campaign, group_named
from callblock.cli.operations import (
    CallDirection,
    Imported,
    ImportMode,
    ImportOptions,
    Operations,
    PartlyListed,
)
from callblock.cli.target import failures, open_target, target_options
from callblock.domain import (
    ImportRejected,
    InvalidInput,
    NothingToImport,
    RejectedLine,
    checked_note,
)
from callblock.rules import NOTE_MAX, NOTE_RULE

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUTPUT = click.Path(dir_okay=False, path_type=Path)


SHOWN = 100
"""Most invalid lines an import says on stderr: a report that fits a terminal."""
INVALID_COLUMNS = ("line", "input", "reason")  # of --invalid-out's CSV


def invalid_lines(count: int) -> str:
    return f"{count:,} invalid line{'' if count == 1 else 's'}"


@click.command("import")
@click.argument("file", type=FILE)
@click.option("--group", required=True, help="The group's name; created if it does not exist.")
@click.option("--column", help="The number column: a header name or a 1-based position.")
@click.option("--expiry-column", help="A column of expiries (RFC 3339, or local time).")
@click.option(
    "--note",
    metavar="TEXT",
    default=None,
    help="Set this note on the file's entries, those already in the group too (with "
    f"--changes: on the entries it adds); without it, they keep their own. A note is {NOTE_RULE}.",
)
@click.option(
    "--skip-invalid", is_flag=True, help="Import the valid lines even if some are invalid."
)
@click.option(
    "--invalid-out",
    type=OUTPUT,
    default=None,
    help=f"Write every invalid line to this file as CSV (line,input,reason), also when the "
    f"import is refused; stderr shows the first {SHOWN}.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Make the group exactly the file's numbers, atomically: those not in it are removed.",
)
@click.option(
    "--changes",
    is_flag=True,
    help="The file is a change list: each line adds or deletes its number (a column of A/D, "
    "add/delete or +/-), all or nothing, in the file's order.",
)
@click.option(
    "--max-removal",
    default="20%",
    show_default=True,
    help="With --replace: the largest share of the group it may remove (e.g. 20% or 0.2).",
)
@click.option("--force", is_flag=True, help="With --replace: remove however much it takes.")
@click.option("--op-column", help="With --changes: the operation column (name or position).")
@click.option(
    "--format",
    "line_format",
    type=click.Choice([f.value for f in files.LineFormat]),
    default=files.LineFormat.AUTO.value,
    show_default=True,
    help="How the lines are read: csv (a column of numbers), plain (one number a line), "
    "area-code-pair (a North American registry's 416,1234567 lines, as +1 numbers), tps (the "
    "UK TPS file's 12-character records, as UK numbers); auto reads area-code-pair when the "
    "first data row is one beyond doubt, else csv.",
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
    note: str | None,
    skip_invalid: bool,
    invalid_out: Path | None,
    replace: bool,
    changes: bool,
    max_removal: str,
    force: bool,
    op_column: str | None,
    line_format: str,
    kind: str | None,
    scope: str | None,
    consent_overrides: bool,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Import a CSV or text file (optionally .gz, or a .zip of them read whole, in name order)
    of numbers into a group, all or nothing.

    A group that does not exist is created: a global block group unless --kind, --scope or
    --consent-overrides say otherwise. An existing group must already be what they say: an
    import does not change a group.

    Invalid lines (skipped with --skip-invalid, or refusing the import without it) are said
    on stderr, the first 100 of them; --invalid-out writes them all.

    --replace makes the group exactly the file's numbers in one change (checks see the old
    list or the new one); it is refused when it would remove more than --max-removal of the
    group, so that a truncated download cannot wipe a registry. --changes applies a change
    list to an existing group.

    --note sets a note on every entry the file holds, those already in the group included
    (with --changes, on the entries it adds), as the HTTP import's note does.

    --format reads a registry's own lines: area-code-pair (the US and Canadian lists, one
    file per area code, as a zip of them too) or tps (the UK's)."""
    mode = _mode(replace, changes, op_column, force, max_removal)
    note = _note(note)  # the rule every surface applies, said before anything is opened
    chosen = files.LineFormat(line_format)
    conflict = files.format_conflict(chosen, column, expiry_column, mode == "changes")
    if conflict is not None:
        raise click.UsageError(f"--format {line_format}: {conflict}")
    share = 1.0 if force else _share(max_removal)
    with ExitStack() as out_stack:
        # Opened first: a path that cannot be written is said before anything is imported.
        out = None if invalid_out is None else _invalid_file(out_stack, file, invalid_out)
        role = group_role(kind, scope, consent_overrides)
        target = open_target(ctx, account, url, api_key, database_url)
        if kind is not None or scope is not None or consent_overrides:
            with failures():
                _same_role(target, group, kind, scope, consent_overrides)
        started = time.monotonic()
        read: list[files.Layout] = []
        options = ImportOptions(
            column, expiry_column, skip_invalid, role, mode, share, op_column, chosen, note
        )
        outcome = _imported(target, group, file, options, read)
        invalid = outcome.invalid if isinstance(outcome, Imported) else outcome.lines
        if out is not None:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(INVALID_COLUMNS)
            writer.writerows((r.line, r.input, r.reason) for r in invalid)
    # The file is in place now, the refused import's included.
    if read:
        _say_columns(read[0], column is None, expiry_column is None)
    total = outcome.total if isinstance(outcome, PartlyListed) else len(invalid)
    _report(invalid, total, invalid_out)
    if not isinstance(outcome, Imported):
        raise click.ClickException(
            f"nothing imported: {invalid_lines(total)} "
            "(fix them, or pass --skip-invalid to import the others)"
        )
    for header in outcome.headers:  # said, because a damaged first number can look like one
        shown = ",".join(header.values)
        click.echo(f"line {header.line} read as a header (not imported): {shown!r}", err=True)
    elapsed = time.monotonic() - started
    # A server does not say how many lines it read.
    lines = "sent" if outcome.lines is None else f"{outcome.lines} lines"
    done = {"add": "updated", "replace": "replaced", "changes": "changed"}[mode]
    removed = "" if mode == "add" else f"{outcome.removed} removed, "
    click.echo(
        f"{'created' if outcome.created_group else done} group {outcome.group_name!r} "
        f"(id {outcome.group_id}): {outcome.added} added, {outcome.updated} already there, "
        f"{removed}{invalid_lines(len(invalid))} skipped, {outcome.repeats} repeated lines; "
        f"{lines} in {elapsed:.1f} s"
    )


def _mode(
    replace: bool, changes: bool, op_column: str | None, force: bool, max_removal: str
) -> ImportMode:
    if replace and changes:
        raise click.UsageError("--replace and --changes are two ways to import: pick one")
    if op_column is not None and not changes:
        raise click.UsageError("--op-column is for a change list (--changes)")
    if (force or max_removal != "20%") and not replace:
        raise click.UsageError("--force and --max-removal are for --replace")
    return "replace" if replace else "changes" if changes else "add"


def _note(raw: str | None) -> str | None:
    """--note as ``checked_note`` takes it; a usage error (exit 2) saying what is wrong with
    it and the rule, without the note itself (it may be long, or not printable)."""
    try:
        return checked_note(raw)
    except InvalidInput as exc:
        text = raw or ""
        fault = (
            f"{len(text):,} characters"
            if len(text) > NOTE_MAX
            else "it holds NUL, or bytes that are not UTF-8"
        )
        raise click.BadParameter(f"{fault}; a note is {NOTE_RULE}", param_hint="--note") from exc


def _share(text: str) -> float:
    """--max-removal as a share: ``20%`` or ``0.2``."""
    raw = text.strip()
    try:
        share = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise click.BadParameter(
            f"{text!r}: a share of the group, from 0% to 100% (or 0 to 1)",
            param_hint="--max-removal",
        )
    return share


def _invalid_file(stack: ExitStack, file: Path, path: Path) -> IO[str]:
    """The --invalid-out file, open (and moved into place when ``stack`` closes without an
    error); a usage error (exit 2) when it cannot be."""
    if path.resolve() == file.resolve():
        raise click.UsageError("--invalid-out must not be the file imported")
    try:
        return stack.enter_context(replacing(path))
    except click.ClickException as exc:
        raise click.BadParameter(exc.message, param_hint="--invalid-out") from exc


def _imported(
    target: Operations, group: str, file: Path, options: ImportOptions, read: list[files.Layout]
) -> Imported | ImportRejected:
    """The import, with progress on a terminal: its result, or its refusal for invalid lines
    (reported by the caller). ``read`` is given the layout the file was read with."""
    size = file.stat().st_size
    # One bar for reading (and checking) the file, one for writing the entries.
    with progress_bar(amount_column()) as progress, failures(file):
        reading = progress.add_task("reading", total=size, unit="bytes")
        writing = progress.add_task("writing (entries)", total=None, visible=False)

        def wrote(done: int, total: int) -> None:
            progress.update(reading, completed=size)
            progress.update(writing, completed=done, total=total, visible=True)

        try:
            return target.import_file(
                group,
                file,
                options,
                lambda done: progress.update(reading, completed=done),
                wrote,
                read.append,
            )
        except NothingToImport as exc:
            raise click.ClickException(f"{file} holds no numbers: nothing imported") from exc
        except ImportRejected as exc:
            return exc


def _say_columns(read: files.Layout, number_found: bool, expiry_found: bool) -> None:
    """Which columns were read, when the file's layout decided (a file of one column has no
    choice to say): ``numbers read from column 2 ("phone")``."""
    said = []
    if number_found and read.number_cells > 1:
        first, last = read.number + 1, read.number + read.number_cells
        said.append(f"numbers read from columns {first}-{last} (area code, number)")
    elif number_found and read.width > 1:
        said.append(f"numbers read from {_column_named(read, read.number)}")
    if expiry_found and read.expiry is not None:
        said.append(f"expiries read from {_column_named(read, read.expiry)}")
    if read.op is not None:
        said.append(f"operations read from {_column_named(read, read.op)}")
    if said:
        click.echo(", ".join(said), err=True)


def _column_named(read: files.Layout, at: int) -> str:
    named = "" if read.header is None else f" ({read.header[at]!r})"
    return f"column {at + 1}{named}"


def _report(invalid: Sequence[RejectedLine], total: int, written: Path | None) -> None:
    """The first ``SHOWN`` invalid lines, then how many there are and where the rest are. A
    server's refusal lists only the first 10,000 of its ``total``: said, as the most the
    file can hold."""
    if not total:
        return
    for rejected in invalid[:SHOWN]:
        click.echo(f"line {rejected.line}: {rejected.input!r}: {rejected.reason}", err=True)
    count = invalid_lines(total)
    listed = len(invalid)
    server = f"the first {listed:,}, all the server lists"
    if written is None:
        if total <= SHOWN:
            said = count
        else:
            them = "them all" if listed == total else server
            said = f"... and {total - SHOWN:,} more ({count}): --invalid-out FILE writes {them}"
    elif listed == total:
        said = f"{count}, all written to {written}"
    else:
        said = f"{count}, {server}, written to {written}"
    click.echo(said, err=True)


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
