"""Pay by link (issue 12 §2) in sandbox mode (no keys): POST /invoices/{id}/payment-link, the public
page's "Pay now", the callback page, POST /online-payments/{id}/verify, GET /online-payments; a
capture recorded as one receipt (mode razorpay, reference = the payment id) whatever the order and
number of verifies and webhooks; more than the balance -> advance; a void invoice -> refund_due."""

import asyncio
import uuid
from decimal import Decimal

import httpx

from tests.api.v1.paying import (
    Books,
    callback_params,
    link_path,
    link_signature,
    linked,
    make_link,
    party_with_invoice,
    pay_path,
    verify,
)
from tests.api.v1.receipting import alloc, customer_balance, invoice_of, invoice_state, receive
from tests.api.v1.sharing import path_of, payable_party, shared
from tests.factories import API, make_tenant

D = Decimal


async def test_a_link_for_the_balance_due_with_what_to_send(client, app):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "1180.00")
    response = await make_link(client, owner, invoice)
    assert response.status_code == 201, response.text
    link = response.json()
    payment = link["payment"]
    assert (link["amount"], link["currency"], link["reused"]) == ("1180.00", "INR", False)
    assert payment["status"] == "created" and payment["purpose"] == "invoice"
    assert payment["invoice_id"] == invoice["id"] and payment["customer_id"] == party.customer["id"]
    assert payment["gateway_ref"].startswith("plink_") and payment["is_sandbox"] is True
    assert link["short_url"] == payment["short_url"] and link["short_url"] in link["message"]
    assert invoice["number"] in link["message"] and "₹1,180.00" in link["message"]
    assert link["whatsapp_url"].startswith("https://wa.me/") and "text=" in link["whatsapp_url"]
    assert link["sandbox_pay_url"].startswith("http")
    # a second request (another key) answers the same open link: one invoice, one link
    again = (await make_link(client, owner, invoice)).json()
    assert again["reused"] is True and again["payment"]["id"] == payment["id"]
    assert await Books(app, owner.tenant_id).payments() == 1
    read = await client.get(f"{API}/online-payments/{payment['id']}", headers=owner.headers)
    assert read.status_code == 200 and read.json()["gateway_ref"] == payment["gateway_ref"]


async def test_the_idempotency_key_is_required_and_replays(client):
    owner = await make_tenant(client)
    _, invoice = await party_with_invoice(client, owner)
    missing = await client.post(link_path(invoice), headers=owner.headers)
    assert missing.status_code == 422
    key = f"link-{uuid.uuid4()}"
    first = await make_link(client, owner, invoice, key=key)
    replay = await make_link(client, owner, invoice, key=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"


async def test_only_an_issued_invoice_with_something_due_gets_a_link(client):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "500.00")
    draft = await party.invoice(
        client, {"description": "X", "quantity": "1", "unit_price": "10", "gst_rate": "0"}, issue=False
    )
    assert (await make_link(client, owner, draft)).json()["code"] == "invoice-is-draft"
    await receive(client, party, "500.00", alloc(invoice, "500.00"))
    settled = await make_link(client, owner, invoice)
    assert (settled.status_code, settled.json()["code"]) == (409, "invoice-settled")
    other = await party.invoice(client, {"description": "Y", "quantity": "1", "unit_price": "10", "gst_rate": "0"})
    void = await client.post(f"{API}/invoices/{other['id']}/void", json={"reason": "Wrong"}, headers=owner.headers)
    assert void.status_code == 200, void.text
    assert (await make_link(client, owner, other)).json()["code"] == "invoice-void"
    too_long = await make_link(client, owner, await invoice_of(client, party, "90.00"), expires_in_days=366)
    assert (too_long.status_code, too_long.json()["code"]) == (400, "payment-link-too-long")
    missing = await make_link(client, owner, {"id": str(uuid.uuid4())})
    assert (missing.status_code, missing.json()["code"]) == (404, "invoice-not-found")


async def test_paying_through_the_callback_page_records_one_receipt(client, app):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "1000.00")
    link = await linked(client, owner, invoice)
    page = await client.get(pay_path(link))
    assert page.status_code == 200 and "Payment received" in page.text, page.text
    params = callback_params(link)
    receipts = await Books(app, owner.tenant_id).receipts(params["razorpay_payment_id"])
    assert len(receipts) == 1
    receipt = receipts[0]
    assert (receipt.mode, receipt.amount, receipt.amount_allocated) == ("razorpay", D("1000.00"), D("1000.00"))
    assert receipt.number in page.text
    assert await invoice_state(client, party, invoice) == ("paid", "1000.00", "0.00")
    assert await customer_balance(client, party) == "0.00"
    paid = (await client.get(f"{API}/online-payments/{link['payment']['id']}", headers=owner.headers)).json()
    assert paid["status"] == "paid" and paid["receipt_id"] == str(receipt.id)
    assert (paid["razorpay_payment_id"], paid["amount_paid"]) == (params["razorpay_payment_id"], "1000.00")
    # coming back again (a reload), verifying, a webhook after it: nothing more
    assert "Payment received" in (await client.get(pay_path(link))).text
    again = await verify(client, owner, link, params)
    assert again.status_code == 200 and again.json()["outcome"] == "already-paid"
    books = Books(app, owner.tenant_id)
    assert (
        await books.captured(link["payment"]["id"], params["razorpay_payment_id"], 100000, "webhook") == "already-paid"
    )
    assert len(await books.receipts()) == 1
    # the invoice is settled: no more link
    assert (await make_link(client, owner, invoice)).json()["code"] == "invoice-settled"


