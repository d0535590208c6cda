"""`callblock settings`: every setting, as the deploy guide lists them."""

from __future__ import annotations

import click

from callblock.cli.common import database_option


@click.command("settings")
@database_option
def settings_command(database_url: str | None) -> None:
    """Print every setting (environment variable, default, meaning) as a Markdown table.

    The table is the same whatever the database: --database-url is taken, as by every
    command, and changes nothing here."""
    from callblock.settings import reference

    click.echo(reference(), nl=False)
