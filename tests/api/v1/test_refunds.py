"""Refunds (issue 12 §3) through the HTTP API, against the fake Razorpay as the tenant's own account
(the app in live mode), on a real PostgreSQL.

The state refunds start from is made as orders and payment links leave it: an invoice issued from
products (stock taken), the customer's payment captured at the (fake) gateway, its receipt (mode
razorpay) allocated to the invoice, and the order and online payment rows that record it, written
as the tenant (row-level security on). Everything refunds do is read back through the API: the
refund, the credit note, the invoice, the receipt, stock levels, the customer's ledger."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal as D

import httpx
import pytest

from app.core.context import Context
from app.domain.fiscal import today_in_india
from app.models.base import new_id
from app.models.commerce.online_payment import OnlinePayment
from app.models.commerce.order import SalesOrder, SalesOrderLine
from app.services.commerce import payment_gateways
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party
from tests.api.v1.receipting import alloc, receive
from tests.api.v1.test_invoice_stock import Shop
from tests.factories import API, Account, make_tenant
from tests.fake_razorpay import (
    FakeRazorpay,
    RazorpayAccount,
    fake_razorpay,
    razorpay_app,
    razorpay_client,
)

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures


@pytest.fixture
def day(razorpay_app) -> Iterator[date]:
    """Today in India with the live app's clock held still for the test (as the `today` fixture)."""
    runtime = razorpay_app.state.runtime
    original, instant = runtime.clock, datetime.now(UTC)
    runtime.clock = lambda: instant
    yield today_in_india(instant)
    runtime.clock = original


@dataclass
class Sold:
    shop: Shop
    account: RazorpayAccount
    product: dict
    invoice: dict
    receipt: dict
    order_id: uuid.UUID
    order_line_id: uuid.UUID
    payment_id: uuid.UUID
    razorpay_payment_id: str

    @property
    def owner(self) -> Account:
        return self.shop.account


async def save_gateway(app, owner: Account, account: RazorpayAccount) -> None:
    """The tenant's own Razorpay saved (what PUT /payment-gateways/razorpay does)."""
    rt, tenant_id = app.state.runtime, uuid.UUID(owner.tenant_id)
    ctx = Context(settings=rt.settings, db=rt.db, now=datetime.now(UTC), tenant_id=tenant_id)
    keys = payment_gateways.Keys(account.key_id, account.key_secret, account.webhook_secret)
    async with rt.db.transaction(tenant_id) as session:
        await payment_gateways.save(session, ctx, keys=keys)


async def sell(
    client: httpx.AsyncClient, fake: FakeRazorpay, app, day: date, *, quantity: str = "4", overpaid: str = "0.00"
) -> Sold:
    """An order of `quantity` units at ₹100 + 18 % GST (stock 10), confirmed, its invoice paid
    online (plus `overpaid` beyond it: the customer's advance)."""
    owner = await make_tenant(client)
    account = fake.account()
    await save_gateway(app, owner, account)
    shop = Shop(await Party.make(client, owner), client, app.state.runtime)
    product = await shop.product(gst_rate="18")
    await shop.receive((product, "10"))
    invoice = await shop.invoice(client, {"product_id": product["id"], "quantity": quantity})
    paid = D(invoice["total"]) + D(overpaid)
    async with httpx.AsyncClient(base_url=fake.url, auth=(account.key_id, account.key_secret)) as rzp:
        made = await rzp.post("/v1/orders", json={"amount": int(paid * 100), "currency": "INR", "receipt": "o1"})
        assert made.status_code == 200, made.text
    gateway_order = made.json()["id"]
    razorpay_payment_id = fake.pay(gateway_order)["razorpay_payment_id"]
    receipt = await receive(
        client,
        shop,
        str(paid),
        alloc(invoice, invoice["total"]),
        mode="razorpay",
        reference=razorpay_payment_id,
        receipt_date=day.isoformat(),
    )
    tenant_id, now = uuid.UUID(owner.tenant_id), datetime.now(UTC)
    order_id, line_id, payment_id = new_id(), new_id(), new_id()
    common = {"tenant_id": tenant_id, "company_id": uuid.UUID(shop.company["id"])}
    customer_id = uuid.UUID(shop.customer["id"])
    async with app.state.runtime.db.transaction(tenant_id) as session:
        session.add(
            SalesOrder(
                id=order_id,
                **common,
                customer_id=customer_id,
                status="confirmed",
                payment_method="online",
                total=D(invoice["total"]),
                amount_paid=paid,
                placed_at=now,
                confirmed_at=now,
                invoice_id=uuid.UUID(invoice["id"]),
            )
        )
        await session.flush()
        session.add(
            SalesOrderLine(
                id=line_id,
                tenant_id=tenant_id,
                order_id=order_id,
                position=1,
                product_id=uuid.UUID(product["id"]),
                quantity=D(quantity),
            )
        )
        session.add(
            OnlinePayment(
                id=payment_id,
                **common,
                customer_id=customer_id,
                purpose="order",
                order_id=order_id,
                gateway_kind="order",
                gateway_ref=gateway_order,
                amount=paid,
                status="paid",
                razorpay_payment_id=razorpay_payment_id,
                amount_paid=paid,
                paid_at=now,
                receipt_id=uuid.UUID(receipt["id"]),
            )
        )
    return Sold(shop, account, product, invoice, receipt, order_id, line_id, payment_id, razorpay_payment_id)


