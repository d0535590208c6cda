"""Queries of the store. Each takes an open connection; the service owns transactions.

Database errors that mean something to the domain (a name already used) are translated here,
once, into domain errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    case,
    cast,
    false,
    func,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from callblock.domain import (
    Account,
    AuditEvent,
    AuthMode,
    Direction,
    Entry,
    EntryStatus,
    Group,
    GroupDetail,
    GroupNotFound,
    NameTaken,
    UsernameTaken,
    name_key,
    storable,
)
from callblock.numbers import PREFIX_MARK, pattern_key
from callblock.store.tables import (
    accounts,
    api_keys,
    audit_events,
    audit_numbers,
    auth_failures,
    entries,
    entry_key,
    groups,
    server_secrets,
    tokens,
)
from callblock.timestamps import NEVER, micros

# Well under SQLite's bound-parameter limit; also keeps PostgreSQL statements modest.
CHUNK = 500
AUDIT_SAMPLE = 100

T = TypeVar("T")
# Stored keys of entries (numbers.pattern_key): a list, or an int64 array from a bulk import.
StoredKeys = Sequence[int] | np.ndarray[Any, np.dtype[np.int64]]


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
        block_anonymous=bool(row.block_anonymous),
    )


def _group(row: Any) -> Group:
    return Group(row.id, row.account_id, row.name, row.description, Direction(row.direction))


_GROUP_COLUMNS = (
    groups.c.id,
    groups.c.account_id,
    groups.c.name,
    groups.c.description,
    groups.c.direction,
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
    return Account(account_id, username, region, timezone, AuthMode.BASIC_AUTH, now, False)


def account_by_username(conn: Connection, username: str) -> Account | None:
    if not storable(username):  # no account has such a name; PostgreSQL cannot even compare it
        return None
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


def ping(conn: Connection) -> None:
    conn.execute(select(1)).scalar_one()


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


def account_by_key_hash(conn: Connection, key_hash: str) -> tuple[Account, int] | None:
    """The account and key id of an active key with this hash, whoever it belongs to."""
    row = conn.execute(
        select(accounts, api_keys.c.id.label("key_id"))
        .join(api_keys, api_keys.c.account_id == accounts.c.id)
        .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    ).first()
    return None if row is None else (_account(row), row.key_id)


def set_block_anonymous(conn: Connection, account_id: int, value: bool) -> None:
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(block_anonymous=value))


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


def data_versions(conn: Connection) -> dict[int, int]:
    """Every account's change counter."""
    return {
        row.id: row.data_version
        for row in conn.execute(select(accounts.c.id, accounts.c.data_version))
    }


def data_version(conn: Connection, account_id: int) -> int | None:
    version: int | None = conn.execute(
        select(accounts.c.data_version).where(accounts.c.id == account_id)
    ).scalar()
    return version


# --- groups ----------------------------------------------------------------------------------


def insert_group(
    conn: Connection,
    account_id: int,
    name: str,
    name_key: str,
    description: str,
    now: datetime,
    direction: Direction = Direction.BOTH,
) -> Group:
    try:
        group_id = conn.execute(
            groups.insert()
            .values(
                account_id=account_id,
                name=name,
                name_key=name_key,
                description=description,
                direction=direction.value,
                created_at=now,
                updated_at=now,
            )
            .returning(groups.c.id)
        ).scalar_one()
    except IntegrityError as exc:
        raise NameTaken(name) from exc
    return Group(group_id, account_id, name, description, direction)


def group_by_name(conn: Connection, account_id: int, key: str) -> Group | None:
    if not storable(key):  # no group has such a name
        return None
    row = conn.execute(
        select(*_GROUP_COLUMNS).where(groups.c.name_key == key, groups.c.account_id == account_id)
    ).first()
    return None if row is None else _group(row)


def group_of_account(conn: Connection, account_id: int, group_id: int) -> Group | None:
    row = conn.execute(
        select(*_GROUP_COLUMNS).where(groups.c.id == group_id, groups.c.account_id == account_id)
    ).first()
    return None if row is None else _group(row)


