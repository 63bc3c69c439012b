"""Orders paid online: the gateway order made at place (sandbox and the tenant's own account on
the fake Razorpay), and the gateway failing (5xx, timeouts) leaving nothing reserved or made."""

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.main import create_app
from app.models.commerce.online_payment import OnlinePayment
from app.services.commerce import payment_gateways
from tests.api.v1.ordering import OrderShop
from tests.conftest import fresh_ip
from tests.factories import make_tenant
from tests.fake_razorpay import fake_razorpay, live_settings

__all__ = ["fake_razorpay"]  # fixtures


@pytest.fixture
async def shop(app, client, today) -> OrderShop:
    return await OrderShop.open_with_customer(app, client, await make_tenant(client))


async def test_place_online_in_sandbox_opens_a_gateway_order_and_holds_the_stock(shop, client, app, settings):
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2"}])
    placed = await shop.place(client, order["id"], "online")
    assert placed.status_code == 200, placed.text
    body = placed.json()
    checkout = body["checkout"]
    assert (checkout["amount"], checkout["currency"], checkout["sandbox"]) == (23600, "INR", True)
    assert checkout["order_id"].startswith("order_") and checkout["prefill"]["email"] == "buyer@example.in"
    assert checkout["sandbox_payment"]["razorpay_order_id"] == checkout["order_id"]
    [payment] = body["payments"]
    assert (payment["status"], payment["gateway_ref"], payment["amount"]) == ("created", checkout["order_id"], "236.00")
    now = app.state.runtime.clock()
    hold = timedelta(minutes=settings.order_hold_minutes)
    assert datetime.fromisoformat(body["hold_until"].replace("Z", "+00:00")) == now + hold
    assert await shop.stock_of(tea["id"]) == (5, 2)


@pytest.fixture
async def hasty_app(settings, fake_razorpay):
    """The app on the fake Razorpay in live mode, with a short timeout and one retry (a stall is quick to see)."""
    application = create_app(
        live_settings(settings, fake_razorpay, razorpay_timeout_seconds=0.5, razorpay_max_retries=1)
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def hasty_client(hasty_app, fake_razorpay):
    fake_razorpay.reset()
    transport = httpx.ASGITransport(app=hasty_app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
        yield c


async def _own_gateway(app, shop: OrderShop, fake) -> None:
    """The tenant's own Razorpay account on the fake (saved through the service: keys checked there)."""
    account = fake.account()
    keys = payment_gateways.Keys(account.key_id, account.key_secret, account.webhook_secret)
    async with app.state.runtime.db.transaction(shop.tenant) as session:
        await payment_gateways.save(session, app.state.runtime.context(tenant_id=shop.tenant), keys=keys)


async def _payments(app, shop: OrderShop) -> int:
    async with app.state.runtime.db.transaction(shop.tenant) as session:
        return (await session.execute(select(func.count()).select_from(OnlinePayment))).scalar_one()


@pytest.mark.parametrize("failure", ["5xx", "timeout"])
async def test_a_failing_gateway_leaves_nothing_reserved_or_made(hasty_app, hasty_client, fake_razorpay, failure):
    client = hasty_client
    shop = await OrderShop.open_with_customer(hasty_app, client, await make_tenant(client))
    await _own_gateway(hasty_app, shop, fake_razorpay)
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "2"}])
    key = f"place-{uuid.uuid4()}"
    if failure == "5xx":
        fake_razorpay.fail_next(2, status=502)
    else:
        fake_razorpay.stall_next(1, seconds=1.5)  # a create is not retried after a timeout (it may have happened)
    refused = await shop.place(client, order["id"], "online", key=key)
    assert (refused.status_code, refused.json()["code"]) == (503, "payment-gateway-unavailable"), refused.text
    assert refused.headers.get("Retry-After")
    assert (await shop.get(client, order["id"]))["status"] == "draft"
    assert await shop.stock_of(tea["id"]) == (5, 0)
    assert await _payments(hasty_app, shop) == 0
    # Razorpay back: the client's retry (same key) places the order once
    placed = await shop.place(client, order["id"], "online", key=key)
    assert placed.status_code == 200, placed.text
    assert placed.json()["checkout"]["sandbox"] is False
    assert placed.json()["checkout"]["order_id"] in fake_razorpay.orders
    assert await shop.stock_of(tea["id"]) == (5, 2) and await _payments(hasty_app, shop) == 1


async def test_the_sandbox_walks_the_whole_flow_without_keys(shop, client):
    """RAZORPAY_MODE=sandbox and no gateway saved (`make run`): Checkout's answer is in the placed
    order (`sandbox_payment`); posting it to verify-payment confirms the order."""
    tea = await shop.product(client, stock="5")
    order = await shop.draft(client, [{"product_id": tea["id"], "quantity": "1"}])
    placed = (await shop.place(client, order["id"], "online")).json()
    confirmed = await shop.post(client, f"/orders/{order['id']}/verify-payment", placed["checkout"]["sandbox_payment"])
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["amount_paid"]) == ("confirmed", "118.00")
    assert confirmed.json()["payments"][0]["is_sandbox"] is True
    assert await shop.stock_of(tea["id"]) == (4, 0)
