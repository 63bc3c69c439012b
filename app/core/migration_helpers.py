"""What a migration calls to make a table a tenant table: `enable_tenant_rls("widgets")`.

Row-level security exactly as migrations 0001..0012 spell it out by hand (those stay frozen):
ENABLE and FORCE ROW LEVEL SECURITY (FORCE so that a non-superuser owner, as on a managed
database, is held to it too) and one policy `tenant_isolation` for every command whose USING and
WITH CHECK compare the tenant column with the transaction's `app.tenant_id`. Grants are not a
migration's business: `python -m app migrate` runs `app.core.roles.apply_grants`, which gives the
application role DML on every table (minus the exceptions listed there).

Imported by migrations only (alembic is imported when a statement is run, not at import time, so
tests can read the statements without a migration context).
"""

TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
POLICY = "tenant_isolation"


def tenant_rls_statements(table: str, column: str = "tenant_id") -> list[str]:
    """The SQL `enable_tenant_rls` runs, in order."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {POLICY} ON {table} "
        f"USING ({column} = {TENANT_SETTING}) WITH CHECK ({column} = {TENANT_SETTING})",
    ]


def tenant_rls_drop_statements(table: str) -> list[str]:
    """The reverse, for a downgrade that keeps the table (one that drops it needs none of this)."""
    return [
        f"DROP POLICY IF EXISTS {POLICY} ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def enable_tenant_rls(table: str, column: str = "tenant_id") -> None:
    """Call in `upgrade()` right after `op.create_table(table, ...)` of a TenantOwned model's table."""
    from alembic import op

    for statement in tenant_rls_statements(table, column):
        op.execute(statement)


def disable_tenant_rls(table: str) -> None:
    from alembic import op

    for statement in tenant_rls_drop_statements(table):
        op.execute(statement)