def groups_of_account(conn: Connection, account_id: int) -> list[Group]:
    rows = conn.execute(select(*_GROUP_COLUMNS).where(groups.c.account_id == account_id))
    return [_group(row) for row in rows]


def _counts(now: datetime) -> tuple[Any, Any]:
    active = func.count(entries.c.number).filter(
        (entries.c.expires_at.is_(None)) | (entries.c.expires_at > now)
    )
    expired = func.count(entries.c.number).filter(entries.c.expires_at <= now)
    return active.label("active"), expired.label("expired")


def _name_filter(query: Any, name: str | None) -> Any:
    if name and not storable(name):
        return query.where(false())  # no name holds it
    if name:
        pattern = "%" + _like_escape(name_key(name)) + "%"
        query = query.where(groups.c.name_key.like(pattern, escape="\\"))
    return query


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def group_details(
    conn: Connection,
    account_id: int,
    *,
    now: datetime,
    group_id: int | None = None,
    name: str | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[GroupDetail]:
    """Groups of the account with their active and expired entry counts, in id order.

    The page of groups first, then the counts of just those groups, each group's entries read
    in key order: one join grouped over every entry of the account sorted them all (SQLite
    used a temporary B-tree), 1.3 s for two groups of a million entries against 0.19 s.
    """
    query = (
        select(*_GROUP_COLUMNS, groups.c.created_at, groups.c.updated_at)
        .where(groups.c.account_id == account_id)
        .order_by(groups.c.id)
    )
    if group_id is not None:
        query = query.where(groups.c.id == group_id)
    if after_id is not None:
        query = query.where(groups.c.id > after_id)
    query = _name_filter(query, name)
    if limit is not None:
        query = query.limit(limit)
    page = conn.execute(query).all()
    if not page:
        return []
    active, expired = _counts(now)
    counted = {
        row.group_id: (row.active, row.expired)
        for row in conn.execute(
            select(entries.c.group_id, active, expired)
            .where(entries.c.group_id.in_([row.id for row in page]))
            .group_by(entries.c.group_id)
        )
    }
    return [
        GroupDetail(_group(row), row.created_at, row.updated_at, *counted.get(row.id, (0, 0)))
        for row in page
    ]


def count_groups(conn: Connection, account_id: int, name: str | None) -> int:
    query = select(func.count()).select_from(groups).where(groups.c.account_id == account_id)
    count: int = conn.execute(_name_filter(query, name)).scalar_one()
    return count


def update_group(conn: Connection, group: Group, values: dict[str, Any]) -> None:
    try:
        conn.execute(update(groups).where(groups.c.id == group.id).values(**values))
    except IntegrityError as exc:
        raise NameTaken(str(values.get("name", group.name))) from exc


def sample_of_group(conn: Connection, group_id: int) -> list[str]:
    """Up to AUDIT_SAMPLE of the group's entries, for the record of its deletion."""
    query = select(entries.c.number).where(entries.c.group_id == group_id).limit(AUDIT_SAMPLE)
    return list(conn.execute(query).scalars())


def delete_group(conn: Connection, group_id: int) -> int:
    """Delete the group, then its entries; return how many entries it had.

    The group's row goes first: a transaction writing entries to the group holds that row
    (``write_entries``), so this waits for it, and then deletes its entries too.
    """
    conn.execute(groups.delete().where(groups.c.id == group_id))
    removed: int = conn.execute(entries.delete().where(entries.c.group_id == group_id)).rowcount
    return removed


def touch_group(conn: Connection, group_id: int, now: datetime) -> None:
    conn.execute(update(groups).where(groups.c.id == group_id).values(updated_at=now))


# --- entries ---------------------------------------------------------------------------------


def _upsert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _of_account(account_id: int) -> Any:
    """Entries of the account's groups (entries carry no account: their group does)."""
    return entries.c.group_id.in_(select(groups.c.id).where(groups.c.account_id == account_id))


def upsert_entries(
    conn: Connection,
    *,
    group_id: int,
    numbers: Sequence[str],
    expires_at: datetime | None,
    source: str,
    now: datetime,
    note: str | None = None,
) -> None:
    """Insert each number into the group, or refresh its expiry (and note, if one is given)
    when already there. The numbers must be distinct."""
    stamp = None if expires_at is None else micros(expires_at)
    write_entries(
        conn,
        group_id=group_id,
        keys=[pattern_key(number) for number in numbers],
        expiries=None if stamp is None else [stamp] * len(numbers),
        source=source,
        now=now,
        note=note,
    )


# On a number already in the group: the new expiry, time and surface; the note only if given.
_UPSERT = (
    "INSERT INTO entries (group_id, number, expires_at, note, source, created_at, updated_at) "
    "{rows} ON CONFLICT (group_id, number) DO UPDATE SET expires_at = excluded.expires_at, "
    "updated_at = excluded.updated_at, source = excluded.source, "
    "note = COALESCE(excluded.note, entries.note)"
)


def write_entries(
    conn: Connection,
    *,
    group_id: int,
    keys: StoredKeys,
    expiries: Sequence[int | None] | None,
    source: str,
    now: datetime,
    note: str | None = None,
    new_group: bool = False,
    batch: int = 100_000,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Upsert entries given as stored keys (``numbers.pattern_key``), each with its expiry in
    POSIX microseconds (``expiries`` None: none expires). The keys must be distinct.

    Every write of entries comes here, from one number to millions. The group's row is held
    to the end of the transaction (entries have no foreign key: see ``tables.entries``);
    GroupNotFound if it is gone. SQLite gets each batch as one JSON array; PostgreSQL gets
    the rows through ``COPY``: straight into the table for a group created in this
    transaction (``new_group``: nothing can conflict), else into a scratch table, then one
    ``INSERT ... SELECT ... ON CONFLICT``.
    """
    _hold_group(conn, group_id)
    if len(keys) == 0:
        return
    stamp = micros(now)
    if conn.dialect.name == "postgresql":
        rows = _PostgresRows(group_id, source, stamp, note)
        if new_group:
            _copy_new(conn, rows, keys, expiries, batch, progress)
        else:
            every_expiry = expiries if expiries is not None else [None] * len(keys)
            _copy_upsert(conn, rows, keys, every_expiry, batch, progress)
        return
    # SQLite reads each batch as one JSON array in C (json_each) and inserts it with one
    # statement: no per-row parameter binding, which is most of an executemany's cost.
    # ("WHERE true" tells the parser that ON CONFLICT belongs to the INSERT.)
    if expiries is None:
        select_rows = "SELECT ?, value, NULL, ?, ?, ?, ? FROM json_each(?) WHERE true"
    else:
        select_rows = (
            "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, ?, ?, ? "
            "FROM json_each(?) WHERE true"
        )
    statement = _UPSERT.format(rows=select_rows)
    for start in range(0, len(keys), batch):
        end = start + batch
        chunk = _ints(keys[start:end])
        array = orjson.dumps(
            chunk if expiries is None else list(zip(chunk, expiries[start:end], strict=True))
        )
        conn.exec_driver_sql(statement, (group_id, note, source, stamp, stamp, array.decode()))
        if progress is not None:
            progress(len(chunk))


def _ints(keys: StoredKeys) -> list[int]:
    return keys.tolist() if isinstance(keys, np.ndarray) else list(keys)


def _hold_group(conn: Connection, group_id: int) -> None:
    """Lock the group's row until the transaction ends (on SQLite the write lock already
    keeps every other writer out), so that it cannot be deleted under new entries."""
    query = select(groups.c.id).where(groups.c.id == group_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    if conn.execute(query).first() is None:
        raise GroupNotFound


@dataclass(frozen=True, slots=True)
class _PostgresRows:
    """What every row of one write shares, and the rows in COPY's formats."""

    group_id: int
    source: str
    stamp: int
    note: str | None

    def binary(self, keys: StoredKeys) -> bytes:
        """Rows without expiry in COPY's binary format, built as one numpy record array:
        ``group, number, NULL, note, source, created, updated``, big-endian, each field
        preceded by its length (-1 for NULL)."""
        source = self.source.encode()
        note = None if self.note is None else self.note.encode()
        fields: list[tuple[str, str]] = [
            ("fields", ">i2"),
            ("group_size", ">i4"),
            ("group", ">i8"),
            ("number_size", ">i4"),
            ("number", ">i8"),
            ("expiry_size", ">i4"),
            ("note_size", ">i4"),
        ]
        if note is not None:
            fields.append(("note", f"S{len(note)}"))
        fields += [
            ("source_size", ">i4"),
            ("source", f"S{len(source)}"),
            ("created_size", ">i4"),
            ("created", ">i8"),
            ("updated_size", ">i4"),
            ("updated", ">i8"),
        ]
        records = np.empty(len(keys), dtype=np.dtype(fields))
        records["fields"] = 7
        records["group_size"] = records["number_size"] = 8
        records["created_size"] = records["updated_size"] = 8
        records["group"] = self.group_id
        records["number"] = keys
        records["expiry_size"] = -1
        records["note_size"] = -1 if note is None else len(note)
        if note is not None:
            records["note"] = note
        records["source_size"] = len(source)
        records["source"] = source
        records["created"] = records["updated"] = self.stamp
        return records.tobytes()

    def text(self, keys: StoredKeys, expiries: Sequence[int | None]) -> bytes:
        """Full entry rows in COPY's text format."""
        note = "\\N" if self.note is None else _copy_text(self.note)
        head = f"{self.group_id}\t"
        tail = f"\t{note}\t{_copy_text(self.source)}\t{self.stamp}\t{self.stamp}\n"
        return "".join(
            f"{head}{key}\t{_copy_expiry(expiry)}{tail}"
            for key, expiry in zip(keys, expiries, strict=True)
        ).encode()


# COPY's binary format: signature, flags, header extension length; and the end marker.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_BINARY_TRAILER = b"\xff\xff"


def _copy_expiry(expiry: int | None) -> str:
    return "\\N" if expiry is None else str(expiry)


def _copy_text(value: str) -> str:
    """A value in COPY's text format (backslash, tab and line breaks escaped)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy_new(
    conn: Connection,
    rows: _PostgresRows,
    keys: StoredKeys,
    expiries: Sequence[int | None] | None,
    batch: int,
    progress: Callable[[int], None] | None,
) -> None:
    driver = conn.connection.dbapi_connection
    assert driver is not None
    columns = "group_id, number, expires_at, note, source, created_at, updated_at"
    binary = expiries is None  # every row the same shape: built as one array
    options = " (FORMAT BINARY)" if binary else ""
    with (
        driver.cursor() as cursor,  # type: ignore[attr-defined]
        cursor.copy(f"COPY entries ({columns}) FROM STDIN{options}") as copy,
    ):
        if binary:
            copy.write(_BINARY_HEADER)
        for start in range(0, len(keys), batch):
            end = start + batch
            if binary:
                copy.write(rows.binary(keys[start:end]))
            else:
                assert expiries is not None
                copy.write(rows.text(keys[start:end], expiries[start:end]))
            if progress is not None:
                progress(len(keys[start:end]))
        if binary:
            copy.write(_BINARY_TRAILER)


def _copy_upsert(
    conn: Connection,
    rows: _PostgresRows,
    keys: StoredKeys,
    expiries: Sequence[int | None],
    batch: int,
    progress: Callable[[int], None] | None,
) -> None:
    driver = conn.connection.dbapi_connection
    assert driver is not None
    with driver.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS entry_rows "
            "(number BIGINT NOT NULL, expires_at BIGINT) ON COMMIT DELETE ROWS"
        )
        with cursor.copy("COPY entry_rows (number, expires_at) FROM STDIN") as copy:
            for start in range(0, len(keys), batch):
                end = start + batch
                pairs = zip(keys[start:end], expiries[start:end], strict=True)
                copy.write("".join(f"{k}\t{_copy_expiry(e)}\n" for k, e in pairs).encode())
                if progress is not None:
                    progress(len(keys[start:end]))
        select_rows = "SELECT %s, number, expires_at, %s, %s, %s, %s FROM entry_rows"
        cursor.execute(
            _UPSERT.format(rows=select_rows),
            (rows.group_id, rows.note, rows.source, rows.stamp, rows.stamp),
        )
        cursor.execute("TRUNCATE entry_rows")  # a second write in this transaction starts empty


def count_group_entries(conn: Connection, group_id: int) -> int:
    count: int = conn.execute(
        select(func.count()).select_from(entries).where(entries.c.group_id == group_id)
    ).scalar_one()
    return count


def numbers_in_groups(
    conn: Connection, account_id: int, group_id: int | None, numbers: Sequence[str]
) -> set[str]:
    """Which of ``numbers`` have an entry in the group (or in any group of the account)."""
    found: set[str] = set()
    for chunk in _chunks(numbers):
        query = select(entries.c.number).where(entries.c.number.in_(chunk))
        if group_id is not None:
            query = query.where(entries.c.group_id == group_id)
        else:
            query = query.where(_of_account(account_id))
        found.update(conn.execute(query).scalars())
    return found


def delete_entries(
    conn: Connection, account_id: int, group_id: int | None, numbers: Sequence[str]
) -> list[int]:
    """Delete the numbers' entries; return the ids of the groups that lost entries.

    ``group_id`` must be one of the account's groups (the caller has checked); without it,
    every group of the account loses the numbers.
    """
    touched: set[int] = set()
    for chunk in _chunks(numbers):
        statement = entries.delete().where(entries.c.number.in_(chunk))
        if group_id is not None:
            statement = statement.where(entries.c.group_id == group_id)
        else:
            statement = statement.where(_of_account(account_id))
        touched.update(conn.execute(statement.returning(entries.c.group_id)).scalars())
    return sorted(touched)


def _entry(row: Any) -> Entry:
    return Entry(
        key=row.key,
        group_id=row.group_id,
        pattern=row.number,
        expires_at=row.expires_at,
        note=row.note,
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_ENTRY_COLUMNS = (*entries.c, entry_key.label("key"))


def _entry_filters(query: Any, status: EntryStatus, q: str | None, now: datetime) -> Any:
    if status is EntryStatus.ACTIVE:
        query = query.where((entries.c.expires_at.is_(None)) | (entries.c.expires_at > now))
    elif status is EntryStatus.EXPIRED:
        query = query.where(entries.c.expires_at <= now)
    if q:
        query = query.where(_number_search(q))
    return query


def _number_search(q: str) -> Any:
    """Entries whose pattern (``+919876543210``, ``+91140*``) contains ``q``, the pattern
    spelt out from its key as ``key_pattern`` does."""
    if not storable(q):
        return false()  # no pattern holds it
    digits = cast(func.abs(entry_key), String)
    pattern = case(
        (entry_key < 0, literal("+") + digits + literal(PREFIX_MARK)),
        else_=literal("+") + digits,
    )
    return pattern.like("%" + _like_escape(q) + "%", escape="\\")


def list_entries(
    conn: Connection,
    group_id: int,
    *,
    status: EntryStatus,
    q: str | None,
    now: datetime,
    after_key: int | None,
    limit: int,
) -> list[Entry]:
    """A page of the group's entries in key order: prefixes first, then numbers ascending."""
    query = select(*_ENTRY_COLUMNS).where(entries.c.group_id == group_id).order_by(entry_key)
    if after_key is not None:
        query = query.where(entry_key > after_key)
    query = _entry_filters(query, status, q, now).limit(limit)
    return [_entry(row) for row in conn.execute(query)]


def count_entries(
    conn: Connection, group_id: int, *, status: EntryStatus, q: str | None, now: datetime
) -> int:
    query = select(func.count()).select_from(entries).where(entries.c.group_id == group_id)
    count: int = conn.execute(_entry_filters(query, status, q, now)).scalar_one()
    return count


def entries_of_group(conn: Connection, group_id: int) -> Iterator[Entry]:
    """Every entry of the group, in key order, streamed."""
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        select(*_ENTRY_COLUMNS).where(entries.c.group_id == group_id).order_by(entry_key)
    )
    for row in result:
        yield _entry(row)


