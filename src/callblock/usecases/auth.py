"""Authentication: API keys and tokens into an ``Actor``, under the failed-attempt limit and
the account's request rate.

Every credential the store has to check goes through ``FailureLimit.attempt``: failures count
against the username and the client address (``throttle``). A key this process checked within
AUTH_CACHE_SECONDS is not an attempt: it answers from memory (``CredentialCache``). Every actor
handed to a request passes the account's request rate first (``_admitted``). One lock: the
token codec, made once from the service's secret (``server_secret.ServerSecret``).
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from callblock.domain import (
    Actor,
    AuthenticationFailed,
    AuthMode,
    CredentialRetired,
    RateLimited,
    Scope,
    StoreUnavailable,
    Surface,
    TokenAuthDisabled,
    TokenExpired,
    TokenLimitExceeded,
)
from callblock.store import Store
from callblock.store import accounts as account_rows
from callblock.store import credentials as credential_rows
from callblock.throttle import RequestRate
from callblock.tokens import LIMIT_WINDOW, TOKEN_LIFETIME, TOKENS_PER_HOUR, InvalidToken, TokenCodec
from callblock.usecases.credentials import STALE_AUTH_SECONDS, CredentialCache, hash_key
from callblock.usecases.failures import FailureLimit
from callblock.usecases.key_use import KeyUse
from callblock.usecases.server_secret import ServerSecret

KEY_PREFIX = "cbk_"


class Authenticator:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        cache: CredentialCache,
        failures: FailureLimit,
        request_rate: RequestRate,
        secret: ServerSecret,
        key_use: KeyUse,
    ) -> None:
        self._store = store
        self._key_use = key_use
        self._clock = clock
        self._cache = cache
        self._failures = failures
        self._request_rate = request_rate
        self._secret = secret
        self._codec: TokenCodec | None = None
        self._codec_lock = threading.Lock()

    def authenticate(
        self, username: str, key: str, surface: Surface, address: str | None = None
    ) -> Actor:
        """The actor for a username and API key; AuthenticationFailed whatever is wrong,
        AuthThrottled after too many failures, RateLimited past the account's rate."""
        known = self._cache.fresh(key, surface)
        if known is not None and known.account.username == username:
            return self._admitted(known)

        def verify() -> Actor:
            actor = self._verify_key(key, surface)
            if actor.account.username != username:
                raise AuthenticationFailed
            return actor

        actor = self._failures.attempt(username, address, verify)
        self._cache.remember(key, actor)
        return self._admitted(actor)

    def authenticate_key(self, key: str, surface: Surface, address: str | None = None) -> Actor:
        """The actor for an API key alone (keys are unique across accounts)."""
        known = self._cache.fresh(key, surface)
        if known is not None:
            return self._admitted(known)
        actor = self._failures.attempt(None, address, lambda: self._verify_key(key, surface))
        self._cache.remember(key, actor)
        return self._admitted(actor)

    def cached_actor(self, key: str, surface: Surface) -> Actor | None:
        """The actor for a key checked within the last AUTH_CACHE_SECONDS, without the store."""
        known = self._cache.fresh(key, surface)
        return None if known is None else self._admitted(known)

    def checking_actor(self, key: str, surface: Surface) -> Actor | None:
        """The actor for a check with a key this process knows, never waiting on the store
        (``CredentialCache.for_check``); None: authenticate the key first."""
        known = self._cache.for_check(key, surface, lambda k: self._verify_key(k, Surface.V1))
        return None if known is None else self._admitted(known)

    def authenticate_by_mode(
        self,
        username: str,
        api_key: str | None,
        token: str | None,
        surface: Surface,
        address: str | None = None,
    ) -> Actor:
        """Authenticate with the credential the account's mode asks for; the other is refused."""

        def verify() -> Actor:
            with self._store.read() as conn:
                account = account_rows.account_by_username(conn, username)
            if account is None:
                raise AuthenticationFailed
            if account.auth_mode is AuthMode.TOKEN_AUTH:
                if not token:
                    raise AuthenticationFailed
                return self._verify_token(username, token, surface)
            if not api_key:
                raise AuthenticationFailed
            actor = self._verify_key(api_key, surface)
            if actor.account.username != username:
                raise AuthenticationFailed
            return actor

        return self._admitted(self._failures.attempt(username, address, verify))

    def issue_token(self, username: str, api_key: str, address: str | None = None) -> str:
        """A new token for a TOKEN_AUTH account; every earlier token of it stops working."""
        actor = self.authenticate(username, api_key, Surface.COMPAT_CA_APIS, address)
        actor.require(Scope.WRITE)  # a token stands for its key on the compat endpoints
        account = actor.account
        assert actor.key_id is not None
        codec = self._token_codec()
        issued_at = self._clock().replace(microsecond=0)
        expires_at = issued_at + TOKEN_LIFETIME
        jti = uuid.uuid4().hex
        with self._store.write() as conn:
            # The row lock makes count-then-insert atomic across workers and nodes.
            account_rows.lock_account(conn, account.id)
            current = account_rows.account_by_username(conn, username)
            if current is None or current.auth_mode is not AuthMode.TOKEN_AUTH:
                raise TokenAuthDisabled  # the mode changed since the key was cached
            window_start = issued_at - LIMIT_WINDOW
            issued = credential_rows.tokens_issued_since(conn, account.id, window_start)
            if issued >= TOKENS_PER_HOUR:
                raise TokenLimitExceeded
            credential_rows.insert_token(
                conn,
                account_id=account.id,
                key_id=actor.key_id,
                jti=jti,
                issued_at=issued_at,
                expires_at=expires_at,
            )
            credential_rows.prune_tokens(conn, account.id, window_start)
        return codec.encode(account.username, jti, issued_at, expires_at)

    def _admitted(self, actor: Actor) -> Actor:
        wait = self._request_rate.admit(actor.account.id)
        if wait is not None:
            raise RateLimited(wait)
        return actor

    def _verify_key(self, key: str, surface: Surface) -> Actor:
        """Check a key in the store (an attempt: callers go through the failure limit, then
        remember it)."""
        if not key.startswith(KEY_PREFIX):
            raise AuthenticationFailed
        key_hash = hash_key(key)
        try:
            with self._store.read() as conn:
                found = account_rows.account_by_key_hash(conn, key_hash)
        except StoreUnavailable:
            # Checks answer from memory: a key this process knew keeps checking while the
            # store is away (writes fail there anyway), for a bounded time.
            known = self._cache.recent(key, surface, STALE_AUTH_SECONDS)
            if known is not None:
                return known
            raise
        if found is None:
            self._cache.drop(key)
            with self._store.read() as conn:
                if credential_rows.key_was_revoked(conn, key_hash):
                    raise CredentialRetired
            raise AuthenticationFailed
        account, grant = found
        self._key_use.note(grant.key_id)
        return Actor.with_key(account, grant, surface)

    def _verify_token(self, username: str, token: str, surface: Surface) -> Actor:
        try:
            claims = self._token_codec().decode(token)
        except InvalidToken as exc:
            raise AuthenticationFailed from exc
        if claims.username != username:
            raise AuthenticationFailed
        if claims.expires_at <= self._clock():
            raise TokenExpired
        # The signature holds: this service made the token, so from here on it is no guess.
        with self._store.read() as conn:
            account = account_rows.account_by_username(conn, username)
            current = None if account is None else credential_rows.current_token(conn, account.id)
        if account is None or current is None or account.auth_mode is not AuthMode.TOKEN_AUTH:
            raise CredentialRetired
        jti, grant = current
        if not secrets.compare_digest(jti, claims.jti):
            raise CredentialRetired
        return Actor.with_key(account, grant, surface)

    def _token_codec(self) -> TokenCodec:
        """The codec on the service's secret."""
        with self._codec_lock:
            if self._codec is None:
                self._codec = TokenCodec(self._secret.value())
            return self._codec
