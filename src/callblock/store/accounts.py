"""Accounts and their API keys, and the account's counters.

Each query takes an open connection; the use cases own transactions.
"""

from datetime import datetime

from sqlalchemy import (
    Connection,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from callblock.domain import (
    Account,
    AuthMode,
    KeyGrant,
    Scope,
    UsernameTaken,
    scopes_from_text,
    scopes_text,
    storable,
)
from callblock.store.rows import account_of_row
from callblock.store.tables import (
    accounts,
    api_keys,
    groups,
)


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
    return Account(account_id, username, region, timezone, AuthMode.BASIC_AUTH, now, False)


def account_by_username(conn: Connection, username: str) -> Account | None:
    if not storable(username):  # no account has such a name; PostgreSQL cannot even compare it
        return None
    row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
    return None if row is None else account_of_row(row)


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
    return [(account_of_row(row), row.keys, row.groups) for row in rows]


def ping(conn: Connection) -> None:
    conn.execute(select(1)).scalar_one()


def any_account(conn: Connection) -> bool:
    return conn.execute(select(accounts.c.id).limit(1)).first() is not None


def insert_key(
    conn: Connection,
    account_id: int,
    key_hash: str,
    prefix: str,
    now: datetime,
    label: str,
    scopes: frozenset[Scope],
) -> int:
    key_id: int = conn.execute(
        api_keys.insert()
        .values(
            account_id=account_id,
            key_hash=key_hash,
            prefix=prefix,
            created_at=now,
            label=label,
            scopes=scopes_text(scopes),
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    return key_id


def lock_account(conn: Connection, account_id: int) -> None:
    """Hold the account row until the transaction ends (SQLite: the write lock already does)."""
    conn.execute(select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())


def set_auth_mode(conn: Connection, username: str, mode: AuthMode) -> Account | None:
    conn.execute(
        update(accounts).where(accounts.c.username == username).values(auth_mode=mode.value)
    )
    return account_by_username(conn, username)


def account_by_key_hash(conn: Connection, key_hash: str) -> tuple[Account, KeyGrant] | None:
    """The account and grant of an active key with this hash, whoever it belongs to."""
    row = conn.execute(
        select(
            accounts,
            api_keys.c.id.label("key_id"),
            api_keys.c.label.label("key_label"),
            api_keys.c.scopes.label("key_scopes"),
        )
        .join(api_keys, api_keys.c.account_id == accounts.c.id)
        .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return account_of_row(row), KeyGrant(
        row.key_id, row.key_label, scopes_from_text(row.key_scopes)
    )


def set_settings(
    conn: Connection,
    account_id: int,
    *,
    block_anonymous: bool | None = None,
    region: str | None = None,
    timezone: str | None = None,
) -> None:
    """Set the account's settings given (None: keep)."""
    given = {"block_anonymous": block_anonymous, "region": region, "timezone": timezone}
    values = {name: value for name, value in given.items() if value is not None}
    if values:
        conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


def bump_auth_version(conn: Connection, account_id: int) -> None:
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(auth_version=accounts.c.auth_version + 1)
    )


def bump_data_version(conn: Connection, account_id: int) -> int:
    """Advance the account's change counter; return its new value."""
    version: int = conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(data_version=accounts.c.data_version + 1)
        .returning(accounts.c.data_version)
    ).scalar_one()
    return version


def versions(conn: Connection) -> dict[int, tuple[int, int]]:
    """Every account's (data_version, auth_version): what the index refresher follows."""
    return {
        row.id: (row.data_version, row.auth_version)
        for row in conn.execute(
            select(accounts.c.id, accounts.c.data_version, accounts.c.auth_version)
        )
    }


def hold_for_write(conn: Connection, account_id: int) -> None:
    """Take the account's write lock: every write of the account's groups, entries or
    settings takes it first, so writers of one account queue in one order (no deadlock) and
    what a write reads before writing is still true when it commits. On PostgreSQL the row
    lock (NO KEY UPDATE: inserts referencing the account still go ahead); on SQLite the
    write transaction's lock already serialises every writer."""
    if conn.dialect.name == "postgresql":
        query = select(accounts.c.id).where(accounts.c.id == account_id)
        conn.execute(query.with_for_update(key_share=True))  # FOR NO KEY UPDATE


def data_version(conn: Connection, account_id: int) -> int | None:
    version: int | None = conn.execute(
        select(accounts.c.data_version).where(accounts.c.id == account_id)
    ).scalar()
    return version
