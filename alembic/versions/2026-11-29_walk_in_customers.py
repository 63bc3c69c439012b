"""walk-in customers (issue 11 §4: quick sale at the counter)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29 06:40:00

A counter sale without a named customer is a B2C sale to a walk-in: invoices keep their NOT NULL
customer, and that customer is one row per company, `customers.walk_in_company_id` naming the
company whose counter it stands for (NULL on every real customer). It is created on the first
walk-in sale of the company (INSERT ... ON CONFLICT DO NOTHING on the unique index below, so two
first sales at once make one), with the company's state as its billing state (place of supply:
the shop's state). The application never counts it against the plan's customer limit, hides it
from the customer list unless asked (`walk_in=true`) and refuses to edit, archive or delete it.

The unique index leads with tenant_id (Citus-ready) and covers only the walk-in rows. A company
that has a walk-in customer cannot be deleted (the foreign key), as it cannot once it has invoices.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("walk_in_company_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_customers_tenant_id_walk_in_company_id_companies"),
        "customers",
        "companies",
        ["tenant_id", "walk_in_company_id"],
        ["tenant_id", "id"],
    )
    op.create_index(
        "uq_customers_tenant_id_walk_in_company_id",
        "customers",
        ["tenant_id", "walk_in_company_id"],
        unique=True,
        postgresql_where=sa.text("walk_in_company_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_customers_tenant_id_walk_in_company_id",
        table_name="customers",
        postgresql_where=sa.text("walk_in_company_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("fk_customers_tenant_id_walk_in_company_id_companies"), "customers", type_="foreignkey")
    op.drop_column("customers", "walk_in_company_id")
