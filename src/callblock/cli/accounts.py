"""`callblock account ...`: accounts and their API keys, on the local database."""

from __future__ import annotations

import click

from callblock.cli.common import database_option, on_store
from callblock.domain import (
    DEFAULT_REGION,
    DEFAULT_TIMEZONE,
    EVERY_SCOPE,
    Account,
    Actor,
    AuthMode,
    Scope,
    Surface,
    scopes_text,
)
from callblock.service import Service


@click.group()
@database_option
def account(database_url: str | None) -> None:
    """Accounts and their API keys."""


_LABEL = click.option(
    "--label",
    default="",
    help="Who or what holds the key, as the history names it (e.g. 'Dialer, floor 2').",
)


@account.command("create")
@click.argument("username")
@click.option("--region", default=DEFAULT_REGION, show_default=True, help="Default phone region.")
@click.option("--timezone", default=DEFAULT_TIMEZONE, show_default=True, help="IANA time zone.")
@_LABEL
@database_option
@click.pass_context
def account_create(
    ctx: click.Context,
    username: str,
    region: str,
    timezone: str,
    label: str,
    database_url: str | None,
) -> None:
    """Create an account with one API key of every scope; the key is printed alone on the
    last line."""
    issued = on_store(
        ctx,
        database_url,
        lambda service: service.create_account(username, region, timezone, label),
    )
    acc = issued.account
    click.echo(
        f"created account {acc.username} (region {acc.region}, timezone {acc.timezone}, "
        f"auth {acc.auth_mode}); API key id {issued.key_id} ({_scopes(issued.scopes)}), "
        "shown once:"
    )
    click.echo(issued.key)


@account.command("update")
@click.argument("username")
@click.option("--region", help="Default phone region (ISO 3166, e.g. GB).")
@click.option("--timezone", help="IANA time zone (e.g. Europe/London).")
@database_option
@click.pass_context
def account_update(
    ctx: click.Context,
    username: str,
    region: str | None,
    timezone: str | None,
    database_url: str | None,
) -> None:
    """Change an account's region (how national numbers are read) or time zone (how an
    import's expiry without an offset is read); audited, and used by every server process
    within a second."""
    if region is None and timezone is None:
        raise click.UsageError("nothing to change: give --region, --timezone or both")

    def update(service: Service) -> Account:
        actor = Actor(service.account(username), None, Surface.CLI)
        return service.update_settings(actor, region=region, timezone=timezone)

    acc = on_store(ctx, database_url, update)
    click.echo(f"account {acc.username}: region {acc.region}, timezone {acc.timezone}")


@account.command("key")
@click.argument("username")
@_LABEL
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help="What the key may do: check, read (includes check), write (includes read) or admin "
    "(account settings and keys); repeat, or separate with commas. Default: all four.",
)
@database_option
@click.pass_context
def account_key(
    ctx: click.Context,
    username: str,
    label: str,
    scopes: tuple[str, ...],
    database_url: str | None,
) -> None:
    """Issue an additional API key; printed alone on the last line."""
    named = [name.strip() for given in scopes for name in given.split(",")]
    issued = on_store(
        ctx,
        database_url,
        lambda service: service.issue_key(username, label, named or tuple(EVERY_SCOPE)),
    )
    click.echo(
        f"new API key id {issued.key_id} for {issued.account.username} "
        f"({_scopes(issued.scopes)}), shown once:"
    )
    click.echo(issued.key)


def _scopes(scopes: frozenset[Scope]) -> str:
    return "scopes " + scopes_text(scopes).replace(",", ", ")


@account.command("set-auth")
@click.argument("username")
@click.argument("mode", type=click.Choice([m.value for m in AuthMode], case_sensitive=False))
@database_option
@click.pass_context
def account_set_auth(
    ctx: click.Context, username: str, mode: str, database_url: str | None
) -> None:
    """Choose how the account authenticates on /ca_apis: API key header or token."""
    account = on_store(
        ctx, database_url, lambda service: service.set_auth_mode(username, AuthMode(mode.upper()))
    )
    click.echo(f"{account.username} now uses {account.auth_mode} on /ca_apis")


@account.command("list")
@database_option
@click.pass_context
def account_list(ctx: click.Context, database_url: str | None) -> None:
    """List accounts (never keys)."""
    summaries = on_store(ctx, database_url, lambda service: service.list_accounts())
    click.echo(f"{'USERNAME':<24} {'REGION':<6} {'TIMEZONE':<24} {'AUTH':<11} KEYS GROUPS")
    for s in summaries:
        a = s.account
        click.echo(
            f"{a.username:<24} {a.region:<6} {a.timezone:<24} {a.auth_mode:<11} "
            f"{s.active_keys:>4} {s.groups:>6}"
        )


@account.command("keys")
@click.argument("username")
@database_option
@click.pass_context
def account_keys(ctx: click.Context, username: str, database_url: str | None) -> None:
    """List an account's API keys: id, first characters, created, revoked, scopes and label
    (never the keys)."""
    keys = on_store(ctx, database_url, lambda service: service.keys(username))
    click.echo(f"{'ID':>6}  {'STARTS':<16} {'CREATED':<25} {'REVOKED':<25} {'SCOPES':<22} LABEL")
    for key in keys:
        revoked = "-" if key.revoked_at is None else key.revoked_at.isoformat(timespec="seconds")
        created = key.created_at.isoformat(timespec="seconds")
        scopes = scopes_text(key.scopes)
        click.echo(
            f"{key.key_id:>6}  {key.prefix + '...':<16} {created:<25} {revoked:<25} "
            f"{scopes:<22} {key.label}".rstrip()
        )


@account.command("revoke-key")
@click.argument("username")
@click.argument("key_id", type=click.IntRange(min=1))
@database_option
@click.pass_context
def account_revoke_key(
    ctx: click.Context, username: str, key_id: int, database_url: str | None
) -> None:
    """Revoke one API key (ids: `callblock account keys USERNAME`) and every token made
    with it. Every worker and node refuses it within a second."""
    revoked = on_store(ctx, database_url, lambda service: service.revoke_key(username, key_id))
    if revoked:
        click.echo(f"revoked API key id {key_id} of {username}, and its tokens")
    else:
        click.echo(f"API key id {key_id} of {username} was already revoked")
