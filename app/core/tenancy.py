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
from functools import cache

from sqlalchemy import Connection, Table, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, with_loader_criteria
from sqlalchemy.sql import visitors

from app.models.base import TenantOwned
from app.models.tenant import Tenant

TENANT_KEY = "tenant_id"
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
        await async_session.execute(select(func.set_config("app.tenant_id", str(tenant_id), True)))
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
    state.statement = state.statement.options(
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
    if tenant_id is not None:
        connection.execute(select(func.set_config("app.tenant_id", str(tenant_id), True)))
