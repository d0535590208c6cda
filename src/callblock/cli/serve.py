"""`callblock serve`: the API server, in one process or several."""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import tempfile
from contextlib import ExitStack
from typing import Any

import click

from callblock.cli.common import (
    database_option,
    failure,
    load_settings,
    open_service,
    resolve_database_url,
)
from callblock.domain import DomainError
from callblock.metrics import MULTIPROCESS_DIR

DEMO_USERNAME = "demo"


@click.command()
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

    settings = load_settings()  # fail here, clearly, rather than in each worker
    url = resolve_database_url(ctx, database_url)
    # Workers build the app from the environment, so the flag travels there.
    os.environ["CALLBLOCK_DATABASE_URL"] = url
    service = open_service(ctx, url)
    try:
        if not service.has_accounts():
            _announce_demo(service.create_account(DEMO_USERNAME).key, host, port)
    except DomainError as exc:
        raise failure(exc) from exc
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
