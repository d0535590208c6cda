"""The use cases. Every surface (compat endpoints, CLI, ...) calls these and nothing deeper.

Inputs arrive already parsed (numbers as E.164, names validated) by the surface, which reports
every invalid field at once; the service owns transactions, uniqueness, expiry, the change
counter and the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import Connection

from callblock.domain import (
    DEFAULT_REGION,
    DEFAULT_TIMEZONE,
    Account,
    AccountNotFound,
    Action,
    Actor,
    AuthenticationFailed,
    AuthMode,
    FieldProblem,
    Group,
    GroupById,
    GroupNotFound,
    GroupRef,
    InvalidInput,
    ProblemCode,
    RequestedNumber,
    Surface,
    TokenAuthDisabled,
    TokenExpired,
    TokenLimitExceeded,
    clean_username,
    name_key,
    split_repeats,
)
from callblock.store import Store, queries
from callblock.tokens import (
    LIMIT_WINDOW,
    TOKEN_LIFETIME,
    TOKENS_PER_HOUR,
    InvalidToken,
    TokenCodec,
)

Clock = Callable[[], datetime]
KEY_PREFIX = "cbk_"


def system_clock() -> datetime:
    return datetime.now(UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    account: Account
    key_id: int
    key: str  # shown once, never stored


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account: Account
    active_keys: int
    groups: int


@dataclass(frozen=True, slots=True)
class GroupCreated:
    group: Group
    stored: list[str]
    repeats: list[RequestedNumber]


@dataclass(frozen=True, slots=True)
class NumbersAdded:
    group: Group
    written: list[str]
    repeats: list[RequestedNumber]
    new: int

    @property
    def inserted(self) -> int:
        return len(self.written)


@dataclass(frozen=True, slots=True)
class NumbersRemoved:
    group_id: int | None
    found: list[str]  # E.164 of each requested number that was present, request order
    missing: list[RequestedNumber]
    deleted: int  # distinct numbers removed


class Service:
    def __init__(
        self, store: Store, clock: Clock = system_clock, secret_key: str | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self._secret_key = secret_key
        self._codec: TokenCodec | None = None
        self._codec_lock = threading.Lock()

    # --- accounts and keys ---------------------------------------------------------------

    def create_account(
        self,
        username: str,
        region: str = DEFAULT_REGION,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> IssuedKey:
        clean = _validated_account(username, region, timezone)
        now = self.clock()
        with self.store.write() as conn:
            account = queries.insert_account(conn, clean, region.upper(), timezone, now)
            key_id, key = _new_key(conn, account.id, now)
        return IssuedKey(account, key_id, key)

    def issue_key(self, username: str) -> IssuedKey:
        now = self.clock()
        with self.store.write() as conn:
            account = queries.account_by_username(conn, username)
            if account is None:
                raise AccountNotFound(username)
            key_id, key = _new_key(conn, account.id, now)
        return IssuedKey(account, key_id, key)

    def list_accounts(self) -> list[AccountSummary]:
        with self.store.read() as conn:
            return [AccountSummary(*row) for row in queries.list_accounts(conn)]

    def has_accounts(self) -> bool:
        with self.store.read() as conn:
            return queries.any_account(conn)

    def account(self, username: str) -> Account:
        with self.store.read() as conn:
            account = queries.account_by_username(conn, username)
        if account is None:
            raise AccountNotFound(username)
        return account

    def authenticate(self, username: str, key: str, surface: Surface) -> Actor:
        """The actor for a username and API key; AuthenticationFailed whatever is wrong."""
        if not username or not key.startswith(KEY_PREFIX):
            raise AuthenticationFailed
        with self.store.read() as conn:
            found = queries.account_by_key(conn, username, hash_key(key))
        if found is None:
            raise AuthenticationFailed
        account, key_id = found
        return Actor(account=account, key_id=key_id, surface=surface)

    def set_auth_mode(self, username: str, mode: AuthMode) -> Account:
        with self.store.write() as conn:
            account = queries.set_auth_mode(conn, username, mode)
        if account is None:
            raise AccountNotFound(username)
        return account

    def authenticate_by_mode(
        self, username: str, api_key: str | None, token: str | None, surface: Surface
    ) -> Actor:
        """Authenticate with the credential the account's mode asks for; the other is refused."""
        with self.store.read() as conn:
            account = queries.account_by_username(conn, username)
        if account is None:
            raise AuthenticationFailed
        if account.auth_mode is AuthMode.TOKEN_AUTH:
            if not token:
                raise AuthenticationFailed
            return self.authenticate_token(username, token, surface)
        if not api_key:
            raise AuthenticationFailed
        return self.authenticate(username, api_key, surface)

    # --- tokens --------------------------------------------------------------------------

    def issue_token(self, username: str, api_key: str) -> str:
        """A new token for a TOKEN_AUTH account; every earlier token of it stops working."""
        actor = self.authenticate(username, api_key, Surface.COMPAT_CA_APIS)
        account = actor.account
        if account.auth_mode is not AuthMode.TOKEN_AUTH:
            raise TokenAuthDisabled
        assert actor.key_id is not None
        codec = self._token_codec()
        issued_at = self.clock().replace(microsecond=0)
        expires_at = issued_at + TOKEN_LIFETIME
        jti = uuid.uuid4().hex
        with self.store.write() as conn:
            # The row lock makes count-then-insert atomic across workers and nodes.
            queries.lock_account(conn, account.id)
            window_start = issued_at - LIMIT_WINDOW
            if queries.tokens_issued_since(conn, account.id, window_start) >= TOKENS_PER_HOUR:
                raise TokenLimitExceeded
            queries.insert_token(
                conn,
                account_id=account.id,
                key_id=actor.key_id,
                jti=jti,
                issued_at=issued_at,
                expires_at=expires_at,
            )
            queries.prune_tokens(conn, account.id, window_start)
        return codec.encode(account.username, jti, issued_at, expires_at)

    def authenticate_token(self, username: str, token: str, surface: Surface) -> Actor:
        try:
            claims = self._token_codec().decode(token)
        except InvalidToken as exc:
            raise AuthenticationFailed from exc
        if claims.username != username:
            raise AuthenticationFailed
        if claims.expires_at <= self.clock():
            raise TokenExpired
        with self.store.read() as conn:
            account = queries.account_by_username(conn, username)
            current = None if account is None else queries.current_token(conn, account.id)
        if account is None or current is None or account.auth_mode is not AuthMode.TOKEN_AUTH:
            raise AuthenticationFailed
        jti, key_id = current
        if not secrets.compare_digest(jti, claims.jti):
            raise AuthenticationFailed
        return Actor(account=account, key_id=key_id, surface=surface)

    def _token_codec(self) -> TokenCodec:
        """The codec on the configured secret, or on the one kept in the database."""
        with self._codec_lock:
            if self._codec is None:
                secret = self._secret_key
                if secret is None:
                    with self.store.write() as conn:
                        secret = queries.server_secret(
                            conn, "token_signing_key", secrets.token_urlsafe(48), self.clock()
                        )
                self._codec = TokenCodec(secret)
            return self._codec

    # --- groups and numbers --------------------------------------------------------------

    def create_group(
        self,
        actor: Actor,
        name: str,
        description: str,
        numbers: Sequence[RequestedNumber],
        expires_at: datetime | None,
    ) -> GroupCreated:
        first, repeats = split_repeats(numbers)
        stored = [n.e164 for n in first]
        now = self.clock()
        account_id = actor.account.id
        with self.store.write() as conn:
            group = queries.insert_group(conn, account_id, name, name_key(name), description, now)
            queries.upsert_entries(
                conn,
                account_id=account_id,
                group_id=group.id,
                numbers=stored,
                expires_at=expires_at,
                source=actor.surface.value,
                now=now,
            )
            self._changed(conn, actor, Action.CREATE, group.id, stored, now)
        return GroupCreated(group, stored, repeats)

    def add_numbers(
        self,
        actor: Actor,
        group_ref: GroupRef,
        numbers: Sequence[RequestedNumber],
        expires_at: datetime | None,
    ) -> NumbersAdded:
        """Add numbers; a number already in the group gets the new expiry."""
        first, repeats = split_repeats(numbers)
        written = [n.e164 for n in first]
        now = self.clock()
        account_id = actor.account.id
        with self.store.write() as conn:
            group = self._group(conn, account_id, group_ref)
            existing = queries.numbers_in_groups(conn, account_id, group.id, written)
            queries.upsert_entries(
                conn,
                account_id=account_id,
                group_id=group.id,
                numbers=written,
                expires_at=expires_at,
                source=actor.surface.value,
                now=now,
            )
            queries.touch_group(conn, group.id, now)
            self._changed(conn, actor, Action.ADD, group.id, written, now)
        return NumbersAdded(group, written, repeats, new=len(set(written) - existing))

    def remove_numbers(
        self, actor: Actor, group_ref: GroupRef | None, numbers: Sequence[RequestedNumber]
    ) -> NumbersRemoved:
        """Remove numbers from one group, or from every group of the account (no group)."""
        distinct = list(dict.fromkeys(n.e164 for n in numbers))
        now = self.clock()
        account_id = actor.account.id
        with self.store.write() as conn:
            group_id = None if group_ref is None else self._group(conn, account_id, group_ref).id
            present = queries.numbers_in_groups(conn, account_id, group_id, distinct)
            removed = [n for n in distinct if n in present]
            if removed:
                for touched in queries.delete_entries(conn, account_id, group_id, removed):
                    queries.touch_group(conn, touched, now)
                self._changed(conn, actor, Action.REMOVE, group_id, removed, now)
        return NumbersRemoved(
            group_id=group_id,
            found=[n.e164 for n in numbers if n.e164 in present],
            missing=[n for n in numbers if n.e164 not in present],
            deleted=len(removed),
        )

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _group(conn: Connection, account_id: int, ref: GroupRef) -> Group:
        if isinstance(ref, GroupById):
            group = queries.group_of_account(conn, account_id, ref.id)
        else:
            group = queries.group_by_name(conn, account_id, name_key(ref.name.strip()))
        if group is None:
            raise GroupNotFound
        return group

    @staticmethod
    def _changed(
        conn: Connection,
        actor: Actor,
        action: Action,
        group_id: int | None,
        numbers: Sequence[str],
        now: datetime,
    ) -> None:
        """Every write ends here: bump the account's change counter and audit the change."""
        queries.bump_data_version(conn, actor.account.id)
        queries.record_audit(
            conn,
            at=now,
            account_id=actor.account.id,
            key_id=actor.key_id,
            surface=actor.surface.value,
            action=action.value,
            group_id=group_id,
            numbers=numbers,
        )


def _new_key(conn: Connection, account_id: int, now: datetime) -> tuple[int, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    key_id = queries.insert_key(conn, account_id, hash_key(key), key[:12], now)
    return key_id, key


def _validated_account(username: str, region: str, timezone: str) -> str:
    problems: list[FieldProblem] = []
    clean = clean_username(username)
    if clean is None:
        problems.append(
            FieldProblem(
                "username",
                ProblemCode.INVALID,
                username,
                "1 to 64 characters, no spaces, control characters or ':'",
            )
        )
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(
            FieldProblem("region", ProblemCode.INVALID, region, "not a known ISO 3166 region")
        )
    if not _is_timezone(timezone):
        problems.append(
            FieldProblem("timezone", ProblemCode.INVALID, timezone, "not an IANA time zone")
        )
    if problems or clean is None:
        raise InvalidInput(problems)
    return clean


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
