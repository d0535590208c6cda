"""The ``callblock`` command: serve, accounts and keys, database migrations."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from callblock.domain import (
    DEFAULT_REGION,
    DEFAULT_TIMEZONE,
    AccountNotFound,
    Actor,
    AuthMode,
    Direction,
    DomainError,
    GroupNotFound,
    InvalidInput,
    KeyNotFound,
    NameTaken,
    StoreUnavailable,
    Surface,
    UsernameTaken,
    clean_description,
    clean_group_name,
)
from callblock.files import FileProblem
from callblock.metrics import MULTIPROCESS_DIR
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from callblock.store.migrate import HEAD, SchemaOutdated, current_revision, ensure_current, upgrade

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
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


def _on_store(ctx: click.Context, database_url: str | None, action: Callable[[Service], T]) -> T:
    """``action`` on the local database's service; a domain error becomes the CLI's message."""
    service = _service(ctx, database_url)
    try:
        return action(service)
    except DomainError as exc:
        raise _fail(exc) from exc


def _fail(exc: DomainError) -> click.ClickException:
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
        case NameTaken():
            return click.ClickException(f"a group named {exc.name!r} already exists")
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes sharing the port and the database; each holds its own check "
    "index. Default: CALLBLOCK_WORKERS, else 1.",
)
@database_option
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, workers: int | None, database_url: str | None
) -> None:
    """Run the API server."""
    import uvicorn

    settings = _settings()  # fail here, clearly, rather than in each worker
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
    processes = workers or settings.workers
    with ExitStack() as cleanup:
        if processes > 1 and not os.environ.get(MULTIPROCESS_DIR):
            # Workers write their metrics here and any of them answers for all.
            shared = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="callblock-"))
            os.environ[MULTIPROCESS_DIR] = shared
        # Behind a load balancer the peer is the balancer: its X-Forwarded-For names the client
        # whose failed authentications count (docs/deploy.md).
        options: dict[str, Any] = {
            "factory": True,
            "host": host,
            "port": port,
            "proxy_headers": True,
            "forwarded_allow_ips": settings.forwarded_allow_ips,
            "timeout_keep_alive": settings.keep_alive_seconds,
        }
        if processes == 1:
            uvicorn.run(APP, log_level="info", **options)
            return
        _serve_workers(uvicorn.Config(APP, workers=processes, **options))


APP = "callblock.http.app:create_app_from_env"


def _serve_workers(config: Any) -> None:
    """Several worker processes on one listening socket (what ``uvicorn.run`` does for
    ``workers``), with TCP_NODELAY set on that socket: accepted connections inherit it.
    Without it a worker's answer waits on Nagle's algorithm and the client's delayed ACK,
    about 40 ms per request on a kept-alive connection (a single process gets it from
    asyncio, which does not set it on a socket shared with workers)."""
    from uvicorn.supervisors import Multiprocess

    listening = config.bind_socket()
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[listening]).run()


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
    click.echo(
        f"Or open http://{shown_host}:{port}/ui in a browser and sign in as "
        f"{DEMO_USERNAME!r} with this key."
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
    issued = _on_store(
        ctx, database_url, lambda service: service.create_account(username, region, timezone)
    )
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
    issued = _on_store(ctx, database_url, lambda service: service.issue_key(username))
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
    account = _on_store(
        ctx, database_url, lambda service: service.set_auth_mode(username, AuthMode(mode.upper()))
    )
    click.echo(f"{account.username} now uses {account.auth_mode} on /ca_apis")


@account.command("list")
@database_option
@click.pass_context
def account_list(ctx: click.Context, database_url: str | None) -> None:
    """List accounts (never keys)."""
    summaries = _on_store(ctx, database_url, lambda service: service.list_accounts())
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
    """List an account's API keys: id, first characters, created, revoked (never the keys)."""
    keys = _on_store(ctx, database_url, lambda service: service.keys(username))
    click.echo(f"{'ID':>6}  {'STARTS':<16} {'CREATED':<25} REVOKED")
    for key in keys:
        revoked = "-" if key.revoked_at is None else key.revoked_at.isoformat(timespec="seconds")
        created = key.created_at.isoformat(timespec="seconds")
        click.echo(f"{key.key_id:>6}  {key.prefix + '...':<16} {created:<25} {revoked}")


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
    revoked = _on_store(ctx, database_url, lambda service: service.revoke_key(username, key_id))
    if revoked:
        click.echo(f"revoked API key id {key_id} of {username}, and its tokens")
    else:
        click.echo(f"API key id {key_id} of {username} was already revoked")


# --- groups and checks, on the local database or a remote server --------------------------------


