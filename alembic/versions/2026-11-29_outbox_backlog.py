"""outbox backlog for /metrics (issue 9 §5)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 00:40:00

`outbox_backlog(max_attempts)`: the mail not yet delivered over every tenant, for the metrics a
scrape reads (`app.api.metrics`): how many are still to be tried, how many gave up after
`max_attempts`, and when the oldest of them was written. Row-level security shows the application
role one tenant's mail; like the jobs' functions of migration 0007 this one runs as its owner
(SECURITY DEFINER, reading through that migration's owner-only `jobs_scan` policy on
`outbox_emails`) and answers two counts and a timestamp, nothing that names a tenant or a message.
EXECUTE is revoked from PUBLIC and granted to the application role by `app.core.roles.apply_grants`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "outbox_backlog(integer)"
FUNCTION = """
CREATE FUNCTION outbox_backlog(max_attempts integer)
RETURNS TABLE (pending bigint, undeliverable bigint, oldest_created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT count(*) FILTER (WHERE m.attempts < max_attempts),
       count(*) FILTER (WHERE m.attempts >= max_attempts),
       min(m.created_at)
FROM public.outbox_emails m WHERE m.status = 'pending'
$$"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
