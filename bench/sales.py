"""Quick sale at the counter: `POST /sales` (5 lines) against raw asyncpg doing the same writes.

`python -m bench.sales` measures, in one run, on a database of its own (dropped at the end):

1. A counter sale through HTTP: `POST /api/v1/sales` with 5 product lines, one cash payment above
   the total (change due), a walk-in customer and a fresh `Idempotency-Key` per request.
2. Raw asyncpg writing the same rows in one transaction as the application role, tenant bound
   with set_config, with the statements the app runs for them: the idempotency key (expired key
   removed, claim, stored response), the invoice counter upsert, the invoice, its 5 lines (one
   INSERT from arrays), the stock ledger's own guarded upsert of the 5 levels with their movements
   (`app.repositories.catalog.stock.APPLY_SQL`, verbatim), the customer's balance, the invoice's audit rows,
   the receipt counter upsert, the receipt with its allocation, the invoice's guarded settle and
   the customer's balance (the app's own statement, `app.repositories.billing.receipts.PAY_IN_FULL_SQL`,
   verbatim), the receipt's audit row, the share link and its audit row. It does none of the reads
   the app does (session, subscription, plan limit, company, customer, products, settings, tax
   rates).

Target: HTTP ÷ raw ≥ 0.4 (throughput, same concurrency). Also printed: p99 ÷ p50 of the sale.
Every figure is printed, each ratio with its target and PASS or MISS; nothing is asserted. The exit
status is 1 if a scenario had errors.
"""

import argparse
import asyncio
import hashlib
import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from app.domain.fiscal import financial_year, series_year
from app.repositories.billing.receipts import PAY_IN_FULL_SQL
from app.repositories.catalog.stock import APPLY_SQL
from app.services.billing.invoicing import AUDITED as INVOICE_AUDITED
from app.services.billing.receipts import AUDITED as RECEIPT_AUDITED
from bench.common import (
    ApiServer,
    HttpDriver,
    LoadProcess,
    Login,
    Scenario,
    asyncpg_dsn,
    bench_database,
    format_ratio,
    format_results,
    format_tail,
    register_and_login,
)
from bench.invoices import COUNTER_SQL, _gstin, _new_id

DATABASE = "rms_bench_sales"
API = "/api/v1"
LINES = 5
STOCK = Decimal("1000000000")

# --- the stock ledger's statement, as asyncpg takes it ($n, typed) ---------------------------------

APPLY_TYPES = {
    "product_ids": "uuid[]",
    "on_hand": "numeric[]",
    "reserved": "numeric[]",
    "unit_costs": "numeric[]",
    "reorder_levels": "numeric[]",
    "n": "int",
    "reserved_sign": "int",
    "tenant_id": "uuid",
    "company_id": "uuid",
    "kind": "text",
    "document_type": "text",
    "document_id": "uuid",
    "reason": "text",
    "actor_user_id": "uuid",
    "at": "timestamptz",
}


def _positional(sql: str, types: dict[str, str]) -> str:
    """SQLAlchemy's `:name` parameters as asyncpg's `$n::type` (`::casts` left alone), numbered in
    the order of `types`."""
    order = list(types)
    return re.sub(r"(?<![:\w]):([a-z_]+)\b", lambda m: f"(${order.index(m.group(1)) + 1}::{types[m.group(1)]})", sql)


STOCK_SQL = _positional(APPLY_SQL, APPLY_TYPES)
PAY_TYPES = {
    "ids": "uuid[]",
    "numbers": "text[]",
    "financial_years": "text[]",
    "amounts": "numeric[]",
    "modes": "text[]",
    "references": "text[]",
    "allocation_ids": "uuid[]",
    "tenant_id": "uuid",
    "company_id": "uuid",
    "customer_id": "uuid",
    "invoice_id": "uuid",
    "day": "date",
    "paid": "numeric",
}
PAY_SQL = _positional(PAY_IN_FULL_SQL, PAY_TYPES)

# --- the other writes ----------------------------------------------------------------------------

