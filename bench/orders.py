"""Orders: `place` (online) + its capture webhook, against raw asyncpg doing the same writes.

`python -m bench.orders` measures, in one run, on a database of its own (dropped at the end), with
a stand-in for Razorpay on a loopback port (tests/fake_razorpay.py: the tenant's own account):

1. One order through HTTP, two requests: `POST /api/v1/orders/{id}/place` {"payment_method":
   "online"} (a fresh Idempotency-Key; 3 product lines reserved; one gateway order made on the fake
   Razorpay over HTTP), then the tenant's webhook `POST /api/v1/webhooks/razorpay/{webhook_id}` with
   a signed `payment.captured` for that gateway order (event claimed, payment paid, invoice issued
   from the order, the reservation taken, the receipt allocated, the order confirmed). The drafts
   are made beforehand by SQL (the bench measures placing and paying, not filling carts).
2. Raw asyncpg writing the same rows as the application role, tenant bound with set_config, in
   the same two transactions, with the app's own statements where it has them (the stock ledger's
   `APPLY_SQL` for the reservation and for taking it, `PAY_IN_FULL_SQL` for the receipt, its
   allocation, the invoice's settle and the customer's balance): place = idempotency key (expired
   removed, claim, stored response), the order locked, the reservation, the lines' prices, the
   order, the online payment, the audit row; capture = the payment locked, the event claimed, the
   payment paid and its audit row, the order locked, the invoice counter, the invoice, its lines,
   the customer's balance, the invoice's audit rows, the sale from the reservation, the receipt
   counter and PAY_IN_FULL_SQL, the payment's receipt, the receipt's audit row, the order confirmed
   and its audit row, the event's outcome. It makes no gateway call and none of the reads the app
   does (session, subscription, plan limit, parties, settings, tax rates, products, the order's
   lines, the webhook's tenant and secret).

Target: HTTP ÷ raw ≥ 0.2 (orders per second, same concurrency: two requests and an outside call
per order, so half the counter sale's 0.4). Also printed: p99 ÷ p50. Every figure is printed, each ratio with its
target and PASS or MISS; nothing is asserted. The exit status is 1 if a scenario had errors.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import uvicorn

from app.domain.fiscal import financial_year, series_year
from app.services.billing.invoicing import AUDITED as INVOICE_AUDITED
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
    free_port,
    register_and_login,
)
from bench.invoices import COUNTER_SQL, _gstin, _new_id
from bench.sales import (
    BALANCE_SQL,
    HEADER_MONEY,
    IDEMPOTENCY_COMPLETE_SQL,
    IDEMPOTENCY_DELETE_SQL,
    INVOICE_SQL,
    LINE_AMOUNTS,
    LINES_SQL,
    PAY_SQL,
    RECEIPT_COUNTER_SQL,
    STOCK_SQL,
    write_audit,
)
from tests.fake_razorpay import FakeRazorpay

DATABASE = "rms_bench_orders"
API = "/api/v1"
LINES = 3
DRAFTS = 6000  # per scenario: more than a run places
STOCK = Decimal("1000000000")

IDEMPOTENCY_CLAIM_SQL = """
INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, state, created_at, expires_at)
VALUES ($1, $2, 'POST', $5, $3, 'in_flight', now(), $4)
ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key
"""
LOCK_ORDER_SQL = "SELECT status FROM sales_orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
LINE_PRICES_SQL = """
UPDATE sales_order_lines l SET unit_price = r.price
FROM unnest($3::uuid[], $4::numeric[]) AS r(id, price)
WHERE l.tenant_id = $1 AND l.order_id = $2 AND l.id = r.id
"""
PLACE_ORDER_SQL = """
UPDATE sales_orders SET status = 'placed', payment_method = 'online', total = $3, placed_at = $4, hold_until = $5,
                        updated_at = $4
WHERE tenant_id = $1 AND id = $2
"""
PAYMENT_SQL = """
INSERT INTO online_payments (tenant_id, id, purpose, order_id, company_id, customer_id, gateway_kind, gateway_ref,
                             amount, status, is_sandbox, expires_at, amount_refunded, refund_due, created_at,
                             updated_at)
VALUES ($1, $2, 'order', $3, $4, $5, 'order', $6, $7, 'created', false, $8, 0, false, now(), now())
"""
LOCK_PAYMENT_SQL = "SELECT id FROM online_payments WHERE tenant_id = $1 AND gateway_ref = $2 FOR UPDATE"
EVENT_SQL = """
INSERT INTO gateway_events (tenant_id, id, event_id, event_type, online_payment_id, outcome, received_at)
VALUES ($1, $2, $3, 'payment.captured', $4, 'applying', now())
ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING id
"""
PAID_SQL = """
UPDATE online_payments SET status = 'paid', razorpay_payment_id = $3, amount_paid = $4, paid_at = now(),
                           updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status <> 'paid'
