"""Repositories hold every query. The session's bound tenant scopes them (ORM filter + RLS)."""

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, TypeVarTuple, overload

from sqlalchemy import Select, and_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import counting
from app.core.cursors import decode_cursor, encode_cursor, session_key
from app.core.tenancy import required_tenant
from app.models.base import TenantOwned, TenantScoped

Owned = TypeVar("Owned", bound=TenantOwned)
M = TypeVar("M", bound=TenantScoped)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class SortKey:
    """Order by `column` (NOT NULL), then by id, both in one direction: a total order for keysets."""

    column: Any | None = None
    descending: bool = False


def starts_with(column: Any, prefix: str) -> Any:
    """`column` starts with `prefix`, byte for byte, as a range an index on (tenant_id, column
    text_pattern_ops) answers. Not LIKE nor starts_with(): under row-level security only leakproof
    operators become index conditions, and of these only the pattern comparisons are."""
    condition = column.op("~>=~")(prefix)
    last = ord(prefix[-1])
    if last < 0x10FFFF:
        after = last + 1 if last + 1 != 0xD800 else 0xE000  # no surrogates in text
        condition = and_(condition, column.op("~<~")(prefix[:-1] + chr(after)))
    return condition


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

    @overload
    async def page(
        self, stmt: Select[M], *, limit: int, cursor: str | None, descending: bool = False, sort: SortKey | None = None
    ) -> tuple[list[M], str | None]: ...

    @overload
    async def page(
        self,
        stmt: Select[M, T, *Ts],
        *,
        limit: int,
        cursor: str | None,
        descending: bool = False,
        sort: SortKey | None = None,
    ) -> tuple[list[tuple[M, T, *Ts]], str | None]: ...

    async def page(
        self,
        stmt: Select[*tuple[Any, ...]],
        *,
        limit: int,
        cursor: str | None,
        descending: bool = False,
        sort: SortKey | None = None,
    ) -> tuple[list[Any], str | None]:
        """Keyset page ordered by (sort column, id), or by id alone (UUIDv7: creation order).
        A deep page costs what the first does: the cursor is a position, not an offset.

        `stmt` selects the model first, optionally followed by display columns (joined names):
        then the rows are returned as they are (model, name, ...), else as model objects.
        With `?count=true` (app/core/counting.py) the filters' matches are also counted, capped."""
        sort = sort or SortKey(descending=descending)
        slot = counting.count_slot()
        if slot is not None:
            await self._count(stmt, slot)
        single = len(stmt.column_descriptions) == 1
        columns = [c for c in (sort.column, self.model.id) if c is not None]
        scope = ",".join(f"{c.table.name}.{c.key}" for c in columns) + (" desc" if sort.descending else "")
        if cursor:
            values = decode_cursor(session_key(self.session), scope, cursor, [c.type.python_type for c in columns])
            after = tuple_(*(literal(v, c.type) for v, c in zip(values, columns, strict=True)))
            stmt = stmt.where(tuple_(*columns) < after if sort.descending else tuple_(*columns) > after)
        stmt = stmt.order_by(*(c.desc() if sort.descending else c.asc() for c in columns)).limit(limit + 1)
        result = await self.session.execute(stmt)
        rows = list(result.scalars() if single else result.all())
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1] if single else rows[limit - 1][0]
        return rows[:limit], encode_cursor(session_key(self.session), scope, [getattr(last, c.key) for c in columns])

    async def _count(self, stmt: Select[*tuple[Any, ...]], slot: counting.CountSlot) -> None:
        """How many rows the list's filters match, counted up to COUNT_CAP + 1 (then `capped`)."""
        matching = stmt.with_only_columns(self.model.id, maintain_column_froms=True).order_by(None)
        counted = select(func.count()).select_from(matching.limit(counting.COUNT_CAP + 1).subquery())
        slot.total = (await self.session.execute(counted)).scalar_one()
