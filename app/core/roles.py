"""The application role: created, granted DML, and checked at start-up.

The app connects as a role that is not superuser, has no BYPASSRLS and owns nothing, so
row-level security always applies to it. Migrations run as the owner role.
"""

import logging

import asyncpg
from sqlalchemy.engine import make_url

from app.models import RLS_TABLES

log = logging.getLogger(__name__)

# Tables the application role may only read and append to.
APPEND_ONLY_TABLES = ["audit_logs", "usage_ledger", "stock_movements", "storage_movements", "business_events"]
# Tables the application role may not touch at all, the global lookups outside row-level security
# (app.models.LOOKUP_TABLES): user_identities (every tenant's email -> tenant map) is read and written
# only through IDENTITY_FUNCTIONS (migration 0009), razorpay_orders only through ORDER_FUNCTIONS (0014),
# gateway_webhooks only through GATEWAY_FUNCTIONS (0024).
# retained_tax_documents (0031): tax documents of purged tenants, written through RETENTION_FUNCTIONS.
NO_ACCESS_TABLES = ["user_identities", "razorpay_orders", "gateway_webhooks", "retained_tax_documents"]
# plans, meters, plan_meter_quotas: the catalog is changed by the operator (owner role), never by the API.
# gst_thresholds (0031): dated GST thresholds, data the operator changes.
READ_ONLY_TABLES = ["alembic_version", "plans", "meters", "plan_meter_quotas", "gst_thresholds"]
# SECURITY DEFINER functions the application role may call (migrations revoke them from PUBLIC).
EXECUTABLE_FUNCTIONS = [
    "due_subscription_tenants(timestamp with time zone, integer[], interval, interval, uuid[])",
    "due_usage_tenants(timestamp with time zone, uuid[])",
    "tenants_with_pending_mail(timestamp with time zone, integer, uuid[])",
    "cleanup_expired(timestamp with time zone, uuid[])",
    "outbox_backlog(integer)",  # /metrics: counts and a timestamp over every tenant's outbox
    "due_payment_reminder_tenants(timestamp with time zone, integer, integer, uuid[])",  # migration 0020
    "due_low_stock_digest_tenants(timestamp with time zone, integer, uuid[])",  # migration 0022
    "tenants_with_payment_gateway(uuid[])",  # migration 0028: rotate-payment-secrets
    "due_order_hold_tenants(timestamp with time zone, uuid[])",  # migration 0027
    "due_recurring_invoice_tenants(timestamp with time zone, uuid[])",  # migration 0025
    "due_storage_rent_tenants(timestamp with time zone, uuid[])",  # migration 0026
    "due_webhook_tenants(timestamp with time zone, uuid[])",  # migration 0037
    "due_tenant_export_tenants(timestamp with time zone, uuid[])",  # migration 0034: tenant exports
    "due_saas_invoice_tenants(timestamp with time zone, uuid[])",  # migration 0038
]
# The public invoice page's function (migration 0019): GET /p/<token> has no tenant until a live share
# link's token hash names it (tenant and link id, nothing else).
LINK_FUNCTIONS = ["share_link_of(text, timestamp with time zone)"]
# The email directory's functions (migration 0009): the application role's only way to user_identities.
IDENTITY_FUNCTIONS = ["identity_of(text)", "claim_identity(text, uuid, uuid)", "release_identity(text)"]
# The Razorpay order directory's functions (migrations 0005, 0014): the application role's only way to
# razorpay_orders: which tenant owns an order (the webhook), and recording a new order of the bound tenant.
ORDER_FUNCTIONS = ["payment_order_tenant(text)", "claim_razorpay_order(text, uuid)"]
# The webhook directory of tenants' own gateways (migration 0024): which tenant a webhook id names,
# and recording a new webhook id of the bound tenant.
GATEWAY_FUNCTIONS = ["gateway_webhook_tenant(text)", "claim_gateway_webhook(text)"]
# The purge's way to keep a deleted tenant's tax documents (migration 0031): inserts for the bound tenant only.
RETENTION_FUNCTIONS = ["retain_tax_document(text, uuid, text, text, date, date, jsonb, bytea)"]
# The scheduled purge of a closed tenant (migration 0035; app.services.platform.tenant_deletion): which
# tenants are due, deleting the bound closed tenant's rows from any table (the append-only tables and the
# lookups included), and which of its documents are already retained.
PURGE_FUNCTIONS = [
    "due_tenant_purges(timestamp with time zone, uuid[])",
    "purge_tenant_rows(text, integer, timestamp with time zone)",
    "retained_document_ids(text)",
]
# procrastinate's tables (migration 0007): the worker and the API's defers work on its queue as the
# application role (its functions and types are usable by PUBLIC, as PostgreSQL creates them).
JOB_QUEUE_SCHEMA = "procrastinate"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_asyncpg_dsn(url))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_app_role(admin_url: str, app_url: str) -> str:
    """Create (or fix) the role named in app_url. Returns its name."""
    app = make_url(app_url)
    role, password = app.username, app.password
    if role == make_url(admin_url).username:
        log.warning("DATABASE_URL uses the owner role %s: no application role to create", role)
        return role
    conn = await _connect(admin_url)
    try:
        current = await conn.fetchrow(f"SELECT {', '.join(ROLE_ATTRIBUTES)} FROM pg_roles WHERE rolname = $1", role)
        if current is None:
            await conn.execute(f"CREATE ROLE {_ident(role)} {' '.join(ROLE_ATTRIBUTES.values())}")
        elif changes := [clause for column, clause in ROLE_ATTRIBUTES.items() if current[column] != _wanted(clause)]:
            # Only what differs: on PostgreSQL <= 15 even naming (NO)SUPERUSER or (NO)BYPASSRLS in an
            # ALTER ROLE needs a superuser, which a managed database's owner (CREATEROLE only) is not.
            await conn.execute(f"ALTER ROLE {_ident(role)} {' '.join(changes)}")
        if password:
            await conn.execute(f"ALTER ROLE {_ident(role)} PASSWORD {await _literal(conn, password)}")
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(role)}")
        await conn.execute(f"GRANT USAGE ON SCHEMA public TO {_ident(role)}")
    finally:
        await conn.close()
    await apply_grants(admin_url, role)
    return role


