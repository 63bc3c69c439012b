import pytest

from tests.api.v1.business import audit_rows
from tests.api.v1.members import add_member
from tests.factories import API, make_tenant

URL = f"{API}/gst-settings"


class TestGstSettings:
    async def test_defaults_and_fields(self, client):
        owner = await make_tenant(client)
        settings = (await client.get(URL, headers=owner.headers)).json()
        assert settings["registration_type"] == "regular" and settings["invoice_number_pattern"] == "INV/{fy}/{seq:05}"
        trimmed = (await client.get(URL, params={"fields": "default_due_days"}, headers=owner.headers)).json()
        assert trimmed == {"id": settings["id"], "default_due_days": 15}

    async def test_update_is_partial_and_audited(self, client):
        owner = await make_tenant(client)
        body = {
            "registration_type": "composition",
            "default_due_days": 30,
            "invoice_number_pattern": "SI-{fy}-{seq:06}",
        }
        response = await client.put(URL, json=body, headers=owner.headers)
        assert response.status_code == 200, response.text
        settings = response.json()
        assert {k: settings[k] for k in body} == body and settings["round_off_enabled"] is True
        (row,) = await audit_rows(client, owner, settings["id"])
        assert row["action"] == "gst_settings.updated"
        assert (row["before"]["default_due_days"], row["after"]["default_due_days"]) == (15, 30)

    async def test_only_owners_and_admins_write(self, client, mailbox):
        owner = await make_tenant(client)
        admin = await add_member(client, mailbox, owner, "admin")
        for role in ("viewer", "accountant"):
            member = await add_member(client, mailbox, owner, role)
            assert (await client.get(URL, headers=member.headers)).status_code == 200
            assert (await client.put(URL, json={"default_due_days": 7}, headers=member.headers)).status_code == 403
        assert (await client.put(URL, json={"default_due_days": 7}, headers=admin.headers)).status_code == 200

    @pytest.mark.parametrize(
        "body",
        [
            {"invoice_number_pattern": "INVOICE/{fy}/{seq:05}"},  # 17 characters at its longest
            {"invoice_number_pattern": "INV/{fy}"},  # no sequence
            {"invoice_number_pattern": "INV {seq}"},  # a space
            {"receipt_number_pattern": "R{seq}{seq}"},
            {"credit_note_number_pattern": "CN_{seq}"},
            {"default_due_days": 366},
            {"registration_type": "exempt"},
            {"round_off_enabled": None},
            {"round_off_enabled": 0},
            {"default_due_days": False},
            {"default_due_days": "30"},
            {"tenant_id": "0190b3c1-0000-7000-8000-000000000000"},
            {"id": "0190b3c1-0000-7000-8000-000000000000"},
        ],
    )
    async def test_invalid_updates_are_422_and_change_nothing(self, client, body):
        owner = await make_tenant(client)
        before = (await client.get(URL, headers=owner.headers)).json()
        assert (await client.put(URL, json=body, headers=owner.headers)).status_code == 422
        assert (await client.get(URL, headers=owner.headers)).json() == before

    async def test_an_integral_number_is_an_integer(self, client):
        owner = await make_tenant(client)
        response = await client.put(URL, json={"default_due_days": 30.0}, headers=owner.headers)
        assert (response.status_code, response.json()["default_due_days"]) == (200, 30)

    async def test_sixteen_characters_at_the_longest_is_accepted(self, client):
        owner = await make_tenant(client)
        response = await client.put(URL, json={"invoice_number_pattern": "INVC/{fy}/{seq:05}"}, headers=owner.headers)
        assert response.status_code == 200, response.text
