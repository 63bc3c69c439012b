"""webhook delivery scan (issue 13 §4)

Revision ID: 0037
Revises: 0035
Create Date: 2026-11-29 12:40:00

`due_webhook_tenants(moment, only)`: SECURITY DEFINER like the functions of migrations 0007, 0022
and 0027 (tenant ids only), reading through an owner-only `jobs_scan` policy added here on
webhook_deliveries and webhook_endpoints. A tenant is due when it has a pending delivery to an
active endpoint whose next attempt is at or before `moment` (the partial index ix_webhook_deliveries_pending_next_attempt_at of migration 0031
answers it). The deliveries themselves are made per tenant under row-level security
(app.services.platform.webhook_delivery.deliver_due). EXECUTE is revoked from PUBLIC and granted to
the application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ["webhook_deliveries", "webhook_endpoints"]
SIGNATURE = "due_webhook_tenants(timestamp with time zone, uuid[])"
FUNCTION = """
CREATE FUNCTION due_webhook_tenants(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT DISTINCT d.tenant_id FROM public.webhook_deliveries d
WHERE d.status = 'pending' AND d.next_attempt_at <= moment
AND (only_tenants IS NULL OR d.tenant_id = ANY (only_tenants))
AND EXISTS (SELECT 1 FROM public.webhook_endpoints e
            WHERE e.tenant_id = d.tenant_id AND e.id = d.endpoint_id AND e.status = 'active')
$$"""


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"CREATE POLICY jobs_scan ON {table} FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    for table in TABLES:
        op.execute(f"DROP POLICY IF EXISTS jobs_scan ON {table}")
