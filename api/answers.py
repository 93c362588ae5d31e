"""A plain ASGI middleware (no extra task per request) that runs a hook as each HTTP answer
starts, before its first byte is sent: the access log and the metrics hang on it."""

import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# (the request's scope, the answer's status, seconds since the request arrived)
Hook = Callable[[Scope, int, float], Awaitable[None]]


class OnAnswer:
    def __init__(self, app: ASGIApp, hook: Hook) -> None:
        self.app = app
        self.hook = hook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        started = False

        async def hooked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                await self.hook(scope, message["status"], time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, hooked)
        except Exception:
            if not started:  # the server answers 500 itself, past this middleware
                await self.hook(scope, 500, time.perf_counter() - start)
            raise
