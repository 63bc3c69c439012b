"""The role the app connects as cannot get around row-level security, and the app checks it."""

import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.core.config import DEV_JWT_SECRET
from app.core.roles import _asyncpg_dsn, runtime_role_problems
from app.main import UnsafeConfiguration, create_app
from tests.factories import make_tenant

STRONG_SECRET = "a-real-production-secret-" + "x" * 40
# The owner role is a superuser (the embedded server) or, on a managed database (`make test-pg15`),
# a CREATEROLE role that owns the tenant tables (and so could switch their row-level security off).
OWNER_PROBLEM = re.compile("superuser|owns tenant tables")

# Catalogs with an owner column: the application role may own none of their rows.
OWNED = {
    "pg_class": "relowner",
    "pg_proc": "proowner",
    "pg_namespace": "nspowner",
    "pg_type": "typowner",
    "pg_database": "datdba",
}


@pytest.fixture
async def app_conn(database_urls) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(_asyncpg_dsn(database_urls.app))
    yield conn
    await conn.close()


class TestTheRole:
    async def test_is_neither_superuser_nor_bypassrls(self, app_conn):
        row = await app_conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert (row["rolsuper"], row["rolbypassrls"]) == (False, False)

    @pytest.mark.parametrize(("catalog", "owner"), OWNED.items())
    async def test_owns_nothing(self, app_conn, catalog, owner):
        count = await app_conn.fetchval(
            f"SELECT count(*) FROM {catalog} WHERE {owner} = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert count == 0

    async def test_is_not_a_member_of_a_role_that_could(self, app_conn):
        rows = await app_conn.fetch(
            "SELECT r.rolname FROM pg_roles r WHERE pg_has_role(current_user, r.oid, 'MEMBER') "
            "AND r.rolname <> current_user AND (r.rolsuper OR r.rolbypassrls)"
        )
        assert rows == []


class TestAuditLogIsAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        ["UPDATE audit_logs SET action = 'tampered'", "DELETE FROM audit_logs", "TRUNCATE audit_logs"],
    )
    async def test_rows_cannot_be_changed_or_removed(self, app_conn, client, statement):
        owner = await make_tenant(client)
        async with app_conn.transaction():
            await app_conn.execute("SELECT set_config('app.tenant_id', $1, true)", owner.tenant_id)
            assert await app_conn.fetchval("SELECT count(*) FROM audit_logs") > 0
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await app_conn.execute(statement)

    async def test_rows_can_be_appended_and_read(self, app_conn, client):
        owner = await make_tenant(client)
        tx = app_conn.transaction()
        await tx.start()
        try:
            await app_conn.execute("SELECT set_config('app.tenant_id', $1, true)", owner.tenant_id)
            before = await app_conn.fetchval("SELECT count(*) FROM audit_logs")
            await app_conn.execute(
                "INSERT INTO audit_logs (tenant_id, id, action, entity_type) "
                "VALUES ($1::uuid, gen_random_uuid(), 'test.appended', 'test')",
                owner.tenant_id,
            )
            assert await app_conn.fetchval("SELECT count(*) FROM audit_logs") == before + 1
        finally:
            await tx.rollback()


@asynccontextmanager
async def role_in_owner_role(urls) -> AsyncIterator[str]:
    """A throwaway login role granted the owner (admin) role; dropped afterwards."""
    name, password = f"rms_probe_{os.getpid()}", secrets.token_hex(16)
    admin_role = make_url(urls.admin).username
    admin = await asyncpg.connect(_asyncpg_dsn(urls.admin))
    try:
        await admin.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}' NOSUPERUSER NOBYPASSRLS")
        database = await admin.fetchval("SELECT current_database()")
        await admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{name}"')
        await admin.execute(f'GRANT "{admin_role}" TO "{name}"')  # the owner may grant itself (ADMIN OPTION)
        yield make_url(urls.app).set(username=name, password=password).render_as_string(hide_password=False)
    finally:  # it owns nothing (DROP OWNED BY would need a superuser on a managed database)
        await admin.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM "{name}"')
        await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        await admin.close()


