import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, new_id


class Tenant(Timestamps, Base):
    """A business using RMS Billing. Its own id is its tenant id (RLS on `id`)."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("(closed_at IS NULL) = (purge_after IS NULL)", name="closed"),
        CheckConstraint("billing_state_code IS NULL OR billing_state_code ~ '^[0-9]{2}$'", name="billing_state_code"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    business_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    trial_start_date: Mapped[datetime | None]
    trial_end_date: Mapped[datetime | None]
    is_trial_used: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Migration 0031. The tenant's own tax details, for the SaaS's invoices to it (GSTIN optional).
    gstin: Mapped[str | None] = mapped_column(String(15))
    billing_state_code: Mapped[str | None] = mapped_column(String(2))
    billing_address: Mapped[str | None] = mapped_column(Text)
    # POST /tenants/me/delete: closed at once (logins refused), purged by the scheduled job after
    # purge_after unless the owner cancels before then. Both NULL while open.
    closed_at: Mapped[datetime | None]
    purge_after: Mapped[datetime | None]
