"""Refunds for the cross-tenant probe (sandbox): a payment link paid after its invoice was voided
(so the payment is flagged for refund and its receipt left unallocated), refunded in part through
POST /online-payments/{id}/refund (so part of it is left to refund)."""

import uuid
from urllib.parse import urlsplit

import httpx

from tests.api.v1.invoicing import line
from tests.factories import API


async def add_refund_rows(client: httpx.AsyncClient, tenant) -> None:
    headers = tenant.owner.headers
    invoice = await tenant.invoice_party.invoice(client, line(unit_price="400.00", gst_rate="0"))
    response = await client.post(
        f"{API}/invoices/{invoice['id']}/payment-link", headers=headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.text
    made = response.json()
    response = await client.post(
        f"{API}/invoices/{invoice['id']}/void", json={"reason": "Raised twice"}, headers=headers
    )
    assert response.status_code == 200, response.text
    parts = urlsplit(made["sandbox_pay_url"])
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.text
    payment_id = made["payment"]["id"]
    response = await client.post(
        f"{API}/online-payments/{payment_id}/refund",
        json={"amount": "100.00", "reason": "Invoice voided"},
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    tenant.refund_ids.append(response.json()["id"])
