"""Blocking at call time in a real SIP proxy: Debian's Kamailio running
integrations/kamailio/callblock.cfg in front of a real `callblock serve`, SIP INVITEs over UDP
from a test caller, and a responder standing in for the next hop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ENGINES, fresh_database, skip_unless_ci
from tests.helpers import bearer
from tests.pbx import (
    CONFIG,
    ROOT,
    Kamailio,
    defines,
    free_udp_port,
    kamailio_binary,
    kamailio_missing,
)
from tests.pbx import running_kamailio as _running_kamailio
from tests.servers import Server, callblock, create_account, start_server, stop_server
from tests.sip import Answer, Caller, Responder

pytestmark = pytest.mark.server

BLOCKED = "9876543210"  # in the "Abusive callers" group (inbound), read in region IN
OTHER = "9123456789"
BOUND = 1.0  # seconds: the documented bound for a write to be seen by every process's checks
FAILED_OPEN = "call relayed unchecked (FAIL_MODE=open)"


@pytest.fixture(scope="module")
def kamailio() -> None:
    reason = kamailio_missing()
    if reason is not None:
        skip_unless_ci(reason + " (sh tests/system-deps.sh installs it)", "the Kamailio tests")


@dataclass
class Site:
    """A callblock server with an account: its admin client and a check-only key."""

    server: Server
    admin: httpx.Client
    check_key: str
    abusive_group: int

    def add(self, group_id: int, *numbers: str) -> None:
        answer = self.admin.post(f"/v1/groups/{group_id}/numbers", json={"numbers": list(numbers)})
        assert answer.status_code == 200, answer.text

    def group(self, name: str, **fields: object) -> int:
        answer = self.admin.post("/v1/groups", json={"name": name, **fields})
        assert answer.status_code == 201, answer.text
        group_id: int = answer.json()["id"]
        return group_id


def _site(server: Server) -> Site:
    admin_key = create_account("acme", database_url=server.database_url)
    issued = callblock(
        "account", "key", "acme", "--scope", "check", "--label", "Kamailio",
        database_url=server.database_url,
    )  # fmt: skip
    admin = httpx.Client(base_url=server.url, headers=bearer(admin_key), timeout=10)
    site = Site(server, admin, issued.stdout.strip().splitlines()[-1], 0)
    site.abusive_group = site.group("Abusive callers", direction="inbound")
    site.add(site.abusive_group, BLOCKED)
    return site


@contextmanager
def serving(request: pytest.FixtureRequest, directory: Path, **settings: str) -> Iterator[Site]:
    """A callblock server (``settings`` as ``CALLBLOCK_*``) on a SQLite store of its own."""
    with fresh_database(request, "sqlite", directory) as url:
        server = start_server(url, **settings)
        site = _site(server)
        try:
            yield site
        finally:
            site.admin.close()
            if server.process.poll() is None:
                os.kill(server.process.pid, signal.SIGCONT)  # a test may have hung it
                log = stop_server(server)
                assert "Traceback" not in log, log


@pytest.fixture
def site(kamailio: None, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    with serving(request, tmp_path) as site:
        yield site


@pytest.fixture
def responder() -> Iterator[Responder]:
    responder = Responder.start()
    yield responder
    responder.stop()


def running_kamailio(
    site: Site, responder: Responder, **settings: str
) -> AbstractContextManager[Kamailio]:
    """Kamailio in front of ``site`` with its check-only key, relaying to ``responder``."""
    return _running_kamailio(
        CALLBLOCK_URL=site.server.url,
        CALLBLOCK_KEY=site.check_key,
        NEXT_HOP=responder.uri,
        **settings,
    )


@contextmanager
def hung(server: Server) -> Iterator[None]:
    """The server stopped (SIGSTOP) as a hung process is: connections accepted, no answer."""
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.process.pid, signal.SIGCONT)


def call(pbx: Kamailio, caller: str, callee: str = "5550100", **options: object) -> Answer:
    with Caller(pbx.proxy) as phone:
        return phone.invite(callee, caller, **options)  # type: ignore[arg-type]


def test_the_configuration_refuses_to_start_without_a_next_hop_or_a_key(kamailio: None) -> None:
    binary = kamailio_binary()
    assert binary is not None
    for given, missing in (({"CALLBLOCK_KEY": "k"}, "NEXT_HOP"), ({"NEXT_HOP": "sip:x"}, "KEY")):
        checked = subprocess.run(
            [binary, "-c", "-f", str(CONFIG), *defines(**given)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert checked.returncode != 0
        assert f"missing -A {'CALLBLOCK_KEY' if missing == 'KEY' else missing}=" in checked.stderr


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("CALLBLOCK_KEY", "", "CALLBLOCK_KEY is empty"),
        ("CALLBLOCK_URL", "127.0.0.1:8080", "CALLBLOCK_URL must be http://HOST:PORT"),
        ("TIMEOUT_MS", "0.5", "TIMEOUT_MS must be whole milliseconds"),
        ("AGENTS", "10.0.0.0/33", "AGENTS holds '10.0.0.0/33', which is not a network"),
        ("FAIL_MODE", "shut", "FAIL_MODE must be open or closed"),
        ("NEXT_HOP", "127.0.0.1:5080", "NEXT_HOP must be a SIP URI"),
    ],
)
def test_a_setting_that_cannot_work_stops_kamailio_at_start_naming_it(
    kamailio: None, setting: str, value: str, said: str
) -> None:
    binary = kamailio_binary()
    assert binary is not None
    settings = {
        "CALLBLOCK_URL": "http://127.0.0.1:8080",
        "CALLBLOCK_KEY": "cbk_k",
        "NEXT_HOP": "sip:127.0.0.1:5080",
        "LISTEN": f"udp:127.0.0.1:{free_udp_port()}",
        setting: value,
    }
    started = subprocess.run(
        [binary, "-DD", "-E", "-f", str(CONFIG), *defines(**settings)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert started.returncode != 0
    assert said in started.stderr


def test_a_blocked_caller_is_declined_with_603_and_another_caller_gets_through(
    site: Site, responder: Responder
) -> None:
    with running_kamailio(site, responder) as pbx:
        declined = call(pbx, BLOCKED)
        assert (declined.status, declined.reason) == (603, "Decline")
        assert responder.calls() == []
        # The caller is told nothing about which list, or that there is one.
        text = " ".join(f"{k}: {v}" for k, vs in declined.headers.items() for v in vs)
        assert "Abusive" not in text
        assert "callblock" not in text.lower()

        through = call(pbx, OTHER)
        assert (through.status, through.reason) == (200, "OK")
        [relayed] = responder.calls()
        assert f"sip:{OTHER}@" in (relayed.header("from") or "")
        assert len(pbx.lines("declined: blocked")) == 1


def test_every_spelling_of_a_blocked_caller_is_declined(site: Site, responder: Responder) -> None:
    with running_kamailio(site, responder) as pbx:
        for spelling in (
            BLOCKED,
            "+91" + BLOCKED,
            "0" + BLOCKED,
            "+91-98765-43210",
            "%2B91%2098765%2043210",  # escaped, as a SIP URI may carry it
        ):
            assert call(pbx, spelling).status == 603, spelling
        assert call(pbx, f"tel:+91{BLOCKED}").status == 603
        assert responder.calls() == []


def test_every_number_the_call_presents_is_checked(site: Site, responder: Responder) -> None:
    with running_kamailio(site, responder) as pbx:
        assert call(pbx, OTHER, asserted=f"sip:+91{BLOCKED}@carrier.example").status == 603
        assert call(pbx, OTHER, asserted=f"tel:+91{BLOCKED}").status == 603
        # A clean asserted identity does not hide a blocked From, nor a second one the first.
        assert call(pbx, BLOCKED, asserted=f"sip:+91{OTHER}@carrier.example").status == 603
        two = [("P-Asserted-Identity", f"<sip:+91{OTHER}@carrier.example>, <tel:+91{BLOCKED}>")]
        assert call(pbx, OTHER, extra=two).status == 603
        headers = [
            ("P-Asserted-Identity", f'"Desk" <sip:+91{OTHER}@carrier.example>'),
            ("P-Asserted-Identity", f"<tel:+91{BLOCKED};npdi>"),
        ]
        assert call(pbx, OTHER, extra=headers).status == 603
        # An asserted identity that names no number leaves From to be checked.
        assert call(pbx, BLOCKED, extra=[("P-Asserted-Identity", "garbage")]).status == 603
        assert call(pbx, OTHER, asserted=f"tel:+91{OTHER}").status == 200
        assert len(responder.calls()) == 1


def test_a_withheld_caller_gets_through_unless_the_account_blocks_withheld_callers(
    site: Site, responder: Responder
) -> None:
    withheld = [
        ("sip:anonymous@anonymous.invalid", None, []),
        ("sip:Restricted@carrier.example", None, []),
        ("sip:carrier.example", None, []),  # no user part at all
        # Known to the network, withheld from the callee.
        ("sip:anonymous@anonymous.invalid", f"tel:+91{OTHER}", [("Privacy", "id")]),
        (f"sip:+91{OTHER}@carrier.example", f"tel:+91{OTHER}", [("Privacy", "header;id")]),
        # A withheld From with an identity the network asserts is still withheld.
        ("sip:Anonymous@anonymous.invalid", f"tel:+91{OTHER}", []),
    ]
    with running_kamailio(site, responder) as pbx:
        for caller, asserted, extra in withheld:
            assert call(pbx, caller, asserted=asserted, extra=extra).status == 200
        answer = site.admin.patch("/v1/account", json={"block_anonymous": True})
        assert answer.status_code == 200, answer.text
        time.sleep(BOUND)  # the setting reaches the server's checks within the bound
        for caller, asserted, extra in withheld:
            assert call(pbx, caller, asserted=asserted, extra=extra).status == 603, caller
        # A caller showing their number is still let through.
        assert call(pbx, OTHER).status == 200
        assert len(responder.calls()) == len(withheld) + 1


def test_a_caller_that_is_not_a_phone_number_is_relayed_without_asking(
    site: Site, responder: Responder
) -> None:
    with running_kamailio(site, responder, FAIL_MODE="closed") as pbx:
        stop_server(site.server)  # not asked: callblock could not be on the path anyway
        for user in ("alice", "sales/desk-2", ".."):
            assert call(pbx, user).status == 200, user
        assert pbx.lines("callblock: check") == []
        assert len(responder.calls()) == 3


def test_bytes_that_are_no_text_count_as_no_number_whatever_the_worker_did_last(
    site: Site, responder: Responder
) -> None:
    def non_utf8(invite: bytes) -> bytes:
        return invite.replace(b"BAD", b"\xe9")

    with running_kamailio(site, responder) as pbx:
        for _ in range(4):  # each worker has declined a call before
            assert call(pbx, BLOCKED).status == 603
        for _ in range(8):  # no number to check: allowed, whatever the worker did last
            assert call(pbx, "91234BAD56789", mangle=non_utf8).status == 200
        for escaped in ("%E9", "UNKNOWN%E9", "%00"):  # escapes that spell no text
            assert call(pbx, escaped).status == 200
        assert pbx.lines("callblock: check") == []
        # Escaped digits in another script are the number they spell.
        devanagari = "".join(f"%{b:02X}" for b in "९८७६५४३२१०".encode())
        assert call(pbx, devanagari).status == 603


def test_an_agents_call_the_campaign_may_not_make_is_stopped_with_403_do_not_call(
    site: Site, responder: Responder
) -> None:
    opted_out = "9811122233"
    sales = site.group("Sales opt-outs", direction="outbound", scope="attached")
    site.add(sales, opted_out)
    dnc = site.group("Do not call", direction="outbound")
    site.add(dnc, "9822233344")
    made = site.admin.post("/v1/campaigns", json={"name": "Spring sale", "group_ids": [sales]})
    assert made.status_code == 201, made.text
    outbound = [("X-Callblock-Direction", "outbound")]
    campaign = [*outbound, ("X-Callblock-Campaign", "Spring sale")]
    with running_kamailio(site, responder, AGENTS="127.0.0.0/8") as pbx:
        stopped = call(pbx, OTHER, callee=opted_out, extra=campaign)
        assert (stopped.status, stopped.reason) == (403, "Do not call")
        # Without the campaign only the global groups count; the national list always does.
        assert call(pbx, OTHER, callee=opted_out, extra=outbound).status == 200
        assert call(pbx, OTHER, callee="9822233344", extra=campaign).status == 403
        assert call(pbx, OTHER, callee="9822233344", extra=outbound).status == 403
        # An inbound block list does not stop an agent calling that number.
        assert call(pbx, OTHER, callee=BLOCKED, extra=campaign).status == 200
        # A campaign name mistyped does not open the global lists; it is a failure.
        typo = [*outbound, ("X-Callblock-Campaign", "Spring sael")]
        assert call(pbx, OTHER, callee="9822233344", extra=typo).status == 403
        assert call(pbx, OTHER, callee=opted_out, extra=typo).status == 200
        [failure] = pbx.lines("callblock: check")
        assert "no campaign 'Spring sael': only the global lists were checked" in failure
        # The mark is read as people write it.
        loose = [("X-Callblock-Direction", " Outbound "), ("X-Callblock-Campaign", "Spring sale")]
        assert call(pbx, OTHER, callee=opted_out, extra=loose).status == 403
        relayed = responder.calls()
        assert len(relayed) == 3
        # The marks are the proxy's: the next hop never sees them.
        assert all(r.header("x-callblock-direction") is None for r in relayed)
        assert all(r.header("x-callblock-campaign") is None for r in relayed)


def test_outbound_marks_count_only_from_the_agents_networks(
    site: Site, responder: Responder
) -> None:
    outbound = [("X-Callblock-Direction", "outbound")]
    # From outside AGENTS, or with none set, the mark cannot dodge the caller's inbound check.
    with running_kamailio(site, responder) as pbx:
        assert call(pbx, BLOCKED, callee=OTHER, extra=outbound).status == 603
        assert len(pbx.lines("outbound mark from 127.0.0.1 ignored: no AGENTS set")) == 1
    with running_kamailio(site, responder, AGENTS="10.20.0.0/16") as pbx:
        assert call(pbx, BLOCKED, callee=OTHER, extra=outbound).status == 603
        assert len(pbx.lines("outbound mark from 127.0.0.1 ignored: not in AGENTS")) == 1
    with running_kamailio(site, responder, AGENTS="10.20.0.0/16,127.0.0.0/8") as pbx:
        assert call(pbx, BLOCKED, callee=OTHER, extra=outbound).status == 200
    assert len(responder.calls()) == 1


def test_with_callblock_stopped_calls_get_through_and_each_logs_one_line(
    site: Site, responder: Responder
) -> None:
    with running_kamailio(site, responder) as pbx:
        assert call(pbx, BLOCKED).status == 603  # connections to callblock are open now
        stop_server(site.server)
        for caller in (BLOCKED, OTHER, BLOCKED):
            answer = call(pbx, caller)
            assert answer.status == 200
        failures = pbx.lines("callblock: check")
        assert len(failures) == 3
        assert all(FAILED_OPEN in line for line in failures)
        assert all("connection refused" in line for line in failures), failures
        assert len(responder.calls()) == 3


def test_with_callblock_stopped_and_fail_mode_closed_calls_get_503(
    site: Site, responder: Responder
) -> None:
    with running_kamailio(site, responder, FAIL_MODE="closed") as pbx:
        assert call(pbx, OTHER).status == 200
        stop_server(site.server)
        refused = call(pbx, OTHER)
        assert (refused.status, refused.reason) == (503, "Service Unavailable")
        assert len(pbx.lines("call refused with 503 (FAIL_MODE=closed)")) == 1
        assert len(responder.calls()) == 1


@pytest.mark.parametrize("fail_mode", ["open", "closed"])
def test_a_hung_callblock_delays_a_call_by_the_timeout_and_no_more(
    site: Site, responder: Responder, fail_mode: str
) -> None:
    timeout = 0.8
    with running_kamailio(
        site, responder, TIMEOUT_MS=str(round(timeout * 1000)), FAIL_MODE=fail_mode
    ) as pbx:
        assert call(pbx, BLOCKED).status == 603
        with hung(site.server):
            answer = call(pbx, BLOCKED)
        assert answer.status == (200 if fail_mode == "open" else 503)
        assert timeout <= answer.seconds < timeout + 0.7, answer.seconds
        time.sleep(0.6)  # a resent INVITE checked again would have logged by now
        [failure] = pbx.lines("callblock: check")
        assert f"no answer within {round(timeout * 1000)} ms" in failure
        # Back: a second on, every worker asks callblock again.
        time.sleep(1.0)
        assert call(pbx, BLOCKED).status == 603
        assert len(responder.calls()) == (1 if fail_mode == "open" else 0)


def test_while_callblock_hangs_the_proxy_waits_on_it_at_most_once_a_second_per_worker(
    site: Site, responder: Responder
) -> None:
    # 150 ms: the four waits take 0.6 s, leaving time for the other calls to fail at once
    # before the first worker's pause is over.
    with running_kamailio(site, responder, TIMEOUT_MS="150") as pbx:
        assert call(pbx, OTHER).status == 200
        before = len(pbx.lines("callblock: check"))  # 0 unless that check ran out of time
        with hung(site.server):
            started = time.monotonic()
            answers = [call(pbx, BLOCKED) for _ in range(20)]
            took = time.monotonic() - started
        assert all(a.status == 200 for a in answers)
        # Each of the four workers waited 150 ms at most once a second; every other call
        # failed at once.
        assert sum(a.seconds >= 0.15 for a in answers) <= 4 * (1 + int(took))
        assert sum(a.seconds < 0.1 for a in answers) >= 20 - 4 * (1 + int(took))
        lines = pbx.lines("callblock: check")[before:]
        assert len(lines) == 20
        assert sum("callblock not asked for" in line for line in lines) >= 16


def test_a_call_cancelled_while_callblock_answers_is_answered_487_once(
    site: Site, responder: Responder
) -> None:
    with running_kamailio(site, responder, TIMEOUT_MS="1500") as pbx:
        assert call(pbx, BLOCKED).status == 603
        with hung(site.server), Caller(pbx.proxy) as phone:
            cancelled = phone.invite("5550100", OTHER, cancel_after=0.3)
            later = phone.finals(cancelled, 2.0)  # past the check's 1.5 s
        assert cancelled.status == 487
        assert cancelled.seconds < 1.0
        assert set(later) <= {487}, later  # tm may resend its 487; nothing else answers
        assert responder.calls() == []


def test_a_whole_call_connects_and_hangs_up_through_the_proxy(
    site: Site, responder: Responder
) -> None:
    with running_kamailio(site, responder) as pbx, Caller(pbx.proxy) as phone:
        answered = phone.invite("5550100", OTHER)
        assert answered.status == 200
        assert phone.bye(answered) == 200
        assert _acked_call(responder) == ["INVITE", "BYE"]


def test_a_request_within_no_dialog_of_the_proxys_is_refused_not_relayed(
    site: Site, responder: Responder
) -> None:
    host, port = responder.sock.getsockname()

    def spoofed(invite: bytes) -> bytes:
        # To-tagged, as if within a dialog, routed through the proxy to the responder.
        _, _, rest = invite.partition(b" SIP/2.0\r\n")
        rest = re.sub(rb"(?m)^To: (<[^>]*>)", rb"To: \1;tag=made-up", rest)
        return (
            f"INVITE sip:5550100@{host}:{port}".encode()
            + b" SIP/2.0\r\n"
            + f"Route: <sip:{pbx.proxy[0]}:{pbx.proxy[1]};lr>\r\n".encode()
            + rest
        )

    with running_kamailio(site, responder) as pbx:
        refused = call(pbx, BLOCKED, mangle=spoofed)
        assert (refused.status, refused.reason) == (481, "Call/Transaction Does Not Exist")
        assert _calls_only(responder.methods) == []


def test_an_invite_resent_while_callblock_answers_is_checked_once(
    site: Site, responder: Responder
) -> None:
    with running_kamailio(site, responder, TIMEOUT_MS="1000") as pbx:
        assert call(pbx, OTHER).status == 200
        with hung(site.server), Caller(pbx.proxy) as phone:
            # As if the 100 Trying were lost: resent at 0.5 s, during the check, and not
            # again before the answer at 1 s (the next resend is at 1.5 s).
            answer = phone.invite("5550100", BLOCKED, keep_resending=True)
            later = phone.finals(answer, 1.0)
        assert answer.status == 200  # relayed unchecked once the budget ran out
        assert later == []
        time.sleep(0.3)
        assert len(pbx.lines("callblock: check")) == 1
        assert len(responder.calls()) == 2


def test_the_ack_of_a_refusal_from_the_next_hop_ends_its_resending(
    site: Site,
) -> None:
    busy = Responder.start(invite_answer="486 Busy Here")
    try:
        with running_kamailio(site, busy) as pbx, Caller(pbx.proxy) as phone:
            refused = phone.invite("5550100", OTHER)
            assert (refused.status, refused.reason) == (486, "Busy Here")
            # Acknowledged: the proxy resends it no more (unacknowledged: at 0.5, 1 and 2 s).
            assert phone.finals(refused, 3.0) == []
    finally:
        busy.stop()


def test_within_a_dialog_the_caller_reaches_the_next_hop_and_nowhere_else(
    site: Site, responder: Responder
) -> None:
    elsewhere = Responder.start()
    host, port = elsewhere.sock.getsockname()
    try:
        with running_kamailio(site, responder) as pbx, Caller(pbx.proxy) as phone:
            answered = phone.invite("5550100", OTHER)
            assert answered.status == 200
            # A request within the call, pointed at another host: it reaches the next hop.
            got = phone.within_dialog(answered, "INFO", request_uri=f"sip:x@{host}:{port}")
            assert got == 200
            assert phone.bye(answered) == 200
            assert _acked_call(responder) == ["INVITE", "INFO", "BYE"]
            assert elsewhere.methods == []
    finally:
        elsewhere.stop()


def test_the_next_hop_hangs_up_back_to_the_caller(site: Site, responder: Responder) -> None:
    with running_kamailio(site, responder) as pbx, Caller(pbx.proxy) as phone:
        answered = phone.invite("5550100", OTHER)
        assert answered.status == 200
        [invite] = responder.calls()
        # The callee's side of the dialog: From and To swapped, along the recorded Route.
        host, port = responder.sock.getsockname()
        bye = "\r\n".join(
            [
                f"BYE {(invite.header('contact') or '').strip('<>')} SIP/2.0",
                f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{os.urandom(6).hex()}",
                "Max-Forwards: 70",
                f"From: {answered.header('to')}",
                f"To: {invite.header('from')}",
                f"Call-ID: {answered.call_id}",
                "CSeq: 7 BYE",
                *[f"Route: {route}" for route in invite.headers.get("record-route", [])],
                "Content-Length: 0",
                "",
                "",
            ]
        )
        responder.sock.sendto(bye.encode(), pbx.proxy)
        phone.sock.settimeout(3)
        data, _ = phone.sock.recvfrom(65535)
        while data.startswith(b"SIP/2.0 "):  # a resent answer to the INVITE, if any
            data, _ = phone.sock.recvfrom(65535)
        assert data.startswith(b"BYE sip:caller@")


def test_a_wrong_key_is_a_failure_logged_with_its_status(site: Site, responder: Responder) -> None:
    with _running_kamailio(
        CALLBLOCK_URL=site.server.url, CALLBLOCK_KEY="cbk_not_a_key", NEXT_HOP=responder.uri
    ) as pbx:
        assert call(pbx, BLOCKED).status == 200
        [failure] = pbx.lines("callblock: check")
        assert "HTTP 401" in failure
        assert FAILED_OPEN in failure


def test_connections_to_callblock_are_kept_alive(site: Site, responder: Responder) -> None:
    port = int(site.server.url.rsplit(":", 1)[1])
    with running_kamailio(site, responder) as pbx:
        for _ in range(40):
            assert call(pbx, OTHER).status == 200
        held = _connections_to(port, pbx)
        # Four SIP workers (children=4): at most one connection each, whatever the calls.
        assert 1 <= sum(held.values()) <= 4
        assert max(held.values()) == 1


def test_a_connection_callblock_closed_while_idle_is_opened_again_unnoticed(
    kamailio: None, request: pytest.FixtureRequest, tmp_path: Path, responder: Responder
) -> None:
    with (
        serving(request, tmp_path, keep_alive_seconds="1") as site,
        running_kamailio(site, responder) as pbx,
    ):
        port = int(site.server.url.rsplit(":", 1)[1])
        for _ in range(50):  # calls at once, until each of the four workers holds a connection
            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(lambda _: call(pbx, BLOCKED).status, range(8))) == {603}
            if sum(_connections_to(port, pbx).values()) == 4:
                break
        assert sum(_connections_to(port, pbx).values()) == 4
        time.sleep(1.5)  # the server closes the idle connections
        assert sum(_connections_to(port, pbx).values()) == 0
        # Whichever worker takes a call, its connection was closed under it.
        for _ in range(8):
            assert call(pbx, BLOCKED).status == 603
        assert pbx.lines("callblock: check") == []


def _calls_only(methods: list[str]) -> list[str]:
    return [m for m in methods if m != "OPTIONS"]  # not the probes that saw Kamailio start


def _acked_call(responder: Responder, within: float = 2.0) -> list[str]:
    """The requests of a call the next hop was sent, but its ACK, once the ACK came (once).

    Nothing answers an ACK, so the caller sends its next request at once, and another
    Kamailio process may relay that one first: over UDP the ACK's place is not fixed.
    """
    deadline = time.monotonic() + within
    while "ACK" not in responder.methods and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # a second ACK relayed would be here by now
    calls = _calls_only(responder.methods)
    assert calls.count("ACK") == 1, calls
    return [m for m in calls if m != "ACK"]


def _connections_to(port: int, pbx: Kamailio) -> dict[int, int]:
    """Per Kamailio process, its established TCP connections to 127.0.0.1:``port``."""
    wanted = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and fields[2] == f"0100007F:{port:04X}":
            wanted.add(f"socket:[{fields[9]}]")
    found = subprocess.run(
        ["pgrep", "-g", str(pbx.process.pid)], capture_output=True, text=True, check=False
    )
    held = {}
    for pid in (int(p) for p in found.stdout.split()):
        fds = Path(f"/proc/{pid}/fd")
        held[pid] = sum(1 for fd in fds.iterdir() if _link(fd) in wanted)
    return held


def _link(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # closed meanwhile
        return ""


@pytest.fixture(params=ENGINES)
def two_nodes(
    kamailio: None, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Site, Server]]:
    with fresh_database(request, request.param, tmp_path) as url:
        first = start_server(url)
        second = start_server(url)
        site = _site(first)
        try:
            yield site, second
        finally:
            site.admin.close()
            for node in (first, second):
                log = stop_server(node)
                assert "Traceback" not in log, log


def test_a_number_added_through_the_api_is_declined_on_the_next_calls_within_the_bound(
    two_nodes: tuple[Site, Server], responder: Responder
) -> None:
    site, other_node = two_nodes
    fresh = "9833344455"
    # The PBX asks one node; the number is added on the other.
    with _running_kamailio(
        CALLBLOCK_URL=other_node.url, CALLBLOCK_KEY=site.check_key, NEXT_HOP=responder.uri
    ) as pbx:
        assert call(pbx, fresh).status == 200
        site.add(site.abusive_group, fresh)
        added = time.monotonic()
        while (answer := call(pbx, fresh)).status != 603:
            assert answer.status == 200
            assert time.monotonic() - added < BOUND, "not declined within the bound"
        assert time.monotonic() - added < BOUND + answer.seconds
