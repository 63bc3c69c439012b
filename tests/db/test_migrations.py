"""Migrations on a fresh database of their own: up, down, up again, and no drift from the models."""

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.core.embedded_pg import DatabaseUrls
from app.core.migrations import downgrade, head_revision, upgrade
from app.core.roles import _asyncpg_dsn
from app.models import RLS_TABLES, Base

MIGRATION_DB = f"rms_mig_{os.getpid()}"


def on_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _maintenance(urls: DatabaseUrls, statement: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(on_database(urls.admin, "postgres")))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def fresh_urls(database_urls) -> AsyncIterator[DatabaseUrls]:
    await _maintenance(database_urls, f'DROP DATABASE IF EXISTS "{MIGRATION_DB}" WITH (FORCE)')
    await _maintenance(database_urls, f'CREATE DATABASE "{MIGRATION_DB}"')
    yield DatabaseUrls(
        app=on_database(database_urls.app, MIGRATION_DB), admin=on_database(database_urls.admin, MIGRATION_DB)
    )
    await _maintenance(database_urls, f'DROP DATABASE IF EXISTS "{MIGRATION_DB}" WITH (FORCE)')


async def inspect(urls: DatabaseUrls, fn):
    engine = create_async_engine(urls.admin)
    try:
        async with engine.connect() as conn:
            return await fn(conn)
    finally:
        await engine.dispose()


async def state(conn: AsyncConnection) -> tuple[set[str], str | None, set[str]]:
    """(tables, alembic revision, tables with RLS enabled and forced)."""
    tables = set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    revision = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    forced = await conn.execute(
        sa.text(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relrowsecurity AND relforcerowsecurity"
        )
    )
    return tables, revision, set(forced.scalars())


async def drift(conn: AsyncConnection) -> list:
    def compare(sync) -> list:
        context = MigrationContext.configure(sync, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, Base.metadata)

    return await conn.run_sync(compare)


class TestMigrations:
    async def test_upgrade_downgrade_upgrade(self, fresh_urls):
        model_tables = set(Base.metadata.tables)

        await upgrade(fresh_urls)
        tables, revision, forced = await inspect(fresh_urls, state)
        assert model_tables <= tables and revision == head_revision()
        assert set(RLS_TABLES) <= forced

        await downgrade(fresh_urls)
        tables, revision, forced = await inspect(fresh_urls, state)
        assert tables <= {"alembic_version"} and revision is None and not forced

        await upgrade(fresh_urls)
        tables, revision, forced = await inspect(fresh_urls, state)
        assert model_tables <= tables and revision == head_revision()
        assert set(RLS_TABLES) <= forced

    async def test_models_and_migrations_agree(self, fresh_urls):
        await upgrade(fresh_urls)
        assert await inspect(fresh_urls, drift) == []

    async def test_the_application_role_can_work_on_the_migrated_database(self, fresh_urls):
        await upgrade(fresh_urls)
        conn = await asyncpg.connect(_asyncpg_dsn(fresh_urls.app))
        try:
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
            assert await conn.fetchval("SELECT has_table_privilege('users', 'INSERT')")
            assert not await conn.fetchval("SELECT has_table_privilege('audit_logs', 'UPDATE')")
        finally:
            await conn.close()
