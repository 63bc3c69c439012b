"""tenant deletion: the purge's functions (issue 13 §3)

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-29 12:40:00

The scheduled purge of a closed tenant (app.services.platform.tenant_deletion) needs three
SECURITY DEFINER functions, EXECUTE revoked from PUBLIC and granted to the application role by
`app.core.roles.apply_grants` (PURGE_FUNCTIONS there):

- `due_tenant_purges(moment, only)`: the ids of closed tenants whose cancel window ended at or
  before `moment` (tenant ids only, like the scan functions of migrations 0007/0027), read through an
  owner-only `purge_scan` SELECT policy on `tenants`.
- `purge_tenant_rows(table, batch, moment)`: deletes up to `batch` rows (NULL = all) of the BOUND
  tenant from one table that has a `tenant_id` column (never `tenants` or `retained_tax_documents`),
  and only while that tenant is closed with `purge_after <= moment`. It is the purge's way to the
  append-only tables (audit_logs, usage_ledger, stock/storage movements) and the global lookups
  (user_identities, razorpay_orders, gateway_webhooks) the application role cannot delete from,
  and it takes any table so that a table added later is purged without a new function. An open
  tenant's rows cannot be reached through it: the guard reads the bound tenant's own row.
- `retained_document_ids(kind)`: the ids of the bound tenant's documents already in
  `retained_tax_documents`, so a purge resumed after a crash does not render their PDFs again.

It also replaces `retain_tax_document` (migration 0031) with one that refuses (42501) unless the bound
tenant is closed: an open tenant has nothing to retain, and a row written for it ahead of time would
take the place of the real document at its purge (the insert is ON CONFLICT DO NOTHING).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOUND_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

DUE = """
CREATE FUNCTION due_tenant_purges(moment timestamptz, only_tenants uuid[] DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT t.id FROM public.tenants t
WHERE t.purge_after IS NOT NULL AND t.purge_after <= moment
AND (only_tenants IS NULL OR t.id = ANY (only_tenants))
$$"""

PURGE = f"""
CREATE FUNCTION purge_tenant_rows(p_table text, p_batch integer, p_moment timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bound uuid := {BOUND_TENANT};
    deleted integer;
BEGIN
    IF bound IS NULL THEN
        RAISE EXCEPTION 'purge_tenant_rows: no tenant bound' USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM public.tenants t
        WHERE t.id = bound AND t.closed_at IS NOT NULL AND t.purge_after <= p_moment
    ) THEN
        RAISE EXCEPTION 'purge_tenant_rows: tenant % is not closed and due for purge', bound
            USING ERRCODE = '42501';
    END IF;
    IF p_table IN ('tenants', 'retained_tax_documents') OR NOT EXISTS (
        SELECT 1 FROM information_schema.columns c
        WHERE c.table_schema = 'public' AND c.table_name = p_table AND c.column_name = 'tenant_id'
    ) THEN
        RAISE EXCEPTION 'purge_tenant_rows: % is not a purgeable tenant table', p_table USING ERRCODE = '42501';
    END IF;
    EXECUTE format(
        'DELETE FROM public.%1$I WHERE ctid = ANY (ARRAY(SELECT ctid FROM public.%1$I WHERE tenant_id = $1 LIMIT $2))',
        p_table
    ) USING bound, p_batch;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$$
"""

RETAINED = f"""
CREATE FUNCTION retained_document_ids(p_kind text) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT r.document_id FROM public.retained_tax_documents r
WHERE r.tenant_id = {BOUND_TENANT} AND r.document_kind = p_kind
$$"""

RETAIN_SIGNATURE = """(
    p_kind text, p_document_id uuid, p_supplier_gstin text, p_number text, p_document_date date,
    p_retain_until date, p_document jsonb, p_pdf bytea
) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp"""
RETAIN_INSERT = f"""
    INSERT INTO public.retained_tax_documents
        (tenant_id, document_kind, document_id, supplier_gstin, number, document_date, retain_until, document, pdf)
    VALUES ({BOUND_TENANT}, p_kind, p_document_id, p_supplier_gstin, p_number, p_document_date, p_retain_until,
            p_document, p_pdf)
    ON CONFLICT (tenant_id, document_kind, document_id) DO NOTHING;
    RETURN FOUND;"""
RETAIN_NO_TENANT = f"""
    IF {BOUND_TENANT} IS NULL THEN
        RAISE EXCEPTION 'retain_tax_document: no tenant bound' USING ERRCODE = '42501';
    END IF;"""
RETAIN_CLOSED_ONLY = f"""
CREATE OR REPLACE FUNCTION retain_tax_document{RETAIN_SIGNATURE}
AS $$
BEGIN{RETAIN_NO_TENANT}
    IF NOT EXISTS (SELECT 1 FROM public.tenants t WHERE t.id = {BOUND_TENANT} AND t.closed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'retain_tax_document: tenant % is not closed', {BOUND_TENANT} USING ERRCODE = '42501';
    END IF;{RETAIN_INSERT}
END
$$"""
RETAIN_ANY_TENANT = f"""
CREATE OR REPLACE FUNCTION retain_tax_document{RETAIN_SIGNATURE}
AS $$
BEGIN{RETAIN_NO_TENANT}{RETAIN_INSERT}
END
$$"""

FUNCTIONS = [
    "due_tenant_purges(timestamp with time zone, uuid[])",
    "purge_tenant_rows(text, integer, timestamp with time zone)",
    "retained_document_ids(text)",
]


def upgrade() -> None:
    op.execute("CREATE POLICY purge_scan ON tenants FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(DUE)
    op.execute(PURGE)
    op.execute(RETAINED)
    op.execute(RETAIN_CLOSED_ONLY)  # CREATE OR REPLACE keeps its grants (EXECUTE to the application role only)
    for function in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    op.execute(RETAIN_ANY_TENANT)
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP POLICY IF EXISTS purge_scan ON tenants")
