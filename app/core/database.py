"""Engines, sessions and the one commit point.

One request = one transaction: `get_session` commits when the route returns and rolls back on
any error, before the response is sent. Work that must outlive a failed request (rate-limit
counters, revoking a stolen refresh-token family) uses `independent_session`.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from app.core.cursors import CURSOR_KEY, cursor_key
from app.core.tenancy import TenantConnection, TenantSession, bind_tenant, forget_pending_tenant

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
_background: set[asyncio.Task[None]] = set()


# Behind a transaction-mode pooler without prepared-statement tracking (Settings.db_prepared_statement_cache
# False): consecutive transactions of one client may run on different server connections, and one server
# connection serves many clients, so no statement is kept for later (neither asyncpg's cache nor
# SQLAlchemy's) and each gets a name no other client can have taken.
WITHOUT_STATEMENT_CACHE = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4().hex}__",
}


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        statement_cache: bool = True,
        ping_after_idle_seconds: float = 10.0,
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            # Not pool_pre_ping: with asyncpg it costs three round trips (BEGIN, ";", ROLLBACK) on every
            # checkout. Only a connection idle for ping_after_idle_seconds is pinged (_ping_if_idle).
            pool_pre_ping=False,
            # Statement parameters are people's data and secrets (mail bodies with single-use links,
            # token digests): never in an exception's text, so never in a log line or a traceback.
            hide_parameters=True,
            # TenantConnection sends the tenant's set_config with BEGIN (app/core/tenancy.py).
            connect_args={"connection_class": TenantConnection} | ({} if statement_cache else WITHOUT_STATEMENT_CACHE),
        )
        forget_pending_tenant(self.engine.sync_engine)
        _ping_idle_connections(self.engine, ping_after_idle_seconds)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=TenantSession)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(
        self, tenant_id: uuid.UUID | None = None, *, isolation: str | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A unit of work outside a request (jobs, CLI, after-commit delivery). `isolation`: e.g.
        "REPEATABLE READ" for a read of one snapshot across statements (the pool resets it)."""
        async with self.sessionmaker() as session:
            try:
                if isolation is not None:
                    await session.connection(execution_options={"isolation_level": isolation})
                if tenant_id is not None:
                    await bind_tenant(session, tenant_id)
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        _run_after_commit(session)


_CHECKED_IN_AT = "rms_checked_in_at"


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout only if it sat idle in the pool for idle_seconds or more
    (0: on every checkout, what pool_pre_ping does). A dead one is discarded and the checkout retried
    with a fresh connection, as pre-ping does. A busy pool's connections were used moments ago: a
    server restart under load fails the requests already on the old connections (503 with
    Retry-After, see is_connection_error), and the pool then drops every connection older than the
    failure, so the next requests connect afresh."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry | None) -> None:
        if record is not None:
            record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_idle(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # a new connection, or one used moments ago
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


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


def request_metadata(request: Request) -> dict[str, str | None]:
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
        session.info["runtime"] = request.app.state.runtime  # after-commit work (webhook deliveries)
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


# Connection exceptions (class 08), and the server going away: admin shutdown (pg_terminate_backend,
# a fast shutdown), crash shutdown, "the database system is shutting down / starting up".
LOST_SQLSTATES = ("57P01", "57P02", "57P03")
LOST_CLASSES = (
    ConnectionError,
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,  # "connection was closed in the middle of operation"
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (SQLAlchemy's `orig`), its causes and contexts, and the members
    of exception groups: a lost connection arrives under whatever class happens to wrap it."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            pending += list(current.exceptions)


def is_connection_error(exc: BaseException) -> bool:
    """True when the database (not the request) failed: the connection was lost or refused."""
    for cause in _causes(exc):
        if isinstance(cause, (OperationalError, InterfaceError, *LOST_CLASSES)):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in LOST_SQLSTATES):
            return True
    return False
