"""global lookups out of the tenant tables, so every tenant table can be distributed by tenant_id (issue 9 §4)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 00:40:00

Citus distributes a table by one column and enforces a unique key or a foreign key only when it
includes that column. Three keys spanned tenants; tests/db/test_citus_rules.py now checks the rules:

- `payments.razorpay_order_id` was unique across tenants (a webhook finds the tenant by it). The
  global key moves to a lookup table of its own, `razorpay_orders(razorpay_order_id PK, tenant_id,
  payment_id)`, distributable by the order id; `payments` keeps the order id unique within the
  tenant. Existing orders are copied over. Like `user_identities` it is outside row-level security
  and the application role has no privilege on it (`app.core.roles.NO_ACCESS_TABLES`): it calls
  `claim_razorpay_order(order_id, payment_id)` (records an order for the tenant bound to the
  transaction, false if the id is taken) and `payment_order_tenant(order_id)`, now reading the lookup
  table (CREATE OR REPLACE, same signature and answer). The owner-only SELECT policy
  `order_tenant_lookup` on `payments`, which only that function needed, goes.
- `payment_events.event_id` was unique across tenants. Nothing looks an event up before a tenant is
  bound (the tenant comes from the order), and an event concerns one order, so one tenant:
  the dedupe key becomes `(tenant_id, event_id)`, with no extra write per webhook.
- `user_identities` (email -> tenant, user; lookup table distributed by email) referenced
  `users(tenant_id, id)`, which Citus cannot enforce between tables distributed by different keys.
  The foreign key goes; `claim_identity`/`release_identity` (migration 0009, unchanged) are its only
  writers, in the transaction that adds the user or changes the address.

Downgrade restores the three global keys (and fails if two tenants meanwhile share an event id).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOUND_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
ORDER_TENANT = """
CREATE OR REPLACE FUNCTION payment_order_tenant(order_id text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT o.tenant_id FROM public.razorpay_orders o WHERE o.razorpay_order_id = order_id $$
"""
ORDER_TENANT_BEFORE = """
CREATE OR REPLACE FUNCTION payment_order_tenant(order_id text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT p.tenant_id FROM public.payments p WHERE p.razorpay_order_id = order_id $$
"""
CLAIM_ORDER = f"""
CREATE FUNCTION claim_razorpay_order(p_order_id text, p_payment_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF {BOUND_TENANT} IS NULL THEN
        RAISE EXCEPTION 'claim_razorpay_order: no tenant bound' USING ERRCODE = '42501';
    END IF;
    INSERT INTO public.razorpay_orders (razorpay_order_id, tenant_id, payment_id)
    VALUES (p_order_id, {BOUND_TENANT}, p_payment_id)
    ON CONFLICT (razorpay_order_id) DO NOTHING;
    RETURN FOUND;
END
$$
"""
COPY_ORDERS = """
INSERT INTO razorpay_orders (razorpay_order_id, tenant_id, payment_id, created_at)
SELECT razorpay_order_id, tenant_id, id, created_at FROM payments
"""


def _without_force(table: str, statement: str) -> None:
    """Run as the owner over every tenant's rows (a non-superuser owner is held to FORCE RLS)."""
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(statement)
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.create_table(
        'razorpay_orders',
        sa.Column('razorpay_order_id', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('payment_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('razorpay_order_id', name=op.f('pk_razorpay_orders')),
    )
    op.execute("REVOKE ALL ON razorpay_orders FROM PUBLIC")
    _without_force("payments", COPY_ORDERS)
    op.drop_index('uq_payments_razorpay_order_id', table_name='payments')
    op.create_index(
        'uq_payments_tenant_id_razorpay_order_id', 'payments', ['tenant_id', 'razorpay_order_id'], unique=True
    )
    op.drop_index('uq_payment_events_event_id', table_name='payment_events')
    op.create_index('uq_payment_events_tenant_id_event_id', 'payment_events', ['tenant_id', 'event_id'], unique=True)
    op.drop_constraint(op.f('fk_user_identities_tenant_id_user_id_users'), 'user_identities', type_='foreignkey')
    op.execute(ORDER_TENANT)
    op.execute(CLAIM_ORDER)
    op.execute("REVOKE ALL ON FUNCTION claim_razorpay_order(text, uuid) FROM PUBLIC")
    op.execute("DROP POLICY IF EXISTS order_tenant_lookup ON payments")


def downgrade() -> None:
    op.execute("CREATE POLICY order_tenant_lookup ON payments FOR SELECT TO CURRENT_USER USING (true)")
    op.execute("DROP FUNCTION IF EXISTS claim_razorpay_order(text, uuid)")
    op.execute(ORDER_TENANT_BEFORE)
    op.create_foreign_key(
        op.f('fk_user_identities_tenant_id_user_id_users'), 'user_identities', 'users',
        ['tenant_id', 'user_id'], ['tenant_id', 'id'], ondelete='CASCADE', initially='DEFERRED', deferrable=True,
    )
    op.drop_index('uq_payment_events_tenant_id_event_id', table_name='payment_events')
    op.create_index('uq_payment_events_event_id', 'payment_events', ['event_id'], unique=True)
    op.drop_index('uq_payments_tenant_id_razorpay_order_id', table_name='payments')
    op.create_index('uq_payments_razorpay_order_id', 'payments', ['razorpay_order_id'], unique=True)
    op.drop_table('razorpay_orders')
