"""Helpers for the business configuration tests."""

import httpx

from tests.factories import API, Account

# Valid GSTINs (check character included): Maharashtra and Karnataka.
GSTIN_MH = "27AAPFU0939F1ZV"
PAN_MH = "AAPFU0939F"
GSTIN_KA = "29AAGCB7383J1Z4"


async def audit_rows(client: httpx.AsyncClient, owner: Account, entity_id: str) -> list[dict]:
    response = await client.get(f"{API}/audit-logs", params={"entity_id": entity_id}, headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def walk(client: httpx.AsyncClient, account: Account, path: str, **params) -> list[dict]:
    """Every item of a list, page by page through `next_cursor`."""
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{API}{path}", params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
