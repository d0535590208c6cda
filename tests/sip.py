"""A small SIP user agent over UDP for the PBX tests and benchmark: a caller that sends an
INVITE and reads its final answer, and a responder standing in for the next hop.

Only what those need of RFC 3261: a request with its Via branch and tags, provisional answers
skipped, the ACK a final answer asks for (hop by hop for a refusal, through the recorded Route
for a 2xx), and a callee that answers every INVITE with 200 and remembers what it was sent.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    """A final answer to an INVITE, and how long after sending it came."""

    status: int
    reason: str
    headers: dict[str, list[str]]
    seconds: float
    call_id: str = ""
    sent: tuple[tuple[str, str], ...] = ()  # the INVITE's headers

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse(data: bytes) -> tuple[str, dict[str, list[str]]]:
    """The start line and the headers (lower-cased names, every value kept) of a message."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    first, *lines = head.split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return first, headers


def _message(start: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [start, *(f"{name}: {value}" for name, value in headers), "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Caller:
    """Places calls through a proxy from a UDP socket of its own."""

    def __init__(self, proxy: tuple[str, int]) -> None:
        self.proxy = proxy
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as route:
            route.connect(proxy)  # no packet sent: the address this host reaches the proxy from
            local = route.getsockname()[0]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local, 0))
        self.address = self.sock.getsockname()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Caller:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def options(self, within: float) -> int | None:
        """An OPTIONS through the proxy: the status answered within ``within`` s, or None."""
        host, port = self.proxy
        me = f"{self.address[0]}:{self.address[1]}"
        call_id = secrets.token_hex(12) + "@sip.test"
        request_uri = f"sip:probe@{host}:{port}"
        probe = _message(
            f"OPTIONS {request_uri} SIP/2.0",
            [
                ("Via", f"SIP/2.0/UDP {me};branch=z9hG4bK{secrets.token_hex(8)};rport"),
                ("Max-Forwards", "70"),
                ("From", f"<sip:probe@{me}>;tag={secrets.token_hex(6)}"),
                ("To", f"<{request_uri}>"),
                ("Call-ID", call_id),
                ("CSeq", "1 OPTIONS"),
            ],
        )
        self.sock.sendto(probe, self.proxy)
        return next(self._finals(call_id, "OPTIONS", within), None)

    def invite(
        self,
        callee: str,
        caller: str,
        *,
        asserted: str | None = None,
        extra: list[tuple[str, str]] | None = None,
        within: float = 10.0,
        mangle: Callable[[bytes], bytes] | None = None,
        cancel_after: float | None = None,
        keep_resending: bool = False,
    ) -> Answer:
        """INVITE ``sip:callee@proxy`` from ``caller`` (a user part, or a whole From URI with
        ``sip:``/``tel:``); the final answer. ``asserted`` adds a P-Asserted-Identity URI;
        ``mangle`` rewrites the encoded INVITE before it is sent; ``cancel_after`` sends a
        CANCEL that many seconds after the INVITE if no final answer came by then;
        ``keep_resending`` resends it even after a provisional answer (a lost 100)."""
        host, port = self.proxy
        me = f"{self.address[0]}:{self.address[1]}"
        branch = "z9hG4bK" + secrets.token_hex(8)
        call_id = secrets.token_hex(12) + "@sip.test"
        from_uri = caller if caller.startswith(("sip:", "tel:")) else f"sip:{caller}@{me}"
        from_tag = secrets.token_hex(6)
        request_uri = f"sip:{callee}@{host}:{port}"
        headers = [
            ("Via", f"SIP/2.0/UDP {me};branch={branch};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<{from_uri}>;tag={from_tag}"),
            ("To", f"<{request_uri}>"),
            ("Call-ID", call_id),
            ("CSeq", "1 INVITE"),
            ("Contact", f"<sip:caller@{me}>"),
        ]
        if asserted is not None:
            headers.append(("P-Asserted-Identity", f"<{asserted}>"))
        headers.extend(extra or [])
        invite = _message(f"INVITE {request_uri} SIP/2.0", headers)
        if mangle is not None:  # bytes no str could hold, as a broken network may send
            invite = mangle(invite)
        started = time.monotonic()
        deadline = started + within
        resend_at, interval = started, 0.5  # RFC 3261's timer A over UDP
        cancel_at = None if cancel_after is None else started + cancel_after
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise TimeoutError(f"no final answer to the INVITE within {within} s")
            if cancel_at is not None and now >= cancel_at:
                cancel_at = None
                self.sock.sendto(self._cancel(headers, request_uri), self.proxy)
            if now >= resend_at:
                self.sock.sendto(invite, self.proxy)
                resend_at, interval = now + interval, interval * 2
            wake = min(resend_at, deadline, cancel_at or deadline)
            self.sock.settimeout(max(wake - now, 0.001))
            try:
                data, _ = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            first, answer_headers = parse(data)
            if (
                not first.startswith("SIP/2.0 ")
                or call_id not in answer_headers.get("call-id", [])
                or not answer_headers.get("cseq", [""])[0].endswith("INVITE")
            ):
                continue  # a stray answer to an earlier call, or the answer to a CANCEL
            code, _, reason = first[len("SIP/2.0 ") :].partition(" ")
            status = int(code)
            if status < 200:
                if not keep_resending:
                    resend_at = deadline  # a provisional answer stops the resending (timer A)
                continue
            seconds = time.monotonic() - started
            self._ack(status, headers, request_uri, answer_headers, branch)
            return Answer(status, reason, answer_headers, seconds, call_id, tuple(headers))

    def finals(self, answer: Answer, seconds: float) -> list[int]:
        """The final answers to ``answer``'s INVITE that come in the next ``seconds``: a proxy
        resending its answer, or answering twice."""
        return list(self._finals(answer.call_id, "INVITE", seconds))

    def bye(self, answer: Answer, within: float = 5.0) -> int | None:
        """Hang up a call ``answer`` (a 2xx) connected; the status the BYE got, or None."""
        return self.within_dialog(answer, "BYE", within=within)

    def within_dialog(
        self,
        answer: Answer,
        method: str,
        *,
        request_uri: str | None = None,
        within: float = 5.0,
    ) -> int | None:
        """A request within the dialog ``answer`` (a 2xx) set up, along its recorded Route, to
        the callee's Contact or to ``request_uri``; the status it got, or None."""
        me = f"{self.address[0]}:{self.address[1]}"
        target = request_uri or (answer.header("contact") or "").strip("<>")
        common = [(n, v) for n, v in answer.sent if n in ("Max-Forwards", "From", "Call-ID")]
        request = _message(
            f"{method} {target} SIP/2.0",
            [
                ("Via", f"SIP/2.0/UDP {me};branch=z9hG4bK{secrets.token_hex(8)};rport"),
                *common,
                ("To", answer.header("to") or ""),
                ("CSeq", f"2 {method}"),
                *[("Route", r) for r in reversed(answer.headers.get("record-route", []))],
            ],
        )
        self.sock.sendto(request, self.proxy)
        return next(self._finals(answer.call_id, method, within), None)

    def _finals(self, call_id: str, method: str, seconds: float) -> Iterator[int]:
        """The final answers to this call's ``method`` request that come within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except (TimeoutError, ConnectionRefusedError):  # refused: nothing listens yet
                return
            first, headers = parse(data)
            if (
                first.startswith("SIP/2.0 ")
                and call_id in headers.get("call-id", [])
                and headers.get("cseq", [""])[0].endswith(method)
                and int(first.split(" ")[1]) >= 200
            ):
                yield int(first.split(" ")[1])

    def _cancel(self, sent: list[tuple[str, str]], request_uri: str) -> bytes:
        # The INVITE's Via (its branch), From, To, Call-ID and CSeq number (RFC 3261 9.1).
        kept = [(n, v) for n, v in sent if n in ("Via", "Max-Forwards", "From", "To", "Call-ID")]
        return _message(f"CANCEL {request_uri} SIP/2.0", [*kept, ("CSeq", "1 CANCEL")])

    def _ack(
        self,
        status: int,
        sent: list[tuple[str, str]],
        request_uri: str,
        answer: dict[str, list[str]],
        branch: str,
    ) -> None:
        to = answer.get("to", [""])[0]
        common = [(n, v) for n, v in sent if n in ("Max-Forwards", "From", "Call-ID")]
        if status >= 300:  # a refusal is acknowledged hop by hop, in the same transaction
            via = next(v for n, v in sent if n == "Via")
            ack = _message(
                f"ACK {request_uri} SIP/2.0",
                [("Via", via), *common, ("To", to), ("CSeq", "1 ACK")],
            )
        else:  # a 2xx: a new transaction along the Route the proxy recorded
            me = f"{self.address[0]}:{self.address[1]}"
            contact = answer.get("contact", [f"<{request_uri}>"])[0].strip("<>")
            routes = [("Route", r) for r in reversed(answer.get("record-route", []))]
            ack = _message(
                f"ACK {contact} SIP/2.0",
                [
                    ("Via", f"SIP/2.0/UDP {me};branch=z9hG4bK{secrets.token_hex(8)};rport"),
                    *common,
                    ("To", to),
                    ("CSeq", "1 ACK"),
                    *routes,
                ],
            )
        self.sock.sendto(ack, self.proxy)


@dataclass
class Received:
    """An INVITE the responder was sent."""

    request_uri: str
    headers: dict[str, list[str]]

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclass
class Responder:
    """The next hop: answers each INVITE with 200 OK (or ``invite_answer``), anything else but
    an ACK with 200, and keeps what it was sent.

    A request resent by the proxy (the same Call-ID, CSeq and branch, as when an answer was
    late) is kept once and given its first answer again, as a real user agent does; the same
    request relayed twice would come with a new branch, and is kept twice.
    """

    sock: socket.socket
    invites: list[Received] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)  # of every request, ACKs included
    invite_answer: str = "200 OK"
    _stopped: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _answered: dict[tuple[str, str, str], bytes | None] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        host, port = self.sock.getsockname()
        return f"sip:{host}:{port}"

    @classmethod
    def start(
        cls, address: tuple[str, int] = ("127.0.0.1", 0), *, invite_answer: str = "200 OK"
    ) -> Responder:
        """A responder on ``address``, answering INVITEs with ``invite_answer``."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(address)
        sock.settimeout(0.2)
        responder = cls(sock)
        responder.invite_answer = invite_answer
        threading.Thread(target=responder._serve, daemon=True).start()
        return responder

    def stop(self) -> None:
        self._stopped.set()
        self.sock.close()

    def calls(self) -> list[Received]:
        with self._lock:
            return list(self.invites)

    def _serve(self) -> None:
        host, port = self.sock.getsockname()
        while not self._stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            first, headers = parse(data)
            method, _, rest = first.partition(" ")
            if method.startswith("SIP/"):
                continue
            top_via = headers.get("via", [""])[0]
            request = (
                headers.get("call-id", [""])[0],
                headers.get("cseq", [""])[0],
                top_via.partition(";branch=")[2].split(";", 1)[0],
            )
            if request in self._answered:
                resent = self._answered[request]
                with suppress(OSError):
                    if resent is not None:
                        self.sock.sendto(resent, peer)
                continue
            self._answered[request] = None
            if len(self._answered) > 4096:  # resends come within seconds: keep the latest
                del self._answered[next(iter(self._answered))]
            with self._lock:
                self.methods.append(method)
            if method == "ACK":
                continue
            if method == "INVITE":
                with self._lock:
                    self.invites.append(Received(rest.rsplit(" ", 1)[0], headers))
            to = headers.get("to", [""])[0]
            if ";tag=" not in to:
                to += f";tag={secrets.token_hex(4)}"
            reply = [("Via", via) for via in headers.get("via", [])]
            reply += [("Record-Route", rr) for rr in headers.get("record-route", [])]
            reply += [
                ("From", headers.get("from", [""])[0]),
                ("To", to),
                ("Call-ID", headers.get("call-id", [""])[0]),
                ("CSeq", headers.get("cseq", [""])[0]),
                ("Contact", f"<sip:callee@{host}:{port}>"),
            ]
            status = self.invite_answer if method == "INVITE" else "200 OK"
            answer = _message(f"SIP/2.0 {status}", reply)
            self._answered[request] = answer
            try:
                self.sock.sendto(answer, peer)
            except OSError:
                return
