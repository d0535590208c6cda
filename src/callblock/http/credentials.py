"""Reading credentials from HTTP headers. Never logs or echoes what it reads."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import HTTPConnection


def client_address(request: HTTPConnection) -> str | None:
    """The client's address, as the server saw it (behind a proxy: see ``--forwarded-allow-ips``
    in docs/deploy.md). Failed authentications are counted against it."""
    return request.client.host if request.client is not None else None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an ``Authorization: Basic ...`` header, or None if malformed."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    username, colon, password = decoded.partition(":")
    if not colon or not username or not password:
        return None
    return username, password


def bearer_token(header: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or of a bare ``Authorization: <token>``."""
    if not header:
        return None
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    if len(parts) == 1:
        return parts[0]
    return None