def active_number_keys(
    conn: Connection, account_id: int, now: datetime
) -> Iterator[list[tuple[int, int, int]]]:
    """The account's active exact numbers, in chunks of ``(number as integer, group id,
    expiry in POSIX microseconds or NEVER)``: the stored form, so loading millions of
    entries costs no per-row work in Python beyond the rows themselves."""
    expiry = func.coalesce(type_coerce(entries.c.expires_at, BigInteger), int(NEVER))
    statement = select(entry_key, entries.c.group_id, expiry).where(
        _of_account(account_id),
        entry_key >= 0,
        (entries.c.expires_at.is_(None)) | (entries.c.expires_at > now),
    )
    # Straight through the driver's cursor, on this transaction's connection: plain tuples,
    # no row objects (the statement holds only integers, rendered in place).
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(200_000):
            yield chunk  # type: ignore[misc]  # DB-API rows: tuples of three ints
    finally:
        cursor.close()


def active_prefixes(
    conn: Connection, account_id: int, now: datetime
) -> Iterator[tuple[int, str, datetime | None]]:
    rows = conn.execute(
        select(entries.c.group_id, entries.c.number, entries.c.expires_at).where(
            _of_account(account_id),
            entry_key < 0,
            (entries.c.expires_at.is_(None)) | (entries.c.expires_at > now),
        )
    )
    for row in rows:
        yield row.group_id, row.number, row.expires_at


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
    numbers: Sequence[str],
    count: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    sample = list(dict.fromkeys(numbers[:AUDIT_SAMPLE]))
    event_id = conn.execute(
        audit_events.insert()
        .values(
            at=at,
            account_id=account_id,
            key_id=key_id,
            surface=surface,
            action=action,
            group_id=group_id,
            count=len(numbers) if count is None else count,
            sample=json.dumps(sample),
            detail=None if detail is None else json.dumps(detail),
        )
        .returning(audit_events.c.id)
    ).scalar_one()
    if sample:
        conn.execute(audit_numbers.insert(), [{"event_id": event_id, "number": n} for n in sample])


