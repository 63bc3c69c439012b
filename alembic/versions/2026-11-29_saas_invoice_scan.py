"""the SaaS's invoices: finding captured plan payments still without one (issue 13 §5)

Revision ID: 0038
Revises: 0037
Create Date: 2026-11-29 12:50:00

- `due_saas_invoice_tenants(moment, only)`: SECURITY DEFINER like the functions of migrations 0007
  and 0027 (tenant ids only), reading through an owner-only `jobs_scan` policy added here on
  payments: the tenants with a payment captured at or before `moment` and no SaaS invoice recorded
  yet (the scheduler issues them: app.services.platform.saas_invoices). The partial index
  `ix_payments_tenant_id_saas_invoice_due` answers it (a handful of rows at most, never the history).
  EXECUTE is revoked from PUBLIC and granted to the application role by `app.core.roles.apply_grants`.
- The seeded paid plans' prices (standard ₹999, premium ₹2,499) are what checkout has always charged:
  they are marked GST-inclusive (`price_includes_tax`), so that the Razorpay order (which now charges
  the price with GST) charges what it did. An operator who prices "+ GST" sets it false.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "due_saas_invoice_tenants(timestamp with time zone, uuid[])"
FUNCTION = """
CREATE FUNCTION due_saas_invoice_tenants(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT DISTINCT p.tenant_id FROM public.payments p
WHERE p.status = 'captured' AND p.saas_invoice_id IS NULL AND p.captured_at <= moment
AND (only_tenants IS NULL OR p.tenant_id = ANY (only_tenants))
$$"""


def upgrade() -> None:
    op.create_index(
        "ix_payments_tenant_id_saas_invoice_due",
        "payments",
        ["tenant_id"],
        unique=False,
        postgresql_where=sa.text("status = 'captured' AND saas_invoice_id IS NULL"),
    )
    op.execute("CREATE POLICY jobs_scan ON payments FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute("UPDATE plans SET price_includes_tax = true WHERE code IN ('standard', 'premium')")


def downgrade() -> None:
    op.execute("UPDATE plans SET price_includes_tax = false WHERE code IN ('standard', 'premium')")
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute("DROP POLICY IF EXISTS jobs_scan ON payments")
    op.drop_index("ix_payments_tenant_id_saas_invoice_due", table_name="payments")