IDEMPOTENCY_DELETE_SQL = "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND expires_at <= $3"
IDEMPOTENCY_CLAIM_SQL = """
INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, state, created_at, expires_at)
VALUES ($1, $2, 'POST', '/api/v1/sales', $3, 'in_flight', now(), $4)
ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key
"""
IDEMPOTENCY_COMPLETE_SQL = """
UPDATE idempotency_keys SET state = 'completed', response_status = 201, response_body = $3::jsonb
WHERE tenant_id = $1 AND key = $2
"""
INVOICE_SQL = """
INSERT INTO invoices (id, tenant_id, company_id, customer_id, status, number, financial_year, invoice_date,
                      due_date, place_of_supply, supply_type, reverse_charge, document_type,
                      supplier_registration_type, supply_category, notes, terms, supplier, recipient, taxable_value,
                      cgst_amount, sgst_amount, utgst_amount, igst_amount, tax_total, round_off, total, amount_paid,
                      amount_credited, issued_at)
VALUES ($1, $2, $3, $4, 'issued', $5, $6, $7, $8, $9, $10, false, $11, $12, 'regular', NULL, $13, $14::jsonb,
        $15::jsonb, $16, $17, $18, $19, $20, $21, $22, $23, 0, 0, now())
"""
LINES_SQL = """
INSERT INTO invoice_lines (id, tenant_id, invoice_id, position, product_id, description, hsn_sac, quantity, unit,
                           unit_price, discount, gst_rate, taxable_value, cgst_amount, sgst_amount, utgst_amount,
                           igst_amount, total)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::uuid[], $6::text[], $7::text[],
                     $8::numeric[], $9::text[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[],
                     $14::numeric[], $15::numeric[], $16::numeric[], $17::numeric[], $18::numeric[])
"""
BALANCE_SQL = "UPDATE customers SET balance = balance + $1, updated_at = now() WHERE tenant_id = $2 AND id = $3"
AUDIT_SQL = """
INSERT INTO audit_logs (id, tenant_id, actor_user_id, action, entity_type, entity_id, before, after, ip, request_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::jsonb[],
                     $8::jsonb[], $9::inet[], $10::text[])
"""
RECEIPT_COUNTER_SQL = COUNTER_SQL.replace("'invoice'", "'receipt'")
SHARE_SQL = """
INSERT INTO share_links (id, tenant_id, invoice_id, token_hash, created_by, created_at, expires_at, view_count)
VALUES ($1, $2, $3, $4, $5, now(), now() + interval '30 days', 0)
"""
LINE_AMOUNTS = ["unit_price", "discount", "gst_rate", "taxable_value", "cgst_amount", "sgst_amount"]
HEADER_MONEY = ["taxable_value", "cgst_amount", "sgst_amount", "utgst_amount", "igst_amount", "tax_total"]


async def write_audit(
    conn: asyncpg.Connection, tenant: uuid.UUID, user: uuid.UUID, request_id: str, rows: list[tuple[Any, ...]]
) -> None:
    """The audit rows of one raw transaction, (action, entity_type, entity_id, before, after) each, in
    one statement as the app writes them."""
    n = len(rows)
    await conn.execute(
        AUDIT_SQL,
        [_new_id() for _ in rows],
        [tenant] * n,
        [user] * n,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        ["127.0.0.1"] * n,
        [request_id] * n,
    )


