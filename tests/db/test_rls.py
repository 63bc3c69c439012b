"""Row-level security, on its own: the application role with the ORM tenant filter switched off.

Every test connects as the application role (not superuser, no BYPASSRLS), as the app does.
Tables come from app.models.RLS_TABLES (every TenantOwned model's table) and the catalog, so a new
tenant table is covered.
"""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from app.core.database import Database
from app.core.migration_helpers import tenant_rls_drop_statements, tenant_rls_statements
from app.core.roles import GATEWAY_FUNCTIONS, IDENTITY_FUNCTIONS, ORDER_FUNCTIONS, PURGE_FUNCTIONS, RETENTION_FUNCTIONS
from app.core.tenancy import TenantAlreadyBound, TenantNotBound, bind_tenant, orm_filter_disabled
from app.models import LOOKUP_TABLES, RLS_TABLES, Base, User
from app.models.base import TenantOwned
from tests.conftest import fresh_ip
from tests.db.tenant_rows import TwoTenants, as_tenant, make_two_tenants, rls_tables, tenant_column

# Tables with a tenant_id column that deliberately have no row-level security (app.models.LOOKUP_TABLES:
# the directories read before any tenant is bound), and the only way the application role reaches
# them: SECURITY DEFINER functions answering one exact question (migrations 0009, 0014).
LOOKUP_FUNCTIONS = {
    "user_identities": IDENTITY_FUNCTIONS,
    "razorpay_orders": ORDER_FUNCTIONS,
    "gateway_webhooks": GATEWAY_FUNCTIONS,
    "retained_tax_documents": RETENTION_FUNCTIONS + PURGE_FUNCTIONS[2:],
}
GLOBAL_TABLES = {table: LOOKUP_FUNCTIONS.get(table, []) for table in LOOKUP_TABLES}
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")
TENANT_SETTING = "current_setting('app.tenant_id'"
INSUFFICIENT_PRIVILEGE = "42501"

TABLES = rls_tables()
MODELS = {mapper.local_table.name: mapper.class_ for mapper in Base.registry.mappers}


