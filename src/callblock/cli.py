"""The ``callblock`` command: serve, accounts and keys, database migrations."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from callblock.domain import (
    DEFAULT_REGION,
    DEFAULT_TIMEZONE,
    AccountNotFound,
    AuthMode,
    DomainError,
    InvalidInput,
    StoreUnavailable,
    UsernameTaken,
)
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store.migrate import SchemaOutdated, ensure_current, upgrade

F = TypeVar("F", bound=Callable[..., Any])
DEMO_USERNAME = "demo"


def database_option(command: F) -> F:
    """``--database-url`` on a command; it wins over the same option given before the command."""
    return click.option(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of the store [env CALLBLOCK_DATABASE_URL; "
        "default sqlite:///./callblock.db].",
    )(command)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"CALLBLOCK_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise click.ClickException(f"invalid setting: {problems}") from exc


def _database_url(ctx: click.Context, given: str | None) -> str:
    # Flag on the command, then flag before it, then the environment, then the default.
    root_given = ctx.find_root().params.get("database_url")
    return given or root_given or _settings().database_url


def _shown(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _store(url: str) -> Store:
    try:
        return Store.from_url(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise click.ClickException(f"unusable database URL {_shown(url)}: {exc}") from exc


def _service(ctx: click.Context, database_url: str | None) -> Service:
    url = _database_url(ctx, database_url)
    store = _store(url)
    ctx.call_on_close(store.dispose)
    try:
        ensure_current(store.engine)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from exc
    except (StoreUnavailable, OperationalError) as exc:
        raise click.ClickException(f"cannot open the database {_shown(url)}: {exc}") from exc
    return Service(store)


def _fail(exc: DomainError) -> click.ClickException:
    match exc:
        case InvalidInput():
            details = "; ".join(f"{p.field} {p.value!r}: {p.detail}" for p in exc.problems)
            return click.ClickException(f"invalid input: {details}")
        case UsernameTaken():
            return click.ClickException(f"account {exc.username!r} already exists")
        case AccountNotFound():
            return click.ClickException(f"no account named {exc.username!r}")
        case StoreUnavailable():
            return click.ClickException(f"database unavailable: {exc}")
        case _:
            return click.ClickException(str(exc) or type(exc).__name__)


@click.group(invoke_without_command=True)
@database_option
@click.version_option(package_name="callblock")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """callblock: block-number groups for contact centres. Without a command, runs `serve`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@database_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, database_url: str | None) -> None:
    """Run the API server."""
    import uvicorn

    _settings()  # fail here, clearly, rather than in each worker
    url = _database_url(ctx, database_url)
    # Workers build the app from the environment, so the flag travels there.
    os.environ["CALLBLOCK_DATABASE_URL"] = url
    service = _service(ctx, url)
    try:
        if not service.has_accounts():
            _announce_demo(service.create_account(DEMO_USERNAME).key, host, port)
    except DomainError as exc:
        raise _fail(exc) from exc
    service.store.dispose()
    uvicorn.run(
        "callblock.api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        log_level="info",
    )


def _announce_demo(key: str, host: str, port: int) -> None:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown_host}:{port}/CAServicesV3/blockNumberGroupV2.php"
    body = '{"name": "Spam callers", "description": "Known spam", "blockNumbers": "9876543210"}'
    click.echo(f"Created account {DEMO_USERNAME!r}. Its API key, shown once: {key}")
    click.echo("Try it:")
    click.echo(
        f"  curl -u {shlex.quote(DEMO_USERNAME + ':' + key)} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)} {url}"
    )


@main.group()
def account() -> None:
    """Accounts and their API keys."""


@account.command("create")
@click.argument("username")
@click.option("--region", default=DEFAULT_REGION, show_default=True, help="Default phone region.")
@click.option("--timezone", default=DEFAULT_TIMEZONE, show_default=True, help="IANA time zone.")
@database_option
@click.pass_context
def account_create(
    ctx: click.Context, username: str, region: str, timezone: str, database_url: str | None
) -> None:
    """Create an account with one API key; the key is printed alone on the last line."""
    service = _service(ctx, database_url)
    try:
        issued = service.create_account(username, region, timezone)
    except DomainError as exc:
        raise _fail(exc) from exc
    acc = issued.account
    click.echo(
        f"created account {acc.username} (region {acc.region}, timezone {acc.timezone}, "
        f"auth {acc.auth_mode}); API key id {issued.key_id}, shown once:"
    )
    click.echo(issued.key)


@account.command("key")
@click.argument("username")
@database_option
@click.pass_context
def account_key(ctx: click.Context, username: str, database_url: str | None) -> None:
    """Issue an additional API key; printed alone on the last line."""
    service = _service(ctx, database_url)
    try:
        issued = service.issue_key(username)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"new API key id {issued.key_id} for {issued.account.username}, shown once:")
    click.echo(issued.key)


@account.command("set-auth")
@click.argument("username")
@click.argument("mode", type=click.Choice([m.value for m in AuthMode], case_sensitive=False))
@database_option
@click.pass_context
def account_set_auth(
    ctx: click.Context, username: str, mode: str, database_url: str | None
) -> None:
    """Choose how the account authenticates on /ca_apis: API key header or token."""
    service = _service(ctx, database_url)
    try:
        account = service.set_auth_mode(username, AuthMode(mode.upper()))
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{account.username} now uses {account.auth_mode} on /ca_apis")


@account.command("list")
@database_option
@click.pass_context
def account_list(ctx: click.Context, database_url: str | None) -> None:
    """List accounts (never keys)."""
    service = _service(ctx, database_url)
    try:
        summaries = service.list_accounts()
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{'USERNAME':<24} {'REGION':<6} {'TIMEZONE':<24} {'AUTH':<11} KEYS GROUPS")
    for s in summaries:
        a = s.account
        click.echo(
            f"{a.username:<24} {a.region:<6} {a.timezone:<24} {a.auth_mode:<11} "
            f"{s.active_keys:>4} {s.groups:>6}"
        )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@database_option
@click.pass_context
def db_upgrade(ctx: click.Context, database_url: str | None) -> None:
    """Migrate the database to the newest schema."""
    url = _database_url(ctx, database_url)
    store = _store(url)
    try:
        upgrade(store.engine)
    except OperationalError as exc:
        raise click.ClickException(f"cannot open the database {_shown(url)}: {exc}") from exc
    finally:
        store.dispose()
    click.echo("database is at the newest schema")
