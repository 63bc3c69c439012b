"""An order's payment captured on the tenant's own Razorpay account (the fake): the reservation
becomes a sale in one transaction, exactly once, whatever the number and order of the webhooks
and verifies; paid after the hold ended; failed then paid; captures and expiries racing."""

import asyncio
import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models.billing.receipt import Receipt
from app.models.commerce.online_payment import OnlinePayment
from app.models.platform.audit import AuditLog
from app.services.platform.scheduler import run_due
from tests.api.v1.ordering import OrderShop
from tests.factories import API, make_tenant
from tests.fake_razorpay import configure_gateway, fake_razorpay, razorpay_app, razorpay_client, webhook_path

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures


class Online:
    """A shop with its own Razorpay account on the fake, placing orders paid online."""

    def __init__(self, app, client, fake, shop: OrderShop, account, gateway: dict) -> None:
        self.app, self.client, self.fake, self.shop, self.account, self.gateway = (
            app,
            client,
            fake,
            shop,
            account,
            gateway,
        )

    async def placed(self, product: dict, quantity: str = "2") -> tuple[dict, str]:
        """An order placed online: (the order, its gateway order id)."""
        order = await self.shop.draft(self.client, [{"product_id": product["id"], "quantity": quantity}])
        placed = await self.shop.place(self.client, order["id"], "online")
        assert placed.status_code == 200, placed.text
        return placed.json(), placed.json()["checkout"]["order_id"]

    async def webhook(self, kind: str, gateway_order: str, payment_id: str, amount: int, event_id: str | None = None):
        body, headers = self.fake.payment_event(
            self.account, kind, gateway_order, payment_id, amount=amount, event_id=event_id
        )
        return await self.client.post(webhook_path(self.gateway), content=body, headers=headers)

    async def verify(self, order_id: str, paid: dict):
        return await self.shop.post(self.client, f"/orders/{order_id}/verify-payment", paid)

    async def expire(self, order: dict) -> None:
        hold_until = self.app.state.runtime.clock() + timedelta(
            minutes=self.app.state.runtime.settings.order_hold_minutes
        )
        summary = await run_due(self.app.state.runtime, hold_until, tenants=[self.shop.tenant])
        assert summary.failed == [] and summary.orders_expired >= 1

    async def payment_row(self, order_id: str) -> OnlinePayment:
        async with self.app.state.runtime.db.transaction(self.shop.tenant) as session:
            stmt = select(OnlinePayment).where(OnlinePayment.order_id == uuid.UUID(order_id))
            return (await session.execute(stmt)).scalar_one()

    async def receipts(self) -> list[Receipt]:
        async with self.app.state.runtime.db.transaction(self.shop.tenant) as session:
            return list((await session.execute(select(Receipt))).scalars())


@pytest.fixture
async def online(razorpay_app, razorpay_client, fake_razorpay) -> Online:
    client = razorpay_client
    owner = await make_tenant(client)
    shop = await OrderShop.open_with_customer(razorpay_app, client, owner)
    account = fake_razorpay.account()
    gateway = await configure_gateway(client, owner, account)
    return Online(razorpay_app, client, fake_razorpay, shop, account, gateway)


