"""Refunds through the tenant's gateway (app.services.commerce.refunds)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.models.commerce.online_payment import Refund
from app.repositories.base import SortKey, TenantRepository

INDIA = ZoneInfo("Asia/Kolkata")
SORTS = {
    "created_at": SortKey(Refund.created_at),
    "-created_at": SortKey(Refund.created_at, descending=True),
    "amount": SortKey(Refund.amount),
    "-amount": SortKey(Refund.amount, descending=True),
}


@dataclass(frozen=True)
class RefundFilters:
    online_payment_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    status: str | None = None
    date_from: date | None = None  # made on or after (Asia/Kolkata)
    date_to: date | None = None  # made on or before (Asia/Kolkata)
    ids: list[uuid.UUID] | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=INDIA)


class RefundRepository(TenantRepository[Refund]):
    model = Refund

    async def by_razorpay_refund_id(self, refund_id: str, *, for_update: bool = False) -> Refund | None:
        stmt = select(Refund).where(Refund.razorpay_refund_id == refund_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()

    async def list_page(
        self, filters: RefundFilters, *, limit: int, cursor: str | None, sort: str
    ) -> tuple[list[Refund], str | None]:
        stmt = select(Refund)
        if filters.online_payment_id is not None:
            stmt = stmt.where(Refund.online_payment_id == filters.online_payment_id)
        if filters.order_id is not None:
            stmt = stmt.where(Refund.order_id == filters.order_id)
        if filters.customer_id is not None:
            stmt = stmt.where(Refund.customer_id == filters.customer_id)
        if filters.status is not None:
            stmt = stmt.where(Refund.status == filters.status)
        if filters.date_from is not None:
            stmt = stmt.where(Refund.created_at >= _start_of(filters.date_from))
        if filters.date_to is not None:
            stmt = stmt.where(Refund.created_at < _start_of(filters.date_to + timedelta(days=1)))
        if filters.ids is not None:
            stmt = stmt.where(Refund.id.in_(filters.ids))
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SORTS[sort])
