"""tenant export jobs: one active export per tenant, the due scan

Revision ID: 0034
Revises: 0031
Create Date: 2026-11-29 12:40:00

- `uq_tenant_exports_active`: at most one `pending` or `running` export per tenant (POST
  /tenants/me/export inserts with ON CONFLICT DO NOTHING and answers the running one otherwise, so
  two concurrent requests make one export).
- `ix_tenant_exports_expiry`: done exports by `expires_at` (the expiry step's scan).
- `due_tenant_export_tenants(moment, only)`: SECURITY DEFINER like the functions of migrations 0007,
  0020 and 0027 (tenant ids only), reading through an owner-only `jobs_scan` policy on tenant_exports.
  A tenant is due when an export is pending/running with its next attempt at or before `moment` (a
  build never started, failed with a retry due, or died mid-way) or done with `expires_at` passed.
  The work itself runs per tenant under row-level security (app.services.platform.tenant_data).
  EXECUTE is revoked from PUBLIC and granted to the application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "due_tenant_export_tenants(timestamp with time zone, uuid[])"
FUNCTION = """
CREATE FUNCTION due_tenant_export_tenants(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT DISTINCT e.tenant_id FROM public.tenant_exports e
WHERE ((e.status IN ('pending', 'running') AND e.next_attempt_at <= moment)
       OR (e.status = 'done' AND e.expires_at <= moment))
AND (only_tenants IS NULL OR e.tenant_id = ANY (only_tenants))
$$"""


def upgrade() -> None:
    op.create_index(
        "uq_tenant_exports_active",
        "tenant_exports",
        ["tenant_id"],
        unique=True,
        postgresql_where="status IN ('pending', 'running')",
    )
    op.create_index("ix_tenant_exports_expiry", "tenant_exports", ["expires_at"], postgresql_where="status = 'done'")
    op.execute("CREATE POLICY jobs_scan ON tenant_exports FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute("DROP POLICY IF EXISTS jobs_scan ON tenant_exports")
    op.drop_index("ix_tenant_exports_expiry", table_name="tenant_exports")
    op.drop_index("uq_tenant_exports_active", table_name="tenant_exports")
