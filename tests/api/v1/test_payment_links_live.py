"""Pay by link on a tenant's own (fake) Razorpay account, over real HTTP: the link's request, the
customer paying it and coming back signed with the account's key secret, a replaced link cancelled
there, and the gateway failing (5xx, timeouts) leaving nothing written here."""

import uuid
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from app.models.commerce.online_payment import OnlinePayment
from app.services.commerce import payment_gateways
from tests.api.v1.paying import Books, link_signature, make_link, party_with_invoice, verify
from tests.api.v1.receipting import alloc, customer_balance, invoice_state, receive
from tests.factories import API, make_tenant
from tests.fake_razorpay import fake_razorpay, razorpay_app, razorpay_client

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