@pytest.fixture(scope="module")
async def admin(database_urls) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(database_urls.admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


@pytest.fixture(scope="module")
async def db(database_urls) -> AsyncIterator[Database]:
    database = Database(database_urls.app, pool_size=1, max_overflow=0)
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
async def tenants(app, admin) -> TwoTenants:
    transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await make_two_tenants(client, admin)


async def session_for(db: Database, tenant_id: uuid.UUID | None) -> AsyncSession:
    session = db.sessionmaker()
    if tenant_id is not None:
        await bind_tenant(session, tenant_id)
    return session


async def tenant_values(session: AsyncSession, table: sa.Table) -> list[uuid.UUID]:
    """The tenant column of every row the session sees, through the ORM with its filter off."""
    model = MODELS[table.name]
    column = getattr(model, tenant_column(table).key)
    with orm_filter_disabled(session.sync_session):
        return list((await session.execute(sa.select(column))).scalars())


async def count_by_tenant(admin: AsyncConnection, table: sa.Table, tenants: TwoTenants) -> dict[uuid.UUID, int]:
    """Each tenant's rows as the owner sees them with that tenant bound (a non-superuser owner, as on a
    managed database, is itself subject to FORCE ROW LEVEL SECURITY)."""
    counts = {}
    for tenant_id in (tenants.a, tenants.b):
        async with as_tenant(admin, tenant_id):
            stmt = sa.select(sa.func.count()).select_from(table).where(tenant_column(table) == tenant_id)
            counts[tenant_id] = (await admin.execute(stmt)).scalar_one()
    return counts


def rls_violation(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE and "row-level security" in str(exc.orig)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
class TestEveryTenantTable:
    async def test_a_bound_tenant_sees_exactly_its_own_rows(self, db, admin, tenants, table):
        counts = await count_by_tenant(admin, table, tenants)
        assert counts.get(tenants.a) and counts.get(tenants.b), f"{table.name}: both tenants need rows"
        async with await session_for(db, tenants.a) as session:
            seen = await tenant_values(session, table)
        assert set(seen) == {tenants.a}
        assert len(seen) == counts[tenants.a]

    async def test_no_tenant_bound_sees_no_rows(self, db, admin, tenants, table):
        assert sum((await count_by_tenant(admin, table, tenants)).values()) > 0
        async with await session_for(db, None) as session:
            assert await tenant_values(session, table) == []

    async def test_inserting_a_row_of_another_tenant_is_rejected(self, db, admin, tenants, table):
        row = await copy_of_a_row(admin, table, tenants.a)
        row[tenant_column(table).name] = tenants.b if "tenant_id" in table.c else uuid.uuid4()
        async with await session_for(db, tenants.a) as session:
            with pytest.raises(DBAPIError) as caught:
                await session.execute(sa.insert(table).values(row))
        assert rls_violation(caught.value), caught.value

    async def test_update_and_delete_cannot_reach_another_tenants_rows(self, db, admin, tenants, table):
        before = await count_by_tenant(admin, table, tenants)
        model = MODELS[table.name]
        column = getattr(model, tenant_column(table).key)
        async with await session_for(db, tenants.a) as session:
            privileges = await table_privileges(session, table.name)
            with orm_filter_disabled(session.sync_session):
                if "UPDATE" in privileges:
                    stmt = sa.update(model).where(column == tenants.b).values({column: column})
                    assert (await session.execute(stmt.execution_options(synchronize_session=False))).rowcount == 0
                if "DELETE" in privileges:
                    stmt = sa.delete(model).where(column == tenants.b).execution_options(synchronize_session=False)
                    assert (await session.execute(stmt)).rowcount == 0
            await session.rollback()
        assert await count_by_tenant(admin, table, tenants) == before

    async def test_own_rows_cannot_be_moved_to_another_tenant(self, db, tenants, table):
        model = MODELS[table.name]
        column = getattr(model, tenant_column(table).key)
        async with await session_for(db, tenants.a) as session:
            if "UPDATE" not in await table_privileges(session, table.name):
                pytest.skip(f"{table.name} is not updatable by the application role (see test_app_role)")
            stmt = sa.update(model).where(column == tenants.a).values({column: tenants.b})
            with orm_filter_disabled(session.sync_session), pytest.raises(DBAPIError) as caught:
                await session.execute(stmt.execution_options(synchronize_session=False))
        assert rls_violation(caught.value), caught.value

    async def test_the_orm_filter_raises_without_a_tenant(self, db, table):
        model = MODELS[table.name]
        column = getattr(model, tenant_column(table).key)
        async with await session_for(db, None) as session:
            for stmt in (sa.select(model), sa.update(model).values({column: column}), sa.delete(model)):
                with pytest.raises(TenantNotBound):
                    await session.execute(stmt)


async def copy_of_a_row(admin: AsyncConnection, table: sa.Table, tenant_id: uuid.UUID) -> dict:
    """One of the tenant's rows, with a fresh id where the table has one (generated columns left out)."""
    stmt = sa.select(*(c for c in table.c if c.computed is None)).where(tenant_column(table) == tenant_id).limit(1)
    async with as_tenant(admin, tenant_id):
        row = dict((await admin.execute(stmt)).mappings().one())
    if "id" in table.c and "tenant_id" in table.c:
        row["id"] = uuid.uuid4()
    return row


async def table_privileges(session: AsyncSession, table: str) -> set[str]:
    kinds = ("SELECT", "INSERT", "UPDATE", "DELETE")
    stmt = sa.select(*(sa.func.has_table_privilege(table, kind) for kind in kinds))
    granted = (await session.execute(stmt)).one()
    return {kind for kind, ok in zip(kinds, granted, strict=True) if ok}


class TestTenantBinding:
    async def test_the_setting_is_transaction_local_on_a_pooled_connection(self, db, tenants):
        """The pool has one connection: the next session gets the very same backend, and no tenant."""
        setting = sa.select(sa.func.current_setting("app.tenant_id", True), sa.func.pg_backend_pid())
        bound = await session_for(db, tenants.a)
        tenant, pid = (await bound.execute(setting)).one()
        assert tenant == str(tenants.a)
        await bound.commit()

        async with await session_for(db, None) as fresh:
            tenant_after, pid_after = (await fresh.execute(setting)).one()
            with orm_filter_disabled(fresh.sync_session):
                users = (await fresh.execute(sa.select(sa.func.count()).select_from(User))).scalar_one()
        assert pid_after == pid
        assert tenant_after in (None, "")
        assert users == 0

        tenant_again, _ = (await bound.execute(setting)).one()
        assert tenant_again == str(tenants.a), "a bound session re-binds each new transaction"
        await bound.close()

    async def test_a_bound_session_cannot_be_rebound_to_another_tenant(self, db, tenants):
        async with await session_for(db, tenants.a) as session:
            await bind_tenant(session, tenants.a)
            with pytest.raises(TenantAlreadyBound):
                await bind_tenant(session, tenants.b)
            setting = sa.select(sa.func.current_setting("app.tenant_id", True))
            assert (await session.execute(setting)).scalar_one() == str(tenants.a)

    async def test_with_the_orm_filter_on_too_only_the_bound_tenants_rows(self, db, tenants):
        async with await session_for(db, tenants.b) as session:
            rows = (await session.execute(sa.select(User.tenant_id))).scalars().all()
        assert rows and set(rows) == {tenants.b}


class TestModels:
    """The tables RLS_TABLES names are the TenantOwned models' (derived, so a new model is in it)."""

    def test_every_model_with_a_tenant_column_is_tenant_owned_or_a_listed_lookup(self):
        for mapper in Base.registry.mappers:
            table = mapper.local_table
            if "tenant_id" not in table.c:
                continue
            if issubclass(mapper.class_, TenantOwned):
                assert table.name in RLS_TABLES and table.name not in LOOKUP_TABLES, table.name
            else:
                assert LOOKUP_TABLES.get(table.name), f"{table.name}: tenant_id outside TenantOwned, no reason given"

    def test_rls_tables_are_the_tenant_owned_models_and_tenants(self):
        owned = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantOwned)}
        assert set(RLS_TABLES) == owned | {"tenants"}
        assert len(RLS_TABLES) == len(set(RLS_TABLES))

    def test_every_lookup_table_has_its_functions(self):
        assert all(GLOBAL_TABLES.values()), GLOBAL_TABLES


