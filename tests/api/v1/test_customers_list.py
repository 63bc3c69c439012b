"""GET /customers: search, every filter, every sort, cursor pagination across pages."""

import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from tests.api.v1.customer_rows import gstin, make_account_manager, make_client_type, make_customer
from tests.factories import API, Account, make_tenant

URL = f"{API}/customers"


async def names(client: httpx.AsyncClient, account: Account, **params) -> list[str]:
    response = await client.get(URL, params={"limit": 100, **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


async def all_pages(client: httpx.AsyncClient, account: Account, *, limit: int, **params) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(URL, params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not end"


class TestSearch:
    @pytest.fixture
    async def shop(self, client):
        owner = await make_tenant(client)
        await make_customer(client, owner, name="Acme Traders", email="billing@acme.example.in")
        await make_customer(client, owner, name="Bharat Steel", gstin=gstin("27", "AAACB2894G"), billing_address={})
        await make_customer(client, owner, name="Chai Point", phone="+91 98450 12345")
        await make_customer(client, owner, name="100% Pure_Oils")
        other = await make_tenant(client)
        await make_customer(client, other, name="Acme Elsewhere")
        return owner

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("acme", ["Acme Traders"]),
            ("STEEL", ["Bharat Steel"]),
            ("27aaacb", ["Bharat Steel"]),
            ("billing@ACME", ["Acme Traders"]),
            ("98450", ["Chai Point"]),
            ("t", ["Acme Traders", "Bharat Steel", "Chai Point"]),
            ("%", ["100% Pure_Oils"]),
            ("_", ["100% Pure_Oils"]),
            ("0%", ["100% Pure_Oils"]),
            ("nothing like it", []),
        ],
    )
    async def test_q_matches_name_gstin_email_and_phone_case_insensitively(self, client, shop, q, expected):
        assert await names(client, shop, q=q) == expected

    async def test_q_with_control_characters_is_refused(self, client, shop):
        response = await client.get(URL, params={"q": "a\x00b"}, headers=shop.headers)
        assert response.status_code == 422


class TestFilters:
    async def test_client_type_and_account_manager(self, client, app):
        owner = await make_tenant(client)
        retail, wholesale = await make_client_type(app, owner, "Retail"), await make_client_type(app, owner, "Bulk")
        meera, arjun = await make_account_manager(app, owner, "Meera"), await make_account_manager(app, owner, "Arjun")
        await make_customer(client, owner, name="A", client_type_id=retail, account_manager_id=meera)
        await make_customer(client, owner, name="B", client_type_id=retail, account_manager_id=arjun)
        await make_customer(client, owner, name="C", client_type_id=wholesale)
        await make_customer(client, owner, name="D")
        assert await names(client, owner, client_type_id=retail) == ["A", "B"]
        assert await names(client, owner, client_type_id=wholesale) == ["C"]
        assert await names(client, owner, account_manager_id=arjun) == ["B"]
        assert await names(client, owner, client_type_id=retail, account_manager_id=meera) == ["A"]
        assert await names(client, owner, client_type_id=str(uuid.uuid4())) == []

    async def test_has_balance(self, client):
        owner = await make_tenant(client)
        await make_customer(client, owner, name="Owes", opening_balance="10.00")
        await make_customer(client, owner, name="Advance", opening_balance="-5.00")
        await make_customer(client, owner, name="Settled")
        assert await names(client, owner, has_balance=True) == ["Advance", "Owes"]
        assert await names(client, owner, has_balance=False) == ["Settled"]
        assert await names(client, owner) == ["Advance", "Owes", "Settled"]

    async def test_archived_customers_are_listed_only_when_asked(self, client, app):
        owner = await make_tenant(client)
        kept = await make_customer(client, owner, name="Kept")
        await make_customer(client, owner, name="Active")
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await session.execute(text("UPDATE customers SET is_archived = true WHERE id = :id"), {"id": kept["id"]})
        assert await names(client, owner) == ["Active"]
        assert await names(client, owner, archived=True) == ["Kept"]


def expected_order(customers: list[dict], sort: str) -> list[str]:
    field = sort.lstrip("-")

    def key(c: dict):
        value = Decimal(c[field]) if field == "balance" else c[field]
        return value, uuid.UUID(c["id"])

    return [c["id"] for c in sorted(customers, key=key, reverse=sort.startswith("-"))]


class TestSortAndPagination:
    @pytest.fixture
    async def many(self, client):
        owner = await make_tenant(client)
        specs = [("Zeta", "5.00"), ("Alpha", "-1.00"), ("Mid", "5.00"), ("Mid", "0.00"), ("Beta", "120.50")]
        specs += [(f"Shop {i:02}", f"{i}.00") for i in range(8)]
        customers = [await make_customer(client, owner, name=n, opening_balance=b) for n, b in specs]
        return owner, customers

    @pytest.mark.parametrize("sort", ["name", "-name", "created_at", "-created_at", "balance", "-balance"])
    async def test_pages_follow_the_sort_without_overlap_or_gaps(self, client, many, sort):
        owner, customers = many
        pages = await all_pages(client, owner, limit=3, sort=sort)
        assert [len(p) for p in pages[:-1]] == [3] * (len(pages) - 1)
        ids = [item["id"] for page in pages for item in page]
        assert len(ids) == len(set(ids)) == len(customers)
        assert ids == expected_order(customers, sort)
        assert await all_pages(client, owner, limit=3, sort=sort) == pages, "the same walk gives the same pages"

    async def test_the_default_sort_is_by_name(self, client, many):
        owner, customers = many
        pages = await all_pages(client, owner, limit=100)
        assert [item["id"] for item in pages[0]] == expected_order(customers, "name")

    async def test_a_row_added_between_pages_does_not_shift_the_walk(self, client, many):
        owner, customers = many
        first = await client.get(URL, params={"limit": 4, "sort": "name"}, headers=owner.headers)
        await make_customer(client, owner, name="AAA first of all")
        rest = await all_pages(client, owner, limit=4, sort="name", cursor=first.json()["next_cursor"])
        ids = [item["id"] for item in first.json()["items"]] + [item["id"] for page in rest for item in page]
        assert ids == expected_order(customers, "name")

    async def test_pages_continue_after_long_non_ascii_names(self, client):
        """The cursor carries the last name (JSON-escaped, base64): a long one must still be accepted."""
        owner = await make_tenant(client)
        created = [await make_customer(client, owner, name="€" * 199 + c) for c in "abc"]
        pages = await all_pages(client, owner, limit=1, sort="-name")
        assert [item["id"] for page in pages for item in page] == [c["id"] for c in reversed(created)]

    @pytest.mark.parametrize("params", [{"sort": "tenant_id"}, {"limit": 0}, {"limit": 101}, {"cursor": "a b"}])
    async def test_bad_list_parameters_are_422(self, client, params):
        owner = await make_tenant(client)
        assert (await client.get(URL, params=params, headers=owner.headers)).status_code == 422

    async def test_a_forged_cursor_is_400(self, client):
        owner = await make_tenant(client)
        response = await client.get(URL, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=owner.headers)
        assert response.status_code == 400, response.text
