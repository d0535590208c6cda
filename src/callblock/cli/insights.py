"""`callblock stats` and `callblock stale`: what the lists stopped, and the entries that stop
nothing, on any target. Tables are drawn by rich (imported when a command runs)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from callblock.cli.files import replacing
from callblock.cli.lookup import find_campaign, find_group
from callblock.cli.operations import StaleEntryView, StatsBucket, StatsView
from callblock.cli.target import failures, open_target, target_options
from callblock.domain import InvalidInput
from callblock.rules import STALE_DAYS_MAX

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

BUCKETS = ("minute", "hour", "day")
OUTPUT = click.Path(dir_okay=False, allow_dash=True, path_type=Path)
SHOWN = 100
"""Most stale entries ``stale`` lists on the terminal; ``--csv`` writes every one."""
# What a refused range names, as the options that set it.
_OPTION = {"from": "--from", "to": "--to"}


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An instant: an ISO 8601 date or date-time; without an offset, UTC (as the buckets are)."""
    if value is None:
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date or a date-time: write it as 2026-06-01, "
            "2026-06-01T12:00 (UTC) or 2026-06-01T17:30+05:30",
            ctx,
            param,
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _console() -> Console:
    from rich.console import Console

    # stdout, as click.echo writes it; names are shown as they are (no markup, no emoji codes)
    return Console(highlight=False, markup=False, emoji=False)


def _table(*headers: str, footer: bool = False) -> Table:
    """Columns of plain text, numbers right-aligned (a header starting with ``>``)."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE, show_footer=footer, show_edge=False, pad_edge=False)
    for header in headers:
        right = header.startswith(">")
        table.add_column(header.lstrip(">"), justify="right" if right else "left")
    return table


def _counted(count: int, noun: str) -> str:
    """``1 check``, ``2,000 checks``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _instant(at: datetime, bucket: str) -> str:
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%d") if bucket == "day" else at.strftime("%Y-%m-%d %H:%M")


@contextmanager
def _range_refusals() -> Iterator[None]:
    """A range the stats cannot answer, said the same on both targets: the domain's
    ``InvalidInput`` locally, the SDK's ``ValidationError`` from a server, each naming the
    ``from`` or ``to`` at fault."""
    from callblock.client import ValidationError

    try:
        yield
    except InvalidInput as exc:
        problems = {p.field: p.detail or p.code.value for p in exc.problems}
        raise _refused(problems) from exc
    except ValidationError as exc:
        if not exc.errors or not set(exc.errors) <= set(_OPTION):
            raise
        raise _refused(exc.errors) from exc


def _refused(problems: dict[str, str]) -> click.ClickException:
    said = "; ".join(f"{_OPTION.get(field, field)}: {detail}" for field, detail in problems.items())
    return click.ClickException(f"invalid range: {said}")


