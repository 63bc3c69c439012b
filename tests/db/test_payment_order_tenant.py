"""payment_order_tenant(order_id): the one thing a tenantless webhook may learn (whose order is
it), as the application role; everything else about payments stays behind row-level security."""

import uuid

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.roles import _asyncpg_dsn
from tests.api.v1.payment_flow import order
from tests.factories import make_tenant

LOOKUP = sa.text("SELECT payment_order_tenant(:order_id)")


async def test_the_app_role_learns_the_owner_of_an_order_and_nothing_else(client, database_urls):
    owner = await make_tenant(client)
    body = await order(client, owner)  # sandbox mode
    engine = create_async_engine(database_urls.app)
    try:
        async with engine.connect() as conn:  # no tenant bound
            assert await conn.scalar(LOOKUP, {"order_id": body["order_id"]}) == uuid.UUID(owner.tenant_id)
            assert await conn.scalar(LOOKUP, {"order_id": "order_nosuch"}) is None
            assert await conn.scalar(sa.text("SELECT count(*) FROM payments")) == 0
            assert await conn.scalar(sa.text("SELECT count(*) FROM payment_events")) == 0
            bound = sa.text("SELECT set_config('app.tenant_id', :t, true)")
            await conn.execute(bound, {"t": owner.tenant_id})
            seen = await conn.scalars(sa.text("SELECT DISTINCT tenant_id FROM payments"))
            assert list(seen) == [uuid.UUID(owner.tenant_id)]
    finally:
        await engine.dispose()


async def test_only_the_app_role_may_call_it(admin_conn, database_urls):
    app_role = make_url(database_urls.app).username
    check = sa.text("SELECT has_function_privilege(:role, 'payment_order_tenant(text)', 'EXECUTE')")
    assert await admin_conn.scalar(check, {"role": app_role}) is True
    public = sa.text(
        "SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a "
        "WHERE p.proname = 'payment_order_tenant' AND a.grantee = 0"
    )
    assert await admin_conn.scalar(public) == 0
    definer = sa.text("SELECT prosecdef, proconfig FROM pg_proc WHERE proname = 'payment_order_tenant'")
    secdef, config = (await admin_conn.execute(definer)).one()
    assert secdef and any(c.startswith("search_path=") for c in config)


@pytest.fixture
async def admin_conn(database_urls):
    engine = create_async_engine(database_urls.admin)
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


async def test_it_works_when_the_owner_is_not_a_superuser(client, admin_conn, database_urls):
    """The function reads `razorpay_orders` (migration 0014), outside row-level security: under a
    non-superuser owner it still answers, and the application role still reads no payment. All in
    one transaction, rolled back."""
    superuser = await admin_conn.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    await admin_conn.rollback()
    if not superuser:
        pytest.skip("the owner role is not a superuser (`make test-pg15`): every lookup in this run is this case")
    owner = await make_tenant(client)
    body = await order(client, owner)
    app_role = make_url(database_urls.app).username
    tx = await admin_conn.begin()
    try:
        for statement in (
            "CREATE ROLE rms_owner_probe NOSUPERUSER NOBYPASSRLS",
            "ALTER TABLE payments OWNER TO rms_owner_probe",
            "ALTER TABLE razorpay_orders OWNER TO rms_owner_probe",
            "ALTER FUNCTION payment_order_tenant(text) OWNER TO rms_owner_probe",
            f'SET LOCAL ROLE "{app_role}"',
        ):
            await admin_conn.execute(sa.text(statement))
        lookup = await admin_conn.scalar(LOOKUP, {"order_id": body["order_id"]})
        assert lookup == uuid.UUID(owner.tenant_id)
        assert await admin_conn.scalar(sa.text("SELECT count(*) FROM payments")) == 0
    finally:
        await tx.rollback()


class TestOrderDirectory:
    """razorpay_orders, the global order id -> tenant map (migration 0014): the application role has no
    privilege on it and records an order only for the tenant bound to its transaction."""

    async def test_starting_an_upgrade_records_the_order_with_its_payment(self, client, admin_conn):
        owner = await make_tenant(client)
        body = await order(client, owner)
        stmt = sa.text("SELECT tenant_id, payment_id FROM razorpay_orders WHERE razorpay_order_id = :o")
        row = (await admin_conn.execute(stmt, {"o": body["order_id"]})).one()
        assert (str(row.tenant_id), str(row.payment_id)) == (owner.tenant_id, body["payment_id"])

    async def test_the_table_cannot_be_read_or_written_directly(self, app_conn):
        for statement in (
            "SELECT count(*) FROM razorpay_orders",
            "DELETE FROM razorpay_orders",
            "INSERT INTO razorpay_orders (razorpay_order_id, tenant_id, payment_id) "
            "VALUES ('order_x', gen_random_uuid(), gen_random_uuid())",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app_conn.execute(statement)

    async def test_an_order_is_claimed_for_the_bound_tenant_once(self, app_conn, client):
        a, b = await make_tenant(client), await make_tenant(client)
        taken = (await order(client, a))["order_id"]
        fresh = f"order_probe{uuid.uuid4().hex[:12]}"
        claim = "SELECT claim_razorpay_order($1, gen_random_uuid())"
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="no tenant bound"):
            await app_conn.fetchval(claim, fresh)
        tx = app_conn.transaction()
        await tx.start()
        try:
            await app_conn.execute("SELECT set_config('app.tenant_id', $1, true)", b.tenant_id)
            assert await app_conn.fetchval(claim, taken) is False  # a's order stays a's
            assert await app_conn.fetchval(claim, fresh) is True
            assert await app_conn.fetchval(claim, fresh) is False
            assert await app_conn.fetchval("SELECT payment_order_tenant($1)", fresh) == uuid.UUID(b.tenant_id)
            assert await app_conn.fetchval("SELECT payment_order_tenant($1)", taken) == uuid.UUID(a.tenant_id)
        finally:
            await tx.rollback()


@pytest.fixture
async def app_conn(database_urls):
    conn = await asyncpg.connect(_asyncpg_dsn(database_urls.app))
    yield conn
    await conn.close()
