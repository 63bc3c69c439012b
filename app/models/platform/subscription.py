from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps


class SubscriptionStatus(StrEnum):
    trialing = "trialing"
    active = "active"
    free = "free"
    grace = "grace"
    locked = "locked"
    cancelled = "cancelled"


STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s.value}'" for s in SubscriptionStatus))


class Subscription(TenantScoped, Timestamps, Base):
    """One row per period or plan change of a tenant (history kept). Exactly one row per tenant is
    current (`is_current`); a row that is superseded gets `ended_at` and is never changed again.
    `current_period_end` NULL = open-ended (the free plan, a locked account)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("is_current = (ended_at IS NULL)", name="ended_unless_current"),
        CheckConstraint("current_period_end IS NULL OR current_period_end > current_period_start", name="period_order"),
        CheckConstraint("trial_end IS NULL OR trial_end > trial_start", name="trial_order"),
        Index("uq_subscriptions_tenant_id_current", "tenant_id", unique=True, postgresql_where=text("is_current")),
        Index("ix_subscriptions_tenant_id_current_period_start", "tenant_id", "current_period_start"),
    )

    plan_code: Mapped[str] = mapped_column(String(20), ForeignKey("plans.code"))
    status: Mapped[str] = mapped_column(String(20))
    trial_start: Mapped[datetime | None]
    trial_end: Mapped[datetime | None]
    current_period_start: Mapped[datetime]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    is_current: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    ended_at: Mapped[datetime | None]
