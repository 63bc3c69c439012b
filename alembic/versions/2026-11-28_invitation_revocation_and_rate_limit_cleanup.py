"""invitation revocation and rate-limit cleanup (issue 8 §9)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 22:30:00

1. `user_invitations.revoked_at`: when an owner/admin revoked a pending invitation
   (DELETE /users/invitations/{id}); a revoked invitation is also marked used, so its token no
   longer redeems. An index on (tenant_id, invited_by) finds an inviter's pending invitations when
   they are deactivated or demoted.
2. `cleanup_expired` (migration 0007) replaced with CREATE OR REPLACE (same signature, same
   grants): it also deletes `rate_limit_hits` windows that started more than a day before the
   instant (every rate-limit window is at most a day long: `app.core.config`), so counters of
   credential stuffing with many emails no longer grow without bound. Its kind is `rate_limit_hits`.
   It also deletes expired `email_changes` (migration 0010), through owner-only `jobs_scan` and
   `jobs_cleanup` policies on that table like those migration 0007 made for the other cleaned tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLEANED_TABLES = ["sessions", "idempotency_keys", "email_verifications", "password_resets", "user_invitations"]
NEWLY_CLEANED = "email_changes"
CLEANUP_FUNCTION = """
CREATE OR REPLACE FUNCTION cleanup_expired(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS TABLE (kind text, deleted bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target text;
    n bigint;
BEGIN
    -- Refresh-token sessions, Idempotency-Key responses past their TTL, and verification, reset and
    -- invitation tokens: each past its own expires_at (revoked sessions stay until they expire: a
    -- replayed revoked token must still revoke its family). Never past the database's own clock: a
    -- caller (or `run-due --at` a future instant) cannot delete what is still valid.
    FOREACH target IN ARRAY ARRAY[{tables}] LOOP
        EXECUTE format(
            'DELETE FROM public.%I WHERE expires_at < $1 AND ($2::uuid[] IS NULL OR tenant_id = ANY ($2))', target
        ) USING LEAST(moment, now()), only_tenants;
        GET DIAGNOSTICS n = ROW_COUNT;
        kind := target;
        deleted := n;
        RETURN NEXT;
    END LOOP;
    {rate_limits}
END
$$"""
# Rate-limit counters are global (no tenant): cleaned only when the run is not limited to tenants.
RATE_LIMITS = """-- Rate-limit windows that started over a day ago (no window is longer than a day).
    IF only_tenants IS NULL THEN
        DELETE FROM public.rate_limit_hits WHERE window_start < LEAST(moment, now()) - interval '1 day';
        GET DIAGNOSTICS n = ROW_COUNT;
        kind := 'rate_limit_hits';
        deleted := n;
        RETURN NEXT;
    END IF;"""


def _cleanup(rate_limits: str, tables: list[str]) -> str:
    tables = ", ".join(f"'{t}'" for t in tables)
    return CLEANUP_FUNCTION.replace("{tables}", tables).replace("{rate_limits}", rate_limits)


def upgrade() -> None:
    op.add_column('user_invitations', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_user_invitations_tenant_id_invited_by', 'user_invitations', ['tenant_id', 'invited_by'], unique=False)
    # For cleanup_expired only (it runs as this role, the table's owner, under FORCE ROW LEVEL SECURITY).
    op.execute(f"CREATE POLICY jobs_scan ON {NEWLY_CLEANED} FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(f"CREATE POLICY jobs_cleanup ON {NEWLY_CLEANED} FOR DELETE TO CURRENT_USER USING (true)")
    op.execute(_cleanup(RATE_LIMITS, [*CLEANED_TABLES, NEWLY_CLEANED]))


def downgrade() -> None:
    op.execute(_cleanup("", CLEANED_TABLES))
    op.execute(f"DROP POLICY IF EXISTS jobs_cleanup ON {NEWLY_CLEANED}")
    op.execute(f"DROP POLICY IF EXISTS jobs_scan ON {NEWLY_CLEANED}")
    op.drop_index('ix_user_invitations_tenant_id_invited_by', table_name='user_invitations')
    op.drop_column('user_invitations', 'revoked_at')
