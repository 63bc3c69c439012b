import httpx

from app.core.database import Database
from app.core.migrations import head_revision
from app.main import create_app
from tests.factories import API


async def test_health_answers_without_the_database(client):
    response = await client.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert (await client.get("/health")).status_code == 200


async def test_ready_reports_the_migration_head(client):
    response = await client.get(f"{API}/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": head_revision()}


async def test_ready_is_503_and_health_200_when_the_database_is_unreachable(settings):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        real_db = app.state.runtime.db
        app.state.runtime.db = Database("postgresql+asyncpg://nobody@/nowhere?host=/nonexistent-socket-dir")
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                unready = await c.get(f"{API}/ready")
                assert unready.status_code == 503
                assert unready.headers["retry-after"] == "1"
                assert (await c.get(f"{API}/health")).status_code == 200
        finally:
            await app.state.runtime.db.dispose()
            app.state.runtime.db = real_db


async def test_every_response_carries_a_request_id(client):
    response = await client.get(f"{API}/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get(f"{API}/health", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_every_405_names_the_methods_the_path_serves(client):
    """Allow lists every route's methods at that path (routes of included routers too), never empty."""
    cases = {
        ("DELETE", f"{API}/invoices"): "GET, POST",
        ("PUT", f"{API}/tax-rates/00000000-0000-0000-0000-000000000000"): "GET, PATCH",
        ("POST", f"{API}/health"): "GET",
        ("PUT", "/health"): "GET",
    }
    for (method, path), allow in cases.items():
        response = await client.request(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == allow, (method, path)
        assert response.json()["code"] == "method-not-allowed"
