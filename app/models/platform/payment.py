import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk, utcnow


class PaymentStatus(StrEnum):
    """Ordered: a payment only moves to a later status (created < failed < captured). A failed
    attempt may still be followed by a capture (the buyer retries in checkout); nothing follows
    a capture."""

    created = "created"
    failed = "failed"
    captured = "captured"


STATUS_RANK = {status: rank for rank, status in enumerate(PaymentStatus)}
STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s.value}'" for s in PaymentStatus))


class Payment(TenantScoped, Timestamps, Base):
    """One Razorpay order for a plan, and what became of it. `razorpay_order_id` is unique across
    tenants (Razorpay's ids are global): `razorpay_orders` (below) holds that global key and the
    webhook finds the owning tenant there; here it is unique within the tenant. The period is set
    once, when the capture activated the plan."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("amount_paise > 0", name="amount_paise"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("(status = 'captured') = (captured_at IS NOT NULL)", name="captured_at"),
        CheckConstraint("status <> 'captured' OR razorpay_payment_id IS NOT NULL", name="captured_payment_id"),
        CheckConstraint("period_end IS NULL OR period_end > period_start", name="period_order"),
        tenant_fk(["subscription_id"], "subscriptions"),
        Index("uq_payments_tenant_id_razorpay_order_id", "tenant_id", "razorpay_order_id", unique=True),
        Index("ix_payments_tenant_id_created_at", "tenant_id", "created_at"),
        # migration 0038: captured payments still without the SaaS's invoice (the scheduler's scan)
        Index(
            "ix_payments_tenant_id_saas_invoice_due",
            "tenant_id",
            postgresql_where=text("status = 'captured' AND saas_invoice_id IS NULL"),
        ),
    )

    razorpay_order_id: Mapped[str] = mapped_column(String(64))
    razorpay_payment_id: Mapped[str | None] = mapped_column(String(64))
    plan_code: Mapped[str] = mapped_column(String(20), ForeignKey("plans.code"))
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'created'"))
    is_sandbox: Mapped[bool] = mapped_column(server_default=text("false"))
    # Webhook event ids that touched this payment, in arrival order (dedupe is payment_events').
    event_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list, server_default=text("'{}'"))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    captured_at: Mapped[datetime | None]
    # What the capture bought, once applied: the period and the subscription row it started.
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    subscription_id: Mapped[uuid.UUID | None]
    # Migration 0031: the SaaS's tax invoice for this payment, once the platform tenant issued it
    # (its id and number in the platform tenant; no foreign key: another tenant's row).
    saas_invoice_id: Mapped[uuid.UUID | None]
    saas_invoice_number: Mapped[str | None] = mapped_column(String(16))


class PaymentEvent(TenantScoped, Base):
    """A processed Razorpay webhook event: its event id is the dedupe key, inserted in the
    transaction that applies the event's effect. Unique within the tenant: an event is about one
    order, so it reaches the same tenant however often it is delivered (the tenant comes from the
    order, before the event id is looked at)."""

    __tablename__ = "payment_events"
    __table_args__ = (
        tenant_fk(["payment_id"], "payments"),
        Index("uq_payment_events_tenant_id_event_id", "tenant_id", "event_id", unique=True),
        Index("ix_payment_events_tenant_id_payment_id", "tenant_id", "payment_id"),
    )

    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[uuid.UUID]
    outcome: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime]


class RazorpayOrder(Base):
    """Global lookup: a Razorpay order id -> the tenant and payment it belongs to (migration 0014).

    Razorpay's order ids are unique across all tenants and a webhook arrives with no tenant, so this
    key cannot live in `payments` (distributed by tenant on Citus); it is a table of its own,
    distributable by `razorpay_order_id`, with no foreign key into tenant tables. Outside row-level
    security, so the application role has no privilege on it: it writes the row through
    `claim_razorpay_order` (for the bound tenant only, in the transaction that adds the payment) and
    reads it through `payment_order_tenant` (one exact order id, answers only the tenant).
    """

    __tablename__ = "razorpay_orders"

    razorpay_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    payment_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
