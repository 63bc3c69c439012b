"""payment secret rotation (issue 12 §1)

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-29 09:30:00

`tenants_with_payment_gateway(only)`: SECURITY DEFINER like the scheduler's functions (migrations
0007, 0020, 0022): the ids of the tenants that saved a payment gateway, nothing else, read through
an owner-only `jobs_scan` policy added here on payment_gateways. `python -m app
rotate-payment-secrets` calls it as the application role, then re-encrypts each tenant's secrets
under the newest PAYMENT_SECRET_KEYS key in a transaction bound to that tenant (row-level security
as usual), so an old key can be dropped without waiting for every owner to save again. EXECUTE is
revoked from PUBLIC and granted to the application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "tenants_with_payment_gateway(uuid[])"
FUNCTION = """
CREATE FUNCTION tenants_with_payment_gateway(only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT DISTINCT g.tenant_id FROM public.payment_gateways g
WHERE only_tenants IS NULL OR g.tenant_id = ANY (only_tenants)
$$"""


def upgrade() -> None:
    op.execute("CREATE POLICY jobs_scan ON payment_gateways FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute("DROP POLICY IF EXISTS jobs_scan ON payment_gateways")
