"""The cross-tenant functions of migration 0007 and the owner-only policies behind them: the
application role still sees only its tenant's rows, gets only tenant ids or counts from the
functions, and the functions work when the owner role is not a superuser (subject to FORCE ROW
LEVEL SECURITY), which is what the owner-only policies are for."""

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from alembic import command
from app.core.embedded_pg import DatabaseUrls
from app.core.migrations import alembic_config
from app.core.roles import EXECUTABLE_FUNCTIONS, _asyncpg_dsn, create_app_role
from app.models.base import utcnow
from tests.db.test_migrations import _maintenance, on_database

JOB_FUNCTIONS = [f for f in EXECUTABLE_FUNCTIONS if not f.startswith("payment_")]  # not IDENTITY_FUNCTIONS
SCANNED = [
    "subscriptions",
    "job_occasions",
    "outbox_emails",
    "usage_periods",
    "sessions",
    "idempotency_keys",
    "email_verifications",
    "password_resets",
    "user_invitations",
    "email_changes",
    "reminder_settings",  # payment reminders (migration 0020)
    "invoices",
    "customers",
    "stock_alerts",  # the low-stock digest (migration 0022)
    "products",
    "payment_gateways",  # rotate-payment-secrets (migration 0028)
    "sales_orders",  # the orders' hold expiry (migration 0027)
    "recurring_invoices",  # recurring invoices (migration 0025)
    "recurring_runs",
    "storage_agreements",  # storage rent (migration 0026)
    "tenant_exports",  # the tenant's full export (migration 0034)
    "payments",  # the SaaS's invoices for captured plan payments (migration 0038)
    "webhook_endpoints",  # outbound webhook deliveries due (migration 0037)
    "webhook_deliveries",
]
DUE = "SELECT due_subscription_tenants(now(), '{7,12,13}', '3 days', '7 days', $1::uuid[])"


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_asyncpg_dsn(url))


async def add_trialing_tenant(conn: asyncpg.Connection, days_ago: int) -> uuid.UUID:
    """A tenant whose trial started `days_ago` days ago, written as the application role."""
    tenant_id = uuid.uuid4()
    start = utcnow() - timedelta(days=days_ago, minutes=1)
    async with conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        await conn.execute("INSERT INTO tenants (id, name, business_name) VALUES ($1, 'T', 'T')", tenant_id)
        await conn.execute(
            "INSERT INTO subscriptions (tenant_id, id, plan_code, status, trial_start, trial_end, "
            "current_period_start, current_period_end) VALUES "
            "($1, gen_random_uuid(), 'trial', 'trialing', $2, $3, $2, $3)",
            tenant_id,
            start,
            start + timedelta(days=14),
        )
        await conn.execute(
            "INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, state, expires_at) "
            "VALUES ($1, 'old', 'POST', '/x', 'h', 'completed', now() - interval '1 hour')",
            tenant_id,
        )
    return tenant_id


