from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import PUBLIC
from app.core.migrations import current_revision, head_revision

router = APIRouter(tags=["health"])

# Like every other 503 of this API: the client (or the orchestrator's probe) may ask again shortly.
RETRY_AFTER = {"Retry-After": "1"}


@router.get("/health", openapi_extra=PUBLIC)
async def health() -> dict[str, str]:
    """Liveness: the process answers. Touches no database."""
    return {"status": "ok"}


@router.get("/ready", openapi_extra=PUBLIC)
async def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers and its schema is at the latest migration."""
    engine = request.app.state.runtime.db.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await current_revision(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503, headers=RETRY_AFTER
        )
    head = head_revision()
    if current != head:
        return JSONResponse(
            {"status": "migrations-pending", "current": current, "head": head}, status_code=503, headers=RETRY_AFTER
        )
    return JSONResponse({"status": "ready", "revision": current})
