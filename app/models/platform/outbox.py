import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, tenant_fk, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after MAIL_MAX_ATTEMPTS (rows older than migration 0018: pending at the cap)
    cancelled = "cancelled"  # not to be done any more (a reminder of invoices settled meanwhile); never an alert


class OutboxKind(StrEnum):
    """What the worker does with a row: the handler registered for it (app.services.platform.mail.HANDLERS)."""

    email = "email"


class MailPurpose(StrEnum):
    account = "account"  # the product's own mail to its users (verification, invitations, reminders of the trial)
    document = "document"  # a document sent to a customer (POST /invoices/{id}/send ...)
    reminder = "reminder"  # a payment reminder to a customer (dunning)


# Customer mail: the purposes the hourly per-tenant limit counts.
CUSTOMER_PURPOSES = (MailPurpose.document, MailPurpose.reminder)
MAX_RECIPIENTS = 10  # To, and Cc, each


class OutboxEmail(TenantScoped, Base):
    """Durable after-commit work: written in the request's transaction, done by the worker after
    commit (`kind` picks the handler); what failed is retried by the scheduled job
    (app/services/platform/scheduler.py) with backoff, up to MAIL_MAX_ATTEMPTS, then `failed`."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'cancelled')", name="status"),
        CheckConstraint("kind IN ('email')", name="kind"),
        CheckConstraint("purpose IN ('account', 'document', 'reminder')", name="purpose"),
        CheckConstraint(
            "cardinality(to_addresses) BETWEEN 1 AND 10 AND to_addresses[1] = to_address "
            "AND cardinality(cc_addresses) <= 10",
            name="recipients",
        ),
        CheckConstraint("jsonb_typeof(attachments) = 'array'", name="attachments"),
        Index("ix_outbox_emails_tenant_id_status", "tenant_id", "status"),
        # the retry job's scan across tenants (migration 0007)
        Index(
            "ix_outbox_emails_pending_next_attempt_at", "next_attempt_at", postgresql_where=text("status = 'pending'")
        ),
        # the hourly customer-mail count (migration 0018)
        Index(
            "ix_outbox_emails_tenant_id_created_at_customer",
            "tenant_id",
            "created_at",
            postgresql_where=text("purpose <> 'account'"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(20), default=OutboxKind.email, server_default=text("'email'"))
    purpose: Mapped[str] = mapped_column(String(20), default=MailPurpose.account, server_default=text("'account'"))
    to_address: Mapped[str] = mapped_column(String(320))  # the first of to_addresses
    to_addresses: Mapped[list[str]] = mapped_column(ARRAY(String(320)))
    cc_addresses: Mapped[list[str]] = mapped_column(ARRAY(String(320)), default=list, server_default=text("'{}'"))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    sender_name: Mapped[str | None] = mapped_column(String(200))  # the From display name (else MAIL_FROM's)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # document references rendered to PDF at delivery: [{"kind": "invoice", "id": "...", "copy": "original"}]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.pending, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    sent_at: Mapped[datetime | None]
    # a failed delivery is tried again from then on (backoff); NULL = never attempted, or given up
    next_attempt_at: Mapped[datetime | None]


class OutboxEmailDocument(TenantScoped, Base):
    """A document a mail is about (a reminder lists several invoices): exactly one of the four."""

    __tablename__ = "outbox_email_documents"
    __table_args__ = (
        tenant_fk(["email_id"], "outbox_emails", ondelete="CASCADE"),
        tenant_fk(["invoice_id"], "invoices"),
        tenant_fk(["credit_note_id"], "credit_notes"),
        tenant_fk(["receipt_id"], "receipts"),
        tenant_fk(["customer_id"], "customers"),
        CheckConstraint("num_nonnulls(invoice_id, credit_note_id, receipt_id, customer_id) = 1", name="one_document"),
        Index("ix_outbox_email_documents_tenant_id_email_id", "tenant_id", "email_id"),
        *(
            Index(
                f"ix_outbox_email_documents_tenant_id_{column}",
                "tenant_id",
                column,
                "email_id",
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("invoice_id", "credit_note_id", "receipt_id", "customer_id")
        ),
    )

    email_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID | None]
    credit_note_id: Mapped[uuid.UUID | None]
    receipt_id: Mapped[uuid.UUID | None]
    customer_id: Mapped[uuid.UUID | None]  # a statement of account
