"""Orders and their lines: every query of app.services.commerce.orders and order_drafts."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select

from app.models.catalog.stock import StockMovement
from app.models.commerce.online_payment import OnlinePayment
from app.models.commerce.order import SalesOrder, SalesOrderLine
from app.repositories.base import TenantRepository
from app.repositories.commerce.online_payments import OnlinePaymentRepository


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    needs_attention: bool | None = None


class SalesOrderRepository(TenantRepository[SalesOrder]):
    model = SalesOrder

    async def list_page(
        self, filters: OrderFilters, *, limit: int, cursor: str | None
    ) -> tuple[list[SalesOrder], str | None]:
        """Newest first (ids are time-ordered)."""
        stmt = select(SalesOrder)
        if filters.status is not None:
            stmt = stmt.where(SalesOrder.status == filters.status)
        if filters.customer_id is not None:
            stmt = stmt.where(SalesOrder.customer_id == filters.customer_id)
        if filters.company_id is not None:
            stmt = stmt.where(SalesOrder.company_id == filters.company_id)
        if filters.needs_attention is not None:
            stmt = stmt.where(SalesOrder.needs_attention.is_(filters.needs_attention))
        return await self.page(stmt, limit=limit, cursor=cursor, descending=True)

    async def expired_holds(self, at: datetime, limit: int) -> list[uuid.UUID]:
        """Placed orders whose hold ended at or before `at` (oldest first; the partial index)."""
        stmt = (
            select(SalesOrder.id)
            .where(SalesOrder.status == "placed", SalesOrder.hold_until.is_not(None), SalesOrder.hold_until <= at)
            .order_by(SalesOrder.hold_until)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def lock(self, order_id: uuid.UUID) -> SalesOrder | None:
        """The order locked FOR UPDATE and read again (whatever this session had loaded of it)."""
        stmt = (
            select(SalesOrder)
            .where(SalesOrder.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def delete(self, order: SalesOrder) -> None:
        """A draft and (ON DELETE CASCADE) its lines."""
        await self.session.execute(delete(SalesOrder).where(SalesOrder.id == order.id))


class SalesOrderLineRepository(TenantRepository[SalesOrderLine]):
    model = SalesOrderLine

    async def of_order(self, order_id: uuid.UUID) -> list[SalesOrderLine]:
        stmt = select(SalesOrderLine).where(SalesOrderLine.order_id == order_id).order_by(SalesOrderLine.position)
        return list((await self.session.execute(stmt)).scalars())

    async def next_position(self, order_id: uuid.UUID) -> int:
        stmt = select(func.coalesce(func.max(SalesOrderLine.position), 0)).where(SalesOrderLine.order_id == order_id)
        return int((await self.session.execute(stmt)).scalar_one()) + 1

    async def remove(self, line: SalesOrderLine) -> None:
        await self.session.execute(delete(SalesOrderLine).where(SalesOrderLine.id == line.id))


class OrderPaymentRepository(OnlinePaymentRepository):
    """The online payments repository, with what the order lifecycle asks of it."""

    async def of_order(self, order_id: uuid.UUID, *, for_update: bool = False) -> list[OnlinePayment]:
        """Oldest first; locked (in that order) when `for_update`, before the order row: the lock
        order of a capture (payment, then order), so that a capture and an expiry never deadlock."""
        stmt = select(OnlinePayment).where(OnlinePayment.order_id == order_id).order_by(OnlinePayment.id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return list((await self.session.execute(stmt)).scalars())

    async def lock(self, payment_id: uuid.UUID) -> OnlinePayment | None:
        stmt = (
            select(OnlinePayment)
            .where(OnlinePayment.id == payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class OrderStockRepository(TenantRepository[StockMovement]):
    model = StockMovement

    async def reserved_by(self, order_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
        """product_id -> what the order holds reserved now (its reservations less its releases)."""
        stmt = (
            select(StockMovement.product_id, func.sum(StockMovement.reserved_change))
            .where(StockMovement.document_type == "order", StockMovement.document_id == order_id)
            .group_by(StockMovement.product_id)
        )
        return {product_id: held for product_id, held in (await self.session.execute(stmt)).all() if held > 0}
