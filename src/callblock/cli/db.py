"""`callblock db upgrade`: the database schema."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from callblock.cli.common import database_option, open_store, resolve_database_url, shown
from callblock.store.migrate import HEAD, SchemaOutdated, current_revision, refuse_newer, upgrade


@click.group()
@database_option
def db(database_url: str | None) -> None:
    """Database schema."""


@db.command("upgrade")
@database_option
@click.pass_context
def db_upgrade(ctx: click.Context, database_url: str | None) -> None:
    """Migrate the database to the newest schema."""
    url = resolve_database_url(ctx, database_url)
    store = open_store(url)
    try:
        before = current_revision(store.engine)
        refuse_newer(store.engine)
        upgrade(store.engine)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from exc
    except OperationalError as exc:
        raise click.ClickException(f"cannot open the database {shown(url)}: {exc}") from exc
    finally:
        store.dispose()
    if before == HEAD:
        click.echo(f"database is already at the newest schema ({HEAD})")
    else:
        click.echo(f"database migrated from {before or 'an empty schema'} to {HEAD}")
