"""/product-categories: a tree of at most 3 levels; moves re-check the sub-tree's depth and refuse
cycles; delete only when empty; owner/admin write, everyone reads; another tenant's is a 404."""

import asyncio

from tests.api.v1.http_checks import all_pages, assert_problem
from tests.api.v1.members import add_member
from tests.api.v1.product_rows import make_category, make_product
from tests.factories import API, make_tenant

URL = f"{API}/product-categories"


async def tree(client, account) -> list:
    response = await client.get(f"{URL}/tree", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def shape(nodes: list) -> list:
    return [(n["name"], n["depth"], shape(n["children"])) for n in nodes]


async def count(client, account) -> int:
    return (await client.get(URL, params={"count": "true"}, headers=account.headers)).json()["total"]


class TestTree:
    async def test_three_levels_and_the_tree_view(self, client):
        owner = await make_tenant(client)
        grocery = await make_category(client, owner, "Grocery")
        staples = await make_category(client, owner, "Staples", grocery)
        rice = await make_category(client, owner, "Rice", staples)
        await make_category(client, owner, "Atta", staples)
        await make_category(client, owner, "Beverages")
        assert (grocery["depth"], staples["depth"], rice["depth"]) == (1, 2, 3)
        assert (staples["parent_id"], rice["parent_id"], grocery["parent_id"]) == (grocery["id"], staples["id"], None)
        assert shape(await tree(client, owner)) == [
            ("Beverages", 1, []),
            ("Grocery", 1, [("Staples", 2, [("Atta", 3, []), ("Rice", 3, [])])]),
        ]
        flat = (await client.get(URL, params={"parent_id": staples["id"]}, headers=owner.headers)).json()["items"]
        assert [c["name"] for c in flat] == ["Atta", "Rice"]
        top = (await client.get(URL, params={"top_level": "true"}, headers=owner.headers)).json()["items"]
        assert [c["name"] for c in top] == ["Beverages", "Grocery"]
        ids, _ = await all_pages(client, owner, URL, limit=2)
        assert len(ids) == 5 == len(set(ids))

    async def test_a_fourth_level_is_400_and_nothing_is_written(self, client):
        owner = await make_tenant(client)
        level3 = await make_category(
            client, owner, "C", await make_category(client, owner, "B", await make_category(client, owner, "A"))
        )
        before = await count(client, owner)
        response = await client.post(URL, json={"name": "D", "parent_id": level3["id"]}, headers=owner.headers)
        assert_problem(response, 400, "category-too-deep")
        assert await count(client, owner) == before

    async def test_names_are_unique_per_parent_case_insensitively(self, client):
        owner = await make_tenant(client)
        grocery = await make_category(client, owner, "Grocery")
        await make_category(client, owner, "Staples", grocery)
        duplicate = await client.post(URL, json={"name": "STAPLES", "parent_id": grocery["id"]}, headers=owner.headers)
        assert_problem(duplicate, 409, "product-category-exists")
        assert_problem(await client.post(URL, json={"name": "grocery"}, headers=owner.headers), 409)
        await make_category(client, owner, "Staples")  # another parent (the top level): allowed

    async def test_rename(self, client):
        owner = await make_tenant(client)
        category = await make_category(client, owner, "Grocry")
        response = await client.patch(f"{URL}/{category['id']}", json={"name": "Grocery"}, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["name"], response.json()["depth"]) == ("Grocery", 1)


class TestMove:
    async def test_a_move_carries_the_sub_tree_and_shifts_its_depths(self, client):
        owner = await make_tenant(client)
        a = await make_category(client, owner, "A")
        b = await make_category(client, owner, "B", a)
        c = await make_category(client, owner, "C", b)
        x = await make_category(client, owner, "X")
        # B (with C) to the top level: B 1, C 2
        moved = await client.patch(f"{URL}/{b['id']}", json={"parent_id": None}, headers=owner.headers)
        assert moved.status_code == 200, moved.text
        assert (moved.json()["parent_id"], moved.json()["depth"]) == (None, 1)
        assert shape(await tree(client, owner)) == [("A", 1, []), ("B", 1, [("C", 2, [])]), ("X", 1, [])]
        # and under X: B 2, C 3
        moved = await client.patch(f"{URL}/{b['id']}", json={"parent_id": x["id"]}, headers=owner.headers)
        assert moved.json()["depth"] == 2
        assert (await client.get(f"{URL}/{c['id']}", headers=owner.headers)).json()["depth"] == 3

    async def test_a_move_that_would_put_the_sub_tree_below_level_3_is_400(self, client):
        owner = await make_tenant(client)
        a = await make_category(client, owner, "A")
        b = await make_category(client, owner, "B", a)
        await make_category(client, owner, "C", b)
        x = await make_category(client, owner, "X")
        y = await make_category(client, owner, "Y", x)
        before = await tree(client, owner)
        # A (with B and C) under X: C would be at 4; B (with C) under Y: B at 3, C at 4
        for moved, target in ((a, x), (b, y)):
            response = await client.patch(
                f"{URL}/{moved['id']}", json={"parent_id": target["id"]}, headers=owner.headers
            )
            assert_problem(response, 400, "category-too-deep")
        assert await tree(client, owner) == before

    async def test_a_move_under_itself_or_its_descendant_is_400(self, client):
        owner = await make_tenant(client)
        a = await make_category(client, owner, "A")
        b = await make_category(client, owner, "B", a)
        before = await tree(client, owner)
        for target in (a, b):
            response = await client.patch(f"{URL}/{a['id']}", json={"parent_id": target["id"]}, headers=owner.headers)
            assert_problem(response, 400, "category-cycle")
        assert await tree(client, owner) == before

    async def test_a_move_next_to_a_namesake_is_409(self, client):
        owner = await make_tenant(client)
        a = await make_category(client, owner, "A")
        await make_category(client, owner, "Tea", a)
        tea = await make_category(client, owner, "TEA")
        response = await client.patch(f"{URL}/{tea['id']}", json={"parent_id": a["id"]}, headers=owner.headers)
        assert_problem(response, 409, "product-category-exists")
        assert (await client.get(f"{URL}/{tea['id']}", headers=owner.headers)).json()["depth"] == 1

    async def test_two_crossed_moves_at_once_never_make_a_cycle(self, app, client):
        owner = await make_tenant(client)
        a = await make_category(client, owner, "A")
        b = await make_category(client, owner, "B")

        async def move(child: dict, parent: dict):
            return await client.patch(f"{URL}/{child['id']}", json={"parent_id": parent["id"]}, headers=owner.headers)

        first, second = await asyncio.gather(move(a, b), move(b, a))
        assert sorted([first.status_code, second.status_code]) == [200, 400], (first.text, second.text)
        assert sorted(shape(await tree(client, owner))) in (
            [("A", 1, [("B", 2, [])])],
            [("B", 1, [("A", 2, [])])],
        )


class TestDelete:
    async def test_only_an_empty_category_is_deleted(self, client):
        owner = await make_tenant(client)
        a = await make_category(client, owner, "A")
        b = await make_category(client, owner, "B", a)
        assert_problem(
            await client.delete(f"{URL}/{a['id']}", headers=owner.headers), 409, "product-category-not-empty"
        )
        product = await make_product(client, owner, category_id=b["id"])
        assert_problem(
            await client.delete(f"{URL}/{b['id']}", headers=owner.headers), 409, "product-category-not-empty"
        )
        archived = await client.patch(
            f"{API}/products/{product['id']}", json={"is_archived": True}, headers=owner.headers
        )
        assert archived.status_code == 200
        assert_problem(await client.delete(f"{URL}/{b['id']}", headers=owner.headers), 409)  # archived ones count
        moved = await client.patch(f"{API}/products/{product['id']}", json={"category_id": None}, headers=owner.headers)
        assert moved.status_code == 200, moved.text
        assert (await client.delete(f"{URL}/{b['id']}", headers=owner.headers)).status_code == 204
        assert (await client.delete(f"{URL}/{a['id']}", headers=owner.headers)).status_code == 204
        assert_problem(await client.get(f"{URL}/{a['id']}", headers=owner.headers), 404, "product-category-not-found")
        assert await tree(client, owner) == []


class TestAccess:
    async def test_owner_admin_write_and_everyone_reads(self, client, mailbox):
        owner = await make_tenant(client)
        category = await make_category(client, owner, "Grocery")
        admin = await add_member(client, mailbox, owner, "admin")
        await make_category(client, admin, "Made by the admin")
        for role in ("accountant", "viewer"):
            member = await add_member(client, mailbox, owner, role)
            assert_problem(await client.post(URL, json={"name": role}, headers=member.headers), 403)
            patched = await client.patch(f"{URL}/{category['id']}", json={"name": "X"}, headers=member.headers)
            assert_problem(patched, 403)
            assert_problem(await client.delete(f"{URL}/{category['id']}", headers=member.headers), 403)
            assert (await client.get(f"{URL}/{category['id']}", headers=member.headers)).status_code == 200
            assert len(await tree(client, member)) == 2

    async def test_another_tenants_category_is_404_everywhere(self, client):
        owner, other = await make_tenant(client), await make_tenant(client)
        theirs = await make_category(client, other, "Theirs")
        path = f"{URL}/{theirs['id']}"
        assert_problem(await client.get(path, headers=owner.headers), 404, "product-category-not-found")
        assert_problem(await client.patch(path, json={"name": "Mine"}, headers=owner.headers), 404)
        assert_problem(await client.delete(path, headers=owner.headers), 404)
        as_parent = await client.post(URL, json={"name": "Child", "parent_id": theirs["id"]}, headers=owner.headers)
        assert_problem(as_parent, 404, "product-category-not-found")
        mine = await make_category(client, owner, "Mine")
        moved = await client.patch(f"{URL}/{mine['id']}", json={"parent_id": theirs["id"]}, headers=owner.headers)
        assert_problem(moved, 404, "product-category-not-found")
        assert [c["name"] for c in await tree(client, owner)] == ["Mine"]
        assert [c["name"] for c in await tree(client, other)] == ["Theirs"]
