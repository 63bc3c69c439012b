"""Products: counter search (`GET /api/v1/products?q=`) with 100,000 products in one tenant.

`python -m bench.products` measures, in one run, on a database of its own (dropped at the end):

1. A tenant with `--products` (100,000) products seeded by SQL (names "<brand> <item> <size>" over
   60 brands, SKUs "SKU-000001"..., valid EAN-13 barcodes in the in-store range), then ANALYZEd.
2. Three searches a counter makes, each through HTTP and through raw asyncpg running the same SQL
   the API runs (captured from the app's own code path, parameters and all) as the application
   role with the tenant bound by set_config, over a pool of the same size:
   - a scanned barcode (exact match),
   - three letters of a name ("tat": about 1/60 of the catalogue, sorted by name, first page),
   - a SKU prefix ("SKU-0421": 100 products).
   - Search ÷ `GET /users/me` (throughput): the search against the cheapest authenticated read
     (token, session check, tenant binding, one row). Target ≥ 0.5: a search over 100,000 products
     costs at most what two such reads do, i.e. it is "instant" in the request's own terms.
   - HTTP ÷ raw (throughput), for reference (no target, as bench.baseline's users/me ÷ raw): the
     raw side does none of the request's other work, so on small reads it mostly prices that work.
3. The plan PostgreSQL chooses for each search as the application role: the index each one uses
   (tests/db/test_product_search_plan.py asserts the same on every run of the suite).

Every figure is printed, each ratio with its target and PASS or MISS; nothing is asserted. The exit
status is 1 if a scenario had errors.
"""

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
from stdnum import ean

from bench.common import (
    ApiServer,
    LoadProcess,
    Result,
    Scenario,
    asyncpg_dsn,
    bench_database,
    format_ratio,
    format_results,
    register_and_login,
)

DATABASE = "rms_bench_products"
API = "/api/v1"
TARGET = "≥ 0.5"
BRANDS = [
    "Amul", "Aashirvaad", "Bingo", "Britannia", "Brooke Bond", "Cadbury", "Colgate", "Dabur", "Dettol", "Everest",
    "Fortune", "Godrej", "Haldiram", "Horlicks", "Kissan", "Kurkure", "Lakme", "Lays", "Lifebuoy", "Lux",
    "Maggi", "MDH", "Mother Dairy", "Nestle", "Nivea", "Paper Boat", "Parachute", "Parle", "Patanjali", "Pears",
    "Pepsodent", "Rasna", "Red Label", "Rin", "Saffola", "Santoor", "Sunfeast", "Surf Excel", "Tata", "Tide",
    "Vim", "Vicco", "Wheel", "Yippee", "Zandu", "Hajmola", "Boroline", "Cinthol", "Clinic Plus", "Dove",
    "Emami", "Fevicol", "Good Day", "Himalaya", "Iodex", "Kellogg", "Lijjat", "Mysore Sandal", "Nirma", "Odonil",
]  # fmt: skip
ITEMS = [
    "Salt", "Tea", "Atta", "Rice", "Oil", "Soap", "Shampoo", "Biscuits", "Noodles", "Masala", "Ghee", "Butter",
    "Milk", "Juice", "Chips", "Toothpaste", "Detergent", "Cream", "Jam", "Sauce",
]  # fmt: skip
SIZES = ["50 g", "100 g", "200 g", "250 g", "500 g", "1 kg", "2 kg", "5 kg", "100 ml", "500 ml", "1 L"]


