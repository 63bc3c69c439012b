"""Pay by link on a tenant's own (fake) Razorpay account, over real HTTP: the link's request, the
customer paying it and coming back signed with the account's key secret, a replaced link cancelled
there, and the gateway failing (5xx, timeouts) leaving nothing written here."""

import asyncio
import random
import uuid
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from app.core.errors import Conflict
from app.models.commerce.online_payment import OnlinePayment
from app.services.billing import numbering
from app.services.commerce import payment_gateways
from tests.api.v1.paying import Books, link_signature, make_link, party_with_invoice, verify
from tests.api.v1.receipting import alloc, customer_balance, invoice_of, invoice_state, receive
from tests.factories import API, make_tenant
from tests.fake_razorpay import configure_gateway, fake_razorpay, razorpay_app, razorpay_client, webhook_path

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures


async def save_gateway(app, owner, account) -> None:
    """The tenant's own Razorpay keys saved (checked against the fake by the service, as the
    owner's PUT /payment-gateways/razorpay does)."""
    rt = app.state.runtime
    tenant = uuid.UUID(owner.tenant_id)
    async with rt.db.transaction(tenant) as session:
        keys = payment_gateways.Keys(account.key_id, account.key_secret, account.webhook_secret)
        await payment_gateways.save(session, rt.context(tenant_id=tenant), keys=keys)


async def rows(app, owner) -> int:
    async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
        return (await session.execute(select(func.count()).select_from(OnlinePayment))).scalar_one()


def callback_path(link: dict, query: dict[str, str]) -> str:
    """Where Razorpay sends the customer's browser: the callback URL the link was made with, plus the query."""
    return f"{urlsplit(link['callback_url']).path}?{urlencode(query)}"


async def test_a_link_on_the_tenants_account_paid_and_verified(razorpay_client, razorpay_app, fake_razorpay):
    client, fake = razorpay_client, fake_razorpay
    owner = await make_tenant(client)
    account = fake.account()
    await save_gateway(razorpay_app, owner, account)
    party, invoice = await party_with_invoice(client, owner, "2360.00")
    response = await make_link(client, owner, invoice, expires_in_days=7)
    assert response.status_code == 201, response.text
    made = response.json()
    payment = made["payment"]
    assert payment["is_sandbox"] is False and made["sandbox_pay_url"] is None
    link = fake.links[payment["gateway_ref"]]
    assert fake.owners[link["id"]] == account.key_id  # made on the tenant's account, not the SaaS's
    assert link["amount"] == 236000 and link["accept_partial"] is False
    assert link["reference_id"].startswith(invoice["number"] + "-") and len(link["reference_id"]) <= 40
    assert link["customer"]["name"] and link["notes"]["invoice_id"] == invoice["id"]
    assert link["callback_url"].startswith("http") and "/pay/" in link["callback_url"]
    assert made["short_url"] == link["short_url"]
    # the public page's Pay now opens Razorpay's page of the link
    shared = await client.post(f"{API}/invoices/{invoice['id']}/share", headers=owner.headers)
    page = await client.get("/p/" + shared.json()["url"].rsplit("/p/", 1)[1])
    assert f'id="pay-now" class="button" href="{link["short_url"]}"' in page.text
    # the customer pays on Razorpay and comes back with the signed query
    query = fake.pay_link(link["id"])
    page = await client.get(callback_path(link, query))
    assert page.status_code == 200 and "Payment received" in page.text
    assert await invoice_state(client, party, invoice) == ("paid", "2360.00", "0.00")
    receipts = await Books(razorpay_app, owner.tenant_id).receipts(query["razorpay_payment_id"])
    assert len(receipts) == 1 and receipts[0].amount_allocated == receipts[0].amount
    # the app relaying the same callback: already paid; with the query signed by another account: 400
    again = await verify(client, owner, made, query)
    assert again.status_code == 200 and again.json()["outcome"] == "already-paid"
    other = fake.account()
    forged = dict(query)
    forged["razorpay_signature"] = link_signature(other.key_secret, query)
    assert (await verify(client, owner, made, forged)).status_code == 400


