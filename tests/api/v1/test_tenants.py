"""The caller's own tenant: everyone reads it, owners and admins change it, every change is audited."""

import pytest

from tests.api.v1.http_checks import assert_no_secrets, assert_problem
from tests.api.v1.members import add_member
from tests.factories import API, make_tenant

CHANGES = {
    "name": "Sharma & Sons",
    "business_name": "Sharma & Sons Pvt Ltd",
    "contact_email": "accounts@sharma.example.in",
    "contact_phone": "+91 98450 12345",
}


async def tenant_of(client, account) -> dict:
    response = await client.get(f"{API}/tenants/me", headers=account.headers)
    assert response.status_code == 200, response.text
    assert_no_secrets(response)
    return response.json()


class TestRead:
    @pytest.mark.parametrize("role", ["admin", "accountant", "viewer"])
    async def test_every_role_reads_its_own_tenant(self, client, mailbox, role):
        owner = await make_tenant(client, business_name="Mehta Textiles")
        member = await add_member(client, mailbox, owner, role)
        tenant = await tenant_of(client, member)
        assert tenant == await tenant_of(client, owner)
        assert (tenant["id"], tenant["business_name"]) == (owner.tenant_id, "Mehta Textiles")
        assert tenant["contact_email"] == owner.email
        assert tenant["is_trial_used"] is True

    async def test_needs_a_token(self, client):
        assert_problem(await client.get(f"{API}/tenants/me"), 401)


class TestUpdate:
    @pytest.mark.parametrize("role", ["owner", "admin"])
    async def test_owners_and_admins_update_and_the_change_is_audited(self, client, mailbox, role):
        owner = await make_tenant(client, business_name="Sharma Traders")
        actor = owner if role == "owner" else await add_member(client, mailbox, owner, "admin")
        response = await client.put(f"{API}/tenants/me", json=CHANGES, headers=actor.headers)
        assert response.status_code == 200, response.text
        assert {k: response.json()[k] for k in CHANGES} == CHANGES
        assert await tenant_of(client, owner) == response.json()

        params = {"entity_type": "tenant", "action": "tenant.updated"}
        rows = (await client.get(f"{API}/audit-logs", params=params, headers=owner.headers)).json()["items"]
        (row,) = rows
        assert row["entity_id"] == owner.tenant_id and row["actor_user_id"] == actor.user["id"]
        assert row["before"]["business_name"] == "Sharma Traders" and row["before"]["contact_email"] == owner.email
        assert row["after"] == CHANGES | {"gstin": None, "billing_state_code": None, "billing_address": None}

    async def test_fields_left_out_stay(self, client):
        owner = await make_tenant(client)
        before = await tenant_of(client, owner)
        response = await client.put(f"{API}/tenants/me", json={"contact_phone": "080 1234 5678"}, headers=owner.headers)
        assert response.status_code == 200
        after = response.json()
        assert after["contact_phone"] == "080 1234 5678"
        assert {k: after[k] for k in ("name", "business_name", "contact_email")} == {
            k: before[k] for k in ("name", "business_name", "contact_email")
        }

    async def test_contacts_can_be_cleared_but_names_cannot(self, client):
        owner = await make_tenant(client)
        cleared = await client.put(f"{API}/tenants/me", json={"contact_email": None}, headers=owner.headers)
        assert cleared.status_code == 200 and cleared.json()["contact_email"] is None
        for field in ("name", "business_name"):
            response = await client.put(f"{API}/tenants/me", json={field: None}, headers=owner.headers)
            assert_problem(response, 422, "validation-error")
            assert_problem(await client.put(f"{API}/tenants/me", json={field: "  "}, headers=owner.headers), 422)

    @pytest.mark.parametrize("role", ["accountant", "viewer"])
    async def test_other_roles_cannot_update(self, client, mailbox, role):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, role)
        before = await tenant_of(client, owner)
        response = await client.put(f"{API}/tenants/me", json={"name": "Taken Over"}, headers=member.headers)
        assert_problem(response, 403, "role-forbidden")
        assert await tenant_of(client, owner) == before

    @pytest.mark.parametrize(
        "extra",
        [
            {"id": "01890a5d-ac96-774b-bcce-b302099a8057"},
            {"tenant_id": "01890a5d-ac96-774b-bcce-b302099a8057"},
            {"is_trial_used": False},
            {"trial_end_date": "2099-01-01T00:00:00Z"},
            {"trial_start_date": "2099-01-01T00:00:00Z"},
            {"created_at": "2020-01-01T00:00:00Z"},
        ],
    )
    async def test_mass_assignment_is_422_and_changes_nothing(self, client, extra):
        owner = await make_tenant(client)
        before = await tenant_of(client, owner)
        response = await client.put(f"{API}/tenants/me", json={"name": "Renamed", **extra}, headers=owner.headers)
        assert_problem(response, 422, "validation-error")
        assert await tenant_of(client, owner) == before


@pytest.mark.parametrize(("phone", "status"), [("+91 98450 12345", 200), ("+" + "9" * 19, 200), ("+" + "9" * 20, 422)])
async def test_a_phone_fits_its_column(client, phone, status):
    """At most 20 characters with the "+" (the column's size): longer is a 422, never a 500."""
    owner = await make_tenant(client)
    response = await client.put(f"{API}/tenants/me", json={"contact_phone": phone}, headers=owner.headers)
    assert response.status_code == status, response.text