class RawSale:
    """The writes of one counter sale over a pool of `concurrency` asyncpg connections as the
    application role. `invoice` and `sale` are a sale the API made: the raw side writes the same values."""

    def __init__(self, dsn: str, tenant_id: str, user_id: str, invoice: dict[str, Any], sale: dict[str, Any]) -> None:
        self.dsn, self.tenant_id = dsn, tenant_id
        self.tenant, self.user = uuid.UUID(tenant_id), uuid.UUID(user_id)
        self.company, self.customer = uuid.UUID(invoice["company_id"]), uuid.UUID(invoice["customer_id"])
        self.day = datetime.fromisoformat(invoice["invoice_date"]).date()
        self.due = datetime.fromisoformat(invoice["due_date"]).date()
        self.fy, self.series = financial_year(self.day), series_year(self.day)
        self.invoice = invoice
        self.sale = sale
        self.total = Decimal(invoice["total"])
        self.header = [
            invoice["place_of_supply"],
            invoice["supply_type"],
            invoice["document_type"],
            invoice["supplier_registration_type"],
            invoice["terms"],
            json.dumps(invoice["supplier"]),
            json.dumps(invoice["recipient"]),
            *(Decimal(invoice[name]) for name in HEADER_MONEY),
            Decimal(invoice["round_off"]),
            self.total,
        ]
        lines = invoice["lines"]
        self.lines = lines
        self.columns = [
            [ln["position"] for ln in lines],
            [uuid.UUID(ln["product_id"]) for ln in lines],
            [ln["description"] for ln in lines],
            [ln["hsn_sac"] for ln in lines],
            [Decimal(ln["quantity"]) for ln in lines],
            [ln["unit"] for ln in lines],
            *([Decimal(ln[name]) for ln in lines] for name in LINE_AMOUNTS),
            [Decimal(ln["utgst_amount"]) for ln in lines],
            [Decimal(ln["igst_amount"]) for ln in lines],
            [Decimal(ln["total"]) for ln in lines],
        ]
        taken: dict[uuid.UUID, Decimal] = {}
        for ln in lines:
            taken[uuid.UUID(ln["product_id"])] = taken.get(uuid.UUID(ln["product_id"]), Decimal(0)) + Decimal(
                ln["quantity"]
            )
        self.stock = sorted(taken.items())
        self.snapshot = {name: invoice.get(name) for name in INVOICE_AUDITED}
        self.receipt_snapshot = {name: sale["receipts"][0].get(name) for name in RECEIPT_AUDITED}
        self.pool: asyncpg.Pool | None = None

    async def open(self, concurrency: int) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=concurrency, max_size=concurrency)

    async def request(self, worker: int, seq: int) -> None:
        invoice_id, receipt_id, key = _new_id(), _new_id(), secrets.token_hex(16)
        now = datetime.now(UTC)
        request_id = secrets.token_hex(8)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", self.tenant_id)
            await conn.execute(IDEMPOTENCY_DELETE_SQL, self.tenant, key, now)
            await conn.fetchval(
                IDEMPOTENCY_CLAIM_SQL, self.tenant, key, hashlib.sha256(key.encode()).hexdigest(), now + timedelta(2)
            )
            seq_no = await conn.fetchval(COUNTER_SQL, self.tenant, self.company, self.series)
            number = f"INV/{self.fy}/{seq_no:05d}"
            await conn.execute(
                INVOICE_SQL,
                invoice_id,
                self.tenant,
                self.company,
                self.customer,
                number,
                self.fy,
                self.day,
                self.due,
                *self.header,
            )
            n = len(self.lines)
            await conn.execute(
                LINES_SQL, [_new_id() for _ in range(n)], [self.tenant] * n, [invoice_id] * n, *self.columns
            )
            await conn.fetch(
                STOCK_SQL,
                [p for p, _ in self.stock],
                [-q for _, q in self.stock],
                [Decimal(0)] * len(self.stock),
                [None] * len(self.stock),
                [None] * len(self.stock),
                len(self.stock),
                1,
                self.tenant,
                self.company,
                "sale",
                "invoice",
                invoice_id,
                None,
                self.user,
                now,
            )
            await conn.execute(BALANCE_SQL, self.total, self.tenant, self.customer)
            created = json.dumps({**self.snapshot, "status": "draft", "number": None, "financial_year": None})
            issued = json.dumps({**self.snapshot, "status": "issued", "number": number, "financial_year": self.fy})
            await self._audit(
                conn,
                request_id,
                [
                    ("invoice.created", "invoice", invoice_id, None, created),
                    ("invoice.issued", "invoice", invoice_id, created, issued),
                ],
            )
            receipt_no = await conn.fetchval(RECEIPT_COUNTER_SQL, self.tenant, self.company, self.series)
            receipt_number = f"RCT/{self.fy}/{receipt_no:05d}"
            await conn.fetchrow(
                PAY_SQL,
                [receipt_id],
                [receipt_number],
                [self.fy],
                [self.total],
                ["cash"],
                [None],
                [_new_id()],
                self.tenant,
                self.company,
                self.customer,
                invoice_id,
                self.day,
                self.total,
            )
            link_id = _new_id()
            await conn.execute(
                SHARE_SQL, link_id, self.tenant, invoice_id, hashlib.sha256(key.encode()).hexdigest(), self.user
            )
            receipt = json.dumps(self.receipt_snapshot)
            share = json.dumps({"share_link_id": str(link_id)})
            await self._audit(
                conn,
                request_id,
                [
                    ("receipt.created", "receipt", receipt_id, None, receipt),
                    ("share_link.created", "invoice", invoice_id, None, share),
                ],
            )
            await conn.execute(IDEMPOTENCY_COMPLETE_SQL, self.tenant, key, json.dumps({"body": self.sale}))

    async def _audit(self, conn: asyncpg.Connection, request_id: str, rows: list[tuple[Any, ...]]) -> None:
        await write_audit(conn, self.tenant, self.user, request_id, rows)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()


class SaleDriver(HttpDriver):
    """POST /sales with a fresh Idempotency-Key per request."""

    def payload(self, worker: int, seq: int) -> bytes:
        headers = self.headers | {"Idempotency-Key": f"bench-{worker}-{seq}-{secrets.token_hex(6)}"}
        return self.encode(self.method, self.target, headers, self.json_body)


