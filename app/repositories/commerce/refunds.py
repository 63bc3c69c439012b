"""Refunds, and the rows a refund reads about its payment and order (app.services.commerce.refunds)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.models.commerce.online_payment import OnlinePayment, Refund
from app.models.commerce.order import SalesOrder, SalesOrderLine
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

    # --- what a refund reads of its payment and order -------------------------------------------

    async def payment(self, payment_id: uuid.UUID, *, for_update: bool = False) -> OnlinePayment | None:
        stmt = select(OnlinePayment).where(OnlinePayment.id == payment_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def paid_payment_of_order(self, order_id: uuid.UUID) -> OnlinePayment | None:
        """The order's paid online payment (the first paid, should there be more)."""
        stmt = (
            select(OnlinePayment)
            .where(OnlinePayment.order_id == order_id, OnlinePayment.status == "paid")
            .order_by(OnlinePayment.paid_at, OnlinePayment.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def order(self, order_id: uuid.UUID, *, for_update: bool = False) -> SalesOrder | None:
        stmt = select(SalesOrder).where(SalesOrder.id == order_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def order_lines(self, order_id: uuid.UUID) -> list[SalesOrderLine]:
        stmt = select(SalesOrderLine).where(SalesOrderLine.order_id == order_id).order_by(SalesOrderLine.position)
        return list((await self.session.execute(stmt)).scalars())
