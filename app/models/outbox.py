from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"


class OutboxEmail(TenantScoped, Base):
    """Mail is written here in the request's transaction and delivered after commit."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent')", name="status"),
        Index("ix_outbox_emails_tenant_id_status", "tenant_id", "status"),
    )

    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.pending, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    sent_at: Mapped[datetime | None]
