"""search prefix indexes

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 00:40:00

Issue 9, search (`GET /invoices?q=`, `GET /customers?q=`): prefix matches on the invoice number,
the customer's name (lower-cased) and GSTIN, each answered by a btree index led by tenant_id whose
operator class (text_pattern_ops) serves `LIKE 'prefix%'` under any database collation.

Why not pg_trgm (matches anywhere in the text): the extension must be created by a superuser or the
database owner on a managed server, and the embedded PostgreSQL the tests and development use ships
without it (only plpgsql). Prefix indexes need nothing beyond core PostgreSQL.

The customers' lower(name) and gstin indexes are rebuilt with the pattern operator class (they
still serve equality); the invoices' number gets one (issued invoices only: drafts have none).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute('DROP INDEX ix_customers_tenant_id_lower_name')
    op.execute('DROP INDEX ix_customers_tenant_id_gstin')
    op.execute('CREATE INDEX ix_customers_tenant_id_lower_name ON customers (tenant_id, lower(name) text_pattern_ops)')
    op.execute('CREATE INDEX ix_customers_tenant_id_gstin ON customers (tenant_id, gstin text_pattern_ops)')
    op.execute(
        'CREATE INDEX ix_invoices_tenant_id_number ON invoices (tenant_id, number text_pattern_ops) '
        'WHERE number IS NOT NULL'
    )


def downgrade() -> None:
    op.execute('DROP INDEX ix_invoices_tenant_id_number')
    op.execute('DROP INDEX ix_customers_tenant_id_gstin')
    op.execute('DROP INDEX ix_customers_tenant_id_lower_name')
    op.execute('CREATE INDEX ix_customers_tenant_id_gstin ON customers (tenant_id, gstin)')
    op.execute('CREATE INDEX ix_customers_tenant_id_lower_name ON customers (tenant_id, lower(name))')
