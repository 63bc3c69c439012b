"""/customers: create, read, update, delete-or-archive, GST rules, validation, roles, audit.
Search, filters, sorting and pagination are in test_customers_list.py."""

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.api.v1.customer_rows import gstin, make_account_manager, make_client_type, make_customer
from tests.api.v1.members import add_member
from tests.factories import API, Account, make_tenant

URL = f"{API}/customers"


def problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body


def field_named(body: dict) -> list[str]:
    return [err["loc"][-1] for err in body.get("errors") or []]


async def audit_rows(client: httpx.AsyncClient, owner: Account, customer_id: str) -> list[dict]:
    response = await client.get(f"{API}/audit-logs", params={"entity_id": customer_id}, headers=owner.headers)
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda row: row["at"])


async def count_customers(client: httpx.AsyncClient, owner: Account) -> int:
    active = await client.get(URL, params={"limit": 100}, headers=owner.headers)
    archived = await client.get(URL, params={"limit": 100, "archived": True}, headers=owner.headers)
    return len(active.json()["items"]) + len(archived.json()["items"])


class TestCreate:
    async def test_a_gstin_makes_a_registered_customer_whose_state_and_pan_come_from_it(self, client):
        owner = await make_tenant(client)
        number = gstin("29", "AABCT3518Q")
        body = {"name": "Tata Stores", "gstin": number.lower(), "opening_balance": "1500.5", "credit_limit": "10000"}
        response = await client.post(URL, json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        customer = response.json()
        assert customer["gstin"] == number and customer["pan"] == "AABCT3518Q"
        assert customer["is_registered"] is True
        assert customer["billing_address"]["state_code"] == "29"
        assert (customer["opening_balance"], customer["balance"], customer["credit_limit"]) == (
            "1500.50",
            "1500.50",
            "10000.00",
        )
        read = await client.get(f"{URL}/{customer['id']}", headers=owner.headers)
        assert read.json() == customer

    async def test_without_gstin_the_customer_is_unregistered_and_needs_a_billing_state(self, client):
        owner = await make_tenant(client)
        missing = await client.post(URL, json={"name": "Corner Shop"}, headers=owner.headers)
        assert field_named(problem(missing, 400, "billing-state-required")) == ["billing_address"]
        address = {"line1": "4 Park St", "city": "Kolkata", "state_code": "19", "pincode": "700016"}
        body = {"name": "Corner Shop", "billing_address": address, "opening_balance": "-250.00"}
        response = await client.post(URL, json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        customer = response.json()
        assert customer["is_registered"] is False and customer["gstin"] is None
        assert customer["billing_address"] == address | {"line2": None}
        assert customer["balance"] == "-250.00", "a negative opening balance is an advance"

    async def test_a_billing_state_other_than_the_gstins_is_refused(self, client):
        owner = await make_tenant(client)
        body = {"name": "X", "gstin": gstin("29"), "billing_address": {"state_code": "27"}}
        problem(await client.post(URL, json=body, headers=owner.headers), 400, "billing-state-mismatch")

    @pytest.mark.parametrize(
        ("fields", "status", "code", "field"),
        [
            ({"gstin": gstin("29")[:-1] + ("A" if gstin("29")[-1] != "A" else "B")}, 400, "invalid-gstin", "gstin"),
            ({"gstin": "29AABCT3518Q1Z"}, 422, None, "gstin"),
            ({"gstin": "25AABCT3518Q1ZS"}, 422, None, "gstin"),
            ({"gstin": gstin("29"), "pan": "AABCX3518Q"}, 400, "pan-gstin-mismatch", "pan"),
            ({"pan": "AABCT351"}, 422, None, "pan"),
            ({"billing_address": {"state_code": "25"}}, 422, None, "state_code"),
            ({"billing_address": {"state_code": "29", "pincode": "5600"}}, 422, None, "pincode"),
            ({"shipping_address": {"city": "Pune"}}, 422, None, "state_code"),
            ({"payment_terms_days": 366}, 422, None, "payment_terms_days"),
            ({"payment_terms_days": "30"}, 422, None, "payment_terms_days"),
            ({"is_sez": 0}, 422, None, "is_sez"),
            ({"credit_limit": "-1.00"}, 422, None, "credit_limit"),
            ({"opening_balance": 100.5}, 422, None, "opening_balance"),
            ({"opening_balance": "1.005"}, 422, None, "opening_balance"),
            ({"email": "not-an-email"}, 422, None, "email"),
        ],
    )
    async def test_invalid_fields_are_refused_and_named(self, client, fields, status, code, field):
        owner = await make_tenant(client)
        body = {"name": "Bad Data Ltd", "billing_address": {"state_code": "29"}} | fields
        response = await client.post(URL, json=body, headers=owner.headers)
        assert field in field_named(problem(response, status, code))
        assert await count_customers(client, owner) == 0

    @pytest.mark.parametrize("field", ["balance", "tenant_id", "id", "is_archived", "created_at", "is_registered"])
    async def test_server_owned_fields_in_the_body_are_refused(self, client, field):
        owner = await make_tenant(client)
        body = {"name": "Sneaky", "billing_address": {"state_code": "29"}, field: "1000.00"}
        problem(await client.post(URL, json=body, headers=owner.headers), 422)
        assert await count_customers(client, owner) == 0


class TestReferences:
    async def test_client_type_and_account_manager_of_the_tenant_are_accepted(self, client, app):
        owner = await make_tenant(client)
        client_type, manager = await make_client_type(app, owner), await make_account_manager(app, owner)
        customer = await make_customer(client, owner, client_type_id=client_type, account_manager_id=manager)
        assert (customer["client_type_id"], customer["account_manager_id"]) == (client_type, manager)

    @pytest.mark.parametrize("field", ["client_type_id", "account_manager_id"])
    async def test_another_tenants_id_is_404_like_an_unknown_one_and_names_the_field(self, client, app, field):
        owner, other = await make_tenant(client), await make_tenant(client)
        make = make_client_type if field == "client_type_id" else make_account_manager
        foreign = await make(app, other)
        body = {"name": "X", "billing_address": {"state_code": "29"}}
        for value in (foreign, str(uuid.uuid4())):
            response = await client.post(URL, json=body | {field: value}, headers=owner.headers)
            assert field_named(problem(response, 404)) == [field]
        customer = await make_customer(client, owner)
        patched = await client.patch(f"{URL}/{customer['id']}", json={field: foreign}, headers=owner.headers)
        assert field_named(problem(patched, 404)) == [field]
        assert await count_customers(client, owner) == 1

    async def test_another_tenants_customer_is_404(self, client):
        owner, other = await make_tenant(client), await make_tenant(client)
        customer = await make_customer(client, other)
        for method in ("GET", "PATCH", "DELETE"):
            kwargs = {"json": {"name": "Mine now"}} if method == "PATCH" else {}
            response = await client.request(method, f"{URL}/{customer['id']}", headers=owner.headers, **kwargs)
            problem(response, 404, "customer-not-found")
        assert (await client.get(f"{URL}/{customer['id']}", headers=other.headers)).json()["name"] == customer["name"]


class TestUpdate:
    async def test_only_the_fields_sent_change_and_an_address_is_replaced_whole(self, client):
        owner = await make_tenant(client)
        address = {"line1": "1 Main Rd", "city": "Pune", "state_code": "27", "pincode": "411001"}
        customer = await make_customer(client, owner, email="a@example.in", billing_address=address)
        changes = {"phone": "+91 98450 12345", "email": None, "billing_address": {"state_code": "27", "city": "Nagpur"}}
        response = await client.patch(f"{URL}/{customer['id']}", json=changes, headers=owner.headers)
        assert response.status_code == 200, response.text
        updated = response.json()
        assert (updated["phone"], updated["email"], updated["name"]) == ("+91 98450 12345", None, customer["name"])
        expected = {"line1": None, "line2": None, "city": "Nagpur", "state_code": "27", "pincode": None}
        assert updated["billing_address"] == expected

    async def test_a_new_gstin_brings_its_state_and_pan(self, client):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner, billing_address={"state_code": "27"})
        number = gstin("07", "AAACB2894G")
        response = await client.patch(f"{URL}/{customer['id']}", json={"gstin": number}, headers=owner.headers)
        assert response.status_code == 200, response.text
        updated = response.json()
        assert (updated["is_registered"], updated["pan"]) == (True, "AAACB2894G")
        assert updated["billing_address"]["state_code"] == "07"

    async def test_null_for_a_required_field_is_refused(self, client):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner)
        for body in ({"name": None}, {"opening_balance": None}, {"is_sez": None}, {"balance": "0.00"}):
            problem(await client.patch(f"{URL}/{customer['id']}", json=body, headers=owner.headers), 422)

    async def test_changing_the_opening_balance_moves_the_balance_by_the_difference(self, client, app):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner, opening_balance="100.00")
        # As an invoice will: the balance moves away from the opening balance.
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            stmt = text("UPDATE customers SET balance = balance + 1000 WHERE id = :id")
            await session.execute(stmt, {"id": customer["id"]})
        url = f"{URL}/{customer['id']}"
        response = await client.patch(url, json={"opening_balance": "150.25"}, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["opening_balance"], response.json()["balance"]) == ("150.25", "1150.25")
        response = await client.patch(url, json={"opening_balance": "-50.00"}, headers=owner.headers)
        assert response.json()["balance"] == "950.00"
        assert (await client.get(url, headers=owner.headers)).json()["balance"] == "950.00"


