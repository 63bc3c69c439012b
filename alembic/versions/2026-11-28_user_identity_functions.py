"""user identity functions: the application role no longer reads the email directory (issue 8 §4)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 22:10:00

`user_identities` maps every email to its tenant and user, across tenants, so it has no row-level
security: login, forgot-password and registration read it before any tenant is bound. Until now the
application role could SELECT it whole (every user's email and tenant). From this revision the role
has no privilege on the table at all (`app.core.roles.NO_ACCESS_TABLES` revokes it) and goes through
three SECURITY DEFINER functions, owned by this migration's role (the table's owner), each answering
one exact question:

- `identity_of(email)`: the (tenant_id, user_id) of that one address, or no row;
- `claim_identity(email, tenant_id, user_id)`: reserve an address for a user of the tenant bound to
  the transaction (`app.tenant_id`); false if the address is taken;
- `release_identity(email)`: free an address of the bound tenant (an email change); false if none.

A claim or a release for a tenant other than the bound one raises 42501. EXECUTE is revoked from
PUBLIC and granted to the application role by `app.core.roles.apply_grants`. Rows still go when their
user goes (the foreign key's ON DELETE CASCADE runs as the table owner).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOUND_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
FUNCTIONS = {
    "identity_of(text)": """
CREATE FUNCTION identity_of(p_email text) RETURNS TABLE (tenant_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT i.tenant_id, i.user_id FROM public.user_identities i WHERE i.email = lower(p_email) $$
""",
    "claim_identity(text, uuid, uuid)": f"""
CREATE FUNCTION claim_identity(p_email text, p_tenant_id uuid, p_user_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_tenant_id IS DISTINCT FROM {BOUND_TENANT} THEN
        RAISE EXCEPTION 'claim_identity: tenant % is not the bound tenant', p_tenant_id USING ERRCODE = '42501';
    END IF;
    INSERT INTO public.user_identities (email, tenant_id, user_id)
    VALUES (lower(p_email), p_tenant_id, p_user_id)
    ON CONFLICT (email) DO NOTHING;
    RETURN FOUND;
END
$$
""",
    "release_identity(text)": f"""
CREATE FUNCTION release_identity(p_email text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF {BOUND_TENANT} IS NULL THEN
        RAISE EXCEPTION 'release_identity: no tenant bound' USING ERRCODE = '42501';
    END IF;
    DELETE FROM public.user_identities WHERE email = lower(p_email) AND tenant_id = {BOUND_TENANT};
    RETURN FOUND;
END
$$
""",
}
# Every role but the owner loses the table here, so a bare `alembic upgrade head` (without
# `python -m app migrate`'s grants) leaves no one reading it directly.
REVOKE_OTHERS = """
DO $$
DECLARE grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT p.grantee FROM information_schema.role_table_grants p
        WHERE p.table_schema = 'public' AND p.table_name = 'user_identities'
          AND p.grantee NOT IN (current_user, 'PUBLIC')
    LOOP
        EXECUTE format('REVOKE ALL ON public.user_identities FROM %I', grantee);
    END LOOP;
    REVOKE ALL ON public.user_identities FROM PUBLIC;
END
$$
"""
# On downgrade, whoever could call the functions gets the table back (as before this revision).
REGRANT = """
DO $$
DECLARE grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT p.grantee FROM information_schema.routine_privileges p
        WHERE p.routine_schema = 'public' AND p.routine_name = 'identity_of'
          AND p.grantee NOT IN (current_user, 'PUBLIC')
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.user_identities TO %I', grantee);
    END LOOP;
END
$$
"""


def upgrade() -> None:
    for signature, definition in FUNCTIONS.items():
        op.execute(definition)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(REVOKE_OTHERS)


def downgrade() -> None:
    op.execute(REGRANT)
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
