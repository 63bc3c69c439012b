"""DB_PREPARED_STATEMENT_CACHE=false, for a transaction-mode pooler that does not track prepared
statements (PgBouncer < 1.21): no prepared statement outlives its use on the server connection (which
the pooler hands to other clients between transactions), and each is named uniquely while it lives."""

import sqlalchemy as sa

from app.core.database import Database

QUERY = sa.text("SELECT count(*) FROM pg_class WHERE relname = :name")
PREPARED = sa.text("SELECT name, statement FROM pg_prepared_statements")


async def prepared_after_running_twice(url: str, *, statement_cache: bool) -> list[str]:
    database = Database(url, pool_size=1, max_overflow=0, statement_cache=statement_cache)
    try:
        async with database.sessionmaker() as session:
            for _ in range(2):
                await session.execute(QUERY, {"name": "tenants"})
            rows = (await session.execute(PREPARED)).all()
        return [name for name, statement in rows if "FROM pg_class WHERE relname" in statement]
    finally:
        await database.dispose()


async def test_by_default_a_statement_is_prepared_once_and_reused(database_urls):
    names = await prepared_after_running_twice(database_urls.app, statement_cache=True)
    assert len(names) == 1


async def test_without_the_cache_no_statement_stays_on_the_server_connection(database_urls):
    assert await prepared_after_running_twice(database_urls.app, statement_cache=False) == []