@pytest.fixture
async def customer_references(settings):
    """A table that refers to customers, as invoices will: a referenced customer cannot be deleted."""
    engine = create_async_engine(settings.database_admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as admin:
        await admin.execute(
            text(
                "CREATE TABLE test_customer_documents (tenant_id uuid NOT NULL, customer_id uuid NOT NULL, "
                "FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id))"
            )
        )
        try:

            async def refer(tenant_id: str, customer_id: str) -> None:
                stmt = text("INSERT INTO test_customer_documents VALUES (:t, :c)")
                await admin.execute(stmt, {"t": tenant_id, "c": customer_id})

            yield refer
        finally:
            await admin.execute(text("DROP TABLE test_customer_documents"))
    await engine.dispose()


class TestDelete:
    async def test_a_customer_nothing_refers_to_is_deleted(self, client):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner)
        response = await client.delete(f"{URL}/{customer['id']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "deleted" and response.json()["item"]["id"] == customer["id"]
        problem(await client.get(f"{URL}/{customer['id']}", headers=owner.headers), 404)
        assert [row["action"] for row in await audit_rows(client, owner, customer["id"])][-1] == "customer.deleted"

    async def test_a_customer_documents_refer_to_is_archived_instead(self, client, customer_references):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner, name="Kept Traders")
        await customer_references(owner.tenant_id, customer["id"])
        response = await client.delete(f"{URL}/{customer['id']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "archived" and response.json()["item"]["is_archived"] is True
        read = await client.get(f"{URL}/{customer['id']}", headers=owner.headers)
        assert read.status_code == 200 and read.json()["is_archived"] is True
        active = await client.get(URL, headers=owner.headers)
        archived = await client.get(URL, params={"archived": True}, headers=owner.headers)
        assert active.json()["items"] == [] and [c["id"] for c in archived.json()["items"]] == [customer["id"]]
        last = (await audit_rows(client, owner, customer["id"]))[-1]
        assert last["action"] == "customer.archived"
        assert (last["before"]["is_archived"], last["after"]["is_archived"]) == (False, True)


class TestFields:
    async def test_fields_trims_reads_to_the_names_asked_and_id(self, client):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner, gstin=gstin("29"), billing_address={})
        one = await client.get(f"{URL}/{customer['id']}", params={"fields": "name,balance"}, headers=owner.headers)
        assert one.json() == {"id": customer["id"], "name": customer["name"], "balance": "0.00"}
        page = await client.get(URL, params={"fields": "is_registered,billing_address"}, headers=owner.headers)
        assert page.json()["items"] == [
            {"id": customer["id"], "is_registered": True, "billing_address": customer["billing_address"]}
        ]
        problem(await client.get(URL, params={"fields": "name,tenant_id"}, headers=owner.headers), 422)