async def test_checkout_verify_confirms_the_order_once(online):
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="5")
    order, gateway_order = await online.placed(tea)
    assert order["checkout"]["key"] == online.account.key_id and order["checkout"]["amount"] == 23600
    paid = online.fake.pay(gateway_order)
    forged = await online.verify(order["id"], paid | {"razorpay_signature": "0" * 64})
    assert (forged.status_code, forged.json()["code"]) == (400, "signature-invalid")
    assert (await shop.get(client, order["id"]))["status"] == "placed"
    confirmed = await online.verify(order["id"], paid)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert (body["status"], body["amount_paid"], body["needs_attention"]) == ("confirmed", "236.00", False)
    invoice = (await client.get(f"{API}/invoices/{body['invoice_id']}", headers=shop.account.headers)).json()
    assert (invoice["status"], invoice["total"], invoice["amount_paid"]) == ("paid", "236.00", "236.00")
    assert await shop.stock_of(tea["id"]) == (3, 0)  # taken once, from the reservation
    # the same verify again, then the webhooks: nothing more
    assert (await online.verify(order["id"], paid)).json() == body
    for kind in ("payment.captured", "order.paid"):
        response = await online.webhook(kind, gateway_order, paid["razorpay_payment_id"], 23600)
        assert response.status_code == 200, response.text
    rows = await shop.rows()
    assert (rows["issued"], rows["sales"], rows["receipts"], rows["reservations"]) == (1, 1, 1, 1)
    [receipt] = await online.receipts()
    assert (receipt.mode, receipt.reference, receipt.amount, receipt.amount_allocated) == (
        "razorpay",
        paid["razorpay_payment_id"],
        236,
        236,
    )
    assert await shop.order_audit(order["id"]) == ["order.created", "order.placed", "order.confirmed"]
    fulfilled = await shop.post(client, f"/orders/{order['id']}/fulfil")
    assert fulfilled.status_code == 200 and fulfilled.json()["status"] == "fulfilled"


async def test_webhooks_replayed_20_times_and_out_of_order_have_one_effect(online):
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="5")
    order, gateway_order = await online.placed(tea, "3")
    paid = online.fake.pay(gateway_order)
    payment_id = paid["razorpay_payment_id"]
    deliveries = [("payment.captured", "evt_captured")] * 20 + [("order.paid", "evt_order_paid")] * 5
    deliveries += [("payment.failed", "evt_failed_late")] * 3  # a failure reported after the capture
    random.shuffle(deliveries)

    async def deliver(kind: str, event_id: str):
        return await online.webhook(kind, gateway_order, payment_id, 35400, event_id=event_id)

    responses = await asyncio.gather(*(deliver(*d) for d in deliveries), online.verify(order["id"], paid))
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses if r.status_code != 200][:2]
    final = await shop.get(client, order["id"])
    assert (final["status"], final["amount_paid"]) == ("confirmed", "354.00")
    assert final["payments"][0]["status"] == "paid"
    rows = await shop.rows()
    assert (rows["issued"], rows["sales"], rows["receipts"]) == (1, 1, 1)
    assert await shop.stock_of(tea["id"]) == (2, 0)


async def test_a_failed_attempt_keeps_the_order_placed_until_paid(online):
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="5")
    order, gateway_order = await online.placed(tea)
    failed = await online.webhook("payment.failed", gateway_order, "pay_FailedAttempt01", 23600)
    assert failed.status_code == 200
    still = await shop.get(client, order["id"])
    assert (still["status"], still["payments"][0]["status"]) == ("placed", "failed")
    assert await shop.stock_of(tea["id"]) == (5, 2)
    paid = online.fake.pay(gateway_order)
    assert (
        await online.webhook("payment.captured", gateway_order, paid["razorpay_payment_id"], 23600)
    ).status_code == 200
    assert (await shop.get(client, order["id"]))["status"] == "confirmed"
    assert await shop.stock_of(tea["id"]) == (3, 0)


async def test_paid_after_the_hold_ended_with_the_stock_still_there(online):
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="5")
    order, gateway_order = await online.placed(tea)
    await online.expire(order)
    expired = await shop.get(client, order["id"])
    assert (expired["status"], expired["cancel_reason"], expired["payments"][0]["status"]) == (
        "cancelled",
        "hold_expired",
        "expired",
    )
    assert await shop.stock_of(tea["id"]) == (5, 0)
    paid = online.fake.pay(gateway_order)
    response = await online.webhook("payment.captured", gateway_order, paid["razorpay_payment_id"], 23600)
    assert response.status_code == 200, response.text
    late = await shop.get(client, order["id"])
    assert (late["status"], late["cancelled_at"], late["cancel_reason"], late["needs_attention"]) == (
        "confirmed",
        None,
        None,
        False,
    )
    assert late["invoice_id"] and await shop.stock_of(tea["id"]) == (3, 0)
    assert await shop.order_audit(order["id"]) == [
        "order.created",
        "order.placed",
        "order.hold_expired",
        "order.confirmed_after_expiry",
    ]