class TestTheApplicationRole:
    async def test_sees_only_its_tenants_rows_yet_the_functions_find_every_tenants_work(self, database_urls):
        conn = await connect(database_urls.app)
        try:
            a, b = await add_trialing_tenant(conn, 8), await add_trialing_tenant(conn, 8)
            for table in SCANNED:
                assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, f"{table}: unbound sees rows"
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(a))
                for table in ("subscriptions", "idempotency_keys"):
                    seen = await conn.fetch(f"SELECT DISTINCT tenant_id FROM {table}")
                    assert [r["tenant_id"] for r in seen] == [a], table
                assert await conn.fetchval("DELETE FROM idempotency_keys WHERE tenant_id = $1 RETURNING 1", b) is None
            assert set(await _ids(conn, DUE, [a, b])) == {a, b}
        finally:
            await conn.close()

    async def test_the_functions_answer_ids_and_counts_only_and_not_to_public(self, database_urls):
        admin = await connect(database_urls.admin)
        try:
            for signature in JOB_FUNCTIONS:
                row = await admin.fetchrow(
                    "SELECT prosecdef, proconfig, pg_get_function_result(oid) AS result, "
                    "has_function_privilege('public', oid, 'EXECUTE') AS public_may "
                    "FROM pg_proc WHERE oid = to_regprocedure($1)",
                    signature,
                )
                assert row is not None, signature
                assert row["prosecdef"] and not row["public_may"], signature
                assert "search_path=pg_catalog, pg_temp" in row["proconfig"], signature
                assert row["result"] in (
                    "SETOF uuid",
                    "TABLE(kind text, deleted bigint)",
                    "TABLE(pending bigint, undeliverable bigint, oldest_created_at timestamp with time zone)",
                ), signature
            app_role = make_url(database_urls.app).username
            policies = await admin.fetch(
                "SELECT tablename, roles FROM pg_policies WHERE policyname IN ('jobs_scan', 'jobs_cleanup')"
            )
            assert {p["tablename"] for p in policies} == set(SCANNED)
            assert all("public" not in p["roles"] and app_role not in p["roles"] for p in policies)
        finally:
            await admin.close()


@pytest.fixture(scope="module")
async def owner_migrated(database_urls) -> AsyncIterator[tuple[DatabaseUrls, str]]:
    """A database of its own, owned and migrated by a role that is not a superuser."""
    admin = await connect(database_urls.admin)
    try:
        superuser = await admin.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await admin.close()
    if not superuser:  # `make test-pg15`: the test database itself is owned and migrated by a non-superuser
        pytest.skip("the test database's owner role is not a superuser: the whole run is this case")
    suffix = os.getpid()
    role, database, password = f"rms_owner_{suffix}", f"rms_nonsuper_{suffix}", secrets.token_hex(12)
    await _maintenance(database_urls, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await _maintenance(database_urls, f'DROP ROLE IF EXISTS "{role}"')
    await _maintenance(database_urls, f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}' NOSUPERUSER NOBYPASSRLS")
    await _maintenance(database_urls, f'CREATE DATABASE "{database}" OWNER "{role}"')
    owner_url = make_url(on_database(database_urls.admin, database)).set(username=role, password=password)
    urls = DatabaseUrls(
        app=on_database(database_urls.app, database), admin=owner_url.render_as_string(hide_password=False)
    )
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(urls.admin), "head")
        await create_app_role(on_database(database_urls.admin, database), urls.app)
        yield urls, role
    finally:
        await _maintenance(database_urls, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await _maintenance(database_urls, f'DROP ROLE IF EXISTS "{role}"')


class TestANonSuperuserOwner:
    async def test_owns_the_functions_and_they_see_across_tenants(self, owner_migrated):
        urls, role = owner_migrated
        conn = await connect(urls.app)
        try:
            owners = await conn.fetch(
                "SELECT DISTINCT proowner::regrole::text AS owner FROM pg_proc WHERE oid = ANY ($1::regprocedure[])",
                JOB_FUNCTIONS,
            )
            assert [r["owner"] for r in owners] == [role]
            assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = $1", role)

            a, _day_3 = await add_trialing_tenant(conn, 8), await add_trialing_tenant(conn, 3)
            assert await conn.fetchval("SELECT count(*) FROM subscriptions") == 0
            assert await _ids(conn, DUE, None) == [a]  # the other is on day 3: no reminder due
            cleaned = dict(await conn.fetch("SELECT kind, deleted FROM cleanup_expired(now(), NULL)"))
            assert cleaned["idempotency_keys"] == 2
            assert await conn.fetchval("SELECT count(*) FROM procrastinate.procrastinate_jobs") == 0
        finally:
            await conn.close()


async def _ids(conn: asyncpg.Connection, sql: str, only) -> list[uuid.UUID]:
    return sorted(r[0] for r in await conn.fetch(sql, only))
