"""document types and full financial years

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 22:30:00

Issue 8, GST:
- invoices.document_type (tax_invoice / bill_of_supply / invoice_cum_bill_of_supply) and
  invoices.supplier_registration_type (regular / composition / unregistered), computed on drafts
  and frozen at issue. Existing rows are filled from what they hold: the supplier snapshot's GSTIN
  (none = unregistered, else the tenant's current registration type), the lines' rates, the place
  of supply (96 = export), the customer's SEZ flag and the recipient snapshot's GSTIN.
- gst_settings.bill_of_supply_number_pattern: NULL = bills of supply share the invoice series.
- number_series keyed by the full financial year ('2026-27' instead of '26-27', which FY 1999-00
  and 2099-00 shared). Each existing counter is rewritten to the full year of the documents
  numbered from it; when documents of two centuries shared one counter, each century's series
  continues from the shared counter (numbers stay unique, never reused). A counter with no
  document left is read as 20yy. The printed `{fy}` token stays short.

The owner reads and rewrites every tenant's rows only while FORCE ROW LEVEL SECURITY is lifted,
inside this migration's transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT_TYPES = "('tax_invoice', 'bill_of_supply', 'invoice_cum_bill_of_supply')"
REGISTRATION_TYPES = "('regular', 'composition', 'unregistered')"
READ_TABLES = ("number_series", "invoices", "invoice_lines", "customers", "gst_settings", "credit_notes", "receipts")

FILL_REGISTRATION = """
UPDATE invoices AS i SET supplier_registration_type = CASE
    WHEN i.supplier ->> 'gstin' IS NULL THEN 'unregistered'
    ELSE coalesce((SELECT g.registration_type FROM gst_settings g WHERE g.tenant_id = i.tenant_id), 'regular')
END
"""
FILL_DOCUMENT_TYPE = """
UPDATE invoices AS i SET document_type = CASE
    WHEN i.supplier_registration_type <> 'regular' THEN 'bill_of_supply'
    WHEN c.is_sez OR i.place_of_supply = '96' OR NOT EXISTS (
        SELECT 1 FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id AND l.gst_rate = 0
    ) THEN 'tax_invoice'
    WHEN NOT EXISTS (
        SELECT 1 FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id AND l.gst_rate > 0
    ) THEN 'bill_of_supply'
    WHEN i.recipient ->> 'gstin' IS NOT NULL THEN 'tax_invoice'
    ELSE 'invoice_cum_bill_of_supply'
END
FROM customers AS c WHERE c.tenant_id = i.tenant_id AND c.id = i.customer_id
"""
START_YEAR = "(extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 4 THEN 1 ELSE 0 END)"
REKEY_SERIES = f"""
WITH documents AS (
    SELECT tenant_id, company_id, 'invoice' AS document_type, financial_year, invoice_date AS day
    FROM invoices WHERE number IS NOT NULL
    UNION ALL
    SELECT tenant_id, company_id, 'credit_note', financial_year, credit_note_date FROM credit_notes
    UNION ALL
    SELECT tenant_id, company_id, 'receipt', financial_year, receipt_date FROM receipts
), years AS (
    SELECT DISTINCT tenant_id, company_id, document_type, financial_year, {START_YEAR} AS start FROM documents
), rekeyed AS (
    SELECT s.tenant_id, s.company_id, s.document_type, y.start, s.last_seq
    FROM number_series s JOIN years y USING (tenant_id, company_id, document_type, financial_year)
    UNION ALL
    SELECT s.tenant_id, s.company_id, s.document_type, 2000 + left(s.financial_year, 2)::int, s.last_seq
    FROM number_series s
    WHERE NOT EXISTS (
        SELECT 1 FROM years y WHERE (y.tenant_id, y.company_id, y.document_type, y.financial_year)
            = (s.tenant_id, s.company_id, s.document_type, s.financial_year)
    )
)
INSERT INTO number_series (tenant_id, company_id, document_type, financial_year, last_seq)
SELECT tenant_id, company_id, document_type, start || '-' || lpad(((start + 1) % 100)::text, 2, '0'), last_seq
FROM rekeyed
"""
# Back to the short key; counters of two centuries that now share it keep the higher.
SHORTEN_SERIES = """
INSERT INTO number_series (tenant_id, company_id, document_type, financial_year, last_seq)
SELECT tenant_id, company_id, document_type, right(financial_year, 5), max(last_seq)
FROM number_series WHERE length(financial_year) = 7 AND document_type <> 'bill_of_supply'
GROUP BY tenant_id, company_id, document_type, right(financial_year, 5)
"""


def _without_force(statements: list[str]) -> None:
    for table in READ_TABLES:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    for statement in statements:
        op.execute(statement)
    for table in READ_TABLES:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.add_column('gst_settings', sa.Column('bill_of_supply_number_pattern', sa.String(length=40), nullable=True))
    op.add_column('invoices', sa.Column('document_type', sa.String(length=30), nullable=True))
    op.add_column('invoices', sa.Column('supplier_registration_type', sa.String(length=20), nullable=True))
    op.drop_constraint(op.f('ck_number_series_document_type'), 'number_series', type_='check')
    op.alter_column(
        'number_series', 'financial_year', existing_type=sa.String(length=5), type_=sa.String(length=7),
        existing_nullable=False,
    )
    _without_force([
        FILL_REGISTRATION,
        FILL_DOCUMENT_TYPE,
        REKEY_SERIES,
        "DELETE FROM number_series WHERE length(financial_year) = 5",
    ])
    op.alter_column('invoices', 'document_type', existing_type=sa.String(length=30), nullable=False)
    op.alter_column('invoices', 'supplier_registration_type', existing_type=sa.String(length=20), nullable=False)
    op.create_check_constraint(op.f('ck_invoices_document_type'), 'invoices', f"document_type IN {DOCUMENT_TYPES}")
    op.create_check_constraint(
        op.f('ck_invoices_supplier_registration_type'), 'invoices',
        f"supplier_registration_type IN {REGISTRATION_TYPES}",
    )
    op.create_check_constraint(
        op.f('ck_number_series_document_type'), 'number_series',
        "document_type IN ('invoice', 'bill_of_supply', 'credit_note', 'receipt')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f('ck_number_series_document_type'), 'number_series', type_='check')
    _without_force([SHORTEN_SERIES, "DELETE FROM number_series WHERE length(financial_year) = 7"])
    op.alter_column(
        'number_series', 'financial_year', existing_type=sa.String(length=7), type_=sa.String(length=5),
        existing_nullable=False,
    )
    op.create_check_constraint(
        op.f('ck_number_series_document_type'), 'number_series',
        "document_type IN ('invoice', 'credit_note', 'receipt')",
    )
    op.drop_constraint(op.f('ck_invoices_supplier_registration_type'), 'invoices', type_='check')
    op.drop_constraint(op.f('ck_invoices_document_type'), 'invoices', type_='check')
    op.drop_column('invoices', 'supplier_registration_type')
    op.drop_column('invoices', 'document_type')
    op.drop_column('gst_settings', 'bill_of_supply_number_pattern')