async def test_twenty_replays_of_verify_and_webhooks_in_any_order_make_one_receipt(app, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
        owner = await make_tenant(c)
        party, invoice = await party_with_invoice(c, owner, "750.00")
        link = await linked(c, owner, invoice)
    params = callback_params(link)
    books = Books(app, owner.tenant_id)
    pay_id, payment_id = params["razorpay_payment_id"], link["payment"]["id"]

    async def by_verify() -> str:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            response = await verify(c, owner, link, params)
            assert response.status_code == 200, response.text
            return response.json()["outcome"]

    async def by_page() -> str:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            response = await c.get(pay_path(link))
            assert response.status_code == 200, response.text
            return "page"

    async def by_webhook(n: int) -> str:
        return await books.captured(payment_id, pay_id, 75000, "webhook" if n % 2 else "payment_link.paid")

    # a failure reported late (after the capture) changes nothing either
    calls = [by_verify() for _ in range(7)] + [by_page() for _ in range(6)] + [by_webhook(n) for n in range(7)]
    outcomes = await asyncio.gather(*calls)
    assert sorted(o for o in outcomes if o != "page").count("paid") == 1, outcomes
    assert set(outcomes) <= {"paid", "already-paid", "page"}
    assert await books.failed(payment_id, "pay_Other000001", "card declined") == "already-paid"
    receipts = await books.receipts()
    assert [(r.reference, r.amount, r.amount_allocated) for r in receipts] == [(pay_id, D("750.00"), D("750.00"))]
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
        assert await invoice_state(c, party, invoice) == ("paid", "750.00", "0.00")
        assert await customer_balance(c, party) == "0.00"


async def test_a_failed_attempt_then_the_capture(client, app):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "300.00")
    link = await linked(client, owner, invoice)
    books = Books(app, owner.tenant_id)
    assert await books.failed(link["payment"]["id"], "pay_Failed00001", "BAD_REQUEST_ERROR") == "failed"
    read = (await client.get(f"{API}/online-payments/{link['payment']['id']}", headers=owner.headers)).json()
    assert (read["status"], read["failure_reason"]) == ("failed", "BAD_REQUEST_ERROR")
    # still payable: the page offers it and a new request answers the same link
    assert (await make_link(client, owner, invoice)).json()["reused"] is True
    assert await books.captured(link["payment"]["id"], "pay_Paid0000001", 30000, "webhook") == "paid"
    assert await invoice_state(client, party, invoice) == ("paid", "300.00", "0.00")


async def test_more_than_the_balance_stays_the_customers_advance(client, app):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "1000.00")
    link = await linked(client, owner, invoice)
    await receive(client, party, "400.00", alloc(invoice, "400.00"), mode="cash")  # part paid at the counter meanwhile
    assert (await client.get(pay_path(link))).status_code == 200  # the customer pays the old link: 1000
    receipt = (await Books(app, owner.tenant_id).receipts())[0]
    assert (receipt.amount, receipt.amount_allocated) == (D("1000.00"), D("600.00"))
    assert await invoice_state(client, party, invoice) == ("paid", "1000.00", "0.00")
    assert await customer_balance(client, party) == "-400.00"  # 400 in the customer's favour
    read = (await client.get(f"{API}/receipts/{receipt.id}", headers=owner.headers)).json()
    assert read["amount_unallocated"] == "400.00" and read["mode"] == "razorpay"
    paid = (await client.get(f"{API}/online-payments/{link['payment']['id']}", headers=owner.headers)).json()
    assert paid["refund_due"] is False


async def test_a_part_payment_replaces_the_open_link(client, app):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "1000.00")
    old = await linked(client, owner, invoice)
    await receive(client, party, "250.00", alloc(invoice, "250.00"))
    new = await linked(client, owner, invoice)
    assert new["reused"] is False and new["amount"] == "750.00" and new["payment"]["id"] != old["payment"]["id"]
    old_now = (await client.get(f"{API}/online-payments/{old['payment']['id']}", headers=owner.headers)).json()
    assert old_now["status"] == "cancelled"
    listed = await client.get(f"{API}/online-payments", params={"invoice_id": invoice["id"]}, headers=owner.headers)
    assert [p["status"] for p in listed.json()["items"]] == ["created", "cancelled"]


