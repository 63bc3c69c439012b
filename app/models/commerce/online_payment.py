"""Money a tenant's customer pays online through the tenant's gateway, and refunds of it."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk
from app.models.billing.business import MONEY

PAYMENT_PURPOSES = ("invoice", "order")
GATEWAY_KINDS = ("payment_link", "order")
# Ordered: a payment only moves to a later status, except that a failed attempt may still be
# followed by a payment (the buyer retries); nothing follows paid.
ONLINE_PAYMENT_STATUSES = ("created", "failed", "expired", "cancelled", "paid")
REFUND_STATUSES = ("pending", "processed", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class OnlinePayment(TenantScoped, Timestamps, Base):
    """One request for money on the tenant's gateway: a Payment Link for an invoice's balance
    (`purpose` invoice) or a gateway order for a placed order (`purpose` order); `gateway_ref` is
    the link's or order's id there. Once paid, `receipt_id` is the receipt that recorded it (mode
    razorpay, reference = the gateway's payment id), made exactly once. `refund_due` flags money
    that should go back (a payment for a voided invoice, a late payment for a cancelled order)."""

    __tablename__ = "online_payments"
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["customer_id"], "customers"),
        tenant_fk(["invoice_id"], "invoices"),
        tenant_fk(["order_id"], "sales_orders"),
        tenant_fk(["receipt_id"], "receipts"),
        CheckConstraint(_in("purpose", PAYMENT_PURPOSES), name="purpose"),
        CheckConstraint(_in("gateway_kind", GATEWAY_KINDS), name="gateway_kind"),
        CheckConstraint(_in("status", ONLINE_PAYMENT_STATUSES), name="status"),
        CheckConstraint("(purpose = 'invoice') = (invoice_id IS NOT NULL)", name="invoice_purpose"),
        CheckConstraint("(purpose = 'order') = (order_id IS NOT NULL)", name="order_purpose"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL)", name="paid_at"),
        CheckConstraint(
            "status <> 'paid' OR (razorpay_payment_id IS NOT NULL AND amount_paid IS NOT NULL)", name="paid_details"
        ),
        CheckConstraint("amount_refunded >= 0 AND amount_refunded <= coalesce(amount_paid, 0)", name="amount_refunded"),
        Index("uq_online_payments_tenant_id_gateway_ref", "tenant_id", "gateway_ref", unique=True),
        Index(
            "uq_online_payments_tenant_id_razorpay_payment_id",
            "tenant_id",
            "razorpay_payment_id",
            unique=True,
            postgresql_where=text("razorpay_payment_id IS NOT NULL"),
        ),
        Index("ix_online_payments_tenant_id_invoice_id", "tenant_id", "invoice_id"),
        Index("ix_online_payments_tenant_id_order_id", "tenant_id", "order_id"),
        Index("ix_online_payments_tenant_id_created_at", "tenant_id", "created_at"),
    )

    purpose: Mapped[str] = mapped_column(String(10))
    invoice_id: Mapped[uuid.UUID | None]
    order_id: Mapped[uuid.UUID | None]
    company_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    gateway_kind: Mapped[str] = mapped_column(String(20))
    gateway_ref: Mapped[str] = mapped_column(String(64))  # plink_... or order_...
    short_url: Mapped[str | None] = mapped_column(Text)  # a Payment Link's page
    amount: Mapped[Decimal] = mapped_column(MONEY)  # asked for, in rupees
    status: Mapped[str] = mapped_column(String(20), default="created", server_default=text("'created'"))
    is_sandbox: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    expires_at: Mapped[datetime | None]
    razorpay_payment_id: Mapped[str | None] = mapped_column(String(64))
    amount_paid: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_at: Mapped[datetime | None]
    receipt_id: Mapped[uuid.UUID | None]
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    refund_due: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    refund_due_reason: Mapped[str | None] = mapped_column(Text)
    amount_refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))


class Refund(TenantScoped, Timestamps, Base):
    """Money sent back through the gateway for an online payment (all or part of it), with the
    credit note that records what was refunded (goods or an amount) when an invoice was issued.
    Forward only: pending -> processed | failed. Until it fails, its amount counts in the payment's,
    the receipt's and the order's amount_refunded and raises the customer's balance."""

    __tablename__ = "refunds"
    __table_args__ = (
        tenant_fk(["online_payment_id"], "online_payments"),
        tenant_fk(["order_id"], "sales_orders"),
        tenant_fk(["credit_note_id"], "credit_notes"),
        tenant_fk(["customer_id"], "customers"),
        tenant_fk(["receipt_id"], "receipts"),
        CheckConstraint(_in("status", REFUND_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("(status = 'failed') = (failed_at IS NOT NULL)", name="failed_at"),
        CheckConstraint("(status = 'processed') = (processed_at IS NOT NULL)", name="processed_at"),
        Index(
            "uq_refunds_tenant_id_razorpay_refund_id",
            "tenant_id",
            "razorpay_refund_id",
            unique=True,
            postgresql_where=text("razorpay_refund_id IS NOT NULL"),
        ),
        Index("ix_refunds_tenant_id_online_payment_id", "tenant_id", "online_payment_id"),
        Index("ix_refunds_tenant_id_order_id", "tenant_id", "order_id"),
        Index("ix_refunds_tenant_id_customer_id", "tenant_id", "customer_id"),
        Index("ix_refunds_tenant_id_created_at", "tenant_id", "created_at"),
    )

    online_payment_id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID | None]
    customer_id: Mapped[uuid.UUID]  # whose ledger shows it (0029)
    receipt_id: Mapped[uuid.UUID | None]  # the receipt the money came off (0029)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default=text("'pending'"))
    razorpay_refund_id: Mapped[str | None] = mapped_column(String(64))
    credit_note_id: Mapped[uuid.UUID | None]
    restock: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    reason: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    processed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # (0029)