class TestCatalog:
    """Read from PostgreSQL's catalog, not from our lists: a table added by a migration is checked."""

    async def test_every_table_with_tenant_data_has_forced_rls_and_a_tenant_policy(self, admin, database_urls):
        tables = await tenant_tables_in_catalog(admin)
        missing = tables - set(GLOBAL_TABLES) - set(RLS_TABLES)
        assert not missing, f"tables with tenant_id but not in app.models.RLS_TABLES: {missing}"
        for table in sorted(tables - set(GLOBAL_TABLES)):
            enabled, forced = await rls_flags(admin, table)
            assert enabled and forced, f"{table}: ENABLE={enabled} FORCE={forced}"
            await assert_tenant_policies(admin, table, make_url(database_urls.app).username)

    async def test_rls_tables_and_the_catalog_agree(self, admin):
        assert set(RLS_TABLES) == await tenant_tables_in_catalog(admin) - set(GLOBAL_TABLES)

    async def test_every_table_with_tenant_data_outside_rls_is_out_of_the_application_roles_reach(
        self, admin, database_urls
    ):
        """No privilege on the table or any of its columns; only its lookup functions, which the
        application role may execute and which run as their owner (SECURITY DEFINER)."""
        app_role = make_url(database_urls.app).username
        outside = {t for t in await tenant_tables_in_catalog(admin) if await rls_flags(admin, t) != (True, True)}
        assert outside == set(GLOBAL_TABLES), f"tenant data outside forced RLS: {outside}"
        for table, functions in GLOBAL_TABLES.items():
            for kind in TABLE_PRIVILEGES:
                check = "has_table_privilege(:r, :t, :k)"
                if kind in COLUMN_PRIVILEGES:
                    check += " OR has_any_column_privilege(:r, :t, :k)"
                granted = await admin.execute(sa.text(f"SELECT {check}"), {"r": app_role, "t": table, "k": kind})
                assert not granted.scalar_one(), f"{app_role} has {kind} on {table}"
            for function in functions:
                stmt = sa.text(
                    "SELECT p.prosecdef, has_function_privilege(:r, p.oid, 'EXECUTE'), "
                    "has_function_privilege('public', p.oid, 'EXECUTE') "
                    "FROM pg_proc p WHERE p.oid = to_regprocedure(:f)"
                )
                row = (await admin.execute(stmt, {"r": app_role, "f": function})).one()
                assert tuple(row) == (True, True, False), f"{function}: definer, app role, PUBLIC = {tuple(row)}"


