"""The paid-upgrade flow through the API, for the upgrade and webhook tests."""

import httpx

from app.services.platform.subscriptions import add_month
from tests.api.v1.subscription_rows import history
from tests.factories import API, Account, verify_email

__all__ = ["add_month"]


async def upgrade(
    client: httpx.AsyncClient, account: Account, plan: str = "standard", **headers: str
) -> httpx.Response:
    """Start an upgrade as `account`, whose email is verified first (an unverified payer is refused)."""
    await verify_email(client, account)
    return await client.post(f"{API}/tenants/upgrade", json={"plan": plan}, headers=account.headers | headers)


async def order(client: httpx.AsyncClient, account: Account, plan: str = "standard") -> dict:
    response = await upgrade(client, account, plan)
    assert response.status_code == 201, response.text
    return response.json()


async def verify(client: httpx.AsyncClient, account: Account, checkout: dict) -> httpx.Response:
    return await client.post(f"{API}/tenants/upgrade/verify", json=checkout, headers=account.headers)


async def pay(client: httpx.AsyncClient, account: Account, plan: str = "standard") -> dict:
    """Order `plan` and verify the sandbox checkout's result: the payment is captured."""
    response = await verify(client, account, (await order(client, account, plan))["sandbox_checkout"])
    assert response.status_code == 200, response.text
    return response.json()


async def payments(client: httpx.AsyncClient, account: Account) -> list[dict]:
    response = await client.get(f"{API}/tenants/payments", params={"limit": 100}, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def paid_rows(app, tenant_id: str) -> list[tuple]:
    """The subscription history rows that a payment started (status active)."""
    return [row for row in await history(app, tenant_id) if row[1] == "active"]


def problem_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["code"]
