"""Orders racing over real HTTP (a served app, its own connection pool): 80 concurrent places
for 50 units reserve exactly 50, and one Idempotency-Key places an order once."""

import asyncio
import uuid

import httpx

from tests.api.v1.ordering import OrderShop
from tests.factories import make_tenant


async def test_80_concurrent_places_for_50_units_reserve_exactly_50(app, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as setup:
        shop = await OrderShop.open_with_customer(app, setup, await make_tenant(setup))
        tea = await shop.product(setup, stock="50")
        drafts = [await shop.draft(setup, [{"product_id": tea["id"], "quantity": "1"}]) for _ in range(80)]

    async def place(n: int, order: dict) -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            return await shop.place(c, order["id"], "online" if n % 2 else "pay_later")

    responses = await asyncio.gather(*(place(n, order) for n, order in enumerate(drafts)))
    placed = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert len(placed) == 50, [r.text for r in refused if r.status_code != 409][:3]
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(409, "insufficient-stock")}
    assert {r.json()["lines"][0]["available"] for r in refused} == {"0"}
    assert await shop.stock_of(tea["id"]) == (50, 50)  # all reserved, none sold, never more
    rows = await shop.rows()
    assert (rows["reservations"], rows["sales"], rows["invoices"]) == (50, 0, 0)
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
        statuses = [(await shop.get(c, order["id"]))["status"] for order in drafts]
    assert statuses.count("placed") == 50 and statuses.count("draft") == 30


async def test_20_concurrent_replays_of_one_place_key_place_once(app, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as setup:
        shop = await OrderShop.open_with_customer(app, setup, await make_tenant(setup))
        tea = await shop.product(setup, stock="10")
        order = await shop.draft(setup, [{"product_id": tea["id"], "quantity": "3"}])
    key = f"place-{uuid.uuid4()}"

    async def retry() -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            return await shop.place(c, order["id"], "online", key=key)

    responses = await asyncio.gather(*(retry() for _ in range(20)))
    done = [r for r in responses if r.status_code == 200]
    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses if r.status_code >= 400][:2]
    assert done and all(r.json() == done[0].json() for r in done)  # one gateway order, one answer
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"idempotency-key-in-flight"}
    assert await shop.stock_of(tea["id"]) == (10, 3)
    assert (await shop.rows())["reservations"] == 1
