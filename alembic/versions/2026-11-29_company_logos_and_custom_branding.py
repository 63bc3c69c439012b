"""company logos and custom branding by plan (issue 10 §1)

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-29 03:40:00

- `plans.custom_branding`: whether the plan prints the tenant's logo on its documents. A paid-plan
  feature: true for the priced plans (`standard`, `premium`), false for `trial` and `free`, whose
  documents name the product in the footer instead.
- `company_logos`: one logo per company (PNG or JPEG as the API re-encoded it: metadata stripped,
  at most 600x200 pixels), a tenant table under row-level security; it goes with its company.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from app.core.migration_helpers import enable_tenant_rls

revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('plans', sa.Column('custom_branding', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.execute("UPDATE plans SET custom_branding = price_paise > 0")
    op.create_table('company_logos',
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('media_type', sa.String(length=20), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("media_type IN ('image/png', 'image/jpeg')", name=op.f('ck_company_logos_media_type')),
    sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_company_logos_dimensions')),
    sa.CheckConstraint('octet_length(content) <= 1048576', name=op.f('ck_company_logos_content_size')),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_company_logos_sha256')),
    sa.ForeignKeyConstraint(
        ['tenant_id', 'company_id'],
        ['companies.tenant_id', 'companies.id'],
        name=op.f('fk_company_logos_tenant_id_company_id_companies'),
        ondelete='CASCADE',
    ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_company_logos_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'company_id', name=op.f('pk_company_logos'))
    )
    enable_tenant_rls('company_logos')


def downgrade() -> None:
    op.drop_table('company_logos')
    op.drop_column('plans', 'custom_branding')
