"""Try the Kamailio route by hand: place a SIP call, or stand in for the next hop.

    python tools/sip.py answer --listen 127.0.0.1:5080
    python tools/sip.py call --proxy 127.0.0.1:5060 --from 9876543210
    python tools/sip.py call --proxy 127.0.0.1:5060 --from 1001 --to 9811122233 \\
        --outbound --campaign "Spring sale"

`answer` answers every INVITE with 200 OK and prints each one; `call` sends one INVITE over
UDP and prints the final answer (e.g. `603 Decline`) and how long it took. The SIP user agent
is the one the tests use (tests/sip.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sip import Caller, Responder


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    answer = commands.add_parser("answer", help="answer every INVITE with 200 OK")
    answer.add_argument("--listen", type=_address, default=("127.0.0.1", 5080))
    call = commands.add_parser("call", help="place one call through a proxy")
    call.add_argument("--proxy", type=_address, required=True, help="the proxy, HOST:PORT")
    call.add_argument("--from", dest="caller", required=True, help="the caller's number")
    call.add_argument("--to", dest="callee", default="5550100", help="the number called")
    call.add_argument("--asserted", help="a P-Asserted-Identity URI (tel:+91...)")
    call.add_argument("--withheld", action="store_true", help="add Privacy: id")
    call.add_argument("--outbound", action="store_true", help="mark it an agent's call")
    call.add_argument("--campaign", help="the agent's campaign (X-Callblock-Campaign)")
    args = parser.parse_args()

    if args.command == "answer":
        responder = Responder.start(args.listen)
        print(f"answering at {responder.uri}; Ctrl-C stops", flush=True)
        seen = 0
        try:
            while True:
                time.sleep(0.2)
                calls = responder.calls()
                for received in calls[seen:]:
                    print(
                        f"INVITE {received.request_uri} from {received.header('from')}",
                        flush=True,
                    )
                seen = len(calls)
        except KeyboardInterrupt:
            responder.stop()
        return

    extra = []
    if args.withheld:
        extra.append(("Privacy", "id"))
    if args.outbound:
        extra.append(("X-Callblock-Direction", "outbound"))
    if args.campaign:
        extra.append(("X-Callblock-Campaign", args.campaign))
    with Caller(args.proxy) as phone:
        try:
            got = phone.invite(args.callee, args.caller, asserted=args.asserted, extra=extra)
        except TimeoutError as silence:
            raise SystemExit(f"no answer: {silence}") from None
    print(f"{got.status} {got.reason} ({got.seconds * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
