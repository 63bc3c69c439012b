"""A counter sale for the cross-tenant probe: a product of the catalogue that does not track
stock (so that it sells without any), sold once at the invoice party's company counter, to its
walk-in customer."""

import uuid

import httpx

from tests.factories import API


async def add_sale_rows(client: httpx.AsyncClient, tenant) -> None:
    headers = tenant.owner.headers
    body = {
        "name": "Probe counter tea",
        "sku": f"PROBE-{uuid.uuid4().hex[:8]}",
        "hsn_code": "0902",
        "unit": "NOS",
        "sale_price": "100.00",
        "gst_rate": "18",
        "track_stock": False,
    }
    response = await client.post(f"{API}/products", json=body, headers=headers)
    assert response.status_code == 201, response.text
    tenant.product_ids.append(response.json()["id"])
    sale = {
        "company_id": tenant.invoice_party.company["id"],
        "lines": [{"product_id": tenant.product_ids[-1], "quantity": "1"}],
        "payments": [{"mode": "cash", "amount": "118.00"}],
    }
    response = await client.post(f"{API}/sales", json=sale, headers=headers | {"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
