"""Checks shared by the API tests: problem responses, secrets never sent, following cursors."""

import httpx

from tests.factories import Account

SECRET_FIELDS = ("password_hash", "token_hash")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_no_secrets(response: httpx.Response) -> None:
    for field in SECRET_FIELDS:
        assert field not in response.text, f"{field} in {response.request.url}: {response.text[:300]}"


async def all_pages(client: httpx.AsyncClient, account: Account, url: str, *, limit: int, **params):
    """Follow next_cursor to the end: (ids in order, pages)."""
    seen, pages, cursor = [], [], None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages
        assert len(pages) < 100, "pagination does not end"
