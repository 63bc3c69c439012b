"""The schema can be distributed by tenant on Citus: Citus's rules, applied to the migrated catalog.

Read from pg_constraint and pg_index of the migrated database, not from the models, so a migration
that adds a global unique key or a cross-distribution foreign key fails here, naming it. The plan
(README, "Running at scale"):

- tenant tables (every TenantOwned model, app.models.RLS_TABLES): distributed by `tenant_id`
  (`tenants` by its `id`), all co-located with `tenants`;
- lookup tables distributed by their own key: the global directories read before a tenant is bound
  (app.models.LOOKUP_TABLES) and the rate-limit counters, each its own co-location group;
- reference tables (copied to every node): the catalog the operator edits;
- local tables (stay on the coordinator): Alembic's bookkeeping.

The rules (Citus 12): a distributed table's primary key, unique constraints, unique indexes and
exclusion constraints include its distribution column; a foreign key between distributed tables
joins co-located tables and pairs the distribution columns; a foreign key may always point at a
reference table; a reference table points at no distributed table; no foreign key crosses into or
out of a lookup table (it is distributed by another key).
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.models import LOOKUP_TABLES, RLS_TABLES

TENANT, OWN_KEY, REFERENCE, LOCAL = "distributed by tenant", "distributed by its own key", "reference", "local"
# Distributed by their own key, each in a co-location group of its own: table -> distribution column.
OWN_KEY_TABLES = {
    "user_identities": "email",
    "razorpay_orders": "razorpay_order_id",
    "gateway_webhooks": "webhook_id",
    "retained_tax_documents": "tenant_id",  # a purged tenant's kept tax documents; its tenant row is gone
    "rate_limit_hits": "bucket",  # fixed-window counters keyed by a hash, before any tenant; write-hot
}
# Replicated to every node: small, global, changed by the operator, joined by every tenant's rows.
REFERENCE_TABLES = {"plans", "meters", "plan_meter_quotas", "gst_thresholds"}
# Left on the coordinator.
LOCAL_TABLES = {"alembic_version"}


@dataclass(frozen=True)
class Placement:
    kind: str
    column: str | None  # the distribution column; None for reference and local tables


def distribution_plan() -> dict[str, Placement]:
    plan = {table: Placement(TENANT, "id" if table == "tenants" else "tenant_id") for table in RLS_TABLES}
    plan |= {table: Placement(OWN_KEY, column) for table, column in OWN_KEY_TABLES.items()}
    plan |= {table: Placement(REFERENCE, None) for table in REFERENCE_TABLES}
    plan |= {table: Placement(LOCAL, None) for table in LOCAL_TABLES}
    return plan


@dataclass(frozen=True)
class Catalog:
    tables: set[str]
    columns: dict[tuple[str, int], str]  # (table, attnum) -> column name
    column_types: dict[tuple[str, str], tuple[str, bool]]  # (table, column) -> (type, NOT NULL)
    keys: list[tuple[str, str, str, list[int]]]  # (table, what, name, key columns): PK, unique, exclusion
    foreign_keys: list[tuple[str, str, list[int], str, list[int]]]  # (table, name, columns, referenced, columns)


async def read_catalog(conn: AsyncConnection) -> Catalog:
    public = "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
    tables = set(
        (
            await conn.execute(sa.text(f"SELECT c.relname FROM pg_class c {public} WHERE c.relkind IN ('r', 'p')"))
        ).scalars()
    )
    attributes = await conn.execute(
        sa.text(
            f"SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            f"FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid {public} "
            "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"
        )
    )
    columns, column_types = {}, {}
    for table, number, name, kind, not_null in attributes:
        columns[table, number] = name
        column_types[table, name] = (kind, not_null)
    # Unique indexes cover primary keys and unique constraints too (each has one); INCLUDE columns
    # are not part of the key, expressions show as 0.
    indexes = await conn.execute(
        sa.text(
            "SELECT c.relname, i.indisprimary, ic.relname, (i.indkey::int2[])[0:i.indnkeyatts - 1] "
            f"FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid {public} "
            "JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indisunique"
        )
    )
    keys = [(t, "primary key" if primary else "unique index", name, list(k)) for t, primary, name, k in indexes]
    exclusions = await conn.execute(
        sa.text(
            "SELECT c.relname, x.conname, x.conkey FROM pg_constraint x "
            f"JOIN pg_class c ON c.oid = x.conrelid {public} WHERE x.contype = 'x'"
        )
    )
    keys += [(t, "exclusion constraint", name, list(k)) for t, name, k in exclusions]
    fks = await conn.execute(
        sa.text(
            "SELECT c.relname, f.conname, f.conkey, r.relname, f.confkey FROM pg_constraint f "
            f"JOIN pg_class c ON c.oid = f.conrelid {public} JOIN pg_class r ON r.oid = f.confrelid "
            "WHERE f.contype = 'f'"
        )
    )
    foreign_keys = [(t, name, list(cols), ref, list(ref_cols)) for t, name, cols, ref, ref_cols in fks]
    return Catalog(tables, columns, column_types, keys, foreign_keys)


def violations(catalog: Catalog, plan: dict[str, Placement]) -> list[str]:
    """Every way the catalog breaks Citus's rules under `plan`, one readable line each."""
    found = []
    for table in sorted(catalog.tables - set(plan)):
        found.append(
            f"{table}: not in the distribution plan (make it a TenantOwned model, or list it in "
            "app.models.LOOKUP_TABLES / OWN_KEY_TABLES, REFERENCE_TABLES or LOCAL_TABLES of this test)"
        )

    def names(table: str, numbers: list[int]) -> str:
        return ", ".join(catalog.columns.get((table, n), "<expression>") if n else "<expression>" for n in numbers)

    distribution_types = set()
    for table, placement in sorted(plan.items()):
        if table not in catalog.tables or placement.column is None:
            continue
        if (table, placement.column) not in catalog.column_types:
            found.append(f"{table}: has no distribution column {placement.column}")
            continue
        kind, not_null = catalog.column_types[table, placement.column]
        if not not_null:
            found.append(f"{table}: distribution column {placement.column} is nullable")
        if placement.kind == TENANT:
            distribution_types.add(kind)
    if len(distribution_types) > 1:
        found.append(f"tenant tables: distribution columns of several types {sorted(distribution_types)}")

    for table, what, name, numbers in sorted(catalog.keys):
        placement = plan.get(table)
        if placement is None or placement.column is None:
            continue
        if placement.column not in {catalog.columns.get((table, n)) for n in numbers}:
            found.append(
                f"{table}: {what} {name} ({names(table, numbers)}) does not include the distribution column "
                f"{placement.column} (a key Citus cannot enforce across shards; move a global key to a lookup table)"
            )

    for table, name, columns, referenced, referenced_columns in sorted(catalog.foreign_keys):
        source, target = plan.get(table), plan.get(referenced)
        if source is None or target is None:
            continue  # reported above
        arrow = (
            f"{table} ({source.kind}) -> {referenced} ({target.kind}): foreign key {name} "
            f"({names(table, columns)}) -> ({names(referenced, referenced_columns)})"
        )
        if target.kind == REFERENCE:
            if source.kind == LOCAL:
                found.append(f"{arrow}: a local table may not reference a reference table from a worker")
            continue  # a distributed or reference table may always point at a reference table
        if source.kind in (REFERENCE, LOCAL) or target.kind == LOCAL:
            found.append(f"{arrow}: only a distributed table may reference a distributed table")
        elif source.kind != target.kind or (source.kind == OWN_KEY and table != referenced):
            found.append(f"{arrow}: joins tables that are not co-located (distributed by different keys)")
        elif (source.column, target.column) not in {
            (catalog.columns.get((table, a)), catalog.columns.get((referenced, b)))
            for a, b in zip(columns, referenced_columns, strict=True)
        }:
            found.append(f"{arrow}: does not pair {source.column} with {target.column}")
    return found