def audit_events_of(
    conn: Connection,
    account_id: int,
    *,
    group_id: int | None,
    number: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Newest first."""
    query = (
        select(audit_events)
        .where(audit_events.c.account_id == account_id)
        .order_by(audit_events.c.id.desc())
    )
    query = _audit_filters(query, group_id, number, since)
    if before_id is not None:
        query = query.where(audit_events.c.id < before_id)
    return [
        AuditEvent(
            id=row.id,
            at=row.at,
            key_id=row.key_id,
            surface=row.surface,
            action=row.action,
            group_id=row.group_id,
            count=row._mapping["count"],  # Row.count is the tuple method
            sample=json.loads(row.sample),
            detail=None if row.detail is None else json.loads(row.detail),
        )
        for row in conn.execute(query.limit(limit))
    ]


def count_audit_events(
    conn: Connection,
    account_id: int,
    *,
    group_id: int | None,
    number: str | None,
    since: datetime | None,
) -> int:
    query = (
        select(func.count())
        .select_from(audit_events)
        .where(audit_events.c.account_id == account_id)
    )
    count: int = conn.execute(_audit_filters(query, group_id, number, since)).scalar_one()
    return count


def _audit_filters(
    query: Any, group_id: int | None, number: str | None, since: datetime | None
) -> Any:
    if group_id is not None:
        query = query.where(audit_events.c.group_id == group_id)
    if number is not None:
        query = query.where(
            audit_events.c.id.in_(
                select(audit_numbers.c.event_id).where(audit_numbers.c.number == number)
            )
        )
    if since is not None:
        query = query.where(audit_events.c.at >= since)
    return query


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


def revoke_tokens(conn: Connection, account_id: int, now: datetime) -> None:
    conn.execute(
        update(tokens)
        .where(tokens.c.account_id == account_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def current_token(conn: Connection, account_id: int) -> tuple[str, int] | None:
    """(jti, key id) of the account's newest token, if it and its key are still active."""
    row = conn.execute(
        select(
            tokens.c.jti,
            tokens.c.key_id,
            api_keys.c.revoked_at,
            tokens.c.revoked_at.label("token_revoked_at"),
        )
        .join(api_keys, api_keys.c.id == tokens.c.key_id)
        .where(tokens.c.account_id == account_id)
        .order_by(tokens.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.revoked_at is not None or row.token_revoked_at is not None:
        return None
    return row.jti, row.key_id


def failures_by_subject(
    conn: Connection, subjects: Sequence[str], since: int
) -> dict[str, list[int]]:
    """The times (POSIX microseconds) of each subject's failures since ``since``, newest first."""
    found: dict[str, list[int]] = {subject: [] for subject in subjects}
    rows = conn.execute(
        select(auth_failures.c.subject, auth_failures.c.at).where(
            auth_failures.c.subject.in_(list(subjects)), auth_failures.c.at >= since
        )
    )
    for row in rows:
        found[row.subject].append(row.at)
    for times in found.values():
        times.sort(reverse=True)
    return found


def hold_auth_subjects(conn: Connection, subjects: Sequence[str]) -> None:
    """Serialise counting failures of these subjects until the transaction ends (SQLite: its
    write lock already does). Sorted, so that two holders cannot wait on each other."""
    if conn.dialect.name == "postgresql":
        for subject in sorted(subjects):
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(subject, 0))))


