"""unverified gateway keys (issue 12 §1, review)

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-29 10:15:00

`payment_gateways.verified_at` becomes nullable: keys saved while RAZORPAY_MODE=sandbox are stored
unchecked (no network), and said so (NULL) instead of being stamped as if Razorpay had accepted
them. A live server refuses payments on such keys (409 `gateway-not-verified`) until the owner
saves them again, which checks them. Rows saved before this revision keep their time: whether
they were checked cannot be told afterwards. The downgrade stamps NULLs with the row's updated_at.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column('payment_gateways', 'verified_at', existing_type=sa.DateTime(timezone=True), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE payment_gateways SET verified_at = updated_at WHERE verified_at IS NULL")
    op.alter_column('payment_gateways', 'verified_at', existing_type=sa.DateTime(timezone=True), nullable=False)
