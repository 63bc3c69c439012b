import uuid
from datetime import datetime

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, new_id


class Tenant(Timestamps, Base):
    """A business using RMS Billing. Its own id is its tenant id (RLS on `id`)."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    business_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    trial_start_date: Mapped[datetime | None]
    trial_end_date: Mapped[datetime | None]
    is_trial_used: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
