"""/orders: drafts and lines priced like an invoice, place (all or nothing reservations, zero lines,
pay later), cancel, fulfil, the hold's expiry in the scheduled job, and the audit of each change."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from app.models.commerce.order import SalesOrder
from app.services.platform.scheduler import run_due
from tests.api.v1.members import add_member
from tests.api.v1.ordering import OrderShop
from tests.factories import API, make_tenant

D = Decimal


@pytest.fixture
async def shop(app, client, today) -> OrderShop:
    return await OrderShop.open_with_customer(app, client, await make_tenant(client))


async def test_a_draft_is_priced_like_an_invoice_and_its_lines_change(shop, client):
    tea = await shop.product(client, stock="5")
    salt = await shop.product(client, stock=None, sale_price="40.00", gst_rate="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2", "discount": "10.00"}])
    assert (order["status"], order["supply_type"], order["place_of_supply"]) == ("draft", "inter_state", "27")
    [line] = order["lines"]
    # 2 x 100.00 - 10.00 = 190.00 taxable, IGST 18 % = 34.20 (company in 29, customer in 27)
    assert (line["taxable_value"], line["tax"], line["total"], line["description"]) == (
        "190.00",
        "34.20",
        "224.20",
        tea["name"],
    )
    assert (order["taxable_value"], order["tax_total"], order["total"]) == ("190.00", "34.20", "224.00")
    assert order["round_off"] == "-0.20"
    # quantities beyond the stock are allowed in a draft
    added = await shop.post(client, f"/orders/{order['id']}/lines", {"product_id": salt["id"], "quantity": "30"})
    assert added.status_code == 201, added.text
    assert [ln["total"] for ln in added.json()["lines"]] == ["224.20", "1260.00"]
    again = await shop.post(client, f"/orders/{order['id']}/lines", {"product_id": salt["id"], "quantity": "1"})
    assert (again.status_code, again.json()["code"]) == (409, "order-line-exists")
    salt_line = added.json()["lines"][1]["id"]
    changed = await client.patch(
        f"{API}/orders/{order['id']}/lines/{salt_line}", json={"quantity": "3"}, headers=shop.account.headers
    )
    assert changed.status_code == 200 and changed.json()["lines"][1]["total"] == "126.00"
    finer = await client.patch(
        f"{API}/orders/{order['id']}/lines/{salt_line}", json={"quantity": "1.5"}, headers=shop.account.headers
    )
    assert (finer.status_code, finer.json()["code"]) == (400, "quantity-too-precise")
    removed = await client.delete(f"{API}/orders/{order['id']}/lines/{line['id']}", headers=shop.account.headers)
    assert [ln["product_id"] for ln in removed.json()["lines"]] == [salt["id"]]
    header = await client.patch(f"{API}/orders/{order['id']}", json={"notes": "Gate 2"}, headers=shop.account.headers)
    assert header.status_code == 200 and header.json()["notes"] == "Gate 2"
    assert await shop.order_audit(order["id"]) == [
        "order.created",
        "order.line_added",
        "order.line_updated",
        "order.line_removed",
        "order.updated",
    ]
    listed = (await client.get(f"{API}/orders?status=draft", headers=shop.account.headers)).json()["items"]
    assert [o["id"] for o in listed] == [order["id"]]


async def test_unknown_and_archived_products_are_refused(shop, client):
    response = await client.post(
        f"{API}/orders",
        json={
            "company_id": shop.company["id"],
            "customer_id": shop.customer["id"],
            "lines": [{"product_id": str(uuid.uuid4()), "quantity": "1"}],
        },
        headers=shop.account.headers,
    )
    assert (response.status_code, response.json()["code"]) == (404, "product-not-found")
    listed = (await client.get(f"{API}/orders", headers=shop.account.headers)).json()["items"]
    assert listed == []  # nothing half-written


async def test_zero_lines_cannot_be_placed(shop, client):
    order = await shop.draft(client, [])
    response = await shop.place(client, order["id"])
    assert (response.status_code, response.json()["code"]) == (409, "order-empty")
    assert (await shop.get(client, order["id"]))["status"] == "draft"


async def test_place_reserves_all_or_nothing_naming_the_short_lines(shop, client):
    tea, salt = await shop.product(client, stock="5"), await shop.product(client, stock="1")
    order = await shop.draft(
        client, [{"product_id": tea["id"], "quantity": "3"}, {"product_id": salt["id"], "quantity": "2"}]
    )
    short = await shop.place(client, order["id"])
    assert (short.status_code, short.json()["code"]) == (409, "insufficient-stock")
    assert short.json()["lines"] == [{"position": 2, "product_id": salt["id"], "requested": "2", "available": "1"}]
    assert await shop.stock_of(tea["id"]) == (5, 0) and await shop.stock_of(salt["id"]) == (1, 0)
    assert (await shop.get(client, order["id"]))["status"] == "draft"
    line = (await shop.get(client, order["id"]))["lines"][1]["id"]
    await client.patch(f"{API}/orders/{order['id']}/lines/{line}", json={"quantity": "1"}, headers=shop.account.headers)
    placed = await shop.place(client, order["id"])
    assert placed.status_code == 200, placed.text
    body = placed.json()
    assert (body["status"], body["payment_method"], body["hold_until"], body["checkout"]) == (
        "placed",
        "pay_later",
        None,
        None,
    )
    assert body["total"] == "472.00" and [ln["unit_price"] for ln in body["lines"]] == ["100.0000", "100.0000"]
    assert await shop.stock_of(tea["id"]) == (5, 3) and await shop.stock_of(salt["id"]) == (1, 1)
    # a placed order no longer changes
    again = await client.patch(f"{API}/orders/{order['id']}", json={"notes": "x"}, headers=shop.account.headers)
    assert (again.status_code, again.json()["code"]) == (409, "order-not-draft")
    twice = await shop.place(client, order["id"])
    assert (twice.status_code, twice.json()["code"]) == (409, "order-not-draft")


async def test_placing_fixes_the_prices(shop, client):
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "1"}])
    assert (await shop.place(client, order["id"])).status_code == 200
    changed = await client.patch(
        f"{API}/products/{tea['id']}", json={"sale_price": "150.00"}, headers=shop.account.headers
    )
    assert changed.status_code == 200, changed.text
    read = await shop.get(client, order["id"])
    assert (read["total"], read["lines"][0]["unit_price"], read["lines"][0]["total"]) == (
        "118.00",
        "100.0000",
        "118.00",
    )


async def test_cancel_releases_the_reservation_and_is_final(shop, client):
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "4"}])
    draft_cancel = await shop.post(client, f"/orders/{order['id']}/cancel")
    assert (draft_cancel.status_code, draft_cancel.json()["code"]) == (409, "order-not-cancellable")
    # the problem's `status` is the HTTP status (RFC 9457), the order's own is `order_status`
    assert (draft_cancel.json()["status"], draft_cancel.json()["order_status"]) == (409, "draft")
    assert (await shop.place(client, order["id"])).status_code == 200
    assert await shop.stock_of(tea["id"]) == (5, 4)
    cancelled = await shop.post(client, f"/orders/{order['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "cancelled")
    assert await shop.stock_of(tea["id"]) == (5, 0)
    again = await shop.post(client, f"/orders/{order['id']}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "order-not-cancellable")
    fulfil = await shop.post(client, f"/orders/{order['id']}/fulfil")
    assert (fulfil.status_code, fulfil.json()["code"]) == (409, "order-not-fulfillable")
    assert await shop.order_audit(order["id"]) == ["order.created", "order.placed", "order.cancelled"]


async def test_pay_later_is_invoiced_from_the_reservation_when_fulfilled(shop, client):
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2"}])
    assert (await shop.place(client, order["id"])).status_code == 200
    # the rest of the stock is still sellable at the counter; the reservation is not
    other = await shop.sell(client, [{"product_id": tea["id"], "quantity": "4"}], [{"mode": "cash", "amount": "500"}])
    assert (other.status_code, other.json()["code"]) == (409, "insufficient-stock")
    done = await shop.post(client, f"/orders/{order['id']}/fulfil")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "fulfilled" and body["confirmed_at"] and body["fulfilled_at"]
    invoice = (await client.get(f"{API}/invoices/{body['invoice_id']}", headers=shop.account.headers)).json()
    assert (invoice["status"], invoice["total"], invoice["amount_paid"]) == ("issued", "236.00", "0.00")
    assert await shop.stock_of(tea["id"]) == (3, 0)  # taken once: from the reservation
    rows = await shop.rows()
    assert (rows["issued"], rows["sales"], rows["receipts"]) == (1, 1, 0)
    # voiding the invoice gives the goods back (the sale movements are the invoice's)
    voided = await shop.post(client, f"/invoices/{body['invoice_id']}/void", {"reason": "Returned by courier"})
    assert voided.status_code == 200, voided.text
    assert await shop.stock_of(tea["id"]) == (5, 0)
    assert await shop.order_audit(order["id"]) == [
        "order.created",
        "order.placed",
        "order.confirmed",
        "order.fulfilled",
    ]


async def test_the_scheduled_job_expires_holds_once(shop, client, app, settings):
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "4"}])
    later = await shop.draft(client, [{"product_id": tea["id"], "quantity": "1"}])
    for o in (order, later):
        assert (await shop.place(client, o["id"])).status_code == 200
    # hold the first (a pay_later order has none): as an online order's would be
    now = app.state.runtime.clock()
    async with app.state.runtime.db.transaction(shop.tenant) as session:
        await session.execute(
            update(SalesOrder)
            .where(SalesOrder.id == uuid.UUID(order["id"]))
            .values(hold_until=now + timedelta(minutes=settings.order_hold_minutes))
        )
    before = await run_due(app.state.runtime, now + timedelta(minutes=14), tenants=[shop.tenant])
    assert before.orders_expired == 0 and (await shop.get(client, order["id"]))["status"] == "placed"
    due = now + timedelta(minutes=15)
    first = await run_due(app.state.runtime, due, tenants=[shop.tenant])
    second = await run_due(app.state.runtime, due + timedelta(minutes=1), tenants=[shop.tenant])
    assert (first.orders_expired, second.orders_expired, first.failed) == (1, 0, [])
    expired = await shop.get(client, order["id"])
    assert (expired["status"], expired["cancel_reason"]) == ("cancelled", "hold_expired")
    assert (await shop.get(client, later["id"]))["status"] == "placed"  # no hold: cash on delivery
    assert await shop.stock_of(tea["id"]) == (5, 1)
    assert await shop.order_audit(order["id"]) == ["order.created", "order.placed", "order.hold_expired"]


async def test_a_viewer_reads_but_does_not_write(shop, client, mailbox):
    viewer = await add_member(client, mailbox, shop.account, role="viewer")
    order = await shop.draft(client, [])
    assert (await client.get(f"{API}/orders/{order['id']}", headers=viewer.headers)).status_code == 200
    refused = await client.post(
        f"{API}/orders/{order['id']}/place",
        json={"payment_method": "pay_later"},
        headers=viewer.headers | {"Idempotency-Key": f"v-{uuid.uuid4()}"},
    )
    assert refused.status_code == 403
    deleted = await client.delete(f"{API}/orders/{order['id']}", headers=shop.account.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{API}/orders/{order['id']}", headers=shop.account.headers)).status_code == 404


async def test_an_order_its_invoice_could_not_carry_is_refused_at_place(shop, client):
    """Rule 46 (an unregistered customer billed ₹50,000 or more needs an address) is checked before
    any stock is held or money asked for, not at the capture."""
    safe = await shop.product(client, stock="2", sale_price="60000.00")
    order = await shop.draft(client, [{"product_id": safe["id"], "quantity": "1"}])
    refused = await shop.place(client, order["id"])
    assert (refused.status_code, refused.json()["code"]) == (400, "recipient-address-required")
    assert await shop.stock_of(safe["id"]) == (2, 0)
