"""low-stock digest (issue 11 §5)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 06:30:00

1. `job_occasions.kind` admits 'low_stock_digest' (key: the day in India, YYYY-MM-DD), claimed once
   per tenant and day in the transaction that queues the digest mail to the owners and admins.
2. `due_low_stock_digest_tenants(moment, send_hour, only)`: SECURITY DEFINER like the functions of
   migrations 0007 and 0020 (tenant ids only), reading through owner-only `jobs_scan` policies
   added here on stock_alerts and products (job_occasions has had one since 0007). A tenant is due when the hour
   in India at `moment` is `send_hour` or later, it has an open low-stock alert of a product that is
   not archived (what GET /stock/alerts lists), and its digest of that day (in India) is not
   claimed yet. The scan reads the partial index of open alerts (ix_stock_alerts_tenant_id_open),
   never the closed history; `jobs_scan` is added on products too for the join. EXECUTE is revoked from PUBLIC and
   granted to the application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ('trial_reminder', 'renewal_reminder', 'subscription_notice', 'payment_reminder')
KINDS_AFTER = (*KINDS_BEFORE, 'low_stock_digest')
SCANNED_TABLES = ["stock_alerts", "products"]
SIGNATURE = "due_low_stock_digest_tenants(timestamp with time zone, integer, uuid[])"
FUNCTION = f"""
CREATE FUNCTION due_low_stock_digest_tenants(
    moment timestamptz, send_hour integer, only_tenants uuid[] DEFAULT NULL
) RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
WITH local AS (SELECT (moment AT TIME ZONE 'Asia/Kolkata') AS t)
SELECT DISTINCT a.tenant_id FROM public.stock_alerts a
JOIN public.products p ON p.tenant_id = a.tenant_id AND p.id = a.product_id AND NOT p.is_archived
CROSS JOIN local
WHERE a.closed_at IS NULL AND (only_tenants IS NULL OR a.tenant_id = ANY (only_tenants))
AND extract(hour FROM local.t) >= send_hour
AND NOT EXISTS (SELECT 1 FROM public.job_occasions j WHERE j.tenant_id = a.tenant_id
                AND j.kind = 'low_stock_digest' AND j.occasion_key = to_char(local.t, 'YYYY-MM-DD'))
$$"""


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN ({})".format(", ".join(f"'{k}'" for k in kinds))


def upgrade() -> None:
    op.drop_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', type_='check')
    op.create_check_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', _kinds(KINDS_AFTER))
    for table in SCANNED_TABLES:
        op.execute(f"CREATE POLICY jobs_scan ON {table} FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    for table in SCANNED_TABLES:
        op.execute(f"DROP POLICY IF EXISTS jobs_scan ON {table}")
    op.execute("DELETE FROM job_occasions WHERE kind = 'low_stock_digest'")
    op.drop_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', type_='check')
    op.create_check_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', _kinds(KINDS_BEFORE))
