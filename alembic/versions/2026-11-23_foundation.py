"""foundation

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 09:39:27.484716

Tenants, users and the authentication tables, with row-level security on every table that
holds tenant data (see DATABASE_SCHEMA.md, "Row-level security").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# (table, tenant column): the policy compares this column with the transaction's app.tenant_id.
RLS_TABLES = [
    ("tenants", "id"),
    ("users", "tenant_id"),
    ("sessions", "tenant_id"),
    ("email_verifications", "tenant_id"),
    ("password_resets", "tenant_id"),
    ("user_invitations", "tenant_id"),
    ("audit_logs", "tenant_id"),
    ("outbox_emails", "tenant_id"),
]
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_hits',
    sa.Column('bucket', sa.String(length=100), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'window_start', name=op.f('pk_rate_limit_hits'))
    )
    op.create_table('tenants',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('business_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('trial_start_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trial_end_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_trial_used', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants'))
    )
    op.create_table('audit_logs',
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('ip', postgresql.INET(), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_logs_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_audit_logs'))
    )
    op.create_index('ix_audit_logs_tenant_id_actor_user_id', 'audit_logs', ['tenant_id', 'actor_user_id'], unique=False)
    op.create_index('ix_audit_logs_tenant_id_at', 'audit_logs', ['tenant_id', 'at'], unique=False)
    op.create_index('ix_audit_logs_tenant_id_entity', 'audit_logs', ['tenant_id', 'entity_type', 'entity_id'], unique=False)
    op.create_table('outbox_emails',
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent')", name=op.f('ck_outbox_emails_status')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outbox_emails_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_outbox_emails'))
    )
    op.create_index('ix_outbox_emails_tenant_id_status', 'outbox_emails', ['tenant_id', 'status'], unique=False)
    op.create_table('users',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('owner', 'admin', 'accountant', 'viewer')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_users_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_users'))
    )
    op.create_index('uq_users_tenant_id_lower_email', 'users', ['tenant_id', sa.literal_column('lower(email)')], unique=True)
    op.create_table('email_verifications',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_email_verifications_tenant_id_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_email_verifications_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_email_verifications'))
    )
    op.create_index('uq_email_verifications_tenant_id_token_hash', 'email_verifications', ['tenant_id', 'token_hash'], unique=True)
    op.create_table('password_resets',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_password_resets_tenant_id_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_password_resets_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_password_resets'))
    )
    op.create_index('uq_password_resets_tenant_id_token_hash', 'password_resets', ['tenant_id', 'token_hash'], unique=True)
    op.create_table('sessions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('ip', postgresql.INET(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaced_by', sa.Uuid(), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_sessions_tenant_id_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sessions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_sessions'))
    )
    op.create_index('ix_sessions_tenant_id_family_id', 'sessions', ['tenant_id', 'family_id'], unique=False)
    op.create_index('ix_sessions_tenant_id_user_id', 'sessions', ['tenant_id', 'user_id'], unique=False)
    op.create_index('uq_sessions_tenant_id_token_hash', 'sessions', ['tenant_id', 'token_hash'], unique=True)
    op.create_table('user_identities',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_user_identities_email_lower')),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_user_identities_tenant_id_user_id_users'), ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_user_identities'))
    )
    op.create_table('user_invitations',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('invited_by', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("role IN ('owner', 'admin', 'accountant', 'viewer')", name=op.f('ck_user_invitations_role')),
    sa.ForeignKeyConstraint(['tenant_id', 'invited_by'], ['users.tenant_id', 'users.id'], name=op.f('fk_user_invitations_tenant_id_invited_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_user_invitations_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_user_invitations'))
    )
    op.create_index('uq_user_invitations_tenant_id_token_hash', 'user_invitations', ['tenant_id', 'token_hash'], unique=True)
    for table, column in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING ({column} = {TENANT_SETTING}) WITH CHECK ({column} = {TENANT_SETTING})"
        )


def downgrade() -> None:
    for table, _ in RLS_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.drop_index('uq_user_invitations_tenant_id_token_hash', table_name='user_invitations')
    op.drop_table('user_invitations')
    op.drop_table('user_identities')
    op.drop_index('uq_sessions_tenant_id_token_hash', table_name='sessions')
    op.drop_index('ix_sessions_tenant_id_user_id', table_name='sessions')
    op.drop_index('ix_sessions_tenant_id_family_id', table_name='sessions')
    op.drop_table('sessions')
    op.drop_index('uq_password_resets_tenant_id_token_hash', table_name='password_resets')
    op.drop_table('password_resets')
    op.drop_index('uq_email_verifications_tenant_id_token_hash', table_name='email_verifications')
    op.drop_table('email_verifications')
    op.drop_index('uq_users_tenant_id_lower_email', table_name='users')
    op.drop_table('users')
    op.drop_index('ix_outbox_emails_tenant_id_status', table_name='outbox_emails')
    op.drop_table('outbox_emails')
    op.drop_index('ix_audit_logs_tenant_id_entity', table_name='audit_logs')
    op.drop_index('ix_audit_logs_tenant_id_at', table_name='audit_logs')
    op.drop_index('ix_audit_logs_tenant_id_actor_user_id', table_name='audit_logs')
    op.drop_table('audit_logs')
    op.drop_table('tenants')
    op.drop_table('rate_limit_hits')
