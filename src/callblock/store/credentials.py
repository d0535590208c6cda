"""Tokens, failed authentications, key revocation and server secrets.

Each query takes an open connection; the use cases own transactions.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Connection,
    func,
    select,
    update,
)

from callblock.domain import KeyGrant, Scope, scopes_from_text
from callblock.store.rows import dialect_insert
from callblock.store.tables import (
    api_keys,
    auth_failures,
    server_secrets,
    tokens,
)


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


def current_token(conn: Connection, account_id: int) -> tuple[str, KeyGrant] | None:
    """(jti, its key's grant) of the account's newest token, if it and its key are still
    active."""
    row = conn.execute(
        select(
            tokens.c.jti,
            tokens.c.key_id,
            api_keys.c.label,
            api_keys.c.scopes,
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
    return row.jti, KeyGrant(row.key_id, row.label, scopes_from_text(row.scopes))


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


def mark_keys_used(conn: Connection, used: dict[int, datetime]) -> None:
    """Record when each key was last used (a time never goes back)."""
    for key_id, at in used.items():
        conn.execute(
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                (api_keys.c.last_used_at.is_(None)) | (api_keys.c.last_used_at < at),
            )
            .values(last_used_at=at)
        )


def keys_of_account(
    conn: Connection, account_id: int
) -> list[tuple[int, str, datetime, datetime | None, str, frozenset[Scope], datetime | None]]:
    """(id, prefix, created, revoked, label, scopes, last used) of every key of the account,
    oldest first."""
    rows = conn.execute(
        select(
            api_keys.c.id,
            api_keys.c.prefix,
            api_keys.c.created_at,
            api_keys.c.revoked_at,
            api_keys.c.label,
            api_keys.c.scopes,
            api_keys.c.last_used_at,
        )
        .where(api_keys.c.account_id == account_id)
        .order_by(api_keys.c.id)
    )
    return [
        (
            row.id,
            row.prefix,
            row.created_at,
            row.revoked_at,
            row.label,
            scopes_from_text(row.scopes),
            row.last_used_at,
        )
        for row in rows
    ]


def server_secret(conn: Connection, name: str, candidate: str, now: datetime) -> str:
    """The stored secret ``name``; ``candidate`` becomes it if none is stored yet."""
    insert = dialect_insert(conn)
    conn.execute(
        insert(server_secrets)
        .values(name=name, value=candidate, created_at=now)
        .on_conflict_do_nothing(index_elements=[server_secrets.c.name])
    )
    value: str = conn.execute(
        select(server_secrets.c.value).where(server_secrets.c.name == name)
    ).scalar_one()
    return value
