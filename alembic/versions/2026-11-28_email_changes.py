"""email changes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 22:30:00

`email_changes`: a login-email change is pending until the new address confirms it with a mailed
single-use token; the old address is told and can cancel it with a token of its own (both stored
as SHA-256). Row-level security like every tenant table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def upgrade() -> None:
    op.create_table(
        'email_changes',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('old_email', sa.String(length=320), nullable=False),
        sa.Column('new_email', sa.String(length=320), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('cancel_token_hash', sa.String(length=64), nullable=False),
        sa.Column('requested_by_family_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id', 'user_id'],
            ['users.tenant_id', 'users.id'],
            name=op.f('fk_email_changes_tenant_id_user_id_users'),
        ),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_email_changes_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_email_changes')),
    )
    op.create_index('ix_email_changes_tenant_id_user_id', 'email_changes', ['tenant_id', 'user_id'], unique=False)
    op.create_index(
        'uq_email_changes_tenant_id_cancel_token_hash', 'email_changes', ['tenant_id', 'cancel_token_hash'], unique=True
    )
    op.create_index('uq_email_changes_tenant_id_token_hash', 'email_changes', ['tenant_id', 'token_hash'], unique=True)
    op.execute("ALTER TABLE email_changes ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE email_changes FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON email_changes "
        f"USING (tenant_id = {TENANT_SETTING}) WITH CHECK (tenant_id = {TENANT_SETTING})"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS tenant_isolation ON email_changes")
    op.drop_index('uq_email_changes_tenant_id_token_hash', table_name='email_changes')
    op.drop_index('uq_email_changes_tenant_id_cancel_token_hash', table_name='email_changes')
    op.drop_index('ix_email_changes_tenant_id_user_id', table_name='email_changes')
    op.drop_table('email_changes')
