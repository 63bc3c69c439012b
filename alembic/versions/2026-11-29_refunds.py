"""refunds: where refunded money comes from and whom it went to (issue 12 §3)

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-29 09:10:00

1. `receipts.amount_refunded`: what of the receipt went back to the customer through the gateway.
   A receipt's advance (what may still be allocated) is amount - amount_allocated - amount_refunded;
   the CHECK `ck_receipts_amount_allocated` now bounds the sum.
2. `refunds.customer_id` (the customer's ledger shows a refund as a debit), `refunds.receipt_id`
   (the receipt the money came off) and `refunds.failed_at` (a failed refund's reversing ledger
   entry is dated by it, as a void is by voided_at).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'receipts',
        sa.Column('amount_refunded', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    )
    op.drop_constraint(op.f('ck_receipts_amount_allocated'), 'receipts', type_='check')
    op.create_check_constraint(
        op.f('ck_receipts_amount_allocated'), 'receipts',
        'amount_allocated >= 0 AND amount_refunded >= 0 AND amount_allocated + amount_refunded <= amount',
    )
    op.add_column('refunds', sa.Column('customer_id', sa.Uuid(), nullable=False))
    op.add_column('refunds', sa.Column('receipt_id', sa.Uuid(), nullable=True))
    op.add_column('refunds', sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(
        op.f('fk_refunds_tenant_id_customer_id_customers'), 'refunds', 'customers',
        ['tenant_id', 'customer_id'], ['tenant_id', 'id'],
    )
    op.create_foreign_key(
        op.f('fk_refunds_tenant_id_receipt_id_receipts'), 'refunds', 'receipts',
        ['tenant_id', 'receipt_id'], ['tenant_id', 'id'],
    )
    for state in ('failed', 'processed'):
        op.create_check_constraint(
            op.f(f'ck_refunds_{state}_at'), 'refunds', f"(status = '{state}') = ({state}_at IS NOT NULL)"
        )
    op.create_index('ix_refunds_tenant_id_customer_id', 'refunds', ['tenant_id', 'customer_id'], unique=False)
    op.create_index('ix_refunds_tenant_id_created_at', 'refunds', ['tenant_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refunds_tenant_id_created_at', table_name='refunds')
    op.drop_index('ix_refunds_tenant_id_customer_id', table_name='refunds')
    op.drop_constraint(op.f('ck_refunds_processed_at'), 'refunds', type_='check')
    op.drop_constraint(op.f('ck_refunds_failed_at'), 'refunds', type_='check')
    op.drop_constraint(op.f('fk_refunds_tenant_id_receipt_id_receipts'), 'refunds', type_='foreignkey')
    op.drop_constraint(op.f('fk_refunds_tenant_id_customer_id_customers'), 'refunds', type_='foreignkey')
    op.drop_column('refunds', 'failed_at')
    op.drop_column('refunds', 'receipt_id')
    op.drop_column('refunds', 'customer_id')
    op.drop_constraint(op.f('ck_receipts_amount_allocated'), 'receipts', type_='check')
    op.create_check_constraint(
        op.f('ck_receipts_amount_allocated'), 'receipts', 'amount_allocated >= 0 AND amount_allocated <= amount'
    )
    op.drop_column('receipts', 'amount_refunded')
