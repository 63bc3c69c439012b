"""Faults: the database connection dies in the middle of a request."""

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from tests.factories import API, make_tenant


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _terminate_app_backends_waiting_on_locks(admin: asyncpg.Connection) -> int:
    for _ in range(200):
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE usename = 'rms_app' AND wait_event_type = 'Lock' AND datname = current_database()"
        )
        if killed:
            return killed
        await asyncio.sleep(0.025)
    return 0


async def test_connection_killed_mid_request_is_a_clean_503_and_leaves_nothing(client, database_urls):
    owner = await make_tenant(client)
    admin = await asyncpg.connect(_dsn(database_urls.admin))
    try:
        # Hold the user's row so the request blocks mid-transaction, then kill its backend.
        locker = admin.transaction()
        await locker.start()
        await admin.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", owner.user["id"])
        request = asyncio.create_task(
            client.patch(f"{API}/users/me", json={"full_name": "Never Saved"}, headers=owner.headers)
        )
        assert await _terminate_app_backends_waiting_on_locks(admin) >= 1
        await locker.rollback()
        response = await request
    finally:
        await admin.close()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "service-unavailable"
    me = await client.get(f"{API}/users/me", headers=owner.headers)
    assert me.status_code == 200
    assert me.json()["full_name"] == "Ravi Sharma"
