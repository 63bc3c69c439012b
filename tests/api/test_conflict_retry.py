"""A request whose transaction loses a real serialization failure (40001) runs again, a bounded
number of times, before its client sees 409 `concurrent-update`."""

import uuid

import httpx
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.database import get_session
from app.core.tenancy import bind_tenant
from app.main import create_app
from tests.api.v1.http_checks import assert_problem
from tests.factories import make_tenant

TOUCH = text("UPDATE tenants SET updated_at = now() WHERE id = :id")


def _app_with_conflicting_route(settings: Settings, interfere_on: set[int], attempts: list[int]):
    """POST /conflict/{tenant_id} reads the tenant row in REPEATABLE READ; on the attempts listed,
    another transaction updates that row and commits before this one updates it (-> 40001)."""
    app = create_app(settings)

    @app.post("/conflict/{tenant_id}")
    async def conflict(tenant_id: uuid.UUID, session: AsyncSession = Depends(get_session)) -> dict:
        attempts.append(len(attempts) + 1)
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        await bind_tenant(session, tenant_id)
        await session.execute(text("SELECT updated_at FROM tenants WHERE id = :id"), {"id": tenant_id})
        if len(attempts) in interfere_on:
            async with app.state.db.transaction(tenant_id) as other:
                await other.execute(TOUCH, {"id": tenant_id})
        await session.execute(TOUCH, {"id": tenant_id})
        return {"attempt": len(attempts)}

    return app


async def _post(settings: Settings, client: httpx.AsyncClient, interfere_on: set[int]) -> tuple[httpx.Response, list]:
    owner = await make_tenant(client)
    attempts: list[int] = []
    app = _app_with_conflicting_route(settings, interfere_on, attempts)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as own:
            response = await own.post(f"/conflict/{owner.tenant_id}", json={"any": "body"})
    return response, attempts


async def test_serialization_failure_is_retried_and_then_succeeds(settings, client):
    response, attempts = await _post(settings, client, interfere_on={1})
    assert response.status_code == 200, response.text
    assert response.json() == {"attempt": 2}
    assert attempts == [1, 2]


async def test_persistent_conflict_answers_409_after_three_attempts(settings, client):
    response, attempts = await _post(settings, client, interfere_on={1, 2, 3, 4})
    assert_problem(response, 409, "concurrent-update")
    assert response.headers["Retry-After"] == "1"
    assert attempts == [1, 2, 3]
