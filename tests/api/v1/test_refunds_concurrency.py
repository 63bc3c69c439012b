"""Refunds racing over real HTTP (a served app in sandbox mode, its own connection pool): refunds of
one order never exceed what was paid, and one Idempotency-Key refunds once."""

import asyncio
import uuid
from decimal import Decimal as D

import httpx

from tests.api.v1.ordering import OrderShop
from tests.factories import API, make_tenant


async def paid_order(app, client: httpx.AsyncClient) -> tuple[OrderShop, dict]:
    """An order of 2 x ₹100 + 18 % (236.00), placed online, paid and verified in sandbox: confirmed."""
    shop = await OrderShop.open_with_customer(app, client, await make_tenant(client))
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2"}])
    placed = await shop.place(client, order["id"], "online")
    assert placed.status_code == 200, placed.text
    sandbox = placed.json()["checkout"]["sandbox_payment"]
    verified = await shop.post(client, f"/orders/{order['id']}/verify-payment", sandbox)
    assert verified.status_code == 200 and verified.json()["status"] == "confirmed", verified.text
    return shop, order


async def test_20_concurrent_refunds_never_exceed_what_was_paid(app, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as setup:
        shop, order = await paid_order(app, setup)

    async def refund() -> httpx.Response:
        headers = shop.account.headers | {"Idempotency-Key": str(uuid.uuid4())}
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            body = {"amount": "50.00", "reason": "Goodwill"}
            return await c.post(f"{API}/orders/{order['id']}/refund", json=body, headers=headers)

    responses = await asyncio.gather(*(refund() for _ in range(20)))
    made = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(made) == 4, [r.text for r in refused if r.status_code != 409][:3]  # 4 x 50 <= 236 < 5 x 50
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(409, "refund-exceeds-paid")}
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
        listed = await c.get(f"{API}/refunds", params={"order_id": order["id"]}, headers=shop.account.headers)
        notes = await c.get(f"{API}/credit-notes", headers=shop.account.headers)
    assert sum(D(r["amount"]) for r in listed.json()["items"]) == D("200.00")
    assert sum(D(n["total"]) for n in notes.json()["items"]) == D("200.00")


async def test_20_concurrent_replays_of_one_refund_key_refund_once(app, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as setup:
        shop, order = await paid_order(app, setup)
    headers = shop.account.headers | {"Idempotency-Key": f"refund-{uuid.uuid4()}"}
    body = {"amount": "100.00", "reason": "Late delivery"}

    async def refund() -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            return await c.post(f"{API}/orders/{order['id']}/refund", json=body, headers=headers)

    responses = await asyncio.gather(*(refund() for _ in range(20)))
    assert {r.status_code for r in responses} <= {201, 409}
    made = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(made) == 1
    in_flight = {r.json()["code"] for r in responses if r.status_code == 409}
    assert in_flight <= {"idempotency-key-in-flight"}
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
        listed = await c.get(f"{API}/refunds", params={"order_id": order["id"]}, headers=shop.account.headers)
    assert [r["id"] for r in listed.json()["items"]] == list(made)
