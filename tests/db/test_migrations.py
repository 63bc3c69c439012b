"""Migrations on a fresh database of their own: up, down, up again, and no drift from the models."""

import os
import uuid
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


def _revision_of(filename_end: str) -> tuple[str, str]:
    """(revision, down_revision) of the migration in the file ending so (ids may be re-chained)."""
    from alembic.script import ScriptDirectory

    from app.core.migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config("postgresql://unused"))
    (found,) = [rev for rev in script.walk_revisions() if rev.path.endswith(filename_end)]
    return found.revision, found.down_revision


REKEY_TABLES = ("tenants", "gst_settings", "companies", "customers", "number_series", "invoices")


async def as_owner_of_every_tenant(urls: DatabaseUrls, sql: str) -> list:
    """`sql` as the owner role with FORCE ROW LEVEL SECURITY lifted (in one transaction, as
    migrations do), so that it works whether or not the owner is a superuser."""
    conn = await asyncpg.connect(_asyncpg_dsn(urls.admin))
    try:
        async with conn.transaction():
            for table in REKEY_TABLES:
                await conn.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            rows = await conn.fetch(sql) if sql.lstrip().startswith("SELECT") else await conn.execute(sql)
            for table in REKEY_TABLES:
                await conn.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        return rows
    finally:
        await conn.close()


REKEY_ROWS = """
INSERT INTO tenants (id, name, business_name) VALUES ('{t}', 'T', 'T');
INSERT INTO gst_settings (tenant_id, id, registration_type) VALUES ('{t}', gen_random_uuid(), 'composition');
INSERT INTO companies (tenant_id, id, legal_name, state_code, gstin) VALUES
    ('{t}', '{c}', 'C', '27', '27AAPFU0939F1ZV'), ('{t}', '{u}', 'U', '27', NULL);
INSERT INTO customers (tenant_id, id, name, billing_state_code) VALUES ('{t}', '{k}', 'K', '27');
INSERT INTO number_series (tenant_id, company_id, document_type, financial_year, last_seq) VALUES
    ('{t}', '{c}', 'invoice', '99-00', 3), ('{t}', '{c}', 'invoice', '24-25', 7), ('{t}', '{c}', 'receipt', '26-27', 2);
INSERT INTO invoices (tenant_id, id, company_id, customer_id, status, number, financial_year, invoice_date, due_date,
                      place_of_supply, supply_type, supplier, recipient, taxable_value, cgst_amount, sgst_amount,
                      utgst_amount, igst_amount, tax_total, round_off, total) VALUES
    ('{t}', gen_random_uuid(), '{c}', '{k}', 'issued', 'A1', '99-00', '1999-05-01', '1999-05-01', '27', 'intra_state',
     '{{"gstin": "27AAPFU0939F1ZV"}}', '{{}}', 1, 0, 0, 0, 0, 0, 0, 1),
    ('{t}', gen_random_uuid(), '{c}', '{k}', 'issued', 'A3', '99-00', '2100-03-31', '2100-03-31', '27', 'intra_state',
     '{{"gstin": "27AAPFU0939F1ZV"}}', '{{}}', 1, 0, 0, 0, 0, 0, 0, 1),
    ('{t}', gen_random_uuid(), '{u}', '{k}', 'draft', NULL, NULL, '2026-05-01', '2026-05-01', '27', 'intra_state',
     '{{"gstin": null}}', '{{}}', 1, 0, 0, 0, 0, 0, 0, 1);
"""


async def test_the_upgrade_rekeys_series_by_the_full_year_and_fills_the_document_types(fresh_urls):
    """FY 1999-00 and 2099-00 shared the key '99-00': each century's series continues from the shared
    counter (no number reused); a counter with no document is read as 20yy."""
    revision, previous = _revision_of("_document_types_and_full_financial_years.py")
    await downgrade(fresh_urls)
    await upgrade(fresh_urls, previous)
    ids = {name: str(uuid.uuid4()) for name in "tcuk"}
    await as_owner_of_every_tenant(fresh_urls, REKEY_ROWS.format(**ids))
    await upgrade(fresh_urls, revision)
    series = await as_owner_of_every_tenant(
        fresh_urls, "SELECT document_type, financial_year, last_seq FROM number_series ORDER BY 1, 2"
    )
    documents = await as_owner_of_every_tenant(
        fresh_urls, "SELECT number, document_type, supplier_registration_type FROM invoices ORDER BY invoice_date"
    )
    assert [tuple(row) for row in series] == [
        ("invoice", "1999-00", 3),
        ("invoice", "2024-25", 7),
        ("invoice", "2099-00", 3),
        ("receipt", "2026-27", 2),
    ]
    # The tenant is under composition: bills of supply; the company without GSTIN is unregistered.
    assert [tuple(row) for row in documents] == [
        ("A1", "bill_of_supply", "composition"),
        (None, "bill_of_supply", "unregistered"),
        ("A3", "bill_of_supply", "composition"),
    ]
    await upgrade(fresh_urls)


