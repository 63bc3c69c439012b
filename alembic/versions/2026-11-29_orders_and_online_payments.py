"""orders and online payments (issue 12 §1-§3)

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 08:54:25

1. `payment_gateways`: a tenant's own Razorpay account (key id; key secret and webhook secret
   encrypted by app.core.secret_box; the random `webhook_id` of its webhook URL).
2. `gateway_webhooks` (webhook id -> tenant): a global lookup table like `razorpay_orders` (0014),
   outside row-level security, no privilege for the application role; written by
   `claim_gateway_webhook(webhook_id)` for the bound tenant (false if the id is taken) and read by
   `gateway_webhook_tenant(webhook_id)`, both SECURITY DEFINER, EXECUTE granted by
   app.core.roles. `gateway_events`: the tenant's applied webhook events (dedupe key).
3. `sales_orders` and `sales_order_lines`: orders and their lines.
4. `online_payments` (a Payment Link for an invoice, or a gateway order for an order) and
   `refunds`.
5. `receipts.mode` admits 'razorpay'.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.migration_helpers import enable_tenant_rls

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ["payment_gateways", "gateway_events", "sales_orders", "sales_order_lines", "online_payments", "refunds"]
MODES_BEFORE = ('cash', 'upi', 'bank_transfer', 'card', 'cheque')
MODES_AFTER = (*MODES_BEFORE, 'razorpay')
BOUND_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
WEBHOOK_TENANT = """
CREATE FUNCTION gateway_webhook_tenant(p_webhook_id text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT w.tenant_id FROM public.gateway_webhooks w WHERE w.webhook_id = p_webhook_id $$
"""
CLAIM_WEBHOOK = f"""
CREATE FUNCTION claim_gateway_webhook(p_webhook_id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF {BOUND_TENANT} IS NULL THEN
        RAISE EXCEPTION 'claim_gateway_webhook: no tenant bound' USING ERRCODE = '42501';
    END IF;
    INSERT INTO public.gateway_webhooks (webhook_id, tenant_id) VALUES (p_webhook_id, {BOUND_TENANT})
    ON CONFLICT (webhook_id) DO NOTHING;
    RETURN FOUND;
END
$$
"""
FUNCTIONS = ["gateway_webhook_tenant(text)", "claim_gateway_webhook(text)"]


def upgrade() -> None:
    op.create_table('gateway_webhooks',
    sa.Column('webhook_id', sa.String(length=40), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('webhook_id', name=op.f('pk_gateway_webhooks'))
    )
    op.create_table('gateway_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('online_payment_id', sa.Uuid(), nullable=True),
    sa.Column('refund_id', sa.Uuid(), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_gateway_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gateway_events'))
    )
    op.create_index('ix_gateway_events_tenant_id_received_at', 'gateway_events', ['tenant_id', 'received_at'], unique=False)
    op.create_index('uq_gateway_events_tenant_id_event_id', 'gateway_events', ['tenant_id', 'event_id'], unique=True)
    op.create_table('payment_gateways',
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('key_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('key_secret_last4', sa.String(length=4), nullable=False),
    sa.Column('webhook_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('webhook_id', sa.String(length=40), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("provider IN ('razorpay')", name=op.f('ck_payment_gateways_provider')),
    sa.CheckConstraint("webhook_id ~ '^[A-Za-z0-9_-]{16,40}$'", name=op.f('ck_payment_gateways_webhook_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_gateways_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_payment_gateways'))
    )
    op.create_index('uq_payment_gateways_tenant_id_provider', 'payment_gateways', ['tenant_id', 'provider'], unique=True)
    op.create_index('uq_payment_gateways_tenant_id_webhook_id', 'payment_gateways', ['tenant_id', 'webhook_id'], unique=True)
    op.create_table('sales_orders',
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('payment_method', sa.String(length=20), nullable=True),
    sa.Column('place_of_supply', sa.String(length=2), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('amount_paid', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('amount_refunded', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('hold_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=20), nullable=True),
    sa.Column('invoice_id', sa.Uuid(), nullable=True),
    sa.Column('needs_attention', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('attention_reason', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_sales_orders_cancelled_at')),
    sa.CheckConstraint("cancel_reason IS NULL OR cancel_reason IN ('cancelled', 'hold_expired', 'refunded')", name=op.f('ck_sales_orders_cancel_reason')),
    sa.CheckConstraint("payment_method IS NULL OR payment_method IN ('online', 'pay_later')", name=op.f('ck_sales_orders_payment_method')),
    sa.CheckConstraint("status = 'draft' OR (placed_at IS NOT NULL AND payment_method IS NOT NULL)", name=op.f('ck_sales_orders_placed')),
    sa.CheckConstraint("status IN ('draft', 'placed', 'confirmed', 'fulfilled', 'cancelled')", name=op.f('ck_sales_orders_status')),
    sa.CheckConstraint("status NOT IN ('confirmed', 'fulfilled') OR invoice_id IS NOT NULL", name=op.f('ck_sales_orders_invoiced')),
    sa.CheckConstraint('amount_paid >= 0 AND amount_refunded >= 0 AND amount_refunded <= amount_paid', name=op.f('ck_sales_orders_paid')),
    sa.CheckConstraint('total IS NULL OR total > 0', name=op.f('ck_sales_orders_total')),
    sa.ForeignKeyConstraint(['tenant_id', 'company_id'], ['companies.tenant_id', 'companies.id'], name=op.f('fk_sales_orders_tenant_id_company_id_companies')),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_sales_orders_tenant_id_customer_id_customers')),
    sa.ForeignKeyConstraint(['tenant_id', 'invoice_id'], ['invoices.tenant_id', 'invoices.id'], name=op.f('fk_sales_orders_tenant_id_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sales_orders_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_sales_orders'))
    )
    op.create_index('ix_sales_orders_hold_until_placed', 'sales_orders', ['hold_until'], unique=False, postgresql_where=sa.text("status = 'placed' AND hold_until IS NOT NULL"))
    op.create_index('ix_sales_orders_tenant_id_customer_id', 'sales_orders', ['tenant_id', 'customer_id'], unique=False)
    op.create_index('ix_sales_orders_tenant_id_status_created_at', 'sales_orders', ['tenant_id', 'status', 'created_at'], unique=False)
    op.create_table('online_payments',
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('invoice_id', sa.Uuid(), nullable=True),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('gateway_kind', sa.String(length=20), nullable=False),
    sa.Column('gateway_ref', sa.String(length=64), nullable=False),
    sa.Column('short_url', sa.Text(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'created'"), nullable=False),
    sa.Column('is_sandbox', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('razorpay_payment_id', sa.String(length=64), nullable=True),
    sa.Column('amount_paid', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('receipt_id', sa.Uuid(), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('refund_due', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('refund_due_reason', sa.Text(), nullable=True),
    sa.Column('amount_refunded', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(purpose = 'invoice') = (invoice_id IS NOT NULL)", name=op.f('ck_online_payments_invoice_purpose')),
    sa.CheckConstraint("(purpose = 'order') = (order_id IS NOT NULL)", name=op.f('ck_online_payments_order_purpose')),
    sa.CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL)", name=op.f('ck_online_payments_paid_at')),
    sa.CheckConstraint("gateway_kind IN ('payment_link', 'order')", name=op.f('ck_online_payments_gateway_kind')),
    sa.CheckConstraint("purpose IN ('invoice', 'order')", name=op.f('ck_online_payments_purpose')),
    sa.CheckConstraint("status <> 'paid' OR (razorpay_payment_id IS NOT NULL AND amount_paid IS NOT NULL)", name=op.f('ck_online_payments_paid_details')),
    sa.CheckConstraint("status IN ('created', 'failed', 'expired', 'cancelled', 'paid')", name=op.f('ck_online_payments_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_online_payments_amount')),
    sa.CheckConstraint('amount_refunded >= 0 AND amount_refunded <= coalesce(amount_paid, 0)', name=op.f('ck_online_payments_amount_refunded')),
    sa.ForeignKeyConstraint(['tenant_id', 'company_id'], ['companies.tenant_id', 'companies.id'], name=op.f('fk_online_payments_tenant_id_company_id_companies')),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_online_payments_tenant_id_customer_id_customers')),
    sa.ForeignKeyConstraint(['tenant_id', 'invoice_id'], ['invoices.tenant_id', 'invoices.id'], name=op.f('fk_online_payments_tenant_id_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['sales_orders.tenant_id', 'sales_orders.id'], name=op.f('fk_online_payments_tenant_id_order_id_sales_orders')),
    sa.ForeignKeyConstraint(['tenant_id', 'receipt_id'], ['receipts.tenant_id', 'receipts.id'], name=op.f('fk_online_payments_tenant_id_receipt_id_receipts')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_online_payments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_online_payments'))
    )
    op.create_index('ix_online_payments_tenant_id_created_at', 'online_payments', ['tenant_id', 'created_at'], unique=False)
    op.create_index('ix_online_payments_tenant_id_invoice_id', 'online_payments', ['tenant_id', 'invoice_id'], unique=False)
    op.create_index('ix_online_payments_tenant_id_order_id', 'online_payments', ['tenant_id', 'order_id'], unique=False)
    op.create_index('uq_online_payments_tenant_id_gateway_ref', 'online_payments', ['tenant_id', 'gateway_ref'], unique=True)
    op.create_index('uq_online_payments_tenant_id_razorpay_payment_id', 'online_payments', ['tenant_id', 'razorpay_payment_id'], unique=True, postgresql_where=sa.text('razorpay_payment_id IS NOT NULL'))
    op.create_table('sales_order_lines',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=15, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('discount', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('discount >= 0', name=op.f('ck_sales_order_lines_discount')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_sales_order_lines_quantity')),
    sa.CheckConstraint('unit_price IS NULL OR unit_price >= 0', name=op.f('ck_sales_order_lines_unit_price')),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['sales_orders.tenant_id', 'sales_orders.id'], name=op.f('fk_sales_order_lines_tenant_id_order_id_sales_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'product_id'], ['products.tenant_id', 'products.id'], name=op.f('fk_sales_order_lines_tenant_id_product_id_products')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sales_order_lines_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_sales_order_lines'))
    )
    op.create_index('uq_sales_order_lines_tenant_id_order_id_product_id', 'sales_order_lines', ['tenant_id', 'order_id', 'product_id'], unique=True)
    op.create_table('refunds',
    sa.Column('online_payment_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('razorpay_refund_id', sa.String(length=64), nullable=True),
    sa.Column('credit_note_id', sa.Uuid(), nullable=True),
    sa.Column('restock', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'processed', 'failed')", name=op.f('ck_refunds_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount')),
    sa.ForeignKeyConstraint(['tenant_id', 'credit_note_id'], ['credit_notes.tenant_id', 'credit_notes.id'], name=op.f('fk_refunds_tenant_id_credit_note_id_credit_notes')),
    sa.ForeignKeyConstraint(['tenant_id', 'online_payment_id'], ['online_payments.tenant_id', 'online_payments.id'], name=op.f('fk_refunds_tenant_id_online_payment_id_online_payments')),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['sales_orders.tenant_id', 'sales_orders.id'], name=op.f('fk_refunds_tenant_id_order_id_sales_orders')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_refunds_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_refunds'))
    )
    op.create_index('ix_refunds_tenant_id_online_payment_id', 'refunds', ['tenant_id', 'online_payment_id'], unique=False)
    op.create_index('ix_refunds_tenant_id_order_id', 'refunds', ['tenant_id', 'order_id'], unique=False)
    op.create_index('uq_refunds_tenant_id_razorpay_refund_id', 'refunds', ['tenant_id', 'razorpay_refund_id'], unique=True, postgresql_where=sa.text('razorpay_refund_id IS NOT NULL'))
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    op.execute("REVOKE ALL ON gateway_webhooks FROM PUBLIC")
    op.execute(WEBHOOK_TENANT)
    op.execute(CLAIM_WEBHOOK)
    for function in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
    op.drop_constraint(op.f('ck_receipts_mode'), 'receipts', type_='check')
    op.create_check_constraint(op.f('ck_receipts_mode'), 'receipts', f"mode IN {MODES_AFTER}")


def downgrade() -> None:
    op.execute("UPDATE receipts SET mode = 'upi' WHERE mode = 'razorpay'")
    op.drop_constraint(op.f('ck_receipts_mode'), 'receipts', type_='check')
    op.create_check_constraint(op.f('ck_receipts_mode'), 'receipts', f"mode IN {MODES_BEFORE}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_index('uq_refunds_tenant_id_razorpay_refund_id', table_name='refunds', postgresql_where=sa.text('razorpay_refund_id IS NOT NULL'))
    op.drop_index('ix_refunds_tenant_id_order_id', table_name='refunds')
    op.drop_index('ix_refunds_tenant_id_online_payment_id', table_name='refunds')
    op.drop_table('refunds')
    op.drop_index('uq_sales_order_lines_tenant_id_order_id_product_id', table_name='sales_order_lines')
    op.drop_table('sales_order_lines')
    op.drop_index('uq_online_payments_tenant_id_razorpay_payment_id', table_name='online_payments', postgresql_where=sa.text('razorpay_payment_id IS NOT NULL'))
    op.drop_index('uq_online_payments_tenant_id_gateway_ref', table_name='online_payments')
    op.drop_index('ix_online_payments_tenant_id_order_id', table_name='online_payments')
    op.drop_index('ix_online_payments_tenant_id_invoice_id', table_name='online_payments')
    op.drop_index('ix_online_payments_tenant_id_created_at', table_name='online_payments')
    op.drop_table('online_payments')
    op.drop_index('ix_sales_orders_tenant_id_status_created_at', table_name='sales_orders')
    op.drop_index('ix_sales_orders_tenant_id_customer_id', table_name='sales_orders')
    op.drop_index('ix_sales_orders_hold_until_placed', table_name='sales_orders', postgresql_where=sa.text("status = 'placed' AND hold_until IS NOT NULL"))
    op.drop_table('sales_orders')
    op.drop_index('uq_payment_gateways_tenant_id_webhook_id', table_name='payment_gateways')
    op.drop_index('uq_payment_gateways_tenant_id_provider', table_name='payment_gateways')
    op.drop_table('payment_gateways')
    op.drop_index('uq_gateway_events_tenant_id_event_id', table_name='gateway_events')
    op.drop_index('ix_gateway_events_tenant_id_received_at', table_name='gateway_events')
    op.drop_table('gateway_events')
    op.drop_table('gateway_webhooks')