class TestTheMigrationHelper:
    """enable_tenant_rls(table), what a migration adding a tenant table calls (landed ones spell it out)."""

    async def test_it_gives_a_new_table_exactly_the_landed_tables_protection(self, database_urls):
        engine = create_async_engine(database_urls.admin)
        try:
            async with engine.connect() as conn, conn.begin() as tx:
                await conn.execute(sa.text("CREATE TABLE probe_widgets (tenant_id uuid NOT NULL, id uuid NOT NULL)"))
                assert await rls_flags(conn, "probe_widgets") == (False, False)
                for statement in tenant_rls_statements("probe_widgets"):
                    await conn.execute(sa.text(statement))
                assert await rls_flags(conn, "probe_widgets") == (True, True)
                await assert_tenant_policies(conn, "probe_widgets", make_url(database_urls.app).username)
                assert await policy_shape(conn, "probe_widgets") == await policy_shape(conn, "email_changes")
                for statement in tenant_rls_drop_statements("probe_widgets"):
                    await conn.execute(sa.text(statement))
                assert await rls_flags(conn, "probe_widgets") == (False, False)
                assert await policy_shape(conn, "probe_widgets") == []
                await tx.rollback()
        finally:
            await engine.dispose()


async def policy_shape(conn: AsyncConnection, table: str) -> list[tuple]:
    stmt = sa.text(
        "SELECT policyname, permissive, roles, cmd, qual, with_check FROM pg_policies "
        "WHERE tablename = :t AND policyname = 'tenant_isolation'"
    )
    return [tuple(row) for row in await conn.execute(stmt, {"t": table})]


async def tenant_tables_in_catalog(admin: AsyncConnection) -> set[str]:
    stmt = sa.text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' "
        "AND NOT a.attisdropped) OR c.relname = 'tenants')"
    )
    return set((await admin.execute(stmt)).scalars())


async def rls_flags(admin: AsyncConnection, table: str) -> tuple[bool, bool]:
    stmt = sa.text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = to_regclass(:t)")
    return tuple((await admin.execute(stmt, {"t": f"public.{table}"})).one())


async def assert_tenant_policies(admin: AsyncConnection, table: str, app_role: str) -> None:
    """A policy for every command whose USING and WITH CHECK compare the tenant column with
    app.tenant_id, and no permissive policy that does not (it would widen what rows show), except
    one granted only to roles the application role cannot act as: the owner role's own, which
    lets its SECURITY DEFINER functions (cross-tenant lookups, jobs) see past FORCE ROW LEVEL
    SECURITY without widening anything the application sees."""
    stmt = sa.text("SELECT cmd, permissive, roles, qual, with_check FROM pg_policies WHERE tablename = :t")
    policies = (await admin.execute(stmt, {"t": table})).mappings().all()
    column = "id" if table == "tenants" else "tenant_id"
    scoped = [p for p in policies if TENANT_SETTING in (p["qual"] or "") and column in p["qual"]]
    assert any(p["cmd"] == "ALL" and p["roles"] == ["public"] for p in scoped), f"{table}: policies {policies}"
    for policy in policies:
        if policy["permissive"] == "PERMISSIVE" and not await _only_for_other_roles(admin, policy, app_role):
            assert policy in scoped, f"{table}: permissive policy not tied to the tenant: {policy}"
            assert policy["with_check"] is None or TENANT_SETTING in policy["with_check"], f"{table}: {policy}"


async def _only_for_other_roles(admin: AsyncConnection, policy, app_role: str) -> bool:
    if "public" in policy["roles"]:
        return False
    stmt = sa.text("SELECT pg_has_role(:app, :role, 'MEMBER')")
    for role in policy["roles"]:
        if (await admin.execute(stmt, {"app": app_role, "role": role})).scalar_one():
            return False
    return True