class _Target:
    """Where `check` and `group` act: the local store (as an account) or a server's /v1."""

    def __init__(
        self,
        ctx: click.Context,
        account: str | None,
        url: str | None,
        api_key: str | None,
        database_url: str | None,
    ) -> None:
        if url is not None:
            if not api_key:
                raise click.UsageError("--url needs --api-key (or CALLBLOCK_API_KEY)")
            from callblock.client import Client

            self.client: Client | None = Client(url, api_key)
            ctx.call_on_close(self.client.close)
            return
        if account is None:
            raise click.UsageError("name the account (--account USERNAME) or a server (--url)")
        self.client = None
        self.service, self.actor = _local(ctx, account, database_url)


def target_options(command: F) -> F:
    command = click.option(
        "--api-key", envvar="CALLBLOCK_API_KEY", help="API key for --url [env CALLBLOCK_API_KEY]."
    )(command)
    command = click.option(
        "--url", help="Act on a callblock server's /v1 API instead of the local database."
    )(command)
    command = click.option("--account", help="Act on the local database as this account.")(command)
    return database_option(command)


@contextmanager
def _errors() -> Iterator[None]:
    """Domain and SDK errors become one clean line on stderr and exit status 1."""
    from callblock.client import CallblockError

    try:
        yield
    except DomainError as exc:
        raise _fail(exc) from exc
    except CallblockError as exc:  # its message already names the invalid fields
        raise click.ClickException(str(exc)) from exc


DIRECTIONS = click.Choice([d.value for d in Direction])


@main.command()
@click.argument("number")
@click.option("--direction", type=click.Choice(["inbound", "outbound"]), default=None)
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
    target = _Target(ctx, account, url, api_key, database_url)
    with _errors():
        if target.client is not None:
            from callblock.client import ValidationError

            try:
                result: Any = target.client.check(number, direction)  # type: ignore[arg-type]
            except ValidationError as exc:
                click.echo(f"{number}: not a valid phone number", err=True)
                ctx.exit(2)
                raise AssertionError("unreachable") from exc
        else:
            wanted = None if direction is None else Direction(direction)
            result = target.service.check(target.actor, number, wanted)
            if result.error is not None:
                click.echo(f"{number}: {result.error}", err=True)
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


@main.group()
def group() -> None:
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
    target = _Target(ctx, account, url, api_key, database_url)
    click.echo(f"{'ID':>6}  {'DIRECTION':<9} {'ACTIVE':>8} {'EXPIRED':>8}  NAME")
    with _errors():
        for row in _groups(target):
            click.echo(f"{row[0]:>6}  {row[2]:<9} {row[3]:>8} {row[4]:>8}  {row[1]}")


def _groups(target: _Target) -> Iterator[tuple[int, str, str, int, int]]:
    if target.client is not None:
        for g in target.client.groups.list():
            yield g.id, g.name, str(g.direction), g.active_count, g.expired_count
        return
    after = None
    while True:
        page = target.service.list_groups(target.actor, name=None, after=after, limit=500)
        for d in page.items:
            yield d.group.id, d.group.name, d.group.direction.value, d.active, d.expired
        if page.next_after is None:
            return
        after = page.next_after


@group.command("create")
@click.argument("name")
@click.option("--description", default="", help="Up to 50 characters.")
@click.option("--direction", type=DIRECTIONS, default="both", show_default=True)
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
    target = _Target(ctx, account, url, api_key, database_url)
    with _errors():
        if target.client is not None:
            group_id = target.client.groups.create(name, description, direction).id  # type: ignore[arg-type]
        else:
            clean = clean_group_name(name)
            text = clean_description(description, minimum=0)
            if clean is None:
                raise click.BadParameter(
                    "2 to 50 characters: letters, marks, digits, space, _ - . ; "
                    "starting with a letter or digit",
                    param_hint="NAME",
                )
            if text is None:
                raise click.BadParameter("up to 50 characters", param_hint="--description")
            created = target.service.create_group(
                target.actor, clean, text, [], None, Direction(direction)
            )
            group_id = created.group.id
    click.echo(f"created group {name!r}:")
    click.echo(group_id)


@group.command("delete")
@click.argument("group_id", type=click.IntRange(1, 2**63 - 1))
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
    target = _Target(ctx, account, url, api_key, database_url)
    with _errors():
        if target.client is not None:
            target.client.groups.delete(group_id)
        else:
            target.service.delete_group(target.actor, group_id)
    click.echo(f"deleted group {group_id}")


# --- bulk: import, export, scrub ---------------------------------------------------------------


