"""payment reminders (issue 10 §4)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 04:00:00

1. `reminder_settings`: one row per tenant (no row = the defaults, reminders off): on/off, the
   days relative to the due date, the hour (Asia/Kolkata) from which they go out, the channel.
   Row-level security like every tenant table.
2. `customers.payment_reminders` (default true): a customer can be left out of reminders.
3. `job_occasions.kind` admits 'payment_reminder' (key "<invoice id>:<days>"), claimed once per
   invoice and reminder day in the transaction that queues the mail.
4. `ix_invoices_tenant_id_open_due_date`: open invoices (app.domain.statuses.is_open: issued or
   partially paid, something still due) by due date; the scan below and each tenant's step read
   a due-date range of these only, never the paid history.
5. `due_payment_reminder_tenants(moment, window_days, quiet_from, only)`: SECURITY DEFINER like the
   functions of migration 0007 (tenant ids only), reading through owner-only `jobs_scan` policies
   added here on reminder_settings, invoices and customers. A tenant is due when its reminders are
   on, the hour in India at `moment` is between its send hour and `quiet_from`, and one of its open
   invoices of a customer who takes reminders has a reminder day within the last `window_days` days
   (up to today in India) not claimed yet. EXECUTE is revoked from PUBLIC and granted to the
   application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core.migration_helpers import enable_tenant_rls

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ('trial_reminder', 'renewal_reminder', 'subscription_notice')
KINDS_AFTER = (*KINDS_BEFORE, 'payment_reminder')
SCANNED_TABLES = ["reminder_settings", "invoices", "customers"]
OPEN = "status IN ('issued', 'partially_paid') AND balance_due > 0"
SIGNATURE = "due_payment_reminder_tenants(timestamp with time zone, integer, integer, uuid[])"
FUNCTION = f"""
CREATE FUNCTION due_payment_reminder_tenants(
    moment timestamptz, window_days integer, quiet_from integer, only_tenants uuid[] DEFAULT NULL
) RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
WITH local AS (SELECT (moment AT TIME ZONE 'Asia/Kolkata') AS t)
SELECT r.tenant_id FROM public.reminder_settings r, local
WHERE r.enabled AND (only_tenants IS NULL OR r.tenant_id = ANY (only_tenants))
AND extract(hour FROM local.t) >= r.send_hour AND extract(hour FROM local.t) < quiet_from
AND EXISTS (
    SELECT 1 FROM public.invoices i
    JOIN public.customers c ON c.tenant_id = i.tenant_id AND c.id = i.customer_id AND c.payment_reminders
    CROSS JOIN LATERAL unnest(r.offsets) AS o(days)
    WHERE i.tenant_id = r.tenant_id AND i.status IN ('issued', 'partially_paid') AND i.balance_due > 0
    -- the index's range: every reminder day of these offsets within the window
    AND i.due_date <= local.t::date - (SELECT min(d) FROM unnest(r.offsets) AS m(d))
    AND i.due_date >= local.t::date - window_days - (SELECT max(d) FROM unnest(r.offsets) AS m(d))
    AND i.due_date + o.days <= local.t::date AND i.due_date + o.days >= local.t::date - window_days
    AND NOT EXISTS (SELECT 1 FROM public.job_occasions j WHERE j.tenant_id = i.tenant_id
                    AND j.kind = 'payment_reminder' AND j.occasion_key = i.id::text || ':' || o.days::text)
)
$$"""


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN ({})".format(", ".join(f"'{k}'" for k in kinds))


def upgrade() -> None:
    op.create_table(
        'reminder_settings',
        sa.Column('enabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column(
            'offsets',
            postgresql.ARRAY(sa.Integer()),
            server_default=sa.text("'{-3,1,7,15}'::integer[]"),
            nullable=False,
        ),
        sa.Column('send_hour', sa.Integer(), server_default=sa.text('10'), nullable=False),
        sa.Column('channel', sa.String(length=10), server_default=sa.text("'email'"), nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint(
            'cardinality(offsets) BETWEEN 1 AND 8 AND -30 <= ALL(offsets) AND 365 >= ALL(offsets)',
            name=op.f('ck_reminder_settings_offsets'),
        ),
        sa.CheckConstraint('send_hour BETWEEN 7 AND 20', name=op.f('ck_reminder_settings_send_hour')),
        sa.CheckConstraint("channel IN ('email')", name=op.f('ck_reminder_settings_channel')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_reminder_settings_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_reminder_settings')),
    )
    op.create_index('uq_reminder_settings_tenant_id', 'reminder_settings', ['tenant_id'], unique=True)
    enable_tenant_rls('reminder_settings')
    op.add_column(
        'customers', sa.Column('payment_reminders', sa.Boolean(), server_default=sa.text('true'), nullable=False)
    )
    op.drop_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', type_='check')
    op.create_check_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', _kinds(KINDS_AFTER))
    op.create_index(
        'ix_invoices_tenant_id_open_due_date',
        'invoices',
        ['tenant_id', 'due_date'],
        unique=False,
        postgresql_where=sa.text(OPEN),
    )
    for table in SCANNED_TABLES:
        op.execute(f"CREATE POLICY jobs_scan ON {table} FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    for table in SCANNED_TABLES:
        op.execute(f"DROP POLICY IF EXISTS jobs_scan ON {table}")
    op.drop_index('ix_invoices_tenant_id_open_due_date', table_name='invoices', postgresql_where=sa.text(OPEN))
    op.execute("DELETE FROM job_occasions WHERE kind = 'payment_reminder'")
    op.drop_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', type_='check')
    op.create_check_constraint(op.f('ck_job_occasions_kind'), 'job_occasions', _kinds(KINDS_BEFORE))
    op.drop_column('customers', 'payment_reminders')
    op.drop_index('uq_reminder_settings_tenant_id', table_name='reminder_settings')
    op.drop_table('reminder_settings')
