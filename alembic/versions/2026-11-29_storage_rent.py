"""storage rent (issue 12 §4): storage agreements, the customer goods they hold, their movements and the periods billed

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29 09:30:00

1. `storage_agreements`, `storage_holdings`, `storage_movements` (append-only for the application
   role: app.core.roles.APPEND_ONLY_TABLES) and `storage_rent_periods`: tenant tables with
   row-level security. Customer goods have a ledger of their own: they never touch stock_levels.
2. `due_storage_rent_tenants(moment, only)`: SECURITY DEFINER like the functions of migrations 0007,
   0020 and 0022 (tenant ids only), reading through an owner-only `jobs_scan` policy added here on
   storage_agreements. A tenant is due when one of its agreements has a period whose billing day
   (`next_bill_on`, the period's end) is on or before the day in India at `moment`; the scan reads
   the partial index of agreements still billing (ix_storage_agreements_next_bill_on). EXECUTE is
   revoked from PUBLIC and granted to the application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.migration_helpers import enable_tenant_rls

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ["storage_agreements", "storage_holdings", "storage_movements", "storage_rent_periods"]
SIGNATURE = "due_storage_rent_tenants(timestamp with time zone, uuid[])"
FUNCTION = """
CREATE FUNCTION due_storage_rent_tenants(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT DISTINCT a.tenant_id FROM public.storage_agreements a
WHERE a.next_bill_on IS NOT NULL AND a.next_bill_on <= (moment AT TIME ZONE 'Asia/Kolkata')::date
AND (only_tenants IS NULL OR a.tenant_id = ANY (only_tenants))
$$"""


def upgrade() -> None:
    op.create_table(
        "storage_agreements",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=50), nullable=True),
        sa.Column("monthly_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("billing_day", sa.SmallInteger(), nullable=False),
        sa.Column("gst_rate", sa.Numeric(precision=5, scale=2), server_default=sa.text("18"), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), server_default=sa.text("'active'"), nullable=False),
        sa.Column("next_period_start", sa.Date(), nullable=False),
        sa.Column("next_bill_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("billing_problem", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'ended')", name=op.f("ck_storage_agreements_status")),
        sa.CheckConstraint("monthly_rate > 0 AND monthly_rate < 100", name=op.f("ck_storage_agreements_monthly_rate")),
        sa.CheckConstraint("billing_day BETWEEN 1 AND 28", name=op.f("ck_storage_agreements_billing_day")),
        sa.CheckConstraint("gst_rate >= 0 AND gst_rate <= 100", name=op.f("ck_storage_agreements_gst_rate")),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name=op.f("ck_storage_agreements_end_date")),
        sa.CheckConstraint("status = 'active' OR end_date IS NOT NULL", name=op.f("ck_storage_agreements_ended")),
        sa.CheckConstraint(
            "next_bill_on IS NULL OR next_bill_on > next_period_start", name=op.f("ck_storage_agreements_next_bill_on")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_storage_agreements_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_storage_agreements_tenant_id_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_storage_agreements_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_storage_agreements")),
    )
    op.create_index(
        "ix_storage_agreements_tenant_id_customer_id", "storage_agreements", ["tenant_id", "customer_id"], unique=False
    )
    op.create_index(
        "ix_storage_agreements_tenant_id_status", "storage_agreements", ["tenant_id", "status"], unique=False
    )
    op.create_index(
        "ix_storage_agreements_next_bill_on",
        "storage_agreements",
        ["next_bill_on"],
        unique=False,
        postgresql_where=sa.text("next_bill_on IS NOT NULL"),
    )
    op.create_table(
        "storage_holdings",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("unit_value", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("last_movement_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_storage_holdings_quantity")),
        sa.CheckConstraint("unit_value > 0", name=op.f("ck_storage_holdings_unit_value")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agreement_id"],
            ["storage_agreements.tenant_id", "storage_agreements.id"],
            name=op.f("fk_storage_holdings_tenant_id_agreement_id_storage_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_storage_holdings_tenant_id_product_id_products"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_storage_holdings_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "agreement_id", "product_id", name=op.f("pk_storage_holdings")),
    )
    op.create_index(
        "ix_storage_holdings_tenant_id_product_id", "storage_holdings", ["tenant_id", "product_id"], unique=False
    )
    op.create_table(
        "storage_movements",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("quantity_after", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("movement_date", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=50), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("kind IN ('receipt', 'release')", name=op.f("ck_storage_movements_kind")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_storage_movements_quantity")),
        sa.CheckConstraint("quantity_after >= 0", name=op.f("ck_storage_movements_quantity_after")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agreement_id", "product_id"],
            ["storage_holdings.tenant_id", "storage_holdings.agreement_id", "storage_holdings.product_id"],
            name="fk_storage_movements_holding",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_storage_movements_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_storage_movements")),
    )
    op.create_index(
        "ix_storage_movements_tenant_id_agreement_id_id",
        "storage_movements",
        ["tenant_id", "agreement_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_storage_movements_tenant_id_agreement_id_movement_date",
        "storage_movements",
        ["tenant_id", "agreement_id", "movement_date"],
        unique=False,
    )
    op.create_table(
        "storage_rent_periods",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("rent", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("period_end > period_start", name=op.f("ck_storage_rent_periods_period")),
        sa.CheckConstraint("rent >= 0", name=op.f("ck_storage_rent_periods_rent")),
        sa.CheckConstraint("invoice_id IS NOT NULL OR rent = 0", name=op.f("ck_storage_rent_periods_invoiced")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agreement_id"],
            ["storage_agreements.tenant_id", "storage_agreements.id"],
            name="fk_storage_rent_periods_agreement",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_storage_rent_periods_tenant_id_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_storage_rent_periods_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "agreement_id", "period_start", name=op.f("pk_storage_rent_periods")),
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    op.execute("CREATE POLICY jobs_scan ON storage_agreements FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.drop_table("storage_rent_periods")
    op.drop_index("ix_storage_movements_tenant_id_agreement_id_movement_date", table_name="storage_movements")
    op.drop_index("ix_storage_movements_tenant_id_agreement_id_id", table_name="storage_movements")
    op.drop_table("storage_movements")
    op.drop_index("ix_storage_holdings_tenant_id_product_id", table_name="storage_holdings")
    op.drop_table("storage_holdings")
    op.drop_index(
        "ix_storage_agreements_next_bill_on",
        table_name="storage_agreements",
        postgresql_where=sa.text("next_bill_on IS NOT NULL"),
    )
    op.drop_index("ix_storage_agreements_tenant_id_status", table_name="storage_agreements")
    op.drop_index("ix_storage_agreements_tenant_id_customer_id", table_name="storage_agreements")
    op.drop_table("storage_agreements")
