"""Products and a counter sale for the cross-tenant probe: two products of the invoice party's
company (the first sold without tracking stock, the second tracked with none), the first sold once at the counter (to the company's walk-in customer)."""

import uuid

import httpx

from tests.factories import API


async def add_sale_rows(client: httpx.AsyncClient, tenant) -> None:
    headers = tenant.owner.headers
    for n in range(2):
        body = {
            "name": f"Probe tea {n}",
            "sku": f"PROBE-{uuid.uuid4().hex[:8]}",
            "hsn_code": "0902",
            "unit": "NOS",
            "sale_price": "100.00",
            "gst_rate": "18",
            "track_stock": n == 1,
        }
        response = await client.post(f"{API}/products", json=body, headers=headers)
        assert response.status_code == 201, response.text
        tenant.product_ids.append(response.json()["id"])
    sale = {
        "company_id": tenant.invoice_party.company["id"],
        "lines": [{"product_id": tenant.product_ids[0], "quantity": "1"}],
        "payments": [{"mode": "cash", "amount": "118.00"}],
    }
    response = await client.post(f"{API}/sales", json=sale, headers=headers | {"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
