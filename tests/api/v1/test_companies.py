from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.api.v1.business import GSTIN_KA, GSTIN_MH, PAN_MH, audit_rows, walk
from tests.api.v1.members import add_member
from tests.factories import API, make_tenant

URL = f"{API}/companies"


async def create(client, account, **body):
    return await client.post(URL, json={"legal_name": "Sharma Traders Pvt Ltd", **body}, headers=account.headers)


class TestCreate:
    async def test_gstin_is_normalised_and_fixes_the_state(self, client):
        owner = await make_tenant(client)
        response = await create(client, owner, gstin=GSTIN_MH.lower(), pan=PAN_MH, ifsc="hdfc0001234", pincode="400001")
        assert response.status_code == 201, response.text
        company = response.json()
        assert (company["gstin"], company["state_code"], company["ifsc"]) == (GSTIN_MH, "27", "HDFC0001234")
        assert company["is_archived"] is False
        (row,) = await audit_rows(client, owner, company["id"])
        assert row["action"] == "company.created" and row["before"] is None
        assert row["after"]["gstin"] == GSTIN_MH

    async def test_without_gstin_the_state_is_required(self, client):
        owner = await make_tenant(client)
        assert (await create(client, owner)).status_code == 422
        response = await create(client, owner, state_code="07", upi_vpa="Sharma@OKHDFC")
        assert response.status_code == 201, response.text
        assert (response.json()["state_code"], response.json()["upi_vpa"]) == ("07", "sharma@okhdfc")

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"gstin": "27AAPFU0939F1Z"}, 422, "validation-error"),  # 14 characters
            ({"gstin": "27AAPFU0939F1ZW"}, 400, "invalid-gstin"),  # wrong check character
            ({"gstin": GSTIN_MH, "pan": "AAGCB7383J"}, 400, "pan-mismatch"),
            ({"gstin": GSTIN_MH, "state_code": "29"}, 400, "state-mismatch"),
            ({"state_code": "96"}, 422, "validation-error"),  # other countries: a place of supply only
            ({"state_code": "07", "ifsc": "HDFC1001234"}, 422, "validation-error"),
            ({"state_code": "07", "pincode": "012345"}, 422, "validation-error"),
            ({"state_code": "07", "upi_vpa": "no-at-sign"}, 422, "validation-error"),
            ({"state_code": "07", "legal_name": "   "}, 422, "validation-error"),
        ],
    )
    async def test_invalid_input_is_refused(self, client, body, status, code):
        owner = await make_tenant(client)
        response = await create(client, owner, **body)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
        assert (await client.get(URL, headers=owner.headers)).json()["items"] == []

    async def test_a_gstin_is_unique_per_tenant(self, client):
        owner, other = await make_tenant(client), await make_tenant(client)
        assert (await create(client, owner, gstin=GSTIN_MH)).status_code == 201
        duplicate = await create(client, owner, gstin=GSTIN_MH, legal_name="Another")
        assert (duplicate.status_code, duplicate.json()["code"]) == (409, "company-exists")
        assert (await create(client, other, gstin=GSTIN_MH)).status_code == 201

    @pytest.mark.parametrize("field", ["tenant_id", "id", "is_archived", "created_at"])
    async def test_mass_assignment_is_refused(self, client, field):
        owner = await make_tenant(client)
        value = True if field == "is_archived" else owner.tenant_id
        assert (await create(client, owner, state_code="07", **{field: value})).status_code == 422
        assert (await client.get(URL, headers=owner.headers)).json()["items"] == []


class TestUpdate:
    async def test_a_new_gstin_moves_the_state_and_is_audited(self, client):
        owner = await make_tenant(client)
        company = (await create(client, owner, gstin=GSTIN_MH)).json()
        response = await client.patch(f"{URL}/{company['id']}", json={"gstin": GSTIN_KA}, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["gstin"], response.json()["state_code"]) == (GSTIN_KA, "29")
        updated = [r for r in await audit_rows(client, owner, company["id"]) if r["action"] == "company.updated"]
        assert updated[0]["before"]["state_code"] == "27" and updated[0]["after"]["state_code"] == "29"

    async def test_unregistering_keeps_the_state(self, client):
        owner = await make_tenant(client)
        company = (await create(client, owner, gstin=GSTIN_MH, pan=PAN_MH)).json()
        response = await client.patch(f"{URL}/{company['id']}", json={"gstin": None}, headers=owner.headers)
        assert (response.json()["gstin"], response.json()["state_code"], response.json()["pan"]) == (None, "27", PAN_MH)

    async def test_null_legal_name_and_unknown_fields_are_refused(self, client):
        owner = await make_tenant(client)
        company = (await create(client, owner, state_code="07")).json()
        for body in ({"legal_name": None}, {"tenant_id": owner.tenant_id}, {"is_archived": True}):
            response = await client.patch(f"{URL}/{company['id']}", json=body, headers=owner.headers)
            assert response.status_code == 422, body

    async def test_unknown_and_malformed_ids_are_404(self, client):
        owner = await make_tenant(client)
        for company_id in ("0190b3c1-0000-7000-8000-000000000000", "not-a-uuid"):
            response = await client.patch(f"{URL}/{company_id}", json={"city": "Pune"}, headers=owner.headers)
            assert response.status_code == 404


