"""Orders for the cross-tenant probe: a draft with a line of the probe's untracked product (so that
it can be placed without stock) at the invoice party's company, for a customer of the tenant."""

import httpx

from tests.factories import API


async def add_order_rows(client: httpx.AsyncClient, tenant) -> None:
    body = {
        "company_id": tenant.invoice_party.company["id"],
        "customer_id": tenant.customer_ids[0],
        "lines": [{"product_id": tenant.product_ids[-1], "quantity": "2"}],
    }
    response = await client.post(f"{API}/orders", json=body, headers=tenant.owner.headers)
    assert response.status_code == 201, response.text
    order = response.json()
    tenant.sales_order_ids.append(order["id"])
    tenant.order_line_ids.extend(line["id"] for line in order["lines"])
