"""The use cases. Every surface (compat endpoints, CLI, ...) calls these and nothing deeper.

Inputs arrive already parsed (numbers as E.164, names validated) by the surface, which reports
every invalid field at once; the service owns transactions, uniqueness, expiry, the change
counter and the audit trail.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import Connection

from callblock import metrics
from callblock.domain import (
    DEFAULT_REGION,
    DEFAULT_TIMEZONE,
    NOT_A_NUMBER,
    WITHHELD_BLOCKED,
    WITHHELD_CALLER_IDS,
    Account,
    AccountNotFound,
    Action,
    Actor,
    AuditEvent,
    AuthenticationFailed,
    AuthMode,
    AuthThrottled,
    CredentialRetired,
    Direction,
    DomainError,
    Entry,
    EntryStatus,
    FieldProblem,
    Group,
    GroupById,
    GroupByName,
    GroupDetail,
    GroupNotFound,
    GroupRef,
    ImportRejected,
    InvalidInput,
    KeyNotFound,
    Match,
    NothingToImport,
    Page,
    ProblemCode,
    RateLimited,
    RejectedLine,
    RequestedNumber,
    StoreUnavailable,
    Surface,
    TokenAuthDisabled,
    TokenExpired,
    TokenLimitExceeded,
    clean_group_name,
    clean_username,
    name_key,
    number_text,
    split_repeats,
)
from callblock.files.plan import ImportLines, plan_import
from callblock.index import AccountIndex, IndexedGroup, expiry_stamp, load
from callblock.numbers import (
    InvalidNumber,
    key_pattern,
    normalise,
    normalise_batch,
)
from callblock.store import Store, queries
from callblock.throttle import (
    AUTH_FAILURE_WINDOW_MICROS,
    AUTH_FAILURES_ALLOWED,
    RequestRate,
    auth_retry_after,
    auth_subjects,
)
from callblock.timestamps import NEVER, micros
from callblock.tokens import (
    LIMIT_WINDOW,
    TOKEN_LIFETIME,
    TOKENS_PER_HOUR,
    InvalidToken,
    TokenCodec,
)

Clock = Callable[[], datetime]
KEY_PREFIX = "cbk_"
# How long a process trusts a key it has already checked before asking the store again: the
# bound on how late a key revoked, or an account changed, through another process is noticed.
AUTH_CACHE_SECONDS = 1.0
# While the store is unreachable, credentials this process checked within this long still
# authenticate (checks go on from memory; writes fail at the store regardless).
STALE_AUTH_SECONDS = 15 * 60.0
# An import of more entries than this reloads the check index rather than applying each one.
_APPLY_LIMIT = 100_000
NAME_RULE = (
    "2 to 50 characters: letters and marks of any script, digits, space, _ - . ; "
    "starting with a letter or digit"
)
log = logging.getLogger("callblock.service")


def system_clock() -> datetime:
    return datetime.now(UTC)


def _refuse_if_throttled(failures: dict[str, list[int]], now: int, allowed: int) -> None:
    waits = [wait for times in failures.values() if (wait := auth_retry_after(times, now, allowed))]
    if waits:
        raise AuthThrottled(max(waits))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    account: Account
    key_id: int
    key: str  # shown once, never stored


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: int
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


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

    @property
    def updated(self) -> int:
        return self.inserted - self.new


@dataclass(frozen=True, slots=True)
class ImportResult:
    group: Group
    created_group: bool
    added: int
    updated: int
    invalid: list[RejectedLine]  # skipped (only with skip_invalid)
    repeats: int  # lines repeating a number of an earlier line
    lines: int  # data lines read


@dataclass(frozen=True, slots=True)
class CheckResult:
    input: object
    number: str | None  # E.164, or None when the input is not a number
    matches: list[Match]
    error: str | None = None

    @property
    def blocked(self) -> bool:
        return bool(self.matches)


@dataclass(frozen=True, slots=True)
class BatchCheck:
    """A batch check's answers, one column per field, in input order (no object per input:
    batches run to 100,000 numbers)."""

    inputs: Sequence[object]
    numbers: list[str | None]  # E.164, None where the input is not a number
    group_ids: list[list[int]]  # the groups that block each number now
    withheld: set[int]  # positions of withheld caller IDs blocked by the account's rule

    def error(self, position: int) -> str | None:
        if position in self.withheld:
            return WITHHELD_BLOCKED
        return NOT_A_NUMBER if self.numbers[position] is None else None

    def blocked(self, position: int) -> bool:
        return bool(self.group_ids[position]) or position in self.withheld


@dataclass(frozen=True, slots=True)
class NumbersRemoved:
    group_id: int | None
    found: list[str]  # E.164 of each requested number that was present, request order
    missing: list[RequestedNumber]
    deleted: int  # distinct numbers removed


class Service:
    def __init__(
        self,
        store: Store,
        clock: Clock = system_clock,
        secret_key: str | None = None,
        request_rate: RequestRate | None = None,
        auth_failures_allowed: int = AUTH_FAILURES_ALLOWED,
    ) -> None:
        self.store = store
        self._auth_failures_allowed = auth_failures_allowed
        # subject -> failure times the store could not take (see _count_failure)
        self._unsaved_failures: dict[str, list[int]] = {}
        self._unsaved_lock = threading.Lock()
        self._request_rate = request_rate or RequestRate(0, 1)  # none: no limit
        self.clock = clock
        self._secret_key = secret_key
        self._codec: TokenCodec | None = None
        self._codec_lock = threading.Lock()
        self._indexes: dict[int, AccountIndex] = {}
        self._index_lock = threading.RLock()
        self.index_loaded = False
        self.index_refreshed_at: float | None = None  # monotonic
        # key hash -> (monotonic time checked, account, key id)
        self._auth_cache: dict[str, tuple[float, Account, int]] = {}
        self._rechecking: set[str] = set()  # key hashes being checked again in the background
        self._rechecking_lock = threading.Lock()

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

    def revoke_key(self, username: str, key_id: int) -> bool:
        """Revoke one API key of the account, and every token made with it: True if it was
        active, False if it was already revoked. Other processes stop accepting it within
        AUTH_CACHE_SECONDS (they check the keys they know again that often)."""
        now = self.clock()
        with self.store.write() as conn:
            account = queries.account_by_username(conn, username)
            if account is None:
                raise AccountNotFound(username)
            revoked = queries.revoke_key(conn, account.id, key_id, now)
            if revoked is None:
                raise KeyNotFound(username, key_id)
            queries.bump_auth_version(conn, account.id)
        self._forget_credentials(account.id)
        return revoked

    def keys(self, username: str) -> list[KeyInfo]:
        with self.store.read() as conn:
            account = queries.account_by_username(conn, username)
            if account is None:
                raise AccountNotFound(username)
            return [KeyInfo(*row) for row in queries.keys_of_account(conn, account.id)]

    # --- authentication ------------------------------------------------------------------
    # Every credential the store has to check goes through ``_attempt``: failures count
    # against the username and the client address (``throttle``). A key this process checked
    # within AUTH_CACHE_SECONDS is not an attempt: it answers from memory. Every actor handed
    # to a request passes the account's request rate first (``_admitted``).

    def authenticate(
        self, username: str, key: str, surface: Surface, address: str | None = None
    ) -> Actor:
        """The actor for a username and API key; AuthenticationFailed whatever is wrong,
        AuthThrottled after too many failures, RateLimited past the account's rate."""
        known = self._cached(key, surface)
        if known is not None and known.account.username == username:
            return self._admitted(known)

        def verify() -> Actor:
            actor = self._verify_key(key, surface)
            if actor.account.username != username:
                raise AuthenticationFailed
            return actor

        actor = self._attempt(username, address, verify)
        self._remember(key, actor)
        return self._admitted(actor)

    def authenticate_key(self, key: str, surface: Surface, address: str | None = None) -> Actor:
        """The actor for an API key alone (keys are unique across accounts)."""
        known = self._cached(key, surface)
        if known is not None:
            return self._admitted(known)
        actor = self._attempt(None, address, lambda: self._verify_key(key, surface))
        self._remember(key, actor)
        return self._admitted(actor)

    def cached_actor(self, key: str, surface: Surface) -> Actor | None:
        """The actor for a key checked within the last AUTH_CACHE_SECONDS, without the store."""
        known = self._cached(key, surface)
        return None if known is None else self._admitted(known)

    def _cached(self, key: str, surface: Surface) -> Actor | None:
        cached = self._auth_cache.get(hash_key(key))
        if cached is None or time.monotonic() - cached[0] >= AUTH_CACHE_SECONDS:
            return None
        return Actor(account=cached[1], key_id=cached[2], surface=surface)

    def _remember(self, key: str, actor: Actor) -> None:
        """Trust a key for AUTH_CACHE_SECONDS: only once it has passed the failed-attempt
        limit too, or a key guessed during a lockout would be let in by its next request."""
        assert actor.key_id is not None
        self._auth_cache[hash_key(key)] = (time.monotonic(), actor.account, actor.key_id)

    def _verify_key(self, key: str, surface: Surface) -> Actor:
        """Check a key in the store (an attempt: callers go through ``_attempt``, then
        ``_remember`` it)."""
        if not key.startswith(KEY_PREFIX):
            raise AuthenticationFailed
        key_hash = hash_key(key)
        cached = self._auth_cache.get(key_hash)
        try:
            with self.store.read() as conn:
                found = queries.account_by_key_hash(conn, key_hash)
        except StoreUnavailable:
            # Checks answer from memory: a key this process knew keeps checking while the
            # store is away (writes fail there anyway), for a bounded time.
            if cached is not None and time.monotonic() - cached[0] < STALE_AUTH_SECONDS:
                return Actor(account=cached[1], key_id=cached[2], surface=surface)
            raise
        if found is None:
            self._auth_cache.pop(key_hash, None)
            with self.store.read() as conn:
                if queries.key_was_revoked(conn, key_hash):
                    raise CredentialRetired
            raise AuthenticationFailed
        account, key_id = found
        return Actor(account=account, key_id=key_id, surface=surface)

    def _attempt(
        self, username: str | None, address: str | None, verify: Callable[[], Actor]
    ) -> Actor:
        """Run one credential check under the failed-authentication limit.

        Once a username or an address has AUTH_FAILURES_ALLOWED failures in the window, every
        attempt for it is refused (AuthThrottled), right or wrong, until the oldest leaves the
        window: a guess that happens to be right is not told apart. A failure is counted and
        written in one transaction that holds its subjects, so attempts racing from many
        connections cannot get more than the allowed number of answers between them.
        """
        subjects = auth_subjects(username, address)
        if not subjects:
            return verify()
        try:
            actor = verify()
        except CredentialRetired:
            raise
        except AuthenticationFailed:
            self._count_failure(subjects)
            raise
        now = micros(self.clock())
        try:
            with self.store.read() as conn:
                found = queries.failures_by_subject(
                    conn, subjects, now - AUTH_FAILURE_WINDOW_MICROS
                )
        except StoreUnavailable:
            found = {}  # the credential was checked from memory: count what this process saw
        _refuse_if_throttled(
            self._with_unsaved(found, subjects, now), now, self._auth_failures_allowed
        )
        return actor

    def _count_failure(self, subjects: list[str]) -> None:
        now = micros(self.clock())
        try:
            with self.store.write() as conn:
                queries.hold_auth_subjects(conn, subjects)
                found = queries.failures_by_subject(
                    conn, subjects, now - AUTH_FAILURE_WINDOW_MICROS
                )
                # Refused attempts are not counted again.
                found = self._with_unsaved(found, subjects, now)
                _refuse_if_throttled(found, now, self._auth_failures_allowed)
                queries.record_auth_failure(
                    conn, subjects, now, forget=now - AUTH_FAILURE_WINDOW_MICROS
                )
        except StoreUnavailable:
            # The store cannot take the count (a locked or full database): this process keeps
            # it until the window passes, so that the limit holds through an outage too.
            found = self._with_unsaved({}, subjects, now)
            _refuse_if_throttled(found, now, self._auth_failures_allowed)
            with self._unsaved_lock:
                for subject in subjects:
                    self._unsaved_failures.setdefault(subject, []).append(now)
            log.warning("a failed authentication is counted in this process: the store is away")

    def _with_unsaved(
        self, found: dict[str, list[int]], subjects: list[str], now: int
    ) -> dict[str, list[int]]:
        """The store's failure times of each subject with those this process could not save."""
        since = now - AUTH_FAILURE_WINDOW_MICROS
        merged = dict(found)
        with self._unsaved_lock:
            for subject in subjects:
                kept = [at for at in self._unsaved_failures.get(subject, ()) if at >= since]
                if kept:
                    self._unsaved_failures[subject] = kept
                else:
                    self._unsaved_failures.pop(subject, None)
                merged[subject] = sorted([*merged.get(subject, []), *kept], reverse=True)
        return merged

    def _admitted(self, actor: Actor) -> Actor:
        wait = self._request_rate.admit(actor.account.id)
        if wait is not None:
            raise RateLimited(wait)
        return actor

    def checking_actor(self, key: str, surface: Surface) -> Actor | None:
        """The actor for a check with a key this process knows, never waiting on the store.

        Past AUTH_CACHE_SECONDS the key is checked again in the background (one check at a
        time per key) while this answer goes on: a revoked key stops working as soon as that
        check returns, and a store that hangs holds up no check. Past STALE_AUTH_SECONDS
        without a successful check, the key must be checked before it is used again.
        """
        key_hash = hash_key(key)
        cached = self._auth_cache.get(key_hash)
        if cached is None:
            return None
        age = time.monotonic() - cached[0]
        if age >= STALE_AUTH_SECONDS:
            return None
        if age >= AUTH_CACHE_SECONDS:
            self._recheck_in_background(key, key_hash)
        return self._admitted(Actor(account=cached[1], key_id=cached[2], surface=surface))

    def _recheck_in_background(self, key: str, key_hash: str) -> None:
        with self._rechecking_lock:
            if key_hash in self._rechecking:
                return
            self._rechecking.add(key_hash)

        def recheck() -> None:
            try:
                # Refreshes the cache, or drops the key. A key known here is not an attempt.
                self._remember(key, self._verify_key(key, Surface.V1))
            except DomainError:
                pass  # refused or store away: the cache says what to do next
            finally:
                self._rechecking.discard(key_hash)

        threading.Thread(target=recheck, name="key-recheck", daemon=True).start()

    def _forget_credentials(self, account_id: int) -> None:
        for key_hash, (_, account, _) in list(self._auth_cache.items()):
            if account.id == account_id:
                self._auth_cache.pop(key_hash, None)

    def set_block_anonymous(self, account: Account, value: bool) -> Account:
        with self.store.write() as conn:
            queries.set_block_anonymous(conn, account.id, value)
            queries.bump_auth_version(conn, account.id)
            updated = queries.account_by_username(conn, account.username)
        self._forget_credentials(account.id)
        if updated is None:
            raise AccountNotFound(account.username)
        return updated

    def set_auth_mode(self, username: str, mode: AuthMode) -> Account:
        with self.store.write() as conn:
            account = queries.set_auth_mode(conn, username, mode)
            if account is not None:
                queries.bump_auth_version(conn, account.id)
                # A switch ends every token issued so far, also after switching back.
                queries.revoke_tokens(conn, account.id, self.clock())
        if account is None:
            raise AccountNotFound(username)
        self._forget_credentials(account.id)
        return account

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
            with self.store.read() as conn:
                account = queries.account_by_username(conn, username)
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

        return self._admitted(self._attempt(username, address, verify))

    # --- tokens --------------------------------------------------------------------------

    def issue_token(self, username: str, api_key: str, address: str | None = None) -> str:
        """A new token for a TOKEN_AUTH account; every earlier token of it stops working."""
        actor = self.authenticate(username, api_key, Surface.COMPAT_CA_APIS, address)
        account = actor.account
        assert actor.key_id is not None
        codec = self._token_codec()
        issued_at = self.clock().replace(microsecond=0)
        expires_at = issued_at + TOKEN_LIFETIME
        jti = uuid.uuid4().hex
        with self.store.write() as conn:
            # The row lock makes count-then-insert atomic across workers and nodes.
            queries.lock_account(conn, account.id)
            current = queries.account_by_username(conn, username)
            if current is None or current.auth_mode is not AuthMode.TOKEN_AUTH:
                raise TokenAuthDisabled  # the mode changed since the key was cached
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

    def authenticate_token(
        self, username: str, token: str, surface: Surface, address: str | None = None
    ) -> Actor:
        """The actor for a token; TokenExpired (not counted as a failure) once it is over."""
        verify = functools.partial(self._verify_token, username, token, surface)
        return self._admitted(self._attempt(username, address, verify))

    def _verify_token(self, username: str, token: str, surface: Surface) -> Actor:
        try:
            claims = self._token_codec().decode(token)
        except InvalidToken as exc:
            raise AuthenticationFailed from exc
        if claims.username != username:
            raise AuthenticationFailed
        if claims.expires_at <= self.clock():
            raise TokenExpired
        # The signature holds: this service made the token, so from here on it is no guess.
        with self.store.read() as conn:
            account = queries.account_by_username(conn, username)
            current = None if account is None else queries.current_token(conn, account.id)
        if account is None or current is None or account.auth_mode is not AuthMode.TOKEN_AUTH:
            raise CredentialRetired
        jti, key_id = current
        if not secrets.compare_digest(jti, claims.jti):
            raise CredentialRetired
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
        direction: Direction = Direction.BOTH,
        note: str | None = None,
    ) -> GroupCreated:
        first, repeats = split_repeats(numbers)
        stored = [n.e164 for n in first]
        now = self.clock()
        account_id = actor.account.id
        with self.store.write() as conn:
            group = queries.insert_group(
                conn, account_id, name, name_key(name), description, now, direction
            )
            if stored:
                queries.upsert_entries(
                    conn,
                    group_id=group.id,
                    numbers=stored,
                    expires_at=expires_at,
                    source=actor.surface.value,
                    now=now,
                    note=note,
                )
            version = self._changed(conn, actor, Action.CREATE, group.id, stored, now)

        def apply(index: AccountIndex) -> None:
            index.put_group(IndexedGroup(group.id, group.name, group.direction))
            index.upsert(group.id, stored, expiry_stamp(expires_at))

        self._apply(account_id, version, apply)
        return GroupCreated(group, stored, repeats)

    def list_groups(
        self, actor: Actor, *, name: str | None, after: int | None, limit: int
    ) -> Page[GroupDetail]:
        now = self.clock()
        account_id = actor.account.id
        with self.store.read() as conn:
            items = queries.group_details(
                conn, account_id, now=now, name=name, after_id=after, limit=limit + 1
            )
            total = queries.count_groups(conn, account_id, name)
        return _page(items[:limit], total, len(items) > limit, lambda g: g.group.id)

    def group_detail(self, actor: Actor, group_id: int) -> GroupDetail:
        with self.store.read() as conn:
            found = queries.group_details(
                conn, actor.account.id, now=self.clock(), group_id=group_id
            )
        if not found:
            raise GroupNotFound
        return found[0]

    def update_group(
        self,
        actor: Actor,
        group_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        direction: Direction | None = None,
    ) -> GroupDetail:
        """Rename, redescribe or redirect a group; each given field changes, others stay."""
        now = self.clock()
        account_id = actor.account.id
        with self.store.write() as conn:
            group = self._group(conn, account_id, GroupById(group_id))
            values: dict[str, Any] = {}
            if name is not None and name != group.name:
                values.update(name=name, name_key=name_key(name))
            if description is not None and description != group.description:
                values["description"] = description
            if direction is not None and direction is not group.direction:
                values["direction"] = direction.value
            version = None
            if values:
                queries.update_group(conn, group, {**values, "updated_at": now})
                renamed = "name" in values
                detail: dict[str, Any] = {k: v for k, v in values.items() if k != "name_key"}
                if renamed:
                    detail["previous_name"] = group.name
                action = Action.RENAME if renamed else Action.UPDATE
                version = self._changed(conn, actor, action, group.id, [], now, detail=detail)
            changed = self._group(conn, account_id, GroupById(group_id))
        if version is not None:
            self._apply(
                account_id,
                version,
                lambda index: index.put_group(
                    IndexedGroup(changed.id, changed.name, changed.direction)
                ),
            )
        return self.group_detail(actor, group_id)

    def delete_group(self, actor: Actor, group_id: int) -> None:
        now = self.clock()
        account_id = actor.account.id
        with self.store.write() as conn:
            group = self._group(conn, account_id, GroupById(group_id))
            sample = queries.sample_of_group(conn, group.id)
            removed = queries.delete_group(conn, group.id)
            version = self._changed(
                conn,
                actor,
                Action.DELETE,
                group.id,
                sample,
                now,
                count=removed,
                detail={"name": group.name},
            )
        self._apply(account_id, version, lambda index: index.drop_group(group_id))

    def list_entries(
        self,
        actor: Actor,
        group_id: int,
        *,
        status: EntryStatus,
        q: str | None,
        after: int | None,
        limit: int,
    ) -> Page[Entry]:
        now = self.clock()
        with self.store.read() as conn:
            group = self._group(conn, actor.account.id, GroupById(group_id))
            items = queries.list_entries(
                conn, group.id, status=status, q=q, now=now, after_key=after, limit=limit + 1
            )
            total = queries.count_entries(conn, group.id, status=status, q=q, now=now)
        return _page(items[:limit], total, len(items) > limit, lambda e: e.key)

    def add_numbers(
        self,
        actor: Actor,
        group_ref: GroupRef,
        numbers: Sequence[RequestedNumber],
        expires_at: datetime | None,
        note: str | None = None,
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
                group_id=group.id,
                numbers=written,
                expires_at=expires_at,
                source=actor.surface.value,
                now=now,
                note=note,
            )
            queries.touch_group(conn, group.id, now)
            new = len(set(written) - existing)
            action = Action.ADD if new or not written else Action.EXPIRE_REFRESH
            version = self._changed(conn, actor, action, group.id, written, now)
        self._apply(
            account_id,
            version,
            lambda index: index.upsert(group.id, written, expiry_stamp(expires_at)),
        )
        return NumbersAdded(group, written, repeats, new=new)

    def remove_numbers(
        self, actor: Actor, group_ref: GroupRef | None, numbers: Sequence[RequestedNumber]
    ) -> NumbersRemoved:
        """Remove numbers from one group, or from every group of the account (no group)."""
        distinct = list(dict.fromkeys(n.e164 for n in numbers))
        now = self.clock()
        account_id = actor.account.id
        version = None
        with self.store.write() as conn:
            group_id = None if group_ref is None else self._group(conn, account_id, group_ref).id
            present = queries.numbers_in_groups(conn, account_id, group_id, distinct)
            removed = [n for n in distinct if n in present]
            if removed:
                for touched in queries.delete_entries(conn, account_id, group_id, removed):
                    queries.touch_group(conn, touched, now)
                version = self._changed(conn, actor, Action.REMOVE, group_id, removed, now)
        if version is not None:
            self._apply(account_id, version, lambda index: index.remove(group_id, removed))
        return NumbersRemoved(
            group_id=group_id,
            found=[n.e164 for n in numbers if n.e164 in present],
            missing=[n for n in numbers if n.e164 not in present],
            deleted=len(removed),
        )

    def import_entries(
        self,
        actor: Actor,
        group_ref: GroupRef,
        lines: Iterable[ImportLines],
        *,
        create: bool = False,
        skip_invalid: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """Import a number list's lines (in blocks) into a group, whole or not at all.

        Every line is read and checked before anything is written; then one transaction
        writes them all, so a crash, a kill or a database error leaves the group as it was.
        Invalid lines refuse the whole import (``ImportRejected``) unless ``skip_invalid``;
        a file without lines is refused (``NothingToImport``). With ``create``, a group named
        by ``GroupByName`` that does not exist is created. ``progress`` gets (entries written,
        entries to write).
        """
        account = actor.account
        now = self.clock()
        if not create:  # a missing group is answered before a long file is read
            with self.store.read() as conn:
                self._group(conn, account.id, group_ref)
        plan = plan_import(lines, account.region, account.timezone, now)
        if not plan.lines:
            raise NothingToImport
        if plan.invalid and not skip_invalid:
            raise ImportRejected(plan.invalid)
        applied = len(plan.keys) <= _APPLY_LIMIT  # else the index reloads (see below)
        shown = plan.keys[: _APPLY_LIMIT if applied else 100].tolist()
        patterns = [key_pattern(key) for key in shown]
        written = 0

        def wrote(count: int) -> None:
            nonlocal written
            written += count
            if progress is not None:
                progress(written, len(plan.keys))

        created = False
        with self.store.write() as conn:
            try:
                group = self._group(conn, account.id, group_ref)
            except GroupNotFound:
                if not (create and isinstance(group_ref, GroupByName)):
                    raise
                name = clean_group_name(group_ref.name)
                if name is None:
                    raise InvalidInput(
                        [FieldProblem("group", ProblemCode.INVALID, group_ref.name, NAME_RULE)]
                    ) from None
                group = queries.insert_group(conn, account.id, name, name_key(name), "", now)
                created = True
            before = 0 if created else queries.count_group_entries(conn, group.id)
            queries.write_entries(
                conn,
                group_id=group.id,
                keys=plan.keys,
                expiries=plan.expiries,
                source=actor.surface.value,
                now=now,
                new_group=created,
                progress=wrote,
            )
            # Into a new group, every distinct key is added.
            added = (
                len(plan.keys) if created else queries.count_group_entries(conn, group.id) - before
            )
            queries.touch_group(conn, group.id, now)
            version = self._changed(
                conn, actor, Action.IMPORT, group.id, patterns[:100], now, count=len(plan.keys)
            )

        def apply(index: AccountIndex) -> None:
            if created:
                index.put_group(IndexedGroup(group.id, group.name, group.direction))
            expiries = plan.expiries or [None] * len(patterns)
            for pattern, expiry in zip(patterns, expiries, strict=False):
                index.upsert(group.id, [pattern], NEVER if expiry is None else expiry)

        if not applied:  # a reload reads the arrays once instead of merging
            self._apply(account.id, version, lambda index: None)
            self._reload_if_loaded(account.id)
        else:
            self._apply(account.id, version, apply)
        total = len(plan.keys)
        metrics.IMPORT_ROWS.labels("written").inc(total)
        metrics.IMPORT_ROWS.labels("invalid").inc(len(plan.invalid))
        metrics.IMPORT_ROWS.labels("repeated").inc(plan.repeats)
        return ImportResult(
            group, created, added, total - added, plan.invalid, plan.repeats, plan.lines
        )

    @contextmanager
    def exporting(
        self, actor: Actor, group_ref: GroupRef
    ) -> Iterator[tuple[Group, Iterator[Entry]]]:
        """The group and its entries, streamed from one read transaction (constant memory)."""
        with self.store.read() as conn:
            group = self._group(conn, actor.account.id, group_ref)
            yield group, queries.entries_of_group(conn, group.id)

    # --- checks --------------------------------------------------------------------------

    def check(self, actor: Actor, raw: str, direction: Direction | None) -> CheckResult:
        """Is ``raw`` blocked for this account now? Answered from memory, never the store."""
        account = actor.account
        if (
            direction is Direction.INBOUND
            and account.block_anonymous
            and raw.strip().lower() in WITHHELD_CALLER_IDS
        ):
            rule = Match(None, None, raw.strip().lower(), None, "block_anonymous")
            metrics.CHECKED_BLOCKED.inc()
            return CheckResult(raw, None, [rule])
        try:
            e164 = normalise(raw, account.region)
        except InvalidNumber:
            metrics.CHECKED_INVALID.inc()
            return CheckResult(raw, None, [], error="not a valid phone number")
        index = self._account_index(account.id)
        matches = index.matches(e164, direction, micros(self.clock()))
        (metrics.CHECKED_BLOCKED if matches else metrics.CHECKED_NOT_BLOCKED).inc()
        return CheckResult(raw, e164, matches)

    def group_names(self, actor: Actor) -> dict[int, str]:
        """The account's group names by id, from the index (no database round trip)."""
        return {g.id: g.name for g in self._account_index(actor.account.id).groups.values()}

    def check_many(
        self, actor: Actor, inputs: Sequence[object], direction: Direction | None
    ) -> BatchCheck:
        """Check every input, in order; answered from memory like ``check``."""
        account = actor.account
        index = self._account_index(account.id)
        if set(map(type, inputs)) <= {str}:
            texts: Sequence[str] = inputs  # type: ignore[assignment]  # checked just above
        else:
            texts = [item if type(item) is str else number_text(item) or "" for item in inputs]
        parsed, keys = normalise_batch(texts, account.region)
        withheld: set[int] = set()
        if direction is Direction.INBOUND and account.block_anonymous:
            withheld = {
                i
                for i, (item, text) in enumerate(zip(inputs, texts, strict=True))
                if isinstance(item, str) and text.strip().lower() in WITHHELD_CALLER_IDS
            }
            for position in withheld:
                parsed[position] = None
                keys[position] = -1
        groups = index.blocking_groups(parsed, direction, micros(self.clock()), keys)
        blocked = len(groups) - groups.count([]) + len(withheld)  # counted in C
        invalid = parsed.count(None) - len(withheld)
        metrics.CHECKED_BLOCKED.inc(blocked)
        metrics.CHECKED_INVALID.inc(invalid)
        metrics.CHECKED_NOT_BLOCKED.inc(len(inputs) - blocked - invalid)
        return BatchCheck(inputs, parsed, groups, withheld)

    # --- audit ---------------------------------------------------------------------------

    def audit(
        self,
        actor: Actor,
        *,
        group_id: int | None,
        number: str | None,
        since: datetime | None,
        before: int | None,
        limit: int,
    ) -> Page[AuditEvent]:
        account_id = actor.account.id
        with self.store.read() as conn:
            items = queries.audit_events_of(
                conn,
                account_id,
                group_id=group_id,
                number=number,
                since=since,
                before_id=before,
                limit=limit + 1,
            )
            total = queries.count_audit_events(
                conn, account_id, group_id=group_id, number=number, since=since
            )
        return _page(items[:limit], total, len(items) > limit, lambda e: e.id)

    # --- the check index -----------------------------------------------------------------

    def load_index(self) -> None:
        """Load every account's index (at start); readiness waits for this."""
        self.refresh_index(load_all=True)
        self.index_loaded = True

    def refresh_index(self, *, load_all: bool = False) -> int:
        """Reload the index of every loaded account whose change counter moved elsewhere.

        Returns how many accounts were reloaded. Called by the refresher every
        ``index_refresh_seconds``: the bound on how late another process's write is seen.
        """
        with self.store.read() as conn:
            versions = queries.data_versions(conn)
        reloaded = 0
        for account_id, version in versions.items():
            current = self._indexes.get(account_id)
            if (current is None and load_all) or (
                current is not None and current.version != version
            ):
                self._reload(account_id)
                reloaded += 1
        for gone in set(self._indexes) - set(versions):
            self._indexes.pop(gone, None)
        self.index_refreshed_at = time.monotonic()
        return reloaded

    def store_reachable(self) -> bool:
        try:
            with self.store.read() as conn:
                queries.ping(conn)
        except Exception:  # whatever the failure, the answer is "not reachable"
            return False
        return True

    def index_entries(self) -> int:
        """Exact numbers held by this process's check index, over every account."""
        return sum(index.numbers.size for index in list(self._indexes.values()))

    def has_index(self, account_id: int) -> bool:
        return account_id in self._indexes

    def _account_index(self, account_id: int) -> AccountIndex:
        index = self._indexes.get(account_id)
        if index is None:
            index = self._reload(account_id)
        return index

    def _reload_if_loaded(self, account_id: int) -> None:
        if account_id in self._indexes:
            self._reload(account_id)

    def _reload(self, account_id: int) -> AccountIndex:
        with self._index_lock:
            now = self.clock()
            with self.store.read() as conn:
                version = queries.data_version(conn, account_id) or 0
                groups = [
                    IndexedGroup(g.id, g.name, g.direction)
                    for g in queries.groups_of_account(conn, account_id)
                ]
                index = load(
                    version,
                    groups,
                    queries.active_number_keys(conn, account_id, now),
                    queries.active_prefixes(conn, account_id, now),
                )
            self._indexes[account_id] = index
            return index

    def _apply(self, account_id: int, version: int, change: Callable[[AccountIndex], None]) -> None:
        """Bring this process's index up to ``version`` after its own committed write."""
        with self._index_lock:
            index = self._indexes.get(account_id)
            if index is None or index.version >= version:
                return  # not loaded here (loads when first checked), or already newer
            if index.version == version - 1:
                change(index)
                index.version = version
            else:  # another process wrote in between: its change is not in memory yet
                self._reload(account_id)

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
        *,
        count: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Every write ends here: bump the account's change counter and audit the change.

        Returns the new value of the counter.
        """
        version = queries.bump_data_version(conn, actor.account.id)
        queries.record_audit(
            conn,
            at=now,
            account_id=actor.account.id,
            key_id=actor.key_id,
            surface=actor.surface.value,
            action=action.value,
            group_id=group_id,
            numbers=numbers,
            count=count,
            detail=detail,
        )
        return version


def _page(items: list[Any], total: int, more: bool, key: Callable[[Any], int]) -> Page[Any]:
    return Page(items=items, total=total, next_after=key(items[-1]) if more and items else None)


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