class TestRoles:
    async def test_members_read_managers_write(self, client, mailbox):
        owner = await make_tenant(client)
        viewer = await add_member(client, mailbox, owner, "viewer")
        accountant = await add_member(client, mailbox, owner, "accountant")
        admin = await add_member(client, mailbox, owner, "admin")
        company = (await create(client, admin, state_code="07")).json()
        for member in (viewer, accountant):  # configuration is owner/admin
            assert (await client.get(f"{URL}/{company['id']}", headers=member.headers)).status_code == 200
            assert (await create(client, member, state_code="07")).status_code == 403
            patch = await client.patch(f"{URL}/{company['id']}", json={"city": "Delhi"}, headers=member.headers)
            assert patch.status_code == 403
            assert (await client.delete(f"{URL}/{company['id']}", headers=member.headers)).status_code == 403
        assert (await client.get(f"{URL}/{company['id']}", headers=owner.headers)).json()["city"] is None


class TestList:
    async def five(self, client):
        owner = await make_tenant(client)
        for name in ("Beta Works", "Alpha Traders", "Gamma Traders", "Delta Traders"):
            assert (await create(client, owner, legal_name=name, state_code="07")).status_code == 201
        assert (await create(client, owner, legal_name="Kappa", gstin=GSTIN_KA)).status_code == 201
        return owner

    async def test_pages_follow_the_sort(self, client):
        owner = await self.five(client)
        names = [c["legal_name"] for c in await walk(client, owner, "/companies", limit=2, sort="-legal_name")]
        assert names == ["Kappa", "Gamma Traders", "Delta Traders", "Beta Works", "Alpha Traders"]
        created = [c["legal_name"] for c in await walk(client, owner, "/companies", limit=2, sort="created_at")]
        assert created == ["Beta Works", "Alpha Traders", "Gamma Traders", "Delta Traders", "Kappa"]

    async def test_search_and_fields(self, client):
        owner = await self.five(client)
        found = await walk(client, owner, "/companies", search="TRADERS", sort="legal_name")
        assert [c["legal_name"] for c in found] == ["Alpha Traders", "Delta Traders", "Gamma Traders"]
        assert [c["legal_name"] for c in await walk(client, owner, "/companies", search="29AAGC")] == ["Kappa"]
        assert await walk(client, owner, "/companies", search="%") == []
        assert (await client.get(URL, params={"search": "a\x00"}, headers=owner.headers)).status_code == 422
        response = await client.get(URL, params={"fields": "legal_name,state_code"}, headers=owner.headers)
        assert {tuple(sorted(item)) for item in response.json()["items"]} == {("id", "legal_name", "state_code")}
        assert (await client.get(URL, params={"fields": "password"}, headers=owner.headers)).status_code == 422

    async def test_read_with_fields(self, client):
        owner = await make_tenant(client)
        company = (await create(client, owner, gstin=GSTIN_MH)).json()
        response = await client.get(f"{URL}/{company['id']}", params={"fields": "gstin"}, headers=owner.headers)
        assert response.json() == {"id": company["id"], "gstin": GSTIN_MH}


@pytest.fixture
async def company_documents(database_urls) -> AsyncIterator:
    """A stand-in for the documents that will refer to companies: a table with a composite
    foreign key to them, so that PostgreSQL refuses to delete a referenced company."""
    engine = create_async_engine(database_urls.admin, isolation_level="AUTOCOMMIT")
    table = f"test_company_documents_{id(engine)}"
    async with engine.connect() as conn:
        await conn.execute(
            sa.text(
                f"CREATE TABLE {table} (ref_tenant uuid, ref_company uuid, "
                "FOREIGN KEY (ref_tenant, ref_company) REFERENCES companies (tenant_id, id))"
            )
        )

        async def refer(tenant_id: str, company_id: str) -> None:
            await conn.execute(sa.text(f"INSERT INTO {table} VALUES (:t, :c)"), {"t": tenant_id, "c": company_id})

        yield refer
        await conn.execute(sa.text(f"DROP TABLE {table}"))
    await engine.dispose()


class TestDelete:
    async def test_an_unreferenced_company_is_deleted(self, client):
        owner = await make_tenant(client)
        company = (await create(client, owner, gstin=GSTIN_MH)).json()
        response = await client.delete(f"{URL}/{company['id']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["outcome"], response.json()["item"]["id"]) == ("deleted", company["id"])
        assert (await client.get(f"{URL}/{company['id']}", headers=owner.headers)).status_code == 404
        actions = [r["action"] for r in await audit_rows(client, owner, company["id"])]
        assert actions == ["company.deleted", "company.created"]
        assert (await create(client, owner, gstin=GSTIN_MH)).status_code == 201  # the GSTIN is free again

    async def test_a_company_with_documents_is_archived_instead(self, client, company_documents):
        owner = await make_tenant(client)
        company = (await create(client, owner, gstin=GSTIN_MH)).json()
        await company_documents(owner.tenant_id, company["id"])
        response = await client.delete(f"{URL}/{company['id']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "archived" and response.json()["item"]["is_archived"] is True
        assert (await client.get(f"{URL}/{company['id']}", headers=owner.headers)).json()["is_archived"] is True
        assert await walk(client, owner, "/companies") == []
        assert [c["id"] for c in await walk(client, owner, "/companies", archived="true")] == [company["id"]]
        (archived, *_) = await audit_rows(client, owner, company["id"])
        assert archived["action"] == "company.archived"
        assert (archived["before"]["is_archived"], archived["after"]["is_archived"]) == (False, True)
