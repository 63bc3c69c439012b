"""Storage agreements for the cross-tenant probe: an agreement of the tenant's first customer and
company holding the probed product (received, part released), so that every storage route and the
ids they take (path and body) have the tenant's own rows behind them."""

import httpx

from tests.factories import API


async def add_storage_rows(client: httpx.AsyncClient, tenant) -> None:
    owner, product_id = tenant.owner, tenant.product_ids[0]
    body = {"company_id": tenant.company_ids[0], "customer_id": tenant.customer_ids[0], "reference": "PROBE-1"}
    response = await client.post(f"{API}/storage-agreements", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    agreement_id = response.json()["id"]
    url = f"{API}/storage-agreements/{agreement_id}"
    received = {"lines": [{"product_id": product_id, "quantity": "10", "unit_value": "250.00"}]}
    response = await client.post(f"{url}/receipts", json=received, headers=owner.headers)
    assert response.status_code == 201, response.text
    released = {"lines": [{"product_id": product_id, "quantity": "1"}]}
    response = await client.post(f"{url}/releases", json=released, headers=owner.headers)
    assert response.status_code == 201, response.text
    tenant.storage_agreement_ids = [agreement_id]
