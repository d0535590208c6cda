"""The credential cache: keys this process checked recently, so a check never waits on the
store for them.

A key checked within AUTH_CACHE_SECONDS answers from memory. Past that, a check goes on with
the cached answer while the key is checked again in the background (one re-check at a time per
key); past STALE_AUTH_SECONDS without a successful re-check, the key must be checked before it
is used again. One lock: the set of keys being re-checked.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from callblock.domain import Account, Actor, DomainError, KeyGrant, Surface

# How long a process trusts a key it has already checked before asking the store again: the
# bound on how late a key revoked, or an account changed, through another process is noticed
# (the index refresher usually notices sooner: see ``Checker.refresh``).
AUTH_CACHE_SECONDS = 1.0
# While the store is unreachable, credentials this process checked within this long still
# authenticate (checks go on from memory; writes fail at the store regardless).
STALE_AUTH_SECONDS = 15 * 60.0
RECHECK_THREAD = "key-recheck"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class CredentialCache:
    def __init__(self) -> None:
        # key hash -> (monotonic time checked, account, what the key may do)
        self._known: dict[str, tuple[float, Account, KeyGrant]] = {}
        self._rechecking: set[str] = set()
        self._rechecking_lock = threading.Lock()

    def fresh(self, key: str, surface: Surface) -> Actor | None:
        """The actor for a key checked within AUTH_CACHE_SECONDS, or None."""
        known = self._known.get(hash_key(key))
        if known is None or time.monotonic() - known[0] >= AUTH_CACHE_SECONDS:
            return None
        return Actor.with_key(known[1], known[2], surface)

    def recent(self, key: str, surface: Surface, within: float) -> Actor | None:
        """The actor for a key checked within ``within`` seconds, or None."""
        known = self._known.get(hash_key(key))
        if known is None or time.monotonic() - known[0] >= within:
            return None
        return Actor.with_key(known[1], known[2], surface)

    def remember(self, key: str, actor: Actor) -> None:
        """Trust a key for AUTH_CACHE_SECONDS: only once it has passed the failed-attempt
        limit too, or a right key refused for its username's lockout would be let in by its
        next request."""
        assert actor.key_id is not None
        grant = KeyGrant(actor.key_id, actor.key_label, actor.scopes)
        self._known[hash_key(key)] = (time.monotonic(), actor.account, grant)

    def drop(self, key: str) -> None:
        self._known.pop(hash_key(key), None)

    def forget_account(self, account_id: int) -> None:
        """Forget every key of the account: its keys, mode or settings changed."""
        for key_hash, (_, account, _) in list(self._known.items()):
            if account.id == account_id:
                self._known.pop(key_hash, None)

    def for_check(self, key: str, surface: Surface, verify: Callable[[str], Actor]) -> Actor | None:
        """The actor for a check with a key this process knows, never waiting on the store;
        past AUTH_CACHE_SECONDS ``verify`` runs again in the background while this answer
        goes on. None: the key must be checked first."""
        key_hash = hash_key(key)
        known = self._known.get(key_hash)
        if known is None:
            return None
        age = time.monotonic() - known[0]
        if age >= STALE_AUTH_SECONDS:
            return None
        if age >= AUTH_CACHE_SECONDS:
            self._recheck_in_background(key, key_hash, verify)
        return Actor.with_key(known[1], known[2], surface)

    def _recheck_in_background(
        self, key: str, key_hash: str, verify: Callable[[str], Actor]
    ) -> None:
        with self._rechecking_lock:
            if key_hash in self._rechecking:
                return
            self._rechecking.add(key_hash)

        def recheck() -> None:
            try:
                # Refreshes the cache, or drops the key. A key known here is not an attempt.
                self.remember(key, verify(key))
            except DomainError:
                pass  # refused or store away: the cache says what to do next
            finally:
                with self._rechecking_lock:
                    self._rechecking.discard(key_hash)

        threading.Thread(target=recheck, name=RECHECK_THREAD, daemon=True).start()
