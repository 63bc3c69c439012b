"""recurring invoices (issue 12 §4)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29 09:20:00

1. `recurring_invoices`: a schedule (company, customer, invoice lines as JSON; monthly, quarterly or
   yearly on a day of the month from a start date, optional end date or count; send and charge
   options; status active / paused / failed / ended; the next period to issue).
2. `recurring_runs`: each period claimed once, unique per (tenant, schedule, period
   index), in the transaction that issues its invoice (or records it skipped while paused).
3. `due_recurring_invoice_tenants(moment, only)`: SECURITY DEFINER like the functions of
   migrations 0007, 0020 and 0022 (tenant ids only), reading through owner-only `jobs_scan`
   policies added here on both tables: a tenant is due when one of its active schedules has its
   next period dated on or before `moment`'s day in India, or an issued period waits for its
   payment link. The scan reads the partial indexes of active schedules by next date and of
   pending charges. EXECUTE is revoked from PUBLIC and granted to the application
   role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core.migration_helpers import enable_tenant_rls

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ["recurring_invoices", "recurring_runs"]
SIGNATURE = "due_recurring_invoice_tenants(timestamp with time zone, uuid[])"
FUNCTION = """
CREATE FUNCTION due_recurring_invoice_tenants(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT r.tenant_id FROM public.recurring_invoices r
WHERE r.status = 'active' AND r.next_date <= (moment AT TIME ZONE 'Asia/Kolkata')::date
AND (only_tenants IS NULL OR r.tenant_id = ANY (only_tenants))
UNION
SELECT c.tenant_id FROM public.recurring_runs c
WHERE c.charge AND c.online_payment_id IS NULL AND c.charge_error IS NULL
AND (only_tenants IS NULL OR c.tenant_id = ANY (only_tenants))
$$"""


def upgrade() -> None:
    op.create_table('recurring_invoices',
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('day_of_month', sa.SmallInteger(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.Column('place_of_supply', sa.String(length=2), nullable=True),
    sa.Column('due_days', sa.SmallInteger(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('send', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('charge_by_link', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'active'"), nullable=False),
    sa.Column('next_index', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_date', sa.Date(), nullable=True),
    sa.Column('issued_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('paused_on', sa.Date(), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_code', sa.String(length=60), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL AND end_reason IS NOT NULL)", name=op.f('ck_recurring_invoices_ended')),
    sa.CheckConstraint("(status = 'failed') = (failed_at IS NOT NULL)", name=op.f('ck_recurring_invoices_failed')),
    sa.CheckConstraint("(status = 'paused') = (paused_on IS NOT NULL)", name=op.f('ck_recurring_invoices_paused')),
    sa.CheckConstraint("count IS NULL OR count BETWEEN 1 AND 1200", name=op.f('ck_recurring_invoices_count')),
    sa.CheckConstraint("count IS NULL OR issued_count <= count", name=op.f('ck_recurring_invoices_issued_count')),
    sa.CheckConstraint('day_of_month BETWEEN 1 AND 31', name=op.f('ck_recurring_invoices_day_of_month')),
    sa.CheckConstraint('due_days IS NULL OR due_days BETWEEN 0 AND 365', name=op.f('ck_recurring_invoices_due_days')),
    sa.CheckConstraint("end_reason IS NULL OR end_reason IN ('ended', 'count_reached', 'end_date_reached')", name=op.f('ck_recurring_invoices_end_reason')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_recurring_invoices_end_date')),
    sa.CheckConstraint("frequency IN ('monthly', 'quarterly', 'yearly')", name=op.f('ck_recurring_invoices_frequency')),
    sa.CheckConstraint('next_index >= 0 AND issued_count >= 0', name=op.f('ck_recurring_invoices_counters')),
    sa.CheckConstraint("status = 'ended' OR next_date IS NOT NULL", name=op.f('ck_recurring_invoices_next_date')),
    sa.CheckConstraint("status IN ('active', 'paused', 'failed', 'ended')", name=op.f('ck_recurring_invoices_status')),
    sa.ForeignKeyConstraint(['tenant_id', 'company_id'], ['companies.tenant_id', 'companies.id'], name=op.f('fk_recurring_invoices_tenant_id_company_id_companies')),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_recurring_invoices_tenant_id_customer_id_customers')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_recurring_invoices_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_recurring_invoices'))
    )
    op.create_index('ix_recurring_invoices_next_date_active', 'recurring_invoices', ['next_date'], unique=False, postgresql_where=sa.text("status = 'active'"))
    op.create_index('ix_recurring_invoices_tenant_id_customer_id', 'recurring_invoices', ['tenant_id', 'customer_id'], unique=False)
    op.create_index('ix_recurring_invoices_tenant_id_status', 'recurring_invoices', ['tenant_id', 'status'], unique=False)
    op.create_table('recurring_runs',
    sa.Column('schedule_id', sa.Uuid(), nullable=False),
    sa.Column('period_index', sa.Integer(), nullable=False),
    sa.Column('period_date', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('invoice_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('send', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('sent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('send_error', sa.Text(), nullable=True),
    sa.Column('charge', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('charge_attempts', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('online_payment_id', sa.Uuid(), nullable=True),
    sa.Column('charge_error', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(outcome = 'issued') = (invoice_id IS NOT NULL)", name=op.f('ck_recurring_runs_invoice')),
    sa.CheckConstraint("outcome IN ('issued', 'skipped')", name=op.f('ck_recurring_runs_outcome')),
    sa.CheckConstraint('period_index >= 0 AND period_end >= period_date', name=op.f('ck_recurring_runs_period')),
    sa.ForeignKeyConstraint(['tenant_id', 'invoice_id'], ['invoices.tenant_id', 'invoices.id'], name=op.f('fk_recurring_runs_tenant_id_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['tenant_id', 'online_payment_id'], ['online_payments.tenant_id', 'online_payments.id'], name=op.f('fk_recurring_runs_tenant_id_online_payment_id_online_payments')),
    sa.ForeignKeyConstraint(['tenant_id', 'schedule_id'], ['recurring_invoices.tenant_id', 'recurring_invoices.id'], name=op.f('fk_recurring_runs_tenant_id_schedule_id_recurring_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_recurring_runs_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_recurring_runs'))
    )
    op.create_index('uq_recurring_runs_tenant_id_invoice_id', 'recurring_runs', ['tenant_id', 'invoice_id'], unique=True)
    op.create_index('ix_recurring_runs_charge_pending', 'recurring_runs', ['tenant_id', 'created_at'], unique=False, postgresql_where=sa.text('charge AND online_payment_id IS NULL AND charge_error IS NULL'))
    op.create_index('uq_recurring_runs_tenant_id_schedule_id_period_index', 'recurring_runs', ['tenant_id', 'schedule_id', 'period_index'], unique=True)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    for table in TENANT_TABLES:
        op.execute(f"CREATE POLICY jobs_scan ON {table} FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.drop_index('uq_recurring_runs_tenant_id_schedule_id_period_index', table_name='recurring_runs')
    op.drop_index('ix_recurring_runs_charge_pending', table_name='recurring_runs', postgresql_where=sa.text('charge AND online_payment_id IS NULL AND charge_error IS NULL'))
    op.drop_index('uq_recurring_runs_tenant_id_invoice_id', table_name='recurring_runs')
    op.drop_table('recurring_runs')
    op.drop_index('ix_recurring_invoices_tenant_id_status', table_name='recurring_invoices')
    op.drop_index('ix_recurring_invoices_tenant_id_customer_id', table_name='recurring_invoices')
    op.drop_index('ix_recurring_invoices_next_date_active', table_name='recurring_invoices', postgresql_where=sa.text("status = 'active'"))
    op.drop_table('recurring_invoices')
