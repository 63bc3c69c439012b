"""Share links: a public, expiring, revocable URL to one issued invoice (GET /p/<token>)."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, tenant_fk, utcnow


class ShareLink(TenantScoped, Base):
    """Only the SHA-256 of the token is stored; the token itself is shown once, when the link is made.
    A link is live while `revoked_at` is NULL and `expires_at` is ahead (the public page finds it by
    the hash through the SECURITY DEFINER function `share_link_of`, migration 0019)."""

    __tablename__ = "share_links"
    __table_args__ = (
        tenant_fk(["invoice_id"], "invoices"),
        tenant_fk(["created_by"], "users"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("view_count >= 0", name="view_count"),
        Index("uq_share_links_tenant_id_token_hash", "tenant_id", "token_hash", unique=True),
        # The public page's lookup by hash alone, before a tenant is known (share_link_of).
        Index("ix_share_links_token_hash", "token_hash"),
        Index("ix_share_links_tenant_id_invoice_id", "tenant_id", "invoice_id"),
    )

    invoice_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    view_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_viewed_at: Mapped[datetime | None]
