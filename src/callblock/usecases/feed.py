"""The public change feed: an account's changes after a token, in version order, for clients
that keep their own copy of the account's groups (``GET /v1/changes``, the SDK's ``Mirror``).

A token is a signed position in the account's change log (``change_tokens``). Each answer is
read in one snapshot of the store (``Store.snapshot``): the account's version, the changes and
their keys agree, so a prune running meanwhile cannot take a change's keys from under it.
A token the log can no longer continue from, because the change after it has been pruned (or
the account's history is not the one the token came from), gets a reset, never a gap.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from callblock.change_tokens import ChangeTokens, Position
from callblock.domain import Actor
from callblock.rules import CHANGE_FEED_ENTRIES
from callblock.store import Store
from callblock.store import accounts as account_rows
from callblock.store import changes as change_rows
from callblock.usecases.results import ChangesPage, FeedItem
from callblock.usecases.server_secret import ServerSecret

log = logging.getLogger("callblock.feed")


class ChangeFeed:
    def __init__(self, store: Store, secret: ServerSecret) -> None:
        self._store = store
        self._secret = secret
        self._tokens: ChangeTokens | None = None

    def changes(
        self,
        actor: Actor,
        *,
        since: str | None,
        group_id: int | None = None,
        limit: int = 100,
        entries: int = CHANGE_FEED_ENTRIES,
    ) -> ChangesPage:
        """The changes after ``since`` (up to ``limit`` changes and ``entries`` entries), or,
        without it, none and the token of the account's current version (where a client that
        has just copied everything starts). ``InvalidChangeToken`` for a token not handed to
        this account."""
        tokens = self._codec()
        account_id = actor.account.id
        position = None if since is None else tokens.decode(account_id, since)
        with self._store.snapshot() as conn:
            current = account_rows.data_version(conn, account_id) or 0
            if position is None:
                return ChangesPage([], tokens.encode(account_id, Position(current)), more=False)
            if _behind_the_log(conn, account_id, position, current):
                log.info(
                    "change feed of account %d: reset (token at version %d, account at %d)",
                    account_id,
                    position.version,
                    current,
                )
                start = tokens.encode(account_id, Position(current))
                return ChangesPage([], start, more=False, reset=True)
            parts, more = change_rows.read_parts(
                conn,
                account_id,
                position.version,
                position.offset,
                limit=limit,
                entries=entries,
                group_id=group_id,
            )
        items = []
        for part in parts:
            version = part.change.version
            after = Position(version) if part.resume is None else Position(version - 1, part.resume)
            items.append(FeedItem(part, tokens.encode(account_id, after)))
        # Caught up: the next read starts at the current version, past any changes a group
        # filter left out.
        following = items[-1].token if more else tokens.encode(account_id, Position(current))
        return ChangesPage(items, following, more=more)

    def _codec(self) -> ChangeTokens:
        if self._tokens is None:  # made twice at worst, from the same secret
            self._tokens = ChangeTokens(self._secret.value())
        return self._tokens


def _behind_the_log(conn: Connection, account_id: int, position: Position, current: int) -> bool:
    """Whether the log cannot continue from ``position``: the change after it is gone while
    the account has moved on (pruned), or the token is ahead of the account (a history the
    account no longer has, such as a database restored from an older backup)."""
    if position.version > current:
        return True
    if position.version == current and position.offset == 0:
        return False  # caught up: nothing to continue
    return not change_rows.has_change(conn, account_id, position.version + 1)