def catalogue(count: int, *, seed: int = 0) -> tuple[list[uuid.UUID], list[str], list[str], list[str]]:
    """(ids, names, SKUs, barcodes) of `count` products, deterministic for a given `seed`."""
    from app.models.base import new_id  # the ids the app makes (UUIDv7)

    ids, names, skus, barcodes = [], [], [], []
    for n in range(1, count + 1):
        ids.append(new_id())
        brand, item, size = BRANDS[n % len(BRANDS)], ITEMS[(n // len(BRANDS)) % len(ITEMS)], SIZES[n % len(SIZES)]
        names.append(f"{brand} {item} {size}")
        skus.append(f"SKU-{n:06d}")
        body = f"2{seed % 10}{n:010d}"  # GS1 in-store range (prefix 2): no real product's
        barcodes.append(body + ean.calc_check_digit(body))
    return ids, names, skus, barcodes


SEED_SQL = """
INSERT INTO products (tenant_id, id, name, sku, barcode, hsn_code, unit, sale_price, price_includes_tax, mrp,
                      gst_rate, reorder_level)
SELECT $1::uuid, p.id, p.name, p.sku, p.barcode, '21069099', 'NOS', 40 + (p.n % 200), true, 40 + (p.n % 200),
       18, CASE WHEN p.n % 10 = 0 THEN 5 END
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS p(id, name, sku, barcode, n)
"""


async def seed_products(conn: asyncpg.Connection, tenant_id: uuid.UUID, count: int, *, seed: int = 0) -> list[str]:
    """`count` products of the tenant in one INSERT (the owner role, or the application role with the
    tenant bound); returns their barcodes. The caller ANALYZEs (as the owner)."""
    ids, names, skus, barcodes = catalogue(count, seed=seed)
    async with conn.transaction():
        # bound even for the owner: on a managed database the owner is no superuser, and FORCE ROW
        # LEVEL SECURITY holds it to the tenant policy too
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        await conn.execute(SEED_SQL, tenant_id, ids, names, skus, barcodes)
    return barcodes


SEARCHES = {"barcode": None, "3 letters": "tat", "SKU prefix": "SKU-0421"}


class RawSearch:
    """The API's own search statement over a pool of `concurrency` asyncpg connections as the
    application role, tenant bound with set_config in each transaction (as the app does)."""

    def __init__(self, dsn: str, tenant_id: str, sql: str, args: list[Any]) -> None:
        self.dsn, self.tenant_id, self.sql = dsn, tenant_id, sql
        self.args = [_decoded(value) for value in args]
        self.pool: asyncpg.Pool | None = None

    async def open(self, concurrency: int) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=concurrency, max_size=concurrency)

    async def request(self, worker: int, seq: int) -> None:
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", self.tenant_id)
            if not await conn.fetch(self.sql, *self.args):
                raise LookupError("the search found nothing (tenant not bound?)")

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()


def _encoded(value: Any) -> Any:
    """A statement parameter as plain data (scenarios cross a process boundary as JSON-able options)."""
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if isinstance(value, list | tuple):
        return [_encoded(v) for v in value]
    return value


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and "uuid" in value:
        return uuid.UUID(value["uuid"])
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


async def captured_list(
    app_url: str, tenant: uuid.UUID, *, q: str | None = None, cursor: str | None = None
) -> tuple[str, list[Any], list[Any], str | None]:
    """The statement and parameters the API runs for `GET /products?q=` (default sort, 20 a page),
    captured from the app's own code path (service, repository, ORM tenant filter) on a session of
    the application role with the tenant bound; with the rows found and the next page's cursor."""
    from sqlalchemy import event

    from app.core.database import Database
    from app.services.catalog import products

    database = Database(app_url, pool_size=1, max_overflow=0)
    captured: list[tuple[str, list[Any]]] = []

    def capture(conn: Any, cur: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "FROM products" in statement:
            captured.append((statement, list(parameters)))

    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with database.transaction(tenant) as session:
            f = products.filters(q=q, category_id=None, low=None, archived=False, ids=None)
            rows, next_cursor = await products.list_page(session, f, limit=20, cursor=cursor, sort="name")
    finally:
        await database.dispose()
    return *captured[-1], list(rows), next_cursor


async def captured_search(app_url: str, tenant: uuid.UUID, q: str) -> tuple[str, list[Any]]:
    """The search's statement and parameters (captured_list), refusing a search that finds nothing."""
    sql, args, rows, _ = await captured_list(app_url, tenant, q=q)
    if not rows:
        raise LookupError(f"the search found nothing for {q!r}")
    return sql, args


async def plan_of(app_dsn: str, tenant: str, sql: str, args: Sequence[Any]) -> str:
    """The plan's node types and index names (EXPLAIN as the application role, tenant bound)."""
    conn = await asyncpg.connect(app_dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
            plan = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args))[0]["Plan"]
    finally:
        await conn.close()
    return ", ".join(sorted(set(_nodes(plan))))


def _nodes(plan: dict[str, Any]) -> list[str]:
    here = [f"{plan['Node Type']} on {plan['Index Name']}" if "Index Name" in plan else plan["Node Type"]]
    return here + [node for child in plan.get("Plans", []) for node in _nodes(child)]


async def run(args: argparse.Namespace) -> int:
    env = {"DB_POOL_SIZE": str(args.concurrency), "DB_MAX_OVERFLOW": "0"}
    timings = {"concurrency": args.concurrency, "seconds": args.seconds, "warmup": args.warmup}
    async with bench_database(DATABASE) as urls, ApiServer(urls.app, workers=args.workers, env=env) as api:
        admin = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            login = await register_and_login(api.base_url)
            tenant = login.claims["tenant_id"]
            started = time.perf_counter()
            barcodes = await seed_products(admin, uuid.UUID(tenant), args.products)
            await admin.execute("VACUUM (ANALYZE) products")
            print(f"seeded {args.products:,} products in one tenant in {time.perf_counter() - started:.1f} s")
            searches = {**SEARCHES, "barcode": barcodes[len(barcodes) // 2]}
            pairs: list[tuple[str, Result, Result]] = []
            plans = {}
            with LoadProcess(**timings) as load:
                me = await load.run(
                    Scenario(
                        "GET /users/me",
                        "bench.common:HttpDriver",
                        {"url": f"{api.base_url}{API}/users/me", "headers": login.auth_header},
                    )
                )
                for label, q in searches.items():
                    sql, params = await captured_search(urls.app, uuid.UUID(tenant), q)
                    plans[label] = await plan_of(asyncpg_dsn(urls.app), tenant, sql, params)
                    http = Scenario(
                        f"GET /products?q= ({label})",
                        "bench.common:HttpDriver",
                        {
                            "url": f"{api.base_url}{API}/products?{httpx.QueryParams({'q': q})}",
                            "headers": login.auth_header,
                        },
                    )
                    raw = Scenario(
                        f"raw asyncpg: the same search ({label})",
                        "bench.products:RawSearch",
                        {"dsn": asyncpg_dsn(urls.app), "tenant_id": tenant, "sql": sql, "args": _encoded(params)},
                    )
                    pairs.append((label, await load.run(http), await load.run(raw)))
        finally:
            await admin.close()
    results = [me, *(r for _, http, raw in pairs for r in (http, raw))]
    print()
    print(format_results(results))
    print()
    for label, http, _ in pairs:
        print(format_ratio(f"search ({label}) ÷ GET /users/me (throughput)", http, me, TARGET))
    for label, http, raw in pairs:
        print(format_ratio(f"search ({label}): HTTP ÷ raw (throughput)", http, raw))
    for label, plan in plans.items():
        print(f"plan ({label}): {plan}")
    return 1 if any(r.errors for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.products", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000, help="products seeded in the bench tenant")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent searches")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each scenario")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for the API")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
