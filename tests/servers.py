"""Real `callblock serve` processes for tests: started on free ports, stopped cleanly."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def callblock(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callblock", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def create_account(username: str, *, database_url: str) -> str:
    """A new account, made by ``callblock account create``: its API key (the output's last
    line)."""
    out = callblock("account", "create", username, database_url=database_url).stdout
    return out.strip().splitlines()[-1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    database_url: str
    log: Path  # the server's output: a file, so that a chatty server never blocks on a pipe
    index_dir: Path  # the node's snapshot files


# Every test server's node-local index directory lives under one, removed at exit.
_INDEX_ROOT = tempfile.mkdtemp(prefix="callblock-test-index-")
atexit.register(shutil.rmtree, _INDEX_ROOT, ignore_errors=True)


def start_server(database_url: str, *args: str, **settings: str) -> Server:
    """A server on ``database_url`` (extra ``serve`` arguments in ``args``, settings as
    ``CALLBLOCK_*`` variables), once it answers ``/healthz``."""
    port = free_port()
    handle, name = tempfile.mkstemp(prefix="callblock-server-", suffix=".log")
    os.close(handle)
    log = Path(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBLOCK_")}
    # A node of its own unless told which: its snapshot files in a directory of its own.
    settings.setdefault("index_dir", tempfile.mkdtemp(dir=_INDEX_ROOT))
    env.update({f"CALLBLOCK_{name.upper()}": value for name, value in settings.items()})
    with log.open("ab") as output:  # appending: reading it meanwhile moves nothing
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "callblock",
                "serve",
                "--port",
                str(port),
                "--database-url",
                database_url,
                *args,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Server(url, process, database_url, log, Path(settings["index_dir"]))
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 30 s")


def server_output(server: Server) -> str:
    """What the server has printed so far."""
    return server.log.read_text()


def stop_server(server: Server) -> str:
    """Stop the server; its output."""
    server.process.terminate()
    server.process.wait(timeout=30)
    output = server.log.read_text()
    server.log.unlink()
    return output


def wait_ready(server: Server, within: float = 30) -> None:
    """Until ``/readyz`` answers 200 (store reachable, index loaded)."""
    deadline = time.monotonic() + within
    while httpx.get(server.url + "/readyz", timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"{server.url} not ready within {within} s")
        time.sleep(0.05)


def workers_of(server: Server) -> list[int]:
    """The process ids of the server's workers (``serve --workers N``): the children the
    supervisor spawned, not its helpers (multiprocessing's resource tracker)."""
    found = subprocess.run(
        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
    )
    pids = [int(pid) for pid in found.stdout.split()]
    return [pid for pid in pids if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def kill_server(server: Server) -> None:
    """``kill -9`` the server and every worker at the same instant, as a crash would."""
    found = subprocess.run(
        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
    )
    for pid in [server.process.pid, *(int(p) for p in found.stdout.split())]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    server.log.unlink(missing_ok=True)
