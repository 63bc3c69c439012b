"""Answer an unexpected exception with the generic 500 problem (a lost database connection, under
whatever class it arrives, with the 503 and Retry-After), and stop it there.

Starlette's ServerErrorMiddleware answers 500 too, but then re-raises, and uvicorn, seeing an
exception escape the app, closes the client's keep-alive connection. Caught here (inside CORS, so
the answer carries its headers; inside RequestIdMiddleware, so it carries the request id), the
exception is logged once with the request id and the connection stays open. If the response had
already started there is nothing left to answer: the exception goes on to uvicorn.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.database import is_connection_error
from app.core.errors import internal_error_response, unavailable_response


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            # A lost database connection under a class no handler knows is still a 503.
            response = unavailable_response(scope, exc) if is_connection_error(exc) else internal_error_response(scope)
            await response(scope, receive, send)
