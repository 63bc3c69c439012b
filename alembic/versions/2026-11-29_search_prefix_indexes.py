"""search prefix indexes

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 00:40:00

Issue 9, search (`GET /invoices?q=`): the invoice number, the customer's name (case-insensitive)
and GSTIN starting with the text, each answered by a btree index led by tenant_id whose operator
class (text_pattern_ops) serves a prefix range under any database collation.

Row-level security lets only leakproof operators and functions become index conditions; textlike
(LIKE) and lower() are not, and starts_with() is not turned into a range there, so the search
states the range itself with the leakproof pattern comparisons (`col ~>=~ 'meh' AND col ~<~ 'mei'`)
on plain columns: customers.name_lower is lower(name), a stored generated column, for that reason.

Why not pg_trgm (matches anywhere in the text): the extension must be created by a superuser or the
database owner on a managed server, and the embedded PostgreSQL the tests and development use ships
without it (only plpgsql); its operators are not leakproof either.

The customers' gstin index is rebuilt with the pattern operator class (it still serves equality).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute('ALTER TABLE customers ADD COLUMN name_lower TEXT GENERATED ALWAYS AS (lower((name)::text)) STORED')
    op.execute('CREATE INDEX ix_customers_tenant_id_name_lower ON customers (tenant_id, name_lower text_pattern_ops)')
    op.execute('DROP INDEX ix_customers_tenant_id_gstin')
    op.execute('CREATE INDEX ix_customers_tenant_id_gstin ON customers (tenant_id, gstin text_pattern_ops)')
    op.execute(
        'CREATE INDEX ix_invoices_tenant_id_number ON invoices (tenant_id, number text_pattern_ops) '
        'WHERE number IS NOT NULL'
    )


def downgrade() -> None:
    op.execute('DROP INDEX ix_invoices_tenant_id_number')
    op.execute('DROP INDEX ix_customers_tenant_id_gstin')
    op.execute('CREATE INDEX ix_customers_tenant_id_gstin ON customers (tenant_id, gstin)')
    op.execute('DROP INDEX ix_customers_tenant_id_name_lower')
    op.execute('ALTER TABLE customers DROP COLUMN name_lower')