async def test_a_callback_whose_receipt_fails_leaves_the_payment_unpaid(
    razorpay_client, razorpay_app, fake_razorpay, monkeypatch
):
    """The customer's browser comes back, the signature is good, but the receipt cannot be made
    (here: the receipt series is exhausted). The page still answers (unconfirmed), and nothing of
    the capture is kept: not a payment marked paid without its receipt, which every later webhook
    would take as recorded already. Once the series is fixed, the webhook records it, once."""
    client, fake = razorpay_client, fake_razorpay
    owner = await make_tenant(client)
    account = fake.account()
    gateway = await configure_gateway(client, owner, account)
    party, invoice = await party_with_invoice(client, owner, "700.00")
    made = (await make_link(client, owner, invoice)).json()
    link = fake.links[made["payment"]["gateway_ref"]]
    query = fake.pay_link(link["id"])

    async def exhausted(*_: object, **__: object) -> None:
        raise Conflict("The receipt series is exhausted.", code="number-series-exhausted")

    with monkeypatch.context() as patched:
        patched.setattr(numbering, "assign", exhausted)
        page = await client.get(callback_path(link, query))
    assert page.status_code == 200 and "Payment received" not in page.text
    read = (await client.get(f"{API}/online-payments/{made['payment']['id']}", headers=owner.headers)).json()
    assert (read["status"], read["receipt_id"]) == ("created", None)
    assert await invoice_state(client, party, invoice) == ("issued", "0.00", "700.00")
    body, headers = fake.link_paid_event(account, link["id"])
    answer = (await client.post(webhook_path(gateway), content=body, headers=headers)).json()
    assert answer["detail"] == "paid"
    assert await invoice_state(client, party, invoice) == ("paid", "700.00", "0.00")
    assert len(await Books(razorpay_app, owner.tenant_id).receipts()) == 1


async def test_the_receipt_of_an_online_payment_is_not_voided(razorpay_client, razorpay_app, fake_razorpay):
    """The receipt of money the gateway holds cannot be voided (409): the books would say the
    customer owes again while Razorpay has the money, and nothing could refund it any more (a
    refund comes off an active receipt; a dashboard refund's webhook would fail for ever). The
    money goes back by a refund; the receipt stays."""
    client, fake = razorpay_client, fake_razorpay
    owner = await make_tenant(client)
    account = fake.account()
    await configure_gateway(client, owner, account)
    party, invoice = await party_with_invoice(client, owner, "300.00")
    made = (await make_link(client, owner, invoice)).json()
    link = fake.links[made["payment"]["gateway_ref"]]
    query = fake.pay_link(link["id"])
    assert (await verify(client, owner, made, query)).json()["outcome"] == "paid"
    [receipt] = await Books(razorpay_app, owner.tenant_id).receipts()
    voided = await client.post(f"{API}/receipts/{receipt.id}/void", json={"reason": "Oops"}, headers=owner.headers)
    assert (voided.status_code, voided.json()["code"]) == (409, "receipt-of-online-payment")
    assert await invoice_state(client, party, invoice) == ("paid", "300.00", "0.00")


async def test_a_replaced_link_is_cancelled_on_the_gateway(razorpay_client, razorpay_app, fake_razorpay):
    client, fake = razorpay_client, fake_razorpay
    owner = await make_tenant(client)
    await save_gateway(razorpay_app, owner, fake.account())
    party, invoice = await party_with_invoice(client, owner, "1000.00")
    first = (await make_link(client, owner, invoice)).json()
    await receive(client, party, "300.00", alloc(invoice, "300.00"))
    second = (await make_link(client, owner, invoice)).json()
    assert second["amount"] == "700.00" and fake.links[second["payment"]["gateway_ref"]]["amount"] == 70000
    assert fake.links[first["payment"]["gateway_ref"]]["status"] == "cancelled"
    old = await client.get(f"{API}/online-payments/{first['payment']['id']}", headers=owner.headers)
    assert old.json()["status"] == "cancelled"
    # paid anyway (the customer had it open): recorded, the excess is the customer's advance
    link = fake.links[second["payment"]["gateway_ref"]]
    await client.get(callback_path(link, fake.pay_link(link["id"])))
    assert await invoice_state(client, party, invoice) == ("paid", "1000.00", "0.00")
    assert await customer_balance(client, party) == "0.00"


