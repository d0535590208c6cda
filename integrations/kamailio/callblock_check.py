"""The check behind callblock.cfg: reads a new call's identities and asks callblock's
`GET /v1/check/{number}` about them, for Kamailio.

Loaded by Kamailio's app_python3 (``modparam("app_python3", "load", ...)``) and called as
``python_exec("check")`` once the configuration has set ``$var(cb_direction)`` ("inbound" or
"outbound"). It sets ``$var(cb_verdict)`` ("blocked", "allowed" or "failed"),
``$var(cb_number)`` (what decided it) and ``$var(cb_detail)`` (why a check failed).

- Inbound, the caller: every number the call presents (each P-Asserted-Identity, and From),
  blocked if any is; a withheld caller (a withheld From, `Privacy: id`, or no number at all)
  is also checked as ``anonymous``, which callblock blocks where the account says so.
- Outbound, the callee (the request URI's user part), with the ``X-Callblock-Campaign`` header's
  campaign when there is one.
- A caller ID that is no phone number (a SIP user name such as ``alice``) is allowed without
  asking: no list can hold it.

Each Kamailio process keeps one connection to callblock alive, and gives a check
``TIMEOUT_MS`` milliseconds in all, connecting included. After callblock failed to answer, the
process does not wait on it again for a second: the calls meanwhile fail at once (the
configuration's FAIL_MODE decides them), so a hung callblock cannot stall the proxy.

Python rather than the http_client module because Kamailio 5.6's http_client takes timeouts in
whole seconds and opens a new connection for every query that can carry a header (the key).
Only the standard library: it runs in the interpreter Kamailio embeds.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import json
import socket
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import KSR  # type: ignore[import-not-found]  # provided by Kamailio's app_python3

# Caller IDs that mean "withheld", as carriers write them; callblock knows the first five.
WITHHELD = frozenset(
    {"", "anonymous", "private", "unknown", "withheld", "restricted", "unavailable"}
)
# Asserted identities read from one call (a network asserts one or two: a sip: and a tel:).
MAX_ASSERTED = 3
# How long a process stops asking a callblock that did not answer.
PAUSE_SECONDS = 1.0
_CAMPAIGN_NOT_FOUND = "urn:callblock:problem:campaign-not-found"


class SettingsError(ValueError):
    """A -A setting Kamailio was started with cannot work."""


@dataclass(frozen=True)
class Settings:
    url: str
    key: str
    timeout_ms: int


def read_settings(define: Callable[[str], object]) -> Settings:
    """The settings from the configuration's defines (``$def(NAME)``), checked."""

    def text(name: str) -> str:
        value = define(name)
        return "" if value is None else str(value).strip()

    url, key, timeout = text("CALLBLOCK_URL"), text("CALLBLOCK_KEY"), text("TIMEOUT_MS")
    parsed = urllib.parse.urlsplit(url)
    try:
        parsed.port  # noqa: B018  # reading it checks it
    except ValueError:
        raise SettingsError(f"CALLBLOCK_URL has no valid port: {url!r}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(f"CALLBLOCK_URL must be http://HOST:PORT or https://..., not {url!r}")
    if not key:
        raise SettingsError("CALLBLOCK_KEY is empty: give a callblock API key with the check scope")
    if any(char.isspace() for char in key):
        # A comment after `#!define CALLBLOCK_KEY ...` on its line becomes part of the value.
        raise SettingsError("CALLBLOCK_KEY holds a space: a key has none (a comment after it?)")
    if not timeout.isdigit() or not 0 < int(timeout) <= 60_000:
        raise SettingsError(f"TIMEOUT_MS must be whole milliseconds, 1 to 60000, not {timeout!r}")
    agents = text("AGENTS")
    for network in filter(None, (part.strip() for part in agents.split(","))):
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError(f"AGENTS holds {network!r}, which is not a network") from None
    next_hop = text("NEXT_HOP")
    if next_hop:
        if not next_hop.lower().startswith(("sip:", "sips:")):
            raise SettingsError(f"NEXT_HOP must be a SIP URI (sip:ADDRESS:PORT), not {next_hop!r}")
        host = next_hop.split(":", 1)[1].split(";", 1)[0].rsplit("@", 1)[-1]
        host = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]
        try:
            # callblock.cfg knows requests from the next hop by this address.
            ipaddress.ip_address(host)
        except ValueError:
            raise SettingsError(
                f"NEXT_HOP must name the next hop by its IP address, not {host!r}"
            ) from None
    if text("FAIL_MODE") not in ("open", "closed"):
        raise SettingsError(f"FAIL_MODE must be open or closed, not {text('FAIL_MODE')!r}")
    return Settings(url, key, int(timeout))


