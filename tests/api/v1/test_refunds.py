"""Refunds (issue 12 §3) through the HTTP API, against the fake Razorpay as the tenant's own account
(the app in live mode), on a real PostgreSQL.

The state refunds start from is made as orders and payment links leave it: an invoice issued from
products (stock taken), the customer's payment captured at the (fake) gateway, its receipt (mode
razorpay) allocated to the invoice, and the order and online payment rows that record it, written
as the tenant (row-level security on). Everything refunds do is read back through the API: the
refund, the credit note, the invoice, the receipt, stock levels, the customer's ledger."""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal as D
from urllib.parse import urlsplit

import httpx
import pytest

from app.domain.fiscal import today_in_india
from app.models.base import new_id
from app.models.commerce.online_payment import OnlinePayment
from app.models.commerce.order import SalesOrder, SalesOrderLine
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party
from tests.api.v1.ordering import OrderShop
from tests.api.v1.receipting import alloc, receive
from tests.api.v1.test_invoice_stock import Shop
from tests.factories import API, Account, make_tenant
from tests.fake_razorpay import (
    FakeRazorpay,
    RazorpayAccount,
    configure_gateway,
    fake_razorpay,
    razorpay_app,
    razorpay_client,
    webhook_path,
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
    webhook: str  # the path of the tenant's webhook
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


async def sell(
    client: httpx.AsyncClient, fake: FakeRazorpay, app, day: date, *, quantity: str = "4", overpaid: str = "0.00"
) -> Sold:
    """An order of `quantity` units at ₹100 + 18 % GST (stock 10), confirmed, its invoice paid
    online (plus `overpaid` beyond it: the customer's advance)."""
    owner = await make_tenant(client)
    account = fake.account()
    gateway = await configure_gateway(client, owner, account)
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
    return Sold(
        shop,
        account,
        webhook_path(gateway),
        product,
        invoice,
        receipt,
        order_id,
        line_id,
        payment_id,
        razorpay_payment_id,
    )


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


async def stalled_refund(fake: FakeRazorpay, sold: Sold) -> dict:
    """The refund a stalled call makes at the fake once its stall ends (after our client gave up)."""
    for _ in range(100):
        made = await fake_refunds(fake, sold)
        if made:
            (refund,) = made
            return refund
        await asyncio.sleep(0.1)
    raise AssertionError("the stalled refund was never made")


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

    async def test_a_refund_below_the_gateways_rupee_is_409_before_the_gateway(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        """Razorpay refunds ₹1 at least: less is a 409 naming the rule, not a 502 from the gateway."""
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        for amount in ("0.01", "0.99"):
            response = await refund(razorpay_client, sold, {"amount": amount, "reason": "Rounding"})
            assert_problem(response, 409, "refund-below-minimum")
        assert await refunds_of(razorpay_client, sold) == []
        assert await credit_notes_of(razorpay_client, sold) == []
        assert await balance(razorpay_client, sold) == D("0.00")
        assert (await refund(razorpay_client, sold, {"amount": "1.00", "reason": "Rounding"})).status_code == 201

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

    async def test_an_amount_is_refunded_to_the_paisa_and_credited_by_value(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        response = await refund(razorpay_client, sold, {"amount": "150.55", "reason": "Late delivery"})
        assert response.status_code == 201, response.text
        made = response.json()
        assert made["amount"] == "150.55"
        note = await read(razorpay_client, sold, f"credit-notes/{made['credit_note_id']}")
        # by value (no quantity), tax at the line's rate, the paise of tax rounding in round_off
        assert note["total"] == "150.55" and note["lines"][0]["quantity"] is None
        assert abs(D(note["round_off"])) <= D("0.02")
        assert abs(D(note["taxable_value"]) - D("127.58")) <= D("0.02")  # 150.55 / 1.18
        (at_gateway,) = await fake_refunds(fake_razorpay, sold)
        assert at_gateway["amount"] == 15055
        assert await balance(razorpay_client, sold) == D("0.00")
        assert await sold.shop.on_hand(sold.product) == D("6")

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
        fake_razorpay.fail_next(3, status=500)  # the first try and the client's 2 retries
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
        fake_razorpay.stall_next(3, seconds=7)  # every attempt (1 + 2 retries) outlasts the 5 s timeout
        failed = await refund(razorpay_client, sold, {"amount": "100.00", "reason": "x"})
        assert_problem(failed, 503, "payment-gateway-unavailable")
        assert await refunds_of(razorpay_client, sold) == []
        assert await credit_notes_of(razorpay_client, sold) == []


async def deliver(
    client: httpx.AsyncClient,
    fake: FakeRazorpay,
    sold: Sold,
    razorpay_refund_id: str,
    status: str,
    amount_paise: int,
    *,
    event_id: str | None = None,
) -> str:
    """A signed refund.<status> event posted to the tenant's webhook: the outcome refunds gave it
    (or "duplicate" for an event id seen before)."""
    kind = f"refund.{status}"
    body, headers = fake.refund_event(
        sold.account,
        kind,
        razorpay_refund_id,
        payment_id=sold.razorpay_payment_id,
        amount=amount_paise,
        event_id=event_id,
    )
    response = await client.post(sold.webhook, content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    return answer["detail"] if answer["result"] == "processed" else answer["result"]


async def payment_row(app, sold: Sold) -> OnlinePayment:
    tenant_id = uuid.UUID(sold.owner.tenant_id)
    async with app.state.runtime.db.transaction(tenant_id) as session:
        payment = await session.get(OnlinePayment, (tenant_id, sold.payment_id))
        assert payment is not None
        return payment


class TestEvents:
    async def test_replayed_and_out_of_order_events_move_states_forward_only(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        made = (await refund(razorpay_client, sold, {"amount": "118.00", "reason": "x"})).json()
        rid = made["razorpay_refund_id"]
        assert await deliver(razorpay_client, fake_razorpay, sold, rid, "processed", 11800) == "processed"
        for late in ("processed", "processed", "created", "failed", "created"):
            assert await deliver(razorpay_client, fake_razorpay, sold, rid, late, 11800) in (
                "duplicate",
                "ignored_stale",
            )
        row = await read(razorpay_client, sold, f"refunds/{made['id']}")
        assert (row["status"], row["failed_at"], row["amount"]) == ("processed", None, "118.00")
        assert row["processed_at"] is not None
        assert (await payment_row(razorpay_app, sold)).amount_refunded == D("118.00")
        assert await balance(razorpay_client, sold) == D("0.00")

    async def test_a_failed_refund_gives_the_money_back_and_flags_the_payment(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        body = {"lines": [{"order_line_id": str(sold.order_line_id), "quantity": "1"}], "reason": "Returned"}
        made = (await refund(razorpay_client, sold, body | {"restock": True})).json()
        rid = made["razorpay_refund_id"]
        fake_razorpay.settle_refund(rid, "failed")
        assert await deliver(razorpay_client, fake_razorpay, sold, rid, "failed", 11800) == "failed"
        assert await deliver(razorpay_client, fake_razorpay, sold, rid, "failed", 11800) == "duplicate"
        assert (
            await deliver(razorpay_client, fake_razorpay, sold, rid, "processed", 11800) == "ignored_stale"
        )  # failed is final
        row = await read(razorpay_client, sold, f"refunds/{made['id']}")
        assert (row["status"], row["processed_at"]) == ("failed", None) and row["failure_reason"]
        # the credit note and the returned unit stay; the money is the customer's advance again
        assert len(await credit_notes_of(razorpay_client, sold)) == 1
        assert await sold.shop.on_hand(sold.product) == D("7")
        receipt = await read(razorpay_client, sold, f"receipts/{sold.receipt['id']}")
        assert (receipt["amount_refunded"], receipt["amount_unallocated"]) == ("0.00", "118.00")
        assert await balance(razorpay_client, sold) == D("-118.00")
        payment = await payment_row(razorpay_app, sold)
        assert (payment.amount_refunded, payment.refund_due) == (D("0.00"), True)
        ledger = await read(razorpay_client, sold, f"customers/{sold.shop.customer['id']}/ledger")
        kinds = [entry["type"] for entry in ledger["items"]]
        assert kinds.count("refund") == 1 and kinds.count("refund_failed") == 1
        assert ledger["closing_balance"] == "-118.00"
        # the flagged payment's advance goes back through its own route, once
        headers = sold.owner.headers | {"Idempotency-Key": str(uuid.uuid4())}
        path = f"{API}/online-payments/{sold.payment_id}/refund"
        again = await razorpay_client.post(path, json={"reason": "Retry"}, headers=headers)
        assert again.status_code == 201, again.text
        assert (again.json()["amount"], again.json()["credit_note_id"]) == ("118.00", None)
        assert (await payment_row(razorpay_app, sold)).refund_due is False
        assert await balance(razorpay_client, sold) == D("0.00")
        headers = sold.owner.headers | {"Idempotency-Key": str(uuid.uuid4())}
        assert_problem(await razorpay_client.post(path, json={"reason": "x"}, headers=headers), 409, "refund-not-due")

    async def test_a_refund_made_in_the_dashboard_is_recorded_once(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        async with httpx.AsyncClient(
            base_url=fake_razorpay.url, auth=(sold.account.key_id, sold.account.key_secret)
        ) as rzp:
            made = await rzp.post(f"/v1/payments/{sold.razorpay_payment_id}/refund", json={"amount": 10000})
        rid = made.json()["id"]
        assert await deliver(razorpay_client, fake_razorpay, sold, rid, "processed", 10000) == "recorded_external"
        assert await deliver(razorpay_client, fake_razorpay, sold, rid, "processed", 10000) == "duplicate"
        assert await deliver(razorpay_client, fake_razorpay, sold, rid, "created", 10000) == "ignored_stale"
        (row,) = await refunds_of(razorpay_client, sold)
        assert (row["amount"], row["status"], row["credit_note_id"]) == ("100.00", "processed", None)
        assert row["reason"].startswith("Refunded in the Razorpay dashboard")
        # no credit note: the invoice owes what went back, and so does the customer
        invoice = await read(razorpay_client, sold, f"invoices/{sold.invoice['id']}")
        assert (invoice["balance_due"], invoice["status"]) == ("100.00", "partially_paid")
        assert await balance(razorpay_client, sold) == D("100.00")
        # what remains refundable is what the dashboard left
        assert_problem(await refund(razorpay_client, sold, {"amount": "372.01", "reason": "x"}), 409)

    async def test_one_failed_event_replayed_20_times_gives_the_money_back_once(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        made = (await refund(razorpay_client, sold, {"amount": "200.00", "reason": "x"})).json()
        rid, event_id = made["razorpay_refund_id"], f"evt_{uuid.uuid4().hex[:14]}"

        async def replay() -> str:
            return await deliver(razorpay_client, fake_razorpay, sold, rid, "failed", 20000, event_id=event_id)

        answers = list(await asyncio.gather(*(replay() for _ in range(10))))
        answers += [await replay() for _ in range(10)]
        assert sorted(answers) == ["duplicate"] * 19 + ["failed"]
        payment = await payment_row(razorpay_app, sold)
        assert (payment.amount_refunded, payment.refund_due) == (D("0.00"), True)
        receipt = await read(razorpay_client, sold, f"receipts/{sold.receipt['id']}")
        assert (receipt["amount_refunded"], receipt["amount_unallocated"]) == ("0.00", "200.00")
        assert await balance(razorpay_client, sold) == D("-200.00")


class TestRetryAfterTimeout:
    async def test_a_retry_with_the_same_key_after_a_timeout_refunds_once(
        self, razorpay_client, fake_razorpay, razorpay_app, day
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day)
        body = {"amount": "50.00", "reason": "x"}
        fake_razorpay.stall_next(3, seconds=7)  # made at Razorpay; every answer (1 + 2 retries) too late
        assert_problem(await refund(razorpay_client, sold, body, key="retry-key-0001"), 503)
        await stalled_refund(fake_razorpay, sold)
        assert await refunds_of(razorpay_client, sold) == []
        ok = await refund(razorpay_client, sold, body, key="retry-key-0001")
        assert ok.status_code == 201, ok.text
        (at_gateway,) = await fake_refunds(fake_razorpay, sold)
        assert ok.json()["razorpay_refund_id"] == at_gateway["id"]
        assert [r["id"] for r in await refunds_of(razorpay_client, sold)] == [ok.json()["id"]]

    @pytest.mark.parametrize(
        ("overpaid", "code"),
        [
            # the webhook recorded the 50.00 as a refund without a credit note, released from the
            # invoice (it owes that again): the retry's credit note only settles that, nothing paid
            # is left for it to give back
            ("0.00", "nothing-to-refund"),
            # the webhook took the 50.00 from the customer's advance: the retry computes the same
            # refund, Razorpay answers the refund it made, and it is recorded already
            ("80.00", "refund-already-recorded"),
        ],
    )
    async def test_when_the_webhook_came_first_the_retry_is_409_and_nothing_doubles(
        self, razorpay_client, fake_razorpay, razorpay_app, day, overpaid, code
    ):
        sold = await sell(razorpay_client, fake_razorpay, razorpay_app, day, overpaid=overpaid)
        body = {"amount": "50.00", "reason": "x"}
        fake_razorpay.stall_next(3, seconds=7)  # every attempt (1 + 2 retries)
        assert_problem(await refund(razorpay_client, sold, body, key="retry-key-0002"), 503)
        at_gateway = await stalled_refund(fake_razorpay, sold)
        assert (
            await deliver(razorpay_client, fake_razorpay, sold, at_gateway["id"], "processed", 5000)
            == "recorded_external"
        )
        assert_problem(await refund(razorpay_client, sold, body, key="retry-key-0002"), 409, code)
        assert await credit_notes_of(razorpay_client, sold) == []
        assert len(await fake_refunds(fake_razorpay, sold)) == 1
        assert [r["amount"] for r in await refunds_of(razorpay_client, sold)] == ["50.00"]
        assert (await payment_row(razorpay_app, sold)).amount_refunded == D("50.00")


class TestThroughTheOrderFlow:
    """An order placed, paid (sandbox Checkout, verified) and confirmed by the orders' own services,
    then refunded in full: the sandbox gateway, the app in sandbox mode."""

    async def test_a_confirmed_order_refunded_in_full_is_cancelled_and_restocked(self, client, app, today):
        shop = await OrderShop.open_with_customer(app, client, await make_tenant(client))
        tea = await shop.product(client, stock="5")
        order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2"}])
        placed = await shop.place(client, order["id"], "online")
        assert placed.status_code == 200, placed.text
        verified = await shop.post(
            client, f"/orders/{order['id']}/verify-payment", placed.json()["checkout"]["sandbox_payment"]
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["status"] == "confirmed"
        assert await shop.stock_of(tea["id"]) == (3, 0)
        headers = shop.account.headers | {"Idempotency-Key": str(uuid.uuid4())}
        body = {"full": True, "reason": "Customer cancelled", "restock": True}
        response = await client.post(f"{API}/orders/{order['id']}/refund", json=body, headers=headers)
        assert response.status_code == 201, response.text
        made = response.json()
        assert (made["amount"], made["status"], made["restock"]) == ("236.00", "processed", True)
        assert made["razorpay_refund_id"].startswith("rfnd_sandbox")
        after = await shop.get(client, order["id"])
        assert after["status"] == "cancelled"
        assert await shop.stock_of(tea["id"]) == (5, 0)
        assert "order.cancelled" in await shop.order_audit(order["id"])
        again = await client.post(
            f"{API}/orders/{order['id']}/refund", json=body, headers=headers | {"Idempotency-Key": str(uuid.uuid4())}
        )
        assert_problem(again, 409)


class TestFlaggedPayments:
    async def test_a_payment_for_a_voided_invoice_is_refunded_from_its_advance(self, client, app, today):
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        invoice = await party.invoice(client)  # 1,000 + 18 %
        headers = owner.headers | {"Idempotency-Key": str(uuid.uuid4())}
        made = (await client.post(f"{API}/invoices/{invoice['id']}/payment-link", headers=headers)).json()
        voided = await client.post(
            f"{API}/invoices/{invoice['id']}/void", json={"reason": "Raised twice"}, headers=owner.headers
        )
        assert voided.status_code == 200, voided.text
        parts = urlsplit(made["sandbox_pay_url"])
        assert (await client.get(f"{parts.path}?{parts.query}")).status_code == 200
        payment_path = f"{API}/online-payments/{made['payment']['id']}"
        payment = (await client.get(payment_path, headers=owner.headers)).json()
        assert (payment["status"], payment["refund_due"]) == ("paid", True)

        async def refund_it(body: dict) -> httpx.Response:
            headers = owner.headers | {"Idempotency-Key": str(uuid.uuid4())}
            return await client.post(f"{payment_path}/refund", json=body, headers=headers)

        assert_problem(await refund_it({"amount": "1180.01", "reason": "x"}), 409, "refund-exceeds-paid")
        part = await refund_it({"amount": "180.00", "reason": "Invoice voided"})
        assert part.status_code == 201, part.text
        assert (await client.get(payment_path, headers=owner.headers)).json()["refund_due"] is True
        rest = await refund_it({"reason": "Invoice voided"})
        assert rest.status_code == 201, rest.text
        assert (rest.json()["amount"], rest.json()["status"], rest.json()["credit_note_id"]) == (
            "1000.00",
            "processed",
            None,
        )
        assert (await client.get(payment_path, headers=owner.headers)).json()["refund_due"] is False
        assert_problem(await refund_it({"reason": "Again"}), 409, "refund-not-due")
        listed = await client.get(
            f"{API}/refunds",
            params={"online_payment_id": made["payment"]["id"], "status": "processed", "sort": "amount"},
            headers=owner.headers,
        )
        assert [r["amount"] for r in listed.json()["items"]] == ["180.00", "1000.00"]
        customer = (await client.get(f"{API}/customers/{party.customer['id']}", headers=owner.headers)).json()
        assert customer["balance"] == "0.00"
