"""A recurring invoice for the cross-tenant probe: a monthly schedule of the invoice party's
company and customer (its history is read through GET /recurring-invoices/{id}/invoices)."""

import httpx

from tests.factories import API


async def add_recurring_rows(client: httpx.AsyncClient, tenant) -> None:
    party = tenant.invoice_party
    body = {
        "company_id": party.company["id"],
        "customer_id": party.customer["id"],
        "frequency": "monthly",
        "day_of_month": 31,
        "lines": [
            {
                "description": "Probe retainer",
                "hsn_sac": "998311",
                "quantity": "1",
                "unit_price": "100.00",
                "gst_rate": "18",
            }
        ],
    }
    response = await client.post(f"{API}/recurring-invoices", json=body, headers=tenant.owner.headers)
    assert response.status_code == 201, response.text
    tenant.recurring_invoice_ids = [response.json()["id"]]
