"""Signed, short-lived tokens for the ``ca_apis`` endpoints (JWT, HS256, via PyJWT).

Signature and shape are checked here; which token is current, expiry against the service
clock and the hourly limit are the service's (they live in the database, shared by every
worker and node).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import jwt

ALGORITHM: Final = "HS256"
ISSUER: Final = "callblock"
TOKEN_LIFETIME: Final = timedelta(minutes=60)
TOKENS_PER_HOUR: Final = 10
LIMIT_WINDOW: Final = timedelta(hours=1)
MIN_SECRET_BYTES: Final = 32


class InvalidToken(ValueError):
    """Not a token of ours: bad shape, signature, algorithm or claims."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    username: str
    jti: str
    expires_at: datetime


class TokenCodec:
    def __init__(self, secret: str) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the token secret needs at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def encode(self, username: str, jti: str, issued_at: datetime, expires_at: datetime) -> str:
        claims = {
            "iss": ISSUER,
            "sub": username,
            "jti": jti,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        """The claims of a token signed by us with HS256; expiry is not judged here."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],  # never "none", never what the token says
                issuer=ISSUER,
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iss", "sub", "jti", "iat", "exp"],
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        username, jti, expires = claims["sub"], claims["jti"], claims["exp"]
        if not (isinstance(username, str) and isinstance(jti, str) and type(expires) is int):
            raise InvalidToken("claims of the wrong type")
        try:
            expires_at = datetime.fromtimestamp(expires, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidToken("expiry out of range") from exc
        return TokenClaims(username=username, jti=jti, expires_at=expires_at)
