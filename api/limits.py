"""Bounded request bodies: an oversized request gets 413 before any of it is processed."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE, PROBLEM_TYPE


class BodySizeLimit:
    """Refuses by Content-Length up front; a body sent without one is read (up to the limit)
    before the application sees any of it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self.refuse(send)
            else:
                await self.app(scope, receive, send)
            return
        messages = await self.read_within_limit(receive)
        if messages is None:
            await self.refuse(send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def read_within_limit(self, receive: Receive) -> list[Message] | None:
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            if message["type"] != "http.request" or not message.get("more_body"):
                return messages

    async def refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": PROBLEM_TYPE + "body-too-large",
                "title": "The request body is too large",
                "status": 413,
                "detail": f"bodies are limited to {self.max_bytes} bytes",
            }
        ).encode()
        headers = [
            (b"content-type", MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