def header_values(text: str | None) -> list[str]:
    """A header's values, whether in several headers or comma-separated in one (Kamailio
    joins them with commas): split on the commas outside quotes and angle brackets."""
    values: list[str] = []
    current: list[str] = []
    quoted = bracketed = escaped = False
    for char in text or "":
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"' and not bracketed:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracketed = True
        elif char == ">" and not quoted:
            bracketed = False
        elif char == "," and not quoted and not bracketed:
            values.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    values.append("".join(current).strip())
    return [value for value in values if value]


def user_of(value: str | None) -> str | None:
    """The user part of a SIP URI, or the number of a tel URI, in a header's value (with or
    without a display name and angle brackets), unescaped; None when there is none."""
    if not value:
        return None
    text = value.strip()
    # In angle brackets (the first outside a quoted display name), the URI; bare, up to the
    # header's parameters.
    opening = _outside_quotes(text, "<")
    uri = text[opening + 1 :].split(">", 1)[0] if opening >= 0 else text.split(";", 1)[0]
    scheme, _, rest = uri.partition(":")
    scheme = scheme.strip().lower()
    if scheme in ("sip", "sips"):
        if "@" not in rest:
            return None
        user = rest.rsplit("@", 1)[0].split(":", 1)[0]  # without a password
    elif scheme == "tel":
        user = rest
    else:
        return None
    user = user.split(";", 1)[0]  # user parameters (;npdi, ;phone-context=...)
    return urllib.parse.unquote(user, errors="replace").strip()


def _outside_quotes(text: str, wanted: str) -> int:
    """Where ``wanted`` first appears outside double quotes in ``text``, or -1."""
    quoted = escaped = False
    for position, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == wanted and not quoted:
            return position
    return -1


def caller_identities(
    asserted: str | None, from_uri: str | None, privacy: str | None
) -> tuple[list[str], bool]:
    """The numbers an inbound call presents, in order and without repeats, and whether the
    caller withheld their identity."""
    numbers: list[str] = []
    for value in header_values(asserted)[:MAX_ASSERTED]:
        user = user_of(value)
        if user is not None and user.lower() not in WITHHELD and user not in numbers:
            numbers.append(user)
    from_user = user_of(from_uri)
    from_withheld = from_user is None or from_user.lower() in WITHHELD
    if not from_withheld and from_user not in numbers:
        numbers.append(from_user)  # type: ignore[arg-type]  # not None: not withheld
    privacy_id = any(
        token.strip().lower() == "id"
        for value in header_values(privacy)
        for token in value.split(";")
    )
    return numbers, privacy_id or from_withheld or not numbers


def is_a_number(text: str) -> bool:
    """Whether callblock could read ``text`` as a number at all: a user name such as
    ``alice`` has no digit, and no phone number holds a slash (nor could a URL path)."""
    return any(char.isdigit() for char in text) and "/" not in text


class CheckFailed(Exception):
    """callblock did not answer in time, or answered something other than a verdict."""


