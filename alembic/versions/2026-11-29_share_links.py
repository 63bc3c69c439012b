"""share links (issue 10 §3)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 03:40:00

`share_links`: a public, expiring, revocable link to one issued invoice (`GET /p/<token>`). Only the
token's SHA-256 is stored, unique within the tenant (the token has 256 random bits, so it is unique
everywhere in practice; a global unique key is one Citus could not enforce). Row-level security
like every tenant table.

A public request has no tenant. `share_link_of(token_hash, now)` answers the (tenant_id, link id)
of that one hash when its link is live (not revoked, not expired at `now`, the app's clock), or no
row: SECURITY DEFINER, owned by this migration's role, reading through the owner-only SELECT policy
`share_link_lookup` (the pattern of migration 0007's `jobs_scan`). Everything else the page needs
runs with that tenant bound, under row-level security. EXECUTE is revoked from PUBLIC and granted to
the application role by `app.core.roles.apply_grants`. On Citus the lookup by hash alone asks every
shard's index `ix_share_links_token_hash` (one index probe each).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.migration_helpers import enable_tenant_rls

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "share_link_of(text, timestamp with time zone)"
FUNCTION = """
CREATE FUNCTION share_link_of(p_token_hash text, p_now timestamptz)
RETURNS TABLE (tenant_id uuid, link_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT s.tenant_id, s.id FROM public.share_links s
WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > p_now
LIMIT 1
$$"""


def upgrade() -> None:
    op.create_table(
        'share_links',
        sa.Column('invoice_id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('view_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('last_viewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint('expires_at > created_at', name=op.f('ck_share_links_expires_after_creation')),
        sa.CheckConstraint('view_count >= 0', name=op.f('ck_share_links_view_count')),
        sa.ForeignKeyConstraint(
            ['tenant_id', 'created_by'], ['users.tenant_id', 'users.id'],
            name=op.f('fk_share_links_tenant_id_created_by_users'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id', 'invoice_id'], ['invoices.tenant_id', 'invoices.id'],
            name=op.f('fk_share_links_tenant_id_invoice_id_invoices'),
        ),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_share_links_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_share_links')),
    )
    op.create_index('ix_share_links_tenant_id_invoice_id', 'share_links', ['tenant_id', 'invoice_id'], unique=False)
    op.create_index('ix_share_links_token_hash', 'share_links', ['token_hash'], unique=False)
    op.create_index('uq_share_links_tenant_id_token_hash', 'share_links', ['tenant_id', 'token_hash'], unique=True)
    enable_tenant_rls('share_links')
    op.execute("CREATE POLICY share_link_lookup ON share_links FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.drop_table('share_links')
