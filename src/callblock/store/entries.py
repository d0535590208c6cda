"""Entries: bulk upserts (COPY on PostgreSQL, json_each on SQLite), removal, listings,
and the active keys the check index loads.

Each query takes an open connection; the use cases own transactions.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)

from callblock.change import Keys, keys_of
from callblock.domain import (
    Entry,
    EntryBlock,
    EntryFacts,
    EntryStatus,
    GroupNotFound,
    storable,
)
from callblock.numbers import PREFIX_MARK, pattern_key
from callblock.store.rows import StoredKeys, chunks, like_escape
from callblock.store.tables import (
    entries,
    entry_hits,
    entry_key,
    groups,
)
from callblock.timestamps import NEVER, micros


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
            _copy_upsert(conn, rows, keys, expiries, batch, progress)
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
    expiries: Sequence[int | None] | None,
    batch: int,
    progress: Callable[[int], None] | None,
) -> None:
    driver = conn.connection.dbapi_connection
    assert driver is not None
    columns = "number" if expiries is None else "number, expires_at"
    with driver.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS entry_rows "
            "(number BIGINT NOT NULL, expires_at BIGINT) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY entry_rows ({columns}) FROM STDIN") as copy:
            for start in range(0, len(keys), batch):
                end = start + batch
                if expiries is None:  # the keys alone, written out by numpy
                    numbers = np.asarray(keys[start:end], dtype=np.int64).astype(str)
                    copy.write(("\n".join(numbers.tolist()) + "\n").encode())
                else:
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


def group_keys(
    conn: Connection, group_id: int, *, dated: bool = False
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Every entry of the group as its stored key, ascending (``dated``: only those with an
    expiry). Read from the primary key a block at a time (keyset), each block's keys joined
    into one text by the database: a registry of 10**7 is a few texts, not 10**7 rows."""
    statement = _KEY_BLOCK[conn.dialect.name].format(
        dated=" AND expires_at IS NOT NULL" if dated else ""
    )
    parts: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    after = -(2**63)
    while True:
        count, last, text = conn.exec_driver_sql(
            statement, {"group": group_id, "after": after, "size": _KEYS_A_BLOCK}
        ).one()
        if not count:
            break
        block = np.fromstring(text, dtype=np.int64, sep=",")
        if len(block) != count:
            raise ValueError(f"a block of {count} keys read as {len(block)}")
        parts.append(block)
        after = int(last)
    keys = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return np.sort(keys, kind="stable")  # in order already, but no engine promises it


_KEYS_A_BLOCK = 1_000_000
_KEY_BLOCK = {
    "sqlite": "SELECT count(*), max(number), group_concat(number) FROM (SELECT number "
    "FROM entries WHERE group_id = :group AND number > :after{dated} ORDER BY number "
    "LIMIT :size)",
    "postgresql": "SELECT count(*), max(number), string_agg(number::text, ',') FROM (SELECT "
    "number FROM entries WHERE group_id = %(group)s AND number > %(after)s{dated} ORDER BY "
    "number LIMIT %(size)s) AS block",
}


# Keys a statement names go as one text of up to _KEYS_A_STATEMENT keys, written by numpy (a
# list of ints is bound or dumped a Python object at a time): on SQLite a JSON array that
# json_each reads in C, as the upsert's rows; on PostgreSQL an array literal, unpacked and
# packed again by a subquery. The planner cannot count a subquery's elements, so it looks
# each key up in the primary key whatever the table's statistics say. Given as a constant,
# an array of 50,000 keys was costed element by element and, on a fresh 10**7-entry table,
# matched as a filter over every entry of the group instead (2 s for 0.1 s of lookups).
_KEYS_A_STATEMENT = 100_000
_KEYS_IN = {
    "sqlite": "number IN (SELECT value FROM json_each('[' || :keys || ']'))",
    "postgresql": "number = ANY(ARRAY(SELECT unnest(('{' || %(keys)s || '}')::bigint[])))",
}


def _joined_keys(keys: np.ndarray[Any, np.dtype[np.int64]]) -> Iterator[str]:
    for start in range(0, len(keys), _KEYS_A_STATEMENT):
        yield ",".join(keys[start : start + _KEYS_A_STATEMENT].astype(str).tolist())


