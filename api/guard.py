"""Abuse limits, per process: a source that fails authentication 5 times in 10 minutes is
locked out for 10 minutes, and each key gets a bounded request rate. Both answer 429 with
Retry-After."""

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from api.problems import ApiProblem

FAILURES_ALLOWED = 5
WINDOW_SECONDS = 600.0
LOCKOUT_SECONDS = 600.0


class AuthGuard:
    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, lockout: bool = True
    ) -> None:
        self.per_minute = per_minute
        self.lockout = lockout
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}
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
            failures = self._failures[source]
            failures.append(now)
            while failures and failures[0] <= now - WINDOW_SECONDS:
                failures.popleft()
            if len(failures) >= FAILURES_ALLOWED:
                self._locked_until[source] = now + LOCKOUT_SECONDS
                failures.clear()

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


def too_many(detail: str, seconds: float) -> ApiProblem:
    wait = str(max(1, math.ceil(seconds)))
    return ApiProblem(429, "too-many-requests", "Too many requests", detail, {"Retry-After": wait})
