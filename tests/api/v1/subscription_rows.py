"""Subscriptions for tests: read through the API, or written straight through the app's database
(as the app role, tenant bound) where a test needs a state the clock alone cannot give it."""

import uuid
from datetime import datetime

import httpx
from sqlalchemy import select

from app.models.base import utcnow
from app.models.platform.subscription import Subscription
from app.repositories.platform.subscriptions import SubscriptionRepository
from tests.factories import API, Account


async def subscription(client: httpx.AsyncClient, account: Account) -> dict:
    response = await client.get(f"{API}/tenants/subscription", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def put_on_plan(app, tenant_id: str, plan: str, status: str) -> None:
    """End the tenant's current subscription row and start an open-ended one on `plan`."""
    now = utcnow()
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        repo = SubscriptionRepository(session)
        await repo.end(await repo.current(), now)
        await repo.add(Subscription(plan_code=plan, status=status, current_period_start=now))


async def history(app, tenant_id: str) -> list[tuple[str, str, datetime, datetime | None, bool]]:
    """(plan, status, period start, period end, is current) of every row, oldest first."""
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        rows = await session.execute(
            select(
                Subscription.plan_code,
                Subscription.status,
                Subscription.current_period_start,
                Subscription.current_period_end,
                Subscription.is_current,
            ).order_by(Subscription.current_period_start, Subscription.created_at)
        )
        return [tuple(row) for row in rows]
