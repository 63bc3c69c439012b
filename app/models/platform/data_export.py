"""A tenant's full export (a zip built by the worker, kept in the database in chunks until it
expires) and the tax documents kept after a tenant is purged."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, LargeBinary, PrimaryKeyConstraint, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, TenantScoped, tenant_fk, utcnow

EXPORT_STATUSES = ("pending", "running", "done", "failed", "expired")


class TenantExport(TenantScoped, Base):
    """POST /tenants/me/export: built by a durable job (retried by the scheduler while `pending` and
    `next_attempt_at` has passed), stored as `tenant_export_chunks`, offered by a signed link mailed
    to the requester until `expires_at`, then its chunks are deleted and it is `expired`."""

    __tablename__ = "tenant_exports"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed', 'expired')", name="status"),
        CheckConstraint("status NOT IN ('done', 'expired') OR finished_at IS NOT NULL", name="finished"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_tenant_exports_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_tenant_exports_due", "next_attempt_at", postgresql_where=text("status IN ('pending', 'running')")),
        # migration 0034: one pending/running export per tenant; the expiry scan
        Index(
            "uq_tenant_exports_active",
            "tenant_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'running')"),
        ),
        Index("ix_tenant_exports_expiry", "expires_at", postgresql_where=text("status = 'done'")),
    )

    requested_by: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class TenantExportChunk(TenantOwned, Base):
    """The zip's bytes, in order (`seq` from 0), a few MB each."""

    __tablename__ = "tenant_export_chunks"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "export_id", "seq"),
        tenant_fk(["export_id"], "tenant_exports", ondelete="CASCADE"),
    )

    export_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RetainedTaxDocument(Base):
    """What the purge of a deleted tenant keeps: each issued tax document (invoice, credit note) as
    issued (JSON with its lines, and its PDF), until `retain_until` (CGST s.36: 72 months from the
    due date of the annual return of its financial year). Outside row-level security (its tenant no
    longer exists) with no privilege for the application role: written by `retain_tax_document`
    for the bound tenant only; read by the operator; deleted by the owner role once expired."""

    __tablename__ = "retained_tax_documents"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "document_kind", "document_id"),
        CheckConstraint("document_kind IN ('invoice', 'credit_note')", name="document_kind"),
        Index("ix_retained_tax_documents_retain_until", "retain_until"),
    )

    tenant_id: Mapped[uuid.UUID]
    document_kind: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[uuid.UUID]
    supplier_gstin: Mapped[str | None] = mapped_column(String(15))
    number: Mapped[str] = mapped_column(String(16))
    document_date: Mapped[date]
    retain_until: Mapped[date]
    document: Mapped[dict[str, Any]]
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    retained_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
