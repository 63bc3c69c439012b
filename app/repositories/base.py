"""Repositories hold every query. The session's bound tenant scopes them (ORM filter + RLS)."""

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cursors import decode_cursor, encode_cursor, session_key
from app.core.tenancy import required_tenant
from app.models.base import TenantOwned, TenantScoped

Owned = TypeVar("Owned", bound=TenantOwned)
M = TypeVar("M", bound=TenantScoped)


@dataclass(frozen=True)
class SortKey:
    """Order by `column` (NOT NULL), then by id, both in one direction: a total order for keysets."""

    column: Any | None = None
    descending: bool = False


class TenantOwnedRepository(Generic[Owned]):
    """Rows of the bound tenant. Rows keyed by something else than an id (a job occasion, an
    idempotency key, a number series) stop here; TenantRepository adds what an id allows."""

    model: type[Owned]

    def __init__(self, session: AsyncSession, model: type[Owned] | None = None) -> None:
        self.session = session
        if model is not None:
            self.model = model

    @property
    def tenant_id(self) -> uuid.UUID:
        return required_tenant(self.session)

    async def add(self, obj: Owned) -> Owned:
        obj.tenant_id = self.tenant_id
        self.session.add(obj)
        await self.session.flush()
        return obj


class TenantRepository(TenantOwnedRepository[M]):
    """Rows of the bound tenant keyed by (tenant_id, id)."""

    async def get(self, id_: uuid.UUID, *, for_update: bool = False) -> M | None:
        stmt = select(self.model).where(self.model.id == id_)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(
        self, stmt: Select[M], *, limit: int, cursor: str | None, descending: bool = False, sort: SortKey | None = None
    ) -> tuple[list[M], str | None]:
        """Keyset page ordered by (sort column, id), or by id alone (UUIDv7: creation order).
        A deep page costs what the first does: the cursor is a position, not an offset."""
        sort = sort or SortKey(descending=descending)
        columns = [c for c in (sort.column, self.model.id) if c is not None]
        scope = ",".join(f"{c.table.name}.{c.key}" for c in columns) + (" desc" if sort.descending else "")
        if cursor:
            values = decode_cursor(session_key(self.session), scope, cursor, [c.type.python_type for c in columns])
            after = tuple_(*(literal(v, c.type) for v, c in zip(values, columns, strict=True)))
            stmt = stmt.where(tuple_(*columns) < after if sort.descending else tuple_(*columns) > after)
        stmt = stmt.order_by(*(c.desc() if sort.descending else c.asc() for c in columns)).limit(limit + 1)
        rows = list((await self.session.execute(stmt)).scalars())
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(session_key(self.session), scope, [getattr(last, c.key) for c in columns])
