from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, PrimaryKeyConstraint, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, utcnow


class OccasionKind(StrEnum):
    trial_reminder = "trial_reminder"  # key: the trial day (7, 12, 13)
    renewal_reminder = "renewal_reminder"  # key: the paid period's end, epoch seconds (once per period)
    subscription_notice = "subscription_notice"  # key: the free/grace/locked row a lapse started
    payment_reminder = "payment_reminder"  # key: "<invoice id>:<days from the due date>" (sent or skipped)
    low_stock_digest = "low_stock_digest"  # key: the day in India, YYYY-MM-DD (app.services.catalog.stock_digest)


KIND_CHECK = "kind IN ({})".format(", ".join(f"'{k.value}'" for k in OccasionKind))


class JobOccasion(TenantOwned, Base):
    """What a scheduled job has produced, once per (tenant, kind, key): claimed with INSERT ... ON
    CONFLICT DO NOTHING in the transaction that produces it, so two workers cannot both produce it."""

    __tablename__ = "job_occasions"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "kind", "occasion_key"),
        CheckConstraint(KIND_CHECK, name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    occasion_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    detail: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