async def test_a_payment_for_a_void_invoice_is_unallocated_and_flagged_for_refund(client, app):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "600.00")
    link = await linked(client, owner, invoice)
    void = await client.post(
        f"{API}/invoices/{invoice['id']}/void", json={"reason": "Duplicate"}, headers=owner.headers
    )
    assert void.status_code == 200, void.text
    page = await client.get(pay_path(link))  # the customer had the link already
    assert page.status_code == 200 and "Payment received" in page.text
    receipt = (await Books(app, owner.tenant_id).receipts())[0]
    assert (receipt.amount, receipt.amount_allocated) == (D("600.00"), D("0.00"))
    assert await Books(app, owner.tenant_id).allocations(receipt.id) == []
    assert await customer_balance(client, party) == "-600.00"
    flagged = await client.get(f"{API}/online-payments", params={"refund_due": "true"}, headers=owner.headers)
    items = flagged.json()["items"]
    assert [p["id"] for p in items] == [link["payment"]["id"]]
    assert items[0]["refund_due"] is True and invoice["number"] in items[0]["refund_due_reason"]
    not_flagged = await client.get(f"{API}/online-payments", params={"refund_due": "false"}, headers=owner.headers)
    assert not_flagged.json()["items"] == []


async def test_a_forged_or_foreign_callback_writes_nothing(client, app):
    owner = await make_tenant(client)
    party, invoice = await party_with_invoice(client, owner, "200.00")
    link = await linked(client, owner, invoice)
    params = callback_params(link)
    forged = params | {"razorpay_signature": link_signature("not-the-secret", params)}
    response = await verify(client, owner, link, forged)
    assert (response.status_code, response.json()["code"]) == (400, "signature-invalid")
    # another link's genuine callback does not pay this one
    other_invoice = await invoice_of(client, party, "300.00")
    other = callback_params(await linked(client, owner, other_invoice))
    response = await verify(client, owner, link, other)
    assert (response.status_code, response.json()["code"]) == (400, "signature-invalid")
    # the page: a tampered signature is "not confirmed", a tampered ticket "not found"
    page = await client.get(pay_path(link).replace(params["razorpay_signature"], "0" * 64))
    assert page.status_code == 200 and "not confirmed" in page.text
    ticket = pay_path(link).split("?")[0]
    assert (await client.get(ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"))).status_code == 404
    assert await Books(app, owner.tenant_id).receipts() == []
    assert await invoice_state(client, party, invoice) == ("issued", "0.00", "200.00")
    # another tenant cannot verify (404) nor read it
    intruder = await make_tenant(client)
    foreign = await client.post(
        f"{API}/online-payments/{link['payment']['id']}/verify", json=params, headers=intruder.headers
    )
    assert foreign.status_code == 404
    assert (
        await client.get(f"{API}/online-payments/{link['payment']['id']}", headers=intruder.headers)
    ).status_code == 404
    assert (await client.get(f"{API}/online-payments", headers=intruder.headers)).json()["items"] == []


async def test_the_public_page_offers_pay_now_beside_the_upi_qr(client, app):
    owner = await make_tenant(client)
    party = await payable_party(client, owner)
    invoice = await invoice_of(client, party, "450.00")
    page_path = path_of((await shared(client, owner, invoice))["url"])
    page = await client.get(page_path)
    assert page.status_code == 200 and "<svg" in page.text and 'id="pay-now"' not in page.text  # no link yet
    link = await linked(client, owner, invoice)
    page = await client.get(page_path)
    assert 'id="pay-now"' in page.text and 'id="pay-now-card"' in page.text and "<svg" in page.text
    assert pay_path(link).split("?")[0] in page.text  # sandbox: "Pay now" goes to the paid callback
    assert (await client.get(pay_path(link))).status_code == 200
    page = await client.get(page_path)
    assert 'id="pay-now"' not in page.text and "Paid" in page.text
    # a link asking more than is now due (part paid at the counter since) is not offered
    other = await invoice_of(client, party, "800.00")
    await linked(client, owner, other)
    await receive(client, party, "100.00", alloc(other, "100.00"))
    assert 'id="pay-now"' not in (await client.get(path_of((await shared(client, owner, other))["url"]))).text


async def test_list_filters(client, app):
    owner = await make_tenant(client)
    party, first = await party_with_invoice(client, owner, "100.00")
    second = await invoice_of(client, party, "200.00")
    one, two = await linked(client, owner, first), await linked(client, owner, second)
    await client.get(pay_path(two))

    async def ids(**params) -> list[str]:
        response = await client.get(f"{API}/online-payments", params=params, headers=owner.headers)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert await ids() == [two["payment"]["id"], one["payment"]["id"]]
    assert await ids(sort="created_at") == [one["payment"]["id"], two["payment"]["id"]]
    assert await ids(status="paid") == [two["payment"]["id"]]
    assert await ids(status="created") == [one["payment"]["id"]]
    assert await ids(purpose="order") == []
    assert await ids(razorpay_payment_id=callback_params(two)["razorpay_payment_id"]) == [two["payment"]["id"]]
    assert await ids(limit=1) == [two["payment"]["id"]]