class CallblockClient:
    """One kept-alive HTTP connection to callblock, per Kamailio process."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        parsed = urllib.parse.urlsplit(settings.url)
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname or ""
        self._port = parsed.port or (443 if self._https else 80)
        self._base = parsed.path.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {settings.key}",
            "Accept": "application/json",
            "User-Agent": "callblock-kamailio",
        }
        self._timeout = settings.timeout_ms / 1000
        self._clock = clock
        self._connection: http.client.HTTPConnection | None = None
        self._paused_until = 0.0
        self._last_failure = ""
        self._deadline = 0.0

    def deadline(self) -> float:
        """When a check starting now must be over: a call's checks share one budget."""
        return self._clock() + self._timeout

    def check(
        self, number: str, direction: str, campaign: str, deadline: float | None = None
    ) -> tuple[int, dict[str, Any]]:
        """callblock's status and JSON answer for one number, by ``deadline`` (default: the
        timeout from now)."""
        now = self._clock()
        if now < self._paused_until:
            raise CheckFailed(
                f"callblock not asked for {round((self._paused_until - now) * 1000)} ms more "
                f"after: {self._last_failure}"
            )
        query = {"direction": direction}
        if campaign:
            query["campaign"] = campaign
        path = (
            f"{self._base}/v1/check/{urllib.parse.quote(number, safe='+')}"
            f"?{urllib.parse.urlencode(query)}"
        )
        deadline = now + self._timeout if deadline is None else deadline
        reused = self._connection is not None
        try:
            return self._ask(path, deadline)
        except (OSError, http.client.HTTPException) as failure:
            self.close()
            # A kept-alive connection the server closed while idle fails at once: one more
            # try on a new connection, within what is left of the budget.
            if reused and not isinstance(failure, TimeoutError) and self._clock() < deadline:
                try:
                    return self._ask(path, deadline)
                except (OSError, http.client.HTTPException) as again:
                    self.close()
                    failure = again
            self._last_failure = _describe(failure, self._timeout)
            self._paused_until = self._clock() + PAUSE_SECONDS
            raise CheckFailed(self._last_failure) from failure

    def _ask(self, path: str, deadline: float) -> tuple[int, dict[str, Any]]:
        self._deadline = deadline
        left = deadline - self._clock()
        if left <= 0:
            raise TimeoutError
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=left)
            self._connection.connect()
            # Every send and read from now on gets what is left of its check's budget, so
            # that an answer trickling in cannot outlast it.
            self._connection.sock = _DeadlineSocket(self._connection.sock, self._left)
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

    def _left(self) -> float:
        left = self._deadline - self._clock()
        if left <= 0:
            raise TimeoutError
        return left

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _DeadlineSocket:
    """A connected socket whose every send and read may take only what ``left`` says is left
    (``TimeoutError`` when nothing is): a socket's own timeout applies to each call alone."""

    def __init__(self, sock: socket.socket, left: Callable[[], float]) -> None:
        self._sock = sock
        self._left = left

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._left())
        self._sock.sendall(data)

    def recv_into(self, buffer: Any, size: int = 0) -> int:
        self._sock.settimeout(self._left())
        return self._sock.recv_into(buffer, size)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_Reader(self))

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Reader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)


def _describe(failure: BaseException, timeout: float) -> str:
    if isinstance(failure, (TimeoutError, socket.timeout)):
        return f"no answer within {round(timeout * 1000)} ms"
    if isinstance(failure, ConnectionRefusedError):
        return "connection refused"
    return f"{type(failure).__name__}: {failure}".rstrip(": ")


def verdict(status: int, answer: dict[str, Any]) -> tuple[str, str]:
    """("blocked" | "allowed" | "failed", why it failed) for callblock's answer."""
    if status == 200:
        if "callable" in answer:  # a campaign's answer: may it call the number now?
            return ("allowed" if answer["callable"] is True else "blocked"), ""
        if isinstance(answer.get("blocked"), bool):
            return ("blocked" if answer["blocked"] else "allowed"), ""
        return "failed", "an answer without a verdict"
    errors = answer.get("errors")
    if status == 422 and isinstance(errors, dict) and set(errors) == {"number"}:
        # Not a phone number callblock can read: no list can hold it.
        return "allowed", ""
    said = answer.get("detail") or answer.get("title") or ""
    return "failed", f"HTTP {status}{': ' + str(said) if said else ''}"