@pytest.fixture(scope="module")
async def admin(database_urls) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(database_urls.admin)
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


async def test_the_migrated_schema_follows_citus_rules(admin):
    found = violations(await read_catalog(admin), distribution_plan())
    await admin.rollback()
    assert not found, "Citus distribution rules broken:\n" + "\n".join(found)


def test_the_plan_places_every_table_once():
    groups = [set(RLS_TABLES), set(OWN_KEY_TABLES), REFERENCE_TABLES, LOCAL_TABLES]
    assert sum(map(len, groups)) == len(set().union(*groups)), "a table is in two places of the plan"
    assert set(LOOKUP_TABLES) <= set(OWN_KEY_TABLES), "every global lookup is distributed by its own key"


class TestTheRulesCatchWhatTheyShould:
    """The checker on breakages of the kinds issue 9 found (DDL in a transaction, rolled back)."""

    async def test_a_global_unique_key_on_a_tenant_table(self, admin):
        found = await violations_after(admin, "CREATE UNIQUE INDEX uq_probe ON payments (razorpay_order_id)")
        assert found == [
            "payments: unique index uq_probe (razorpay_order_id) does not include the distribution column "
            "tenant_id (a key Citus cannot enforce across shards; move a global key to a lookup table)"
        ]

    async def test_an_expression_key_without_the_tenant(self, admin):
        found = await violations_after(admin, "CREATE UNIQUE INDEX uq_probe ON users (lower(email))")
        assert len(found) == 1 and "uq_probe (<expression>) does not include" in found[0]

    async def test_a_lookup_table_pointing_into_a_tenant_table(self, admin):
        found = await violations_after(
            admin,
            # NOT VALID: the owner need not see every user to add it (a non-superuser owner is bound by
            # the tables' forced row-level security, `make test-pg15`); the catalog holds it all the same
            "ALTER TABLE user_identities ADD CONSTRAINT fk_probe FOREIGN KEY (tenant_id, user_id) "
            "REFERENCES users (tenant_id, id) NOT VALID",
        )
        assert found == [
            "user_identities (distributed by its own key) -> users (distributed by tenant): foreign key fk_probe "
            "(tenant_id, user_id) -> (tenant_id, id): joins tables that are not co-located (distributed by "
            "different keys)"
        ]

    async def test_a_foreign_key_between_tenant_tables_without_the_tenant(self, admin):
        found = await violations_after(
            admin,
            "CREATE UNIQUE INDEX uq_probe_id ON payments (id)",
            "ALTER TABLE payment_events ADD CONSTRAINT fk_probe FOREIGN KEY (payment_id) REFERENCES payments (id)",
        )
        assert any(line.startswith("payments: unique index uq_probe_id (id)") for line in found), found
        assert any("foreign key fk_probe (payment_id) -> (id): does not pair tenant_id" in f for f in found), found

    async def test_a_reference_table_pointing_at_a_tenant(self, admin):
        found = await violations_after(
            admin,
            "ALTER TABLE plans ADD COLUMN probe_tenant uuid REFERENCES tenants (id)",
        )
        assert len(found) == 1 and "plans (reference) -> tenants (distributed by tenant)" in found[0], found
        assert found[0].endswith("only a distributed table may reference a distributed table")

    async def test_a_table_outside_the_plan(self, admin):
        table = f"probe_{uuid.uuid4().hex[:8]}"
        found = await violations_after(admin, f"CREATE TABLE {table} (tenant_id uuid PRIMARY KEY)")
        assert len(found) == 1 and found[0].startswith(f"{table}: not in the distribution plan"), found


async def violations_after(admin: AsyncConnection, *statements: str) -> list[str]:
    tx = await admin.begin()
    try:
        for statement in statements:
            await admin.execute(sa.text(statement))
        return violations(await read_catalog(admin), distribution_plan())
    finally:
        await tx.rollback()
