"""`callblock campaign list|create|show|attach|detach|set-window|delete`, on any target.

Campaigns and groups are named by name or id (``lookup``); a calling window is typed as
``--days mon-sat --hours 09:00-21:00`` (``calling_hours.window_from_text``) and travels to the
target in its JSON form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from callblock.calling_hours import CallingWindow, clean_window, window_from_text
from callblock.cli.common import database_option
from callblock.cli.lookup import find_campaign, find_group
from callblock.cli.operations import AttachedGroupView, CampaignView, WindowView
from callblock.cli.target import failures, open_target, target_options
from callblock.domain import FieldProblem, clean_description, group_name_problem
from callblock.rules import DESCRIPTION_MAX, DESCRIPTION_RULE

F = TypeVar("F", bound=Callable[..., Any])

_DAYS_HELP = (
    "The days a window starts on: mon-sat, mon,wed,fri, sat-mon (wraps past Sunday), "
    "mon-wed,fri or all. With --hours."
)
_HOURS_HELP = (
    "The callee's local hours, HH:MM-HH:MM: 09:00-21:00; 21:00-02:00 crosses midnight; "
    "09:00-24:00 ends at midnight. With --days."
)


def _window_options(command: F) -> F:
    command = click.option("--hours", metavar="HH:MM-HH:MM", help=_HOURS_HELP)(command)
    return click.option("--days", metavar="DAYS", help=_DAYS_HELP)(command)


def _window(days: str | None, hours: str | None) -> CallingWindow | None:
    """The window the options type (None when neither is given); a usage error, before
    anything is opened, when only one is given or either does not read."""
    if days is None and hours is None:
        return None
    if days is None or hours is None:
        missing = "--days" if days is None else "--hours"
        raise click.UsageError(f"a calling window needs --days and --hours; {missing} is missing")
    try:
        return window_from_text(days, hours)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--days/--hours") from exc


def _wire(window: CallingWindow | None) -> dict[str, object] | None:
    return None if window is None else window.to_wire()


def _window_text(window: WindowView | None) -> str:
    """``Mon-Sat 09:00-21:00`` (the callee's local time), or ``any time``."""
    if window is None:
        return "any time"
    problems: list[FieldProblem] = []
    wire = {"days": list(window.days), "start": window.start, "end": window.end}
    known = clean_window(wire, problems)
    # A window the target answered is one it accepted; shown as sent should that ever fail.
    return known.describe() if known else f"{','.join(window.days)} {window.start}-{window.end}"


def _groups_text(groups: Sequence[AttachedGroupView]) -> str:
    if not groups:
        return "none"
    return ", ".join(
        f"{g.id} ({g.name}{', attached' if g.scope == 'attached' else ''}"
        f"{', consent overrides it' if g.consent_overrides else ''})"
        for g in groups
    )


def _say(campaign: CampaignView) -> None:
    click.echo(f"campaign {campaign.id}: {campaign.name}")
    if campaign.description:
        click.echo(f"  description:    {campaign.description}")
    window = campaign.calling_window
    local = "" if window is None else " (the callee's local time)"
    click.echo(f"  calling window: {_window_text(window)}{local}")
    click.echo(f"  block groups:   {_groups_text(campaign.block_groups)}")
    click.echo(f"  allow groups:   {_groups_text(campaign.allow_groups)}")
    click.echo("  (global groups count in every campaign as well)")


def _check_name(name: str) -> None:
    if (problem := group_name_problem(name)) is not None:
        raise click.BadParameter(problem, param_hint="NAME")


@click.group()
@database_option
def campaign(database_url: str | None) -> None:
    """Campaigns: the groups each obeys on top of the global ones, and its calling window."""


@campaign.command("list")
@target_options
@click.pass_context
def campaign_list(
    ctx: click.Context,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """List campaigns with their calling window and how many groups are attached."""
    target = open_target(ctx, account, url, api_key, database_url)
    click.echo(f"{'ID':>6}  {'WINDOW':<28} {'BLOCK':>5} {'ALLOW':>5}  NAME")
    with failures():
        for c in target.campaigns.list():
            window = _window_text(c.calling_window)
            click.echo(
                f"{c.id:>6}  {window:<28} {len(c.block_groups):>5} {len(c.allow_groups):>5}  "
                f"{c.name}"
            )


@campaign.command("create")
@click.argument("name")
@click.option("--description", default="", help=f"Up to {DESCRIPTION_MAX} characters.")
@_window_options
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="NAME_OR_ID",
    help="A group to attach (block or allow); repeat for more.",
)
@target_options
@click.pass_context
def campaign_create(
    ctx: click.Context,
    name: str,
    description: str,
    days: str | None,
    hours: str | None,
    groups: tuple[str, ...],
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Create a campaign; its id is printed alone on the last line. Without --days and
    --hours it may call at any time."""
    _check_name(name)
    if clean_description(description, minimum=0) is None:
        raise click.BadParameter(DESCRIPTION_RULE, param_hint="--description")
    window = _window(days, hours)
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        group_ids = [find_group(target.groups, g).id for g in groups]
        created = target.campaigns.create(name, description, _wire(window), group_ids)
    _say(created)
    click.echo(created.id)


@campaign.command("show")
@click.argument("name", metavar="NAME_OR_ID")
@target_options
@click.pass_context
def campaign_show(
    ctx: click.Context,
    name: str,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """A campaign: its calling window and its attached groups."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        found = find_campaign(target.campaigns, name)
    _say(found)


@campaign.command("attach")
@click.argument("name", metavar="NAME_OR_ID")
@click.argument("groups", metavar="GROUP...", nargs=-1, required=True)
@target_options
@click.pass_context
def campaign_attach(
    ctx: click.Context,
    name: str,
    groups: tuple[str, ...],
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Attach groups (names or ids) to a campaign; those attached already stay."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        found = find_campaign(target.campaigns, name)
        group_ids = [find_group(target.groups, g).id for g in groups]
        changed = target.campaigns.attach(found.id, group_ids)
    _say(changed)


@campaign.command("detach")
@click.argument("name", metavar="NAME_OR_ID")
@click.argument("groups", metavar="GROUP...", nargs=-1, required=True)
@target_options
@click.pass_context
def campaign_detach(
    ctx: click.Context,
    name: str,
    groups: tuple[str, ...],
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Detach groups (names or ids) from a campaign; the groups themselves stay."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        found = find_campaign(target.campaigns, name)
        group_ids = [find_group(target.groups, g).id for g in groups]
        changed = found
        for group_id in dict.fromkeys(group_ids):
            changed = target.campaigns.detach(found.id, group_id)
    _say(changed)


@campaign.command("set-window")
@click.argument("name", metavar="NAME_OR_ID")
@_window_options
@click.option("--none", "remove", is_flag=True, help="Remove the window: call at any time.")
@target_options
@click.pass_context
def campaign_set_window(
    ctx: click.Context,
    name: str,
    days: str | None,
    hours: str | None,
    remove: bool,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Set a campaign's calling window (--days and --hours), or remove it (--none)."""
    window = _window(days, hours)
    if remove == (window is not None):
        raise click.UsageError("give either --days and --hours, or --none")
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        found = find_campaign(target.campaigns, name)
        changed = target.campaigns.update(found.id, calling_window=_wire(window))
    _say(changed)


@campaign.command("delete")
@click.argument("name", metavar="NAME_OR_ID")
@target_options
@click.pass_context
def campaign_delete(
    ctx: click.Context,
    name: str,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Delete a campaign; its groups and their entries stay."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        found = find_campaign(target.campaigns, name)
        target.campaigns.delete(found.id)
    click.echo(f"deleted campaign {found.id} ({found.name}); its groups stay")
