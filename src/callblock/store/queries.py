"""Queries of the store. Each takes an open connection; the service owns transactions.

Database errors that mean something to the domain (a name already used) are translated here,
once, into domain errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from callblock.domain import Account, AuthMode, Group, NameTaken, UsernameTaken
from callblock.store.tables import (
    accounts,
    api_keys,
    audit_events,
    entries,
    groups,
    server_secrets,
    tokens,
)

# Well under SQLite's bound-parameter limit; also keeps PostgreSQL statements modest.
CHUNK = 500
AUDIT_SAMPLE = 20

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        region=row.region,
        timezone=row.timezone,
        auth_mode=AuthMode(row.auth_mode),
        created_at=row.created_at,
    )


# --- accounts and keys ----------------------------------------------------------------------


def insert_account(
    conn: Connection, username: str, region: str, timezone: str, now: datetime
) -> Account:
    try:
        account_id = conn.execute(
            accounts.insert()
            .values(
                username=username,
                region=region,
                timezone=timezone,
                auth_mode=AuthMode.BASIC_AUTH.value,
                created_at=now,
            )
            .returning(accounts.c.id)
        ).scalar_one()
    except IntegrityError as exc:
        raise UsernameTaken(username) from exc
    return Account(account_id, username, region, timezone, AuthMode.BASIC_AUTH, now)


def account_by_username(conn: Connection, username: str) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
    return None if row is None else _account(row)


def list_accounts(conn: Connection) -> list[tuple[Account, int, int]]:
    """Every account with its count of active keys and of groups."""
    key_count = (
        select(func.count())
        .where(api_keys.c.account_id == accounts.c.id, api_keys.c.revoked_at.is_(None))
        .scalar_subquery()
    )
    group_count = select(func.count()).where(groups.c.account_id == accounts.c.id).scalar_subquery()
    rows = conn.execute(
        select(accounts, key_count.label("keys"), group_count.label("groups")).order_by(
            accounts.c.username
        )
    )
    return [(_account(row), row.keys, row.groups) for row in rows]


def any_account(conn: Connection) -> bool:
    return conn.execute(select(accounts.c.id).limit(1)).first() is not None


def insert_key(conn: Connection, account_id: int, key_hash: str, prefix: str, now: datetime) -> int:
    key_id: int = conn.execute(
        api_keys.insert()
        .values(account_id=account_id, key_hash=key_hash, prefix=prefix, created_at=now)
        .returning(api_keys.c.id)
    ).scalar_one()
    return key_id


def account_by_key(conn: Connection, username: str, key_hash: str) -> tuple[Account, int] | None:
    """The account and key id for an active key of ``username`` with this hash."""
    row = conn.execute(
        select(accounts, api_keys.c.id.label("key_id"))
        .join(api_keys, api_keys.c.account_id == accounts.c.id)
        .where(
            accounts.c.username == username,
            api_keys.c.key_hash == key_hash,
            api_keys.c.revoked_at.is_(None),
        )
    ).first()
    return None if row is None else (_account(row), row.key_id)


def lock_account(conn: Connection, account_id: int) -> None:
    """Hold the account row until the transaction ends (SQLite: the write lock already does)."""
    conn.execute(select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())


def set_auth_mode(conn: Connection, username: str, mode: AuthMode) -> Account | None:
    conn.execute(
        update(accounts).where(accounts.c.username == username).values(auth_mode=mode.value)
    )
    return account_by_username(conn, username)


def bump_data_version(conn: Connection, account_id: int) -> None:
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(data_version=accounts.c.data_version + 1)
    )


# --- groups ----------------------------------------------------------------------------------


def insert_group(
    conn: Connection,
    account_id: int,
    name: str,
    name_key: str,
    description: str,
    now: datetime,
) -> Group:
    try:
        group_id = conn.execute(
            groups.insert()
            .values(
                account_id=account_id,
                name=name,
                name_key=name_key,
                description=description,
                created_at=now,
                updated_at=now,
            )
            .returning(groups.c.id)
        ).scalar_one()
    except IntegrityError as exc:
        raise NameTaken(name) from exc
    return Group(group_id, account_id, name, description)


def group_by_name(conn: Connection, account_id: int, key: str) -> Group | None:
    row = conn.execute(
        select(groups.c.id, groups.c.account_id, groups.c.name, groups.c.description).where(
            groups.c.name_key == key, groups.c.account_id == account_id
        )
    ).first()
    return None if row is None else Group(row.id, row.account_id, row.name, row.description)


def group_of_account(conn: Connection, account_id: int, group_id: int) -> Group | None:
    row = conn.execute(
        select(groups.c.id, groups.c.account_id, groups.c.name, groups.c.description).where(
            groups.c.id == group_id, groups.c.account_id == account_id
        )
    ).first()
    return None if row is None else Group(row.id, row.account_id, row.name, row.description)


def touch_group(conn: Connection, group_id: int, now: datetime) -> None:
    conn.execute(update(groups).where(groups.c.id == group_id).values(updated_at=now))


# --- entries ---------------------------------------------------------------------------------


def _upsert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def upsert_entries(
    conn: Connection,
    *,
    account_id: int,
    group_id: int,
    numbers: Sequence[str],
    expires_at: datetime | None,
    source: str,
    now: datetime,
) -> None:
    """Insert each number into the group, or refresh its expiry when already there."""
    insert = _upsert(conn)
    for chunk in _chunks(numbers):
        statement: Insert = insert(entries).values(
            [
                {
                    "account_id": account_id,
                    "group_id": group_id,
                    "number": number,
                    "expires_at": expires_at,
                    "source": source,
                    "created_at": now,
                    "updated_at": now,
                }
                for number in chunk
            ]
        )
        excluded = statement.excluded  # type: ignore[attr-defined]
        conn.execute(
            statement.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=[entries.c.group_id, entries.c.number],
                set_={
                    "expires_at": excluded.expires_at,
                    "updated_at": excluded.updated_at,
                    "source": excluded.source,
                },
            )
        )


def numbers_in_groups(
    conn: Connection, account_id: int, group_id: int | None, numbers: Sequence[str]
) -> set[str]:
    """Which of ``numbers`` have an entry in the group (or in any group of the account)."""
    found: set[str] = set()
    for chunk in _chunks(numbers):
        query = select(entries.c.number).where(
            entries.c.account_id == account_id, entries.c.number.in_(chunk)
        )
        if group_id is not None:
            query = query.where(entries.c.group_id == group_id)
        found.update(conn.execute(query).scalars())
    return found


def delete_entries(
    conn: Connection, account_id: int, group_id: int | None, numbers: Sequence[str]
) -> list[int]:
    """Delete the numbers' entries; return the ids of the groups that lost entries."""
    touched: set[int] = set()
    for chunk in _chunks(numbers):
        statement = entries.delete().where(
            entries.c.account_id == account_id, entries.c.number.in_(chunk)
        )
        if group_id is not None:
            statement = statement.where(entries.c.group_id == group_id)
        touched.update(conn.execute(statement.returning(entries.c.group_id)).scalars())
    return sorted(touched)


