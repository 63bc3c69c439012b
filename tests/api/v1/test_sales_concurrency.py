"""Counter sales racing each other over real HTTP (a served app, its own connection pool): stock
is never sold twice, numbers stay consecutive, and one Idempotency-Key is one sale."""

import asyncio
import uuid

import httpx

from tests.api.v1.selling import Shop
from tests.factories import API, make_tenant


def seq(number: str) -> int:
    return int(number.rsplit("/", 1)[1])


async def test_80_concurrent_one_unit_sales_against_50_in_stock(app, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as setup:
        shop = await Shop.open(app, setup, await make_tenant(setup))
        tea = await shop.product(setup, stock="50")

    async def sell(n: int) -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            line = {"product_id": tea["id"], "quantity": "1"}
            return await shop.sell(c, [line], [{"mode": "cash", "amount": "200.00"}], key=f"race-{n}-{uuid.uuid4()}")

    responses = await asyncio.gather(*(sell(n) for n in range(80)))
    sold = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(sold) == 50, [r.text for r in refused if r.status_code != 409][:3]
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(409, "insufficient-stock")}
    assert sorted(seq(r.json()["number"]) for r in sold) == list(range(1, 51))
    assert {r.json()["change_due"] for r in sold} == {"82.00"}
    assert await shop.level(tea["id"]) == (0, 0)  # on_hand 0, and Σ movements = the level
    counts = await shop.counts()
    assert (counts["invoices"], counts["receipts"], counts["movements"]) == (50, 50, 50)
    # the shop's first walk-in sales raced to make its walk-in customer: one was made
    assert counts["walk_ins"] == 1 and len({r.json()["customer_id"] for r in sold}) == 1


async def test_20_concurrent_replays_of_one_key_make_one_sale(app, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as setup:
        shop = await Shop.open(app, setup, await make_tenant(setup))
        tea, salt = await shop.product(setup, stock="10"), await shop.product(setup, stock="10")
    key = f"dropped-network-{uuid.uuid4()}"
    lines = [{"product_id": tea["id"], "quantity": "2"}, {"product_id": salt["id"], "quantity": "1"}]
    payments = [{"mode": "cash", "amount": "300.00"}, {"mode": "upi", "amount": "54.00"}]

    async def retry() -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
            return await shop.sell(c, lines, payments, key=key)

    responses = await asyncio.gather(*(retry() for _ in range(20)))
    done = [r for r in responses if r.status_code == 201]
    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses if r.status_code >= 400][:2]
    assert done and all(r.json() == done[0].json() for r in done)  # every success is the same sale
    assert sum(r.headers["Idempotent-Replayed"] == "false" for r in done) == 1
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
        late = await shop.sell(c, lines, payments, key=key)  # a retry after the rush: the same sale
    assert late.status_code == 201 and late.json() == done[0].json()
    assert late.headers["Idempotent-Replayed"] == "true"
    counts = await shop.counts()
    assert (counts["invoices"], counts["receipts"], counts["movements"]) == (1, 2, 2)
    assert await shop.level(tea["id"]) == (8, 8) and await shop.level(salt["id"]) == (9, 9)
    async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
        invoices = (await c.get(f"{API}/invoices", headers=shop.account.headers)).json()["items"]
    assert [i["id"] for i in invoices] == [done[0].json()["invoice_id"]]
