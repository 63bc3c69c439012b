"""Queries shared by the business configuration's simple entities (companies, client types,
account managers, service types): filtered keyset pages, saves that report a taken unique
key, and deletes that a foreign key may refuse."""

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, or_, select
from sqlalchemy.exc import IntegrityError

from app.models.billing.business import ServiceType
from app.repositories.base import M, SortKey, TenantRepository

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"


def contains(column: SQLColumnExpression[str | None], text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _sqlstate(exc: IntegrityError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


class CatalogRepository(TenantRepository[M]):
    async def list_page(
        self,
        *,
        limit: int,
        cursor: str | None,
        sort: SortKey,
        search: str | None,
        search_columns: Sequence[Any],
        where: Sequence[ColumnElement[bool]] = (),
    ) -> tuple[list[M], str | None]:
        stmt = select(self.model).where(*where)
        if search:
            stmt = stmt.where(or_(*(contains(column, search) for column in search_columns)))
        return await self.page(stmt, limit=limit, cursor=cursor, sort=sort)

    async def save(self, obj: M, *, new: bool) -> bool:
        """Insert or flush changes in a savepoint: False if a unique key is taken (nothing written)."""
        try:
            async with self.session.begin_nested():
                if new:
                    obj.tenant_id = self.tenant_id
                    self.session.add(obj)
                await self.session.flush()
        except IntegrityError as exc:
            if _sqlstate(exc) != UNIQUE_VIOLATION:
                raise
            return False
        return True

    async def delete(self, obj: M) -> bool:
        """Delete in a savepoint: False (and the row kept) if another row still refers to it."""
        try:
            async with self.session.begin_nested():
                await self.session.delete(obj)
                await self.session.flush()
        except IntegrityError as exc:
            if _sqlstate(exc) != FOREIGN_KEY_VIOLATION:
                raise
            await self.session.refresh(obj)
            return False
        return True


class ServiceTypeRepository(CatalogRepository[ServiceType]):
    model = ServiceType

    async def by_ids(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ServiceType]:
        """The service types of these ids that exist in this tenant, by id (one query)."""
        if not ids:
            return {}
        rows = await self.session.execute(select(ServiceType).where(ServiceType.id.in_(ids)))
        return {s.id: s for s in rows.scalars()}
