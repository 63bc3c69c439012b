"""scheduled jobs: the procrastinate schema, job occasions and the cross-tenant functions jobs use (issue 4 §5)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:20:00

1. procrastinate's own schema (tables, types, functions, triggers), in a schema of its own named
   `procrastinate` (the worker connects with `search_path=procrastinate`), executed from the
   `schema.sql` shipped inside the installed package. That is why `procrastinate` is pinned to an
   exact version in requirements.txt: a new version may need its migrations applied in a new
   revision here (they ship in `procrastinate/sql/migrations`). Downgrade drops the schema.
2. `job_occasions`: what a job has produced, one row per (tenant, kind, occasion key), e.g.
   (tenant, 'trial_reminder', '7'). Jobs insert it with ON CONFLICT DO NOTHING in the same
   transaction as the effect (the email in the outbox), so the effect happens exactly once however
   many workers run. Tenant-scoped with row-level security like 0004.
3. `outbox_emails.next_attempt_at`: when a failed delivery is tried again (backoff).
4. SECURITY DEFINER functions that find work across tenants (row-level security hides other
   tenants from the application role): they return only tenant ids, or counts for the cleanup.
   They run as this migration's role, which may be a non-superuser table owner subject to FORCE
   ROW LEVEL SECURITY: policies for that role alone (`jobs_scan` FOR SELECT, `jobs_cleanup` FOR
   DELETE) let the functions see the rows; the application role is not that role and still sees
   only its tenant's rows. EXECUTE is revoked from PUBLIC and granted to the application role by
   `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = ["job_occasions"]
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
PROCRASTINATE_SCHEMA = "procrastinate"
# Tables the functions below read across tenants, and those the cleanup deletes from.
SCANNED_TABLES = ["subscriptions", "job_occasions", "outbox_emails", "usage_periods"]
CLEANED_TABLES = ["sessions", "idempotency_keys", "email_verifications", "password_resets", "user_invitations"]
DEFINER = "LANGUAGE {language} STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
ONLY = "(only_tenants IS NULL OR {column} = ANY (only_tenants))"

FUNCTIONS = {
    # Tenants with subscription work at `moment`: a transition due (trial, paid period or grace over),
    # a trial reminder day reached and not yet claimed, a paid period inside its renewal-reminder
    # window and not reminded, or a lapse written down (by a job or lazily by a request) within
    # `notice_window` whose notice has not been claimed.
    "due_subscription_tenants(timestamp with time zone, integer[], interval, interval, uuid[])": f"""
CREATE FUNCTION due_subscription_tenants(
    moment timestamptz, trial_reminder_days integer[], renewal_window interval, notice_window interval,
    only_tenants uuid[] DEFAULT NULL
) RETURNS SETOF uuid {DEFINER.format(language="sql")} AS $$
SELECT s.tenant_id FROM public.subscriptions s
WHERE s.is_current AND {ONLY.format(column="s.tenant_id")} AND (
    (s.status IN ('trialing', 'active', 'grace') AND s.current_period_end <= moment)
    OR (s.status = 'trialing' AND s.current_period_end > moment AND EXISTS (
        SELECT 1 FROM unnest(trial_reminder_days) AS d(day)
        WHERE s.current_period_start + make_interval(days => d.day) <= moment
        AND NOT EXISTS (SELECT 1 FROM public.job_occasions o WHERE o.tenant_id = s.tenant_id
                        AND o.kind = 'trial_reminder' AND o.occasion_key = d.day::text)))
    OR (s.status = 'active' AND s.current_period_end > moment AND s.current_period_end - renewal_window <= moment
        AND NOT EXISTS (SELECT 1 FROM public.job_occasions o WHERE o.tenant_id = s.tenant_id
                        AND o.kind = 'renewal_reminder'
                        AND o.occasion_key = floor(extract(epoch FROM s.current_period_end))::bigint::text))
    OR (s.status IN ('free', 'grace', 'locked') AND s.current_period_start <= moment
        AND s.current_period_start > moment - notice_window
        AND EXISTS (SELECT 1 FROM public.subscriptions p WHERE p.tenant_id = s.tenant_id AND NOT p.is_current
                    AND p.status IN ('trialing', 'active', 'grace')
                    AND p.current_period_end = s.current_period_start AND p.ended_at = s.current_period_start)
        AND NOT EXISTS (SELECT 1 FROM public.job_occasions o WHERE o.tenant_id = s.tenant_id
                        AND o.kind = 'subscription_notice' AND o.occasion_key = s.id::text))
)
$$""",
    # Tenants with a usage period (meter cycle) over at `moment`: the monthly reset is due.
    "due_usage_tenants(timestamp with time zone, uuid[])": f"""
