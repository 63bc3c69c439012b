"""A low-stock alert and a stock transfer for the cross-tenant probe: a product of its own with a
reorder level, goods received below it (the ledger opens an alert), and a transfer between two
unregistered companies of the tenant (a delivery challan)."""

import httpx

from tests.factories import API

N = 0


async def _post(client: httpx.AsyncClient, tenant, path: str, body: dict) -> dict:
    response = await client.post(f"{API}{path}", json=body, headers=tenant.owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def add_transfer_rows(client: httpx.AsyncClient, tenant) -> None:
    """Two companies of its own (the probe deletes the tenant's first company)."""
    global N
    N += 1
    product = await _post(
        client,
        tenant,
        "/products",
        {
            "name": f"Probe low rice {N}",
            "sku": f"PROBE-LOW-{N}",
            "hsn_code": "1006",
            "unit": "NOS",
            "sale_price": "50.00",
            "gst_rate": "5",
            "reorder_level": "10",
        },
    )
    shop = await _post(client, tenant, "/companies", {"legal_name": "Probe Shop", "state_code": "07"})
    godown = await _post(client, tenant, "/companies", {"legal_name": "Probe Godown", "state_code": "07"})
    lines = [{"product_id": product["id"], "quantity": "4"}]
    await _post(client, tenant, "/stock/receipts", {"company_id": godown["id"], "lines": lines})
    transfer = {"from_company_id": godown["id"], "to_company_id": shop["id"], "lines": [lines[0] | {"quantity": "1"}]}
    await _post(client, tenant, "/stock/transfers", transfer)
