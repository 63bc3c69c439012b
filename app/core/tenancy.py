"""Tenant binding: the ORM filter (first line of defence) and the RLS setting (the backstop).

A session is bound to one tenant. Every ORM statement touching a tenant table anywhere (FROM list,
joins, subqueries, EXISTS, a bulk UPDATE/DELETE's target) gets `tenant_id = :bound` added, and
raises if no tenant is bound; rows the unit of work flushes must belong to the bound tenant. Each transaction also sets
`app.tenant_id` with `set_config(..., true)` (transaction-local, so it never leaks through
the connection pool), which the row-level security policies read.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import TypeVar

import asyncpg
from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    LoaderCriteriaOption,
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
    with_loader_criteria,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable, visitors

from app.models.base import TenantOwned
from app.models.platform.tenant import Tenant

TENANT_KEY = "tenant_id"
# Sent as written (no SQL compilation: it runs at the start of every transaction); transaction-local.
SET_TENANT_SQL = "SELECT set_config('app.tenant_id', $1, true)"
BYPASS_KEY = "tenant_filter_off"


class TenantNotBound(RuntimeError):
    """A tenant-scoped query ran on a session with no tenant bound: a programming error."""


class TenantSession(Session):
    """The sync session class behind every AsyncSession the app creates."""


def bound_tenant(session: Session | AsyncSession) -> uuid.UUID | None:
    tenant_id: uuid.UUID | None = session.info.get(TENANT_KEY)
    return tenant_id


def required_tenant(session: Session | AsyncSession) -> uuid.UUID:
    """The session's bound tenant; TenantNotBound if there is none (a programming error, not a KeyError)."""
    tenant_id = bound_tenant(session)
    if tenant_id is None:
        raise TenantNotBound("tenant-scoped repository used with no tenant bound")
    return tenant_id


class TenantAlreadyBound(RuntimeError):
    """A session bound to one tenant was asked to serve another: objects it loaded would leak across."""


