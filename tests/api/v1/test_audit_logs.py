"""The audit trail over HTTP: who may read it, filters, ordering and cursor pagination."""

import base64
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from tests.api.v1.http_checks import all_pages, assert_no_secrets, assert_problem
from tests.api.v1.members import add_member
from tests.factories import API, Account, make_tenant

URL = f"{API}/audit-logs"


async def audit(client: httpx.AsyncClient, account: Account, **params) -> list[dict]:
    response = await client.get(URL, params={"limit": 100, **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    assert_no_secrets(response)
    return response.json()["items"]


async def busy_tenant(client: httpx.AsyncClient, mailbox) -> tuple[Account, Account]:
    """An owner and an accountant, with writes by both (each write is an audit row)."""
    owner = await make_tenant(client)
    member = await add_member(client, mailbox, owner, "accountant")
    for n in range(3):
        await client.put(f"{API}/tenants/me", json={"name": f"Sharma Traders {n}"}, headers=owner.headers)
    await client.patch(f"{API}/users/me", json={"full_name": "Anil Kumar"}, headers=member.headers)
    await client.patch(f"{API}/users/{member.user['id']}", json={"role": "viewer"}, headers=owner.headers)
    return owner, member


@pytest.fixture
async def tenant(client, mailbox) -> tuple[Account, Account]:
    return await busy_tenant(client, mailbox)


def ids(rows: list[dict]) -> list[str]:
    return [row["id"] for row in rows]


async def assert_filter(client, owner: Account, params: dict, keep: Callable[[dict], bool]) -> None:
    """The filtered list is exactly the matching part of the whole list, in the same order."""
    everything = await audit(client, owner)
    expected = [row for row in everything if keep(row)]
    assert 0 < len(expected) < len(everything), f"{params} would not narrow anything down"
    assert ids(await audit(client, owner, **params)) == ids(expected)


class TestAccess:
    @pytest.mark.parametrize("role", ["accountant", "viewer"])
    async def test_only_owners_and_admins_read_it(self, client, mailbox, role):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, role)
        assert_problem(await client.get(URL, headers=member.headers), 403, "role-forbidden")
        admin = await add_member(client, mailbox, owner, "admin")
        assert await audit(client, admin)


class TestFilters:
    async def test_by_entity_type(self, client, tenant):
        owner, _ = tenant
        await assert_filter(client, owner, {"entity_type": "tenant"}, lambda r: r["entity_type"] == "tenant")

    async def test_by_entity_id(self, client, tenant):
        owner, member = tenant
        member_id = member.user["id"]
        await assert_filter(client, owner, {"entity_id": member_id}, lambda r: r["entity_id"] == member_id)

    async def test_by_actor(self, client, tenant):
        owner, member = tenant
        member_id = member.user["id"]
        await assert_filter(client, owner, {"actor_user_id": member_id}, lambda r: r["actor_user_id"] == member_id)

    async def test_by_action(self, client, tenant):
        owner, _ = tenant
        await assert_filter(client, owner, {"action": "tenant.updated"}, lambda r: r["action"] == "tenant.updated")

    async def test_by_date_range_from_inclusive_to_exclusive(self, client, tenant):
        owner, _ = tenant
        rows = await audit(client, owner)
        middle = rows[len(rows) // 2]["at"]
        pivot = datetime.fromisoformat(middle)
        await assert_filter(client, owner, {"from": middle}, lambda r: datetime.fromisoformat(r["at"]) >= pivot)
        await assert_filter(client, owner, {"to": middle}, lambda r: datetime.fromisoformat(r["at"]) < pivot)
        assert await audit(client, owner, **{"from": middle, "to": middle}) == []

    async def test_filters_combine(self, client, tenant):
        owner, _ = tenant
        params = {"entity_type": "user", "actor_user_id": owner.user["id"]}
        await assert_filter(
            client, owner, params, lambda r: r["entity_type"] == "user" and r["actor_user_id"] == owner.user["id"]
        )

    @pytest.mark.parametrize(
        "params",
        [
            {"entity_id": "not-a-uuid"},
            {"actor_user_id": "42"},
            {"from": "yesterday"},
            {"to": "0.5"},
            {"from": "2026-13-45"},
            {"entity_type": "x" * 51},
            {"sort": "password_hash"},
        ],
    )
    async def test_bad_filters_are_422(self, client, params):
        owner = await make_tenant(client)
        response = await client.get(URL, params=params, headers=owner.headers)
        assert_problem(response, 422, "validation-error")

    async def test_what_a_row_records(self, client, tenant):
        owner, member = tenant
        (row,) = await audit(
            client, owner, action="user.updated", entity_id=member.user["id"], actor_user_id=owner.user["id"]
        )
        assert (row["before"]["role"], row["after"]["role"]) == ("accountant", "viewer")
        assert row["ip"] and row["request_id"] and row["at"]


class TestPagination:
    async def test_pages_do_not_overlap_and_end_with_a_null_cursor(self, client, tenant):
        owner, _ = tenant
        everything = await audit(client, owner)
        assert len(everything) >= 7
        seen, pages = await all_pages(client, owner, URL, limit=3)
        assert seen == ids(everything)
        assert all(len(page) == 3 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 3

    async def test_newest_first_unless_asked(self, client, tenant):
        owner, _ = tenant
        newest_first = await audit(client, owner)
        oldest_first = await audit(client, owner, sort="at")
        assert ids(oldest_first) == ids(newest_first)[::-1]
        times = [datetime.fromisoformat(r["at"]) for r in newest_first]
        assert times == sorted(times, reverse=True)
        seen, _ = await all_pages(client, owner, URL, limit=2, sort="at")
        assert seen == ids(oldest_first)

    async def test_filters_hold_across_pages(self, client, tenant):
        owner, _ = tenant
        expected = await audit(client, owner, entity_type="tenant")
        seen, _ = await all_pages(client, owner, URL, limit=1, entity_type="tenant")
        assert seen == ids(expected) and len(seen) >= 3

    @pytest.mark.parametrize("limit", ["0", "-1", "101", "99999999999999999999", "1.5"])
    async def test_limit_out_of_range_is_422(self, client, limit):
        owner = await make_tenant(client)
        assert_problem(await client.get(URL, params={"limit": limit}, headers=owner.headers), 422, "validation-error")

    @pytest.mark.parametrize("cursor", ["not a cursor!", "", "%%%", "a.b"])
    async def test_a_malformed_cursor_is_422(self, client, cursor):
        owner = await make_tenant(client)
        assert_problem(await client.get(URL, params={"cursor": cursor}, headers=owner.headers), 422)

    @pytest.mark.parametrize("payload", [b'["not-a-date","x"]', b"[1,2]", b"{}", b"\xff" * 16, b'["2026"]'])
    async def test_a_forged_cursor_is_refused(self, client, payload):
        """Well-formed but not issued by the API: refused as a client error, never a 500 or a page."""
        owner = await make_tenant(client)
        forged = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        response = await client.get(URL, params={"cursor": forged}, headers=owner.headers)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
