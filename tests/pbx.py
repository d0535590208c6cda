"""Debian's Kamailio running integrations/kamailio/callblock.cfg, for the PBX tests and the
benchmark: started on a free UDP port in front of a callblock server, stopped with its children."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.sip import Caller

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "integrations" / "kamailio" / "callblock.cfg"


def kamailio_binary() -> str | None:
    return shutil.which("kamailio") or next(
        (p for p in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio") if os.access(p, os.X_OK)),
        None,
    )


def kamailio_missing() -> str | None:
    """Why Kamailio cannot run callblock.cfg here, or None when it can."""
    binary = kamailio_binary()
    if binary is None:
        return "no kamailio (Debian: apt-get install kamailio kamailio-python3-modules)"
    checked = subprocess.run(
        [binary, "-c", "-f", str(CONFIG), *defines(CALLBLOCK_KEY="k", NEXT_HOP="sip:x:5060")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if checked.returncode != 0:
        return f"kamailio cannot load callblock.cfg: {checked.stderr.strip()[-400:]}"
    return None


def defines(**values: str) -> list[str]:
    return [arg for name, value in values.items() for arg in ("-A", f"{name}={value}")]


def free_udp_port() -> int:
    """A UDP port free now, below the range the kernel hands out to sockets bound to port 0,
    so that no test's socket takes it before Kamailio binds it."""
    lowest_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(lowest_ephemeral // 2, lowest_ephemeral)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class Kamailio:
    proxy: tuple[str, int]
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def lines(self, text: str) -> list[str]:
        return [line for line in self.output().splitlines() if text in line]


@contextmanager
def running_kamailio(config: Path = CONFIG, **settings: str) -> Iterator[Kamailio]:
    """``kamailio -DD -E -f config -A NAME=VALUE...`` with ``settings`` (LISTEN on a free port
    unless given), once it answers an OPTIONS; stopped with its children after."""
    binary = kamailio_binary()
    if binary is None:
        raise RuntimeError("no kamailio")
    port = free_udp_port()
    settings.setdefault("LISTEN", f"udp:127.0.0.1:{port}")
    host, listen_port = settings["LISTEN"].split(":")[-2:]
    proxy = (host, int(listen_port))
    handle, name = tempfile.mkstemp(prefix="callblock-kamailio-", suffix=".log")
    os.close(handle)
    log = Path(name)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [binary, "-DD", "-E", "-f", str(config), *defines(**settings)],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # its own process group: stopped whole
        )
    try:
        deadline = time.monotonic() + 20
        with Caller(proxy) as probe:
            while probe.options(within=0.2) is None:
                if process.poll() is not None:
                    raise RuntimeError(f"kamailio exited: {log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kamailio did not answer: {log.read_text()[-2000:]}")
        yield Kamailio(proxy, process, log)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.unlink(missing_ok=True)
