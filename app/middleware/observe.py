"""One log line and the metrics of every request (app.core.metrics, app.core.logging).

Just inside RequestIdMiddleware: it sees the request id, the claims TenantContextMiddleware put
on the scope (tenant and user of a verified token), the route the router matched (its template,
never the raw path: no ids or tokens in labels or logs) and every answer, a 413 or a 500 included.
The 402 and 429 bodies are read for their problem `code`, and the `Idempotent-Replayed: true`
header counted; nothing else of a request or response is looked at.
Probes (/health, /ready, /metrics) log at DEBUG, every other request at INFO.
"""

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import request_id_var
from app.core.metrics import HttpRecorder, route_template

log = logging.getLogger("app.requests")
PROBES = frozenset({"/health", "/ready", "/metrics", "/api/v1/health", "/api/v1/ready"})
PROBLEM_STATUSES = frozenset({402, 429})
REPLAYED = (b"idempotent-replayed", b"true")


class ObserveMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.recorder = HttpRecorder()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        token = request_id_var.set(state.get("request_id"))
        status, problem_body, replayed = 500, None, False

        async def observing_send(message: Message) -> None:
            nonlocal status, problem_body, replayed
            if message["type"] == "http.response.start":
                status = message["status"]
                if status in PROBLEM_STATUSES:
                    problem_body = b""
                elif scope["method"] != "GET" and REPLAYED in message.get("headers", ()):
                    replayed = True
            elif problem_body is not None and message["type"] == "http.response.body":
                problem_body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            request_id_var.reset(token)
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.recorder.record(route, scope["method"], status, seconds)
            if problem_body is not None:
                self.recorder.problem(status, _code(problem_body))
            if replayed:
                self.recorder.replay(route)
            level = logging.DEBUG if route in PROBES else logging.INFO
            if log.isEnabledFor(level):
                _log_request(level, state, route, scope["method"], status, seconds)


def _code(body: bytes) -> str:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return "unknown"
    return code if isinstance(code, str) and len(code) <= 64 else "unknown"


def _log_request(level: int, state: dict, route: str, method: str, status: int, seconds: float) -> None:
    auth = state.get("auth")
    tenant_id = str(auth.tenant_id) if auth is not None else None
    user_id = str(auth.user_id) if auth is not None else None
    duration_ms = round(seconds * 1000, 2)
    log.log(
        level,
        "%s %s %d %.2f ms tenant=%s user=%s",
        method,
        route,
        status,
        duration_ms,
        tenant_id,
        user_id,
        extra={
            "request_id": state.get("request_id"),
            "tenant_id": tenant_id,
            "user_id": user_id,
            "route": route,
            "method": method,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
