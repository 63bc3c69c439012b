"""Products and stock for the cross-tenant probe: a category, a product in it with stock received
and adjusted in the tenant's first company (two stock documents), and negative stock allowed (a
saved settings row another tenant's reads must never show)."""

import httpx

from tests.api.v1.product_rows import make_category, make_product
from tests.factories import API


async def add_stock_rows(client: httpx.AsyncClient, tenant) -> None:
    owner = tenant.owner
    category = await make_category(client, owner)
    product = await make_product(client, owner, category_id=category["id"], reorder_level="5")
    tenant.category_ids = [category["id"]]
    tenant.product_ids = [product["id"]]
    company_id = tenant.company_ids[0]
    receipt = {"company_id": company_id, "lines": [{"product_id": product["id"], "quantity": "40"}]}
    response = await client.post(f"{API}/stock/receipts", json=receipt, headers=owner.headers)
    assert response.status_code == 201, response.text
    adjustment = {
        "company_id": company_id,
        "reason": "damaged",
        "lines": [{"product_id": product["id"], "change": "-1"}],
    }
    second = await client.post(f"{API}/stock/adjustments", json=adjustment, headers=owner.headers)
    assert second.status_code == 201, second.text
    tenant.stock_document_ids = [response.json()["id"], second.json()["id"]]
    settings = await client.put(f"{API}/inventory-settings", json={"allow_negative_stock": True}, headers=owner.headers)
    assert settings.status_code == 200, settings.text
