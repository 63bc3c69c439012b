"""Business events (the outbox of what happened to a tenant's business) and the outbound webhooks
that deliver them (Standard Webhooks)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk, utcnow

ENDPOINT_STATUSES = ("active", "disabled")
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class BusinessEvent(TenantScoped, Base):
    """Something that happened (invoice.issued, receipt.created, ...), written by
    app.services.platform.events.record in the transaction of the change itself, so an event exists
    exactly when its change committed. Never changed afterwards. `seq` orders events (a global
    identity: commits may land out of seq order, so readers order by it but never use it as a
    cursor of "everything before this has been seen"). `payload_version` versions `payload`'s
    shape per event type; `resource_type`/`resource_id` name the thing it is about (in-order
    delivery is per resource)."""

    __tablename__ = "business_events"
    __table_args__ = (
        CheckConstraint("event_type ~ '^[a-z_]+(\\.[a-z_]+)+$'", name="event_type"),
        CheckConstraint("payload_version >= 1", name="payload_version"),
        CheckConstraint("jsonb_typeof(payload) = 'object'", name="payload"),
        Index("uq_business_events_tenant_id_seq", "tenant_id", "seq", unique=True),
        Index("ix_business_events_tenant_id_occurred_at", "tenant_id", "occurred_at"),
        Index("ix_business_events_tenant_id_event_type_occurred_at", "tenant_id", "event_type", "occurred_at"),
        Index("ix_business_events_tenant_id_resource", "tenant_id", "resource_type", "resource_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False))
    event_type: Mapped[str] = mapped_column(String(60))
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    payload_version: Mapped[int] = mapped_column(SmallInteger, default=1, server_default=text("1"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
    actor_user_id: Mapped[uuid.UUID | None]


class WebhookEndpoint(TenantScoped, Timestamps, Base):
    """Where a tenant wants its events POSTed. `event_types` empty = every type. The signing secret
    (Standard Webhooks `whsec_...`) is encrypted with app.core.secret_box and shown once, at create
    (and at rotation). `failing_since`: the first failure of the current run of failures (NULL
    while healthy); an endpoint failing for DISABLE_AFTER is disabled and its owner mailed."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
        CheckConstraint("(status = 'disabled') = (disabled_at IS NOT NULL)", name="disabled_at"),
        CheckConstraint("url ~ '^https?://'", name="url"),
        Index("ix_webhook_endpoints_tenant_id_status", "tenant_id", "status"),
    )

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default=text("'{}'"))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="active", server_default=text("'active'"))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    failing_since: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]


class WebhookDelivery(TenantScoped, Base):
    """One event to one endpoint: made in the event's own transaction (fan-out at write) for every
    active endpoint subscribed to its type; a redelivery is a new row (`redelivery_of`). Delivered
    by the worker in `event_seq` order per (endpoint, resource): a row waits while an older row of
    the same endpoint and resource is still pending. Retried with backoff until `succeeded`, or
    `failed` once RETRY_WINDOW (3 days) after the first attempt has passed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        tenant_fk(["endpoint_id"], "webhook_endpoints", ondelete="CASCADE"),
        tenant_fk(["event_id"], "business_events"),
        tenant_fk(["redelivery_of"], "webhook_deliveries"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("(status = 'succeeded') = (delivered_at IS NOT NULL)", name="delivered_at"),
        Index("ix_webhook_deliveries_tenant_id_endpoint_id_created_at", "tenant_id", "endpoint_id", "created_at"),
        Index(
            "ix_webhook_deliveries_pending_order",
            "tenant_id",
            "endpoint_id",
            "resource_id",
            "event_seq",
            postgresql_where=text("status = 'pending'"),
        ),
        # the worker's scan across tenants
        Index(
            "ix_webhook_deliveries_pending_next_attempt_at",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    endpoint_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    event_seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, server_default=func.now())
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    redelivery_of: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
