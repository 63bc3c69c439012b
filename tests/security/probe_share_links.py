"""Share links for the cross-tenant probe: one on the tenant's issued invoice."""

import httpx

from tests.factories import API


async def add_share_link_rows(client: httpx.AsyncClient, tenant) -> None:
    issued = tenant.invoice_ids[0]
    response = await client.post(f"{API}/invoices/{issued}/share", headers=tenant.owner.headers)
    assert response.status_code == 201, response.text
    tenant.share_link_ids = [response.json()["id"]]
