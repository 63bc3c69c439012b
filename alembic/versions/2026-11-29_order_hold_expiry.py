"""order hold expiry (issue 12 §3)

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29 09:10:00

`due_order_hold_tenants(moment, only)`: SECURITY DEFINER like the functions of migrations 0007,
0020 and 0022 (tenant ids only), reading through an owner-only `jobs_scan` policy added here on
sales_orders. A tenant is due when it has a placed order whose hold ended at or before `moment`
(the partial index ix_sales_orders_hold_until_placed of migration 0024 answers it, never the
orders' history). The expiry itself runs per tenant under row-level security
(app.services.commerce.orders.expire_due), so a tenant listed twice is harmless. EXECUTE is revoked
from PUBLIC and granted to the application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "due_order_hold_tenants(timestamp with time zone, uuid[])"
FUNCTION = """
CREATE FUNCTION due_order_hold_tenants(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT DISTINCT o.tenant_id FROM public.sales_orders o
WHERE o.status = 'placed' AND o.hold_until IS NOT NULL AND o.hold_until <= moment
AND (only_tenants IS NULL OR o.tenant_id = ANY (only_tenants))
$$"""


def upgrade() -> None:
    op.execute("CREATE POLICY jobs_scan ON sales_orders FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute("DROP POLICY IF EXISTS jobs_scan ON sales_orders")