async def bind_tenant(async_session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Bind the session (and its current transaction, at once) to tenant_id. A session serves one
    tenant for its whole life: binding it again to another raises."""
    tenant_id = tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id))
    current = async_session.info.get(TENANT_KEY)
    if current is not None and current != tenant_id:
        raise TenantAlreadyBound(f"session is bound to tenant {current}, not {tenant_id}")
    async_session.info[TENANT_KEY] = tenant_id
    if async_session.in_transaction():
        connection = await async_session.connection()
        await connection.exec_driver_sql(SET_TENANT_SQL, (str(tenant_id),))
    else:
        await async_session.connection()  # begins the transaction; after_begin sets app.tenant_id


@contextmanager
def orm_filter_disabled(session: Session) -> Iterator[None]:
    """Switch off the ORM tenant filter and the flush check (RLS still applies). Used by tests to
    prove the backstop."""
    session.info[BYPASS_KEY] = True
    try:
        yield
    finally:
        session.info.pop(BYPASS_KEY, None)


def _is_tenant_table(element: object) -> bool:
    return isinstance(element, Table) and element.name in _tenant_table_names()


@cache
def _tenant_table_names() -> frozenset[str]:
    from app.models import Base  # every model module, so the set is complete

    return frozenset(
        table.name
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, (TenantOwned, Tenant))
        for table in mapper.tables
    )


def _touches_tenant_tables(state: ORMExecuteState) -> bool:
    """Whether any table the statement reads or writes is a tenant table: its FROM list, joins,
    subqueries, EXISTS, scalar subqueries and the target of a bulk UPDATE/DELETE. `all_mappers`
    alone misses `select(func.count()).select_from(M)` and `select(exists().where(M.id == ...))`."""
    if any(issubclass(m.class_, (TenantOwned, Tenant)) for m in state.all_mappers):
        return True
    statement = state.statement
    assert isinstance(statement, visitors.ExternallyTraversible)  # every ORM statement is a ClauseElement
    return any(_is_tenant_table(element) for element in visitors.iterate(statement))


@event.listens_for(TenantSession, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load or state.is_insert:
        return
    if state.session.info.get(BYPASS_KEY) or not _touches_tenant_tables(state):
        return
    tenant_id = bound_tenant(state.session)
    if tenant_id is None:
        raise TenantNotBound("tenant-scoped query with no tenant bound")
    statement = state.statement
    if id(statement) in _CONSTANT_STATEMENTS:
        state.statement = _constant_with_criteria(id(statement), tenant_id)
    else:
        state.statement = statement.options(*_tenant_criteria(tenant_id))


# Statements built once at import and run on every request (the session check): with the tenant's
# criteria added they are kept per tenant too, so their cache key is computed once, not per request.
_CONSTANT_STATEMENTS: dict[int, Executable] = {}
S = TypeVar("S", bound=Executable)


def constant_statement(statement: S) -> S:
    """Register a module-level statement (never mutated, never freed: its id stays its own)."""
    _CONSTANT_STATEMENTS[id(statement)] = statement
    return statement


@lru_cache(maxsize=4096)
def _constant_with_criteria(statement_id: int, tenant_id: uuid.UUID) -> Executable:
    return _CONSTANT_STATEMENTS[statement_id].options(*_tenant_criteria(tenant_id))


@lru_cache(maxsize=4096)
def _tenant_criteria(tenant_id: uuid.UUID) -> tuple[LoaderCriteriaOption, LoaderCriteriaOption]:
    """The loader criteria binding every tenant table to tenant_id. Built once per tenant (building
    them is most of the filter's cost on a short request); the tenant is a bound value of the
    compiled statement, so every tenant shares one compiled form."""
    return (
        with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant_id, include_aliases=True),
        with_loader_criteria(Tenant, Tenant.id == tenant_id, include_aliases=True),
    )


@event.listens_for(TenantSession, "before_flush")
def _check_flushed_rows(session: Session, _flush_context: UOWTransaction, _instances: object) -> None:
    """The unit of work writes rows without a statement the filter sees: every tenant row it is
    about to insert, update or delete must belong to the bound tenant."""
    if session.info.get(BYPASS_KEY):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, TenantOwned):
            owner = obj.tenant_id
        elif isinstance(obj, Tenant):
            owner = obj.id
        else:
            continue
        tenant_id = bound_tenant(session)
        if tenant_id is None:
            raise TenantNotBound(f"flushing a {type(obj).__name__} with no tenant bound")
        if owner is not None and owner != tenant_id:
            raise TenantNotBound(f"flushing a {type(obj).__name__} of another tenant than the bound one")


@event.listens_for(TenantSession, "after_begin")
def _set_rls_tenant(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    tenant_id = bound_tenant(session)
    driver = connection.connection.driver_connection
    if tenant_id is None:
        if isinstance(driver, TenantConnection):
            driver.reset_pending_tenant()  # belt and braces: no tenant reaches an unbound transaction
        return
    if isinstance(driver, TenantConnection) and not driver.is_in_transaction():
        # The driver sends BEGIN lazily, before the transaction's first statement: set the tenant
        # in that same message (one round trip fewer on every request).
        driver.set_tenant_on_begin(tenant_id)
    else:
        connection.exec_driver_sql(SET_TENANT_SQL, (str(tenant_id),))


class TenantConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg ships no type information
    """asyncpg's connection, which can send `set_config('app.tenant_id', ..., true)` in the same
    message as the BEGIN of the transaction it belongs to (simple-query protocol, one round trip).

    The pending tenant is for the next BEGIN only and is dropped when the SQLAlchemy transaction
    ends (commit or rollback, whether or not a statement ran) and when the connection goes back to
    the pool (reset_pending_tenant): it can never reach another transaction."""

    _rms_begin_tenant: uuid.UUID | None = None

    def set_tenant_on_begin(self, tenant_id: uuid.UUID) -> None:
        if not isinstance(tenant_id, uuid.UUID):
            raise TypeError("tenant_id must be a UUID")
        self._rms_begin_tenant = tenant_id

    def reset_pending_tenant(self) -> None:
        self._rms_begin_tenant = None

    async def execute(self, query: str, *args: object, timeout: float | None = None) -> str:  # noqa: ASYNC109 (asyncpg's signature)
        tenant_id = self._rms_begin_tenant
        if tenant_id is not None and not args and query.startswith("BEGIN"):
            self._rms_begin_tenant = None
            # str(UUID) is hex digits and dashes only: safe to write into the statement.
            query = f"{query} SELECT set_config('app.tenant_id', '{tenant_id}', true);"
        status: str = await super().execute(query, *args, timeout=timeout)
        return status


def forget_pending_tenant(engine: Engine) -> None:
    """Drop a pending tenant (TenantConnection) when a transaction ends or a connection is checked
    in, so it can only ever apply to the transaction whose after_begin set it."""

    def reset(driver: object) -> None:
        if isinstance(driver, TenantConnection):
            driver.reset_pending_tenant()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _transaction_ended(connection: Connection) -> None:
        if not connection.invalidated and not connection.closed:
            reset(connection.connection.driver_connection)

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(_dbapi_connection: object, record: ConnectionPoolEntry | None) -> None:
        if record is not None and record.driver_connection is not None:
            reset(record.driver_connection)
