"""Where a target-taking command acts, chosen in this one place: the local database as an
account (``--account``), or a server's ``/v1`` API (``--url`` and ``--api-key``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from callblock.cli.common import F, database_option, failure, on_store
from callblock.cli.local import Local
from callblock.cli.operations import CampaignOperations, GroupOperations, Operations
from callblock.domain import Actor, DomainError, Surface
from callblock.files import FileProblem

if TYPE_CHECKING:  # checked by mypy: both adapters are Operations, the SDK's groups as they are
    from callblock.cli.remote import Remote
    from callblock.client import CampaignsAPI, GroupsAPI

    def _local_is_a_target(local: Local) -> Operations:
        return local

    def _remote_is_a_target(remote: Remote) -> Operations:
        return remote

    def _sdk_groups_are_group_operations(groups: GroupsAPI) -> GroupOperations:
        return groups

    def _sdk_campaigns_are_campaign_operations(campaigns: CampaignsAPI) -> CampaignOperations:
        return campaigns


def target_options(command: F) -> F:
    command = click.option(
        "--api-key", envvar="CALLBLOCK_API_KEY", help="API key for --url [env CALLBLOCK_API_KEY]."
    )(command)
    command = click.option(
        "--url", help="Act on a callblock server's /v1 API instead of the local database."
    )(command)
    command = click.option("--account", help="Act on the local database as this account.")(command)
    return database_option(command)


def open_target(
    ctx: click.Context,
    account: str | None,
    url: str | None,
    api_key: str | None,
    database_url: str | None,
) -> Operations:
    """The target the options name, closed when the command ends."""
    if url is not None:
        if not api_key:
            raise click.UsageError("--url needs --api-key (or CALLBLOCK_API_KEY)")
        from callblock.cli.remote import Remote  # the SDK and httpx only when asked for

        try:
            remote = Remote(url, api_key)
        except ValueError as exc:  # refused before anything is sent
            raise click.UsageError(f"--url {url!r}: {exc}") from exc
        ctx.call_on_close(remote.close)
        return remote
    if account is None:
        raise click.UsageError("name the account (--account USERNAME) or a server (--url)")
    return on_store(
        ctx,
        database_url,
        lambda service: Local(service, Actor(service.account(account), None, Surface.CLI)),
    )


_PROBLEM = "urn:callblock:problem:"
KEY_REFUSED = (
    "401 the API key given was refused (--api-key or CALLBLOCK_API_KEY): it is wrong or "
    "revoked, or not a key of the server at --url"
)


@contextmanager
def failures(file: object = None) -> Iterator[None]:
    """Domain and SDK errors, and a ``file`` that cannot be read, become one clean line on
    stderr and exit status 1."""
    from callblock.client import CallblockError, NotFound

    try:
        yield
    except DomainError as exc:
        raise failure(exc) from exc
    except NotFound as exc:  # a group or a campaign that went away
        missing = "campaign" if exc.type == _PROBLEM + "campaign-not-found" else "group"
        raise click.ClickException(f"no such {missing}") from exc
    except CallblockError as exc:
        if exc.status == 401:
            # Only --url commands reach a server, and only with a key: whatever the server
            # says of it (an older one answers "Send an API key..."), that key was refused.
            raise click.ClickException(KEY_REFUSED) from exc
        raise click.ClickException(str(exc)) from exc  # it names the invalid fields already
    except (FileProblem, UnicodeDecodeError, OSError, EOFError) as exc:
        if file is None:
            raise
        raise click.ClickException(f"cannot read {file}: {exc}") from exc