# --- audit -----------------------------------------------------------------------------------


def record_audit(
    conn: Connection,
    *,
    at: datetime,
    account_id: int,
    key_id: int | None,
    surface: str,
    action: str,
    group_id: int | None,
    numbers: Iterable[str],
) -> None:
    touched = list(numbers)
    conn.execute(
        audit_events.insert().values(
            at=at,
            account_id=account_id,
            key_id=key_id,
            surface=surface,
            action=action,
            group_id=group_id,
            count=len(touched),
            sample=json.dumps(touched[:AUDIT_SAMPLE]),
        )
    )


# --- tokens and secrets ------------------------------------------------------------------------


def tokens_issued_since(conn: Connection, account_id: int, since: datetime) -> int:
    count: int = conn.execute(
        select(func.count()).where(tokens.c.account_id == account_id, tokens.c.issued_at > since)
    ).scalar_one()
    return count


def insert_token(
    conn: Connection,
    *,
    account_id: int,
    key_id: int,
    jti: str,
    issued_at: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        tokens.insert().values(
            account_id=account_id,
            key_id=key_id,
            jti=jti,
            issued_at=issued_at,
            expires_at=expires_at,
        )
    )


def prune_tokens(conn: Connection, account_id: int, before: datetime) -> None:
    """Forget tokens issued before ``before``: outside the limit window and superseded."""
    newest = (
        select(func.max(tokens.c.id)).where(tokens.c.account_id == account_id).scalar_subquery()
    )
    conn.execute(
        tokens.delete().where(
            tokens.c.account_id == account_id,
            tokens.c.issued_at < before,
            tokens.c.id != newest,
        )
    )


def current_token(conn: Connection, account_id: int) -> tuple[str, int] | None:
    """(jti, key id) of the account's newest token, if its key is still active."""
    row = conn.execute(
        select(tokens.c.jti, tokens.c.key_id, api_keys.c.revoked_at)
        .join(api_keys, api_keys.c.id == tokens.c.key_id)
        .where(tokens.c.account_id == account_id)
        .order_by(tokens.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return row.jti, row.key_id


def server_secret(conn: Connection, name: str, candidate: str, now: datetime) -> str:
    """The stored secret ``name``; ``candidate`` becomes it if none is stored yet."""
    insert = _upsert(conn)
    conn.execute(
        insert(server_secrets)
        .values(name=name, value=candidate, created_at=now)
        .on_conflict_do_nothing(index_elements=[server_secrets.c.name])
    )
    value: str = conn.execute(
        select(server_secrets.c.value).where(server_secrets.c.name == name)
    ).scalar_one()
    return value
