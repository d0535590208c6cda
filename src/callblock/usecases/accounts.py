"""The operator's account commands: accounts, their keys, their authentication mode, and the
account's settings that change what checks and imports answer (a ``Change`` like any write of
the account's data)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from callblock.change import Draft
from callblock.domain import (
    DEFAULT_REGION,
    DEFAULT_TIMEZONE,
    EVERY_SCOPE,
    Account,
    AccountNotFound,
    Action,
    Actor,
    AuthMode,
    FieldProblem,
    InvalidInput,
    KeyNotFound,
    ProblemCode,
    Scope,
    checked_key_label,
    checked_scopes,
    clean_username,
    scopes_text,
)
from callblock.numbers import REGIONS
from callblock.store import Store
from callblock.store import accounts as account_rows
from callblock.store import credentials as credential_rows
from callblock.usecases.auth import KEY_PREFIX
from callblock.usecases.credentials import CredentialCache, hash_key
from callblock.usecases.results import AccountSummary, IssuedKey, KeyInfo
from callblock.usecases.writes import Writer, record_account_event


class Accounts:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        writer: Writer,
        credentials: CredentialCache,
    ) -> None:
        self._store = store
        self._clock = clock
        self._writer = writer
        self._credentials = credentials

    def create_account(
        self,
        username: str,
        region: str = DEFAULT_REGION,
        timezone: str = DEFAULT_TIMEZONE,
        label: str = "",
    ) -> IssuedKey:
        """A new account with one API key of every scope (labelled ``label``)."""
        clean = _validated_account(username, region, timezone)
        label = checked_key_label(label)
        now = self._clock()
        with self._store.write() as conn:
            account = account_rows.insert_account(conn, clean, region.upper(), timezone, now)
            return _new_key(conn, account, now, label, EVERY_SCOPE)

    def issue_key(
        self, username: str, label: str = "", scopes: Iterable[str] = tuple(EVERY_SCOPE)
    ) -> IssuedKey:
        """Another API key of the account (the operator's CLI), with ``label`` and the
        ``scopes`` named (InvalidInput for a label or a scope that is not one)."""
        clean_label, clean_scopes = checked_key_label(label), checked_scopes(scopes)
        now = self._clock()
        with self._store.write() as conn:
            return _new_key(conn, _existing(conn, username), now, clean_label, clean_scopes)

    def issue_key_as(self, actor: Actor, label: str, scopes: Iterable[str]) -> IssuedKey:
        """A new API key of the actor's account (over HTTP), audited as ``key-issue``."""
        clean_label, clean_scopes = checked_key_label(label), checked_scopes(scopes)
        account = actor.account
        now = self._clock()
        with self._store.write() as conn:
            issued = _new_key(conn, account, now, clean_label, clean_scopes)
            _audit_key(
                conn, actor, Action.KEY_ISSUE, issued.key_id, now, issued.label, clean_scopes
            )
        return issued

    def keys_of(self, actor: Actor) -> list[KeyInfo]:
        """Every key of the actor's account, revoked ones too, oldest first."""
        with self._store.read() as conn:
            rows = credential_rows.keys_of_account(conn, actor.account.id)
        return [KeyInfo(*row) for row in rows]

    def revoke_key_as(self, actor: Actor, key_id: int) -> bool:
        """Revoke a key of the actor's account (``revoke_key``), audited as ``key-revoke``;
        KeyNotFound for a key of no account or of another one."""
        account = actor.account
        now = self._clock()
        with self._store.write() as conn:
            revoked = credential_rows.revoke_key(conn, account.id, key_id, now)
            if revoked is None:
                raise KeyNotFound(account.username, key_id)
            if revoked:
                account_rows.bump_auth_version(conn, account.id)
                _audit_key(conn, actor, Action.KEY_REVOKE, key_id, now)
        self._credentials.forget_account(account.id)
        return revoked

    def list_accounts(self) -> list[AccountSummary]:
        with self._store.read() as conn:
            return [AccountSummary(*row) for row in account_rows.list_accounts(conn)]

    def has_accounts(self) -> bool:
        with self._store.read() as conn:
            return account_rows.any_account(conn)

    def account(self, username: str) -> Account:
        with self._store.read() as conn:
            return _existing(conn, username)

    def revoke_key(self, username: str, key_id: int) -> bool:
        """Revoke one API key of the account, and every token made with it: True if it was
        active, False if it was already revoked. Other processes stop accepting it when their
        index refresher sees the account's auth version move, or at their next re-check."""
        now = self._clock()
        with self._store.write() as conn:
            account = _existing(conn, username)
            revoked = credential_rows.revoke_key(conn, account.id, key_id, now)
            if revoked is None:
                raise KeyNotFound(username, key_id)
            account_rows.bump_auth_version(conn, account.id)
        self._credentials.forget_account(account.id)
        return revoked

    def keys(self, username: str) -> list[KeyInfo]:
        with self._store.read() as conn:
            account = _existing(conn, username)
            return [KeyInfo(*row) for row in credential_rows.keys_of_account(conn, account.id)]

    def set_auth_mode(self, username: str, mode: AuthMode) -> Account:
        with self._store.write() as conn:
            account = account_rows.set_auth_mode(conn, username, mode)
            if account is not None:
                account_rows.bump_auth_version(conn, account.id)
                # A switch ends every token issued so far, also after switching back.
                credential_rows.revoke_tokens(conn, account.id, self._clock())
        if account is None:
            raise AccountNotFound(username)
        self._credentials.forget_account(account.id)
        return account

    def set_block_anonymous(self, actor: Actor, value: bool) -> Account:
        """Whether inbound checks of a withheld caller ID answer blocked (``update_settings``)."""
        return self.update_settings(actor, block_anonymous=value)

    def update_settings(
        self,
        actor: Actor,
        *,
        block_anonymous: bool | None = None,
        region: str | None = None,
        timezone: str | None = None,
    ) -> Account:
        """Change the settings given (None: keep), validated as ``create_account`` does: an
        invalid one is InvalidInput naming each field, and nothing is written.

        Each changes what the account's requests answer: ``block_anonymous`` its inbound
        checks of a withheld caller ID, ``region`` how a national number is read (checks,
        writes, imports, the compat endpoints), ``timezone`` how an import's or a compat
        request's local expiry is read. So what changed is one ``Change`` (audited with the
        previous region and time zone, in the change log, versioned); a value the account
        already has records nothing.
        """
        problems = _settings_problems(region, timezone)
        if problems:
            raise InvalidInput(problems)
        wanted_region = None if region is None else region.upper()
        account = actor.account

        def work(conn: Connection, now: datetime) -> tuple[Account, Draft | None]:
            current = _existing(conn, account.username)
            detail: dict[str, Any] = {}
            if block_anonymous is not None and block_anonymous != current.block_anonymous:
                detail["block_anonymous"] = block_anonymous
            if wanted_region is not None and wanted_region != current.region:
                detail.update(region=wanted_region, previous_region=current.region)
            if timezone is not None and timezone != current.timezone:
                detail.update(timezone=timezone, previous_timezone=current.timezone)
            if not detail:
                return current, None
            account_rows.set_settings(
                conn,
                account.id,
                block_anonymous=detail.get("block_anonymous"),
                region=detail.get("region"),
                timezone=detail.get("timezone"),
            )
            # Every process's requests read the settings from the cached credentials (a
            # check reads ``actor.account.region``): each drops the account's, when its index
            # refresher sees the auth version move, or at the key's next re-check.
            account_rows.bump_auth_version(conn, account.id)
            draft = Draft(
                action=Action.SETTINGS,
                group_id=None,
                block_anonymous=detail.get("block_anonymous"),
                detail=detail,
            )
            return _existing(conn, account.username), draft

        updated = self._writer.write(actor, work)
        self._credentials.forget_account(account.id)
        return updated


def _existing(conn: Connection, username: str) -> Account:
    account = account_rows.account_by_username(conn, username)
    if account is None:
        raise AccountNotFound(username)
    return account


def _new_key(
    conn: Connection, account: Account, now: datetime, label: str, scopes: frozenset[Scope]
) -> IssuedKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    key_id = account_rows.insert_key(conn, account.id, hash_key(key), key[:12], now, label, scopes)
    return IssuedKey(account, key_id, key, label, scopes, now)


def _audit_key(
    conn: Connection,
    actor: Actor,
    action: Action,
    key_id: int,
    now: datetime,
    label: str | None = None,
    scopes: frozenset[Scope] | None = None,
) -> None:
    detail: dict[str, object] = {"key_id": key_id}
    if label is not None:
        detail["label"] = label
    if scopes is not None:
        detail["scopes"] = scopes_text(scopes)
    record_account_event(conn, actor, action, now, detail)


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
    problems.extend(_settings_problems(region, timezone))
    if problems or clean is None:
        raise InvalidInput(problems)
    return clean


def _settings_problems(region: str | None, timezone: str | None) -> list[FieldProblem]:
    """What is wrong with a region and a time zone (None: not given, nothing to check)."""
    problems: list[FieldProblem] = []
    if region is not None and region.upper() not in REGIONS:
        problems.append(
            FieldProblem(
                "region",
                ProblemCode.INVALID,
                region,
                "not an ISO 3166 two-letter region that phone numbers are known for (IN, GB)",
            )
        )
    if timezone is not None and not _is_timezone(timezone):
        problems.append(
            FieldProblem(
                "timezone",
                ProblemCode.INVALID,
                timezone,
                "not an IANA time zone (Asia/Kolkata, Europe/London)",
            )
        )
    return problems


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
