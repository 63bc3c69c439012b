from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, or_, select

from app.models.billing.business import TaxRate
from app.repositories.base import SortKey, TenantRepository


def in_force(day: date) -> ColumnElement[bool]:
    return and_(TaxRate.effective_from <= day, or_(TaxRate.effective_to.is_(None), TaxRate.effective_to >= day))


class TaxRateRepository(TenantRepository[TaxRate]):
    model = TaxRate

    async def list_page(
        self, *, limit: int, cursor: str | None, sort: SortKey, as_of: date | None
    ) -> tuple[list[TaxRate], str | None]:
        stmt = select(TaxRate)
        if as_of is not None:
            stmt = stmt.where(in_force(as_of))
        return await self.page(stmt, limit=limit, cursor=cursor, sort=sort)

    async def is_in_force(self, rate: Decimal, day: date) -> bool:
        stmt = select(TaxRate.id).where(TaxRate.rate == rate, in_force(day)).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def overlapping(
        self, rate: Decimal, start: date, end: date | None, *, besides: TaxRate | None = None
    ) -> bool:
        """Whether another row of the same rate is in force on some day of [start, end]."""
        stmt = select(TaxRate.id).where(
            TaxRate.rate == rate,
            or_(TaxRate.effective_to.is_(None), TaxRate.effective_to >= start),
        )
        if end is not None:
            stmt = stmt.where(TaxRate.effective_from <= end)
        if besides is not None:
            stmt = stmt.where(TaxRate.id != besides.id)
        return (await self.session.execute(stmt.limit(1))).first() is not None
