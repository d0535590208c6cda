"""The ``callblock`` command.

    callblock [serve]            run the API server (plain ``callblock`` does the same)
    callblock account create|update|key|set-auth|list|keys|revoke-key
                                 accounts, their settings and API keys (local database)
    callblock check NUMBER       is it blocked, and by what (--campaign: may it call now)
    callblock group list|create|delete
                                 block and allow groups
    callblock campaign list|create|show|attach|detach|set-window|delete
                                 campaigns: their attached groups and calling window
    callblock purge-expired GROUP
                                 remove a group's expired entries
    callblock import FILE        a number list into a group, all or nothing
    callblock export             a group's entries as CSV
    callblock scrub FILE         a calling list split into callable and other rows
    callblock stats              checks and blocked calls over time, by group, top entries
    callblock stale GROUP        a group's entries no check matched for --days days
    callblock db upgrade         migrate the database to the newest schema
    callblock settings           every setting: variable, default, meaning

``check``, ``group``, ``purge-expired``, ``campaign``, ``import``, ``export``, ``scrub``,
``stats`` and ``stale`` act on the local database as ``--account USERNAME`` or on a server's
/v1 API with ``--url URL --api-key KEY``: each is written once against
``operations.Operations``, and ``target.open_target`` picks the target.
Every command and group of commands takes ``--database-url`` (the flag nearest the command
wins); ``callblock`` itself takes it too.

One module an area: ``serve``, ``accounts``, ``groups`` (check and groups), ``campaigns``,
``bulk`` (import, export, scrub; their files in ``files``), ``insights`` (stats, stale),
``db``, ``settings``; ``common``
holds what they share, ``lookup`` finds groups and campaigns by name or id.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import click

from callblock.cli.accounts import account
from callblock.cli.bulk import export_command, import_command, scrub_command
from callblock.cli.campaigns import campaign
from callblock.cli.common import database_option
from callblock.cli.db import db
from callblock.cli.groups import check, group, purge_expired
from callblock.cli.insights import stale_command, stats_command
from callblock.cli.serve import serve
from callblock.cli.settings import settings_command

__all__ = ["main", "run"]


@click.group(invoke_without_command=True)
@database_option
@click.version_option(package_name="callblock")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """callblock: block-number groups for contact centres. Without a command, runs `serve`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


def run() -> None:
    """The ``callblock`` command: ``main``, then the process ends at once.

    By then the command is over: its files are closed and its store disposed (as its click
    context closed), its output is flushed here. What is skipped is the interpreter's own
    teardown of every imported module (SQLAlchemy, numpy, pydantic...), which took 0.2 to
    0.3 s of every command on the reference machine: more than a `check` itself.
    """
    try:
        main()  # click's standalone mode always ends in SystemExit
        code = 0
    except SystemExit as exc:
        code = _exit_status(exc.code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream
            stream.flush()
    logging.shutdown()
    os._exit(code)


def _exit_status(code: object) -> int:
    """What ``sys.exit(code)`` would make of ``code``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(OSError, ValueError):
        print(code, file=sys.stderr)
    return 1


for command in (
    serve,
    account,
    check,
    group,
    purge_expired,
    campaign,
    import_command,
    export_command,
    scrub_command,
    stats_command,
    stale_command,
    db,
    settings_command,
):
    main.add_command(command)
