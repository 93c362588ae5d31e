"""Abuse limits, per process: a source that fails authentication 5 times in 10 minutes is
locked out for 10 minutes, each key gets a bounded request rate, and so do each source's
requests without a key. All answer 429 with Retry-After. What they remember is bounded: a
source is forgotten once its failures have left the window and its lockout has ended, and
at most MAX_SOURCES are remembered (a scanner spraying addresses would otherwise grow the
process without end)."""

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import ApiProblem, on_api_problem

FAILURES_ALLOWED = 5
WINDOW_SECONDS = 600.0
LOCKOUT_SECONDS = 600.0
MAX_SOURCES = 100_000
NO_KEY_PER_MINUTE = 120  # a source's requests without a key (a board's page, health checks)
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
        # Token buckets: (tokens, when counted), the least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._no_key: OrderedDict[str, tuple[float, float]] = OrderedDict()
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
        detail = "request rate limit reached for this key"
        self._take(self._buckets, key_hash, self.per_minute, detail)

    def spend_without_key(self, source: str) -> None:
        """A token bucket per source for requests that send no key: each is logged, so
        without a budget one source could grow the access log as fast as it can send."""
        if self.lockout:
            detail = "request rate limit reached for requests without a key from this source"
            self._take(self._no_key, source, NO_KEY_PER_MINUTE, detail)

    def _take(
        self, buckets: "OrderedDict[str, tuple[float, float]]", name: str, size: int, detail: str
    ) -> None:
        """One token of ``name``'s bucket: ``size`` a minute, refilled continuously."""
        now, rate = self.clock(), size / 60.0
        with self._lock:
            tokens, at = buckets.pop(name, (float(size), now))
            tokens = min(float(size), tokens + (now - at) * rate)
            if len(buckets) >= MAX_SOURCES:
                buckets.popitem(last=False)
            buckets[name] = (tokens - 1.0 if tokens >= 1.0 else tokens, now)
        if tokens < 1.0:
            raise too_many(detail, (1.0 - tokens) / rate)


class NoKeyBudget:
    """Spends the source's budget for each request without a key, before the access log: a
    request beyond it is answered 429 unlogged (an entry each would be the growth the budget
    bounds). Requests with a key have the lockout (wrong keys) and their key's bucket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not sends_key(scope):
            client = scope.get("client")
            guard: AuthGuard = scope["app"].state.guard
            try:
                guard.spend_without_key(client[0] if client else "unknown")
            except ApiProblem as refused:
                await on_api_problem(Request(scope), refused)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def sends_key(scope: Scope) -> bool:
    """Whether the request has an Authorization header: a look at the names, on every request,
    not a dict of all the headers."""
    return any(name == b"authorization" for name, _ in scope["headers"])


def first(entries: "OrderedDict[str, T]") -> T:
    return next(iter(entries.values()))


def too_many(detail: str, seconds: float) -> ApiProblem:
    wait = str(max(1, math.ceil(seconds)))
    return ApiProblem(429, "too-many-requests", "Too many requests", detail, {"Retry-After": wait})