async def test_paid_after_the_hold_ended_and_the_stock_was_sold_is_never_oversold(online):
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="2")
    order, gateway_order = await online.placed(tea)
    await online.expire(order)
    sold = await shop.sell(client, [{"product_id": tea["id"], "quantity": "2"}], [{"mode": "cash", "amount": "236.00"}])
    assert sold.status_code == 201, sold.text
    paid = online.fake.pay(gateway_order)
    for _ in range(3):  # replays change nothing more
        response = await online.webhook("payment.captured", gateway_order, paid["razorpay_payment_id"], 23600)
        assert response.status_code == 200, response.text
    kept = await shop.get(client, order["id"])
    assert (kept["status"], kept["needs_attention"], kept["amount_paid"], kept["invoice_id"]) == (
        "cancelled",
        True,
        "236.00",
        None,
    )
    assert "stock" in kept["attention_reason"]
    assert await shop.stock_of(tea["id"]) == (0, 0)
    payment = await online.payment_row(order["id"])
    assert (payment.status, payment.refund_due, payment.receipt_id is not None) == ("paid", True, True)
    advance = next(r for r in await online.receipts() if r.mode == "razorpay")
    assert (advance.amount, advance.amount_allocated) == (236, 0)  # the customer's advance
    flagged = await client.get(f"{API}/orders", params={"needs_attention": "true"}, headers=shop.account.headers)
    assert [o["id"] for o in flagged.json()["items"]] == [order["id"]]


async def test_a_payment_for_an_order_the_shop_cancelled_is_kept_as_an_advance(online):
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="5")
    order, gateway_order = await online.placed(tea)
    assert (await shop.post(client, f"/orders/{order['id']}/cancel")).status_code == 200
    paid = online.fake.pay(gateway_order)
    assert (await online.verify(order["id"], paid)).status_code == 200
    kept = await shop.get(client, order["id"])
    assert (kept["status"], kept["cancel_reason"], kept["needs_attention"]) == ("cancelled", "cancelled", True)
    assert await shop.stock_of(tea["id"]) == (5, 0)
    payment = await online.payment_row(order["id"])
    assert payment.refund_due is True
    # the payment's every change is audited too: opened by place, closed by the cancel, then paid
    async with online.app.state.runtime.db.transaction(shop.tenant) as session:
        stmt = (
            select(AuditLog.action)
            .where(AuditLog.entity_type == "online_payment", AuditLog.entity_id == payment.id)
            .order_by(AuditLog.at, AuditLog.id)
        )
        trail = list((await session.execute(stmt)).scalars())
    assert trail == ["online_payment.created", "online_payment.cancelled", "online_payment.paid"]


async def test_captures_and_expiries_racing_on_one_order_have_one_outcome(online):
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="40")
    orders = [await online.placed(tea, "2") for _ in range(8)]
    hold_until = online.app.state.runtime.clock() + timedelta(
        minutes=online.app.state.runtime.settings.order_hold_minutes
    )

    async def capture(order: dict, gateway_order: str):
        paid = online.fake.pay(gateway_order)
        return await online.webhook("payment.captured", gateway_order, paid["razorpay_payment_id"], 23600)

    async def expire():
        return await run_due(online.app.state.runtime, hold_until, tenants=[shop.tenant])

    results = await asyncio.gather(*(capture(*o) for o in orders), expire(), expire())
    assert all(r.status_code == 200 for r in results[:-2]), [r.text for r in results[:-2] if r.status_code != 200]
    assert all(s.failed == [] for s in results[-2:])
    assert sum(s.orders_expired for s in results[-2:]) <= len(orders)
    for order, _ in orders:
        final = await shop.get(client, order["id"])
        assert final["status"] == "confirmed" and final["invoice_id"], final
        trail = await shop.order_audit(order["id"])
        assert trail in (
            ["order.created", "order.placed", "order.confirmed"],
            ["order.created", "order.placed", "order.hold_expired", "order.confirmed_after_expiry"],
        ), trail
    assert await shop.stock_of(tea["id"]) == (40 - 16, 0)  # each order sold once, nothing left reserved
    rows = await shop.rows()
    assert (rows["issued"], rows["sales"], rows["receipts"]) == (8, 8, 8)