def _local(ctx: click.Context, account: str, database_url: str | None) -> tuple[Service, Actor]:
    """The local database's service, and the account acting through the CLI."""
    return _on_store(
        ctx,
        database_url,
        lambda service: (service, Actor(service.account(account), None, Surface.CLI)),
    )


FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.command("import")
@click.argument("file", type=FILE)
@click.option("--account", required=True, help="The account that owns the group.")
@click.option("--group", required=True, help="The group's name; created if it does not exist.")
@click.option("--column", help="The number column: a header name or a 1-based position.")
@click.option("--expiry-column", help="A column of expiries (RFC 3339, or local time).")
@click.option(
    "--skip-invalid", is_flag=True, help="Import the valid lines even if some are invalid."
)
@database_option
@click.pass_context
def import_command(
    ctx: click.Context,
    file: Path,
    account: str,
    group: str,
    column: str | None,
    expiry_column: str | None,
    skip_invalid: bool,
    database_url: str | None,
) -> None:
    """Import a CSV or text file (optionally .gz) of numbers into a group, all or nothing."""
    from callblock.cli_bulk import run_import

    service, actor = _local(ctx, account, database_url)
    try:
        run_import(
            service,
            actor,
            group,
            file,
            column=column,
            expiry_column=expiry_column,
            skip_invalid=skip_invalid,
        )
    except (FileProblem, UnicodeDecodeError, OSError, EOFError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from exc
    except DomainError as exc:
        raise _fail(exc) from exc


@main.command("export")
@click.option("--account", required=True)
@click.option("--group", required=True, help="The group's name.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
@database_option
@click.pass_context
def export_command(
    ctx: click.Context, account: str, group: str, output: Path | None, database_url: str | None
) -> None:
    """Write a group's entries as CSV (number, kind, status, expiry, note, ...), streamed."""
    from callblock.cli_bulk import replacing, run_export

    service, actor = _local(ctx, account, database_url)
    try:
        if output is None:
            count = run_export(service, actor, group, sys.stdout)
        else:
            with replacing(output) as out:
                count = run_export(service, actor, group, out)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"exported {count} {'entry' if count == 1 else 'entries'}", err=True)


@main.command("scrub")
@click.argument("file", type=FILE)
@click.option("--account", required=True)
@click.option("--column", help="The number column: a header name or a 1-based position.")
@click.option(
    "--direction", type=click.Choice(["inbound", "outbound"]), default="outbound", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where the callable rows go.",
)
@click.option(
    "--blocked",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the other rows go, with the reason in a last column.",
)
@database_option
@click.pass_context
def scrub_command(
    ctx: click.Context,
    file: Path,
    account: str,
    column: str | None,
    direction: str,
    output: Path,
    blocked: Path | None,
    database_url: str | None,
) -> None:
    """Split a calling list into callable rows and blocked or invalid ones, in order.

    With --blocked, every row goes to exactly one of the two files; without it, only the
    callable rows are written. Outputs appear only when the scrub succeeds.
    """
    from callblock.cli_bulk import replacing, run_scrub

    outputs = [output] if blocked is None else [output, blocked]
    if len({p.resolve() for p in outputs}) < len(outputs) or file.resolve() in {
        p.resolve() for p in outputs
    }:
        raise click.UsageError("the input, -o and --blocked must be three different files")
    service, actor = _local(ctx, account, database_url)
    started = time.monotonic()
    try:
        with ExitStack() as files:
            good = files.enter_context(replacing(output))
            bad = files.enter_context(replacing(blocked)) if blocked else None
            rows, callable_rows, refused = run_scrub(
                service,
                actor,
                file,
                column=column,
                direction=Direction(direction),
                callable_out=good,
                blocked_out=bad,
            )
    except (FileProblem, UnicodeDecodeError, OSError, EOFError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from exc
    except DomainError as exc:
        raise _fail(exc) from exc
    unwritten = "" if blocked else " (not written: no --blocked)"
    click.echo(
        f"{rows} rows: {callable_rows} callable, {refused} blocked or invalid{unwritten} "
        f"({time.monotonic() - started:.1f} s)",
        err=True,
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
        before = current_revision(store.engine)
        upgrade(store.engine)
    except OperationalError as exc:
        raise click.ClickException(f"cannot open the database {_shown(url)}: {exc}") from exc
    finally:
        store.dispose()
    if before == HEAD:
        click.echo(f"database is already at the newest schema ({HEAD})")
    else:
        click.echo(f"database migrated from {before or 'an empty schema'} to {HEAD}")


@main.command("settings")
def settings_command() -> None:
    """Print every setting (environment variable, default, meaning) as a Markdown table."""
    from callblock.settings import reference

    click.echo(reference(), nl=False)
