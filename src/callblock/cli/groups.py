"""`callblock check`, `callblock group list|create|delete` and `callblock purge-expired`, on
any target."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

import click

from callblock.cli.common import database_option
from callblock.cli.lookup import find_campaign, find_group
from callblock.cli.operations import (
    CallDirection,
    CampaignCheckView,
    GroupDirection,
    GroupKind,
    GroupRole,
    GroupScope,
    GroupView,
    NotANumber,
    ReasonView,
)
from callblock.cli.target import failures, open_target, target_options
from callblock.domain import (
    BatchReason,
    Direction,
    ReasonCode,
    clean_description,
    group_name_problem,
)
from callblock.domain import GroupKind as Kind
from callblock.domain import GroupScope as Scope
from callblock.files.scrub import instant_text, reason_text
from callblock.rules import DESCRIPTION_MAX, DESCRIPTION_RULE, LARGEST_ID

CALL_DIRECTIONS = click.Choice(["inbound", "outbound"])
GROUP_DIRECTIONS = click.Choice([d.value for d in Direction])
KINDS = click.Choice([k.value for k in Kind])
SCOPES = click.Choice([s.value for s in Scope])
F = TypeVar("F", bound=Callable[..., object])


def role_options(defaults: bool, purpose: str = "") -> Callable[[F], F]:
    """``--kind``, ``--scope`` and ``--consent-overrides``; without ``defaults`` a kind or
    scope not given is None (an import tells "not given" from "block")."""

    def add(command: F) -> F:
        command = click.option(
            "--consent-overrides",
            is_flag=True,
            help="A block group an active entry of an allow group lifts in a campaign's "
            f"checks (a national registry; not the company's own list){purpose}.",
        )(command)
        command = click.option(
            "--scope",
            type=SCOPES,
            default="global" if defaults else None,
            show_default=defaults,
            help="global: counts in every check; attached: only in the campaigns it is "
            f"attached to{purpose}.",
        )(command)
        return click.option(
            "--kind",
            type=KINDS,
            default="block" if defaults else None,
            show_default=defaults,
            help=f"block: do not call; allow: consent, which lifts blocks{purpose}.",
        )(command)

    return add


def group_role(kind: str | None, scope: str | None, consent_overrides: bool) -> GroupRole:
    """The role the options give (defaults for those not given); an allow group that
    consent would override is a usage error, said the same on every target."""
    if kind == Kind.ALLOW and consent_overrides:
        raise click.BadParameter(
            "only a block group has its blocks lifted by consent; an allow group's entries "
            "are the consent",
            param_hint="--consent-overrides",
        )
    return GroupRole(
        cast(GroupKind, kind or Kind.BLOCK.value),
        cast(GroupScope, scope or Scope.GLOBAL.value),
        consent_overrides,
    )


def role_text(group: GroupView | GroupRole) -> str:
    """``block group, global``, ``allow group, attached``, with ``, consent overrides it``."""
    return role_words(group.kind, group.scope, group.consent_overrides)


def role_words(kind: str, scope: str, consent_overrides: bool) -> str:
    return f"{kind} group, {scope}" + (", consent overrides it" if consent_overrides else "")


def with_article(text: str) -> str:
    """``text`` with its indefinite article: ``an allow group``, ``a block group``."""
    return ("an " if text.startswith(tuple("aeiou")) else "a ") + text


@click.command()
@click.argument("number")
@click.option("--direction", type=CALL_DIRECTIONS, default=None)
@click.option(
    "--campaign",
    metavar="NAME_OR_ID",
    default=None,
    help="May this campaign call NUMBER now? Its lists, consent and calling window.",
)
@target_options
@click.pass_context
def check(
    ctx: click.Context,
    number: str,
    direction: str | None,
    campaign: str | None,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Is NUMBER blocked (or, with --campaign, may the campaign call it now)? Prints why;
    exit status 0 either way, 2 for an invalid number."""
    target = open_target(ctx, account, url, api_key, database_url)
    wanted = cast(CallDirection | None, direction)
    with failures():
        try:
            if campaign is not None:
                found = find_campaign(target.campaigns, campaign)
                _say_campaign_check(target.check_for_campaign(number, wanted, found.id), number)
                return
            result = target.check(number, wanted)
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


