"""A tenant's own payment gateway account (Razorpay), the global directory that leads a webhook
to its tenant, and the webhook events already applied."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, utcnow

GATEWAY_PROVIDERS = ("razorpay",)


class PaymentGateway(TenantScoped, Timestamps, Base):
    """The tenant's Razorpay account: its key id in the clear, its key secret and webhook secret
    encrypted (app.core.secret_box: the ciphertext names the key that made it, so keys rotate).
    Only the key id and the last 4 characters of the key secret are ever shown. `webhook_id` is
    the random path segment of the tenant's webhook URL (POST /webhooks/razorpay/{webhook_id})."""

    __tablename__ = "payment_gateways"
    __table_args__ = (
        CheckConstraint("provider IN ({})".format(", ".join(f"'{p}'" for p in GATEWAY_PROVIDERS)), name="provider"),
        CheckConstraint("webhook_id ~ '^[A-Za-z0-9_-]{16,40}$'", name="webhook_id"),
        Index("uq_payment_gateways_tenant_id_provider", "tenant_id", "provider", unique=True),
        Index("uq_payment_gateways_tenant_id_webhook_id", "tenant_id", "webhook_id", unique=True),
    )

    provider: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(64))
    key_secret_encrypted: Mapped[str] = mapped_column(Text)
    key_secret_last4: Mapped[str] = mapped_column(String(4))
    webhook_secret_encrypted: Mapped[str] = mapped_column(Text)
    webhook_id: Mapped[str] = mapped_column(String(40))
    # When the keys last answered the harmless check call; NULL: saved unchecked (sandbox mode, 0030).
    verified_at: Mapped[datetime | None]


class GatewayWebhook(Base):
    """Global lookup: a webhook id -> its tenant (like `razorpay_orders`, migration 0014). A webhook
    arrives with no tenant, and this key is unique across tenants, so it is a table of its own,
    outside row-level security and without privileges for the application role: it is written by
    `claim_gateway_webhook` (for the bound tenant) and read by `gateway_webhook_tenant`."""

    __tablename__ = "gateway_webhooks"

    webhook_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class GatewayEvent(TenantScoped, Base):
    """A tenant's webhook event, applied: its event id is the dedupe key, inserted in the
    transaction of the event's effect (after the row it changes is locked)."""

    __tablename__ = "gateway_events"
    __table_args__ = (
        Index("uq_gateway_events_tenant_id_event_id", "tenant_id", "event_id", unique=True),
        Index("ix_gateway_events_tenant_id_received_at", "tenant_id", "received_at"),
    )

    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    online_payment_id: Mapped[uuid.UUID | None]
    refund_id: Mapped[uuid.UUID | None]
    outcome: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime]
