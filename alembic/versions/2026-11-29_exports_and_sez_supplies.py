"""exports and SEZ supplies

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 03:40:00

Issue 10 §1, Rule 46 for zero-rated supplies (app/domain/zero_rated.py):
- invoices.supply_category (regular / export / sez_unit / sez_developer) and invoices.tax_treatment
  (with_payment_of_igst / under_lut; NULL for a regular supply), chosen on a draft and frozen at
  issue like document_type: what the endorsement prints.
- an export's destination_country (ISO 3166-1 alpha-2), port_code, shipping_bill_number and
  shipping_bill_date.
Existing rows are filled from what they hold, as the application would have resolved them: a
regular supplier's invoice with place of supply 96 is an export, one to an SEZ customer charged
inter-state an SEZ unit's supply, both with payment of IGST (the tax they carry); every other row
is regular (the column's default, which rows written by SQL outside the application get too).
Their destination country stays unknown (the API asks it of every new export).

The owner reads every tenant's rows only while FORCE ROW LEVEL SECURITY is lifted, inside this
migration's transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READ_TABLES = ("invoices", "customers")
FILL = """
UPDATE invoices AS i SET
    supply_category = CASE
        WHEN i.supplier_registration_type <> 'regular' THEN 'regular'
        WHEN i.place_of_supply = '96' THEN 'export'
        WHEN c.is_sez AND i.supply_type = 'inter_state' THEN 'sez_unit'
        ELSE 'regular'
    END
FROM customers AS c WHERE c.tenant_id = i.tenant_id AND c.id = i.customer_id
"""
TREATMENT = "UPDATE invoices SET tax_treatment = 'with_payment_of_igst' WHERE supply_category <> 'regular'"
CHECKS = {
    "supply_category": "supply_category IN ('regular', 'export', 'sez_unit', 'sez_developer')",
    "tax_treatment": "tax_treatment IN ('with_payment_of_igst', 'under_lut')",
    "tax_treatment_when_zero_rated": "(supply_category = 'regular') = (tax_treatment IS NULL)",
    "export_details_of_exports": (
        "supply_category = 'export' OR num_nulls(destination_country, port_code, shipping_bill_number, "
        "shipping_bill_date) = 4"
    ),
    "export_place_of_supply": "supply_category <> 'export' OR place_of_supply = '96'",
    "sez_inter_state": "supply_category NOT IN ('sez_unit', 'sez_developer') OR supply_type = 'inter_state'",
    "no_tax_under_lut": "tax_treatment IS DISTINCT FROM 'under_lut' OR tax_total = 0",
    "destination_country": "destination_country ~ '^[A-Z]{2}$'",
    "port_code": "port_code ~ '^IN[A-Z0-9]{4}$'",
    "shipping_bill_number": "shipping_bill_number ~ '^[0-9]{1,7}$'",
    "shipping_bill": "(shipping_bill_number IS NULL) = (shipping_bill_date IS NULL)",
    "shipping_bill_date": "shipping_bill_date >= invoice_date",
}


def upgrade() -> None:
    op.add_column(
        "invoices",
        sa.Column("supply_category", sa.String(length=20), server_default=sa.text("'regular'"), nullable=False),
    )
    op.add_column("invoices", sa.Column("tax_treatment", sa.String(length=30), nullable=True))
    op.add_column("invoices", sa.Column("destination_country", sa.String(length=2), nullable=True))
    op.add_column("invoices", sa.Column("port_code", sa.String(length=6), nullable=True))
    op.add_column("invoices", sa.Column("shipping_bill_number", sa.String(length=7), nullable=True))
    op.add_column("invoices", sa.Column("shipping_bill_date", sa.Date(), nullable=True))
    for table in READ_TABLES:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(FILL)
    op.execute(TREATMENT)
    for table in READ_TABLES:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_invoices_{name}"), "invoices", condition)


def downgrade() -> None:
    for name in reversed(CHECKS):
        op.drop_constraint(op.f(f"ck_invoices_{name}"), "invoices", type_="check")
    for column in (
        "shipping_bill_date",
        "shipping_bill_number",
        "port_code",
        "destination_country",
        "tax_treatment",
        "supply_category",
    ):
        op.drop_column("invoices", column)