# --- set-up ---------------------------------------------------------------------------------------


async def make_shop(base_url: str, login: Login, admin: asyncpg.Connection) -> tuple[dict, list[str]]:
    """A company (Karnataka) and 5 products with plenty of stock, the products and the stock written
    by SQL (the bench measures the sale, not the catalogue)."""
    async with httpx.AsyncClient(base_url=base_url, headers=login.auth_header, timeout=30.0) as client:
        company = await client.post(
            f"{API}/companies", json={"legal_name": "Bench Kirana Pvt Ltd", "gstin": _gstin("29", "AAPFU0939F")}
        )
        company.raise_for_status()
    company = company.json()
    tenant = uuid.UUID(login.claims["tenant_id"])
    products = []
    for n in range(1, LINES + 1):
        product_id = _new_id()
        await admin.execute(
            "INSERT INTO products (tenant_id, id, name, sku, hsn_code, unit, sale_price, gst_rate) "
            "VALUES ($1, $2, $3, $4, '0902', 'NOS', $5, 18)",
            tenant,
            product_id,
            f"Bench product {n}",
            f"BENCH-{n}",
            Decimal(25 * n) + Decimal("0.50"),
        )
        await admin.execute(
            "INSERT INTO stock_levels (tenant_id, product_id, company_id, on_hand) VALUES ($1, $2, $3, $4)",
            tenant,
            product_id,
            uuid.UUID(company["id"]),
            STOCK,
        )
        products.append(str(product_id))
    return company, products


def sale_body(company_id: str, products: list[str]) -> dict[str, Any]:
    lines = [{"product_id": p, "quantity": str(n)} for n, p in enumerate(products, start=1)]
    return {"company_id": company_id, "lines": lines, "payments": [{"mode": "cash", "amount": "2000.00"}]}


async def template(base_url: str, login: Login, body: dict[str, Any]) -> tuple[dict, dict]:
    """One sale through the API, and its invoice as read back."""
    async with httpx.AsyncClient(base_url=base_url, headers=login.auth_header, timeout=30.0) as client:
        sale = await client.post(f"{API}/sales", json=body, headers={"Idempotency-Key": f"template-{uuid.uuid4()}"})
        if sale.status_code != 201:
            raise RuntimeError(f"POST /sales: {sale.status_code}: {sale.text[:500]}")
        invoice = await client.get(f"{API}/invoices/{sale.json()['invoice_id']}")
        invoice.raise_for_status()
    return sale.json(), invoice.json()


async def run(args: argparse.Namespace) -> int:
    env = {"DB_POOL_SIZE": str(args.concurrency), "DB_MAX_OVERFLOW": "0"}
    timings = {"concurrency": args.concurrency, "seconds": args.seconds, "warmup": args.warmup}
    async with bench_database(DATABASE) as urls, ApiServer(urls.app, workers=args.workers, env=env) as api:
        admin = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            login = await register_and_login(api.base_url)
            company, products = await make_shop(api.base_url, login, admin)
        finally:
            await admin.close()
        body = sale_body(company["id"], products)
        sale, invoice = await template(api.base_url, login, body)
        print(
            f"sales: {LINES}-line counter sale (walk-in, cash with change) at {args.concurrency} concurrent "
            f"connections; {args.warmup:g} s warm-up + {args.seconds:g} s per scenario, {args.workers} API "
            f"worker(s), API pool {args.concurrency} connections, load from a separate process",
            flush=True,
        )
        http = Scenario(
            f"POST /sales ({LINES} lines)",
            "bench.sales:SaleDriver",
            {
                "url": f"{api.base_url}{API}/sales",
                "method": "POST",
                "headers": login.auth_header,
                "json_body": body,
                "expect": 201,
            },
        )
        raw = Scenario(
            "raw asyncpg: the same writes",
            "bench.sales:RawSale",
            {
                "dsn": asyncpg_dsn(urls.app),
                "tenant_id": login.claims["tenant_id"],
                "user_id": login.claims["sub"],
                "invoice": invoice,
                "sale": sale,
            },
        )
        with LoadProcess(**timings) as load:
            results = [await load.run(http), await load.run(raw)]
    print()
    print(format_results(results))
    print()
    print("1. counter sale: HTTP ÷ raw asyncpg (throughput)")
    print("   " + format_ratio(f"{LINES} lines", results[0], results[1], "≥ 0.4"))
    print("2. tail: p99 ÷ p50 latency")
    print("   " + format_tail("POST /sales", results[0]))
    return 1 if any(r.errors for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sales", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent sellers (HTTP and raw alike)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each scenario")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for the API")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
