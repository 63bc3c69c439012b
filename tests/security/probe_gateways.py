"""The business's own Razorpay account for the cross-tenant probe: saved through the API (the
probe's app runs RAZORPAY_MODE=sandbox: stored unchecked), giving its webhook URL's id."""

import secrets

import httpx

from tests.factories import API


async def add_gateway_rows(client: httpx.AsyncClient, tenant) -> None:
    body = {
        "key_id": f"rzp_test_{secrets.token_hex(7)}",
        "key_secret": secrets.token_urlsafe(18),
        "webhook_secret": secrets.token_urlsafe(16),
    }
    response = await client.put(f"{API}/payment-gateways/razorpay", json=body, headers=tenant.owner.headers)
    assert response.status_code == 200, response.text
    tenant.webhook_ids = [response.json()["webhook_id"]]
