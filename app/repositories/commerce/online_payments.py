"""Online payments of the tenant's customers (a Payment Link for an invoice, a gateway order for an
order) and their refunds: lookups, the guarded state moves that make a capture count once, and the
list with its filters."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Update, and_, func, or_, select, text, update

from app.models.commerce.online_payment import OnlinePayment, Refund
from app.repositories.base import SortKey, TenantRepository

SORTS = {
    "created_at": SortKey(OnlinePayment.created_at),
    "-created_at": SortKey(OnlinePayment.created_at, descending=True),
}
# A link the customer can still pay: not paid, not cancelled, not expired (a failed attempt leaves
# the link open: Razorpay lets the buyer try again).
OPEN_STATUSES = ("created", "failed")


@dataclass(frozen=True)
class OnlinePaymentFilters:
    purpose: str | None = None
    status: str | None = None
    invoice_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    refund_due: bool | None = None
    razorpay_payment_id: str | None = None
    now: datetime | None = None  # `status` as a read shows it: an open payment past its expiry is expired


class OnlinePaymentRepository(TenantRepository[OnlinePayment]):
    model = OnlinePayment

    async def get(self, id_: uuid.UUID, *, for_update: bool = False) -> OnlinePayment | None:
        stmt = select(OnlinePayment).where(OnlinePayment.id == id_).execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_gateway_ref(self, gateway_ref: str, *, for_update: bool = False) -> OnlinePayment | None:
        """The payment whose Payment Link or gateway order is `gateway_ref` (plink_... / order_...)."""
        stmt = select(OnlinePayment).where(OnlinePayment.gateway_ref == gateway_ref)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()

    async def by_razorpay_payment_id(self, payment_id: str, *, for_update: bool = False) -> OnlinePayment | None:
        """The payment that Razorpay's payment `payment_id` paid (recorded at capture)."""
        stmt = select(OnlinePayment).where(OnlinePayment.razorpay_payment_id == payment_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()

    async def lock_invoice_links(self, invoice_id: uuid.UUID) -> None:
        """A transaction-scoped advisory lock on (this tenant, the invoice's payment links): link
        makers for one invoice queue here, so one invoice has one open link. Payments and receipts
        do not take it (a gateway call runs while it is held)."""
        key = f"payment-links:{self.tenant_id}:{invoice_id}"
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    async def open_links(self, invoice_id: uuid.UUID, now: datetime) -> list[OnlinePayment]:
        """The invoice's links a customer can still pay, newest first."""
        stmt = (
            select(OnlinePayment)
            .where(
                OnlinePayment.invoice_id == invoice_id,
                OnlinePayment.gateway_kind == "payment_link",
                OnlinePayment.status.in_(OPEN_STATUSES),
                or_(OnlinePayment.expires_at.is_(None), OnlinePayment.expires_at > now),
            )
            .order_by(OnlinePayment.created_at.desc(), OnlinePayment.id.desc())
        )
        return list((await self.session.execute(stmt)).scalars())

    async def mark_paid(
        self, payment: OnlinePayment, *, razorpay_payment_id: str, amount_paid: Decimal, at: datetime
    ) -> bool:
        """Any status but paid -> paid (money received is a fact, even on an expired or cancelled
        link): True for the one call that moved it."""
        stmt = (
            update(OnlinePayment)
            .where(
                OnlinePayment.tenant_id == self.tenant_id,
                OnlinePayment.id == payment.id,
                OnlinePayment.status != "paid",
            )
            .values(
                status="paid",
                razorpay_payment_id=razorpay_payment_id,
                amount_paid=amount_paid,
                paid_at=at,
                updated_at=func.now(),
            )
        )
        return await self._moved(stmt, payment)

    async def mark_failed(self, payment: OnlinePayment, *, reason: str | None) -> bool:
        """created or failed -> failed (the latest attempt's reason; its payment id is not kept: the
        column holds the payment that paid); paid, expired and cancelled stay. True if it changed."""
        stmt = (
            update(OnlinePayment)
            .where(
                OnlinePayment.tenant_id == self.tenant_id,
                OnlinePayment.id == payment.id,
                OnlinePayment.status.in_(OPEN_STATUSES),
            )
            .values(status="failed", failure_reason=reason, updated_at=func.now())
        )
        return await self._moved(stmt, payment)

    async def mark_cancelled(self, payment: OnlinePayment) -> bool:
        stmt = (
            update(OnlinePayment)
            .where(
                OnlinePayment.tenant_id == self.tenant_id,
                OnlinePayment.id == payment.id,
                OnlinePayment.status.in_(OPEN_STATUSES),
            )
            .values(status="cancelled", updated_at=func.now())
        )
        return await self._moved(stmt, payment)

    async def _moved(self, guarded_update: Update, payment: OnlinePayment) -> bool:
        stmt = guarded_update.returning(OnlinePayment.id).execution_options(synchronize_session=False)
        moved = (await self.session.execute(stmt)).scalar_one_or_none() is not None
        await self.session.refresh(payment)
        return moved

    async def list_page(
        self, filters: OnlinePaymentFilters, *, limit: int, cursor: str | None, sort: str
    ) -> tuple[list[OnlinePayment], str | None]:
        stmt = select(OnlinePayment)
        for condition in _conditions(filters):
            stmt = stmt.where(condition)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SORTS[sort])


class RefundRepository(TenantRepository[Refund]):
    model = Refund

    async def by_razorpay_refund_id(self, refund_id: str, *, for_update: bool = False) -> Refund | None:
        stmt = select(Refund).where(Refund.razorpay_refund_id == refund_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


def _conditions(f: OnlinePaymentFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.purpose is not None:
        conditions.append(OnlinePayment.purpose == f.purpose)
    if f.status is not None:
        conditions.append(_status_is(f.status, f.now))
    if f.invoice_id is not None:
        conditions.append(OnlinePayment.invoice_id == f.invoice_id)
    if f.order_id is not None:
        conditions.append(OnlinePayment.order_id == f.order_id)
    if f.customer_id is not None:
        conditions.append(OnlinePayment.customer_id == f.customer_id)
    if f.refund_due is not None:
        conditions.append(OnlinePayment.refund_due.is_(f.refund_due))
    if f.razorpay_payment_id is not None:
        conditions.append(OnlinePayment.razorpay_payment_id == f.razorpay_payment_id)
    return conditions


def _status_is(status: str, now: datetime | None) -> ColumnElement[bool]:
    if now is None:
        return OnlinePayment.status == status
    lapsed = and_(OnlinePayment.expires_at.is_not(None), OnlinePayment.expires_at <= now)
    if status == "expired":
        return or_(OnlinePayment.status == "expired", and_(OnlinePayment.status.in_(OPEN_STATUSES), lapsed))
    if status in OPEN_STATUSES:
        return and_(OnlinePayment.status == status, ~lapsed)
    return OnlinePayment.status == status
