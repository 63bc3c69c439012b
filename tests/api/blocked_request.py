"""A request held in the middle of its transaction, on a row lock taken by another connection: what
the fault tests cut the database under."""

import asyncio

import asyncpg
import httpx

from tests.factories import API, Account

WAITING = "FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"


async def block_profile_update(
    client: httpx.AsyncClient, admin: asyncpg.Connection, owner: Account
) -> tuple[asyncpg.transaction.Transaction, asyncio.Task]:
    """Lock the owner's user row from `admin`, then send a profile update that waits on it. The
    update must never be saved: its full_name is "Never Saved"."""
    locker = admin.transaction()
    await locker.start()
    await admin.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", owner.user["id"])
    request = asyncio.create_task(
        client.patch(f"{API}/users/me", json={"full_name": "Never Saved"}, headers=owner.headers)
    )
    return locker, request


async def lock_waiters(admin: asyncpg.Connection, *, terminate: bool = False) -> int:
    """How many of the application role's backends wait on a lock, once one does (0 after 5 s);
    with `terminate`, those backends are ended as they are counted."""
    count = "count(pg_terminate_backend(pid))" if terminate else "count(*)"
    for _ in range(200):
        if waiting := await admin.fetchval(f"SELECT {count} {WAITING} AND usename = 'rms_app'"):
            return waiting
        await asyncio.sleep(0.025)
    return 0
