"""One rule for every query parameter, declared or not: no control characters (C0, DEL, C1).

A NUL in `?entity_type=` reached PostgreSQL (which refuses it in text: a 500); a CR or LF in a
filter reaches logs. No query parameter of this API has a use for them, so they are refused here,
before routing, with the 422 `validation-error` every other invalid parameter gets. The OpenAPI
spec says the same: every free-text string query parameter carries QUERY_TEXT
(app/schemas/common.py; app/api/openapi.py), so clients and the fuzzer know.
"""

import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import problem, problem_response
from app.schemas.common import QUERY_TEXT

ALLOWED = re.compile(QUERY_TEXT)


class QueryTextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            # Starlette's own reading of the query string (QueryParams): latin-1, then percent-decoded.
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            bad = [name for name, value in pairs if not (ALLOWED.fullmatch(name) and ALLOWED.fullmatch(value))]
            if bad:
                errors = [
                    {"loc": ["query", name], "msg": "Control characters are not allowed.", "type": "control_character"}
                    for name in bad
                ]
                body = problem("validation-error", "The request is not valid.", errors=errors)
                await problem_response(422, body)(scope, receive, send)
                return
        await self.app(scope, receive, send)
