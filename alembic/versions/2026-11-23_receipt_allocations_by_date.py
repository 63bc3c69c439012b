"""receipt allocations by date

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:50:00

An index on receipt_allocations (tenant_id, allocated_on): the dashboard's average days to pay
starts from the allocations dated in its range, which otherwise meant reading every allocation of
the tenant.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_receipt_allocations_tenant_id_allocated_on', 'receipt_allocations', ['tenant_id', 'allocated_on'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_receipt_allocations_tenant_id_allocated_on', table_name='receipt_allocations')