async def as_owner(urls: DatabaseUrls, sql: str, *args, tables: tuple[str, ...] = ("tenants", "payments")):
    conn = await asyncpg.connect(_asyncpg_dsn(urls.admin))
    try:
        async with conn.transaction():
            for table in tables:
                await conn.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            rows = await conn.fetch(sql, *args) if sql.lstrip().startswith("SELECT") else await conn.execute(sql)
            for table in tables:
                await conn.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        return [tuple(row) for row in rows] if isinstance(rows, list) else rows
    finally:
        await conn.close()


async def test_the_lookup_upgrade_moves_existing_orders_to_the_directory(fresh_urls):
    """0014: the global order id moves from `payments` to `razorpay_orders` (rows copied), the webhook's
    lookup reads it there, and a downgrade restores the global index on `payments`."""
    revision, previous = _revision_of("_citus_ready_lookups.py")
    await downgrade(fresh_urls)
    await upgrade(fresh_urls, previous)
    tenant, payment = uuid.uuid4(), uuid.uuid4()
    await as_owner(
        fresh_urls,
        f"INSERT INTO tenants (id, name, business_name) VALUES ('{tenant}', 'T', 'T');"
        "INSERT INTO payments (tenant_id, id, razorpay_order_id, plan_code, amount_paise, currency) "
        f"VALUES ('{tenant}', '{payment}', 'order_Before14', 'standard', 99900, 'INR')",
    )
    await upgrade(fresh_urls, revision)
    assert await as_owner(fresh_urls, "SELECT razorpay_order_id, tenant_id, payment_id FROM razorpay_orders") == [
        ("order_Before14", tenant, payment)
    ]
    assert await as_owner(fresh_urls, "SELECT payment_order_tenant($1)", "order_Before14") == [(tenant,)]
    await downgrade(fresh_urls, previous)
    global_index = "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_payments_razorpay_order_id'"
    assert await as_owner(fresh_urls, global_index) == [
        ("CREATE UNIQUE INDEX uq_payments_razorpay_order_id ON public.payments USING btree (razorpay_order_id)",)
    ]
    assert await as_owner(fresh_urls, "SELECT payment_order_tenant($1)", "order_Before14") == [(tenant,)]
    await upgrade(fresh_urls)


ZERO_RATED_ROWS = """
INSERT INTO tenants (id, name, business_name) VALUES ('{t}', 'T', 'T');
INSERT INTO companies (tenant_id, id, legal_name, state_code, gstin) VALUES
    ('{t}', '{c}', 'C', '27', '27AAPFU0939F1ZV');
INSERT INTO customers (tenant_id, id, name, billing_state_code, is_sez) VALUES
    ('{t}', '{k}', 'Abroad', '96', false), ('{t}', '{s}', 'SEZ', '27', true);
INSERT INTO invoices (tenant_id, id, company_id, customer_id, status, invoice_date, due_date, place_of_supply,
                      supply_type, document_type, supplier_registration_type, taxable_value, cgst_amount,
                      sgst_amount, utgst_amount, igst_amount, tax_total, round_off, total, notes) VALUES
    ('{t}', gen_random_uuid(), '{c}', '{k}', 'draft', '2026-05-01', '2026-05-01', '96', 'inter_state', 'tax_invoice',
     'regular', 100, 0, 0, 0, 18, 18, 0, 118, 'export'),
    ('{t}', gen_random_uuid(), '{c}', '{k}', 'draft', '2026-05-01', '2026-05-01', '96', 'inter_state',
     'bill_of_supply', 'composition', 100, 0, 0, 0, 0, 0, 0, 100, 'composition abroad'),
    ('{t}', gen_random_uuid(), '{c}', '{s}', 'draft', '2026-05-01', '2026-05-01', '27', 'inter_state', 'tax_invoice',
     'regular', 100, 0, 0, 0, 18, 18, 0, 118, 'sez'),
    ('{t}', gen_random_uuid(), '{c}', '{s}', 'draft', '2026-05-01', '2026-05-01', '27', 'intra_state', 'tax_invoice',
     'regular', 100, 9, 9, 0, 0, 18, 0, 118, 'before the customer was sez');
"""


async def test_the_export_upgrade_fills_the_supply_category_from_what_each_invoice_was_charged(fresh_urls):
    revision, previous = _revision_of("_exports_and_sez_supplies.py")
    await downgrade(fresh_urls)
    await upgrade(fresh_urls, previous)
    ids = {name: str(uuid.uuid4()) for name in "tcks"}
    await as_owner_of_every_tenant(fresh_urls, ZERO_RATED_ROWS.format(**ids))
    await upgrade(fresh_urls, revision)
    rows = await as_owner_of_every_tenant(
        fresh_urls, "SELECT notes, supply_category, tax_treatment, destination_country FROM invoices ORDER BY notes"
    )
    assert [tuple(row) for row in rows] == [
        ("before the customer was sez", "regular", None, None),
        ("composition abroad", "regular", None, None),
        ("export", "export", "with_payment_of_igst", None),
        ("sez", "sez_unit", "with_payment_of_igst", None),
    ]
    await upgrade(fresh_urls)
