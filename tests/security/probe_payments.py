"""Payments for the cross-tenant probe: a paid sandbox upgrade (captured) and an order left open.

Razorpay's order and payment ids are the tenant's in our database, but the client brings them
back from Checkout: see OUTSIDE_IDS in probe_sources.py for how the probe judges them."""

import httpx

from tests.api.v1.payment_flow import order, verify


async def add_payment_rows(client: httpx.AsyncClient, tenant) -> None:
    paid = await order(client, tenant.owner)
    response = await verify(client, tenant.owner, paid["sandbox_checkout"])
    assert response.status_code == 200, response.text
    pending = await order(client, tenant.owner)
    tenant.razorpay_order_ids = [paid["order_id"], pending["order_id"]]
    tenant.razorpay_payment_ids = [paid["sandbox_checkout"]["razorpay_payment_id"]]
    tenant.payment_ids = [paid["payment_id"], pending["payment_id"]]