"""
PAYMENT_RECEIPT_SQL = "UPDATE online_payments SET receipt_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2"
CONFIRM_SQL = """
UPDATE sales_orders SET status = 'confirmed', invoice_id = $3, confirmed_at = now(), amount_paid = amount_paid + $4,
                        updated_at = now()
WHERE tenant_id = $1 AND id = $2
"""
OUTCOME_SQL = "UPDATE gateway_events SET outcome = 'order_confirmed' WHERE tenant_id = $1 AND event_id = $2"


def _sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def captured_event(gateway_order: str, amount_paise: int) -> tuple[str, bytes]:
    """A payment.captured event for the gateway order, as Razorpay sends it: (event id, raw body)."""
    payment_id = "pay_" + secrets.token_hex(7)
    entity = {
        "id": payment_id,
        "entity": "payment",
        "amount": amount_paise,
        "currency": "INR",
        "status": "captured",
        "order_id": gateway_order,
        "method": "upi",
        "captured": True,
        "created_at": int(time.time()),
    }
    event = {
        "entity": "event",
        "event": "payment.captured",
        "contains": ["payment"],
        "payload": {"payment": {"entity": entity}},
        "created_at": int(time.time()),
    }
    return "evt_" + secrets.token_hex(8), json.dumps(event).encode()


class OrderDriver(HttpDriver):
    """Place a draft online, then post the signed capture webhook for its gateway order."""

    def __init__(self, url: str, headers: dict[str, str], drafts: list[str], webhook: str, secret: str) -> None:
        super().__init__(url, "POST", headers, None, 200)
        self.base, self.drafts, self.webhook, self.secret = url, drafts, webhook, secret
        self.concurrency = 1

    async def open(self, concurrency: int) -> None:
        self.concurrency = concurrency
        await super().open(concurrency)

    async def request(self, worker: int, seq: int) -> None:
        order_id = self.drafts[seq * self.concurrency + worker]
        headers = self.headers | {"Idempotency-Key": f"bench-{order_id}"}
        place = self.encode("POST", f"{self.target}/{order_id}/place", headers, {"payment_method": "online"})
        status, body = await self._connections[worker].exchange(place)
        self.check(status, body)
        checkout = json.loads(body)["checkout"]
        event_id, event = captured_event(checkout["order_id"], checkout["amount"])
        hook_headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": _sign(self.secret, event),
            "X-Razorpay-Event-Id": event_id,
            "Content-Length": str(len(event)),
        }
        lines = [f"POST {self.webhook} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in hook_headers.items()]
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + event
        status, body = await self._connections[worker].exchange(payload)
        self.check(status, body)


class RawOrder:
    """The writes of one order placed and captured, over a pool of asyncpg connections as the
    application role. `order` and `invoice` are an order the API placed and confirmed."""

    def __init__(
        self,
        dsn: str,
        tenant_id: str,
        user_id: str,
        drafts: list[str],
        lines: dict[str, list[str]],
        order: dict[str, Any],
        invoice: dict[str, Any],
    ) -> None:
        self.dsn, self.tenant_id = dsn, tenant_id
        self.tenant, self.user = uuid.UUID(tenant_id), uuid.UUID(user_id)
        self.drafts, self.draft_lines = drafts, lines
        self.company, self.customer = uuid.UUID(invoice["company_id"]), uuid.UUID(invoice["customer_id"])
        self.day = datetime.fromisoformat(invoice["invoice_date"]).date()
        self.due = datetime.fromisoformat(invoice["due_date"]).date()
        self.fy, self.series = financial_year(self.day), series_year(self.day)
        self.order, self.invoice = order, invoice
        self.total = Decimal(invoice["total"])
        self.prices = [Decimal(line["unit_price"]) for line in order["lines"]]
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
        self.lines = invoice["lines"]
        self.columns = [
            [ln["position"] for ln in self.lines],
            [uuid.UUID(ln["product_id"]) for ln in self.lines],
            [ln["description"] for ln in self.lines],
            [ln["hsn_sac"] for ln in self.lines],
            [Decimal(ln["quantity"]) for ln in self.lines],
            [ln["unit"] for ln in self.lines],
            *([Decimal(ln[name]) for ln in self.lines] for name in LINE_AMOUNTS),
            [Decimal(ln["utgst_amount"]) for ln in self.lines],
            [Decimal(ln["igst_amount"]) for ln in self.lines],
            [Decimal(ln["total"]) for ln in self.lines],
        ]
        self.stock = sorted((uuid.UUID(ln["product_id"]), Decimal(ln["quantity"])) for ln in self.lines)
        self.snapshot = {name: invoice.get(name) for name in INVOICE_AUDITED}
        self.concurrency = 1
        self.pool: asyncpg.Pool | None = None

    async def open(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.pool = await asyncpg.create_pool(self.dsn, min_size=concurrency, max_size=concurrency)

    async def request(self, worker: int, seq: int) -> None:
        assert self.pool is not None
        order_id = uuid.UUID(self.drafts[seq * self.concurrency + worker])
        gateway_order = "order_" + secrets.token_hex(7)
        request_id, now = secrets.token_hex(8), datetime.now(UTC)
        async with self.pool.acquire() as conn:
            payment_id = await self._place(conn, order_id, gateway_order, request_id, now)
            await self._capture(conn, order_id, payment_id, gateway_order, request_id, now)

    async def _place(
        self, conn: asyncpg.Connection, order_id: uuid.UUID, gateway_order: str, request_id: str, now: datetime
    ) -> uuid.UUID:
        key = f"bench-{order_id}"
        payment_id = _new_id()
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", self.tenant_id)
            await conn.execute(IDEMPOTENCY_DELETE_SQL, self.tenant, key, now)
            path = f"{API}/orders/{order_id}/place"
            digest = hashlib.sha256(key.encode()).hexdigest()
            await conn.fetchval(IDEMPOTENCY_CLAIM_SQL, self.tenant, key, digest, now + timedelta(2), path)
            await conn.fetchval(LOCK_ORDER_SQL, self.tenant, order_id)
            await self._stock(conn, "reservation", "order", order_id, now, on_hand=0, reserved=1)
            line_ids = [uuid.UUID(i) for i in self.draft_lines[str(order_id)]]
            await conn.execute(LINE_PRICES_SQL, self.tenant, order_id, line_ids, self.prices)
            hold = now + timedelta(minutes=15)
            await conn.execute(PLACE_ORDER_SQL, self.tenant, order_id, self.total, now, hold)
            await conn.execute(
                PAYMENT_SQL,
                self.tenant,
                payment_id,
                order_id,
                self.company,
                self.customer,
                gateway_order,
                self.total,
                hold,
            )
            placed = json.dumps({"status": "placed", "total": str(self.total), "gateway_order": gateway_order})
            await self._audit(conn, request_id, [("order.placed", "order", order_id, None, placed)])
            await conn.execute(IDEMPOTENCY_COMPLETE_SQL, self.tenant, key, json.dumps({"body": self.order}))
        return payment_id

    async def _capture(
        self,
        conn: asyncpg.Connection,
        order_id: uuid.UUID,
        payment_id: uuid.UUID,
        gateway_order: str,
        request_id: str,
        now: datetime,
    ) -> None:
        invoice_id, receipt_id, event_id = _new_id(), _new_id(), "evt_" + secrets.token_hex(8)
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", self.tenant_id)
            await conn.fetchval(LOCK_PAYMENT_SQL, self.tenant, gateway_order)
            await conn.fetchval(EVENT_SQL, self.tenant, _new_id(), event_id, payment_id)
            await conn.execute(PAID_SQL, self.tenant, payment_id, "pay_" + secrets.token_hex(7), self.total)
            paid = json.dumps({"status": "paid", "amount_paid": str(self.total)})
            await self._audit(conn, request_id, [("online_payment.paid", "online_payment", payment_id, None, paid)])
            await conn.fetchval(LOCK_ORDER_SQL, self.tenant, order_id)
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
            await self._stock(conn, "sale", "invoice", invoice_id, now, on_hand=-1, reserved=-1)
            receipt_no = await conn.fetchval(RECEIPT_COUNTER_SQL, self.tenant, self.company, self.series)
            await conn.fetchrow(
                PAY_SQL,
                [receipt_id],
                [f"RCT/{self.fy}/{receipt_no:05d}"],
                [self.fy],
                [self.total],
                ["razorpay"],
                [None],
                [_new_id()],
                self.tenant,
                self.company,
                self.customer,
                invoice_id,
                self.day,
                self.total,
            )
            await conn.execute(PAYMENT_RECEIPT_SQL, self.tenant, payment_id, receipt_id)
            confirmed = json.dumps({"status": "confirmed", "invoice_id": str(invoice_id)})
            await self._audit(
                conn,
                request_id,
                [
                    ("receipt.created", "receipt", receipt_id, None, json.dumps({"amount": str(self.total)})),
                    ("order.confirmed", "order", order_id, None, confirmed),
                ],
            )
            await conn.execute(CONFIRM_SQL, self.tenant, order_id, invoice_id, self.total)
            await conn.execute(OUTCOME_SQL, self.tenant, event_id)

    async def _stock(
        self,
        conn: asyncpg.Connection,
        kind: str,
        document_type: str,
        document_id: uuid.UUID,
        now: datetime,
        *,
        on_hand: int,
        reserved: int,
    ) -> None:
        n = len(self.stock)
        await conn.fetch(
            STOCK_SQL,
            [p for p, _ in self.stock],
            [q * on_hand for _, q in self.stock],
            [q * reserved for _, q in self.stock],
            [None] * n,
            [None] * n,
            n,
            -1 if reserved < 0 else 1,
            self.tenant,
            self.company,
            kind,
            document_type,
            document_id,
            None,
            self.user,
            now,
        )

    async def _audit(self, conn: asyncpg.Connection, request_id: str, rows: list[tuple[Any, ...]]) -> None:
        await write_audit(conn, self.tenant, self.user, request_id, rows)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()


# --- set-up ---------------------------------------------------------------------------------------


def serve_fake_razorpay() -> tuple[FakeRazorpay, uvicorn.Server, threading.Thread]:
    fake = FakeRazorpay()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the fake Razorpay did not start")
        time.sleep(0.05)
    fake.url = f"http://127.0.0.1:{port}"
    return fake, server, thread


async def make_shop(
    base_url: str, login: Login, admin: asyncpg.Connection, fake: FakeRazorpay
) -> tuple[dict[str, Any], list[str], dict[str, Any], str]:
    """A company (Karnataka), a customer (Maharashtra), 3 products with plenty of stock (by SQL) and
    the tenant's own Razorpay account on the fake: (company, product ids, gateway, webhook secret)."""
    account = fake.account()
    async with httpx.AsyncClient(base_url=base_url, headers=login.auth_header, timeout=30.0) as client:
        company = await client.post(
            f"{API}/companies", json={"legal_name": "Bench Orders Pvt Ltd", "gstin": _gstin("29", "AAPFU0939F")}
        )
        company.raise_for_status()
        customer = await client.post(
            f"{API}/customers", json={"name": "Bench Buyer", "billing_address": {"state_code": "27"}}
        )
        customer.raise_for_status()
        keys = {"key_id": account.key_id, "key_secret": account.key_secret, "webhook_secret": account.webhook_secret}
        gateway = await client.put(f"{API}/payment-gateways/razorpay", json=keys)
        if gateway.status_code not in (200, 201):
            raise RuntimeError(f"PUT /payment-gateways/razorpay: {gateway.status_code}: {gateway.text[:300]}")
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
            uuid.UUID(company.json()["id"]),
            STOCK,
        )
        products.append(str(product_id))
    return {"company": company.json(), "customer": customer.json()}, products, gateway.json(), account.webhook_secret


