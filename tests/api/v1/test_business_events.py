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
from app.services.platform.events import EVENT_TYPES, record
from app.services.platform.scheduler import run_due
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import line, make_invoice
from tests.api.v1.members import add_member
from tests.api.v1.ordering import OrderShop
from tests.api.v1.payment_flow import pay
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


async def test_an_online_order_paid_refunded_and_one_expired(shop, client, app):
    """Paid online (sandbox checkout): the online payment's receipt and the invoice's paid; refunded in
    full: the credit note and the order cancelled, and the invoice is NOT paid a second time; an
    unpaid hold ending: order.cancelled by the scheduled job."""
    owner = shop.account
    tea = await shop.product(client, stock="9")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2"}])
    placed = await shop.place(client, order["id"], "online")
    assert placed.status_code == 200, placed.text
    paid = await shop.post(
        client, f"/orders/{order['id']}/verify-payment", placed.json()["checkout"]["sandbox_payment"]
    )
    assert paid.status_code == 200, paid.text
    invoice_id = paid.json()["invoice_id"]
    [receipt] = await events(client, owner, type="receipt.created")
    assert receipt["payload"]["online_payment_id"] == placed.json()["payments"][0]["id"]
    assert receipt["payload"]["allocations"] == [{"invoice_id": invoice_id, "amount": "236.00"}]
    history = await of(client, owner, invoice_id)
    assert [kind for kind, _ in history] == ["invoice.issued", "invoice.paid"]
    assert (history[1][1]["settled_by"], history[1][1]["settled_by_id"]) == ("receipt", receipt["resource_id"])
    assert [k for k, _ in await of(client, owner, order["id"])] == ["order.placed", "order.confirmed"]

    headers = owner.headers | {"Idempotency-Key": str(uuid.uuid4())}
    body = {"full": True, "reason": "Customer cancelled", "restock": True}
    refunded = await client.post(f"{API}/orders/{order['id']}/refund", json=body, headers=headers)
    assert refunded.status_code == 201, refunded.text
    [note] = await events(client, owner, type="credit_note.created")
    assert (note["payload"]["invoice_id"], note["payload"]["total"]) == (invoice_id, "236.00")
    cancelled = await of(client, owner, order["id"])
    assert [k for k, _ in cancelled] == ["order.placed", "order.confirmed", "order.cancelled"]
    assert (cancelled[-1][1]["status"], cancelled[-1][1]["reason"]) == ("cancelled", "refunded")
    # the invoice was paid once; the refund credited it (credit_note.created says so), it was not paid again
    assert [kind for kind, _ in await of(client, owner, invoice_id)] == ["invoice.issued", "invoice.paid"]

    held = await shop.draft(client, [{"product_id": tea["id"], "quantity": "1"}])
    assert (await shop.place(client, held["id"], "online")).status_code == 200
    runtime = app.state.runtime
    summary = await run_due(
        runtime, runtime.clock() + timedelta(minutes=runtime.settings.order_hold_minutes), tenants=[shop.tenant]
    )
    assert summary.failed == [] and summary.orders_expired == 1
    expired = await of(client, owner, held["id"])
    assert [k for k, _ in expired] == ["order.placed", "order.cancelled"]
    assert (expired[-1][1]["reason"], expired[-1][1]["status"]) == ("hold_expired", "cancelled")
    assert expired[-1][1]["hold_until"] == expired[0][1]["hold_until"]


async def test_a_paid_renewal_writes_subscription_changed(client, mailbox):
    owner = await make_tenant(client)
    await pay(client, owner, "standard")
    await pay(client, owner, "standard")
    changes = [e["payload"] for e in await events(client, owner, type="subscription.changed")]
    assert [c["change"] for c in changes] == ["started", "activated", "renewed"]
    activated, renewed = changes[1], changes[2]
    assert (activated["plan_code"], activated["status"], activated["previous_status"]) == (
        "standard",
        "active",
        "trialing",
    )
    assert (renewed["previous_plan_code"], renewed["plan_code"], renewed["status"]) == (
        "standard",
        "standard",
        "active",
    )
    assert renewed["current_period_end"] > activated["current_period_end"]
    assert {e["resource_id"] for e in await events(client, owner, type="subscription.changed")} == {owner.tenant_id}


