"""Payment links for the cross-tenant probe (sandbox): one paid through its callback (so it has a
Razorpay payment id and a receipt), one open, each on a new issued invoice of the invoice party."""

import uuid
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.api.v1.invoicing import line
from tests.factories import API


async def add_online_payment_rows(client: httpx.AsyncClient, tenant) -> None:
    headers = tenant.owner.headers
    for paid in (True, False):
        invoice = await tenant.invoice_party.invoice(client, line(unit_price="250.00", gst_rate="0"))
        response = await client.post(
            f"{API}/invoices/{invoice['id']}/payment-link", headers=headers | {"Idempotency-Key": str(uuid.uuid4())}
        )
        assert response.status_code == 201, response.text
        made = response.json()
        tenant.online_payment_ids.append(made["payment"]["id"])
        query = dict(parse_qsl(urlsplit(made["sandbox_pay_url"]).query))
        tenant.payment_link_ids.append(query["razorpay_payment_link_id"])
        tenant.payment_link_reference_ids.append(query["razorpay_payment_link_reference_id"])
        if paid:
            parts = urlsplit(made["sandbox_pay_url"])
            page = await client.get(f"{parts.path}?{parts.query}")
            assert page.status_code == 200 and "Payment received" in page.text, page.text