@dataclass(frozen=True)
class Outcome:
    verdict: str  # "blocked", "allowed" or "failed"
    number: str  # the number that decided it (the last one asked when allowed)
    detail: str = ""


class CallChecker:
    """A call's identities against callblock, all within one ``TIMEOUT_MS``: the first blocked
    one decides; failing that, a failure does; failing that, the call is allowed."""

    def __init__(self, client: CallblockClient) -> None:
        self._client = client

    def ask(self, number: str, direction: str, campaign: str, deadline: float) -> Outcome:
        try:
            status, answer = self._client.check(number, direction, campaign, deadline)
        except CheckFailed as failure:
            return Outcome("failed", number, str(failure))
        if status == 404 and campaign and answer.get("type") == _CAMPAIGN_NOT_FOUND:
            # A campaign name mistyped must not open the global lists: they are asked alone.
            plain = self.ask(number, direction, "", deadline)
            if plain.verdict == "blocked":
                return plain
            why = f"no campaign {campaign!r}: only the global lists were checked"
            return Outcome("failed", number, plain.detail or why)
        found, detail = verdict(status, answer)
        return Outcome(found, number, detail)

    def inbound(self, asserted: str | None, from_uri: str | None, privacy: str | None) -> Outcome:
        numbers, withheld = caller_identities(asserted, from_uri, privacy)
        asked = [n for n in numbers if is_a_number(n)] + (["anonymous"] if withheld else [])
        return self._decide(asked, "inbound", "")

    def outbound(self, request_uri: str | None, campaign: str) -> Outcome:
        callee = user_of(request_uri)
        asked = [callee] if callee is not None and is_a_number(callee) else []
        return self._decide(asked, "outbound", campaign)

    def _decide(self, numbers: list[str], direction: str, campaign: str) -> Outcome:
        deadline = self._client.deadline()
        failed: Outcome | None = None
        last = Outcome("allowed", numbers[-1] if numbers else "")
        for number in numbers:
            outcome = self.ask(number, direction, campaign, deadline)
            if outcome.verdict == "blocked":
                return outcome
            if outcome.verdict == "failed" and failed is None:
                failed = outcome
        return failed or last


class KamailioCheck:
    """What app_python3 calls: ``python_exec("check")``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._checker: CallChecker | None = None  # made in each worker, after the fork

    def child_init(self, rank: int) -> int:
        return 0

    def check(self, msg: object) -> int:
        try:
            if self._checker is None:
                self._checker = CallChecker(CallblockClient(self._settings))
            if _read("$var(cb_direction)") == "outbound":
                campaign = (_read("$hdr(X-Callblock-Campaign)") or "").strip()
                outcome = self._checker.outbound(_read("$ru"), campaign)
            else:
                outcome = self._checker.inbound(
                    _read("$(hdr(P-Asserted-Identity)[*])"),
                    _read("$fu"),
                    _read("$(hdr(Privacy)[*])"),
                )
        except Exception as unexpected:  # never leave a verdict unset: the call must be decided
            outcome = Outcome("failed", "", f"the check failed: {unexpected!r}")
        KSR.pv.sets("$var(cb_verdict)", outcome.verdict)
        KSR.pv.sets("$var(cb_number)", _printable(outcome.number))
        KSR.pv.sets("$var(cb_detail)", _printable(outcome.detail))
        return 1


def _read(expression: str) -> str | None:
    try:
        value = KSR.pv.get(expression)
    except UnicodeDecodeError:  # raw bytes that are not UTF-8: no number, so no identity
        return None
    return value if isinstance(value, str) else None


def _printable(text: str) -> str:
    # It goes into a log line: no line breaks or control characters from a caller.
    return "".join(char if char.isprintable() else "?" for char in text)[:200]


def mod_init() -> KamailioCheck:
    # Kamailio refuses to start when this raises, with the message in its log.
    return KamailioCheck(read_settings(lambda name: KSR.pv.get(f"$def({name})")))
