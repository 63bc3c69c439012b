"""business configuration and customers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:18:39.022983

Tenants' companies (one per GSTIN), client types, account managers, service types, date-effective
GST rates, GST settings, customers, and stored responses for Idempotency-Key. Existing tenants get
the standard GST rates and default settings (new tenants get them at sign-up).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

NEW_TENANT_TABLES = [
    "companies", "client_types", "account_managers", "service_types", "tax_rates", "gst_settings", "customers",
    "idempotency_keys",
]
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
# The standard set as of this migration (a snapshot: later changes come as data, not code).
STANDARD_RATES = [(r, "2017-07-01") for r in ("0", "0.1", "0.25", "1.5", "3", "5", "6", "12", "18", "28")]
STANDARD_RATES.append(("40", "2025-09-22"))

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_managers',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_account_managers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_account_managers'))
    )
    op.create_table('client_types',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_client_types_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_client_types'))
    )
    op.create_index('uq_client_types_tenant_id_lower_name', 'client_types', ['tenant_id', sa.literal_column('lower(name)')], unique=True)
    op.create_table('companies',
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('trade_name', sa.String(length=200), nullable=True),
    sa.Column('gstin', sa.String(length=15), nullable=True),
    sa.Column('pan', sa.String(length=10), nullable=True),
    sa.Column('state_code', sa.String(length=2), nullable=False),
    sa.Column('address_line1', sa.String(length=200), nullable=True),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('pincode', sa.String(length=6), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('bank_account_name', sa.String(length=200), nullable=True),
    sa.Column('bank_account_number', sa.String(length=34), nullable=True),
    sa.Column('ifsc', sa.String(length=11), nullable=True),
    sa.Column('upi_vpa', sa.String(length=100), nullable=True),
    sa.Column('default_terms', sa.Text(), nullable=True),
    sa.Column('is_archived', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state_code ~ '^[0-9]{2}$'", name=op.f('ck_companies_state_code')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_companies_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_companies'))
    )
    op.create_index('uq_companies_tenant_id_gstin', 'companies', ['tenant_id', 'gstin'], unique=True, postgresql_where=sa.text('gstin IS NOT NULL'))
    op.create_table('gst_settings',
    sa.Column('registration_type', sa.String(length=20), server_default=sa.text("'regular'"), nullable=False),
    sa.Column('round_off_enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('default_due_days', sa.Integer(), server_default=sa.text('15'), nullable=False),
    sa.Column('invoice_number_pattern', sa.String(length=40), server_default=sa.text("'INV/{fy}/{seq:05}'"), nullable=False),
    sa.Column('credit_note_number_pattern', sa.String(length=40), server_default=sa.text("'CN/{fy}/{seq:05}'"), nullable=False),
    sa.Column('receipt_number_pattern', sa.String(length=40), server_default=sa.text("'RCT/{fy}/{seq:05}'"), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("registration_type IN ('regular', 'composition')", name=op.f('ck_gst_settings_registration_type')),
    sa.CheckConstraint('default_due_days >= 0 AND default_due_days <= 365', name=op.f('ck_gst_settings_default_due_days')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_gst_settings_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gst_settings'))
    )
    op.create_index('uq_gst_settings_tenant_id', 'gst_settings', ['tenant_id'], unique=True)
    op.create_table('idempotency_keys',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('in_flight', 'completed')", name=op.f('ck_idempotency_keys_state')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_idempotency_keys_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_index('ix_idempotency_keys_expires_at', 'idempotency_keys', ['expires_at'], unique=False)
    op.create_table('service_types',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sac_hsn_code', sa.String(length=8), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('default_rate', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('default_gst_rate', sa.Numeric(precision=5, scale=2), server_default=sa.text('18'), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('default_gst_rate >= 0 AND default_gst_rate <= 100', name=op.f('ck_service_types_default_gst_rate')),
    sa.CheckConstraint('default_rate >= 0', name=op.f('ck_service_types_default_rate')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_service_types_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_service_types'))
    )
    op.create_index('uq_service_types_tenant_id_lower_name', 'service_types', ['tenant_id', sa.literal_column('lower(name)')], unique=True)
    op.create_table('tax_rates',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from', name=op.f('ck_tax_rates_effective_range')),
    sa.CheckConstraint('rate >= 0 AND rate <= 100', name=op.f('ck_tax_rates_rate')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tax_rates_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tax_rates'))
    )
    op.create_index('uq_tax_rates_tenant_id_rate_effective_from', 'tax_rates', ['tenant_id', 'rate', 'effective_from'], unique=True)
    op.create_table('customers',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('client_type_id', sa.Uuid(), nullable=True),
    sa.Column('account_manager_id', sa.Uuid(), nullable=True),
    sa.Column('gstin', sa.String(length=15), nullable=True),
    sa.Column('pan', sa.String(length=10), nullable=True),
    sa.Column('is_sez', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('billing_address_line1', sa.String(length=200), nullable=True),
    sa.Column('billing_address_line2', sa.String(length=200), nullable=True),
    sa.Column('billing_city', sa.String(length=100), nullable=True),
    sa.Column('billing_state_code', sa.String(length=2), nullable=False),
    sa.Column('billing_pincode', sa.String(length=6), nullable=True),
    sa.Column('shipping_address_line1', sa.String(length=200), nullable=True),
    sa.Column('shipping_address_line2', sa.String(length=200), nullable=True),
    sa.Column('shipping_city', sa.String(length=100), nullable=True),
    sa.Column('shipping_state_code', sa.String(length=2), nullable=True),
    sa.Column('shipping_pincode', sa.String(length=6), nullable=True),
    sa.Column('payment_terms_days', sa.Integer(), nullable=True),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('opening_balance', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('balance', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('is_archived', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("billing_state_code ~ '^[0-9]{2}$'", name=op.f('ck_customers_billing_state_code')),
    sa.CheckConstraint('credit_limit IS NULL OR credit_limit >= 0', name=op.f('ck_customers_credit_limit')),
    sa.CheckConstraint('payment_terms_days >= 0 AND payment_terms_days <= 365', name=op.f('ck_customers_payment_terms_days')),
    sa.ForeignKeyConstraint(['tenant_id', 'account_manager_id'], ['account_managers.tenant_id', 'account_managers.id'], name=op.f('fk_customers_tenant_id_account_manager_id_account_managers')),
    sa.ForeignKeyConstraint(['tenant_id', 'client_type_id'], ['client_types.tenant_id', 'client_types.id'], name=op.f('fk_customers_tenant_id_client_type_id_client_types')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_customers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customers'))
    )
    op.create_index('ix_customers_tenant_id_account_manager_id', 'customers', ['tenant_id', 'account_manager_id'], unique=False)
    op.create_index('ix_customers_tenant_id_client_type_id', 'customers', ['tenant_id', 'client_type_id'], unique=False)
    op.create_index('ix_customers_tenant_id_gstin', 'customers', ['tenant_id', 'gstin'], unique=False)
    op.create_index('ix_customers_tenant_id_lower_name', 'customers', ['tenant_id', sa.literal_column('lower(name)')], unique=False)
    _seed_existing_tenants()
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {TENANT_SETTING}) WITH CHECK (tenant_id = {TENANT_SETTING})"
        )


def _seed_existing_tenants() -> None:
    # The owner reads every tenant only while FORCE is lifted, inside this transaction.
    op.execute("ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY")
    values = ", ".join(f"({rate}, '{since}'::date)" for rate, since in STANDARD_RATES)
    op.execute(
        "INSERT INTO tax_rates (tenant_id, id, name, rate, effective_from) "
        "SELECT t.id, gen_random_uuid(), 'GST ' || r.rate || '%', r.rate, r.since "
        f"FROM tenants t CROSS JOIN (VALUES {values}) AS r(rate, since)"
    )
    op.execute("INSERT INTO gst_settings (tenant_id, id) SELECT id, gen_random_uuid() FROM tenants")
    op.execute("ALTER TABLE tenants FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in NEW_TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.drop_index('ix_customers_tenant_id_lower_name', table_name='customers')
    op.drop_index('ix_customers_tenant_id_gstin', table_name='customers')
    op.drop_index('ix_customers_tenant_id_client_type_id', table_name='customers')
    op.drop_index('ix_customers_tenant_id_account_manager_id', table_name='customers')
    op.drop_table('customers')
    op.drop_index('uq_tax_rates_tenant_id_rate_effective_from', table_name='tax_rates')
    op.drop_table('tax_rates')
    op.drop_index('uq_service_types_tenant_id_lower_name', table_name='service_types')
    op.drop_table('service_types')
    op.drop_index('ix_idempotency_keys_expires_at', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index('uq_gst_settings_tenant_id', table_name='gst_settings')
    op.drop_table('gst_settings')
    op.drop_index('uq_companies_tenant_id_gstin', table_name='companies', postgresql_where=sa.text('gstin IS NOT NULL'))
    op.drop_table('companies')
    op.drop_index('uq_client_types_tenant_id_lower_name', table_name='client_types')
    op.drop_table('client_types')
    op.drop_table('account_managers')
