"""Change feed tokens: a position in one account's change log, handed to a client as an opaque
string that only this service can make and that only that account may use.

A token is ``base64url(format | version | offset | MAC)``: the version up to which the client
has every change, where the entries of the next change resume (0: at its start; see
``store.changes.read_parts``), and an HMAC-SHA256 (cut to 128 bits) over those and the
account's id. The account's id is signed but not written in the token: another account's
token fails the check like an altered one, and says nothing about whose it was.

The MAC key is derived from the service's secret key (``usecases.secrets``), under a label of
its own, so that a feed token and an API token can never stand for each other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from typing import Final

from callblock.domain import InvalidChangeToken

_FORMAT: Final = 1
_LABEL: Final = b"callblock change feed token"
_BODY = struct.Struct(">BQQ")  # format, version, offset
_ACCOUNT = struct.Struct(">Q")
_MAC_BYTES: Final = 16
TOKEN_BYTES: Final = _BODY.size + _MAC_BYTES


@dataclass(frozen=True, slots=True)
class Position:
    """Where a follower of an account's change log stands."""

    version: int  # every change up to this version has been handed out
    offset: int = 0  # of change ``version + 1``: where its entries resume (0: its start)


class ChangeTokens:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()

    def encode(self, account_id: int, position: Position) -> str:
        body = _BODY.pack(_FORMAT, position.version, position.offset)
        raw = body + self._mac(account_id, body)
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def decode(self, account_id: int, token: str) -> Position:
        """The position a token of this account names; ``InvalidChangeToken`` for anything
        else (malformed, altered, another key's, another account's)."""
        raw = _bytes(token)
        if raw is None or len(raw) != TOKEN_BYTES:
            raise InvalidChangeToken
        body, mac = raw[: _BODY.size], raw[_BODY.size :]
        if not hmac.compare_digest(mac, self._mac(account_id, body)):
            raise InvalidChangeToken
        form, version, offset = _BODY.unpack(body)
        if form != _FORMAT:  # signed by us, so a format this version no longer reads
            raise InvalidChangeToken
        return Position(version, offset)

    def _mac(self, account_id: int, body: bytes) -> bytes:
        signed = body + _ACCOUNT.pack(account_id)
        return hmac.new(self._key, signed, hashlib.sha256).digest()[:_MAC_BYTES]


def _bytes(token: str) -> bytes | None:
    """The bytes of unpadded base64url text, or None when it is not exactly that (one
    spelling per token: other padding or trailing bits are refused, not read alike)."""
    if not token.isascii():
        return None
    try:
        raw = base64.b64decode(
            token.translate(str.maketrans("-_", "+/")) + "=" * (-len(token) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != token:
        return None
    return raw