async def test_a_capture_that_cannot_be_invoiced_is_recorded_all_the_same(online):
    """A product archived between place and payment: the invoice is refused, the capture is not
    (the money is the customer's advance, flagged); the job then releases the hold."""
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="5")
    order, gateway_order = await online.placed(tea)
    archived = await client.patch(
        f"{API}/products/{tea['id']}", json={"is_archived": True}, headers=shop.account.headers
    )
    assert archived.status_code == 200, archived.text
    paid = online.fake.pay(gateway_order)
    response = await online.webhook("payment.captured", gateway_order, paid["razorpay_payment_id"], 23600)
    assert response.status_code == 200, response.text
    kept = await shop.get(client, order["id"])
    assert (kept["status"], kept["needs_attention"], kept["amount_paid"], kept["invoice_id"]) == (
        "placed",
        True,
        "236.00",
        None,
    )
    assert "product-archived" in kept["attention_reason"]
    rows = await shop.rows()
    assert (rows["invoices"], rows["sales"], rows["receipts"]) == (0, 0, 1)  # no invoice, no number drawn
    assert (await online.payment_row(order["id"])).refund_due is True
    assert await shop.stock_of(tea["id"]) == (5, 2)
    await online.expire(order)
    assert (await shop.get(client, order["id"]))["status"] == "cancelled"
    assert await shop.stock_of(tea["id"]) == (5, 0)


async def test_refunding_the_money_of_a_flagged_order_takes_it_off_the_attention_list(online):
    """An order flagged `needs_attention` because its late payment could not buy the goods is
    resolved by refunding that payment: once the money is back, the order leaves the list of
    orders needing attention (and a refund that fails puts it back)."""
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="2")
    order, gateway_order = await online.placed(tea)
    await online.expire(order)
    sold = await shop.sell(client, [{"product_id": tea["id"], "quantity": "2"}], [{"mode": "cash", "amount": "236.00"}])
    assert sold.status_code == 201, sold.text
    paid = online.fake.pay(gateway_order)
    assert (await online.webhook("payment.captured", gateway_order, paid["razorpay_payment_id"], 23600)).is_success
    assert (await shop.get(client, order["id"]))["needs_attention"] is True
    payment = await online.payment_row(order["id"])
    headers = shop.account.headers | {"Idempotency-Key": str(uuid.uuid4())}
    refunded = await client.post(
        f"{API}/online-payments/{payment.id}/refund", json={"reason": "Out of stock"}, headers=headers
    )
    assert refunded.status_code == 201, refunded.text
    resolved = await shop.get(client, order["id"])
    assert (resolved["needs_attention"], resolved["amount_refunded"]) == (False, "236.00")
    flagged = await client.get(f"{API}/orders", params={"needs_attention": "true"}, headers=shop.account.headers)
    assert flagged.json()["items"] == []
    assert "order.attention_resolved" in await shop.order_audit(order["id"])
    # the refund fails at the gateway: the money is the customer's advance again, the order flagged again
    refund = refunded.json()
    body, headers = online.fake.refund_event(
        online.account, "refund.failed", refund["razorpay_refund_id"], payment_id=paid["razorpay_payment_id"]
    )
    assert (await client.post(webhook_path(online.gateway), content=body, headers=headers)).is_success
    again = await shop.get(client, order["id"])
    assert (again["needs_attention"], again["amount_refunded"]) == (True, "0.00")


