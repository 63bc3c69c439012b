"""The request path's database shortcuts keep the tenant binding exact:

- the tenant's `set_config` travels with the transaction's BEGIN (one round trip fewer), is seen by
  the transaction's first statement, and never reaches a later transaction on the same pooled
  connection, however the binding transaction ended;
- a pooled connection is pinged only after sitting idle (not on every checkout): an idle dead one is
  replaced unnoticed; one used moments ago fails its request as a lost connection (503), and the
  pool then reconnects.

One pooled connection (pool_size=1), so consecutive transactions share it.
"""

import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from app.core.database import Database, is_connection_error
from app.core.tenancy import TenantConnection, _constant_with_criteria, bind_tenant
from app.repositories.identity.sessions import ACTIVE_USER
from tests.factories import make_tenant

SETTING = sa.text("SELECT current_setting('app.tenant_id', true)")
BACKEND = sa.text("SELECT pg_backend_pid()")


@pytest.fixture
async def admin(database_urls) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(database_urls.admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


@pytest.fixture
async def db(database_urls) -> AsyncIterator[Database]:
    database = Database(database_urls.app, pool_size=1, max_overflow=0)
    yield database
    await database.dispose()


async def tenant_setting(session: AsyncSession) -> str | None:
    return (await session.execute(SETTING)).scalar_one()


async def test_the_tenant_travels_with_begin_and_the_first_statement_sees_it(db, admin):
    tenant_id = uuid.uuid4()
    async with db.transaction(tenant_id) as session:
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert isinstance(driver, TenantConnection)
        assert not driver.is_in_transaction()  # BEGIN not sent yet: the tenant goes with it
        assert await tenant_setting(session) == str(tenant_id)
        assert driver.is_in_transaction()


async def test_row_level_security_applies_from_the_first_statement(db, client):
    """A tenant's users, read first thing in the transaction with the ORM filter out of play (a text
    statement): only RLS, reading the setting sent with BEGIN, picks the rows."""
    tenant_id = uuid.UUID((await make_tenant(client)).tenant_id)
    async with db.transaction(tenant_id) as session:
        seen = (await session.execute(sa.text("SELECT tenant_id FROM users"))).scalars().all()
    assert seen == [tenant_id]
    async with db.transaction(uuid.uuid4()) as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM users"))).scalar_one() == 0


@pytest.mark.parametrize("ending", ["commit", "rollback", "close"])
async def test_a_pending_tenant_never_reaches_the_next_transaction(db, ending):
    """Bound but no statement run: the tenant was only pending (BEGIN is sent lazily). The next
    transaction on the same connection, bound to no tenant, must see none."""
    session = db.sessionmaker()
    await bind_tenant(session, uuid.uuid4())
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    first_backend = id(driver)
    if ending == "commit":
        await session.commit()
    elif ending == "rollback":
        await session.rollback()
    await session.close()

    async with db.sessionmaker() as unbound:
        driver = (await (await unbound.connection()).get_raw_connection()).driver_connection
        assert id(driver) == first_backend  # the same pooled connection
        assert await tenant_setting(unbound) in (None, "")
        await unbound.commit()

    tenant_b = uuid.uuid4()
    async with db.transaction(tenant_b) as session:
        assert await tenant_setting(session) == str(tenant_b)


async def test_binding_inside_a_running_transaction_sets_the_tenant_at_once(db):
    async with db.sessionmaker() as session:
        await session.execute(sa.text("SELECT 1"))  # BEGIN sent, no tenant
        tenant_id = uuid.uuid4()
        await bind_tenant(session, tenant_id)
        assert await tenant_setting(session) == str(tenant_id)
        await session.commit()


async def backend_pid(db: Database) -> int:
    async with db.transaction() as session:
        return (await session.execute(BACKEND)).scalar_one()


async def terminate(url: str, pid: int) -> None:
    """End a backend of the application role from another of its connections: a role may end its
    own backends, and the owner may not end another role's unless it is a superuser (`make test-pg15`)."""
    killer = Database(url, pool_size=1, max_overflow=0)
    try:
        async with killer.transaction() as session:
            assert (await session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar_one()
    finally:
        await killer.dispose()


async def test_an_idle_dead_connection_is_pinged_and_replaced(database_urls):
    database = Database(database_urls.app, pool_size=1, max_overflow=0, ping_after_idle_seconds=0)
    try:
        pid = await backend_pid(database)
        await terminate(database_urls.app, pid)
        assert await backend_pid(database) != pid  # pinged on checkout, replaced: no error
    finally:
        await database.dispose()


async def test_a_busy_connection_is_not_pinged_and_its_loss_is_a_connection_error(database_urls):
    database = Database(database_urls.app, pool_size=1, max_overflow=0, ping_after_idle_seconds=3600)
    try:
        pid = await backend_pid(database)
        await terminate(database_urls.app, pid)
        with pytest.raises(Exception) as failure:
            await backend_pid(database)
        assert is_connection_error(failure.value)  # answered 503 + Retry-After by the API
        assert await backend_pid(database) != pid  # the pool reconnects for the next one
    finally:
        await database.dispose()


def test_the_session_check_keeps_its_tenant_criteria_per_tenant():
    """The session check (a statement built at import) is kept with each tenant's criteria added:
    each kept statement filters users and both reads of sessions by its own tenant, never another's."""
    a, b = uuid.uuid4(), uuid.uuid4()
    for tenant_id, other in ((a, b), (b, a), (a, b)):
        compiled = _constant_with_criteria(id(ACTIVE_USER), tenant_id).compile(dialect=postgresql.dialect())
        values = [value for value in compiled.params.values() if isinstance(value, uuid.UUID)]
        assert tenant_id in values and other not in values
        assert str(compiled).count("tenant_id = ") == 3  # users, the live family, the token's family
    assert _constant_with_criteria(id(ACTIVE_USER), a) is not _constant_with_criteria(id(ACTIVE_USER), b)
