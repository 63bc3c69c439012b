"""/stock, /stock/receipts, /stock/adjustments, /stock/documents, /products/{id}/movements and
/inventory-settings over HTTP: what a shop does with its stock, and every refusal a clear 4xx with
nothing written."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.models.catalog.stock import StockAlert
from tests.api.v1.business import GSTIN_MH, audit_rows, walk
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import make_company
from tests.api.v1.members import add_member
from tests.api.v1.product_rows import make_category, make_product
from tests.factories import API, Account, make_tenant

STOCK = f"{API}/stock"
RECEIPTS = f"{STOCK}/receipts"
ADJUSTMENTS = f"{STOCK}/adjustments"
DOCUMENTS = f"{STOCK}/documents"
SETTINGS = f"{API}/inventory-settings"


@dataclass
class Shop:
    account: Account
    company: dict

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers


async def new_shop(client: httpx.AsyncClient) -> Shop:
    account = await make_tenant(client)
    return Shop(account, await make_company(client, account))


async def receive(client: httpx.AsyncClient, shop: Shop, *lines: dict, **fields) -> dict:
    body = {"company_id": shop.company["id"], "lines": list(lines)} | fields
    response = await client.post(RECEIPTS, json=body, headers=shop.headers)
    assert response.status_code == 201, response.text
    return response.json()


def ln(product: dict, quantity: str, **extra) -> dict:
    return {"product_id": product["id"], "quantity": quantity, **extra}


async def adjust(client: httpx.AsyncClient, shop: Shop, *lines: dict, reason: str = "count_correction", **fields):
    body = {"company_id": shop.company["id"], "reason": reason, "lines": list(lines)} | fields
    return await client.post(ADJUSTMENTS, json=body, headers=shop.headers)


async def level(client: httpx.AsyncClient, shop: Shop, product: dict) -> dict | None:
    params = {"product_id": product["id"], "company_id": shop.company["id"]}
    response = await client.get(STOCK, params=params, headers=shop.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return items[0] if items else None


async def movements(client: httpx.AsyncClient, shop: Shop, product: dict, **params) -> list[dict]:
    return await walk(client, shop.account, f"/products/{product['id']}/movements", limit=100, **params)


async def documents_count(client: httpx.AsyncClient, shop: Shop) -> int:
    return len(await walk(client, shop.account, "/stock/documents", limit=100))


class TestReceipts:
    async def test_goods_in_make_a_document_with_its_lines_and_raise_the_level(self, client, today):
        shop = await new_shop(client)
        rice = await make_product(client, shop.account, unit="KGS", reorder_level="5")
        soap = await make_product(client, shop.account)
        document = await receive(
            client,
            shop,
            ln(rice, "12.5", unit_cost="41.20"),
            ln(soap, "24"),
            ln(rice, "2.5", unit_cost="42.40"),
            supplier_name="Gupta Wholesale",
            supplier_gstin=GSTIN_MH.lower(),
            supplier_reference="GW/0412",
        )
        assert document["kind"] == "receipt" and document["document_date"] == today.isoformat()
        assert document["supplier_gstin"] == GSTIN_MH
        lines = {line["product_id"]: line for line in document["lines"]}
        assert lines[rice["id"]]["on_hand_change"] == "15.000" and lines[rice["id"]]["unit_cost"] == "41.4000"
        assert lines[soap["id"]]["on_hand_after"] == "24.000"
        rice_level = await level(client, shop, rice)
        assert (rice_level["on_hand"], rice_level["available"], rice_level["low"]) == ("15.000", "15.000", False)
        assert (rice_level["product_name"], rice_level["unit"]) == (rice["name"], "KGS")
        read = await client.get(f"{DOCUMENTS}/{document['id']}", headers=shop.headers)
        assert read.status_code == 200 and read.json() == document
        product = (await client.get(f"{API}/products/{rice['id']}", headers=shop.headers)).json()
        assert product["purchase_cost"] == "41.4000"  # the received cost, weighted over the two lines
        [entry] = await audit_rows(client, shop.account, document["id"])
        assert entry["action"] == "stock_receipt.created" and len(entry["after"]["lines"]) == 2

    async def test_a_back_dated_receipt_leaves_the_purchase_cost(self, client, today):
        shop = await new_shop(client)
        item = await make_product(client, shop.account, purchase_cost="10.00")
        yesterday = (today - timedelta(days=1)).isoformat()
        document = await receive(client, shop, ln(item, "3", unit_cost="9.00"), document_date=yesterday)
        assert document["document_date"] == yesterday
        product = (await client.get(f"{API}/products/{item['id']}", headers=shop.headers)).json()
        assert product["purchase_cost"] == "10.0000"

    @pytest.mark.parametrize(
        ("change", "status", "code"),
        [
            ({"document_date": "tomorrow"}, 400, "document-date-too-late"),
            ({"supplier_gstin": "27AAPFU0939F1ZX"}, 400, "invalid-gstin"),
            ({"lines": "1.5"}, 400, "quantity-too-precise"),
            ({"lines": "0"}, 422, "validation-error"),
            ({"lines": "-1"}, 422, "validation-error"),
            ({"lines": "1.0001"}, 422, "validation-error"),
            ({"lines": "untracked"}, 400, "product-not-tracked"),
            ({"lines": "missing"}, 404, "product-not-found"),
            ({"company_id": "missing"}, 404, "company-not-found"),
            ({"tenant_id": "x"}, 422, "validation-error"),
        ],
    )
    async def test_bad_input_is_a_clear_4xx_and_writes_nothing(self, client, today, change, status, code):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        untracked = await make_product(client, shop.account, track_stock=False)
        body = {"company_id": shop.company["id"], "lines": [ln(item, "2")]}
        for key, value in change.items():
            if key == "document_date":
                body[key] = (today + timedelta(days=1)).isoformat()
            elif key == "lines" and value == "untracked":
                body["lines"] = [ln(item, "1"), ln(untracked, "1")]
            elif key == "lines" and value == "missing":
                body["lines"] = [ln(item, "1"), {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44", "quantity": "1"}]
            elif key == "lines":
                body["lines"] = [ln(item, "1"), ln(item, value)]
            elif key == "company_id":
                body[key] = "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44"
            else:
                body[key] = value
        response = await client.post(RECEIPTS, json=body, headers=shop.headers)
        assert_problem(response, status, code)
        assert await level(client, shop, item) is None
        assert await documents_count(client, shop) == 0

    async def test_a_replayed_idempotency_key_receives_once(self, client):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        body = {"company_id": shop.company["id"], "lines": [ln(item, "5")]}
        headers = shop.headers | {"Idempotency-Key": "grn-0001-abcdef"}
        first = await client.post(RECEIPTS, json=body, headers=headers)
        again = await client.post(RECEIPTS, json=body, headers=headers)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert (await level(client, shop, item))["on_hand"] == "5.000"
        other = await client.post(RECEIPTS, json=body | {"notes": "again"}, headers=headers)
        assert_problem(other, 422, "idempotency-key-reused")


class TestAdjustments:
    async def test_a_count_sets_the_level_and_a_change_moves_it(self, client):
        shop = await new_shop(client)
        a, b, c = [await make_product(client, shop.account) for _ in range(3)]
        await receive(client, shop, ln(a, "10"), ln(b, "10"), ln(c, "4"))
        response = await adjust(
            client,
            shop,
            {"product_id": a["id"], "counted": "7"},
            {"product_id": b["id"], "change": "3"},
            {"product_id": c["id"], "counted": "4"},  # as on hand: nothing moves
            notes="Shelf count",
        )
        assert response.status_code == 201, response.text
        document = response.json()
        assert (document["kind"], document["reason"], document["notes"]) == (
            "adjustment",
            "count_correction",
            "Shelf count",
        )
        changes = {line["product_id"]: line["on_hand_change"] for line in document["lines"]}
        assert changes == {a["id"]: "-3.000", b["id"]: "3.000"}
        assert [(await level(client, shop, p))["on_hand"] for p in (a, b, c)] == ["7.000", "13.000", "4.000"]
        [move, _] = await movements(client, shop, a)
        assert (move["kind"], move["reason"], move["document_type"]) == (
            "adjustment",
            "count_correction",
            "stock_document",
        )

    async def test_a_count_of_a_product_never_stocked_creates_its_level(self, client):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        response = await adjust(client, shop, {"product_id": item["id"], "counted": "6"}, reason="found")
        assert response.status_code == 201, response.text
        assert (await level(client, shop, item))["on_hand"] == "6.000"

    async def test_a_decrease_beyond_the_stock_is_refused_whole(self, client):
        shop = await new_shop(client)
        a, b = await make_product(client, shop.account), await make_product(client, shop.account)
        await receive(client, shop, ln(a, "5"), ln(b, "5"))
        response = await adjust(
            client,
            shop,
            {"product_id": a["id"], "change": "-2"},
            {"product_id": b["id"], "change": "-6"},
            reason="damaged",
        )
        body = assert_problem(response, 409, "insufficient-stock")
        assert body["lines"] == [{"position": 2, "product_id": b["id"], "requested": "6", "available": "5"}]
        assert body["detail"] == "Not enough stock for line 2."  # the second line, as invoices and transfers count
        assert [(await level(client, shop, p))["on_hand"] for p in (a, b)] == ["5.000", "5.000"]
        assert await documents_count(client, shop) == 1  # the receipt only

    @pytest.mark.parametrize(
        ("lines", "extra", "status", "code"),
        [
            ([{"counted": "1", "change": "1"}], {}, 422, "validation-error"),
            ([{}], {}, 422, "validation-error"),
            ([{"change": "0"}], {}, 422, "validation-error"),
            ([{"counted": "1.5"}], {}, 400, "quantity-too-precise"),
            ([{"change": "-0.5"}], {}, 400, "quantity-too-precise"),
            ([{"counted": "1"}, {"change": "1"}], {}, 400, "duplicate-product-line"),
            ([{"counted": "1"}], {"reason": "other"}, 400, "notes-required"),
            ([{"counted": "1"}], {"reason": "mislaid"}, 422, "validation-error"),
        ],
    )
    async def test_bad_lines_are_refused(self, client, lines, extra, status, code):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        await receive(client, shop, ln(item, "3"))
        body_lines = [{"product_id": item["id"], **line} for line in lines]
        response = await adjust(client, shop, *body_lines, **extra)
        assert_problem(response, status, code)
        assert (await level(client, shop, item))["on_hand"] == "3.000"


class TestNegativeStock:
    async def test_allowed_by_an_owner_then_refused_off_until_corrected(self, client, mailbox):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        assert (await client.get(SETTINGS, headers=shop.headers)).json()["allow_negative_stock"] is False
        accountant = await add_member(client, mailbox, shop.account, "accountant")
        body = {"allow_negative_stock": True}
        assert_problem(await client.put(SETTINGS, json=body, headers=accountant.headers), 403)
        assert_problem(
            await adjust(client, shop, {"product_id": item["id"], "change": "-2"}), 409, "insufficient-stock"
        )
        response = await client.put(SETTINGS, json=body, headers=shop.headers)
        assert response.status_code == 200 and response.json()["allow_negative_stock"] is True
        assert (await adjust(client, shop, {"product_id": item["id"], "change": "-2"})).status_code == 201
        assert (await level(client, shop, item))["on_hand"] == "-2.000"
        off = await client.put(SETTINGS, json={"allow_negative_stock": False}, headers=shop.headers)
        problem = assert_problem(off, 409, "negative-stock-exists")
        assert problem["levels"] == [
            {"product_id": item["id"], "company_id": shop.company["id"], "on_hand": "-2", "reserved": "0"}
        ]
        assert (await client.get(SETTINGS, headers=accountant.headers)).json()["allow_negative_stock"] is True
        await receive(client, shop, ln(item, "2"))
        off = await client.put(SETTINGS, json={"allow_negative_stock": False}, headers=shop.headers)
        assert off.status_code == 200 and off.json()["allow_negative_stock"] is False
        assert_problem(
            await adjust(client, shop, {"product_id": item["id"], "change": "-1"}), 409, "insufficient-stock"
        )
        entries = await walk(client, shop.account, "/audit-logs", limit=100, entity_type="inventory_settings")
        assert [(e["before"]["allow_negative_stock"], e["after"]["allow_negative_stock"]) for e in entries] == [
            (True, False),
            (False, True),
        ]


class TestLevelsAndMovements:
    async def test_filters_and_pages(self, client):
        shop = await new_shop(client)
        other_company = await make_company(client, shop.account, state="27")
        staples = await make_category(client, shop.account, "Staples")
        dal = await make_category(client, shop.account, "Dal", parent=staples)
        rice = await make_product(
            client, shop.account, name="Basmati Rice", reorder_level="10", category_id=staples["id"]
        )
        toor = await make_product(client, shop.account, name="Toor Dal", reorder_level="2", category_id=dal["id"])
        soap = await make_product(client, shop.account, name="Bath Soap")
        await receive(client, shop, ln(rice, "10"), ln(toor, "5"), ln(soap, "1"))
        body = {"company_id": other_company["id"], "lines": [ln(rice, "50")]}
        assert (await client.post(RECEIPTS, json=body, headers=shop.headers)).status_code == 201

        async def names(**params) -> list[tuple[str, str]]:
            items = await walk(client, shop.account, "/stock", limit=1, **params)
            return [(i["product_name"], i["on_hand"]) for i in items]

        assert await names() == [  # by name, then product, then company (created in this order)
            ("Basmati Rice", "10.000"),
            ("Basmati Rice", "50.000"),
            ("Bath Soap", "1.000"),
            ("Toor Dal", "5.000"),
        ]
        assert await names(low="true") == [("Basmati Rice", "10.000")]
        assert await names(company_id=shop.company["id"], low="false") == [
            ("Bath Soap", "1.000"),
            ("Toor Dal", "5.000"),
        ]
        assert await names(category_id=staples["id"], company_id=shop.company["id"]) == [
            ("Basmati Rice", "10.000"),
            ("Toor Dal", "5.000"),
        ]
        assert await names(category_id=dal["id"]) == [("Toor Dal", "5.000")]
        assert await names(q="ba", company_id=shop.company["id"]) == [
            ("Basmati Rice", "10.000"),
            ("Bath Soap", "1.000"),
        ]
        counted = await client.get(STOCK, params={"count": "true", "limit": 1}, headers=shop.headers)
        assert counted.json()["total"] == 4

    async def test_movements_newest_first_with_filters(self, client, today):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        await receive(client, shop, ln(item, "10"))
        for change in ("-1", "-2", "4"):
            assert (await adjust(client, shop, {"product_id": item["id"], "change": change})).status_code == 201
        moves = await movements(client, shop, item)
        assert [(m["kind"], m["on_hand_change"], m["on_hand_after"]) for m in moves] == [
            ("adjustment", "4.000", "11.000"),
            ("adjustment", "-2.000", "7.000"),
            ("adjustment", "-1.000", "9.000"),
            ("receipt", "10.000", "10.000"),
        ]
        assert moves[0]["available_after"] == "11.000"
        assert len(await movements(client, shop, item, kind="receipt")) == 1
        assert len(await movements(client, shop, item, **{"from": today.isoformat(), "to": today.isoformat()})) == 4
        tomorrow = (today + timedelta(days=1)).isoformat()
        assert await movements(client, shop, item, **{"from": tomorrow}) == []
        bad = await client.get(
            f"{API}/products/{item['id']}/movements",
            params={"from": tomorrow, "to": today.isoformat()},
            headers=shop.headers,
        )
        assert_problem(bad, 400, "invalid-date-range")

    async def test_documents_list_filters(self, client, today):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        receipt = await receive(client, shop, ln(item, "10"))
        adjustment = (await adjust(client, shop, {"product_id": item["id"], "change": "-1"})).json()
        listed = await walk(client, shop.account, "/stock/documents", limit=1)
        assert {d["id"] for d in listed} == {receipt["id"], adjustment["id"]}
        assert all(d["lines"] is None for d in listed)
        assert [d["id"] for d in await walk(client, shop.account, "/stock/documents", limit=5, kind="receipt")] == [
            receipt["id"]
        ]
        yesterday = (today - timedelta(days=1)).isoformat()
        assert await walk(client, shop.account, "/stock/documents", limit=5, to=yesterday) == []


class TestTenantsAndRoles:
    async def test_another_tenants_ids_are_404(self, client):
        a, b = await new_shop(client), await new_shop(client)
        item = await make_product(client, a.account)
        document = await receive(client, a, ln(item, "5"))
        assert_problem(
            await client.get(f"{DOCUMENTS}/{document['id']}", headers=b.headers), 404, "stock-document-not-found"
        )
        assert_problem(
            await client.get(f"{API}/products/{item['id']}/movements", headers=b.headers), 404, "product-not-found"
        )
        body = {"company_id": b.company["id"], "lines": [ln(item, "1")]}
        assert_problem(await client.post(RECEIPTS, json=body, headers=b.headers), 404, "product-not-found")
        b_item = await make_product(client, b.account)
        body = {"company_id": a.company["id"], "lines": [ln(b_item, "1")]}
        assert_problem(await client.post(RECEIPTS, json=body, headers=b.headers), 404, "company-not-found")
        assert (await client.get(STOCK, params={"product_id": item["id"]}, headers=b.headers)).json()["items"] == []
        assert (await level(client, a, item))["on_hand"] == "5.000"

    async def test_a_viewer_reads_but_does_not_write(self, client, mailbox):
        shop = await new_shop(client)
        item = await make_product(client, shop.account)
        viewer = await add_member(client, mailbox, shop.account, "viewer")
        body = {"company_id": shop.company["id"], "lines": [ln(item, "1")]}
        assert_problem(await client.post(RECEIPTS, json=body, headers=viewer.headers), 403, "role-forbidden")
        adjustment = {
            "company_id": shop.company["id"],
            "reason": "found",
            "lines": [{"product_id": item["id"], "change": "1"}],
        }
        assert_problem(await client.post(ADJUSTMENTS, json=adjustment, headers=viewer.headers), 403, "role-forbidden")
        assert (await client.get(STOCK, headers=viewer.headers)).status_code == 200
        assert (await client.get(SETTINGS, headers=viewer.headers)).status_code == 200


class TestRaces:
    async def test_eighty_concurrent_one_unit_decreases_against_fifty(self, live_server):
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as live:
            shop = await new_shop(live)
            item = await make_product(live, shop.account)
            await receive(live, shop, ln(item, "50"))
            body = {
                "company_id": shop.company["id"],
                "reason": "damaged",
                "lines": [{"product_id": item["id"], "change": "-1"}],
            }

            async def one() -> int:
                async with httpx.AsyncClient(base_url=live_server, timeout=120) as c:
                    return (await c.post(ADJUSTMENTS, json=body, headers=shop.headers)).status_code

            statuses = await asyncio.gather(*(one() for _ in range(80)))
            assert sorted(statuses) == [201] * 50 + [409] * 30
            assert (await level(live, shop, item))["on_hand"] == "0.000"
            moves = await movements(live, shop, item)
            assert len(moves) == 51
            assert sum(int(float(m["on_hand_change"])) for m in moves) == 0
            chain = [m["on_hand_after"] for m in reversed(moves)]
            assert chain == [f"{n}.000" for n in range(50, -1, -1)]


class TestAlertsFollowTheProduct:
    async def test_changing_the_reorder_level_opens_and_closes_the_alert(self, client, app):
        shop = await new_shop(client)
        item = await make_product(client, shop.account, reorder_level="2")
        await receive(client, shop, ln(item, "5"))

        async def open_alerts() -> int:
            async with app.state.runtime.db.transaction(uuid.UUID(shop.account.tenant_id)) as session:
                stmt = select(StockAlert).where(StockAlert.product_id == uuid.UUID(item["id"]))
                return len([a for a in (await session.execute(stmt)).scalars() if a.closed_at is None])

        assert await open_alerts() == 0
        patch = await client.patch(f"{API}/products/{item['id']}", json={"reorder_level": "5"}, headers=shop.headers)
        assert patch.status_code == 200, patch.text
        assert await open_alerts() == 1 and (await level(client, shop, item))["low"] is True
        patch = await client.patch(f"{API}/products/{item['id']}", json={"reorder_level": "4"}, headers=shop.headers)
        assert patch.status_code == 200 and await open_alerts() == 0

    async def test_a_product_that_stops_tracking_stock_is_low_nowhere(self, client):
        shop = await new_shop(client)
        item = await make_product(client, shop.account, reorder_level="5")
        await receive(client, shop, ln(item, "3"))
        assert (await level(client, shop, item))["low"] is True
        patch = await client.patch(f"{API}/products/{item['id']}", json={"track_stock": False}, headers=shop.headers)
        assert patch.status_code == 200, patch.text
        assert (await level(client, shop, item))["low"] is False
        low = await client.get(f"{API}/stock", params={"low": "true"}, headers=shop.headers)
        assert low.json()["items"] == []
        products = await client.get(f"{API}/products", params={"low": "true"}, headers=shop.headers)
        alerts = await client.get(f"{API}/stock/alerts", headers=shop.headers)
        assert products.json()["items"] == [] and alerts.json()["items"] == []