async def test_a_second_payment_captured_for_a_paid_order_is_recorded_and_flagged(online):
    """The buyer paid the same gateway order twice (two tabs; Razorpay captures both): the second
    payment is money received too. It is recorded once, as the customer's advance, on a payment of
    its own flagged refund_due, and refunded through POST /online-payments/{id}/refund."""
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="5")
    order, gateway_order = await online.placed(tea)
    first, second = online.fake.pay(gateway_order), online.fake.pay(gateway_order)
    assert (await online.verify(order["id"], first)).status_code == 200
    for _ in range(3):  # the second capture, replayed, through the webhook and the verify
        response = await online.webhook("payment.captured", gateway_order, second["razorpay_payment_id"], 23600)
        assert response.status_code == 200, response.text
        assert (await online.verify(order["id"], second)).status_code == 200
    body = await shop.get(client, order["id"])
    assert (body["status"], body["amount_paid"], body["needs_attention"]) == ("confirmed", "472.00", True)
    receipts = sorted(await online.receipts(), key=lambda r: r.number)
    assert [(r.reference, r.amount, r.amount_allocated) for r in receipts] == [
        (first["razorpay_payment_id"], 236, 236),
        (second["razorpay_payment_id"], 236, 0),
    ]
    assert (await shop.rows())["issued"] == 1 and await shop.stock_of(tea["id"]) == (3, 0)
    listed = await client.get(f"{API}/online-payments", params={"refund_due": "true"}, headers=shop.account.headers)
    [extra] = listed.json()["items"]
    assert (extra["razorpay_payment_id"], extra["status"], extra["amount_paid"]) == (
        second["razorpay_payment_id"],
        "paid",
        "236.00",
    )
    headers = shop.account.headers | {"Idempotency-Key": str(uuid.uuid4())}
    refunded = await client.post(
        f"{API}/online-payments/{extra['id']}/refund", json={"reason": "Paid twice"}, headers=headers
    )
    assert refunded.status_code == 201, refunded.text
    assert (await shop.get(client, order["id"]))["needs_attention"] is False


async def test_using_the_flagged_advance_on_another_invoice_clears_the_flags(online):
    """The documented other way out of a flagged late payment: its advance allocated to another
    invoice of the customer (POST /receipts/{id}/allocate). Once nothing of it is left to refund,
    the payment is no longer refund_due and the order no longer needs attention."""
    shop, client = online.shop, online.client
    tea = await shop.product(client, stock="2")
    order, gateway_order = await online.placed(tea)
    await online.expire(order)
    sold = await shop.sell(client, [{"product_id": tea["id"], "quantity": "2"}], [{"mode": "cash", "amount": "236.00"}])
    assert sold.status_code == 201, sold.text
    paid = online.fake.pay(gateway_order)
    assert (await online.webhook("payment.captured", gateway_order, paid["razorpay_payment_id"], 23600)).is_success
    payment = await online.payment_row(order["id"])
    assert payment.refund_due is True
    other = await shop.product(client, stock="10")
    owed = await shop.sell(
        client, [{"product_id": other["id"], "quantity": "3"}], [], customer_id=shop.customer["id"], on_credit=True
    )  # 3 x 118 = 354.00, unpaid
    assert owed.status_code == 201, owed.text
    invoice_id = owed.json()["invoice_id"]
    path = f"{API}/receipts/{payment.receipt_id}/allocate"
    part = {"allocations": [{"invoice_id": invoice_id, "amount": "200.00"}]}
    assert (await client.post(path, json=part, headers=shop.account.headers)).status_code == 200
    assert (await online.payment_row(order["id"])).refund_due is True  # 36.00 of it is still to go back
    rest = {"allocations": [{"invoice_id": invoice_id, "amount": "36.00"}]}
    assert (await client.post(path, json=rest, headers=shop.account.headers)).status_code == 200
    assert (await online.payment_row(order["id"])).refund_due is False
    assert (await shop.get(client, order["id"]))["needs_attention"] is False
