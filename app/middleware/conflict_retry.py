"""Retry a request whose transaction lost a serialization failure or deadlock (40001, 40P01).

The database error handler answers such a request 409 `concurrent-update` and marks the attempt
retryable in its scope state. This middleware, inside every other one, then discards that answer
and runs the request again (its transaction was rolled back whole, so nothing of the failed
attempt remains), a bounded number of times with a short randomised pause; the last attempt's
409 is what the client sees. Bodies are small JSON documents (BodyLimitMiddleware bounds them),
so the body is read once and handed to every attempt.
"""

import asyncio
import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import RETRYABLE
from app.middleware.body_limit import replay_body

# What routing writes on the scope: the route matched, and FastAPI's effective route (its full path).
ROUTING_KEYS = ("route", "fastapi")


class ConflictRetryMiddleware:
    def __init__(self, app: ASGIApp, attempts: int = 3, pause_seconds: float = 0.02) -> None:
        self.app = app
        self.attempts = attempts
        self.pause_seconds = pause_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        for attempt in range(1, self.attempts + 1):
            attempt_scope = {**scope, "state": dict(scope.get("state", {}))}
            last = attempt == self.attempts
            try:
                retry = await self._attempt(attempt_scope, replay_body(body, receive), send, last)
            finally:  # the route the attempt matched, for the request's metrics and log line (outside)
                for key in ROUTING_KEYS:
                    if key in attempt_scope:
                        scope[key] = attempt_scope[key]
            if not retry:
                return
            await asyncio.sleep(random.uniform(0.5, 1.5) * self.pause_seconds * attempt)  # noqa: S311 (jitter, not crypto)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, last: bool) -> bool:
        """Run one attempt; True when its answer was swallowed so that the request runs again."""
        swallowed = False

        async def send_unless_retried(message: Message) -> None:
            nonlocal swallowed
            if message["type"] == "http.response.start" and not last and scope["state"].get(RETRYABLE):
                swallowed = True
            if not swallowed:
                await send(message)

        await self.app(scope, receive, send_unless_retried)
        return swallowed


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
