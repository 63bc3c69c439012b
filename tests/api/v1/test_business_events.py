"""Business events: each listed type written by the real API flow in the transaction of the change
(a refused request writes none), read back through GET /events (filters, cursor paging, roles) and
counted per Indian day by GET /dashboard/activity."""

import uuid
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.fiscal import INDIA
from app.models.platform.events import BusinessEvent
from app.services.platform.events import EVENT_TYPES
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import line, make_invoice
from tests.api.v1.members import add_member
from tests.api.v1.ordering import OrderShop
from tests.api.v1.subscription_rows import put_on_plan
from tests.factories import API, Account, make_tenant


@pytest.fixture
async def shop(app, client, today) -> OrderShop:
    return await OrderShop.open_with_customer(app, client, await make_tenant(client))


async def events(client: httpx.AsyncClient, account: Account, **params) -> list[dict]:
    """Every event the filters match, oldest first (walked page by page, newest first, 2 a page)."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {"limit": 2, **params} | ({"cursor": cursor} if cursor else {})
        response = await client.get(f"{API}/events", params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return list(reversed(items))


async def of(client: httpx.AsyncClient, account: Account, resource_id: str) -> list[tuple[str, dict]]:
    return [(e["type"], e["payload"]) for e in await events(client, account, resource_id=resource_id)]


async def count_rows(app, tenant_id: str) -> int:
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        return (await session.execute(select(func.count()).select_from(BusinessEvent))).scalar_one()


async def post(client: httpx.AsyncClient, account: Account, path: str, body: dict) -> httpx.Response:
    return await client.post(f"{API}{path}", json=body, headers=account.headers)


async def test_documents_write_their_events_in_the_same_transaction(shop, client, app, today):
    owner = shop.account
    # registering started the subscription; making the customer wrote customer.created
    [(kind, started)] = await of(client, owner, owner.tenant_id)
    assert (kind, started["change"], started["previous_plan_code"]) == ("subscription.changed", "started", None)
    [(kind, customer)] = await of(client, owner, shop.customer["id"])
    assert kind == "customer.created"
    assert customer == {
        "customer_id": shop.customer["id"],
        "name": shop.customer["name"],
        "gstin": shop.customer["gstin"],
        "billing_state_code": shop.customer["billing_address"]["state_code"],
        "walk_in_company_id": None,
    }

    # issued, then paid in full by a receipt, which is voided, then the invoice voided
    invoice = await make_invoice(client, owner, shop.company, shop.customer, line(unit_price="500.00", gst_rate="0"))
    receipt_body = {
        "customer_id": shop.customer["id"],
        "company_id": shop.company["id"],
        "amount": "500.00",
        "receipt_date": today.isoformat(),
        "mode": "upi",
        "allocations": [{"invoice_id": invoice["id"], "amount": "500.00"}],
    }
    made = await post(client, owner, "/receipts", receipt_body)
    assert made.status_code == 201, made.text
    receipt = made.json()
    voided = await post(client, owner, f"/receipts/{receipt['id']}/void", {"reason": "Cheque bounced"})
    assert voided.status_code == 200, voided.text
    done = await post(client, owner, f"/invoices/{invoice['id']}/void", {"reason": "Raised in error"})
    assert done.status_code == 200, done.text
    history = await of(client, owner, invoice["id"])
    assert [kind for kind, _ in history] == ["invoice.issued", "invoice.paid", "invoice.voided"]
    issued, paid, void = (payload for _, payload in history)
    assert (issued["number"], issued["total"], issued["balance_due"]) == (invoice["number"], "500.00", "500.00")
    assert (issued["invoice_date"], issued["status"]) == (invoice["invoice_date"], "issued")
    assert (paid["status"], paid["amount_paid"], paid["balance_due"]) == ("paid", "500.00", "0.00")
    assert (paid["settled_by"], paid["settled_by_id"], paid["settled_on"]) == ("receipt", receipt["id"], str(today))
    assert (void["status"], void["balance_due"]) == ("void", "500.00")
    [(_, created), (_, receipt_void)] = await of(client, owner, receipt["id"])
    assert created["number"] == receipt["number"] and created["amount"] == "500.00"
    assert created["allocations"] == [{"invoice_id": invoice["id"], "amount": "500.00"}]
    assert receipt_void["status"] == "void" and receipt_void["released"] == created["allocations"]

    # a credit note closing an invoice: the note's event, then the invoice's paid
    credited = await make_invoice(client, owner, shop.company, shop.customer)
    note = await post(
        client, owner, "/credit-notes", {"invoice_id": credited["id"], "reason": "Returned", "full": True}
    )
    assert note.status_code == 201, note.text
    [(kind, note_payload)] = await of(client, owner, note.json()["id"])
    assert kind == "credit_note.created"
    assert (note_payload["invoice_id"], note_payload["total"], note_payload["is_full"]) == (
        credited["id"],
        "1180.00",
        True,
    )
    paid_by_note = await events(client, owner, type="invoice.paid", resource_id=credited["id"])
    assert [e["payload"]["settled_by_id"] for e in paid_by_note] == [note.json()["id"]]
    [note_event] = await events(client, owner, resource_id=note.json()["id"])
    assert note_event["seq"] < paid_by_note[0]["seq"]

    # refused after the note was written (a full note on a part-paid invoice): no event is left behind
    part_paid = await make_invoice(client, owner, shop.company, shop.customer)
    receipt_body |= {"amount": "100.00", "allocations": [{"invoice_id": part_paid["id"], "amount": "100.00"}]}
    assert (await post(client, owner, "/receipts", receipt_body)).status_code == 201
    before = await count_rows(app, owner.tenant_id)
    refused = await post(client, owner, "/credit-notes", {"invoice_id": part_paid["id"], "reason": "x", "full": True})
    assert_problem(refused, 409, "invoice-credit-exceeded")
    assert await count_rows(app, owner.tenant_id) == before
    assert await events(client, owner, type="credit_note.created") == [note_event]


async def test_counter_sales_orders_and_stock_write_their_events(shop, client):
    owner = shop.account
    tea = await shop.product(client, stock="6", reorder_level="3")
    sale = await shop.sell(client, [{"product_id": tea["id"], "quantity": "2"}], [{"mode": "cash", "amount": "236.00"}])
    assert sale.status_code == 201, sale.text
    invoice_id = sale.json()["invoice_id"]
    # the sale made the company's walk-in customer: a customer too
    walk_in = (await events(client, owner, type="customer.created"))[-1]["payload"]
    assert (walk_in["customer_id"], walk_in["walk_in_company_id"]) == (sale.json()["customer_id"], shop.company["id"])
    assert [k for k, _ in await of(client, owner, invoice_id)] == ["invoice.issued", "invoice.paid"]
    assert len(await events(client, owner, type="receipt.created")) == 1
    assert await events(client, owner, type="stock.low") == []  # 4 left: above the reorder level

    # an order paid later, confirmed when fulfilled: the stock falls to 2 (at or below 3: low, once)
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2"}])
    assert (await shop.place(client, order["id"])).status_code == 200
    fulfilled = await shop.post(client, f"/orders/{order['id']}/fulfil")
    assert fulfilled.status_code == 200, fulfilled.text
    history = await of(client, owner, order["id"])
    assert [kind for kind, _ in history] == ["order.placed", "order.confirmed", "order.fulfilled"]
    placed, confirmed, _ = (payload for _, payload in history)
    assert (placed["status"], placed["payment_method"], placed["invoice_id"]) == ("placed", "pay_later", None)
    assert confirmed["late"] is False
    assert (confirmed["status"], confirmed["invoice_id"], confirmed["total"]) == (
        "confirmed",
        fulfilled.json()["invoice_id"],
        "236.00",
    )
    [low] = await events(client, owner, type="stock.low")
    assert (low["resource_type"], low["resource_id"]) == ("product", tea["id"])
    assert (low["payload"]["available"], low["payload"]["reorder_level"]) == ("2", "3")
    assert low["payload"]["company_id"] == shop.company["id"]
    # lower still: the alert is open already, so no second stock.low until it rises above 3 again
    again = await shop.sell(
        client, [{"product_id": tea["id"], "quantity": "1"}], [{"mode": "cash", "amount": "118.00"}]
    )
    assert again.status_code == 201, again.text
    assert len(await events(client, owner, type="stock.low")) == 1

    # an order cancelled: its reservation goes back (no stock.low), order.cancelled with the reason
    dropped = await shop.draft(client, [{"product_id": tea["id"], "quantity": "1"}])
    assert (await shop.place(client, dropped["id"])).status_code == 200
    assert (await shop.post(client, f"/orders/{dropped['id']}/cancel")).status_code == 200
    history = await of(client, owner, dropped["id"])
    assert [kind for kind, _ in history] == ["order.placed", "order.cancelled"]
    assert (history[1][1]["status"], history[1][1]["reason"]) == ("cancelled", "cancelled")
    # a reorder level raised above a level makes it low at once (no stock document)
    salt = await shop.product(client, stock="5", reorder_level="2")
    raised = await client.patch(f"{API}/products/{salt['id']}", json={"reorder_level": "8"}, headers=owner.headers)
    assert raised.status_code == 200, raised.text
    [(kind, by_level)] = await of(client, owner, salt["id"])
    assert kind == "stock.low"
    assert (by_level["available"], by_level["reorder_level"], by_level["document_id"]) == ("5", "8", None)
    # a refused sale (more than the stock) writes no event at all
    total = len(await events(client, owner))
    short = await shop.sell(client, [{"product_id": tea["id"], "quantity": "50"}], [{"mode": "cash", "amount": "1"}])
    assert short.status_code == 409, short.text
    assert len(await events(client, owner)) == total
    # every event's type is a known one with its payload version
    for event in await events(client, owner):
        assert EVENT_TYPES[event["type"]] == event["payload_version"]


async def test_event_log_filters_paging_and_roles(shop, client, mailbox, today):
    owner = shop.account
    for _ in range(3):
        await make_invoice(client, owner, shop.company, shop.customer)
    issued = await events(client, owner, type="invoice.issued")
    assert len(issued) == 3 and [e["seq"] for e in issued] == sorted(e["seq"] for e in issued)
    assert len({e["id"] for e in issued}) == 3
    oldest_first = await client.get(f"{API}/events", params={"sort": "seq", "limit": 100}, headers=owner.headers)
    kinds = [e["type"] for e in oldest_first.json()["items"]]
    assert kinds[0] == "subscription.changed" and kinds.count("invoice.issued") == 3
    assert len(await events(client, owner, resource_type="invoice")) == 3
    # time window: from inclusive, to exclusive
    first = datetime.fromisoformat(issued[0]["occurred_at"])
    assert len(await events(client, owner, type="invoice.issued", **{"from": first.isoformat()})) == 3
    assert await events(client, owner, type="invoice.issued", to=first.isoformat()) == []
    # another tenant sees none of them; an accountant may not read the log
    other = await make_tenant(client, business_name="Other Traders")
    assert await events(client, other, type="invoice.issued") == []
    assert await events(client, other, resource_id=issued[0]["resource_id"]) == []
    accountant = await add_member(client, mailbox, owner, "accountant")
    assert_problem(await client.get(f"{API}/events", headers=accountant.headers), 403)
    assert_problem(await client.get(f"{API}/dashboard/activity", headers=accountant.headers), 403)
    # bad filters: clear 400s
    unknown = await client.get(f"{API}/events", params={"type": "invoice.exploded"}, headers=owner.headers)
    assert_problem(unknown, 400, "unknown-event-type")
    backwards = {"from": first.isoformat(), "to": (first - timedelta(seconds=1)).isoformat()}
    assert_problem(
        await client.get(f"{API}/events", params=backwards, headers=owner.headers), 400, "invalid-date-range"
    )


async def test_activity_counts_per_type_per_indian_day(shop, client, today):
    owner = shop.account
    await make_invoice(client, owner, shop.company, shop.customer)
    await make_invoice(client, owner, shop.company, shop.customer)
    # the events' own Indian day (today's context date may differ from the wall clock under faketime)
    day = datetime.fromisoformat((await events(client, owner, type="invoice.issued"))[0]["occurred_at"])
    day_in_india = day.astimezone(INDIA).date()
    start = day_in_india - timedelta(days=6)
    params = {"from": start.isoformat(), "to": day_in_india.isoformat()}
    response = await client.get(f"{API}/dashboard/activity", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["date_from"], body["date_to"], body["timezone"]) == (str(start), str(day_in_india), "Asia/Kolkata")
    assert [d["day"] for d in body["days"]] == [str(start + timedelta(days=n)) for n in range(7)]
    last = body["days"][-1]
    assert last["counts"]["invoice.issued"] == 2 and last["counts"]["customer.created"] == 1
    assert last["total"] == sum(last["counts"].values())
    assert body["totals"]["invoice.issued"] == 2
    assert sum(d["total"] for d in body["days"]) == sum(body["totals"].values())
    one_type = await client.get(
        f"{API}/dashboard/activity", params=params | {"type": "invoice.issued"}, headers=owner.headers
    )
    assert one_type.json()["totals"] == {"invoice.issued": 2}
    # the day before: none of them
    before = {"from": str(start - timedelta(days=1)), "to": str(start - timedelta(days=1))}
    quiet = await client.get(f"{API}/dashboard/activity", params=before, headers=owner.headers)
    assert quiet.json()["totals"] == {} and quiet.json()["days"][0]["total"] == 0
    # defaults: the 30 days to today
    default = (await client.get(f"{API}/dashboard/activity", headers=owner.headers)).json()
    assert len(default["days"]) == 30 and default["date_to"] == str(today)
    # ranges refused: backwards, longer than 366 days, an unknown type
    too_long = {"from": str(date(2024, 1, 1)), "to": str(date(2025, 1, 1))}
    assert_problem(
        await client.get(f"{API}/dashboard/activity", params=too_long, headers=owner.headers),
        400,
        "date-range-too-long",
    )
    year = {"from": str(date(2024, 1, 1)), "to": str(date(2024, 12, 31))}
    assert (await client.get(f"{API}/dashboard/activity", params=year, headers=owner.headers)).status_code == 200
    backwards = {"from": str(today), "to": str(today - timedelta(days=1))}
    assert_problem(
        await client.get(f"{API}/dashboard/activity", params=backwards, headers=owner.headers),
        400,
        "invalid-date-range",
    )
    unknown = await client.get(f"{API}/dashboard/activity", params={"type": "x.y"}, headers=owner.headers)
    assert_problem(unknown, 400, "unknown-event-type")


async def test_a_plan_change_writes_subscription_changed(client, app):
    owner = await make_tenant(client)
    await put_on_plan(app, owner.tenant_id, "standard", "active")  # what a verified payment leaves
    changed = await client.post(f"{API}/tokens/set-plan", json={"plan": "free"}, headers=owner.headers)
    assert changed.status_code == 200, changed.text
    started, downgraded = (e["payload"] for e in await events(client, owner, type="subscription.changed"))
    assert started["change"] == "started"
    assert (downgraded["change"], downgraded["previous_plan_code"], downgraded["previous_status"]) == (
        "downgraded",
        "standard",
        "active",
    )
    assert (downgraded["plan_code"], downgraded["status"]) == ("free", "free")
