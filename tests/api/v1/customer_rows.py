"""Customers and the rows they refer to, for tests. Client types and account managers are written
straight through the app's database (as the app role, tenant bound), so these tests do not
depend on the /client-types and /account-managers routes."""

import uuid

import httpx
from stdnum import luhn

from app.models.billing.business import AccountManager, ClientType
from tests.factories import API, Account

GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gstin(state: str = "29", pan: str = "AABCT3518Q", entity: str = "1") -> str:
    """A GSTIN with a correct check character."""
    body = f"{state}{pan}{entity}Z"
    return body + luhn.calc_check_digit(body, GSTIN_ALPHABET)


async def _insert(app, tenant_id: str, row) -> str:
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        row.tenant_id = uuid.UUID(tenant_id)
        session.add(row)
        await session.flush()
        return str(row.id)


async def make_client_type(app, account: Account, name: str = "Retail") -> str:
    return await _insert(app, account.tenant_id, ClientType(name=f"{name} {uuid.uuid4().hex[:6]}"))


async def make_account_manager(app, account: Account, name: str = "Meera Iyer") -> str:
    return await _insert(app, account.tenant_id, AccountManager(name=name))


async def make_customer(client: httpx.AsyncClient, account: Account, **fields) -> dict:
    body = {"name": "Sharma Stores", "billing_address": {"state_code": "27"}} | fields
    response = await client.post(f"{API}/customers", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()
