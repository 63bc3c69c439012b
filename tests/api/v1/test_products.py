"""/products: create, read, update, archive, delete; the rules of a product record (UQC, unit
decimals, barcode check digit, HSN, GST rate in force, MRP), SKU and barcode unique per tenant;
search, filters, paging; roles; another tenant's rows are 404s; each refusal writes nothing."""

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import update

from app.models.billing.invoice import InvoiceLine
from app.models.catalog.stock import StockLevel
from tests.api.v1.http_checks import all_pages, assert_problem
from tests.api.v1.invoicing import Party
from tests.api.v1.members import add_member
from tests.api.v1.product_rows import barcode, make_category, make_product, product_body
from tests.api.v1.subscription_rows import put_on_plan, subscription
from tests.factories import API, make_tenant

URL = f"{API}/products"


async def total(client, account, **params) -> int:
    response = await client.get(URL, params={"count": "true", **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


async def names(client, account, **params) -> list[str]:
    response = await client.get(URL, params={"limit": 100, **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


async def refused(client, account, body: dict, status: int, code: str) -> dict:
    """POST `body` is refused with `status`/`code`, and the tenant has no more products than before."""
    before = await total(client, account, archived="false") + await total(client, account, archived="true")
    problem = assert_problem(await client.post(URL, json=body, headers=account.headers), status, code)
    after = await total(client, account, archived="false") + await total(client, account, archived="true")
    assert after == before
    return problem


class TestCreate:
    async def test_a_product_with_every_field(self, client):
        owner = await make_tenant(client)
        category = await make_category(client, owner, "Staples")
        code = barcode()
        body = product_body(
            name="Tata Salt 1 kg",
            sku="SALT-1KG",
            barcode=code,
            description="Iodised",
            category_id=category["id"],
            unit="nos",
            sale_price="26.6667",
            price_includes_tax=False,
            mrp="28.00",
            purchase_cost="22.50",
            gst_rate="5",
            track_stock=True,
            reorder_level="10",
            reorder_quantity="50",
        )
        response = await client.post(URL, json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        product = response.json()
        assert {k: product[k] for k in body if k != "unit"} == {k: v for k, v in body.items() if k != "unit"} | {
            "sale_price": "26.6667",
            "purchase_cost": "22.5000",
            "gst_rate": "5.00",
            "reorder_level": "10.000",
            "reorder_quantity": "50.000",
        }
        assert (product["unit"], product["is_archived"]) == ("NOS", False)
        assert (await client.get(f"{URL}/{product['id']}", headers=owner.headers)).json() == product

    async def test_defaults(self, client):
        owner = await make_tenant(client)
        body = {
            "name": "Service kit",
            "sku": "KIT",
            "hsn_code": "8471",
            "unit": "SET",
            "sale_price": "10",
            "gst_rate": "18",
        }
        product = (await client.post(URL, json=body, headers=owner.headers)).json()
        assert (product["price_includes_tax"], product["track_stock"], product["barcode"], product["mrp"]) == (
            False,
            True,
            None,
            None,
        )

    async def test_a_upc_a_is_kept_in_its_ean_13_form(self, client):
        owner = await make_tenant(client)
        product = await make_product(client, owner, barcode="036000291452")
        assert product["barcode"] == "0036000291452"
        found = await client.get(URL, params={"q": "036000291452"}, headers=owner.headers)
        assert [p["id"] for p in found.json()["items"]] == [product["id"]]

    async def test_units_list_is_the_gstn_list(self, client):
        owner = await make_tenant(client)
        units = (await client.get(f"{URL}/units", headers=owner.headers)).json()["items"]
        by_code = {u["code"]: u for u in units}
        assert len(units) == 45
        assert by_code["NOS"] == {"code": "NOS", "description": "NUMBERS", "decimals": 0}
        assert by_code["KGS"]["decimals"] == 3


class TestBadInput:
    @pytest.mark.parametrize("unit", ["XYZ", "KG", "PIECE", ""])
    async def test_an_unknown_uqc_is_422(self, client, unit):
        owner = await make_tenant(client)
        problem = await refused(client, owner, product_body(unit=unit), 422, "validation-error")
        assert problem["errors"][0]["loc"] == ["body", "unit"]

    @pytest.mark.parametrize("code", ["8901030865276", "036000291453", "96385075", "12345678901"])
    async def test_an_invalid_barcode_check_digit_is_400(self, client, code):
        owner = await make_tenant(client)
        problem = await refused(client, owner, product_body(barcode=code), 400, "invalid-barcode")
        assert problem["errors"][0]["loc"] == ["body", "barcode"]

    @pytest.mark.parametrize("hsn", ["100", "10063", "1006301", "SAC998"])
    async def test_an_invalid_hsn_is_422(self, client, hsn):
        owner = await make_tenant(client)
        await refused(client, owner, product_body(hsn_code=hsn), 422, "validation-error")

    async def test_a_duplicate_sku_is_409_also_in_another_case(self, client):
        owner = await make_tenant(client)
        await make_product(client, owner, sku="Rice-5kg")
        for sku in ("Rice-5kg", "RICE-5KG", "rice-5kg"):
            problem = await refused(client, owner, product_body(sku=sku), 409, "duplicate-sku")
            assert problem["errors"][0]["loc"] == ["body", "sku"]
        other = await make_tenant(client)
        await make_product(client, other, sku="RICE-5KG")  # per tenant

    async def test_a_duplicate_barcode_is_409(self, client):
        owner = await make_tenant(client)
        code = barcode()
        await make_product(client, owner, barcode=code)
        await refused(client, owner, product_body(barcode=code), 409, "duplicate-barcode")
        upc = await make_product(client, owner, barcode="042100005264")
        assert upc["barcode"] == "0042100005264"
        await refused(client, owner, product_body(barcode="0042100005264"), 409, "duplicate-barcode")

    @pytest.mark.parametrize(
        ("unit", "field", "value"),
        [("NOS", "reorder_level", "1.5"), ("PCS", "reorder_quantity", "0.5"), ("BOX", "reorder_level", "2.25")],
    )
    async def test_quantities_with_more_decimals_than_the_unit_allows_are_400(self, client, unit, field, value):
        owner = await make_tenant(client)
        problem = await refused(client, owner, product_body(unit=unit, **{field: value}), 400, "quantity-too-precise")
        assert problem["errors"][0]["loc"] == ["body", field]

    async def test_three_decimals_for_a_measure(self, client):
        owner = await make_tenant(client)
        product = await make_product(client, owner, unit="KGS", reorder_level="2.5", reorder_quantity="0.250")
        assert (product["reorder_level"], product["reorder_quantity"]) == ("2.500", "0.250")
        await refused(client, owner, product_body(unit="KGS", reorder_level="0.0005"), 422, "validation-error")

    @pytest.mark.parametrize("value", ["0", "-1", "abc", 5])
    async def test_a_reorder_quantity_must_be_a_positive_decimal_string(self, client, value):
        owner = await make_tenant(client)
        await refused(client, owner, product_body(reorder_quantity=value), 422, "validation-error")

    async def test_a_gst_rate_not_in_force_is_400(self, client):
        owner = await make_tenant(client)
        await refused(client, owner, product_body(gst_rate="7"), 400, "gst-rate-not-in-force")

    @pytest.mark.parametrize(
        ("price", "includes_tax", "rate", "mrp"),
        [("30.00", True, "5", "28.00"), ("26.68", False, "5", "28.00"), ("100", False, "18", "117.99")],
    )
    async def test_a_price_above_the_mrp_is_400(self, client, price, includes_tax, rate, mrp):
        owner = await make_tenant(client)
        body = product_body(sale_price=price, price_includes_tax=includes_tax, gst_rate=rate, mrp=mrp)
        await refused(client, owner, body, 400, "price-above-mrp")

    @pytest.mark.parametrize(
        ("price", "includes_tax", "rate", "mrp"),
        [("28.00", True, "5", "28.00"), ("26.66", False, "5", "28.00"), ("100", False, "18", "118.00")],
    )
    async def test_a_price_at_or_below_the_mrp(self, client, price, includes_tax, rate, mrp):
        owner = await make_tenant(client)
        await make_product(client, owner, sale_price=price, price_includes_tax=includes_tax, gst_rate=rate, mrp=mrp)

    async def test_another_tenants_category_is_404(self, client):
        owner, other = await make_tenant(client), await make_tenant(client)
        theirs = await make_category(client, other)
        problem = await refused(
            client, owner, product_body(category_id=theirs["id"]), 404, "product-category-not-found"
        )
        assert problem["errors"][0]["loc"] == ["body", "category_id"]
        await refused(client, owner, product_body(category_id=str(uuid.uuid4())), 404, "product-category-not-found")

    @pytest.mark.parametrize(
        "extra",
        [{"tenant_id": str(uuid.uuid4())}, {"id": str(uuid.uuid4())}, {"is_archived": True}, {"name_lower": "x"}],
    )
    async def test_unknown_fields_are_refused(self, client, extra):
        owner = await make_tenant(client)
        await refused(client, owner, product_body(**extra), 422, "validation-error")

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("sku", "has space"),
            ("sku", "x" * 41),
            ("sale_price", 10.5),
            ("sale_price", "-1"),
            ("gst_rate", "101"),
            ("mrp", "1.234"),
            ("name", " padded\x00"),
            ("track_stock", "yes"),
        ],
    )
    async def test_malformed_fields_are_422(self, client, field, value):
        owner = await make_tenant(client)
        await refused(client, owner, product_body(**{field: value}), 422, "validation-error")


class TestUpdate:
    async def test_partial_update_and_clearing(self, client):
        owner = await make_tenant(client)
        product = await make_product(client, owner, barcode=barcode(), mrp="28.00", reorder_level="5")
        response = await client.patch(
            f"{URL}/{product['id']}",
            json={"name": "Salt 1 kg", "barcode": None, "mrp": None, "sale_price": "30.00"},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        changed = response.json()
        assert (changed["name"], changed["barcode"], changed["mrp"], changed["sale_price"]) == (
            "Salt 1 kg",
            None,
            None,
            "30.0000",
        )
        assert (changed["sku"], changed["reorder_level"]) == (product["sku"], "5.000")

    async def test_refusals_leave_the_product_as_it_was(self, client):
        owner = await make_tenant(client)
        await make_product(client, owner, sku="TAKEN")
        product = await make_product(client, owner, mrp="28.00", reorder_level="4")
        path = f"{URL}/{product['id']}"
        for body, status, code in [
            ({"sku": "taken"}, 409, "duplicate-sku"),
            ({"sale_price": "29.00"}, 400, "price-above-mrp"),
            ({"unit": "KGS", "reorder_level": "4.0005"}, 422, "validation-error"),
            ({"reorder_level": "4.5"}, 400, "quantity-too-precise"),
            ({"barcode": "1234567890123"}, 400, "invalid-barcode"),
            ({"sku": None}, 422, "validation-error"),
            ({"gst_rate": "7"}, 400, "gst-rate-not-in-force"),
            ({"category_id": str(uuid.uuid4())}, 404, "product-category-not-found"),
        ]:
            assert_problem(await client.patch(path, json=body, headers=owner.headers), status, code)
        assert (await client.get(path, headers=owner.headers)).json() == product

    async def test_a_measure_unit_accepts_decimal_reorder_levels(self, client):
        owner = await make_tenant(client)
        product = await make_product(client, owner, unit="NOS", reorder_level="4")
        patched = await client.patch(
            f"{URL}/{product['id']}", json={"unit": "KGS", "reorder_level": "4.25"}, headers=owner.headers
        )
        assert patched.status_code == 200, patched.text
        back = await client.patch(f"{URL}/{product['id']}", json={"unit": "NOS"}, headers=owner.headers)
        assert_problem(back, 400, "quantity-too-precise")  # 4.25 NOS

    async def test_archive_and_restore(self, client):
        owner = await make_tenant(client)
        product = await make_product(client, owner, name="Old stock")
        await make_product(client, owner, name="Current")
        archived = await client.patch(f"{URL}/{product['id']}", json={"is_archived": True}, headers=owner.headers)
        assert archived.json()["is_archived"] is True
        assert await names(client, owner) == ["Current"]
        assert await names(client, owner, archived="true") == ["Old stock"]
        restored = await client.patch(f"{URL}/{product['id']}", json={"is_archived": False}, headers=owner.headers)
        assert restored.json()["is_archived"] is False
        assert await names(client, owner) == ["Current", "Old stock"]
        logs = await client.get(f"{API}/audit-logs", params={"entity_id": product["id"]}, headers=owner.headers)
        assert {e["action"] for e in logs.json()["items"]} >= {
            "product.created",
            "product.archived",
            "product.restored",
        }


class TestDelete:
    async def test_an_unused_product_is_deleted(self, client):
        owner = await make_tenant(client)
        product = await make_product(client, owner)
        assert (await client.delete(f"{URL}/{product['id']}", headers=owner.headers)).status_code == 204
        assert_problem(await client.get(f"{URL}/{product['id']}", headers=owner.headers), 404, "product-not-found")
        assert_problem(await client.delete(f"{URL}/{product['id']}", headers=owner.headers), 404)

    async def test_a_product_an_invoice_line_names_is_409_and_kept(self, app, client):
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        invoice = await party.invoice(client)
        product = await make_product(client, owner)
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await session.execute(
                update(InvoiceLine)
                .where(InvoiceLine.invoice_id == uuid.UUID(invoice["id"]))
                .values(product_id=uuid.UUID(product["id"]))
            )
        problem = assert_problem(
            await client.delete(f"{URL}/{product['id']}", headers=owner.headers), 409, "product-in-use"
        )
        assert "archive" in problem["detail"]
        unit = await client.patch(f"{URL}/{product['id']}", json={"unit": "KGS"}, headers=owner.headers)
        assert_problem(unit, 409, "product-in-use")
        assert (await client.get(f"{URL}/{product['id']}", headers=owner.headers)).json() == product
        same_unit = await client.patch(
            f"{URL}/{product['id']}", json={"unit": "NOS", "name": "Renamed"}, headers=owner.headers
        )
        assert same_unit.status_code == 200, same_unit.text

    async def test_a_product_with_stock_is_409(self, app, client):
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        product = await make_product(client, owner)
        await put_level(app, owner, product, party.company, "3")
        assert_problem(await client.delete(f"{URL}/{product['id']}", headers=owner.headers), 409, "product-in-use")


async def put_level(app, account, product: dict, company: dict, on_hand: str) -> None:
    """A stock level row written straight (as the app role, tenant bound): the stock ledger's own
    tests cover how levels move; these only need one to exist."""
    async with app.state.runtime.db.transaction(uuid.UUID(account.tenant_id)) as session:
        session.add(
            StockLevel(
                tenant_id=uuid.UUID(account.tenant_id),
                product_id=uuid.UUID(product["id"]),
                company_id=uuid.UUID(company["id"]),
                on_hand=Decimal(on_hand),
            )
        )


class TestList:
    async def test_search_by_name_sku_prefix_and_barcode_case_insensitively(self, client):
        owner = await make_tenant(client)
        code = barcode()
        await make_product(client, owner, name="Tata Salt 1 kg", sku="SALT-1", barcode=code)
        await make_product(client, owner, name="Tata Tea Gold", sku="TEA-500")
        await make_product(client, owner, name="Saffola Gold oil", sku="OIL-1L")
        await make_product(client, owner, name="100% Pure ghee", sku="GHEE_1")
        assert await names(client, owner, q="tat") == ["Tata Salt 1 kg", "Tata Tea Gold"]
        assert await names(client, owner, q="TATA S") == ["Tata Salt 1 kg"]
        assert await names(client, owner, q="salt") == ["Tata Salt 1 kg"]  # the SKU SALT-1
        assert await names(client, owner, q="sa") == ["Saffola Gold oil", "Tata Salt 1 kg"]
        assert await names(client, owner, q="gold") == []  # a prefix, not a word inside the name
        assert await names(client, owner, q=code) == ["Tata Salt 1 kg"]
        assert await names(client, owner, q=code[:-1]) == []  # a barcode matches whole
        assert await names(client, owner, q="100%") == ["100% Pure ghee"]
        assert await names(client, owner, q="10_") == []  # wildcards are literal
        assert await names(client, owner, q="ghee_") == ["100% Pure ghee"]
        other = await make_tenant(client)
        assert await names(client, other, q="tat") == []

    async def test_category_filter_includes_sub_categories(self, client):
        owner = await make_tenant(client)
        grocery = await make_category(client, owner, "Grocery")
        staples = await make_category(client, owner, "Staples", grocery)
        rice = await make_category(client, owner, "Rice", staples)
        drinks = await make_category(client, owner, "Drinks")
        await make_product(client, owner, name="Basmati", category_id=rice["id"])
        await make_product(client, owner, name="Atta", category_id=staples["id"])
        await make_product(client, owner, name="Sugar", category_id=grocery["id"])
        await make_product(client, owner, name="Cola", category_id=drinks["id"])
        await make_product(client, owner, name="Loose")
        assert await names(client, owner, category_id=grocery["id"]) == ["Atta", "Basmati", "Sugar"]
        assert await names(client, owner, category_id=staples["id"]) == ["Atta", "Basmati"]
        assert await names(client, owner, category_id=rice["id"]) == ["Basmati"]
        assert await names(client, owner, category_id=str(uuid.uuid4())) == []
        other = await make_tenant(client)
        assert await names(client, other, category_id=grocery["id"]) == []

    async def test_low_stock_filter(self, app, client):
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        low = await make_product(client, owner, name="Low", reorder_level="5")
        at = await make_product(client, owner, name="At level", reorder_level="5")
        fine = await make_product(client, owner, name="Plenty", reorder_level="5")
        await make_product(client, owner, name="None yet", reorder_level="5")
        await make_product(client, owner, name="No level")
        await make_product(client, owner, name="Untracked", reorder_level="5", track_stock=False)
        for product, on_hand in ((low, "2"), (at, "5"), (fine, "6")):
            await put_level(app, owner, product, party.company, on_hand)
        assert await names(client, owner, low="true") == ["At level", "Low", "None yet"]
        assert await names(client, owner, low="false") == ["No level", "Plenty", "Untracked"]

    async def test_sorts_and_cursor_pages(self, client):
        owner = await make_tenant(client)
        for n, price in enumerate(["30", "10", "20", "50", "40"]):
            await make_product(client, owner, name=f"Item {chr(ord('E') - n)}", sku=f"S{n}", sale_price=price)
        assert await names(client, owner) == ["Item A", "Item B", "Item C", "Item D", "Item E"]
        assert await names(client, owner, sort="-name") == ["Item E", "Item D", "Item C", "Item B", "Item A"]
        assert await names(client, owner, sort="sale_price") == ["Item D", "Item C", "Item E", "Item A", "Item B"]
        assert await names(client, owner, sort="-sku") == ["Item A", "Item B", "Item C", "Item D", "Item E"]
        for sort in ("name", "-sale_price", "created_at", "sku"):
            ids, pages = await all_pages(client, owner, URL, limit=2, sort=sort)
            assert len(ids) == 5 == len(set(ids)) and len(pages) == 3
        assert await total(client, owner, q="item") == 5

    async def test_batch_read_by_ids(self, client):
        owner = await make_tenant(client)
        a = await make_product(client, owner, name="A")
        b = await make_product(client, owner, name="B")
        await client.patch(f"{URL}/{b['id']}", json={"is_archived": True}, headers=owner.headers)
        other = await make_product(client, await make_tenant(client), name="Theirs")
        ids = ",".join([a["id"], b["id"], other["id"]])
        assert await names(client, owner, ids=ids) == ["A", "B"]


class TestAccess:
    async def test_owner_and_admin_write_others_read(self, client, mailbox):
        owner = await make_tenant(client)
        product = await make_product(client, owner)
        admin = await add_member(client, mailbox, owner, "admin")
        await make_product(client, admin)
        assert (
            await client.patch(f"{URL}/{product['id']}", json={"name": "By admin"}, headers=admin.headers)
        ).status_code == 200
        for role in ("accountant", "viewer"):
            member = await add_member(client, mailbox, owner, role)
            assert_problem(await client.post(URL, json=product_body(), headers=member.headers), 403)
            assert_problem(
                await client.patch(f"{URL}/{product['id']}", json={"name": "X"}, headers=member.headers), 403
            )
            assert_problem(await client.delete(f"{URL}/{product['id']}", headers=member.headers), 403)
            assert (await client.get(f"{URL}/{product['id']}", headers=member.headers)).status_code == 200
            assert len(await names(client, member)) == 2

    async def test_another_tenants_product_is_404(self, client):
        owner, other = await make_tenant(client), await make_tenant(client)
        theirs = await make_product(client, other, name="Theirs", barcode=barcode())
        path = f"{URL}/{theirs['id']}"
        assert_problem(await client.get(path, headers=owner.headers), 404, "product-not-found")
        assert_problem(await client.patch(path, json={"name": "Mine"}, headers=owner.headers), 404, "product-not-found")
        assert_problem(await client.delete(path, headers=owner.headers), 404, "product-not-found")
        assert await names(client, owner, q=theirs["barcode"]) == []
        assert (await client.get(path, headers=other.headers)).json() == theirs
        await make_product(client, owner, sku=theirs["sku"], barcode=theirs["barcode"])  # keys are per tenant


class TestPlanLimit:
    """The free plan allows 100 products (plans.max_products); archived ones do not count."""

    async def test_the_101st_product_is_402_and_an_archived_one_frees_a_place(self, app, client):
        owner = await make_tenant(client)
        made = [await make_product(client, owner) for _ in range(100)]
        await put_on_plan(app, owner.tenant_id, "free", "free")
        assert (await subscription(client, owner))["limits"]["products"] == {"limit": 100, "used": 100}
        over = await refused(client, owner, product_body(), 402, "quota-exceeded")
        assert (over["limit"], over["limit_value"], over["used"]) == ("products", 100, 100)
        assert over["upgrade_plans"] == ["standard", "premium"]
        archived = await client.patch(f"{URL}/{made[0]['id']}", json={"is_archived": True}, headers=owner.headers)
        assert archived.status_code == 200
        await make_product(client, owner)
        restore = await client.patch(f"{URL}/{made[0]['id']}", json={"is_archived": False}, headers=owner.headers)
        assert_problem(restore, 402, "quota-exceeded")
        assert (await client.get(f"{URL}/{made[0]['id']}", headers=owner.headers)).json()["is_archived"] is True
        renamed = await client.patch(f"{URL}/{made[1]['id']}", json={"name": "Still editable"}, headers=owner.headers)
        assert renamed.status_code == 200  # the limit only stops what adds a product

    async def test_20_concurrent_creates_with_95_on_the_free_plan_end_with_exactly_100(self, app, live_server):
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as live:
            owner = await make_tenant(live)
            for _ in range(95):
                await make_product(live, owner)
            await put_on_plan(app, owner.tenant_id, "free", "free")

            async def create(n: int) -> httpx.Response:
                async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
                    return await c.post(URL, json=product_body(name=f"Racer {n}"), headers=owner.headers)

            responses = await asyncio.gather(*(create(n) for n in range(20)))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] * 5 + [402] * 15, [r.text for r in responses if r.status_code not in (201, 402)]
            assert {r.json()["used"] for r in responses if r.status_code == 402} == {100}
            assert (await subscription(live, owner))["limits"]["products"] == {"limit": 100, "used": 100}


class TestConcurrentWrites:
    async def test_two_creates_of_one_sku_at_once_make_one_product(self, client):
        owner = await make_tenant(client)

        async def create(sku: str):
            return await client.post(URL, json=product_body(sku=sku), headers=owner.headers)

        responses = await asyncio.gather(create("RACE-1"), create("race-1"), create("Race-1"))
        assert sorted(r.status_code for r in responses) == [201, 409, 409], [r.text for r in responses]
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"duplicate-sku"}
        assert await total(client, owner) == 1


class TestLookups:
    """The service lookups the invoice, stock and sale parts use."""

    async def test_get_many_and_by_barcode(self, app, client):
        from app.core.errors import NotFound
        from app.services.catalog import products

        owner, other = await make_tenant(client), await make_tenant(client)
        upc = await make_product(client, owner, barcode="042100005264")
        plain = await make_product(client, owner)
        theirs = await make_product(client, other, barcode=barcode())
        ids = {uuid.UUID(upc["id"]), uuid.UUID(plain["id"])}
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            assert set(await products.get_many(session, ids)) == ids
            for scanned in ("042100005264", "0042100005264"):
                assert str((await products.by_barcode(session, scanned)).id) == upc["id"]
            for unknown in (theirs["barcode"], "0042100005265", "12", ""):
                with pytest.raises(NotFound) as caught:
                    await products.by_barcode(session, unknown)
                assert caught.value.code == "product-not-found"
            with pytest.raises(NotFound) as caught:
                await products.get_many(session, {*ids, uuid.UUID(theirs["id"])})
            assert caught.value.extra["missing"] == [theirs["id"]]
            with pytest.raises(NotFound):
                await products.get(session, uuid.UUID(theirs["id"]))