CREATE FUNCTION due_usage_tenants(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid {DEFINER.format(language="sql")} AS $$
SELECT DISTINCT u.tenant_id FROM public.usage_periods u
WHERE u.is_current AND u.period_end <= moment AND {ONLY.format(column="u.tenant_id")}
$$""",
    # Tenants with mail to deliver again: pending, under the attempt cap, its next attempt due (a
    # message never attempted is left a minute to its after-commit delivery).
    "tenants_with_pending_mail(timestamp with time zone, integer, uuid[])": f"""
CREATE FUNCTION tenants_with_pending_mail(moment timestamptz, max_attempts integer, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid {DEFINER.format(language="sql")} AS $$
SELECT DISTINCT m.tenant_id FROM public.outbox_emails m
WHERE m.status = 'pending' AND m.attempts < max_attempts AND {ONLY.format(column="m.tenant_id")}
AND coalesce(m.next_attempt_at, m.created_at + interval '1 minute') <= moment
$$""",
}
CLEANUP_SIGNATURE = "cleanup_expired(timestamp with time zone, uuid[])"
CLEANUP_FUNCTION = """
CREATE FUNCTION cleanup_expired(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
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
END
$$""".replace("{tables}", ", ".join(f"'{t}'" for t in CLEANED_TABLES))


def upgrade() -> None:
    _procrastinate_schema()
    op.create_table('job_occasions',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('occasion_key', sa.String(length=100), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("kind IN ('trial_reminder', 'renewal_reminder', 'subscription_notice')", name=op.f('ck_job_occasions_kind')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_job_occasions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'kind', 'occasion_key', name=op.f('pk_job_occasions'))
    )
    op.add_column('outbox_emails', sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_outbox_emails_pending_next_attempt_at', 'outbox_emails', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {TENANT_SETTING}) WITH CHECK (tenant_id = {TENANT_SETTING})"
        )
    # For the functions below only: they run as this role (the tables' owner).
    for table in SCANNED_TABLES + CLEANED_TABLES:
        op.execute(f"CREATE POLICY jobs_scan ON {table} FOR SELECT TO CURRENT_USER USING (true)")
    for table in CLEANED_TABLES:
        op.execute(f"CREATE POLICY jobs_cleanup ON {table} FOR DELETE TO CURRENT_USER USING (true)")
    for signature, definition in FUNCTIONS.items():
        op.execute(definition)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(CLEANUP_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {CLEANUP_SIGNATURE} FROM PUBLIC")


def _procrastinate_schema() -> None:
    """procrastinate's schema.sql (several statements, dollar-quoted bodies) run as one script on
    the migration's own connection and transaction, with its objects created in their own schema."""
    bind = op.get_bind()
    search_path = bind.execute(sa.text("SELECT current_setting('search_path')")).scalar_one()
    op.execute(f"CREATE SCHEMA {PROCRASTINATE_SCHEMA}")
    op.execute(f"SELECT set_config('search_path', '{PROCRASTINATE_SCHEMA}', true)")
    await_(bind.connection.driver_connection.execute(SchemaManager.get_schema()))
    bind.execute(sa.text("SELECT set_config('search_path', :path, true)"), {"path": search_path})


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {CLEANUP_SIGNATURE}")
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in CLEANED_TABLES:
        op.execute(f"DROP POLICY IF EXISTS jobs_cleanup ON {table}")
    for table in SCANNED_TABLES + CLEANED_TABLES:
        op.execute(f"DROP POLICY IF EXISTS jobs_scan ON {table}")
    for table in NEW_TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.drop_index('ix_outbox_emails_pending_next_attempt_at', table_name='outbox_emails', postgresql_where=sa.text("status = 'pending'"))
    op.drop_column('outbox_emails', 'next_attempt_at')
    op.drop_table('job_occasions')
    op.execute(f"DROP SCHEMA IF EXISTS {PROCRASTINATE_SCHEMA} CASCADE")