class TestRoles:
    async def test_a_viewer_reads_but_cannot_write(self, client, mailbox):
        owner = await make_tenant(client)
        viewer = await add_member(client, mailbox, owner, "viewer")
        customer = await make_customer(client, owner)
        assert (await client.get(URL, headers=viewer.headers)).json()["items"][0]["id"] == customer["id"]
        assert (await client.get(f"{URL}/{customer['id']}", headers=viewer.headers)).status_code == 200
        writes = [
            ("POST", URL, {"name": "V", "billing_address": {"state_code": "29"}}),
            ("PATCH", f"{URL}/{customer['id']}", {"name": "Renamed"}),
            ("DELETE", f"{URL}/{customer['id']}", None),
        ]
        for method, url, body in writes:
            problem(await client.request(method, url, json=body, headers=viewer.headers), 403, "role-forbidden")
        assert (await client.get(f"{URL}/{customer['id']}", headers=owner.headers)).json() == customer

    async def test_an_accountant_writes(self, client, mailbox):
        owner = await make_tenant(client)
        accountant = await add_member(client, mailbox, owner, "accountant")
        customer = await make_customer(client, accountant)
        response = await client.patch(f"{URL}/{customer['id']}", json={"name": "Renamed"}, headers=accountant.headers)
        assert response.status_code == 200
        rows = await audit_rows(client, owner, customer["id"])
        assert {row["actor_user_id"] for row in rows} == {accountant.user["id"]}

    async def test_no_token_is_401(self, client):
        problem(await client.get(URL), 401)


class TestAudit:
    async def test_each_write_is_audited_with_before_and_after(self, client):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner, opening_balance="10.00")
        url = f"{URL}/{customer['id']}"
        await client.patch(url, json={"name": "Renamed", "opening_balance": "20.00"}, headers=owner.headers)
        created, updated = await audit_rows(client, owner, customer["id"])
        assert (created["action"], created["before"]) == ("customer.created", None)
        assert created["after"]["name"] == customer["name"] and created["after"]["balance"] == "10.00"
        assert updated["action"] == "customer.updated"
        assert (updated["before"]["name"], updated["after"]["name"]) == (customer["name"], "Renamed")
        assert (updated["before"]["balance"], updated["after"]["balance"]) == ("10.00", "20.00")
        assert updated["actor_user_id"] == owner.user["id"]

    async def test_a_refused_write_leaves_no_audit_row(self, client):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner)
        bad = {"gstin": gstin("29"), "pan": "AAAPZ1234C"}
        problem(await client.patch(f"{URL}/{customer['id']}", json=bad, headers=owner.headers), 400)
        assert [row["action"] for row in await audit_rows(client, owner, customer["id"])] == ["customer.created"]
