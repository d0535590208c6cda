"""Tables of the store (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false, type_coerce
from sqlalchemy.types import TypeDecorator

from callblock.numbers import key_pattern, pattern_key
from callblock.timestamps import from_micros, micros

# A BIGINT primary key is not SQLite's rowid alias and would not autoincrement there.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every engine.

    Stored naive-in-UTC so that SQLite's text form compares in time order.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class PatternKey(TypeDecorator[str]):
    """An entry's pattern (``+919876543210`` or ``+91140*``) stored as ``pattern_key``.

    Eight bytes at most instead of a string of up to 16, and integer comparisons in the
    primary key: the entry table is most of the database.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else pattern_key(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else key_pattern(int(value))


class UTCMicros(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as POSIX microseconds (BIGINT): exact, compact, and in
    the form the check index holds expiries, so loading it converts nothing."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(int(value))


accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("region", String(2), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("auth_mode", String(16), nullable=False),
    # Inbound checks of a withheld caller ID answer blocked.
    Column("block_anonymous", Boolean, nullable=False, server_default=false()),
    # The change counter: bumped by every write to the account's groups or entries.
    Column("data_version", BigInteger, nullable=False, server_default="0"),
    # Bumped when the account's keys, mode or settings change: every process drops the
    # credentials it cached for the account when it sees this move (the index refresher).
    Column("auth_version", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    # Ids are never reused on SQLite either: an old id must not name a new group.
    sqlite_autoincrement=True,
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # SHA-256 of the key: keys carry 256 random bits, so a fast hash is the right tool.
    Column("key_hash", String(64), nullable=False, unique=True),
    # The first characters of the key, to tell keys apart in listings; not a secret.
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    # Who or what holds the key ("Dialer, floor 2"); "" for none: named by its id.
    Column("label", String(64), nullable=False, server_default=""),
    # The scopes given at issue (domain.Scope values, sorted, comma-separated); what the
    # key may do is these with those they include (domain.granted).
    Column("scopes", String(32), nullable=False, server_default="admin,check,read,write"),
    # When the store last confirmed the key (usecases.key_use: late by up to a minute).
    Column("last_used_at", UTCDateTime, nullable=True),
    sqlite_autoincrement=True,
)

groups = Table(
    "groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    # NFC + casefold of the name: uniqueness per account is case-insensitive.
    Column("name_key", String(200), nullable=False),
    Column("description", String(200), nullable=False),
    Column("direction", String(16), nullable=False, server_default="both"),
    # block | allow (domain.GroupKind), global | attached (domain.GroupScope).
    Column("kind", String(8), nullable=False, server_default="block"),
    Column("scope", String(16), nullable=False, server_default="global"),
    Column("consent_overrides", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When an import from a file last wrote the group (add, replace or change list), and the
    # file's name (NULL when the client did not say it): a registry's freshness. NULL: never.
    Column("refreshed_at", UTCDateTime, nullable=True),
    Column("refreshed_from", String(255), nullable=True),
    UniqueConstraint("account_id", "name_key", name="uq_groups_account_name"),
    sqlite_autoincrement=True,
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("name_key", String(200), nullable=False),  # as groups.name_key
    Column("description", String(200), nullable=False),
    # JSON: the calling window's wire form (calling_hours.CallingWindow.to_wire); NULL: none.
    Column("calling_window", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "name_key", name="uq_campaigns_account_name"),
    sqlite_autoincrement=True,
)

# The groups attached to each campaign. Deleting a group deletes its attachments with it
# (store.groups.delete_group); deleting a campaign, by cascade.
campaign_groups = Table(
    "campaign_groups",
    metadata,
    Column(
        "campaign_id",
        Id,
        ForeignKey("campaigns.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("group_id", Id, primary_key=True, autoincrement=False),
    Index("ix_campaign_groups_group_id", "group_id"),
)

entries = Table(
    "entries",
    metadata,
    # The group's entries sit together in primary-key order, without a separate rowid tree:
    # one B-tree per entry to write, which is what bulk imports come down to.
    # No foreign key: PostgreSQL checks one per inserted row, which more than doubles a bulk
    # write. The store keeps every entry's group in existence itself: writing entries locks
    # the group's row (queries.write_entries), deleting a group deletes its row first, then
    # its entries (queries.delete_group), so neither can slip between the other's steps.
    Column("group_id", Id, primary_key=True, autoincrement=False),
    Column("number", PatternKey, primary_key=True, autoincrement=False),
    Column("expires_at", UTCMicros, nullable=True),
    Column("note", String(500), nullable=True),
    Column("source", String(16), nullable=False),
    Column("created_at", UTCMicros, nullable=False),
    Column("updated_at", UTCMicros, nullable=False),
    sqlite_with_rowid=False,
)

# ``entries.c.number`` as the raw integer key, for ordering, cursors and sign tests.
entry_key = type_coerce(entries.c.number, BigInteger)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("key_id", Id, nullable=True),
    Column("surface", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    # No foreign key: the history of a group outlives the group.
    Column("group_id", Id, nullable=True),
    Column("count", Integer, nullable=False),
    # JSON list of up to AUDIT_SAMPLE numbers touched.
    Column("sample", Text, nullable=False),
    # JSON object with what else the change needs to be understood (a rename's old name).
    Column("detail", Text, nullable=True),
    Index("ix_audit_events_account_id_id", "account_id", "id"),
    sqlite_autoincrement=True,
)

# The sampled numbers of each audit event, one row each, so history can be filtered by number.
audit_numbers = Table(
    "audit_numbers",
    metadata,
    Column(
        "event_id",
        Id,
        ForeignKey("audit_events.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("number", String(32), primary_key=True),
    Index("ix_audit_numbers_number", "number"),
)

# Issued tokens: the newest one of an account is the only valid one, and the rows of the last
# hour are the rolling window of the generation limit. Older rows are pruned on issue.
tokens = Table(
    "tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # The API key that generated the token: revoking the key ends its tokens.
    Column("key_id", Id, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
    Column("jti", String(64), nullable=False, unique=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # Set when the account's mode changes: such a token never works again.
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_tokens_account_issued", "account_id", "issued_at"),
    sqlite_autoincrement=True,
)

# Failed authentications of the last minute, one row per subject ("user:NAME" or
# "address:IP"): the brute-force limit, shared by every worker and node through the store.
# Rows older than the window are deleted as new failures of their subject arrive.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject", String(320), nullable=False),
    Column("at", BigInteger, nullable=False),  # POSIX microseconds
    Index("ix_auth_failures_subject_at", "subject", "at"),
    sqlite_autoincrement=True,
)

# Secrets every worker and node must share (the token signing key when none is configured).
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The change log: every write of an account's groups, entries or check settings, in full
# (``change.Change``), numbered by the account's ``data_version`` after it. A version is taken
# under the account's row lock in the write's own transaction, so versions are gap-free and in
# commit order per account. Kept for ``CALLBLOCK_CHANGE_LOG_RETENTION_DAYS``; pruning never
# touches the audit log.
changes = Table(
    "changes",
    metadata,
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False),  # POSIX microseconds
    Column("key_id", Id, nullable=True),
    Column("surface", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("group_id", Id, nullable=True),  # None: every group of the account (a removal)
    Column("added", BigInteger, nullable=False),  # of the upserted keys, how many were new
    Column("dropped", BigInteger, nullable=False),  # a deleted group's entry count
    Column("note", String(500), nullable=True),
    # JSON: the group's state after the change, the account setting it set, and what the
    # history needs to read it (a rename's previous name).
    Column("detail", Text, nullable=False),
    Index("ix_changes_at", "at"),
)

# The keys of a change, in blocks of up to ``store.changes.BLOCK_KEYS`` keys: int64 arrays
# (``numbers.pattern_key``) delta-encoded and compressed, with the upserts' expiries (POSIX
# microseconds, NEVER for none) in a parallel array, NULL when none expires. A million-key
# import is 16 rows, not a million. On PostgreSQL both are STORAGE EXTERNAL (migration 0007):
# they arrive compressed.
change_keys = Table(
    "change_keys",
    metadata,
    Column("account_id", Id, primary_key=True, autoincrement=False),
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("block", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(8), nullable=False),  # "upsert" or "remove"
    Column("keys", LargeBinary, nullable=False),
    Column("expiries", LargeBinary, nullable=True),
    ForeignKeyConstraint(
        ["account_id", "version"],
        ["changes.account_id", "changes.version"],
        name="fk_change_keys_changes",
        ondelete="CASCADE",
    ),
)

# Checks counted: each process adds what it counted since its last flush (additive upserts,
# so any number of workers and nodes add up). One row per account, level (m: a minute, h: an
# hour, d: a UTC day), bucket start (POSIX seconds), group and campaign. group_id 0 is every
# check (checks, blocked, invalid); another group's row counts the checks it matched
# (matched). campaign_id 0 is every check; another campaign's row, the checks made for it.
check_counts = Table(
    "check_counts",
    metadata,
    Column("account_id", Id, primary_key=True, autoincrement=False),
    Column("level", String(1), primary_key=True),
    Column("start", BigInteger, primary_key=True, autoincrement=False),
    Column("group_id", Id, primary_key=True, autoincrement=False),
    Column("campaign_id", Id, primary_key=True, autoincrement=False),
    Column("checks", BigInteger, nullable=False),
    Column("blocked", BigInteger, nullable=False),
    Column("invalid", BigInteger, nullable=False),
    Column("matched", BigInteger, nullable=False),
)

# The days on which an entry matched a check (UTC day numbers since 1970), and how many
# single checks it matched that day: the last such day tells a stale entry, the counts the
# entries that stop the most calls. A batch check marks the day with no count (hits 0).
entry_hits = Table(
    "entry_hits",
    metadata,
    Column("group_id", Id, primary_key=True, autoincrement=False),
    Column("number", BigInteger, primary_key=True, autoincrement=False),  # numbers.pattern_key
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("account_id", Id, nullable=False),
    Column("hits", BigInteger, nullable=False),
    Index("ix_entry_hits_account_id_day", "account_id", "day"),
)
