from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"


class OutboxEmail(TenantScoped, Base):
    """Mail is written here in the request's transaction and delivered after commit; what failed is
    retried by the scheduled job (app/services/scheduler.py) with backoff, up to MAIL_MAX_ATTEMPTS."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent')", name="status"),
        Index("ix_outbox_emails_tenant_id_status", "tenant_id", "status"),
        # the retry job's scan across tenants (migration 0007)
        Index(
            "ix_outbox_emails_pending_next_attempt_at", "next_attempt_at", postgresql_where=text("status = 'pending'")
        ),
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
    # a failed delivery is tried again from then on (backoff); NULL = never attempted
    next_attempt_at: Mapped[datetime | None]