class TestStartUpCheck:
    async def test_problems_are_none_for_the_application_role(self, database_urls):
        assert await runtime_role_problems(database_urls.app) == []

    async def test_problems_are_reported_for_a_member_of_the_owner_role(self, database_urls):
        """Not superuser itself, but could SET ROLE to one (which may also disable RLS as owner)."""
        async with role_in_owner_role(database_urls) as url:
            problems = await runtime_role_problems(url)
        assert any("can act as" in p for p in problems), problems

    async def test_problems_are_reported_for_the_owner_role(self, database_urls):
        problems = await runtime_role_problems(database_urls.admin)
        assert any(OWNER_PROBLEM.search(p) for p in problems), problems

    async def test_prod_refuses_to_start_as_the_owner_role(self, settings, database_urls):
        unsafe = settings.model_copy(
            update={"env": "prod", "database_url": database_urls.admin, "jwt_secret": STRONG_SECRET}
        )
        application = create_app(unsafe)
        with pytest.raises(UnsafeConfiguration, match=OWNER_PROBLEM):
            async with application.router.lifespan_context(application):
                pass

    async def test_prod_refuses_to_start_with_the_development_jwt_secret(self, settings):
        unsafe = settings.model_copy(update={"env": "prod", "jwt_secret": DEV_JWT_SECRET})
        application = create_app(unsafe)
        with pytest.raises(UnsafeConfiguration, match="JWT_SECRET"):
            async with application.router.lifespan_context(application):
                pass

    async def test_prod_starts_as_the_application_role(self, settings):
        safe = settings.model_copy(update={"env": "prod", "jwt_secret": STRONG_SECRET})
        application = create_app(safe)
        async with application.router.lifespan_context(application):
            assert application.state.db is not None

    async def test_dev_only_warns(self, settings, database_urls, caplog):
        unsafe = settings.model_copy(update={"env": "dev", "database_url": database_urls.admin})
        application = create_app(unsafe)
        with caplog.at_level(logging.WARNING, logger="app.main"):
            async with application.router.lifespan_context(application):
                pass
        warnings = [r.getMessage() for r in caplog.records if r.name == "app.main"]
        assert any("UNSAFE CONFIGURATION" in w and OWNER_PROBLEM.search(w) for w in warnings), warnings


class TestEmailDirectory:
    """user_identities spans tenants (no row-level security): the application role cannot read it,
    only ask about one exact address, and claims or frees addresses only for its bound tenant."""

    async def test_the_table_cannot_be_read_or_written_directly(self, app_conn, client):
        await make_tenant(client)
        for statement in (
            "SELECT email FROM user_identities",
            "SELECT count(*) FROM user_identities",
            "DELETE FROM user_identities",
            "UPDATE user_identities SET email = email",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app_conn.execute(statement)

    async def test_a_lookup_answers_for_one_exact_address(self, app_conn, client):
        owner = await make_tenant(client)
        rows = await app_conn.fetch("SELECT tenant_id, user_id FROM identity_of($1)", owner.email.upper())
        assert [(str(r["tenant_id"]), str(r["user_id"])) for r in rows] == [(owner.tenant_id, owner.user["id"])]
        assert await app_conn.fetch("SELECT * FROM identity_of($1)", "%") == []
        assert await app_conn.fetch("SELECT * FROM identity_of($1)", owner.email[:-1] + "%") == []

    async def test_an_address_is_claimed_only_for_the_bound_tenant(self, app_conn, client):
        a, b = await make_tenant(client), await make_tenant(client)
        async with app_conn.transaction():
            await app_conn.execute("SELECT set_config('app.tenant_id', $1, true)", a.tenant_id)
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="bound tenant"):
                await app_conn.fetchval(
                    "SELECT claim_identity('x-' || $1, $2::uuid, $3::uuid)", a.email, b.tenant_id, b.user["id"]
                )

    async def test_another_tenants_address_cannot_be_released(self, app_conn, client):
        a, b = await make_tenant(client), await make_tenant(client)
        async with app_conn.transaction():
            await app_conn.execute("SELECT set_config('app.tenant_id', $1, true)", a.tenant_id)
            assert await app_conn.fetchval("SELECT release_identity($1)", b.email) is False
        assert len(await app_conn.fetch("SELECT * FROM identity_of($1)", b.email)) == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="no tenant bound"):
            await app_conn.fetchval("SELECT release_identity($1)", a.email)
