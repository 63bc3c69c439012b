"""Usage quotas for tests: the HTTP calls, and the stored periods and ledger read straight from the
app's database (as the app role, tenant bound)."""

import uuid

import httpx
from sqlalchemy import select

from app.models.platform.usage import UsageLedgerEntry, UsagePeriod
from tests.factories import API, Account


async def usage(client: httpx.AsyncClient, account: Account) -> dict:
    response = await client.get(f"{API}/usage", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def consume(
    client: httpx.AsyncClient, account: Account, quantity: int, *, key: str | None = None, meter: str = "tokens"
) -> httpx.Response:
    headers = account.headers | ({"Idempotency-Key": key} if key else {})
    return await client.post(f"{API}/usage/consume", json={"meter": meter, "quantity": quantity}, headers=headers)


async def set_plan(client: httpx.AsyncClient, account: Account, plan: str, **extra) -> httpx.Response:
    return await client.post(f"{API}/tokens/set-plan", json={"plan": plan, **extra}, headers=account.headers)


async def periods(app, tenant_id: str, meter: str = "tokens") -> list[UsagePeriod]:
    """Every stored period of the meter, oldest first."""
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        stmt = select(UsagePeriod).where(UsagePeriod.meter == meter).order_by(UsagePeriod.period_start)
        return list((await session.execute(stmt)).scalars())


async def ledger(app, tenant_id: str, meter: str = "tokens") -> list[UsageLedgerEntry]:
    """Every ledger entry of the meter, oldest first."""
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        stmt = (
            select(UsageLedgerEntry)
            .where(UsageLedgerEntry.meter == meter)
            .order_by(UsageLedgerEntry.created_at, UsageLedgerEntry.id)
        )
        return list((await session.execute(stmt)).scalars())
