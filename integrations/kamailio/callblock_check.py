"""The HTTP half of callblock.cfg: asks callblock's `GET /v1/check/{number}` for Kamailio.

Loaded by Kamailio's app_python3 (``modparam("app_python3", "load", ...)``) and called as
``python_exec("check")`` with ``$var(cb_number)``, ``$var(cb_direction)`` and
``$var(cb_campaign)`` set; it sets ``$var(cb_verdict)`` ("blocked", "allowed" or "failed") and
``$var(cb_detail)``. Each Kamailio process keeps one connection to callblock alive and gives a
check ``TIMEOUT_MS`` milliseconds in all, connecting included.

Python rather than the http_client module because Kamailio 5.6's http_client takes timeouts in
whole seconds and opens a new connection for every query that can carry a header (the key).
Only the standard library: it runs in the interpreter Kamailio embeds.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from typing import Any

import KSR  # type: ignore[import-not-found]  # provided by Kamailio's app_python3

# The settings, from the configuration's defines (`-A NAME=VALUE`).
_SETTINGS = ("CALLBLOCK_URL", "CALLBLOCK_KEY", "TIMEOUT_MS")


class CheckFailed(Exception):
    """callblock did not answer in time, or answered something other than a verdict."""


class CallblockClient:
    """One kept-alive HTTP connection to callblock, per Kamailio process."""

    def __init__(self, url: str, key: str, timeout_ms: int) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"CALLBLOCK_URL must be http://HOST:PORT or https://..., not {url!r}")
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        self._base = parsed.path.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "User-Agent": "callblock-kamailio",
        }
        self._timeout = timeout_ms / 1000
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self, budget: float) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=budget)
        return http.client.HTTPConnection(self._host, self._port, timeout=budget)

    def check(self, number: str, direction: str, campaign: str) -> tuple[int, dict[str, Any]]:
        """callblock's status and JSON answer for one number, within the timeout."""
        query = {"direction": direction}
        if campaign:
            query["campaign"] = campaign
        path = (
            f"{self._base}/v1/check/{urllib.parse.quote(number, safe='+')}"
            f"?{urllib.parse.urlencode(query)}"
        )
        deadline = time.monotonic() + self._timeout
        reused = self._connection is not None
        try:
            return self._ask(path, deadline)
        except (OSError, http.client.HTTPException) as failure:
            self.close()
            # A kept-alive connection the server closed while idle fails at once: one more
            # try on a new connection, within what is left of the budget.
            if reused and not isinstance(failure, TimeoutError) and time.monotonic() < deadline:
                try:
                    return self._ask(path, deadline)
                except (OSError, http.client.HTTPException) as again:
                    self.close()
                    raise CheckFailed(_describe(again, self._timeout)) from again
            raise CheckFailed(_describe(failure, self._timeout)) from failure

    def _ask(self, path: str, deadline: float) -> tuple[int, dict[str, Any]]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if self._connection is None:
            self._connection = self._connect(left)
            self._connection.connect()
        sock = self._connection.sock
        if sock is not None:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
        self._connection.request("GET", path, headers=self._headers)
        response = self._connection.getresponse()
        body = response.read()
        if response.will_close:
            self.close()
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {}
        return response.status, answer if isinstance(answer, dict) else {}

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _describe(failure: BaseException, timeout: float) -> str:
    if isinstance(failure, (TimeoutError, socket.timeout)):
        return f"no answer within {round(timeout * 1000)} ms"
    if isinstance(failure, ConnectionRefusedError):
        return "connection refused"
    return f"{type(failure).__name__}: {failure}".rstrip(": ")


def verdict(status: int, answer: dict[str, Any]) -> tuple[str, str]:
    """("blocked" | "allowed" | "failed", why) for callblock's answer."""
    if status == 200:
        if "callable" in answer:  # a campaign's answer: may it call the number now?
            return ("allowed" if answer["callable"] is True else "blocked"), ""
        if isinstance(answer.get("blocked"), bool):
            return ("blocked" if answer["blocked"] else "allowed"), ""
        return "failed", "an answer without a verdict"
    if status == 422 and _blames_number(answer):
        # Not a phone number (a SIP user name such as "alice"): no list can hold it.
        return "allowed", ""
    title = answer.get("title") or answer.get("detail") or ""
    return "failed", f"HTTP {status}{': ' + str(title) if title else ''}"


def _blames_number(answer: dict[str, Any]) -> bool:
    # RFC 9457 problem details: ``errors`` maps each invalid field to what is wrong with it.
    errors = answer.get("errors")
    return isinstance(errors, dict) and set(errors) == {"number"}


class KamailioCheck:
    """What app_python3 calls: ``python_exec("check")``."""

    def __init__(self) -> None:
        self._client: CallblockClient | None = None
        self._unusable = ""

    def child_init(self, rank: int) -> int:
        return 0

    def _ready_client(self) -> CallblockClient | None:
        if self._client is None and not self._unusable:
            found = {name: KSR.pv.get(f"$def({name})") for name in _SETTINGS}
            missing = [name for name, value in found.items() if not value]
            try:
                if missing:
                    raise ValueError(f"-A {missing[0]}=... is missing")
                timeout_ms = int(str(found["TIMEOUT_MS"]))
                if timeout_ms <= 0:
                    raise ValueError("TIMEOUT_MS must be a whole number of milliseconds above 0")
                self._client = CallblockClient(
                    str(found["CALLBLOCK_URL"]), str(found["CALLBLOCK_KEY"]), timeout_ms
                )
            except ValueError as bad:
                self._unusable = str(bad)
        return self._client

    def check(self, msg: object) -> int:
        client = self._ready_client()
        if client is None:
            return _set("failed", f"callblock.cfg is not set up: {self._unusable}")
        number = _text(KSR.pv.get("$var(cb_number)"))
        direction = _text(KSR.pv.get("$var(cb_direction)")) or "inbound"
        campaign = _text(KSR.pv.get("$var(cb_campaign)"))
        if "/" in number or number in ("", ".", ".."):
            # A SIP user part may hold these; no phone number does, and no URL path can.
            return _set("allowed", "")
        try:
            status, answer = client.check(number, direction, campaign)
        except CheckFailed as failure:
            return _set("failed", str(failure))
        return _set(*verdict(status, answer))


def _text(value: object) -> str:
    # An unset $var reads as the number 0.
    return value if isinstance(value, str) else ""


def _set(outcome: str, detail: str) -> int:
    KSR.pv.sets("$var(cb_verdict)", outcome)
    KSR.pv.sets("$var(cb_detail)", detail)
    return 1


def mod_init() -> KamailioCheck:
    return KamailioCheck()
