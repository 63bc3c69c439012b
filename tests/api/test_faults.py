"""Faults: the database connection dies in the middle of a request."""

import asyncpg
from sqlalchemy.engine import make_url

from tests.api.blocked_request import block_profile_update, lock_waiters
from tests.factories import API, make_tenant


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_connection_killed_mid_request_is_a_clean_503_and_leaves_nothing(client, database_urls):
    owner = await make_tenant(client)
    admin = await asyncpg.connect(_dsn(database_urls.admin))
    try:
        # Hold the user's row so the request blocks mid-transaction, then kill its backend.
        locker, request = await block_profile_update(client, admin, owner)
        assert await lock_waiters(admin, terminate=True) >= 1
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