def _say_campaign_check(result: CampaignCheckView, number: str) -> None:
    if result.callable:
        verdict = "callable"
    elif result.blocked:
        verdict = "NOT CALLABLE"
    else:  # only the calling window stands in the way
        verdict = "NOT CALLABLE NOW"
    click.echo(f"{result.number or number}: {verdict} (campaign {result.campaign_name!r})")
    for reason in result.reasons:
        click.echo(f"  {reason.code}: {reason_words(reason)}")
    if result.next_callable_at is not None:
        click.echo(f"  next callable at {instant_text(result.next_callable_at)}")


def reason_words(reason: ReasonView) -> str:
    """A reason in the words a scrubbed list gives it (``files.scrub.reason_text``)."""
    try:
        code = ReasonCode(reason.code)
    except ValueError:  # a code of a newer server: its name is all there is to say
        return reason.code
    allowed = reason.allowed_by
    names = {g: n for g, n in ((reason.group_id, reason.group_name),) if g is not None and n}
    if allowed is not None and allowed.group_id is not None and allowed.group_name:
        names[allowed.group_id] = allowed.group_name
    batch = BatchReason(
        code,
        reason.group_id,
        reason.pattern,
        None if allowed is None else allowed.group_id,
        tuple(reason.time_zones),
    )
    return reason_text(batch, names)


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
    """List groups: kind, scope, direction, whether consent overrides their blocks, their
    active and expired entry counts, and, for a group a file was imported into, how long ago
    and from which file (a registry copy must be fresh: 31 days in the US)."""
    target = open_target(ctx, account, url, api_key, database_url)
    click.echo(
        f"{'ID':>6}  {'KIND':<5} {'SCOPE':<8} {'DIRECTION':<9} {'CONSENT':<7} "
        f"{'ACTIVE':>8} {'EXPIRED':>8}  NAME"
    )
    now = datetime.now(UTC)
    with failures():
        for g in target.groups.list(page_size=500):
            consent = "yes" if g.consent_overrides else "no"
            click.echo(
                f"{g.id:>6}  {g.kind:<5} {g.scope:<8} {g.direction:<9} {consent:<7} "
                f"{g.active_count:>8} {g.expired_count:>8}  {g.name}{_refreshed(g, now)}"
            )


def _refreshed(group: GroupView, now: datetime) -> str:
    """`` (refreshed 3 days ago from dnc.zip)`` after a group's name, for a group a file was
    imported into; a name holds no parenthesis, so the note cannot be read as part of it."""
    if group.refreshed_at is None:
        return ""
    source = "" if group.refreshed_from is None else f" from {group.refreshed_from}"
    return f" (refreshed {age_text(now - group.refreshed_at)}{source})"


def age_text(age: timedelta) -> str:
    """How long ago, in the largest whole unit that fits: 'just now' under a minute."""
    seconds = max(int(age.total_seconds()), 0)
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


@group.command("create")
@click.argument("name")
@click.option("--description", default="", help=f"Up to {DESCRIPTION_MAX} characters.")
@click.option("--direction", type=GROUP_DIRECTIONS, default="both", show_default=True)
@role_options(defaults=True)
@target_options
@click.pass_context
def group_create(
    ctx: click.Context,
    name: str,
    description: str,
    direction: str,
    kind: str,
    scope: str,
    consent_overrides: bool,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Create a group; its id is printed alone on the last line."""
    # The domain's rules, said before anything is opened, the same on every target.
    if (problem := group_name_problem(name)) is not None:
        raise click.BadParameter(problem, param_hint="NAME")
    if clean_description(description, minimum=0) is None:
        raise click.BadParameter(DESCRIPTION_RULE, param_hint="--description")
    role = group_role(kind, scope, consent_overrides)
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        created = target.groups.create(
            name,
            description,
            cast(GroupDirection, direction),
            role.kind,
            role.scope,
            role.consent_overrides,
        )
    click.echo(f"created group {name!r} ({role_text(created)}):")
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


@click.command("purge-expired")
@click.argument("group_name")
@target_options
@click.pass_context
def purge_expired(
    ctx: click.Context,
    group_name: str,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> None:
    """Remove every expired entry of the group GROUP_NAME (a name, or an id), in one change
    however many; print how many were removed."""
    target = open_target(ctx, account, url, api_key, database_url)
    with failures():
        found = find_group(target.groups, group_name)
        removed = target.purge_expired(found.id)
    entries = "entry" if removed == 1 else "entries"
    click.echo(f"removed {removed} expired {entries} from group {found.name!r}")
