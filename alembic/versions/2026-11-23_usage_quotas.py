"""usage meters: quota periods and the usage ledger (issue 4 §4)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:20:00

`meters` (the global catalog, seeded with `tokens`) and `plan_meter_quotas` (each plan's monthly
quota of each meter; NULL = unlimited), both read-only to the application role like `plans`.
The `tokens` rows are seeded from `plans.monthly_token_quota`, and a trigger on `plans` keeps
them equal when the operator changes that column or adds a plan, so `plans` stays the one place
to change a token allowance. Another meter is data: a `meters` row and its `plan_meter_quotas`.

`usage_periods` (one cycle of one meter per tenant, one current) and `usage_ledger` (every
movement), tenant-scoped with row-level security like 0004. Existing tenants get their first
period lazily, on first use, aligned on the start of their subscription state in force.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = ["usage_periods", "usage_ledger"]
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
METERS = [("tokens", "Tokens", "token")]
SYNC_FUNCTION = """
CREATE FUNCTION plans_sync_token_quota() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO public.plan_meter_quotas (plan_code, meter, monthly_quota)
    VALUES (NEW.code, 'tokens', NEW.monthly_token_quota)
    ON CONFLICT (plan_code, meter)
    DO UPDATE SET monthly_quota = EXCLUDED.monthly_quota, updated_at = now();
    RETURN NEW;
END
$$
"""
SYNC_TRIGGER = (
    "CREATE TRIGGER plans_sync_token_quota AFTER INSERT OR UPDATE OF monthly_token_quota ON plans "
    "FOR EACH ROW EXECUTE FUNCTION plans_sync_token_quota()"
)


def upgrade() -> None:
    op.create_table('meters',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_meters'))
    )
    op.create_table('plan_meter_quotas',
    sa.Column('plan_code', sa.String(length=20), nullable=False),
    sa.Column('meter', sa.String(length=40), nullable=False),
    sa.Column('monthly_quota', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('monthly_quota IS NULL OR monthly_quota >= 0', name=op.f('ck_plan_meter_quotas_monthly_quota')),
    sa.ForeignKeyConstraint(['meter'], ['meters.code'], name=op.f('fk_plan_meter_quotas_meter_meters')),
    sa.ForeignKeyConstraint(['plan_code'], ['plans.code'], name=op.f('fk_plan_meter_quotas_plan_code_plans')),
    sa.PrimaryKeyConstraint('plan_code', 'meter', name=op.f('pk_plan_meter_quotas'))
    )
    op.create_table('usage_periods',
    sa.Column('meter', sa.String(length=40), nullable=False),
    sa.Column('plan_code', sa.String(length=20), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('quota', sa.BigInteger(), nullable=True),
    sa.Column('carried_over', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('used', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('used_at_downgrade', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('is_current', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('carried_over >= 0 AND (quota IS NULL OR carried_over <= quota)', name=op.f('ck_usage_periods_carried_over')),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_usage_periods_period_order')),
    sa.CheckConstraint('quota IS NULL OR quota >= 0', name=op.f('ck_usage_periods_quota')),
    sa.CheckConstraint('quota IS NULL OR used <= GREATEST(quota, used_at_downgrade)', name=op.f('ck_usage_periods_used_within_quota')),
    sa.CheckConstraint('used >= 0 AND used_at_downgrade >= 0', name=op.f('ck_usage_periods_used')),
    sa.ForeignKeyConstraint(['meter'], ['meters.code'], name=op.f('fk_usage_periods_meter_meters')),
    sa.ForeignKeyConstraint(['plan_code'], ['plans.code'], name=op.f('fk_usage_periods_plan_code_plans')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_usage_periods_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_usage_periods'))
    )
    op.create_index('uq_usage_periods_tenant_id_meter_current', 'usage_periods', ['tenant_id', 'meter'], unique=True, postgresql_where=sa.text('is_current'))
    op.create_index('uq_usage_periods_tenant_id_meter_period_start', 'usage_periods', ['tenant_id', 'meter', 'period_start'], unique=True)
    op.create_table('usage_ledger',
    sa.Column('period_id', sa.Uuid(), nullable=False),
    sa.Column('meter', sa.String(length=40), nullable=False),
    sa.Column('plan_code', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=True),
    sa.Column('used_after', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("kind IN ('opened', 'reset', 'plan_changed', 'carried_over', 'consumed', 'used_reset')", name=op.f('ck_usage_ledger_kind')),
    sa.CheckConstraint("kind NOT IN ('consumed', 'carried_over') OR quantity > 0", name=op.f('ck_usage_ledger_movement_quantity')),
    sa.CheckConstraint('quantity IS NULL OR quantity >= 0', name=op.f('ck_usage_ledger_quantity')),
    sa.CheckConstraint('used_after >= 0 AND (balance_after IS NULL OR balance_after >= 0)', name=op.f('ck_usage_ledger_after')),
    sa.ForeignKeyConstraint(['meter'], ['meters.code'], name=op.f('fk_usage_ledger_meter_meters')),
    sa.ForeignKeyConstraint(['plan_code'], ['plans.code'], name=op.f('fk_usage_ledger_plan_code_plans')),
    sa.ForeignKeyConstraint(['tenant_id', 'period_id'], ['usage_periods.tenant_id', 'usage_periods.id'], name=op.f('fk_usage_ledger_tenant_id_usage_periods')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_usage_ledger_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_usage_ledger'))
    )
    op.create_index('ix_usage_ledger_tenant_id_period_id', 'usage_ledger', ['tenant_id', 'period_id'], unique=False)
    op.create_index('uq_usage_ledger_tenant_id_idempotency_key', 'usage_ledger', ['tenant_id', 'idempotency_key'], unique=True, postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    _seed_meters()
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {TENANT_SETTING}) WITH CHECK (tenant_id = {TENANT_SETTING})"
        )


def _seed_meters() -> None:
    meters = sa.table("meters", sa.column("code"), sa.column("name"), sa.column("unit"))
    op.bulk_insert(meters, [{"code": code, "name": name, "unit": unit} for code, name, unit in METERS])
    op.execute(
        "INSERT INTO plan_meter_quotas (plan_code, meter, monthly_quota) "
        "SELECT code, 'tokens', monthly_token_quota FROM plans"
    )
    op.execute(SYNC_FUNCTION)
    op.execute(SYNC_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS plans_sync_token_quota ON plans")
    op.execute("DROP FUNCTION IF EXISTS plans_sync_token_quota()")
    for table in NEW_TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.drop_index('uq_usage_ledger_tenant_id_idempotency_key', table_name='usage_ledger', postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.drop_index('ix_usage_ledger_tenant_id_period_id', table_name='usage_ledger')
    op.drop_table('usage_ledger')
    op.drop_index('uq_usage_periods_tenant_id_meter_period_start', table_name='usage_periods')
    op.drop_index('uq_usage_periods_tenant_id_meter_current', table_name='usage_periods', postgresql_where=sa.text('is_current'))
    op.drop_table('usage_periods')
    op.drop_table('plan_meter_quotas')
    op.drop_table('meters')
