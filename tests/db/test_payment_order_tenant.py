"""payment_order_tenant(order_id): the one thing a tenantless webhook may learn (whose order is
it), as the application role; everything else about payments stays behind row-level security."""

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

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
    """Under a non-superuser owner (FORCE ROW LEVEL SECURITY applies to it), the owner-only SELECT
    policy is what lets the function see the row. All in one transaction, rolled back."""
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
            "ALTER FUNCTION payment_order_tenant(text) OWNER TO rms_owner_probe",
            "ALTER POLICY order_tenant_lookup ON payments TO rms_owner_probe",
            f'SET LOCAL ROLE "{app_role}"',
        ):
            await admin_conn.execute(sa.text(statement))
        lookup = await admin_conn.scalar(LOOKUP, {"order_id": body["order_id"]})
        assert lookup == uuid.UUID(owner.tenant_id)
        assert await admin_conn.scalar(sa.text("SELECT count(*) FROM payments")) == 0
        await admin_conn.execute(sa.text("RESET ROLE"))
        await admin_conn.execute(sa.text("DROP POLICY order_tenant_lookup ON payments"))
        await admin_conn.execute(sa.text(f'SET LOCAL ROLE "{app_role}"'))
        assert await admin_conn.scalar(LOOKUP, {"order_id": body["order_id"]}) is None  # the policy is needed
    finally:
        await tx.rollback()
