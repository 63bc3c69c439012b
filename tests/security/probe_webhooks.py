"""A webhook endpoint with one delivery, so that /webhook-endpoints/{endpoint_id}/... and its
deliveries meet real rows, and a second endpoint the probe's own-tenant control does not delete (it
deletes every id of the sources), so the list is still not empty for the reads after it. The URLs
are a literal public address (saved without DNS); both endpoints are disabled, so nothing is ever
sent from the probe."""

import uuid

import httpx

from app.services.platform import events
from tests.factories import API


async def add_webhook_rows(client: httpx.AsyncClient, tenant) -> None:
    headers = tenant.owner.headers
    kept = {"url": "https://93.184.215.14/hooks/kept", "event_types": ["invoice.voided"]}
    response = await client.post(f"{API}/webhook-endpoints", json=kept, headers=headers)
    assert response.status_code == 201, response.text
    response = await client.patch(
        f"{API}/webhook-endpoints/{response.json()['id']}", json={"enabled": False}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = {"url": "https://93.184.215.14/hooks/probe", "event_types": ["invoice.voided"], "description": "probe"}
    response = await client.post(f"{API}/webhook-endpoints", json=body, headers=headers)
    assert response.status_code == 201, response.text
    endpoint_id = response.json()["id"]
    app = client._transport.app  # type: ignore[attr-defined]  # the ASGI app the client talks to
    async with app.state.db.transaction(uuid.UUID(tenant.tenant_id)) as session:
        event_id = await events.record(
            session, "invoice.voided", resource_type="invoice", resource_id=uuid.uuid4(), payload={"probe": True}
        )
    response = await client.patch(f"{API}/webhook-endpoints/{endpoint_id}", json={"enabled": False}, headers=headers)
    assert response.status_code == 200, response.text
    response = await client.get(f"{API}/webhook-endpoints/{endpoint_id}/deliveries", headers=headers)
    assert response.status_code == 200 and response.json()["items"], response.text
    tenant.webhook_endpoint_ids = [endpoint_id]
    tenant.webhook_event_ids = [str(event_id)]
    tenant.webhook_delivery_ids = [response.json()["items"][0]["id"]]