def delete_group_keys(
    conn: Connection, group_id: int, keys: np.ndarray[Any, np.dtype[np.int64]]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Delete the group's entries with these stored keys; the keys of those there were."""
    engine = conn.dialect.name
    delete = f"DELETE FROM entries WHERE {_GROUP[engine]} AND {_KEYS_IN[engine]} RETURNING number"
    parts: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for joined in _joined_keys(keys):
        parameters = {"group": group_id, "keys": joined}
        if engine == "sqlite":  # no DELETE in a WITH: a row each
            found = conn.exec_driver_sql(delete, parameters).scalars().all()
            parts.append(np.array(found, dtype=np.int64))
            continue
        # The deleted keys come back as one text, not a row each.
        count, text = conn.exec_driver_sql(
            f"WITH gone AS ({delete}) SELECT count(*), string_agg(number::text, ',') FROM gone",
            parameters,
        ).one()
        if count:
            parts.append(np.fromstring(text, dtype=np.int64, sep=","))
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


_GROUP = {"sqlite": "group_id = :group", "postgresql": "group_id = %(group)s"}


def by_primary_key(conn: Connection) -> None:
    """Until the transaction ends, look entries up by the primary key (PostgreSQL): right
    after a bulk import the table's statistics may still say it is small, and the planner
    would scan all of a registry for each block of keys a replace or a change list names
    (a change list of 10**5 lines took 119 s on 10**7 entries, not 1)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")


def count_present(
    conn: Connection, group_id: int, keys: np.ndarray[Any, np.dtype[np.int64]]
) -> int:
    """How many of these stored keys the group holds: primary-key lookups, a cost that
    follows the keys, not the group (counting a registry's 10**7 entries twice did not)."""
    statement = (
        f"SELECT count(*) FROM entries WHERE {_GROUP[conn.dialect.name]} "
        f"AND {_KEYS_IN[conn.dialect.name]}"
    )
    return sum(
        conn.exec_driver_sql(statement, {"group": group_id, "keys": joined}).scalar_one()
        for joined in _joined_keys(keys)
    )


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
    for chunk in chunks(numbers):
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
    for chunk in chunks(numbers):
        statement = entries.delete().where(entries.c.number.in_(chunk))
        if group_id is not None:
            statement = statement.where(entries.c.group_id == group_id)
        else:
            statement = statement.where(_of_account(account_id))
        touched.update(conn.execute(statement.returning(entries.c.group_id)).scalars())
    return sorted(touched)


def delete_expired(conn: Connection, group_id: int, now: datetime) -> Keys:
    """Delete the group's entries whose expiry is at or before ``now``; return their keys,
    in key order.

    One ``DELETE ... RETURNING`` over the group's part of the primary key, read through the
    driver's cursor in chunks into one int64 array: a purge of millions of entries costs no
    row object, and no per-key statement, on either engine.
    """
    statement = (
        entries.delete()
        .where(entries.c.group_id == group_id, entries.c.expires_at <= now)
        .returning(entry_key)
    )
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        blocks = []
        while chunk := cursor.fetchmany(200_000):
            blocks.append(np.fromiter((row[0] for row in chunk), dtype=np.int64, count=len(chunk)))
    finally:
        cursor.close()
    return np.sort(np.concatenate(blocks)) if blocks else keys_of([])


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


def stale_entries(
    conn: Connection,
    group_id: int,
    *,
    since_day: int,
    created_before: datetime,
    after_key: int | None,
    limit: int,
) -> tuple[list[Entry], int]:
    """A page of the group's entries, in key order, made before ``created_before`` that
    matched no check on ``since_day`` (a UTC day number) or later; and how many in all."""
    h = entry_hits.c
    matched = exists().where(
        h.group_id == entries.c.group_id, h.number == entry_key, h.day >= since_day
    )
    wanted = and_(entries.c.group_id == group_id, entries.c.created_at <= created_before, ~matched)
    query = select(*_ENTRY_COLUMNS).where(wanted).order_by(entry_key)
    if after_key is not None:
        query = query.where(entry_key > after_key)
    page = [_entry(row) for row in conn.execute(query.limit(limit))]
    total = int(conn.execute(select(func.count()).select_from(entries).where(wanted)).scalar_one())
    return page, total


def _entry_filters(
    query: Any, status: EntryStatus, texts: Sequence[str] | None, now: datetime
) -> Any:
    if status is EntryStatus.ACTIVE:
        query = query.where((entries.c.expires_at.is_(None)) | (entries.c.expires_at > now))
    elif status is EntryStatus.EXPIRED:
        query = query.where(entries.c.expires_at <= now)
    if texts is not None:
        query = query.where(_number_search(texts))
    return query


def _number_search(texts: Sequence[str]) -> Any:
    """Entries whose pattern (``+919876543210``, ``+91140*``) contains any of ``texts``
    (``numbers.search_texts``), the pattern spelt out from its key as ``key_pattern`` does.

    A text of ``+`` and digits can only start a pattern (no other ``+`` is in one): it is
    matched on the keys themselves, as ranges of integers, which costs a row far less than
    spelling its pattern out again for a second ``LIKE`` (a national spelling has two texts:
    ``09876543210`` and ``+919876543210``)."""
    needles = [text for text in texts if storable(text)]  # others: no pattern holds them
    if not needles:
        return false()
    if "" in needles:
        return true()
    digits = cast(func.abs(entry_key), String)
    pattern = case(
        (entry_key < 0, literal("+") + digits + literal(PREFIX_MARK)),
        else_=literal("+") + digits,
    )
    return or_(
        *(
            _starting_with(text)
            if _PATTERN_START.fullmatch(text)
            else pattern.like("%" + like_escape(text) + "%", escape="\\")
            for text in needles
        )
    )


# The start of a pattern: `+`, digits not starting with 0, and maybe the prefix mark.
_PATTERN_START = re.compile(r"\+[1-9][0-9]{0,14}\*?")
_KEY_DIGITS = 15  # the most digits of an E.164 number, so of a stored key


def _starting_with(start: str) -> Any:
    """Entries whose pattern starts with ``start`` (``+9198765``, or ``+91140*``), by key: a
    number's or a prefix's digits start with those of ``start`` when, with ``j`` more digits,
    they are between ``D * 10**j`` and ``(D + 1) * 10**j`` (a prefix's key is negated)."""
    if start.endswith(PREFIX_MARK):  # only that prefix entry itself
        return entry_key == -int(start[1 : -len(PREFIX_MARK)])
    lead = int(start[1:])
    ranges = [
        (lead * 10**more, (lead + 1) * 10**more) for more in range(_KEY_DIGITS - len(start) + 2)
    ]
    return or_(
        *(entry_key.between(low, high - 1) for low, high in ranges),
        *(entry_key.between(1 - high, -low) for low, high in ranges),
    )


def list_entries(
    conn: Connection,
    group_id: int,
    *,
    status: EntryStatus,
    texts: Sequence[str] | None,
    now: datetime,
    after_key: int | None,
    limit: int,
) -> list[Entry]:
    """A page of the group's entries in key order: prefixes first, then numbers ascending;
    with ``texts``, only those whose pattern contains one of them."""
    query = select(*_ENTRY_COLUMNS).where(entries.c.group_id == group_id).order_by(entry_key)
    if after_key is not None:
        query = query.where(entry_key > after_key)
    query = _entry_filters(query, status, texts, now).limit(limit)
    return [_entry(row) for row in conn.execute(query)]


def count_entries(
    conn: Connection,
    group_id: int,
    *,
    status: EntryStatus,
    texts: Sequence[str] | None,
    now: datetime,
) -> int:
    query = select(func.count()).select_from(entries).where(entries.c.group_id == group_id)
    count: int = conn.execute(_entry_filters(query, status, texts, now)).scalar_one()
    return count


def entries_of_group(conn: Connection, group_id: int) -> Iterator[Entry]:
    """Every entry of the group, in key order, streamed."""
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        select(*_ENTRY_COLUMNS).where(entries.c.group_id == group_id).order_by(entry_key)
    )
    for row in result:
        yield _entry(row)


# Entries an export reads at a time: the keys' text is about 1.3 MB, the CSV about 9 MB.
EXPORT_BLOCK = 100_000
_BEFORE_EVERY_KEY = -(2**63)  # below any stored key (15 digits at most)
_FACTS = "number, expires_at, note, source, created_at, updated_at"
# An entry has the given facts (``EntryFacts``, by name).
_HAS = (
    "(number < 0) = {prefix} AND expires_at {same} {expires_at} AND note {same} {note} "
    "AND source = {source} AND created_at = {created_at} AND updated_at = {updated_at}"
)
_SQLITE_HAS = _HAS.format(same="IS", **{name: f":{name}" for name in EntryFacts._fields})
_POSTGRES_HAS = _HAS.format(
    same="IS NOT DISTINCT FROM", **{name: f"%({name})s" for name in EntryFacts._fields}
)
# The next block: how many entries, its last key, every key in key order as one text, and
# how many entries lack the given facts (NULL: not counted). The aggregates take the rows in
# the order of the ordered subquery they read (SQLite's aggregate loop; PostgreSQL's Aggregate
# over a Limit over the index scan): an ORDER BY inside string_agg would sort them again,
# which doubled PostgreSQL's time (before version 16, which sees they are in order).
# SQLite reads only the keys here, and the others apart: a scan of the keys alone costs about
# half a scan of whole rows. PostgreSQL counts the others in the same scan (cheaper than a
# second one: its index scan visits every row in the table anyway), and only a block that has
# some reads them again.
_BLOCK = {
    "sqlite": "SELECT count(*), max(number), group_concat(number, ','), NULL FROM (SELECT "
    "number FROM entries WHERE group_id = :group AND number > :after ORDER BY number "
    "LIMIT :size)",
    "postgresql": "SELECT count(*), max(number), string_agg(number::text, ','), "
    f"count(*) FILTER (WHERE NOT ({_POSTGRES_HAS})) FROM (SELECT * FROM entries "
    "WHERE group_id = %(group)s AND number > %(after)s ORDER BY number LIMIT %(size)s) AS block",
}
# The block's entries that lack the given facts, in key order.
_OTHERS = {
    "sqlite": f"SELECT {_FACTS} FROM entries WHERE group_id = :group AND number > :after "
    f"AND number <= :end AND NOT ({_SQLITE_HAS}) ORDER BY number",
    "postgresql": f"SELECT {_FACTS} FROM entries WHERE group_id = %(group)s "
    f"AND number > %(after)s AND number <= %(end)s AND NOT ({_POSTGRES_HAS}) ORDER BY number",
}
_LAST_ENTRY = {
    "sqlite": f"SELECT {_FACTS} FROM entries WHERE group_id = :group ORDER BY number DESC LIMIT 1",
    "postgresql": f"SELECT {_FACTS} FROM entries WHERE group_id = %(group)s "
    "ORDER BY number DESC LIMIT 1",
}


def entry_blocks(conn: Connection, group_id: int, size: int | None = None) -> Iterator[EntryBlock]:
    """Every entry of the group, in key order, ``size`` (``EXPORT_BLOCK``) at a time: the
    memory it takes does not grow with the group.

    Each block is read by key from the primary key (keyset: from where the last one ended):
    its keys, joined into one text by the database, then the entries whose facts differ
    from those most entries of the last block had (for the first block, the facts of the
    group's last entry: a number's, if it has any). A group written by a few imports is then
    mostly text; one whose entries all differ costs a row each, as a listing does. The
    connection must hold one snapshot (``Store.snapshot``) for the blocks to be one version.
    """
    size = EXPORT_BLOCK if size is None else size
    dialect = conn.dialect.name
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect == "postgresql":
            # Right after a bulk import the table's statistics may still say it is small, and
            # the planner would then sort all the rest of the group for every block.
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(_LAST_ENTRY[dialect], {"group": group_id})
        last = cursor.fetchone()
        if last is None:
            return
        common = _facts(last)
        after = _BEFORE_EVERY_KEY
        while True:
            place = {"group": group_id, "after": after, "size": size}
            cursor.execute(_BLOCK[dialect], place | common._asdict())
            block = cursor.fetchone()
            assert block is not None  # an aggregate: always one row
            count, end, keys, lacking = block
            if not count:
                return
            others = []
            if lacking != 0:
                cursor.execute(_OTHERS[dialect], place | {"end": end} | common._asdict())
                others = [(row[0], _facts(row)) for row in cursor.fetchall()]
            yield EntryBlock(keys, count, common, others)
            if 2 * len(others) > count:  # the group's entries changed facts: follow them
                sample = others[:: 1 + len(others) // 1000]
                common = Counter(facts for _, facts in sample).most_common(1)[0][0]
            after = end
    finally:
        cursor.close()


def _facts(row: Any) -> EntryFacts:
    return EntryFacts(row[0] < 0, *row[1:])


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
    # no row objects (the statement holds only integers, rendered in place). On PostgreSQL a
    # named (server-side) cursor: a plain one receives the whole result before the first
    # chunk, 10 GB for a registry of 10**8 entries.
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="callblock_active_numbers")  # type: ignore[union-attr]
    else:
        cursor = dbapi.cursor()  # type: ignore[union-attr]
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