async def make_drafts(
    admin: asyncpg.Connection, tenant: uuid.UUID, parties: dict[str, Any], products: list[str], count: int
) -> tuple[list[str], dict[str, list[str]]]:
    """`count` draft orders of the products (quantities 1, 2, 3), written by SQL: (ids, line ids by order)."""
    orders = [_new_id() for _ in range(count)]
    company, customer = uuid.UUID(parties["company"]["id"]), uuid.UUID(parties["customer"]["id"])
    await admin.execute(
        "INSERT INTO sales_orders (tenant_id, id, company_id, customer_id, status, created_at, updated_at) "
        "SELECT $1, o, $2, $3, 'draft', now(), now() FROM unnest($4::uuid[]) AS o",
        tenant,
        company,
        customer,
        orders,
    )
    lines: dict[str, list[str]] = {}
    rows = []
    for order in orders:
        ids = [_new_id() for _ in products]
        lines[str(order)] = [str(i) for i in ids]
        rows += [(i, order, n, uuid.UUID(p)) for n, (i, p) in enumerate(zip(ids, products, strict=True), start=1)]
    await admin.execute(
        "INSERT INTO sales_order_lines (tenant_id, id, order_id, position, product_id, quantity, discount) "
        "SELECT $1, r.id, r.order_id, r.position, r.product_id, r.position, 0 "
        "FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::uuid[]) AS r(id, order_id, position, product_id)",
        tenant,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )
    return [str(o) for o in orders], lines


