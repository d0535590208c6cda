"""`callblock check` and `callblock group list|create|delete`, on any target."""

from __future__ import annotations

from typing import cast

import click

from callblock.cli.common import database_option
from callblock.cli.operations import CallDirection, GroupDirection, NotANumber
from callblock.cli.target import failures, open_target, target_options
from callblock.domain import Direction, clean_description, clean_group_name
from callblock.rules import DESCRIPTION_MAX, DESCRIPTION_RULE, LARGEST_ID, NAME_RULE

CALL_DIRECTIONS = click.Choice(["inbound", "outbound"])
GROUP_DIRECTIONS = click.Choice([d.value for d in Direction])


@click.command()
@click.argument("number")
@click.option("--direction", type=CALL_DIRECTIONS, default=None)
@target_options
@click.pass_context
def check(
    ctx: click.Context,
    number: str,
    direction: str | None,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Is NUMBER blocked? Prints why; exit status 0 either way, 2 for an invalid number."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        try:
            result = target.check(number, cast(CallDirection | None, direction))
        except NotANumber as exc:
            click.echo(f"{number}: {exc}", err=True)
            ctx.exit(2)
    shown = result.number or number
    if not result.blocked:
        click.echo(f"{shown}: not blocked")
        return
    click.echo(f"{shown}: BLOCKED")
    for match in result.matches:
        where = f"group {match.group_id} ({match.group_name})" if match.group_id else "account"
        until = f", until {match.expires_at.isoformat()}" if match.expires_at else ""
        click.echo(f"  {match.rule} {match.pattern} in {where}{until}")


@click.group()
@database_option
def group(database_url: str | None) -> None:
    """Block-number groups."""


@group.command("list")
@target_options
@click.pass_context
def group_list(
    ctx: click.Context,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """List groups with their active and expired entry counts."""
    target = open_target(ctx, account, url, api_key, database_url)
    click.echo(f"{'ID':>6}  {'DIRECTION':<9} {'ACTIVE':>8} {'EXPIRED':>8}  NAME")
    with failures():
        for g in target.groups.list(page_size=500):
            click.echo(
                f"{g.id:>6}  {g.direction:<9} {g.active_count:>8} {g.expired_count:>8}  {g.name}"
            )


@group.command("create")
@click.argument("name")
@click.option("--description", default="", help=f"Up to {DESCRIPTION_MAX} characters.")
@click.option("--direction", type=GROUP_DIRECTIONS, default="both", show_default=True)
@target_options
@click.pass_context
def group_create(
    ctx: click.Context,
    name: str,
    description: str,
    direction: str,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Create a group; its id is printed alone on the last line."""
    # The domain's rules, said before anything is opened, the same on every target.
    if clean_group_name(name) is None:
        raise click.BadParameter(NAME_RULE, param_hint="NAME")
    if clean_description(description, minimum=0) is None:
        raise click.BadParameter(DESCRIPTION_RULE, param_hint="--description")
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        created = target.groups.create(name, description, cast(GroupDirection, direction))
    click.echo(f"created group {name!r}:")
    click.echo(created.id)


@group.command("delete")
@click.argument("group_id", type=click.IntRange(1, LARGEST_ID))
@target_options
@click.pass_context
def group_delete(
    ctx: click.Context,
    group_id: int,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Delete a group and all its entries."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        target.groups.delete(group_id)
    click.echo(f"deleted group {group_id}")