async def refund(client: httpx.AsyncClient, sold: Sold, body: dict, *, key: str | None = None) -> httpx.Response:
    headers = sold.owner.headers | {"Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(f"{API}/orders/{sold.order_id}/refund", json=body, headers=headers)


async def read(client: httpx.AsyncClient, sold: Sold, path: str, **params) -> dict:
    response = await client.get(f"{API}/{path}", params=params, headers=sold.owner.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def refunds_of(client: httpx.AsyncClient, sold: Sold) -> list[dict]:
    return (await read(client, sold, "refunds", order_id=str(sold.order_id)))["items"]


async def credit_notes_of(client: httpx.AsyncClient, sold: Sold) -> list[dict]:
    return (await read(client, sold, "credit-notes", invoice_id=sold.invoice["id"]))["items"]


async def balance(client: httpx.AsyncClient, sold: Sold) -> D:
    return D((await read(client, sold, f"customers/{sold.shop.customer['id']}"))["balance"])


async def fake_refunds(fake: FakeRazorpay, sold: Sold) -> list[dict]:
    return [r for r in fake.refunds.values() if r["payment_id"] == sold.razorpay_payment_id]


class TestAmounts:
    async def test_a_refund_above_what_was_paid_is_409_and_writes_nothing(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)  # 4 x 118 = 472.00
        response = await refund(razorpay_client, sold, {"amount": "472.01", "reason": "Too much"})
        assert_problem(response, 409, "refund-exceeds-paid")
        assert await refunds_of(razorpay_client, sold) == []
        assert await credit_notes_of(razorpay_client, sold) == []
        assert await fake_refunds(fake_razorpay, sold) == []
        assert await balance(razorpay_client, sold) == D("0.00")

    async def test_partial_then_full_then_nothing_left(self, razorpay_client, fake_razorpay, razorpay_app, day):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        first = await refund(razorpay_client, sold, {"amount": "118.00", "reason": "Late delivery"})
        assert first.status_code == 201, first.text
        made = first.json()
        assert (made["amount"], made["status"], made["order_id"]) == ("118.00", "pending", str(sold.order_id))
        assert made["razorpay_refund_id"].startswith("rfnd_") and made["credit_note_id"] is not None
        note = await read(razorpay_client, sold, f"credit-notes/{made['credit_note_id']}")
        assert (note["total"], note["taxable_value"], note["restock"]) == ("118.00", "100.00", False)
        # the invoice owes nothing: the credit took back what the released payment had settled
        invoice = await read(razorpay_client, sold, f"invoices/{sold.invoice['id']}")
        assert (invoice["amount_paid"], invoice["amount_credited"], invoice["balance_due"]) == (
            "354.00",
            "118.00",
            "0.00",
        )
        receipt = await read(razorpay_client, sold, f"receipts/{sold.receipt['id']}")
        assert (receipt["amount_allocated"], receipt["amount_refunded"], receipt["amount_unallocated"]) == (
            "354.00",
            "118.00",
            "0.00",
        )
        assert await balance(razorpay_client, sold) == D("0.00")
        # what is left: 354.00; asking for more is refused, the rest in full is not
        assert_problem(await refund(razorpay_client, sold, {"amount": "354.01", "reason": "x"}), 409)
        rest = await refund(razorpay_client, sold, {"amount": "354.00", "reason": "Rest"})
        assert rest.status_code == 201, rest.text
        last = await refund(razorpay_client, sold, {"amount": "0.01", "reason": "x"})
        assert_problem(last, 409, "refund-exceeds-paid")
        at_gateway = await fake_refunds(fake_razorpay, sold)
        assert sorted(r["amount"] for r in at_gateway) == [11800, 35400]
        order = [r["amount"] for r in await refunds_of(razorpay_client, sold)]
        assert sorted(order) == ["118.00", "354.00"]
        invoice = await read(razorpay_client, sold, f"invoices/{sold.invoice['id']}")
        assert (invoice["amount_paid"], invoice["amount_credited"]) == ("0.00", "472.00")
        assert await balance(razorpay_client, sold) == D("0.00")

    async def test_full_refund_cancels_the_order_and_refunds_the_advance_too(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day, overpaid="28.00")  # paid 500.00
        response = await refund(razorpay_client, sold, {"full": True, "reason": "Cancelled", "restock": True})
        assert response.status_code == 201, response.text
        assert response.json()["amount"] == "500.00"
        note = await read(razorpay_client, sold, f"credit-notes/{response.json()['credit_note_id']}")
        assert (note["is_full"], note["total"]) == (True, "472.00")
        assert await sold.shop.on_hand(sold.product) == D("10")
        tenant_id = uuid.UUID(sold.owner.tenant_id)
        async with razorpay_app.state.runtime.db.transaction(tenant_id) as session:
            order = await session.get(SalesOrder, (tenant_id, sold.order_id))
            assert order is not None
            assert (order.status, order.cancel_reason, order.amount_refunded) == ("cancelled", "refunded", D("500.00"))
        assert await balance(razorpay_client, sold) == D("0.00")
        again = await refund(razorpay_client, sold, {"full": True, "reason": "Again"})
        assert_problem(again, 409)
        assert len(await fake_refunds(fake_razorpay, sold)) == 1


class TestLines:
    async def test_by_lines_with_restock_returns_the_units(self, razorpay_client, fake_razorpay, razorpay_app, day):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        assert await sold.shop.on_hand(sold.product) == D("6")
        body = {"lines": [{"order_line_id": str(sold.order_line_id), "quantity": "1"}], "reason": "Returned"}
        response = await refund(razorpay_client, sold, body | {"restock": True})
        assert response.status_code == 201, response.text
        assert (response.json()["amount"], response.json()["restock"]) == ("118.00", True)
        assert await sold.shop.on_hand(sold.product) == D("7")

    async def test_by_lines_without_restock_leaves_stock(self, razorpay_client, fake_razorpay, razorpay_app, day):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        body = {"lines": [{"order_line_id": str(sold.order_line_id), "quantity": "2"}], "reason": "Damaged"}
        response = await refund(razorpay_client, sold, body)
        assert response.status_code == 201, response.text
        assert response.json()["amount"] == "236.00"
        assert await sold.shop.on_hand(sold.product) == D("6")
        note = await read(razorpay_client, sold, f"credit-notes/{response.json()['credit_note_id']}")
        assert [D(line["quantity"]) for line in note["lines"]] == [D("2")]
        # more units than remain uncredited: the credit note's own 409, and nothing more refunded
        body = {"lines": [{"order_line_id": str(sold.order_line_id), "quantity": "3"}], "reason": "Too many"}
        assert_problem(await refund(razorpay_client, sold, body), 409, "line-quantity-exceeded")
        assert len(await fake_refunds(fake_razorpay, sold)) == 1

    async def test_an_unknown_order_line_is_404(self, razorpay_client, fake_razorpay, razorpay_app, day):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        body = {"lines": [{"order_line_id": str(uuid.uuid4()), "quantity": "1"}], "reason": "x"}
        assert_problem(await refund(razorpay_client, sold, body), 404, "order-line-not-found")


class TestGatewayFailure:
    async def test_a_gateway_5xx_leaves_nothing_and_a_retry_refunds_once(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        body = {"lines": [{"order_line_id": str(sold.order_line_id), "quantity": "1"}], "reason": "x", "restock": True}
        fake_razorpay.fail_next(1, status=500)
        failed = await refund(razorpay_client, sold, body, key="refund-key-0001")
        assert_problem(failed, 503, "payment-gateway-unavailable")
        assert await refunds_of(razorpay_client, sold) == []
        assert await credit_notes_of(razorpay_client, sold) == []
        assert await sold.shop.on_hand(sold.product) == D("6")
        receipt = await read(razorpay_client, sold, f"receipts/{sold.receipt['id']}")
        assert (receipt["amount_allocated"], receipt["amount_refunded"]) == ("472.00", "0.00")
        ok = await refund(razorpay_client, sold, body, key="refund-key-0001")
        assert ok.status_code == 201, ok.text
        replay = await refund(razorpay_client, sold, body, key="refund-key-0001")
        assert replay.json() == ok.json()
        assert len(await fake_refunds(fake_razorpay, sold)) == 1
        assert len(await refunds_of(razorpay_client, sold)) == 1
        assert await sold.shop.on_hand(sold.product) == D("7")

    async def test_a_gateway_timeout_leaves_nothing(self, razorpay_client, fake_razorpay, razorpay_app, day):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        fake_razorpay.stall_next(1, seconds=7)  # the client's timeout is 5 s
        failed = await refund(razorpay_client, sold, {"amount": "100.00", "reason": "x"})
        assert_problem(failed, 503, "payment-gateway-unavailable")
        assert await refunds_of(razorpay_client, sold) == []
        assert await credit_notes_of(razorpay_client, sold) == []
