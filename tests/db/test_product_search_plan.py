"""Counter search stays instant with 100,000 products: the statement the API runs for
`GET /products?q=` is EXPLAINed as the application role, tenant bound (row-level security on), and
each kind of search must be answered by its index led by tenant_id, never by reading the tenant's
whole catalogue. Under row-level security only leakproof operators become index conditions
(migration 0013), which is what app.repositories.base.starts_with and the barcode equality keep to.

The catalogue is seeded as bench/products.py seeds it (the same names, SKUs and barcodes), then
ANALYZEd, so the planner chooses as it would in a shop."""

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from bench.common import asyncpg_dsn
from bench.products import captured_search, seed_products
from tests.conftest import fresh_ip
from tests.factories import make_tenant

PRODUCTS = 100_000


@pytest.fixture(scope="module")
async def catalogue(app, database_urls) -> AsyncIterator[tuple[uuid.UUID, list[str]]]:
    transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        owner = await make_tenant(client)
    tenant = uuid.UUID(owner.tenant_id)
    admin = await asyncpg.connect(asyncpg_dsn(database_urls.admin))
    try:
        barcodes = await seed_products(admin, tenant, PRODUCTS)
        await admin.execute("ANALYZE products")
    finally:
        await admin.close()
    yield tenant, barcodes


async def plan(database_urls, tenant: uuid.UUID, sql: str, args: list) -> dict:
    """EXPLAIN as the application role (not superuser, no BYPASSRLS), the tenant bound as the app binds it."""
    conn = await asyncpg.connect(asyncpg_dsn(database_urls.app))
    try:
        assert not await conn.fetchval("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
            return json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args))[0]["Plan"]
    finally:
        await conn.close()


def nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]


def scans_of_products(root: dict) -> list[tuple[str, str | None]]:
    return [(n["Node Type"], n.get("Index Name")) for n in nodes(root) if n.get("Relation Name") == "products"]


@pytest.mark.parametrize(
    ("kind", "q", "index"),
    [
        ("barcode", None, "uq_products_tenant_id_barcode"),
        ("3 letters of a name", "tat", "ix_products_tenant_id_name_lower"),
        ("a name's words", "Tata Salt", "ix_products_tenant_id_name_lower"),
        ("SKU prefix", "sku-0421", "uq_products_tenant_id_sku_lower"),
    ],
)
async def test_each_search_is_an_index_range_under_row_level_security(
    catalogue, settings, database_urls, kind, q, index
):
    tenant, barcodes = catalogue
    q = q or barcodes[PRODUCTS // 2]
    sql, args = await captured_search(settings.database_url, tenant, q)
    root = await plan(database_urls, tenant, sql, args)
    scans = scans_of_products(root)
    # every read of products goes through an index: no sequential scan of the tenant's catalogue
    assert all(node_type in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan") for node_type, _ in scans), scans
    indexes = {n["Index Name"] for n in nodes(root) if "Index Name" in n}
    assert index in indexes, (kind, scans, indexes)
    assert all(name.startswith(("ix_products_tenant_id", "uq_products_tenant_id", "pk_products")) for name in indexes)
    # the search itself is the index condition (tenant and range or barcode), not a filter run on every row
    conditions = " ".join(n.get("Index Cond", "") for n in nodes(root) if n.get("Index Name") == index)
    assert "tenant_id" in conditions, conditions
    assert ("~>=~" in conditions and "~<~" in conditions) or "barcode" in conditions, conditions


async def test_the_search_finds_the_right_rows(catalogue, settings):
    tenant, barcodes = catalogue
    _, args = await captured_search(settings.database_url, tenant, barcodes[7])  # raises when nothing is found
    assert barcodes[7] in args