def record_auth_failure(conn: Connection, subjects: Sequence[str], at: int, forget: int) -> None:
    """Note a failed authentication for each subject; forget their failures before ``forget``."""
    conn.execute(
        auth_failures.delete().where(
            auth_failures.c.subject.in_(list(subjects)), auth_failures.c.at < forget
        )
    )
    conn.execute(auth_failures.insert(), [{"subject": s, "at": at} for s in subjects])


def key_was_revoked(conn: Connection, key_hash: str) -> bool:
    """Whether a key with this hash existed and was revoked."""
    row = conn.execute(
        select(api_keys.c.id).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_not(None)
        )
    ).first()
    return row is not None


def revoke_key(conn: Connection, account_id: int, key_id: int, now: datetime) -> bool | None:
    """Revoke one key of the account: True if it was active, False if already revoked, None
    if the account has no such key. Its tokens end with it (``current_token``)."""
    revoked_at = conn.execute(
        select(api_keys.c.revoked_at).where(
            api_keys.c.id == key_id, api_keys.c.account_id == account_id
        )
    ).first()
    if revoked_at is None:
        return None
    if revoked_at[0] is not None:
        return False
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now))
    return True


def keys_of_account(
    conn: Connection, account_id: int
) -> list[tuple[int, str, datetime, datetime | None]]:
    """(id, prefix, created, revoked) of every key of the account, oldest first."""
    rows = conn.execute(
        select(api_keys.c.id, api_keys.c.prefix, api_keys.c.created_at, api_keys.c.revoked_at)
        .where(api_keys.c.account_id == account_id)
        .order_by(api_keys.c.id)
    )
    return [(row.id, row.prefix, row.created_at, row.revoked_at) for row in rows]


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
