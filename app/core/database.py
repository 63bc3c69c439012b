"""Engines, sessions and the one commit point.

One request = one transaction: `get_session` commits when the route returns and rolls back on
any error, before the response is sent. Work that must outlive a failed request (rate-limit
counters, revoking a stolen refresh-token family) uses `independent_session`.
"""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
from fastapi import Request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.cursors import CURSOR_KEY, cursor_key
from app.core.tenancy import TenantSession, bind_tenant

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
_background: set[asyncio.Task] = set()


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=TenantSession)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
        """A unit of work outside a request (jobs, CLI, after-commit delivery)."""
        async with self.sessionmaker() as session:
            try:
                if tenant_id is not None:
                    await bind_tenant(session, tenant_id)
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        _run_after_commit(session)


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run hook (in the background) once the session's transaction has committed."""
    session.info.setdefault("after_commit", []).append(hook)


def _run_after_commit(session: AsyncSession) -> None:
    for hook in session.info.pop("after_commit", []):
        task = asyncio.create_task(hook())
        _background.add(task)
        task.add_done_callback(_background.discard)


async def drain_background_tasks() -> None:
    """Wait for this event loop's after-commit work (used at shutdown and by tests)."""
    loop = asyncio.get_running_loop()
    while pending := [task for task in _background if task.get_loop() is loop]:
        await asyncio.gather(*pending, return_exceptions=True)


def request_metadata(request: Request) -> dict:
    state = request.scope.get("state", {})
    client = request.client.host if request.client else None
    return {
        "request_id": state.get("request_id"),
        "ip": client,
        "user_agent": (request.headers.get("user-agent") or "")[:500] or None,
    }


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: the single commit point (declared with scope="function")."""
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        session.info.update(request_metadata(request))
        session.info[CURSOR_KEY] = cursor_key(request.app.state.runtime.settings.jwt_secret)
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    _run_after_commit(session)


@asynccontextmanager
async def independent_session(db: Database, tenant_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
    """A separate transaction that commits even if the surrounding request fails."""
    async with db.transaction(tenant_id) as session:
        yield session


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        (
            ConnectionError,
            OSError,
            asyncpg.exceptions.ConnectionDoesNotExistError,
            asyncpg.exceptions.CannotConnectNowError,
            asyncpg.exceptions.AdminShutdownError,
        ),
    )
