"""The failed-authentication limit, shared by every worker and node through the store.

Failures count against the username and the client address. Once either has the allowed
number in the window, a wrong credential for it is refused (AuthThrottled) until the oldest
leaves the window; a failure is counted and written in one transaction that holds its
subjects, so attempts racing from many connections cannot get more than the allowed number
of answers between them.

A credential that proves itself is let through whatever its address did: every credential
this service takes is a secret it made (an API key of 256 random bits, a token it signed),
which no number of guesses finds, so refusing the right one protects nothing and locks a
host's other dialers out with one misconfigured neighbour. An attacker gains nothing by it:
its wrong guesses are still counted and throttled, and a right answer ends no count (an
account of its own cannot reset its address). The username's limit still holds for the right
credential too: a username under attack stays limited (only credentials that name a username,
HTTP Basic and tokens, are counted against one).

One lock: failures this process could not save while the store was away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from callblock.domain import (
    Actor,
    AuthenticationFailed,
    AuthThrottled,
    CredentialRetired,
    StoreUnavailable,
)
from callblock.store import Store
from callblock.store import credentials as credential_rows
from callblock.throttle import AUTH_FAILURE_WINDOW_MICROS, auth_retry_after, auth_subjects
from callblock.timestamps import micros

log = logging.getLogger("callblock.auth")


def _refuse_if_throttled(failures: dict[str, list[int]], now: int, allowed: int) -> None:
    waits = [wait for times in failures.values() if (wait := auth_retry_after(times, now, allowed))]
    if waits:
        raise AuthThrottled(max(waits))


class FailureLimit:
    def __init__(self, store: Store, clock: Callable[[], datetime], allowed: int) -> None:
        self._store = store
        self._clock = clock
        self._allowed = allowed
        # subject -> failure times the store could not take (see _count_failure)
        self._unsaved: dict[str, list[int]] = {}
        self._unsaved_lock = threading.Lock()

    def attempt(
        self, username: str | None, address: str | None, verify: Callable[[], Actor]
    ) -> Actor:
        """Run one credential check under the limit (see the module's docstring)."""
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
        # Proven: only the username's count can refuse it, never its address's (and with no
        # username, nothing is read: a key alone goes on without the store).
        limiting = auth_subjects(username, None)
        if not limiting:
            return actor
        now = micros(self._clock())
        try:
            with self._store.read() as conn:
                found = credential_rows.failures_by_subject(
                    conn, limiting, now - AUTH_FAILURE_WINDOW_MICROS
                )
        except StoreUnavailable:
            found = {}  # the credential was checked from memory: count what this process saw
        _refuse_if_throttled(self._with_unsaved(found, limiting, now), now, self._allowed)
        return actor

    def _count_failure(self, subjects: list[str]) -> None:
        now = micros(self._clock())
        try:
            with self._store.write() as conn:
                credential_rows.hold_auth_subjects(conn, subjects)
                found = credential_rows.failures_by_subject(
                    conn, subjects, now - AUTH_FAILURE_WINDOW_MICROS
                )
                # Refused attempts are not counted again.
                found = self._with_unsaved(found, subjects, now)
                _refuse_if_throttled(found, now, self._allowed)
                credential_rows.record_auth_failure(
                    conn, subjects, now, forget=now - AUTH_FAILURE_WINDOW_MICROS
                )
        except StoreUnavailable:
            # The store cannot take the count (a locked or full database): this process keeps
            # it until the window passes, so that the limit holds through an outage too.
            found = self._with_unsaved({}, subjects, now)
            _refuse_if_throttled(found, now, self._allowed)
            with self._unsaved_lock:
                for subject in subjects:
                    self._unsaved.setdefault(subject, []).append(now)
            log.warning("a failed authentication is counted in this process: the store is away")

    def _with_unsaved(
        self, found: dict[str, list[int]], subjects: list[str], now: int
    ) -> dict[str, list[int]]:
        """The store's failure times of each subject with those this process could not save."""
        since = now - AUTH_FAILURE_WINDOW_MICROS
        merged = dict(found)
        with self._unsaved_lock:
            for subject in subjects:
                kept = [at for at in self._unsaved.get(subject, ()) if at >= since]
                if kept:
                    self._unsaved[subject] = kept
                else:
                    self._unsaved.pop(subject, None)
                merged[subject] = sorted([*merged.get(subject, []), *kept], reverse=True)
        return merged
