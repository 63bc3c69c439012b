"""GET /stock/alerts: the open low-stock alerts with their product, company and level now; filters,
cursor paging, every role reads, another tenant's alerts never show."""

from datetime import timedelta

import pytest

from app.models.base import utcnow
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import make_company
from tests.api.v1.members import add_member
from tests.api.v1.stock_rows import low_stock, make_product
from tests.factories import API, make_tenant

ALERTS = f"{API}/stock/alerts"


@pytest.fixture
def rt(app):
    return app.state.runtime


async def alerts(client, account, **params) -> dict:
    response = await client.get(ALERTS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestTheList:
    async def test_open_alerts_with_product_company_and_levels(self, client, rt, mailbox):
        owner = await make_tenant(client)
        main = await make_company(client, owner)
        branch = await make_company(client, owner, state="27", trade_name="Sharma Pune")
        start = utcnow() - timedelta(days=3)
        rice = await make_product(rt, owner.tenant_id, name="Basmati rice", sku="RICE-1", unit="KGS")
        dal = await make_product(rt, owner.tenant_id, name="Toor dal", sku="DAL-1", reorder_quantity=None)
        oil = await make_product(rt, owner.tenant_id, name="Mustard oil", sku="OIL-1")
        old = await make_product(rt, owner.tenant_id, name="Old stock", is_archived=True)
        a1 = await low_stock(rt, owner.tenant_id, rice, main["id"], on_hand="2.5", opened_at=start)
        a2 = await low_stock(rt, owner.tenant_id, dal, branch["id"], on_hand="0", opened_at=start + timedelta(days=1))
        await low_stock(rt, owner.tenant_id, oil, main["id"], closed=True)
        await low_stock(rt, owner.tenant_id, old, main["id"])

        page = await alerts(client, owner)
        assert [item["id"] for item in page["items"]] == [str(a1.id), str(a2.id)]  # oldest first
        first = page["items"][0]
        assert first == first | {
            "product_id": str(rice.id),
            "product_name": "Basmati rice",
            "sku": "RICE-1",
            "unit": "KGS",
            "company_id": main["id"],
            "company_name": "Sharma Traders Pvt Ltd",
            "company_gstin": main["gstin"],
            "on_hand": "2.500",
            "available": "2.500",
            "available_at_open": "2.500",
            "reorder_level": "10.000",
            "reorder_quantity": "50.000",
        }
        second = page["items"][1]
        assert second["company_name"] == "Sharma Pune" and second["reorder_quantity"] is None
        assert page["next_cursor"] is None

        assert [i["id"] for i in (await alerts(client, owner, sort="-opened_at"))["items"]] == [str(a2.id), str(a1.id)]
        assert [i["id"] for i in (await alerts(client, owner, company_id=branch["id"]))["items"]] == [str(a2.id)]
        assert [i["id"] for i in (await alerts(client, owner, product_id=str(rice.id)))["items"]] == [str(a1.id)]
        counted = await alerts(client, owner, count="true")
        assert counted["total"] == 2

    async def test_cursor_paging_visits_each_alert_once(self, client, rt):
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        start = utcnow() - timedelta(hours=10)
        made = []
        for i in range(7):
            product = await make_product(rt, owner.tenant_id)
            # two alerts share an instant: the id breaks the tie
            made.append(
                await low_stock(
                    rt, owner.tenant_id, product, company["id"], opened_at=start + timedelta(minutes=i // 2)
                )
            )
        seen, cursor = [], None
        while True:
            page = await alerts(client, owner, limit=3, **({"cursor": cursor} if cursor else {}))
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [str(a.id) for a in sorted(made, key=lambda a: (a.opened_at, a.id))]

    async def test_every_role_reads_and_other_tenants_see_nothing(self, client, rt, mailbox):
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        alert = await low_stock(rt, owner.tenant_id, await make_product(rt, owner.tenant_id), company["id"])
        viewer = await add_member(client, mailbox, owner, "viewer")
        assert [i["id"] for i in (await alerts(client, viewer))["items"]] == [str(alert.id)]
        stranger = await make_tenant(client)
        assert (await alerts(client, stranger))["items"] == []
        assert (await alerts(client, stranger, company_id=company["id"]))["items"] == []

    async def test_bad_queries_are_clear_4xx(self, client):
        owner = await make_tenant(client)
        assert_problem(await client.get(ALERTS, params={"cursor": "AAAA"}, headers=owner.headers), 400)
        assert_problem(await client.get(ALERTS, params={"sort": "name"}, headers=owner.headers), 422)
        assert_problem(await client.get(ALERTS, params={"company_id": "x"}, headers=owner.headers), 422)
        assert_problem(await client.get(ALERTS, params={"limit": "1000"}, headers=owner.headers), 422)
        assert (await client.get(ALERTS)).status_code == 401
