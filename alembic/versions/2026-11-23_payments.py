"""payments and Razorpay webhook events (issue 4 §3)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:20:00

`payments`: one Razorpay order for a plan and what became of it; `payment_events`: the webhook
events processed (the unique event id is the dedupe key). Both tenant-scoped with row-level
security like 0004.

A webhook arrives with no tenant: `payment_order_tenant(order_id)` (SECURITY DEFINER, owned by
this migration's role) returns only the owning tenant id of an order, so the application binds
that tenant and does the rest under row-level security as itself. The owner role may be a
non-superuser subject to FORCE ROW LEVEL SECURITY, so a SELECT policy for that role alone
(`order_tenant_lookup`) lets the function see the rows; the application role is not that role and
still sees only its tenant's rows. EXECUTE is revoked from PUBLIC and granted to the application
role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = ["payments", "payment_events"]
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
LOOKUP_FUNCTION = """
CREATE FUNCTION payment_order_tenant(order_id text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT p.tenant_id FROM public.payments p WHERE p.razorpay_order_id = order_id $$
"""


def upgrade() -> None:
    op.create_table('payments',
    sa.Column('razorpay_order_id', sa.String(length=64), nullable=False),
    sa.Column('razorpay_payment_id', sa.String(length=64), nullable=True),
    sa.Column('plan_code', sa.String(length=20), nullable=False),
    sa.Column('amount_paise', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'created'"), nullable=False),
    sa.Column('is_sandbox', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('event_ids', postgresql.ARRAY(sa.String(length=64)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('subscription_id', sa.Uuid(), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('created', 'failed', 'captured')", name=op.f('ck_payments_status')),
    sa.CheckConstraint('amount_paise > 0', name=op.f('ck_payments_amount_paise')),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_payments_currency')),
    sa.CheckConstraint("(status = 'captured') = (captured_at IS NOT NULL)", name=op.f('ck_payments_captured_at')),
    sa.CheckConstraint("status <> 'captured' OR razorpay_payment_id IS NOT NULL", name=op.f('ck_payments_captured_payment_id')),
    sa.CheckConstraint('period_end IS NULL OR period_end > period_start', name=op.f('ck_payments_period_order')),
    sa.ForeignKeyConstraint(['plan_code'], ['plans.code'], name=op.f('fk_payments_plan_code_plans')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payments_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id', 'subscription_id'], ['subscriptions.tenant_id', 'subscriptions.id'], name=op.f('fk_payments_tenant_id_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_payments'))
    )
    op.create_index('uq_payments_razorpay_order_id', 'payments', ['razorpay_order_id'], unique=True)
    op.create_index('ix_payments_tenant_id_created_at', 'payments', ['tenant_id', 'created_at'], unique=False)
    op.create_table('payment_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('payment_id', sa.Uuid(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_events_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id', 'payment_id'], ['payments.tenant_id', 'payments.id'], name=op.f('fk_payment_events_tenant_id_payment_id_payments')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_payment_events'))
    )
    op.create_index('uq_payment_events_event_id', 'payment_events', ['event_id'], unique=True)
    op.create_index('ix_payment_events_tenant_id_payment_id', 'payment_events', ['tenant_id', 'payment_id'], unique=False)
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {TENANT_SETTING}) WITH CHECK (tenant_id = {TENANT_SETTING})"
        )
    # For payment_order_tenant only: the function runs as this role (the table owner).
    op.execute("CREATE POLICY order_tenant_lookup ON payments FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(LOOKUP_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION payment_order_tenant(text) FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS payment_order_tenant(text)")
    op.execute("DROP POLICY IF EXISTS order_tenant_lookup ON payments")
    for table in NEW_TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.drop_index('ix_payment_events_tenant_id_payment_id', table_name='payment_events')
    op.drop_index('uq_payment_events_event_id', table_name='payment_events')
    op.drop_table('payment_events')
    op.drop_index('ix_payments_tenant_id_created_at', table_name='payments')
    op.drop_index('uq_payments_razorpay_order_id', table_name='payments')
    op.drop_table('payments')
