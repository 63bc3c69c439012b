"""A credit note for the cross-tenant probe, on an invoice of its own (the probe's invoices stay as they are)."""

import httpx

from tests.factories import API


async def add_credit_note_rows(client: httpx.AsyncClient, tenant) -> None:
    invoice = await tenant.invoice_party.invoice(client)
    body = {
        "invoice_id": invoice["id"],
        "reason": "Probe discount",
        "lines": [{"invoice_line_id": invoice["lines"][0]["id"], "taxable_value": "100.00"}],
    }
    response = await client.post(f"{API}/credit-notes", json=body, headers=tenant.owner.headers)
    assert response.status_code == 201, response.text
    tenant.credit_note_ids = [response.json()["id"]]
