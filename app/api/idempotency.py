"""Routes opt into Idempotency-Key with one dependency:

async def create(..., idempotent: IdempotentDep):
    return await idempotent(201, lambda: service_call(...))

`RequiredIdempotentDep` is the same with the header required (a request without it is a 422, as
the spec says): for writes a client retries as a matter of course, where a duplicate would do harm
twice (a counter sale: stock taken twice, udhaar booked twice).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import ContextDep, CurrentUser, SessionDep
from app.services.platform import idempotency
from app.services.platform.idempotency import IdempotentRequest

KEY_PATTERN = r"^[A-Za-z0-9_\-:.]{8,255}$"

Operation = Callable[[], Awaitable[BaseModel]]


async def get_idempotent(
    request: Request,
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    # Typed `str`, not `str | None`: the spec then says "a string" rather than "a string or null"
    # (a header cannot carry a JSON null); the default still makes it optional.
    idempotency_key: Annotated[
        str,  # noqa: RUF013
        Header(pattern=KEY_PATTERN, description="Retries with the same key return the first response."),
    ] = None,  # type: ignore[assignment]
) -> Callable[[int, Operation], Awaitable[Any]]:
    return await _idempotent(request, session, ctx, idempotency_key)


async def _idempotent(
    request: Request, session: SessionDep, ctx: ContextDep, idempotency_key: str | None
) -> Callable[[int, Operation], Awaitable[Any]]:
    body = await request.body()

    async def idempotent(status: int, operation: Operation) -> Any:
        async def json_body() -> Any:
            return (await operation()).model_dump(mode="json")

        if idempotency_key is None:
            return JSONResponse(await json_body(), status_code=status)
        req = IdempotentRequest(idempotency_key, request.method, request.url.path, body)
        stored = await idempotency.run(session, ctx, req, status, json_body)
        headers = {"Idempotency-Key": idempotency_key, "Idempotent-Replayed": str(stored.replayed).lower()}
        return JSONResponse(stored.body, status_code=stored.status, headers=headers)

    return idempotent


IdempotentDep = Annotated[Callable[[int, Operation], Awaitable[Any]], Depends(get_idempotent)]


async def get_required_idempotent(
    request: Request,
    _: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    idempotency_key: Annotated[
        str,
        Header(
            pattern=KEY_PATTERN,
            description="Required: a fresh key per sale (a UUID), the same key on every retry of it. A retry "
            "returns the first response (header Idempotent-Replayed: true); the same key with another body is "
            "a 422; while the first is still running, a 409.",
        ),
    ],
) -> Callable[[int, Operation], Awaitable[Any]]:
    return await _idempotent(request, session, ctx, idempotency_key)


RequiredIdempotentDep = Annotated[Callable[[int, Operation], Awaitable[Any]], Depends(get_required_idempotent)]
