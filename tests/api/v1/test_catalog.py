"""Client types, account managers and service types (one generic path serves all three)."""

import pytest

from tests.api.v1.business import audit_rows, walk
from tests.api.v1.customer_rows import make_customer
from tests.api.v1.members import add_member
from tests.factories import API, make_tenant

CATALOGS = {
    "/client-types": {"name": "Retail"},
    "/account-managers": {"name": "Priya Nair", "email": "priya@example.in", "phone": "+91 98450 12345"},
    "/service-types": {"name": "Annual maintenance", "sac_hsn_code": "998314", "unit": "year", "default_rate": "1500"},
}
ENTITIES = {"/client-types": "client_type", "/account-managers": "account_manager", "/service-types": "service_type"}


async def post(client, account, path, **body):
    return await client.post(f"{API}{path}", json=body, headers=account.headers)


@pytest.mark.parametrize("path", CATALOGS)
class TestEveryCatalog:
    async def test_crud_and_audit(self, client, path):
        owner = await make_tenant(client)
        created = await post(client, owner, path, **CATALOGS[path])
        assert created.status_code == 201, created.text
        item = created.json()
        assert item["name"] == CATALOGS[path]["name"] and item["is_active"] is True
        url = f"{API}{path}/{item['id']}"
        patched = await client.patch(url, json={"name": "Renamed", "is_active": False}, headers=owner.headers)
        assert (patched.json()["name"], patched.json()["is_active"]) == ("Renamed", False)
        assert (await client.get(url, headers=owner.headers)).json()["name"] == "Renamed"
        removed = await client.delete(url, headers=owner.headers)
        assert (removed.status_code, removed.json()["outcome"]) == (200, "deleted")
        assert (await client.get(url, headers=owner.headers)).status_code == 404
        entity = ENTITIES[path]
        deleted, updated, created_row = await audit_rows(client, owner, item["id"])
        assert [r["action"] for r in (deleted, updated, created_row)] == [
            f"{entity}.deleted",
            f"{entity}.updated",
            f"{entity}.created",
        ]
        assert (updated["before"]["name"], updated["after"]["name"]) == (CATALOGS[path]["name"], "Renamed")
        assert deleted["after"] is None and deleted["before"]["name"] == "Renamed"

    async def test_roles(self, client, mailbox, path):
        owner = await make_tenant(client)
        viewer = await add_member(client, mailbox, owner, "viewer")
        accountant = await add_member(client, mailbox, owner, "accountant")
        admin = await add_member(client, mailbox, owner, "admin")
        item = (await post(client, admin, path, **CATALOGS[path])).json()
        url = f"{API}{path}/{item['id']}"
        assert (await client.get(url, headers=viewer.headers)).status_code == 200
        assert (await client.get(url, headers=accountant.headers)).status_code == 200
        for member in (viewer, accountant):  # configuration is owner/admin
            assert (await post(client, member, path, name="Other")).status_code == 403
            assert (await client.patch(url, json={"name": "X"}, headers=member.headers)).status_code == 403
            assert (await client.delete(url, headers=member.headers)).status_code == 403
        assert (await client.patch(url, json={"name": "Y"}, headers=admin.headers)).status_code == 200

    async def test_is_active_is_a_boolean(self, client, path):
        owner = await make_tenant(client)
        assert (await post(client, owner, path, **CATALOGS[path], is_active=0)).status_code == 422

    @pytest.mark.parametrize("field", ["tenant_id", "id", "created_at"])
    async def test_mass_assignment_is_refused(self, client, path, field):
        owner = await make_tenant(client)
        assert (await post(client, owner, path, **CATALOGS[path], **{field: owner.tenant_id})).status_code == 422
        assert await walk(client, owner, path) == []

    async def test_filters_search_sort_and_fields(self, client, path):
        owner = await make_tenant(client)
        for name, active in (("beta", True), ("Alpha", True), ("gamma 100%", False)):
            assert (await post(client, owner, path, name=name, is_active=active)).status_code == 201
        assert [i["name"] for i in await walk(client, owner, path, sort="-name")] == ["gamma 100%", "beta", "Alpha"]
        assert [i["name"] for i in await walk(client, owner, path, is_active="true", sort="name")] == ["Alpha", "beta"]
        assert [i["name"] for i in await walk(client, owner, path, search="100%")] == ["gamma 100%"]
        assert await walk(client, owner, path, search="_") == []
        response = await client.get(f"{API}{path}", params={"fields": "name"}, headers=owner.headers)
        assert {tuple(sorted(i)) for i in response.json()["items"]} == {("id", "name")}

    async def test_pages_follow_the_sort(self, client, path):
        owner = await make_tenant(client)
        names = [f"Item {n:02d}" for n in range(5)]
        for name in reversed(names):
            assert (await post(client, owner, path, name=name)).status_code == 201
        assert [i["name"] for i in await walk(client, owner, path, limit=2, sort="name")] == names