async def template(
    base_url: str, login: Login, draft: str, webhook: str, secret: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One order placed and captured through the API: (the placed order, its invoice as read back)."""
    async with httpx.AsyncClient(base_url=base_url, headers=login.auth_header, timeout=30.0) as client:
        placed = await client.post(
            f"{API}/orders/{draft}/place",
            json={"payment_method": "online"},
            headers={"Idempotency-Key": f"template-{uuid.uuid4()}"},
        )
        if placed.status_code != 200:
            raise RuntimeError(f"place: {placed.status_code}: {placed.text[:500]}")
        checkout = placed.json()["checkout"]
        event_id, event = captured_event(checkout["order_id"], checkout["amount"])
        headers = {"X-Razorpay-Signature": _sign(secret, event), "X-Razorpay-Event-Id": event_id}
        hook = await client.post(webhook, content=event, headers=headers | {"Content-Type": "application/json"})
        if hook.status_code != 200:
            raise RuntimeError(f"webhook: {hook.status_code}: {hook.text[:500]}")
        order = (await client.get(f"{API}/orders/{draft}")).json()
        if order["status"] != "confirmed":
            raise RuntimeError(f"the template order is {order['status']}, not confirmed")
        invoice = await client.get(f"{API}/invoices/{order['invoice_id']}")
        invoice.raise_for_status()
    return placed.json(), invoice.json()


async def run(args: argparse.Namespace) -> int:
    fake, fake_server, fake_thread = serve_fake_razorpay()
    env = {
        "DB_POOL_SIZE": str(args.concurrency),
        "DB_MAX_OVERFLOW": "0",
        "RAZORPAY_MODE": "live",
        "RAZORPAY_KEY_ID": fake.key_id,
        "RAZORPAY_KEY_SECRET": fake.key_secret,
        "RAZORPAY_WEBHOOK_SECRET": fake.webhook_secret,
        "RAZORPAY_BASE_URL": fake.url,
    }
    timings = {"concurrency": args.concurrency, "seconds": args.seconds, "warmup": args.warmup}
    try:
        async with bench_database(DATABASE) as urls, ApiServer(urls.app, workers=args.workers, env=env) as api:
            admin = await asyncpg.connect(asyncpg_dsn(urls.admin))
            try:
                login = await register_and_login(api.base_url)
                tenant = uuid.UUID(login.claims["tenant_id"])
                parties, products, gateway, secret = await make_shop(api.base_url, login, admin, fake)
                http_drafts, _ = await make_drafts(admin, tenant, parties, products, DRAFTS + 1)
                raw_drafts, raw_lines = await make_drafts(admin, tenant, parties, products, DRAFTS)
            finally:
                await admin.close()
            webhook = f"{API}/webhooks/razorpay/{gateway['webhook_id']}"
            order, invoice = await template(api.base_url, login, http_drafts.pop(), webhook, secret)
            print(
                f"orders: place ({LINES} lines, online) + capture webhook at {args.concurrency} concurrent "
                f"connections; {args.warmup:g} s warm-up + {args.seconds:g} s per scenario, {args.workers} API "
                f"worker(s), API pool {args.concurrency} connections, load from a separate process",
                flush=True,
            )
            http = Scenario(
                f"place + capture webhook ({LINES} lines)",
                "bench.orders:OrderDriver",
                {
                    "url": f"{api.base_url}{API}/orders",
                    "headers": login.auth_header,
                    "drafts": http_drafts,
                    "webhook": webhook,
                    "secret": secret,
                },
            )
            raw = Scenario(
                "raw asyncpg: the same writes",
                "bench.orders:RawOrder",
                {
                    "dsn": asyncpg_dsn(urls.app),
                    "tenant_id": login.claims["tenant_id"],
                    "user_id": login.claims["sub"],
                    "drafts": raw_drafts,
                    "lines": raw_lines,
                    "order": order,
                    "invoice": invoice,
                },
            )
            with LoadProcess(**timings) as load:
                results = [await load.run(http), await load.run(raw)]
    finally:
        fake_server.should_exit = True
        fake_thread.join(timeout=15)
    print()
    print(format_results(results))
    print()
    print("1. an order placed online and paid: HTTP (2 requests + 1 Razorpay call) ÷ raw asyncpg (orders/s)")
    print("   " + format_ratio(f"{LINES} lines", results[0], results[1], "≥ 0.2"))
    print("2. tail: p99 ÷ p50 latency")
    print("   " + format_tail("place + capture", results[0]))
    return 1 if any(r.errors for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.orders", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent buyers (HTTP and raw alike)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each scenario")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for the API")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
