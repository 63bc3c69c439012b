from datetime import date, datetime, timedelta

from tests.api.v1.business import audit_rows, walk
from tests.api.v1.members import add_member
from tests.factories import API, make_tenant

URL = f"{API}/tax-rates"
STANDARD = ["0.00", "0.10", "0.25", "1.50", "3.00", "5.00", "6.00", "12.00", "18.00", "28.00", "40.00"]


def today() -> date:
    from app.domain.fiscal import today_in_india

    return today_in_india(datetime.now().astimezone())


async def rates(client, owner, **params) -> list[dict]:
    return await walk(client, owner, "/tax-rates", limit=100, **params)


class TestStandardRates:
    async def test_a_new_tenant_has_the_standard_set(self, client):
        owner = await make_tenant(client)
        assert [r["rate"] for r in await rates(client, owner)] == STANDARD

    async def test_as_of_returns_the_rates_in_force_that_day(self, client):
        owner = await make_tenant(client)
        assert [r["rate"] for r in await rates(client, owner, as_of="2025-09-21")] == STANDARD[:-1]
        assert [r["rate"] for r in await rates(client, owner, as_of="2025-09-22")] == STANDARD
        assert await rates(client, owner, as_of="2017-06-30") == []
        assert (await client.get(URL, params={"as_of": "0"}, headers=owner.headers)).status_code == 422

    async def test_sort_and_fields(self, client):
        owner = await make_tenant(client)
        listed = await rates(client, owner, sort="-rate", fields="rate")
        assert [r["rate"] for r in listed] == STANDARD[::-1]
        assert all(set(r) == {"id", "rate"} for r in listed)

    async def test_pages(self, client):
        owner = await make_tenant(client)
        paged = await walk(client, owner, "/tax-rates", limit=4, sort="rate")
        assert [r["rate"] for r in paged] == STANDARD


class TestCreate:
    async def test_create_is_audited_and_named(self, client):
        owner = await make_tenant(client)
        body = {"rate": "7.5", "effective_from": "2026-04-01"}
        response = await client.post(URL, json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert (created["name"], created["rate"], created["effective_to"]) == ("GST 7.5%", "7.50", None)
        (row,) = await audit_rows(client, owner, created["id"])
        assert row["action"] == "tax_rate.created" and row["after"]["rate"] == "7.50"

    async def test_the_same_rate_cannot_be_in_force_twice(self, client):
        owner = await make_tenant(client)
        response = await client.post(URL, json={"rate": "18", "effective_from": "2026-04-01"}, headers=owner.headers)
        assert (response.status_code, response.json()["code"]) == (409, "tax-rate-overlap")

    async def test_invalid_periods_and_values(self, client):
        owner = await make_tenant(client)
        backwards = {"rate": "7", "effective_from": "2026-04-01", "effective_to": "2026-03-31"}
        assert (await client.post(URL, json=backwards, headers=owner.headers)).status_code == 400
        for bad in (
            {"rate": 7, "effective_from": "2026-04-01"},
            {"rate": "100.01", "effective_from": "2026-04-01"},
            {"rate": "7", "effective_from": 0},
        ):
            assert (await client.post(URL, json=bad, headers=owner.headers)).status_code == 422
        tenant_id = {"rate": "7", "effective_from": "2026-04-01", "tenant_id": owner.tenant_id}
        assert (await client.post(URL, json=tenant_id, headers=owner.headers)).status_code == 422

    async def test_roles(self, client, mailbox):
        owner = await make_tenant(client)
        viewer = await add_member(client, mailbox, owner, "viewer")
        accountant = await add_member(client, mailbox, owner, "accountant")
        admin = await add_member(client, mailbox, owner, "admin")
        body = {"rate": "7", "effective_from": "2026-04-01"}
        assert (await client.post(URL, json=body, headers=viewer.headers)).status_code == 403
        assert (await client.post(URL, json=body, headers=accountant.headers)).status_code == 403  # configuration
        assert (await client.post(URL, json=body, headers=admin.headers)).status_code == 201
        assert len(await rates(client, viewer)) == len(STANDARD) + 1


class TestChanges:
    async def standard(self, client, owner, rate: str) -> dict:
        return next(r for r in await rates(client, owner) if r["rate"] == rate)

    async def test_a_revision_is_a_new_row_and_closes_the_old_one(self, client):
        owner = await make_tenant(client)
        old = await self.standard(client, owner, "12.00")
        start = today() + timedelta(days=10)
        body = {"rate": "13", "effective_from": start.isoformat()}
        response = await client.post(f"{URL}/{old['id']}/revisions", json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        new = response.json()
        assert new["id"] != old["id"] and (new["rate"], new["effective_from"]) == ("13.00", start.isoformat())
        closed = (await client.get(f"{URL}/{old['id']}", headers=owner.headers)).json()
        assert closed["effective_to"] == (start - timedelta(days=1)).isoformat()
        in_force_then = [r["rate"] for r in await rates(client, owner, as_of=start.isoformat())]
        assert "13.00" in in_force_then and "12.00" not in in_force_then
        assert "12.00" in [r["rate"] for r in await rates(client, owner, as_of=today().isoformat())]
        (updated, *_) = await audit_rows(client, owner, old["id"])
        assert (updated["before"]["effective_to"], updated["after"]["effective_to"]) == (None, closed["effective_to"])

    async def test_a_revision_cannot_be_backdated(self, client):
        owner = await make_tenant(client)
        old = await self.standard(client, owner, "12.00")
        body = {"rate": "13", "effective_from": (today() - timedelta(days=1)).isoformat()}
        response = await client.post(f"{URL}/{old['id']}/revisions", json=body, headers=owner.headers)
        assert response.status_code == 400
        assert (await client.get(f"{URL}/{old['id']}", headers=owner.headers)).json()["effective_to"] is None

    async def test_close_and_rename(self, client):
        owner = await make_tenant(client)
        old = await self.standard(client, owner, "6.00")
        url = f"{URL}/{old['id']}"
        past = {"effective_to": (today() - timedelta(days=1)).isoformat()}
        assert (await client.patch(url, json=past, headers=owner.headers)).status_code == 400
        body = {"effective_to": today().isoformat(), "name": "GST 6% (old)"}
        response = await client.patch(url, json=body, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["effective_to"], response.json()["name"]) == (today().isoformat(), "GST 6% (old)")
        tomorrow = (today() + timedelta(days=1)).isoformat()
        assert "6.00" not in [r["rate"] for r in await rates(client, owner, as_of=tomorrow)]

    async def test_rates_are_never_deleted(self, client):
        owner = await make_tenant(client)
        old = await self.standard(client, owner, "18.00")
        assert (await client.delete(f"{URL}/{old['id']}", headers=owner.headers)).status_code == 405