class TestUniqueNames:
    @pytest.mark.parametrize("path", ["/client-types", "/service-types"])
    async def test_a_name_is_unique_per_tenant_ignoring_case(self, client, path):
        owner, other = await make_tenant(client), await make_tenant(client)
        assert (await post(client, owner, path, name="Retail")).status_code == 201
        duplicate = await post(client, owner, path, name="RETAIL")
        assert duplicate.status_code == 409 and duplicate.json()["code"].endswith("-exists")
        assert (await post(client, other, path, name="Retail")).status_code == 201


class TestServiceTypes:
    async def test_money_and_rates_are_decimal_strings(self, client):
        owner = await make_tenant(client)
        body = {"name": "Audit", "default_rate": "2500.5", "default_gst_rate": "5"}
        item = (await post(client, owner, "/service-types", **body)).json()
        assert (item["default_rate"], item["default_gst_rate"]) == ("2500.50", "5.00")
        defaulted = (await post(client, owner, "/service-types", name="Other")).json()
        assert (defaulted["default_rate"], defaulted["default_gst_rate"]) == ("0.00", "18.00")

    @pytest.mark.parametrize(
        "body",
        [
            {"default_rate": 1500},  # a number, not a string
            {"default_rate": "-1"},
            {"default_rate": "1.005"},
            {"default_gst_rate": "101"},
            {"sac_hsn_code": "998"},
            {"sac_hsn_code": "99831"},
            {"sac_hsn_code": "998314567"},
        ],
    )
    async def test_invalid_values_are_422(self, client, body):
        owner = await make_tenant(client)
        assert (await post(client, owner, "/service-types", name="Audit", **body)).status_code == 422

    async def test_the_default_gst_rate_must_be_in_force_today(self, client):
        owner = await make_tenant(client)
        refused = await post(client, owner, "/service-types", name="Audit", default_gst_rate="7")
        assert (refused.status_code, refused.json()["code"]) == (400, "gst-rate-not-in-force")
        assert refused.json()["errors"][0]["loc"] == ["body", "default_gst_rate"]
        new_rate = {"rate": "7", "effective_from": "2020-01-01"}
        assert (await client.post(f"{API}/tax-rates", json=new_rate, headers=owner.headers)).status_code == 201
        assert (await post(client, owner, "/service-types", name="Audit", default_gst_rate="7")).status_code == 201
        item = (await post(client, owner, "/service-types", name="Other")).json()
        patch = await client.patch(
            f"{API}/service-types/{item['id']}", json={"default_gst_rate": "13"}, headers=owner.headers
        )
        assert patch.status_code == 400


class TestDeleteReferenced:
    @pytest.mark.parametrize(
        ("path", "field"), [("/client-types", "client_type_id"), ("/account-managers", "account_manager_id")]
    )
    async def test_a_row_customers_refer_to_is_deactivated_not_deleted(self, client, path, field):
        owner = await make_tenant(client)
        item = (await post(client, owner, path, **CATALOGS[path])).json()
        await make_customer(client, owner, **{field: item["id"]})
        response = await client.delete(f"{API}{path}/{item['id']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["outcome"], response.json()["item"]["is_active"]) == ("deactivated", False)
        assert (await client.get(f"{API}{path}/{item['id']}", headers=owner.headers)).json()["is_active"] is False
        (row, *_) = await audit_rows(client, owner, item["id"])
        assert row["action"] == f"{ENTITIES[path]}.deactivated"


class TestAccountManagers:
    async def test_a_phone_with_spaces_around_is_refused_as_the_spec_says(self, client):
        owner = await make_tenant(client)
        for phone in (" 26)85", " 98450 12345 "):
            assert (await post(client, owner, "/account-managers", name="A", phone=phone)).status_code == 422