@click.command("stats")
@click.option(
    "--bucket",
    type=click.Choice(BUCKETS),
    default="hour",
    show_default=True,
    help="Each row's length, in UTC.",
)
@click.option(
    "--from",
    "start",
    metavar="WHEN",
    callback=_when,
    default=None,
    help="The range's start: 2026-06-01, 2026-06-01T12:00 (UTC) or with an offset "
    "[default: 60 buckets before --to].",
)
@click.option(
    "--to",
    "end",
    metavar="WHEN",
    callback=_when,
    default=None,
    help="The range's end, as --from [default: now].",
)
@click.option(
    "--group",
    metavar="NAME_OR_ID",
    default=None,
    help="Add a column of the checks this group matched.",
)
@click.option(
    "--campaign",
    metavar="NAME_OR_ID",
    default=None,
    help="Only the checks made for this campaign (blocked: not callable).",
)
@target_options
@click.pass_context
def stats_command(
    ctx: click.Context,
    bucket: str,
    start: datetime | None,
    end: datetime | None,
    group: str | None,
    campaign: str | None,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Checks and blocked calls per bucket over a range, with totals and the blocked share,
    then each group's matches and the entries single checks matched most.

    Single and batch checks made through a server are counted (a scrub is not); each server
    process writes its counts every few seconds (CALLBLOCK_STATS_FLUSH_SECONDS), so the last
    seconds may not show yet. Minutes are kept 2 days, hours 90, days 800 (by default)."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        group_id = group_name = campaign_id = campaign_name = None
        if group is not None:
            found = find_group(target.groups, group)
            group_id, group_name = found.id, found.name
        if campaign is not None:
            named = find_campaign(target.campaigns, campaign)
            campaign_id, campaign_name = named.id, named.name
        with _range_refusals():
            stats = target.stats(cast(StatsBucket, bucket), start, end, group_id, campaign_id)
    _say_stats(stats, group_name, campaign_name)


def _say_stats(stats: StatsView, group: str | None, campaign: str | None) -> None:
    console = _console()
    scope = f"campaign {campaign!r}" if campaign is not None else "every check"
    span = f"{_instant(stats.start, 'minute')} to {_instant(stats.end, 'minute')} UTC"
    console.print(f"checks per {stats.bucket}, {span} ({scope})", soft_wrap=True)
    if stats.series:
        _say_series(console, stats, group)
    else:
        console.print("no checks counted in this range")
    if stats.by_group:
        by_group = _table(">GROUP ID", "GROUP", ">MATCHED", ">OF CHECKS")
        for g in stats.by_group:
            share = _share(g.matched, stats.checks)
            by_group.add_row(str(g.group_id), g.name, f"{g.matched:,}", share)
        console.print()
        console.print("matched by group")
        console.print(by_group)
    if stats.top_entries:  # of the range's days: there may be some when its buckets have none
        top = _table("GROUP", "NUMBER", ">HITS")
        for t in stats.top_entries:
            top.add_row(t.group_name, t.international, f"{t.hits:,}")
        console.print()
        of = " (every check's, not only the campaign's)" if campaign is not None else ""
        console.print(
            f"entries single checks matched most, on the UTC days of the range{of}", soft_wrap=True
        )
        console.print(top)


def _say_series(console: Console, stats: StatsView, group: str | None) -> None:
    """The buckets with checks, a row each, and their totals."""
    headers = [f"{stats.bucket.upper()} (UTC)", ">CHECKS", ">BLOCKED", ">SHARE", ">INVALID"]
    if group is not None:
        headers.append(f">MATCHED BY {group}")
    table = _table(*headers, footer=True)
    for point in stats.series:
        row = [
            _instant(point.start, stats.bucket),
            f"{point.checks:,}",
            f"{point.blocked:,}",
            _share(point.blocked, point.checks),
            f"{point.invalid:,}",
        ]
        if group is not None:
            row.append(f"{point.matched:,}")
        table.add_row(*row)
    invalid = sum(p.invalid for p in stats.series)
    totals = [
        "TOTAL",
        f"{stats.checks:,}",
        f"{stats.blocked:,}",
        _share(stats.blocked, stats.checks),
        f"{invalid:,}",
    ]
    if group is not None:
        totals.append(f"{sum(p.matched for p in stats.series):,}")
    for column, total in zip(table.columns, totals, strict=True):
        column.footer = total
    console.print(table)
    console.print(
        f"{_counted(stats.checks, 'check')}, {stats.blocked:,} blocked "
        f"({_share(stats.blocked, stats.checks)}), {invalid:,} not a number",
        soft_wrap=True,
    )


@click.command("stale")
@click.argument("group")
@click.option(
    "--days",
    type=click.IntRange(1, STALE_DAYS_MAX),
    default=30,
    show_default=True,
    help="No check matched them for this many UTC days (today's included).",
)
@click.option(
    "--csv",
    "csv_file",
    type=OUTPUT,
    default=None,
    help=f"Write every one to this file as CSV ('-': stdout), not the first {SHOWN} as a table.",
)
@target_options
@click.pass_context
def stale_command(
    ctx: click.Context,
    group: str,
    days: int,
    csv_file: Path | None,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """The entries of GROUP (a name, or an id) that no check matched in the last --days days
    and that were in the group all that time: candidates to remove. With the day each last
    matched, as far as the days kept go (800 by default)."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        found = find_group(target.groups, group)
        if csv_file is not None:
            if str(csv_file) == "-":
                count = target.stale_csv(found.id, days, sys.stdout)
            else:
                with replacing(csv_file) as out:
                    count = target.stale_csv(found.id, days, out)
            click.echo(_stale_words(count, found.name, days), err=True)
            return
        entries = target.stale_entries(found.id, days)
        shown = list(itertools.islice(entries, SHOWN + 1))
    _say_stale(shown, found.name, days)


def _stale_words(count: int, group: str, days: int) -> str:
    entries = "entry" if count == 1 else "entries"
    return f"{count:,} {entries} of group {group!r} matched by no check in {_counted(days, 'day')}"


def _day(when: date | datetime | None) -> str:
    if when is None:
        return "-"
    if isinstance(when, datetime):
        return when.astimezone(UTC).strftime("%Y-%m-%d")
    return when.isoformat()


def _say_stale(entries: list[StaleEntryView], group: str, days: int) -> None:
    console = _console()
    if not entries:
        console.print(_stale_words(0, group, days))
        return
    table = _table("NUMBER", "KIND", "STATUS", "EXPIRES", "ADDED", "LAST MATCHED", "NOTE")
    for entry in entries[:SHOWN]:
        table.add_row(
            entry.number,
            entry.kind,
            entry.status,
            _day(entry.expires_at),
            _day(entry.created_at),
            _day(entry.last_matched_on) if entry.last_matched_on else "never",
            entry.note or "",
        )
    console.print(table)
    if len(entries) > SHOWN:
        console.print(
            f"the first {SHOWN} entries of group {group!r} matched by no check in "
            f"{_counted(days, 'day')}; "
            "--csv FILE writes every one",
            soft_wrap=True,
        )
    else:
        console.print(_stale_words(len(entries), group, days), soft_wrap=True)
