"""What every command shares: ``--database-url``, settings, opening the local database, and
the one mapping of domain errors to the CLI's messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from callblock.domain import (
    AccountNotFound,
    CampaignNameTaken,
    CampaignNotFound,
    DomainError,
    GroupNotFound,
    InvalidInput,
    KeyNotFound,
    NameTaken,
    StoreUnavailable,
    TooManyRemovals,
    UsernameTaken,
)
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store.migrate import SchemaOutdated, ensure_current

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def database_option(command: F) -> F:
    """``--database-url`` on a command or a group of commands; the flag nearest the command
    wins over one given before it."""
    return click.option(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of the store [env CALLBLOCK_DATABASE_URL; "
        "default sqlite:///./callblock.db].",
    )(command)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"CALLBLOCK_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise click.ClickException(f"invalid setting: {problems}") from exc


def resolve_database_url(ctx: click.Context, given: str | None) -> str:
    """The flag on the command, then the nearest one before it (on its group, then on
    ``callblock`` itself), then the environment, then the default."""
    if given:
        return given
    parent = ctx.parent
    while parent is not None:
        if found := parent.params.get("database_url"):
            return str(found)
        parent = parent.parent
    return load_settings().database_url


def shown(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def open_store(url: str) -> Store:
    try:
        return Store.from_url(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise click.ClickException(f"unusable database URL {shown(url)}: {exc}") from exc


def open_service(ctx: click.Context, given_url: str | None) -> Service:
    """The local database's service, its store disposed when the command ends."""
    url = resolve_database_url(ctx, given_url)
    store = open_store(url)
    ctx.call_on_close(store.dispose)
    try:
        ensure_current(store.engine)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from exc
    except (StoreUnavailable, OperationalError) as exc:
        raise click.ClickException(f"cannot open the database {shown(url)}: {exc}") from exc
    return Service(store)


def on_store(ctx: click.Context, given_url: str | None, action: Callable[[Service], T]) -> T:
    """``action`` on the local database's service; a domain error becomes the CLI's message."""
    service = open_service(ctx, given_url)
    try:
        return action(service)
    except DomainError as exc:
        raise failure(exc) from exc


def failure(exc: DomainError) -> click.ClickException:
    """The CLI's message for a domain error: one line on stderr, exit status 1."""
    match exc:
        case InvalidInput():
            details = "; ".join(f"{p.field} {p.value!r}: {p.detail}" for p in exc.problems)
            return click.ClickException(f"invalid input: {details}")
        case UsernameTaken():
            return click.ClickException(f"account {exc.username!r} already exists")
        case AccountNotFound():
            return click.ClickException(f"no account named {exc.username!r}")
        case KeyNotFound():
            return click.ClickException(f"account {exc.username!r} has no API key id {exc.key_id}")
        case GroupNotFound():
            return click.ClickException("no such group")
        case TooManyRemovals():
            return click.ClickException(
                f"nothing replaced: the file would remove {exc.removing:,} of the group's "
                f"{exc.present:,} entries, more than --max-removal ({exc.limit:.0%}) allows. "
                "Check the file is whole (a truncated download?); to replace anyway, raise "
                "--max-removal or pass --force"
            )
        case CampaignNotFound():
            return click.ClickException("no such campaign")
        case CampaignNameTaken():
            return click.ClickException(f"a campaign named {exc.name!r} already exists")
        case NameTaken():
            return click.ClickException(f"a group named {exc.name!r} already exists")
        case StoreUnavailable():
            return click.ClickException(f"database unavailable: {exc}")
        case _:
            return click.ClickException(str(exc) or type(exc).__name__)
