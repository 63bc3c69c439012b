"""Stock for the cross-tenant probe: the probed product (probe_products) received and adjusted in
the tenant's first company (two stock documents, a level, movements), and negative stock allowed
(a saved settings row another tenant's reads must never show)."""

import httpx

from tests.factories import API


async def add_stock_rows(client: httpx.AsyncClient, tenant) -> None:
    owner, product_id, company_id = tenant.owner, tenant.product_ids[0], tenant.company_ids[0]
    receipt = {"company_id": company_id, "lines": [{"product_id": product_id, "quantity": "40"}]}
    first = await client.post(f"{API}/stock/receipts", json=receipt, headers=owner.headers)
    assert first.status_code == 201, first.text
    adjustment = {"company_id": company_id, "reason": "damaged", "lines": [{"product_id": product_id, "change": "-1"}]}
    second = await client.post(f"{API}/stock/adjustments", json=adjustment, headers=owner.headers)
    assert second.status_code == 201, second.text
    tenant.stock_document_ids = [first.json()["id"], second.json()["id"]]
    settings = await client.put(f"{API}/inventory-settings", json={"allow_negative_stock": True}, headers=owner.headers)
    assert settings.status_code == 200, settings.text
