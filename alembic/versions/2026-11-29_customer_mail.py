"""customer mail: the outbox as durable after-commit work (issue 10 §2, §5)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 03:40:00

`outbox_emails` becomes the one "after-commit work" table: a row written in the request's
transaction, delivered by the worker after commit, retried with backoff, visible.
- `kind` (CHECK, 'email' only for now): the worker dispatches on it to a handler registered in
  code (`app.services.mail.HANDLERS`). A later kind (issue 13: exports, webhooks) adds its value
  to the CHECK, its columns (nullable, with a CHECK tying them to its kind) and one handler.
- customer mail: every To recipient (`to_addresses`; `to_address` stays the first, as before),
  `cc_addresses`, `reply_to`, `sender_name` (the From display name), `purpose` ('account' for the
  product's own mail, 'document' for a document sent to a customer, 'reminder' for dunning) and
  `attachments` (a JSON list of document references `{kind, id, copy?, start?, end?}` rendered to
  PDF at delivery, never stored as bytes).
- `status` gains 'failed': the terminal state after MAIL_MAX_ATTEMPTS failed attempts, and
  'cancelled': work that must not be done any more (a payment reminder whose invoices were all
  settled while it waited for SMTP), with the reason in `last_error`. Rows that
  gave up before this migration stay 'pending' at or over the cap (the attempt cap is a setting the
  migration cannot know), and every reader counts both as given up, as `outbox_backlog` did.
- `outbox_email_documents`: which documents a mail is about (a reminder lists several invoices),
  one row per document, composite foreign keys to the mail and to the document (exactly one of
  invoice, credit note, receipt or customer (a statement)), row-level security like every tenant
  table. `GET /invoices/{id}/deliveries` reads it.
- `plans.customer_emails_per_hour`: the per-tenant hourly cap on customer mail (purpose document
  or reminder); NULL = the operator's CUSTOMER_EMAILS_PER_HOUR setting.
- `outbox_backlog(max_attempts)` (migration 0015) counts 'failed' rows as undeliverable too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op
from app.core.migration_helpers import enable_tenant_rls

revision: str = "0018"
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# code -> customer mails per hour (None: the operator's setting)
EMAILS_PER_HOUR = {"trial": 20, "free": 20, "standard": 300, "premium": 1000}
DOCUMENT_COLUMNS = {
    "invoice_id": "invoices",
    "credit_note_id": "credit_notes",
    "receipt_id": "receipts",
    "customer_id": "customers",
}

BACKLOG = """
CREATE OR REPLACE FUNCTION outbox_backlog(max_attempts integer)
RETURNS TABLE (pending bigint, undeliverable bigint, oldest_created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT count(*) FILTER (WHERE m.status = 'pending' AND m.attempts < max_attempts),
       count(*) FILTER (WHERE m.status = 'failed' OR m.attempts >= max_attempts),
       min(m.created_at)
FROM public.outbox_emails m WHERE m.status IN ('pending', 'failed')
$$"""
BACKLOG_0015 = """
CREATE OR REPLACE FUNCTION outbox_backlog(max_attempts integer)
RETURNS TABLE (pending bigint, undeliverable bigint, oldest_created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT count(*) FILTER (WHERE m.attempts < max_attempts),
       count(*) FILTER (WHERE m.attempts >= max_attempts),
       min(m.created_at)
FROM public.outbox_emails m WHERE m.status = 'pending'
$$"""


def upgrade() -> None:
    op.add_column("outbox_emails", sa.Column("kind", sa.String(20), server_default=sa.text("'email'"), nullable=False))
    op.add_column(
        "outbox_emails", sa.Column("purpose", sa.String(20), server_default=sa.text("'account'"), nullable=False)
    )
    op.add_column("outbox_emails", sa.Column("to_addresses", postgresql.ARRAY(sa.String(320)), nullable=True))
    op.execute("UPDATE outbox_emails SET to_addresses = ARRAY[to_address]")
    op.alter_column("outbox_emails", "to_addresses", nullable=False)
    op.add_column(
        "outbox_emails",
        sa.Column("cc_addresses", postgresql.ARRAY(sa.String(320)), server_default=sa.text("'{}'"), nullable=False),
    )
    op.add_column("outbox_emails", sa.Column("reply_to", sa.String(320), nullable=True))
    op.add_column("outbox_emails", sa.Column("sender_name", sa.String(200), nullable=True))
    op.add_column(
        "outbox_emails",
        sa.Column(
            "attachments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.create_check_constraint(op.f("ck_outbox_emails_kind"), "outbox_emails", "kind IN ('email')")
    op.create_check_constraint(
        op.f("ck_outbox_emails_purpose"), "outbox_emails", "purpose IN ('account', 'document', 'reminder')"
    )
    op.create_check_constraint(
        op.f("ck_outbox_emails_recipients"),
        "outbox_emails",
        "cardinality(to_addresses) BETWEEN 1 AND 10 AND to_addresses[1] = to_address "
        "AND cardinality(cc_addresses) <= 10",
    )
    op.create_check_constraint(
        op.f("ck_outbox_emails_attachments"), "outbox_emails", "jsonb_typeof(attachments) = 'array'"
    )
    op.drop_constraint(op.f("ck_outbox_emails_status"), "outbox_emails", type_="check")
    op.create_check_constraint(
        op.f("ck_outbox_emails_status"), "outbox_emails", "status IN ('pending', 'sent', 'failed', 'cancelled')"
    )
    # the hourly customer-mail count (app.services.document_mail): the tenant's last hour of it
    op.create_index(
        "ix_outbox_emails_tenant_id_created_at_customer",
        "outbox_emails",
        ["tenant_id", "created_at"],
        postgresql_where=sa.text("purpose <> 'account'"),
    )
    op.execute(BACKLOG)

    op.create_table(
        "outbox_email_documents",
        sa.Column("email_id", sa.Uuid(), nullable=False),
        *(sa.Column(column, sa.Uuid(), nullable=True) for column in DOCUMENT_COLUMNS),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            f"num_nonnulls({', '.join(DOCUMENT_COLUMNS)}) = 1", name=op.f("ck_outbox_email_documents_one_document")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "email_id"],
            ["outbox_emails.tenant_id", "outbox_emails.id"],
            name=op.f("fk_outbox_email_documents_tenant_id_email_id_outbox_emails"),
            ondelete="CASCADE",
        ),
        *(
            sa.ForeignKeyConstraint(
                ["tenant_id", column],
                [f"{table}.tenant_id", f"{table}.id"],
                name=op.f(f"fk_outbox_email_documents_tenant_id_{column}_{table}"),
            )
            for column, table in DOCUMENT_COLUMNS.items()
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outbox_email_documents_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_outbox_email_documents")),
    )
    op.create_index("ix_outbox_email_documents_tenant_id_email_id", "outbox_email_documents", ["tenant_id", "email_id"])
    for column in DOCUMENT_COLUMNS:
        op.create_index(
            f"ix_outbox_email_documents_tenant_id_{column}",
            "outbox_email_documents",
            ["tenant_id", column, "email_id"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    enable_tenant_rls("outbox_email_documents")

    op.add_column("plans", sa.Column("customer_emails_per_hour", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_plans_customer_emails_per_hour"),
        "plans",
        "customer_emails_per_hour IS NULL OR customer_emails_per_hour >= 0",
    )
    for code, per_hour in EMAILS_PER_HOUR.items():
        op.execute(
            sa.text("UPDATE plans SET customer_emails_per_hour = :n WHERE code = :code").bindparams(
                n=per_hour, code=code
            )
        )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_plans_customer_emails_per_hour"), "plans", type_="check")
    op.drop_column("plans", "customer_emails_per_hour")
    op.drop_table("outbox_email_documents")
    op.execute(BACKLOG_0015)
    op.drop_index("ix_outbox_emails_tenant_id_created_at_customer", table_name="outbox_emails")
    op.drop_constraint(op.f("ck_outbox_emails_status"), "outbox_emails", type_="check")
    # a given-up message is what it was before: pending at the attempt cap
    op.execute("UPDATE outbox_emails SET status = 'pending' WHERE status = 'failed'")
    op.execute("UPDATE outbox_emails SET status = 'sent' WHERE status = 'cancelled'")
    op.create_check_constraint(op.f("ck_outbox_emails_status"), "outbox_emails", "status IN ('pending', 'sent')")
    for name in ("attachments", "recipients", "purpose", "kind"):
        op.drop_constraint(op.f(f"ck_outbox_emails_{name}"), "outbox_emails", type_="check")
    for column in ("attachments", "sender_name", "reply_to", "cc_addresses", "to_addresses", "purpose", "kind"):
        op.drop_column("outbox_emails", column)