async def test_gateway_failures_leave_nothing_written(razorpay_client, razorpay_app, fake_razorpay):
    client, fake = razorpay_client, fake_razorpay
    owner = await make_tenant(client)
    account = fake.account()
    await save_gateway(razorpay_app, owner, account)
    party, invoice = await party_with_invoice(client, owner, "500.00")
    key = f"link-{uuid.uuid4()}"
    fake.fail_next(3, 500)  # the first try and both retries
    failed = await make_link(client, owner, invoice, key=key)
    assert (failed.status_code, failed.json()["code"]) == (503, "payment-gateway-unavailable")
    assert failed.headers["Retry-After"]
    assert await rows(razorpay_app, owner) == 0
    fake.fail_next(1, 400)  # a refusal: 502, nothing written
    refused = await make_link(client, owner, invoice)
    assert (refused.status_code, refused.json()["code"]) == (502, "payment-gateway-error")
    assert await rows(razorpay_app, owner) == 0
    # a read timeout: the link may exist there (it does, at the fake), nothing of it here
    fake.stall_next(1, razorpay_app.state.runtime.settings.razorpay_timeout_seconds + 1)
    stalled = await make_link(client, owner, invoice, key=f"link-{uuid.uuid4()}")
    assert stalled.status_code == 503
    assert await rows(razorpay_app, owner) == 0
    # the retry under the first key makes the one link
    retried = await make_link(client, owner, invoice, key=key)
    assert retried.status_code == 201, retried.text
    assert await rows(razorpay_app, owner) == 1
    assert await invoice_state(client, party, invoice) == ("issued", "0.00", "500.00")


async def test_live_mode_without_the_tenants_keys_is_a_409(razorpay_client, razorpay_app):
    owner = await make_tenant(razorpay_client)
    _, invoice = await party_with_invoice(razorpay_client, owner)
    response = await make_link(razorpay_client, owner, invoice)
    assert (response.status_code, response.json()["code"]) == (409, "gateway-not-configured")
    assert await rows(razorpay_app, owner) == 0


