"""Storage agreements for tests: an agreement of a Party (company + customer), goods received and
released through the API."""

import httpx

from tests.api.v1.invoicing import Party
from tests.factories import API, Account


async def make_agreement(client: httpx.AsyncClient, party: Party, **fields) -> dict:
    body = {"company_id": party.company["id"], "customer_id": party.customer["id"]} | fields
    response = await client.post(f"{API}/storage-agreements", json=body, headers=party.account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def move(
    client: httpx.AsyncClient, account: Account, agreement: dict, kind: str, day: str, *lines: dict, **fields
) -> httpx.Response:
    """POST goods `receipts` or `releases` dated `day`."""
    body = {"movement_date": day, "lines": list(lines)} | fields
    return await client.post(f"{API}/storage-agreements/{agreement['id']}/{kind}", json=body, headers=account.headers)


async def moved(
    client: httpx.AsyncClient, account: Account, agreement: dict, kind: str, day: str, *lines: dict
) -> list:
    response = await move(client, account, agreement, kind, day, *lines)
    assert response.status_code == 201, response.text
    return response.json()["movements"]


def goods(product: dict, quantity: str, unit_value: str | None = None) -> dict:
    return {"product_id": product["id"], "quantity": quantity} | ({"unit_value": unit_value} if unit_value else {})
