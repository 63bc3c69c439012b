"""Payments (Razorpay orders of a tenant), the webhook events processed, and the global order
directory (`razorpay_orders`, migration 0014): which tenant owns an order, the one lookup that runs
before a tenant is bound."""

import uuid
from datetime import datetime

from sqlalchemy import Update, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import new_id
from app.models.platform.payment import Payment, PaymentEvent, PaymentStatus
from app.repositories.base import TenantRepository


async def order_tenant(session: AsyncSession, order_id: str) -> uuid.UUID | None:
    """The tenant owning `order_id`, through the SECURITY DEFINER function of migrations 0005/0014
    (it reveals nothing else). Needs no bound tenant: the webhook binds the answer."""
    return (await session.execute(text("SELECT payment_order_tenant(:order_id)"), {"order_id": order_id})).scalar()


async def claim_order(session: AsyncSession, order_id: str, payment_id: uuid.UUID) -> bool:
    """Record `order_id` as the bound tenant's, in the transaction adding its payment (migration 0014:
    the application role reaches `razorpay_orders` only so). False if the id is recorded already."""
    stmt = select(func.claim_razorpay_order(order_id, payment_id))
    return bool((await session.execute(stmt)).scalar_one())


class PaymentRepository(TenantRepository[Payment]):
    model = Payment

    async def by_order(self, order_id: str, *, for_update: bool = False) -> Payment | None:
        stmt = select(Payment).where(Payment.razorpay_order_id == order_id).execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def capture(self, payment: Payment, razorpay_payment_id: str, at: datetime) -> bool:
        """Mark captured, unless it already is: True for the one call that did it."""
        stmt = (
            update(Payment)
            .where(
                Payment.tenant_id == self.tenant_id,
                Payment.id == payment.id,
                Payment.status != PaymentStatus.captured,
            )
            .values(
                status=PaymentStatus.captured,
                razorpay_payment_id=razorpay_payment_id,
                captured_at=at,
                failure_reason=None,
                updated_at=func.now(),
            )
        )
        return await self._moved(stmt, payment)

    async def fail(self, payment: Payment, razorpay_payment_id: str | None, reason: str | None) -> bool:
        """created -> failed; a failed or captured payment stays as it is. True if it moved."""
        stmt = (
            update(Payment)
            .where(
                Payment.tenant_id == self.tenant_id,
                Payment.id == payment.id,
                Payment.status == PaymentStatus.created,
            )
            .values(
                status=PaymentStatus.failed,
                razorpay_payment_id=func.coalesce(razorpay_payment_id, Payment.razorpay_payment_id),
                failure_reason=reason,
                updated_at=func.now(),
            )
        )
        return await self._moved(stmt, payment)

    async def _moved(self, guarded_update: Update, payment: Payment) -> bool:
        """Run a guarded UPDATE of `payment`: True if it matched (the state moved), then reload it."""
        stmt = guarded_update.returning(Payment.id).execution_options(synchronize_session=False)
        moved = (await self.session.execute(stmt)).scalar_one_or_none() is not None
        await self.session.refresh(payment)
        return moved

    async def applied(self, payment: Payment, *, start: datetime, end: datetime, subscription_id: uuid.UUID) -> None:
        payment.period_start, payment.period_end, payment.subscription_id = start, end, subscription_id
        await self.session.flush()

    async def latest_captured(self, subscription_id: uuid.UUID, plan_code: str) -> Payment | None:
        """The last captured payment for `plan_code` that started the subscription row `subscription_id`."""
        stmt = (
            select(Payment)
            .where(
                Payment.status == PaymentStatus.captured,
                Payment.subscription_id == subscription_id,
                Payment.plan_code == plan_code,
            )
            .order_by(Payment.captured_at.desc(), Payment.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def note_event(self, payment: Payment, event_id: str) -> None:
        stmt = (
            update(Payment)
            .where(Payment.tenant_id == self.tenant_id, Payment.id == payment.id)
            .values(event_ids=func.array_append(Payment.event_ids, event_id), updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)
        await self.session.refresh(payment)

    async def saas_invoice_due(self, at: datetime) -> list[uuid.UUID]:
        """Ids of payments captured by `at` whose SaaS invoice is not recorded yet, oldest first."""
        stmt = (
            select(Payment.id)
            .where(
                Payment.status == PaymentStatus.captured,
                Payment.saas_invoice_id.is_(None),
                Payment.captured_at <= at,
            )
            .order_by(Payment.captured_at, Payment.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def record_saas_invoice(self, payment_id: uuid.UUID, invoice_id: uuid.UUID, number: str) -> bool:
        """Note the SaaS invoice on the payment, once (False: it already names one)."""
        stmt = (
            update(Payment)
            .where(Payment.tenant_id == self.tenant_id, Payment.id == payment_id, Payment.saas_invoice_id.is_(None))
            .values(saas_invoice_id=invoice_id, saas_invoice_number=number, updated_at=func.now())
            .returning(Payment.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]:
        """Newest first (ids are UUIDv7, so id order is creation order)."""
        return await self.page(select(Payment), limit=limit, cursor=cursor, descending=True)


class PaymentEventRepository(TenantRepository[PaymentEvent]):
    model = PaymentEvent

    async def claim(self, *, event_id: str, event_type: str, payment_id: uuid.UUID, outcome: str, at: datetime) -> bool:
        """Record the event unless it was processed before: False for a duplicate. A concurrent
        duplicate waits here for the first one's transaction, then finds the row."""
        stmt = (
            insert(PaymentEvent)
            .values(
                tenant_id=self.tenant_id,
                id=new_id(),
                event_id=event_id,
                event_type=event_type,
                payment_id=payment_id,
                outcome=outcome,
                received_at=at,
            )
            .on_conflict_do_nothing(index_elements=[PaymentEvent.tenant_id, PaymentEvent.event_id])
            .returning(PaymentEvent.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None
