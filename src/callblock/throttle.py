"""Limits on how fast a client may try: failed authentications and an account's requests.

Failed authentications are counted in the store, so that every worker and node sees the same
count (``usecases.failures.FailureLimit`` applies the rules here). An account's request rate
is kept in each process's memory (``RequestRate``): counting it in the store would put the
store on the path of every check, which must never wait on it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# After this many failed authentications within the window, for one username or from one
# client address, further wrong attempts are refused until the oldest of them leaves the
# window, and so are right ones naming that username; never a right one for its address alone
# (``usecases.failures``). The default of CALLBLOCK_AUTH_FAILURES_PER_MINUTE.
AUTH_FAILURES_ALLOWED = 10
AUTH_FAILURE_WINDOW_MICROS = 60 * 1_000_000
_SUBJECT_CHARS = 300  # of a username or address kept; longer ones are cut


def auth_subjects(username: str | None, address: str | None) -> list[str]:
    """What one attempt counts against: its username and its client address, when known."""
    subjects = []
    if username:
        subjects.append("user:" + _kept(username))
    if address:
        subjects.append("address:" + _kept(address))
    return subjects


def _kept(text: str) -> str:
    """Text as a subject the store can keep: cut short, with NUL and lone surrogates (which no
    engine can store) spelt as escapes. Two names that differ only there may share a count."""
    cut = text[:_SUBJECT_CHARS].encode("utf-8", "backslashreplace").decode("utf-8")
    return cut.replace("\x00", "\\x00")


def auth_retry_after(failures: Sequence[int], now: int, allowed: int) -> int | None:
    """Seconds until a subject with these failure times (newest first, POSIX microseconds)
    may try again, or None if it may try now."""
    if len(failures) < allowed:
        return None
    # The attempt is allowed again once fewer than the allowed number remain in the window.
    frees_at = failures[allowed - 1] + AUTH_FAILURE_WINDOW_MICROS
    return max(1, math.ceil((frees_at - now) / 1_000_000))


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RequestRate:
    """A token bucket per account: ``per_second`` sustained, bursts up to ``burst``.

    Per process: with N worker processes an account may send up to N times the rate.
    ``per_second`` of 0 turns the limit off.
    """

    def __init__(
        self,
        per_second: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, account_id: int) -> int | None:
        """Take one request from the account's bucket: None if admitted, else the seconds
        to wait before the next one would be."""
        if self.per_second <= 0:
            return None
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(account_id)
            if bucket is None:
                bucket = self._buckets[account_id] = _Bucket(self.burst, now)
            bucket.tokens = min(
                self.burst, bucket.tokens + (now - bucket.updated) * self.per_second
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))
