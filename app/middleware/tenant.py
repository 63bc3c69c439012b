"""Verify the bearer token (if any) and put its claims on the request scope.

Nothing here touches the database: `CurrentUser` (app/api/deps.py) turns the claims into a
loaded, active user and binds the tenant to the request's transaction.
"""

from datetime import datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.core.security import AccessTokenRejected, decode_access_token
from app.models.base import utcnow


class TenantContextMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token:
                try:
                    state["auth"] = decode_access_token(self.settings, token.strip(), now=_now(scope))
                except AccessTokenRejected:
                    state["auth_error"] = "invalid token"
        await self.app(scope, receive, send)


def _now(scope: Scope) -> datetime:
    """The later of the wall clock and the app's clock: the app's clock can be set ahead (a test, a
    replayed instant), and a token it minted then is not one "issued in the future"."""
    runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
    return max(utcnow(), runtime.now()) if runtime is not None else utcnow()
