"""Abuse limits, per process: a source that fails authentication 5 times in 10 minutes is
locked out for 10 minutes, and each key gets a bounded request rate. Both answer 429 with
Retry-After. What they remember is bounded: a source is forgotten once its failures have left
the window and its lockout has ended, and at most MAX_SOURCES are remembered (a scanner
spraying addresses would otherwise grow the process without end)."""

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TypeVar

from api.problems import ApiProblem

FAILURES_ALLOWED = 5
WINDOW_SECONDS = 600.0
LOCKOUT_SECONDS = 600.0
MAX_SOURCES = 100_000
T = TypeVar("T")


class AuthGuard:
    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, lockout: bool = True
    ) -> None:
        self.per_minute = per_minute
        self.lockout = lockout
        self.clock = clock
        # Least recently failed or locked first, so the stale ones are forgotten from the front.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked_until: OrderedDict[str, float] = OrderedDict()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check_source(self, source: str) -> None:
        with self._lock:
            until = self._locked_until.get(source, 0.0)
        if until > self.clock():
            raise too_many("authentication locked after repeated failures", until - self.clock())

    def failed(self, source: str) -> None:
        if not self.lockout:
            return
        now = self.clock()
        with self._lock:
            self._forget_stale(now)
            failures = self._failures.pop(source, deque())
            failures.append(now)
            while failures[0] <= now - WINDOW_SECONDS:
                failures.popleft()
            if len(failures) >= FAILURES_ALLOWED:
                self._locked_until.pop(source, None)
                self._locked_until[source] = now + LOCKOUT_SECONDS
            else:
                self._failures[source] = failures

    def _forget_stale(self, now: float) -> None:
        """The oldest entries, while they are out of date or more than MAX_SOURCES."""
        failures, locks = self._failures, self._locked_until
        while failures and (
            len(failures) >= MAX_SOURCES or first(failures)[-1] <= now - WINDOW_SECONDS
        ):
            failures.popitem(last=False)
        while locks and (len(locks) >= MAX_SOURCES or first(locks) <= now):
            locks.popitem(last=False)

    def spend(self, key_hash: str) -> None:
        """A token bucket per key: ``per_minute`` requests, refilled continuously."""
        now, rate = self.clock(), self.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.get(key_hash, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[key_hash] = (tokens, now)
                raise too_many("request rate limit reached for this key", (1.0 - tokens) / rate)
            self._buckets[key_hash] = (tokens - 1.0, now)


def first(entries: "OrderedDict[str, T]") -> T:
    return next(iter(entries.values()))


def too_many(detail: str, seconds: float) -> ApiProblem:
    wait = str(max(1, math.ceil(seconds)))
    return ApiProblem(429, "too-many-requests", "Too many requests", detail, {"Retry-After": wait})