async def test_activity_days_are_indian_days_at_midnight_ist(client, app):
    """18:30 UTC is midnight IST: an event then counts on the next Indian day, and the range's ends
    are Indian midnights (an event at 18:30 UTC the day before `from` is in it, one at 18:30 UTC on
    `to` is not)."""
    owner = await make_tenant(client)
    tenant = uuid.UUID(owner.tenant_id)
    moments = [
        ("2020-03-30T18:29:59+00:00", "receipt.created"),  # 23:59:59 IST on 30 March: before the range
        ("2020-03-30T18:30:00+00:00", "customer.created"),  # midnight IST: 31 March
        ("2020-03-31T18:30:00+00:00", "invoice.issued"),  # 1 April IST
        ("2020-04-01T18:29:59+00:00", "invoice.paid"),  # 23:59:59 IST on 1 April
        ("2020-04-01T18:30:00+00:00", "stock.low"),  # 2 April IST: after the range
    ]
    async with app.state.runtime.db.transaction(tenant) as session:
        for moment, kind in moments:
            at = datetime.fromisoformat(moment)
            await record(session, kind, resource_type="customer", resource_id=tenant, payload={}, occurred_at=at)
    params = {"from": "2020-03-31", "to": "2020-04-01"}
    response = await client.get(f"{API}/dashboard/activity", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert [(d["day"], d["counts"]) for d in response.json()["days"]] == [
        ("2020-03-31", {"customer.created": 1}),
        ("2020-04-01", {"invoice.issued": 1, "invoice.paid": 1}),
    ]


async def test_paid_by_a_later_allocation_again_after_a_void_reopens_it(shop, client, today):
    """An advance allocated later pays the invoice; its void reopens the invoice (no event of the
    invoice's own, `released` says so); a part payment writes no invoice.paid; the next receipt
    taking the balance to 0 pays it again."""
    owner = shop.account
    invoice = await make_invoice(client, owner, shop.company, shop.customer, line(unit_price="500.00", gst_rate="0"))
    body = {
        "customer_id": shop.customer["id"],
        "company_id": shop.company["id"],
        "amount": "500.00",
        "receipt_date": today.isoformat(),
        "mode": "upi",
    }
    advance = (await post(client, owner, "/receipts", body)).json()
    assert [k for k, _ in await of(client, owner, invoice["id"])] == ["invoice.issued"]
    allocation = {"allocations": [{"invoice_id": invoice["id"], "amount": "500.00"}]}
    allocated = await client.post(
        f"{API}/receipts/{advance['id']}/allocate",
        json=allocation,
        headers=owner.headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert allocated.status_code == 200, allocated.text
    history = await of(client, owner, invoice["id"])
    assert [k for k, _ in history] == ["invoice.issued", "invoice.paid"]
    assert (history[-1][1]["settled_by_id"], history[-1][1]["balance_due"]) == (advance["id"], "0.00")
    voided = await post(client, owner, f"/receipts/{advance['id']}/void", {"reason": "Bounced"})
    assert voided.status_code == 200, voided.text
    [(_, void)] = [(k, p) for k, p in await of(client, owner, advance["id"]) if k == "receipt.voided"]
    assert void["released"] == [{"invoice_id": invoice["id"], "amount": "500.00"}]
    part = body | {"amount": "200.00", "allocations": [{"invoice_id": invoice["id"], "amount": "200.00"}]}
    assert (await post(client, owner, "/receipts", part)).status_code == 201
    assert [k for k, _ in await of(client, owner, invoice["id"])] == ["invoice.issued", "invoice.paid"]
    rest = body | {"amount": "300.00", "allocations": [{"invoice_id": invoice["id"], "amount": "300.00"}]}
    last = await post(client, owner, "/receipts", rest)
    assert last.status_code == 201, last.text
    history = await of(client, owner, invoice["id"])
    assert [k for k, _ in history] == ["invoice.issued", "invoice.paid", "invoice.paid"]
    assert (history[-1][1]["settled_by_id"], history[-1][1]["amount_paid"]) == (last.json()["id"], "500.00")


async def test_a_recurring_invoice_issued_by_the_job_writes_invoice_issued(shop, client, app, today):
    owner = shop.account
    body = {
        "company_id": shop.company["id"],
        "customer_id": shop.customer["id"],
        "frequency": "monthly",
        "day_of_month": 1,
        "start_date": (today.replace(day=1) - timedelta(days=1)).replace(day=1).isoformat(),
        "count": 1,
        "lines": [line("5000.00", description="Monthly retainer")],
    }
    schedule = await post(client, owner, "/recurring-invoices", body)
    assert schedule.status_code == 201, schedule.text
    runtime = app.state.runtime
    summary = await run_due(runtime, runtime.clock(), tenants=[shop.tenant])
    assert summary.failed == [] and summary.recurring_invoices == 1
    [issued] = await events(client, owner, type="invoice.issued")
    assert (issued["payload"]["invoice_date"], issued["payload"]["total"]) == (body["start_date"], "5900.00")
    assert issued["actor_user_id"] is None  # the scheduled job