# pg_roles column -> the clause that gives the application role the attribute it must have.
ROLE_ATTRIBUTES = {
    "rolcanlogin": "LOGIN",
    "rolsuper": "NOSUPERUSER",
    "rolbypassrls": "NOBYPASSRLS",
    "rolcreatedb": "NOCREATEDB",
    "rolcreaterole": "NOCREATEROLE",
}


def _wanted(clause: str) -> bool:
    return not clause.startswith("NO")


async def schema_migrated(admin_url: str) -> bool:
    conn = await _connect(admin_url)
    try:
        return await conn.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
    finally:
        await conn.close()


async def _literal(conn: asyncpg.Connection, value: str) -> str:
    return await conn.fetchval("SELECT quote_literal($1)", value)


async def apply_grants(admin_url: str, role: str) -> None:
    """DML on every table, minus the append-only and read-only exceptions. Idempotent."""
    r = _ident(role)
    conn = await _connect(admin_url)
    try:
        async with conn.transaction():
            await conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}")
            await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}")
            # Before `migrate` (create-roles on a fresh database) these tables do not exist yet.
            revokes = [
                *((table, "UPDATE, DELETE, TRUNCATE") for table in APPEND_ONLY_TABLES),
                *((table, "INSERT, UPDATE, DELETE, TRUNCATE") for table in READ_ONLY_TABLES),
                *((table, "ALL") for table in NO_ACCESS_TABLES),
            ]
            for table, privileges in revokes:
                if await conn.fetchval("SELECT to_regclass($1)", table):
                    await conn.execute(f"REVOKE {privileges} ON {_ident(table)} FROM {r}")
            for function in (
                EXECUTABLE_FUNCTIONS
                + IDENTITY_FUNCTIONS
                + ORDER_FUNCTIONS
                + GATEWAY_FUNCTIONS
                + LINK_FUNCTIONS
                + RETENTION_FUNCTIONS
                + PURGE_FUNCTIONS
            ):
                if await conn.fetchval("SELECT to_regprocedure($1)", function):
                    await conn.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {r}")
            if await conn.fetchval("SELECT to_regnamespace($1)", JOB_QUEUE_SCHEMA):
                queue = _ident(JOB_QUEUE_SCHEMA)
                await conn.execute(f"GRANT USAGE ON SCHEMA {queue} TO {r}")
                await conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {queue} TO {r}")
                await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {queue} TO {r}")
    finally:
        await conn.close()


# Other roles the runtime role is a member of (so could SET ROLE to) that could bypass row-level
# security: superusers, BYPASSRLS roles, and owners of tenant tables (an owner may disable RLS).
_POWERFUL_ROLES_JOINED = (
    "SELECT r.rolname FROM pg_roles r WHERE r.rolname <> current_user"
    " AND pg_has_role(current_user, r.oid, 'MEMBER')"
    " AND (r.rolsuper OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public'"
    " AND t.tableowner = r.rolname AND t.tablename = ANY($1::text[])))"
)


async def runtime_role_problems(app_url: str) -> list[str]:
    """Why the runtime role could bypass row-level security (empty list = safe)."""
    conn = await _connect(app_url)
    try:
        row = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        owned = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
            " AND tablename = ANY($1::text[])",
            RLS_TABLES,
        )
        powerful = await conn.fetch(_POWERFUL_ROLES_JOINED, RLS_TABLES)
    finally:
        await conn.close()
    problems = []
    if row["rolsuper"]:
        problems.append("the runtime database role is a superuser")
    if row["rolbypassrls"]:
        problems.append("the runtime database role has BYPASSRLS")
    if owned:
        problems.append(  # the owner-only policies of the jobs and webhook lookups also let it read across tenants
            "the runtime database role owns tenant tables: " + ", ".join(r["tablename"] for r in owned)
        )
    if powerful:
        roles = ", ".join(r["rolname"] for r in powerful)
        problems.append(f"the runtime database role can act as {roles} (superuser, BYPASSRLS or table owner)")
    return problems