class TestWebhooksAndVerify:
    """payment_link.paid, payment.captured (and order.paid) webhooks and the client-side verify,
    replayed and in any order, concurrently: one receipt."""

    async def paid_link(self, client, fake, owner, total: str = "1500.00"):
        account = fake.account()
        gateway = await configure_gateway(client, owner, account)
        party, invoice = await party_with_invoice(client, owner, total)
        made = (await make_link(client, owner, invoice)).json()
        link_id = made["payment"]["gateway_ref"]
        query = fake.pay_link(link_id)
        return account, gateway, party, invoice, made, query, fake.links[link_id]

    async def test_twenty_deliveries_at_once_in_any_order_make_one_receipt(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        client, fake = razorpay_client, fake_razorpay
        owner = await make_tenant(client)
        account, gateway, party, invoice, made, query, link = await self.paid_link(client, fake, owner)
        pay_id, amount = query["razorpay_payment_id"], link["amount"]
        notes = {"online_payment_id": made["payment"]["id"]}
        link_paid = fake.link_paid_event(account, link["id"], event_id="evt_linkpaid01")
        captured = fake.payment_event(
            account, "payment.captured", link["order_id"], pay_id, amount=amount, notes=notes, event_id="evt_captured1"
        )
        order_paid = fake.payment_event(
            account, "order.paid", link["order_id"], pay_id, amount=amount, notes=notes, event_id="evt_orderpaid1"
        )
        path = webhook_path(gateway)

        async def deliver(event) -> dict:
            body, headers = event
            response = await client.post(path, content=body, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        async def relay() -> dict:
            response = await verify(client, owner, made, query)
            assert response.status_code == 200, response.text
            return {"result": "verify", "detail": response.json()["outcome"]}

        calls = [deliver(link_paid) for _ in range(6)] + [deliver(captured) for _ in range(6)]
        calls += [deliver(order_paid) for _ in range(3)] + [relay() for _ in range(5)]
        random.shuffle(calls)
        answers = await asyncio.gather(*calls)
        details = [a["detail"] for a in answers]
        assert details.count("paid") == 1, answers  # exactly one of the twenty recorded it
        assert {a["result"] for a in answers} <= {"processed", "duplicate", "verify"}
        assert sum(a["result"] == "processed" for a in answers) == 3  # each event id once
        receipts = await Books(razorpay_app, owner.tenant_id).receipts()
        assert [(r.reference, str(r.amount), str(r.amount_allocated)) for r in receipts] == [
            (pay_id, "1500.00", "1500.00")
        ]
        assert await invoice_state(client, party, invoice) == ("paid", "1500.00", "0.00")
        assert await customer_balance(client, party) == "0.00"
        # late: a failure of an earlier attempt, and the same events again
        failed = fake.payment_event(
            account, "payment.failed", link["order_id"], "pay_Earlier00001", amount=amount, notes=notes
        )
        assert (await deliver(failed))["detail"] == "already-paid"
        assert (await deliver(link_paid))["result"] == "duplicate"
        assert len(await Books(razorpay_app, owner.tenant_id).receipts()) == 1

    async def test_captured_before_link_paid_and_failed_before_captured(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        client, fake = razorpay_client, fake_razorpay
        owner = await make_tenant(client)
        account, gateway, party, invoice, made, query, link = await self.paid_link(client, fake, owner, "800.00")
        path, pay_id = webhook_path(gateway), query["razorpay_payment_id"]
        notes = {"online_payment_id": made["payment"]["id"]}
        failed = fake.payment_event(
            account, "payment.failed", link["order_id"], "pay_Declined0001", amount=80000, notes=notes
        )
        body, headers = failed
        answer = (await client.post(path, content=body, headers=headers)).json()
        assert answer["detail"] == "failed"
        read = (await client.get(f"{API}/online-payments/{made['payment']['id']}", headers=owner.headers)).json()
        assert read["status"] == "failed"
        body, headers = fake.payment_event(
            account, "payment.captured", link["order_id"], pay_id, amount=80000, notes=notes
        )
        assert (await client.post(path, content=body, headers=headers)).json()["detail"] == "paid"
        body, headers = fake.link_paid_event(account, link["id"])
        assert (await client.post(path, content=body, headers=headers)).json()["detail"] == "already-paid"
        page = await client.get(callback_path(link, query))  # the browser comes back last
        assert "Payment received" in page.text
        assert len(await Books(razorpay_app, owner.tenant_id).receipts()) == 1
        assert await invoice_state(client, party, invoice) == ("paid", "800.00", "0.00")

    async def test_a_webhook_for_a_voided_invoice_flags_the_refund(self, razorpay_client, razorpay_app, fake_razorpay):
        client, fake = razorpay_client, fake_razorpay
        owner = await make_tenant(client)
        account, gateway, party, invoice, made, _, link = await self.paid_link(client, fake, owner, "640.00")
        void = await client.post(
            f"{API}/invoices/{invoice['id']}/void", json={"reason": "Raised twice"}, headers=owner.headers
        )
        assert void.status_code == 200, void.text
        assert fake.links[link["id"]]["status"] == "paid"  # paid before the void: not cancellable there
        body, headers = fake.link_paid_event(account, link["id"])
        answer = (await client.post(webhook_path(gateway), content=body, headers=headers)).json()
        assert answer["detail"] == "paid-refund-due"
        flagged = (await client.get(f"{API}/online-payments?refund_due=true", headers=owner.headers)).json()
        assert [p["id"] for p in flagged["items"]] == [made["payment"]["id"]]
        [receipt] = await Books(razorpay_app, owner.tenant_id).receipts()
        assert (str(receipt.amount), str(receipt.amount_allocated)) == ("640.00", "0.00")
        assert await customer_balance(client, party) == "-640.00"

    async def test_a_second_payment_of_a_paid_link_is_recorded_once_and_flagged(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        """The buyer paid the link twice: the second payment is money received, recorded once (its
        replays and its verify find it), on a payment of its own flagged for refund."""
        client, fake = razorpay_client, fake_razorpay
        owner = await make_tenant(client)
        account, gateway, party, invoice, made, query, link = await self.paid_link(client, fake, owner, "500.00")
        assert (await verify(client, owner, made, query)).json()["outcome"] == "paid"
        notes = {"online_payment_id": made["payment"]["id"]}
        answers = []
        for event_id in ("evt_second0001", "evt_second0002", "evt_second0001"):
            body, headers = fake.payment_event(
                account,
                "payment.captured",
                link["order_id"],
                "pay_Second000001",
                amount=50000,
                notes=notes,
                event_id=event_id,
            )
            response = await client.post(webhook_path(gateway), content=body, headers=headers)
            assert response.status_code == 200, response.text
            answers.append(response.json()["detail"])
        assert answers[0] == "another-payment-paid-refund-due" and answers[1] == "already-paid", answers
        receipts = await Books(razorpay_app, owner.tenant_id).receipts()
        assert {r.reference: (str(r.amount), str(r.amount_allocated)) for r in receipts} == {
            query["razorpay_payment_id"]: ("500.00", "500.00"),
            "pay_Second000001": ("500.00", "0.00"),
        }
        assert await invoice_state(client, party, invoice) == ("paid", "500.00", "0.00")
        assert await customer_balance(client, party) == "-500.00"  # the second payment: their advance
        flagged = (await client.get(f"{API}/online-payments?refund_due=true", headers=owner.headers)).json()
        [extra] = flagged["items"]
        assert (extra["razorpay_payment_id"], extra["invoice_id"]) == ("pay_Second000001", invoice["id"])


async def test_voiding_an_invoice_withdraws_its_open_link(razorpay_client, razorpay_app, fake_razorpay):
    client, fake = razorpay_client, fake_razorpay
    owner = await make_tenant(client)
    await save_gateway(razorpay_app, owner, fake.account())
    party, invoice = await party_with_invoice(client, owner, "350.00")
    made = (await make_link(client, owner, invoice)).json()
    void = await client.post(
        f"{API}/invoices/{invoice['id']}/void", json={"reason": "Wrong rate"}, headers=owner.headers
    )
    assert void.status_code == 200, void.text
    assert fake.links[made["payment"]["gateway_ref"]]["status"] == "cancelled"
    read = await client.get(f"{API}/online-payments/{made['payment']['id']}", headers=owner.headers)
    assert read.json()["status"] == "cancelled"
    # a gateway down does not stop a void: the link is cancelled here, the failure logged
    other = await invoice_of(client, party, "120.00")
    other_link = (await make_link(client, owner, other)).json()
    fake.fail_next(3, 503)
    void = await client.post(f"{API}/invoices/{other['id']}/void", json={"reason": "Wrong rate"}, headers=owner.headers)
    assert void.status_code == 200, void.text
    read = await client.get(f"{API}/online-payments/{other_link['payment']['id']}", headers=owner.headers)
    assert read.json()["status"] == "cancelled"
    assert fake.links[other_link["payment"]["gateway_ref"]]["status"] == "created"  # not reached there
